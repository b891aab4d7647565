"""Content gaps (`egov-bot kb gaps`, the HTML report): groups of similar questions the bot did not answer well,
ranked by the number of distinct citizens, each with one proposed action for editors.

What counts (bot.storage.gaps): escalated questions, tickets of citizens who declined the offered entries
("none of these"), found an answer not helpful or got stuck at a step, and tickets a librarian answered with
an entry. Questions are grouped as bot.matching.group_similar does (the matcher's meaningful stems, alike by
token-set ratio), seeded by the most asked wording first so that a group's key, a short hash of its seed's
sorted stems, stays the same from run to run.

Escalated and declined questions the current knowledge base now answers are left out (an editor already
added them), and so are groups an editor ignored (`--ignore KEY`), or similar to one.

The proposed action ("say your rule"):
1. librarians answered some of the group's tickets with an entry that still exists: add the wordings to the
   entry they chose most (by citizens);
2. else, when at least half of the group's escalated/declined wordings have the same best candidate in the
   current matcher, scoring at least Thresholds.weak_offer_score (what the matcher would still offer), and no
   citizen of the group refused that entry (declined it, or found it not helpful): add the wordings to it;
3. else a new entry, drafted from the group's wordings and the best librarian answer: one saved as a draft
   first, then the best rated, then the most recent; in the group's main language when there is one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

from bot.domain import utcnow

if TYPE_CHECKING:
    from bot.helpdesk import HelpDesk
    from bot.storage.gaps import GapSignal, LibrarianAnswer

SIMILAR = 75.0     # token-set ratio of two wordings' stems in one group (as group_similar)
EXAMPLES = 5
KEY_LENGTH = 10
KEY_FORMAT = re.compile(rf"[0-9a-f]{{{KEY_LENGTH}}}")
ADD_WORDINGS, NEW_ENTRY = "add-wordings", "new-entry"
WORDING_SOURCES = ("escalated", "declined")  # their wording is what the matcher missed


@dataclass(frozen=True)
class Gap:
    """One group. action: "add-wordings" (to entry_id) or "new-entry" (draft: an entry as kb drafts prints)."""

    key: str
    citizens: int
    messages: int
    examples: tuple[str, ...]
    action: str
    entry_id: str | None
    draft: dict | None
    reason: str                      # why this action, one line
    sources: dict[str, int] = field(default_factory=dict)  # messages by source: escalated, declined ...
    stems: str = ""                  # the seed's sorted stems (what --ignore keeps)
    entry_where: str = ""            # add-wordings: the entry's title and file:line, for editors

    def as_json(self) -> dict:
        return {"key": self.key, "citizens": self.citizens, "messages": self.messages, "examples": list(self.examples),
                "action": self.action, "entry_id": self.entry_id, "entry_where": self.entry_where or None,
                "draft": self.draft, "reason": self.reason, "sources": self.sources}


def group_key(stems: str) -> str:
    return hashlib.sha1(stems.encode("utf-8")).hexdigest()[:KEY_LENGTH]


@dataclass
class _Group:
    seed: str
    members: list[GapSignal] = field(default_factory=list)

    @property
    def citizens(self) -> int:
        return len({m.citizen for m in self.members})


def _group(signals: list[GapSignal], stems_of) -> list[_Group]:
    """Greedy grouping over distinct stem sets, the most asked first (by citizens, then messages, then text)."""
    by_stems: dict[str, list[GapSignal]] = {}
    for signal in signals:
        stems = " ".join(sorted(stems_of(signal.question)))
        if stems:
            by_stems.setdefault(stems, []).append(signal)
    order = sorted(by_stems, key=lambda s: (-len({m.citizen for m in by_stems[s]}), -len(by_stems[s]), s))
    groups: list[_Group] = []
    seeds: list[str] = []
    near: dict[str, list[int]] = {}  # stem -> groups whose seed has it: only those are compared
    for stems in order:
        candidates = sorted({g for stem in stems.split() for g in near.get(stem, ())})
        best = process.extractOne(stems, [seeds[g] for g in candidates], scorer=fuzz.token_set_ratio,
                                  score_cutoff=SIMILAR) if candidates else None
        if best is not None:
            groups[candidates[best[2]]].members.extend(by_stems[stems])
            continue
        for stem in stems.split():
            near.setdefault(stem, []).append(len(groups))
        groups.append(_Group(stems, list(by_stems[stems])))
        seeds.append(stems)
    return groups


def _examples(members: list[GapSignal]) -> tuple[str, ...]:
    """The most asked distinct wordings (by citizens), the first seen first among equals."""
    citizens: dict[str, set[str]] = {}
    for m in members:
        citizens.setdefault(m.question, set()).add(m.citizen)
    first_seen = {question: n for n, question in enumerate(citizens)}
    return tuple(sorted(citizens, key=lambda q: (-len(citizens[q]), first_seen[q]))[:EXAMPLES])


class _Judge:
    """Decides on one group at a time with the current knowledge base."""

    def __init__(self, helpdesk: HelpDesk) -> None:
        self.kb = helpdesk.knowledge.kb
        self.matcher = helpdesk.knowledge.matcher

    def unresolved(self, group: _Group) -> list[GapSignal]:
        """The members still not answered well: escalated/declined wordings the matcher now answers are done."""
        return [m for m in group.members
                if m.source not in WORDING_SOURCES or self.matcher.match(m.question).action != "answer"]

    def action(self, members: list[GapSignal]) -> tuple[str, str | None, str]:
        votes: dict[str, set[str]] = {}
        for m in members:
            for entry_id in m.answered_with:
                if self.kb.entry(entry_id) is not None:
                    votes.setdefault(entry_id, set()).add(m.citizen)
        if votes:
            entry_id = min(votes, key=lambda e: (-len(votes[e]), e))
            chosen = sum(1 for m in members if entry_id in m.answered_with)
            return ADD_WORDINGS, entry_id, f"librarians answered {chosen} of these messages with it"
        refused = {e for m in members for e in (*m.offered, m.entry_id) if e}
        wordings = sorted({m.question for m in members if m.source in WORDING_SOURCES})
        floor = self.matcher.thresholds.weak_offer_score
        best = Counter()
        for question in wordings:
            candidates = self.matcher.match(question).candidates
            if candidates and candidates[0].score >= floor:
                best[candidates[0].id] += 1
        if best:
            entry_id, count = min(best.items(), key=lambda item: (-item[1], item[0]))
            if 2 * count < len(wordings):
                return NEW_ENTRY, None, "no entry is the matcher's best candidate for half of the wordings"
            if entry_id in refused:
                return NEW_ENTRY, None, f"close to {entry_id}, but citizens of the group refused it"
            if self.kb.entry(entry_id) is not None:
                return ADD_WORDINGS, entry_id, (f"the matcher's best candidate for {count} of {len(wordings)} "
                                                f"wordings, scoring at least {floor:g}")
        return NEW_ENTRY, None, "close to no entry"


def _draft(key: str, members: list[GapSignal], answers: list[LibrarianAnswer], today: dt.date) -> dict:
    langs = Counter(m.lang for m in members)
    main = min(langs, key=lambda lang: (-langs[lang], lang != "ru")) if langs else "ru"
    main = main if main in ("ru", "kk") else "ru"
    other = "kk" if main == "ru" else "ru"
    questions = {lang: list(_examples([m for m in members if m.lang == lang])) for lang in (main, other)}
    questions = {lang: wordings or ["TODO"] for lang, wordings in questions.items()}
    ranked = sorted(answers, key=lambda a: (not a.saved_as_draft, a.lang != main, -(a.rating or 0), -a.ticket_id))
    answer = ranked[0] if ranked else None
    texts = {main: "TODO", other: "TODO"}
    if answer is not None:
        texts[answer.lang if answer.lang in texts else main] = answer.text
    source = (f"librarian answer to ticket #{answer.ticket_id} by {answer.author}" if answer
              else "TODO (no librarian answered these in writing)")
    return {"id": f"gap-{key}", "category": "TODO", "title": {main: questions[main][0][:80], other: "TODO"},
            "questions": questions, "answer": texts, "links": [], "source": source, "reviewed": today.isoformat()}


async def content_gaps(helpdesk: HelpDesk, days: int = 30, limit: int | None = None) -> list[Gap]:
    """The content gaps of the last `days` days, the most citizens first; the first `limit` only, when given
    (the groups beyond it are not judged, which is what keeps a report of a large log fast)."""
    store, judge = helpdesk.store, _Judge(helpdesk)
    signals = await store.gaps.signals(utcnow() - dt.timedelta(days=days))
    ignored = await store.gaps.ignored()
    groups = _group(signals, judge.matcher.meaningful_stems)
    groups.sort(key=lambda g: (-g.citizens, -len(g.members), g.seed))
    judged: list[tuple[_Group, list[GapSignal]]] = []
    for group in groups:
        # A group only shrinks when judged: once `limit` judged groups outrank every group left, stop.
        if limit is not None and len(judged) >= limit:
            judged.sort(key=lambda j: (-len({m.citizen for m in j[1]}), -len(j[1]), j[0].seed))
            del judged[limit:]
            if len({m.citizen for m in judged[-1][1]}) > group.citizens:
                break
        if _is_ignored(group.seed, ignored):
            continue
        members = judge.unresolved(group)
        if members:
            judged.append((group, members))
    judged.sort(key=lambda j: (-len({m.citizen for m in j[1]}), -len(j[1]), j[0].seed))
    if limit is not None:
        del judged[limit:]
    gaps, today = [], utcnow().date()
    for group, members in judged:
        key = group_key(group.seed)
        action, entry_id, reason = judge.action(members)
        draft, where = None, ""
        if entry_id is not None:
            entry = judge.kb.entry(entry_id)
            where = f"{entry.title['ru']}, {entry.path}:{entry.line}" if entry.path else entry.title["ru"]
        if action == NEW_ENTRY:
            answers = await store.gaps.answers([m.ticket_id for m in members if m.ticket_id is not None])
            draft = _draft(key, members, answers, today)
        gaps.append(Gap(key, len({m.citizen for m in members}), len(members), _examples(members), action, entry_id,
                        draft, reason, dict(Counter(m.source for m in members)), group.seed, where))
    return gaps


def _is_ignored(seed: str, ignored: dict[str, str]) -> bool:
    return group_key(seed) in ignored or any(fuzz.token_set_ratio(seed, stems) >= SIMILAR for stems in ignored.values())


async def ignore_gap(helpdesk: HelpDesk, key: str, days: int = 30) -> tuple[str, Gap | None]:
    """Keep a group out of later lists: ("ignored", gap), ("already", None), ("unknown", None) when no group
    of the last `days` days has this key, ("malformed", None) when it is no key at all."""
    key = key.strip().lower()
    if not KEY_FORMAT.fullmatch(key):
        return "malformed", None
    if key in await helpdesk.store.gaps.ignored():
        return "already", None
    gap = next((g for g in await content_gaps(helpdesk, days) if g.key == key), None)
    if gap is None:
        return "unknown", None
    added = await helpdesk.store.gaps.ignore(key, gap.stems, gap.examples[0] if gap.examples else "")
    return ("ignored" if added else "already"), gap
