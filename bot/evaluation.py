"""How well the matcher answers a question set: the tally behind `egov-bot eval`, the self-consistency
check of `kb lint` and benchmarks/calibrate.py. Plain results; printing is the caller's."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import yaml

from bot.knowledge import KnowledgeBase, Problem
from bot.matching import Decision, Matcher


class QuestionSetError(Exception):
    """A question set that cannot be read; the message names the file, in one line."""


class Outcome(StrEnum):
    """What became of one question (the words `egov-bot eval` shows next to a miss)."""

    OK = "ok"  # answered with the expected entry, or a librarians' question escalated
    WRONG = "wrong answer"
    OFFERED = "offered"  # the expected entry among the options of a clarify
    NOT_OFFERED = "not offered"
    ESCALATED = "escalated"
    NEGATIVE_ANSWERED = "negative answered"
    NEGATIVE_CLARIFIED = "negative clarified"


def outcome(expect: str | None, decision: Decision) -> Outcome:
    """Judge one decision; `expect` is the entry that should answer, None for a question for librarians."""
    if expect is None:
        if decision.action == "answer":
            return Outcome.NEGATIVE_ANSWERED
        return Outcome.OK if decision.action == "escalate" else Outcome.NEGATIVE_CLARIFIED
    if decision.action == "answer":
        return Outcome.OK if decision.entry_id == expect else Outcome.WRONG
    if decision.action == "clarify":
        return Outcome.OFFERED if expect in [c.id for c in decision.candidates] else Outcome.NOT_OFFERED
    return Outcome.ESCALATED


@dataclass(frozen=True)
class Question:
    """One question of a set: `expect` is the entry that should answer it, None when it is for librarians."""

    text: str
    expect: str | None
    kind: str = "all"


def read_questions(path: Path, *, expect_required: bool = True) -> list[Question]:
    """A YAML list of {q: question, expect: entry id or null, kind: optional} (`expect` may be left out
    when not required: `kb replay` reads only the questions)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise QuestionSetError(f"{path} is not UTF-8 text") from None
    except OSError as error:
        raise QuestionSetError(f"cannot read {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise QuestionSetError(f"{path} is not valid YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(data, list) or not all(isinstance(i, dict) and "q" in i and ("expect" in i or not expect_required)
                                             for i in data):
        wanted = "{q: question, expect: entry id or null}" if expect_required else "{q: question}"
        raise QuestionSetError(f"{path}: expected a list of {wanted}")
    return [Question(str(i["q"]), i.get("expect"), str(i.get("kind", "all"))) for i in data]


@dataclass(frozen=True)
class Ratios:
    """A tally's counts as shares: of the questions with an entry, and of the questions for librarians."""

    top1: float
    reachable: float
    wrong: float
    negatives_answered: float
    negatives_escalated: float


@dataclass
class Tally:
    """Counts of outcomes; positives are the questions with an entry, negatives those for librarians."""

    positives: int = 0
    correct: int = 0
    reachable: int = 0  # answered right, or the expected entry offered in a clarify
    wrong: int = 0
    negatives: int = 0
    negatives_answered: int = 0
    negatives_escalated: int = 0

    def add(self, expect: str | None, decision: Decision) -> Outcome:
        """Count one question and return its outcome."""
        result = outcome(expect, decision)
        if expect is None:
            self.negatives += 1
            self.negatives_answered += result is Outcome.NEGATIVE_ANSWERED
            self.negatives_escalated += result is Outcome.OK
        else:
            self.positives += 1
            self.correct += result is Outcome.OK
            self.reachable += result in (Outcome.OK, Outcome.OFFERED)
            self.wrong += result is Outcome.WRONG
        return result

    def ratios(self) -> Ratios:
        p, n = max(self.positives, 1), max(self.negatives, 1)
        return Ratios(self.correct / p, self.reachable / p, self.wrong / p,
                      self.negatives_answered / n, self.negatives_escalated / n)


@dataclass(frozen=True)
class Miss:
    """A question whose outcome was not OK."""

    outcome: Outcome
    question: str
    expect: str | None
    decision: Decision


@dataclass(frozen=True)
class Shortfall:
    """A measure on the wrong side of its target, e.g. "top1 0.900 < 0.92"."""

    measure: str
    value: float | int
    relation: str  # "<": under a floor, ">": over a ceiling
    target: float | int

    def __str__(self) -> str:
        value = f"{self.value:.3f}" if isinstance(self.value, float) else str(self.value)
        return f"{self.measure} {value} {self.relation} {self.target}"


@dataclass(frozen=True)
class Targets:
    """What `egov-bot eval` requires of the matcher (its defaults are the command's)."""

    min_top1: float = 0.92
    min_reachable: float = 0.97
    max_wrong: float = 0.02
    max_negatives_answered: int = 0
    min_negatives_escalated: float = 0.9

    def shortfalls(self, tally: Tally) -> list[Shortfall]:
        ratios = tally.ratios()
        found = []
        if ratios.top1 < self.min_top1:
            found.append(Shortfall("top1", ratios.top1, "<", self.min_top1))
        if ratios.reachable < self.min_reachable:
            found.append(Shortfall("reachable", ratios.reachable, "<", self.min_reachable))
        if ratios.wrong > self.max_wrong:
            found.append(Shortfall("wrong", ratios.wrong, ">", self.max_wrong))
        if tally.negatives_answered > self.max_negatives_answered:
            found.append(Shortfall("negatives answered", tally.negatives_answered, ">", self.max_negatives_answered))
        if tally.negatives and ratios.negatives_escalated < self.min_negatives_escalated:
            found.append(Shortfall("negatives escalated", ratios.negatives_escalated, "<", self.min_negatives_escalated))
        return found


@dataclass
class Evaluation:
    """The matcher on a question set: in all, by kind of question, and every question not OK, in order."""

    total: Tally = field(default_factory=Tally)
    by_kind: dict[str, Tally] = field(default_factory=dict)
    misses: list[Miss] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # expected entry ids the knowledge base lacks, sorted


def evaluate(matcher: Matcher, questions: list[Question]) -> Evaluation:
    kb = matcher.kb
    report = Evaluation(unknown=sorted({str(q.expect) for q in questions
                                        if q.expect is not None and kb.entry(str(q.expect)) is None}))
    for question in questions:
        decision = matcher.match(question.text)
        result = report.total.add(question.expect, decision)
        report.by_kind.setdefault(question.kind, Tally()).add(question.expect, decision)
        if result is not Outcome.OK:
            report.misses.append(Miss(result, question.text, question.expect, decision))
    return report


def consistency_problems(kb: KnowledgeBase, matcher: Matcher) -> list[Problem]:
    """Question variants the matcher would not answer with their own entry: answered with another one
    (errors) or not answered directly (warnings)."""
    problems = []
    for entry in kb.entries:
        for lang, question in entry.all_questions():
            decision = matcher.match(question)
            line = entry.question_lines.get(f"{lang}:{question}", entry.line)
            result = outcome(entry.id, decision)
            if result is Outcome.WRONG:
                problems.append(Problem(entry.path, line, f"entry {entry.id}: the question '{question}' would be answered with {decision.entry_id}; reword it or the other entry"))
            elif result is not Outcome.OK:
                shown = ", ".join(f"{c.id} {c.score:.2f}" for c in decision.candidates[:3])
                problems.append(Problem(entry.path, line, f"entry {entry.id}: the question '{question}' would not be answered directly ({decision.action}: {shown})", "warning"))
    return problems
