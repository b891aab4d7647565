"""`egov-bot stats` and `egov-bot kb drafts` over a database the HelpDesk filled."""

from __future__ import annotations

import asyncio
from pathlib import Path

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
