"""What editors and the library's management read, part of the HelpDesk (which inherits it): the statistics
of `egov-bot stats`, librarians' drafts and suggested wordings as knowledge-base YAML."""

from __future__ import annotations

import datetime as dt
import statistics

import yaml

from bot import suggested
from bot.desk_stats import DeskStats, desk_figures
from bot.domain import utcnow
from bot.matching import group_similar
from bot.results import Stats


class EditorDesk:
    """Mixed into HelpDesk: uses its `knowledge`, `store` and `working_time()`."""

    async def stats(self, days: int = 30) -> Stats:
        since = utcnow() - dt.timedelta(days=days)
        raw = await self.store.insights.stats(since)
        total = sum(raw.outcomes.values())
        shares = {kind: (raw.outcomes.get(kind, 0) / total if total else 0.0)
                  for kind in ("answer", "clarify", "escalate")}
        median = statistics.median(raw.waits) if raw.waits else None
        groups = group_similar(raw.unmatched, self.knowledge.matcher)[:20]
        return Stats(days, total, shares, raw.feedback.get(True, 0), raw.feedback.get(False, 0),
                     raw.open_tickets, median, groups)

    async def desk_stats(self, days: int = 30, *, hours=None, take_minutes: float = 30.0) -> DeskStats:
        """The librarians' response times in working minutes, for `egov-bot stats` (bot.desk_stats)."""
        since = utcnow() - dt.timedelta(days=days)
        times = await self.store.reminders.ticket_times(since)
        suggested_answers = await self.store.suggested.answered_tickets(since)
        canned = dict(await self.store.insights.canned_counts(since))
        return desk_figures(times, self.working_time(hours), take_minutes, suggested=suggested_answers, canned=canned)

    async def drafts_yaml(self) -> str:
        """Every draft as a knowledge-base entry for an editor to review and complete."""
        entries = []
        for draft in await self.store.insights.drafts():
            other = "kk" if draft.lang == "ru" else "ru"
            entries.append({
                "id": f"draft-{draft.ticket_id}",
                "category": "TODO",
                "title": {draft.lang: draft.question[:80], other: "TODO"},
                "questions": {draft.lang: [draft.question], other: ["TODO"]},
                "answer": {draft.lang: draft.answer, other: "TODO"},
                "links": [],
                "source": f"librarian answer to ticket #{draft.ticket_id} by {draft.created_by}",
                "reviewed": draft.created_at.date().isoformat(),
            })
        return yaml.safe_dump(entries, allow_unicode=True, sort_keys=False, width=100) if entries else ""

    async def suggestions_yaml(self) -> str:  # `egov-bot kb suggestions`: wordings answered with an entry
        return await suggested.variants_yaml(self.store, self.knowledge)


