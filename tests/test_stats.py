"""`egov-bot stats` and `egov-bot kb drafts` over a database the HelpDesk filled."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from bot import cli
from bot.helpdesk import HelpDesk, Knowledge
from bot.knowledge import bundled_knowledge_dir, load_knowledge
from bot.storage import Storage


async def fill(url: str) -> None:
    store = Storage.from_url(url)
    await store.create_schema()
    desk = HelpDesk(Knowledge(load_knowledge(bundled_knowledge_dir())), store)
    try:
        for n in range(3):
            citizen = await store.citizens.get("telegram", str(100 + n), first_name=f"c{n}")
            answered = await desk.ask(citizen, "как получить эцп")
            await desk.feedback(citizen, answered.entry.id, helpful=n != 2)
        for n, question in enumerate(["курс доллара сегодня", "какой курс доллара", "погода в караганде"]):
            citizen = await store.citizens.get("telegram", str(200 + n))
            await desk.ask(citizen, question)
        ticket = (await store.tickets.queue())[0]
        await store.outbox.card_posted(ticket.id, 77)
        await desk.reply(77, "Курс смотрите на сайте Нацбанка.", "Гульнар", 78)
        await desk.draft(ticket.id, "Гульнар")
    finally:
        await store.dispose()


def test_stats_and_drafts(tmp_path: Path, capsys) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    asyncio.run(fill(url))

    assert cli.main(["stats", "--database", url, "--days", "7"]) == 0
    out = capsys.readouterr().out
    assert "questions asked: 6" in out
    assert "answered: 50%" in out and "escalated: 50%" in out
    assert "helpful: 2  not helpful: 1" in out
    assert "open tickets: 3" in out
    assert "median time to the first librarian reply: 0 min" in out
    unmatched = out.split("most frequent unmatched questions")[1]
    assert "   2  курс доллара сегодня" in unmatched  # the two dollar questions are one group
    assert "   1  погода в караганде" in unmatched

    assert cli.main(["kb", "drafts", "--database", url]) == 0
    drafts = yaml.safe_load(capsys.readouterr().out)
    assert drafts[0]["questions"]["ru"] == ["курс доллара сегодня"]
    assert drafts[0]["answer"]["ru"] == "Курс смотрите на сайте Нацбанка."
    assert "Гульнар" in drafts[0]["source"]


def test_stats_on_an_empty_database(tmp_path: Path, capsys) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
    assert cli.main(["stats", "--database", url]) == 0
    out = capsys.readouterr().out
    assert "questions asked: 0" in out and "none" in out
    assert cli.main(["kb", "drafts", "--database", url]) == 0
    assert "no drafts" in capsys.readouterr().out


def test_stats_with_a_bad_database_url(capsys) -> None:
    assert cli.main(["stats", "--database", "nosuchdb://x"]) == 2
    assert "Traceback" not in capsys.readouterr().err


# --- the librarians' desk in working minutes (bot.desk_stats) ----------------------------------------------


def test_desk_figures_count_working_minutes() -> None:
    import datetime as dt

    from bot.config import LibrarianHours
    from bot.desk_stats import desk_figures
    from bot.domain import TicketTimes
    from bot.workhours import WorkingTime

    calendar = WorkingTime.of(LibrarianHours.parse("Mon-Fri 09:00-18:00", "Asia/Almaty"), [dt.date(2026, 12, 16)])
    monday = dt.datetime(2026, 12, 14, 5, 0)  # 10:00 in Almaty, naive UTC as stored
    minutes = dt.timedelta(minutes=1)
    times = [
        TicketTimes(monday, monday + 10 * minutes, monday + 60 * minutes),
        TicketTimes(monday, monday + 20 * minutes, None),
        TicketTimes(monday, monday + 40 * minutes, monday + 100 * minutes),
        # Friday 17:50 -> Monday 09:10: 20 working minutes, not three days
        TicketTimes(dt.datetime(2026, 12, 11, 12, 50), dt.datetime(2026, 12, 14, 4, 10), None),
        TicketTimes(monday, None, None),  # not answered yet
    ]
    desk = desk_figures(times, calendar, take_minutes=30)
    assert desk.tickets == 5
    assert (desk.first_response.median, desk.first_response.count) == (20, 4)
    assert desk.first_response.p90 == pytest.approx(34)  # 10, 20, 20, 40: inclusive quantiles
    assert (desk.resolution.median, desk.resolution.p90, desk.resolution.count) == (80, pytest.approx(96), 2)
    assert desk.answered_in_time == pytest.approx(3 / 5)
    assert desk.suggested is None and desk.canned is None  # recorded by other features: not shown without them
    ready = desk_figures(times, calendar, 30, suggested=2, canned={"come-with-id": 4, "call-1414": 7, "unused": 0})
    assert ready.suggested == pytest.approx(2 / 4) and ready.canned == (("call-1414", 7), ("come-with-id", 4))
    assert desk_figures([], calendar, 30).answered_in_time is None


def test_stats_prints_the_desk_in_working_minutes(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("LIBRARIAN_HOURS", "Mon-Sun 00:00-23:59")
    monkeypatch.setenv("TAKE_REMINDER_MINUTES", "45")
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    asyncio.run(fill(url))
    assert cli.main(["stats", "--database", url]) == 0
    out = capsys.readouterr().out
    assert "first librarian reply (working minutes): median 0 min, 90% within 0 min (1 tickets)" in out
    assert "resolution (to closing) (working minutes): -" in out
    assert "tickets answered within 45 working minutes (TAKE_REMINDER_MINUTES): 33% of 3" in out
    monkeypatch.setenv("TAKE_REMINDER_MINUTES", "soon")
    assert cli.main(["stats", "--database", url]) == 2
    assert "TAKE_REMINDER_MINUTES" in capsys.readouterr().err
