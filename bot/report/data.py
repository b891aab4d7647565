"""What the report shows, gathered from the HelpDesk's store (grouped in SQL: bot.storage.reports) and its
knowledge base, as plain figures for bot.report.html to draw."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.config import DEFAULT_TIMEZONE
from bot.desk_stats import DeskStats
from bot.domain import utcnow
from bot.gaps import content_gaps
from bot.report.gaps import TOP as TOP_GAPS
from bot.report.gaps import GapGroup, gap_groups

OUTCOMES = ("answer", "clarify", "escalate")
STALE_DAYS = 365


@dataclass(frozen=True)
class EntryFigure:
    id: str
    title: str
    count: int
    of: int = 0  # for "not helpful": all the feedback on the entry


@dataclass
class ReportData:
    days: int
    since: dt.date
    until: dt.date
    made_at: dt.datetime                                  # local time
    zone: str
    by_day: list[tuple[dt.date, dict[str, int]]]           # every day of the period, outcome -> questions
    languages: dict[str, dict[str, int]]                   # lang -> outcome -> questions
    top_entries: list[EntryFigure]
    unhelpful: list[EntryFigure]
    gaps: list[GapGroup]
    tickets_by_day: list[tuple[dt.date, int]]              # every day of the period
    desk: DeskStats | None
    ratings: dict[int, int]
    stale: list[tuple[str, str, dt.date]]                  # (id, title, reviewed)
    lint: list[str]                                        # warnings (and errors) of `kb lint`
    never_asked: list[tuple[str, str]]                     # (id, title)
    entries: int = 0
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def questions(self) -> int:
        return sum(sum(counts.values()) for _, counts in self.by_day)


def _days(since: dt.date, until: dt.date) -> list[dt.date]:
    return [since + dt.timedelta(days=n) for n in range((until - since).days + 1)]


async def gather(helpdesk, days: int, *, hours=None, take_minutes: float = 30.0, gaps=None,
                 now: dt.datetime | None = None) -> ReportData:
    """The report's figures over the last `days` days. gaps: the gap groups to show (default: those of `kb gaps`)."""
    now = now or utcnow()
    zone = hours.zone if hours is not None else ZoneInfo(DEFAULT_TIMEZONE)
    local_now = now.replace(tzinfo=dt.timezone.utc).astimezone(zone)
    offset = int(local_now.utcoffset().total_seconds() // 60)
    until = local_now.date()
    since_day = until - dt.timedelta(days=days - 1)
    since = (dt.datetime.combine(since_day, dt.time()) - dt.timedelta(minutes=offset))  # naive UTC, like the rows
    store, kb = helpdesk.store, helpdesk.knowledge.kb
    reports = store.reports
    titles = {entry.id: entry.title.get("ru") or entry.id for entry in kb.entries}

    counts: dict[dt.date, dict[str, int]] = {}
    for day, decision, n in await reports.questions_by_day(since, offset):
        counts.setdefault(day, {})[decision] = counts.get(day, {}).get(decision, 0) + n
    by_day = [(day, {o: counts.get(day, {}).get(o, 0) for o in OUTCOMES}) for day in _days(since_day, until)]
    languages: dict[str, dict[str, int]] = {}
    for lang, decision, n in await reports.questions_by_language(since):
        languages.setdefault(lang, {o: 0 for o in OUTCOMES})[decision] = n
    answered = await reports.answered_entries(since)
    top = [EntryFigure(e, titles.get(e, e), n) for e, n in answered[:15]]
    unhelpful = [EntryFigure(e, titles.get(e, e), no, yes + no) for e, yes, no in await reports.feedback_by_entry(since)
                 if no][:15]
    if gaps is None:
        gaps = gap_groups(await content_gaps(helpdesk, days=days, limit=TOP_GAPS), titles)
    tickets = dict(await reports.tickets_by_day(since, offset))
    desk = await helpdesk.desk_stats(days, hours=hours, take_minutes=take_minutes)

    asked = {e for e, _ in answered}
    year_ago = until - dt.timedelta(days=STALE_DAYS)
    stale = sorted(((e.id, titles[e.id], e.reviewed) for e in kb.entries if e.reviewed < year_ago), key=lambda s: s[2])
    lint = [str(p) for p in helpdesk.knowledge.problems()]
    return ReportData(
        days=days, since=since_day, until=until, made_at=local_now.replace(microsecond=0), zone=str(zone),
        by_day=by_day, languages=languages, top_entries=top, unhelpful=unhelpful, gaps=list(gaps),
        tickets_by_day=[(day, tickets.get(day, 0)) for day in _days(since_day, until)],
        desk=desk if desk.tickets else None, ratings=await reports.ratings(since), stale=stale, lint=lint,
        never_asked=[(e.id, titles[e.id]) for e in kb.entries if e.id not in asked], entries=len(kb.entries),
    )
