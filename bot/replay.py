"""What an edit of the knowledge base would do to the answers citizens get (`egov-bot kb replay`).

The same questions (the masked question log, or a question set) go through the current knowledge base's
matcher and through the changed copy's; each question keeps its outcome or changes in one way: answered ->
librarian, entry A -> entry B, choice -> answered, and so on. Plain results; printing is the caller's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Iterable

from bot.matching import Action, Decision, Matcher

EXAMPLES = 5  # wordings shown for each kind of change


class Kind(StrEnum):
    """What became of a question, in the words editors read."""

    ANSWERED = "answered"
    CHOICE = "choice"
    LIBRARIAN = "librarian"


_KINDS = {Action.ANSWER: Kind.ANSWERED, Action.CLARIFY: Kind.CHOICE, Action.ESCALATE: Kind.LIBRARIAN}


@dataclass(frozen=True)
class Outcome:
    """A decision as far as the citizen sees it: the entry answered with, or the entries offered."""

    kind: Kind
    entry_id: str | None = None
    options: tuple[str, ...] = ()

    @classmethod
    def of(cls, decision: Decision) -> "Outcome":
        kind = _KINDS[decision.action]
        if kind is Kind.ANSWERED:
            return cls(kind, decision.entry_id)
        if kind is Kind.CHOICE:
            return cls(kind, None, tuple(c.id for c in decision.candidates))
        return cls(kind)

    def __str__(self) -> str:
        if self.kind is Kind.ANSWERED:
            return str(self.entry_id)
        if self.kind is Kind.CHOICE:
            return "choice of " + ", ".join(self.options)
        return "librarian"


@dataclass(frozen=True)
class Example:
    """One question that changed, how often it was asked, and its outcome before and after."""

    question: str
    count: int
    before: Outcome
    after: Outcome


@dataclass
class ChangeGroup:
    """Every question that changed in the same way, e.g. "answered -> librarian" or "eds-obtain -> eds-renew"."""

    name: str
    before: Kind
    after: Kind
    count: int = 0  # questions (as asked: a wording asked three times counts three)
    examples: list[Example] = field(default_factory=list)  # the most asked wordings first, at most EXAMPLES

    @property
    def risky(self) -> bool:
        """An answered question that would now go to a librarian or be answered with another entry."""
        return self.before is Kind.ANSWERED and self.after in (Kind.ANSWERED, Kind.LIBRARIAN)


@dataclass
class Replay:
    """The questions replayed: how many keep their outcome, and the changes, the risky ones first."""

    total: int = 0
    unchanged: int = 0
    groups: list[ChangeGroup] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.total - self.unchanged

    @property
    def risky(self) -> int:
        """Answered questions that would now go to a librarian or to another entry (`--strict` fails on them)."""
        return sum(group.count for group in self.groups if group.risky)


def change_name(before: Outcome, after: Outcome) -> str:
    """The kind of change: "A -> B" between two entries, "choice -> other choice", else the kinds."""
    if before.kind is after.kind is Kind.ANSWERED:
        return f"{before.entry_id} -> {after.entry_id}"
    if before.kind is after.kind is Kind.CHOICE:
        return "choice -> other choice"
    return f"{before.kind} -> {after.kind}"


def counted(questions: Iterable[str]) -> list[tuple[str, int]]:
    """Questions as (wording, times asked), the most asked first (the question set's order otherwise)."""
    return Counter(q for q in questions if q.strip()).most_common()


def replay(current: Matcher, changed: Matcher, questions: Iterable[tuple[str, int]]) -> Replay:
    """Each wording (with the times it was asked) through both matchers; each matched once, afresh."""
    result = Replay()
    groups: dict[str, ChangeGroup] = {}
    for question, count in sorted(questions, key=lambda item: -item[1]):
        before = Outcome.of(current.match_afresh(question))
        after = Outcome.of(changed.match_afresh(question))
        result.total += count
        if before == after:
            result.unchanged += count
            continue
        name = change_name(before, after)
        group = groups.setdefault(name, ChangeGroup(name, before.kind, after.kind))
        group.count += count
        if len(group.examples) < EXAMPLES:
            group.examples.append(Example(question, count, before, after))
    result.groups = sorted(groups.values(), key=lambda g: (not g.risky, -g.count, g.name))
    return result
