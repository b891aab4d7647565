"""Which notices of knowledge/notices.yaml are active: today, in the librarians' local date (LIBRARIAN_TIMEZONE,
else Asia/Almaty), between a notice's starts and ends, both included. Part of the HelpDesk (NoticeDesk).

It never imports telegram; the front ends render what the HelpDesk hands them (an Answer carries its notices).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot import locales
from bot.knowledge import Entry, KnowledgeBase, Notice

DEFAULT_ZONE = "Asia/Almaty"


def local_date(moment: dt.datetime, zone: dt.tzinfo | None = None) -> dt.date:
    """The date in `zone` (Asia/Almaty when none) at `moment` (a naive moment is UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(zone or ZoneInfo(DEFAULT_ZONE)).date()


def active(kb: KnowledgeBase, day: dt.date) -> tuple[Notice, ...]:
    """The notices shown on `day`, in file order."""
    return tuple(notice for notice in kb.notices if notice.active_on(day))


def for_entry(kb: KnowledgeBase, entry: Entry, day: dt.date) -> tuple[Notice, ...]:
    """The notices shown under `entry`'s answer on `day`: those naming it or its category."""
    return tuple(notice for notice in active(kb, day) if notice.concerns(entry))


class NoticeDesk:
    """Mixed into HelpDesk: uses its `knowledge`, `clock` and `hours` (whose zone is the local date's)."""

    def today(self) -> dt.date:
        """The librarians' local date now."""
        return local_date(self.clock(), getattr(self.hours, "zone", None))

    def active_notices(self) -> tuple[Notice, ...]:
        """Every notice active today (what /help lists)."""
        return active(self.knowledge.kb, self.today())

    def notices_for(self, entry: Entry) -> tuple[Notice, ...]:
        """The notices active today under this entry's answer."""
        return for_entry(self.knowledge.kb, entry, self.today())


def _day(day: dt.date) -> str:
    return day.strftime("%d.%m.%Y")


def answer_lines(notices: tuple[Notice, ...], lang: str) -> list[str]:
    """The plain-text lines under an answer: a header, then each notice in the reader's content language."""
    if not notices:
        return []
    content = locales.content_lang(lang)
    return [locales.text(lang, "notice_header")] + [
        locales.text(lang, "notice_item", text=notice.text.get(content) or notice.text["ru"], ends=_day(notice.ends))
        for notice in notices]


def help_lines(notices: tuple[Notice, ...], lang: str) -> list[str]:
    """What /help adds while notices are active: a header and each notice with its dates."""
    if not notices:
        return []
    content = locales.content_lang(lang)
    return [locales.text(lang, "help_notices")] + [
        locales.text(lang, "help_notice_item", text=notice.text.get(content) or notice.text["ru"],
                     starts=_day(notice.starts), ends=_day(notice.ends))
        for notice in notices]
