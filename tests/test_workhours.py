"""Working time (bot.workhours): the librarians' hours less the holidays of settings.yaml; the holidays as the
knowledge base loads and lints them; TAKE_REMINDER_MINUTES and REPLY_REMINDER_MINUTES."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, LibrarianHours, Settings, reminder_minutes
from bot.knowledge import KnowledgeError, load_knowledge
from bot.workhours import WorkingTime

ALMATY = ZoneInfo("Asia/Almaty")
WEEKDAYS = LibrarianHours.parse("Mon-Fri 09:00-18:00", "Asia/Almaty")
INDEPENDENCE_DAY = dt.date(2026, 12, 16)  # a Wednesday
CALENDAR = WorkingTime.of(WEEKDAYS, [INDEPENDENCE_DAY])


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> dt.datetime:
    """A moment of December 2026 in Almaty (14 December is a Monday)."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=ALMATY)


@pytest.mark.parametrize("start, end, minutes", [
    (at(14, 10), at(14, 10, 30), 30),         # within one day's hours
    (at(14, 8), at(14, 9, 15), 15),           # the ticket came before the opening
    (at(14, 17, 30), at(15, 9, 30), 60),      # overnight: 30 minutes each side
    (at(11, 17), at(14, 10), 120),            # Friday evening to Monday: the weekend is not counted
    (at(12, 10), at(13, 20), 0),              # a weekend only
    (at(15, 17), at(17, 10), 120),            # over Independence Day (16 December): one hour each side
    (at(16, 9), at(16, 18), 0),               # the holiday itself
    (at(14, 10), at(14, 9), 0),               # end before start
    (at(14, 0), at(21, 0), 5 * 540 - 540),    # a whole week with the holiday in it
])
def test_working_minutes_between_two_moments(start, end, minutes) -> None:
    assert CALENDAR.minutes_between(start, end) == pytest.approx(minutes)


def test_naive_moments_are_utc_as_the_database_stores_them() -> None:
    start = dt.datetime(2026, 12, 14, 4, 0)  # 09:00 in Almaty (UTC+5)
    assert CALENDAR.minutes_between(start, start + dt.timedelta(minutes=45)) == pytest.approx(45)
    assert CALENDAR.minutes_between(start - dt.timedelta(hours=1), start) == 0
    assert CALENDAR.is_working(start) and not CALENDAR.is_working(start - dt.timedelta(seconds=1))


def test_almaty_has_no_daylight_saving_time() -> None:
    # Europe switches its clocks on 29 March 2026; Almaty keeps UTC+5 all year: working minutes equal the
    # minutes of the hours, and a working day is 540 minutes on both sides of that weekend.
    friday, monday = dt.datetime(2026, 3, 27, 9, 0, tzinfo=ALMATY), dt.datetime(2026, 3, 30, 18, 0, tzinfo=ALMATY)
    assert friday.utcoffset() == monday.utcoffset() == dt.timedelta(hours=5)
    assert WorkingTime.of(WEEKDAYS).minutes_between(friday, monday) == pytest.approx(2 * 540)


