"""Working time: the librarians' hours (LIBRARIAN_HOURS in LIBRARIAN_TIMEZONE) less the public holidays of
knowledge/settings.yaml. Reminders, the out-of-hours digest and `egov-bot stats` count in working minutes.

Moments may be naive (then they are UTC, as the database stores them) or carry a time zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from bot.config import LibrarianHours

UTC = dt.timezone.utc
LOOK_AHEAD_DAYS = 400  # how far next_opening looks (a year's holidays cannot hide every working day)


def aware(moment: dt.datetime) -> dt.datetime:
    """The moment in UTC; a naive one is UTC already (how every moment is stored). Arithmetic is done in UTC:
    Python subtracts two moments of one zone by their wall clocks, which is wrong across a DST change."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class WorkingTime:
    """When librarians work. hours None: always (no hours set), and then holidays do not apply either."""

    hours: LibrarianHours | None
    holidays: frozenset[dt.date] = frozenset()

    @classmethod
    def of(cls, hours: LibrarianHours | None, holidays: Iterable[dt.date] = ()) -> "WorkingTime":
        return cls(hours, frozenset(holidays))

    def windows_on(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The working windows of a local date, as moments in UTC (none on a holiday)."""
        if self.hours is None or day in self.holidays:
            return []
        zone = self.hours.zone
        return [(aware(dt.datetime.combine(day, start, zone)), aware(dt.datetime.combine(day, end, zone)))
                for weekday, start, end in self.hours.windows if weekday == day.weekday()]

    def _local_date(self, moment: dt.datetime) -> dt.date:
        return aware(moment).astimezone(self.hours.zone).date()

    def window_of(self, moment: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
        """The working window `moment` falls in (start, end), or None outside working time."""
        moment = aware(moment)
        if self.hours is None:
            return None
        return next(((start, end) for start, end in self.windows_on(self._local_date(moment)) if start <= moment < end), None)

    def is_working(self, moment: dt.datetime) -> bool:
        return self.hours is None or self.window_of(moment) is not None

    def minutes_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working minutes from `start` to `end` (0 when end is not after start)."""
        start, end = aware(start), aware(end)
        if end <= start:
            return 0.0
        if self.hours is None:
            return (end - start).total_seconds() / 60
        seconds = 0.0
        day, last = self._local_date(start), self._local_date(end)
        while day <= last:
            for opens, closes in self.windows_on(day):
                low, high = max(opens, start), min(closes, end)
                if high > low:
                    seconds += (high - low).total_seconds()
            day += dt.timedelta(days=1)
        return seconds / 60

    def next_opening(self, moment: dt.datetime) -> dt.datetime:
        """The next start of working time after `moment`, in the librarians' time zone (holidays skipped)."""
        moment = aware(moment)
        if self.hours is None:
            return moment
        day = self._local_date(moment)
        for _ in range(LOOK_AHEAD_DAYS):
            later = [start for start, _ in self.windows_on(day) if start > moment]
            if later:
                return min(later).astimezone(self.hours.zone)
            day += dt.timedelta(days=1)
        return moment.astimezone(self.hours.zone)  # every day for a year is a holiday: nothing sensible to say
