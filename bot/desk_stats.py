"""The librarians' desk in `egov-bot stats`: response and resolution times in working minutes, the share answered
before the take reminder, and (where the records exist) answers with a suggested entry and canned replies."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Iterable, Mapping

from bot.domain import TicketTimes
from bot.workhours import WorkingTime


@dataclass(frozen=True)
class Spread:
    """Median and 90th percentile, in working minutes."""

    median: float
    p90: float
    count: int


@dataclass(frozen=True)
class DeskStats:
    tickets: int                     # opened in the period (withdrawn ones left out)
    first_response: Spread | None    # from the ticket to the first librarian reply
    resolution: Spread | None        # from the ticket to its closing
    answered_in_time: float | None   # share of the tickets whose first reply came within take_minutes
    take_minutes: float              # TAKE_REMINDER_MINUTES
    suggested: float | None = None   # share of the answered tickets answered with a suggested entry
    canned: tuple[tuple[str, int], ...] | None = None  # the most used canned replies: (id, times)


def spread(minutes: list[float]) -> Spread | None:
    if not minutes:
        return None
    p90 = statistics.quantiles(minutes, n=10, method="inclusive")[8] if len(minutes) > 1 else minutes[0]
    return Spread(statistics.median(minutes), p90, len(minutes))


def desk_figures(times: Iterable[TicketTimes], calendar: WorkingTime, take_minutes: float, *,
                 suggested: int | None = None, canned: Mapping[str, int] | None = None, top: int = 5) -> DeskStats:
    """The desk's figures from each ticket's times, counted in the calendar's working minutes.

    suggested: how many tickets were answered with a suggested entry (None: not recorded, not shown);
    canned: how often each canned reply was sent (None: not recorded)."""
    times = list(times)
    first = [calendar.minutes_between(t.created_at, t.first_reply_at) for t in times if t.first_reply_at]
    closed = [calendar.minutes_between(t.created_at, t.closed_at) for t in times if t.closed_at]
    in_time = sum(1 for minutes in first if minutes <= take_minutes)
    most_used = None
    if canned is not None:
        most_used = tuple(sorted(((reply, count) for reply, count in canned.items() if count), key=lambda p: (-p[1], p[0]))[:top])
    return DeskStats(
        tickets=len(times),
        first_response=spread(first),
        resolution=spread(closed),
        answered_in_time=in_time / len(times) if times else None,
        take_minutes=take_minutes,
        suggested=(suggested / len(first) if first else 0.0) if suggested is not None else None,
        canned=most_used,
    )