def test_a_zone_with_daylight_saving_time_counts_real_minutes() -> None:
    berlin = LibrarianHours.parse("Sun 01:00-04:00", "Europe/Berlin")
    day = dt.datetime(2026, 3, 29, 0, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # 02:00 becomes 03:00
    assert WorkingTime.of(berlin).minutes_between(day, day + dt.timedelta(days=1)) == pytest.approx(120)


def test_several_windows_a_day() -> None:
    split = WorkingTime.of(LibrarianHours.parse("Mon-Fri 09:00-13:00; Mon-Fri 14:00-18:00", "Asia/Almaty"))
    assert split.minutes_between(at(14, 12, 30), at(14, 14, 30)) == pytest.approx(60)
    assert not split.is_working(at(14, 13, 30))
    assert split.window_of(at(14, 15)) == (at(14, 14), at(14, 18))
    assert split.next_opening(at(14, 13, 30)) == at(14, 14)


def test_holidays_are_not_working_time_and_the_next_opening_skips_them() -> None:
    assert not CALENDAR.is_working(at(16, 12)) and CALENDAR.is_working(at(15, 12))
    assert CALENDAR.next_opening(at(15, 19)) == at(17, 9)
    assert WorkingTime.of(WEEKDAYS).next_opening(at(15, 19)) == at(16, 9)
    assert CALENDAR.next_opening(at(11, 18)) == at(14, 9)  # Friday at closing: Monday


def test_without_hours_it_is_always_working_time() -> None:
    always = WorkingTime.of(None, [INDEPENDENCE_DAY])
    assert always.is_working(at(16, 3)) and always.window_of(at(16, 3)) is None
    assert always.minutes_between(at(16, 3), at(16, 4)) == pytest.approx(60)


# --- the holidays in settings.yaml --------------------------------------------------------------------------


def test_the_bundled_holidays_cover_2026_and_2027(kb) -> None:
    days = {holiday.date: holiday for holiday in kb.holidays}
    for year in (2026, 2027):
        assert {dt.date(year, 1, 1), dt.date(year, 3, 22), dt.date(year, 12, 16)} <= set(days), year
    # Days off moved from a weekend by the law (8 March 2026 was a Sunday, 21-22 March a weekend).
    assert {dt.date(2026, 3, 9), dt.date(2026, 3, 24), dt.date(2026, 3, 25), dt.date(2026, 5, 11)} <= set(days)
    moving = [holiday for holiday in kb.holidays if holiday.moves]
    assert [h.date for h in moving] == [dt.date(2026, 5, 27), dt.date(2027, 5, 16)]
    assert all("Курбан" in h.name for h in moving)
    assert list(kb.holidays) == sorted(kb.holidays, key=lambda h: h.date)


def test_holiday_problems_name_their_line(make_kb, tmp_path) -> None:
    settings = ("official_domains:\n  - egov.kz\n  - pki.gov.kz\nholidays:\n"
                "  - {date: 2026-02-30, name: Нет такого дня}\n"
                "  - {date: 2026-01-01, name: Новый год}\n"
                "  - {date: 2026-01-01, name: Новый год ещё раз}\n"
                "  - {date: 2026-01-02}\n"
                "  - {date: 2026-01-07, name: Рождество, moves: sometimes}\n"
                "  - {date: 2026-03-08, name: 8 марта, when: always}\n"
                "  - 2026-05-01\n")
    kb = make_kb(tmp_path, settings=settings)
    with pytest.raises(KnowledgeError) as raised:
        load_knowledge(kb.directory)
    found = {(p.line, p.message.split(" (")[0]) for p in raised.value.problems if p.path.endswith("settings.yaml")}
    assert found == {
        (5, "holiday #1 needs date: as YYYY-MM-DD, a real date"),
        (7, "holiday 2026-01-01 is listed twice"),
        (8, "holiday 2026-01-02 needs a name"),
        (9, "holiday 2026-01-07: moves must be true or false"),
        (10, "holiday #6: unknown field 'when'"),
        (11, "holiday #7 must be a block with date: and name:"),
    }


def test_a_year_without_holidays_is_a_warning(make_kb, tmp_path) -> None:
    settings = "official_domains:\n  - egov.kz\n  - pki.gov.kz\nholidays:\n  - {date: 2026-01-01, name: Новый год}\n"
    kb = load_knowledge(make_kb(tmp_path, settings=settings).directory, today=dt.date(2028, 2, 1))
    assert [h.date for h in kb.holidays] == [dt.date(2026, 1, 1)]
    assert any("no public holidays listed for 2028" in p.message and p.severity == "warning" for p in kb.warnings)
    this_year = settings.replace("2026-01-01", f"{dt.date.today().year}-01-01")
    kb = load_knowledge(make_kb(tmp_path, settings=this_year, name="k2").directory)
    assert not any("holidays" in p.message for p in kb.warnings)


# --- the reminder settings ----------------------------------------------------------------------------------


def test_reminder_minutes_default_and_zero_turns_them_off() -> None:
    env = {"TELEGRAM_BOT_TOKEN": "123:ABC", "LIBRARIAN_CHAT_ID": "-1"}
    settings = Settings.from_env(env, env_file=None)
    assert (settings.take_reminder_minutes, settings.reply_reminder_minutes) == (30, 60)
    assert reminder_minutes({"TAKE_REMINDER_MINUTES": "0", "REPLY_REMINDER_MINUTES": "2.5"}) == (0, 2.5)


@pytest.mark.parametrize("name, value", [("TAKE_REMINDER_MINUTES", "half an hour"), ("TAKE_REMINDER_MINUTES", "-5"),
                                         ("REPLY_REMINDER_MINUTES", "nan")])
def test_bad_reminder_minutes_name_the_setting(name, value) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({"TELEGRAM_BOT_TOKEN": "123:ABC", "LIBRARIAN_CHAT_ID": "-1", name: value}, env_file=None)
