"""Editors' /reload, start-up (post_init), the delivery job, the error handler and librarians' hours."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from bot import locales
from bot.config import LibrarianHours
from bot.knowledge import KnowledgeError, bundled_knowledge_dir, load_knowledge
from bot.telegram_ui import application
from bot.telegram_ui.application import CITIZEN_COMMANDS, delivery_job
from bot.telegram_ui.context import BotContext
from tg_harness import AIGUL, EDITOR, GROUP_ID, MARIA, TG, replace_settings
from tg_fixtures import *  # noqa: F403 - the fixtures (no conftest.py here: see tg_fixtures.py)

CITIZEN = AIGUL["id"]


def ru(key: str, **values: object) -> str:
    return locales.text("ru", key, **values)


def knowledge_copy(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(bundled_knowledge_dir(), target)
    return target


# --- 15. /reload ---------------------------------------------------------------------------------------------


async def test_reload_with_a_broken_file_reports_file_and_line_and_keeps_the_old_base(make_tg, settings,
                                                                                    tmp_path: Path) -> None:
    directory = knowledge_copy(tmp_path)
    eds = directory / "services" / "eds.yaml"
    lines = eds.read_text(encoding="utf-8").splitlines()
    broken_at = next(n for n, line in enumerate(lines) if line.strip() == "category: eds")
    lines[broken_at] = "  category: [eds"  # an unclosed flow sequence
    eds.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as expected:
        load_knowledge(directory)
    problem = next(p for p in expected.value.problems if p.severity == "error")
    assert problem.path == "kb/services/eds.yaml" and problem.line > 0
    tg: TG = await make_tg(replace_settings(settings, knowledge_dir=directory))
    before = tg.helpdesk.library

    await tg.cmd(EDITOR, "/reload")

    (reply,) = tg.texts(EDITOR["id"])
    assert reply.startswith(ru("reload_failed", errors="").rstrip())
    assert str(problem) in reply
    assert re.search(r"kb/services/eds\.yaml:\d+: error: not valid YAML", reply)
    assert tg.helpdesk.library is before

    await tg.say(AIGUL, "как получить эцп")
    assert tg.last(CITIZEN).buttons[:2] == ["f:y:eds-obtain", "f:n:eds-obtain"]


async def test_reload_with_a_good_copy_serves_the_new_base(make_tg, settings, tmp_path: Path) -> None:
    directory = knowledge_copy(tmp_path)
    eds = directory / "services" / "eds.yaml"
    eds.write_text(eds.read_text(encoding="utf-8").replace("ru: Как получить ЭЦП", "ru: Как получить ЭЦП сегодня", 1),
                   encoding="utf-8")
    tg: TG = await make_tg(replace_settings(settings, knowledge_dir=directory))

    await tg.cmd(EDITOR, "/reload")

    entries = len(load_knowledge(directory).entries)
    assert tg.texts(EDITOR["id"]) == [ru("reload_ok", entries=entries)]
    await tg.say(AIGUL, "как получить эцп")
    assert tg.last(CITIZEN).text.startswith("<b>Как получить ЭЦП сегодня</b>")


async def test_reload_by_a_non_editor_is_refused(make_tg, settings, tmp_path: Path) -> None:
    directory = knowledge_copy(tmp_path)
    (directory / "services" / "eds.yaml").write_text("- id: [broken\n", encoding="utf-8")
    tg: TG = await make_tg(replace_settings(settings, knowledge_dir=directory))
    before = tg.helpdesk.library

    await tg.cmd(AIGUL, "/reload")

    assert tg.texts(CITIZEN) == [ru("editors_only")]
    assert tg.helpdesk.library is before
    await tg.cmd(MARIA, "/reload", GROUP_ID)  # not a group command either
    assert not tg.sent(GROUP_ID)


# --- start-up and the delivery job ------------------------------------------------------------------------------


async def test_post_init_sets_the_commands_and_schedules_delivery(tg: TG) -> None:
    await tg.app.post_init(tg.app)

    (call,) = tg.sent(method="setMyCommands")
    assert [c["command"] for c in call.params["commands"]] == [name for name, _ in CITIZEN_COMMANDS]
    assert sorted(job.name for job in tg.app.job_queue.jobs()) == ["delivery", "heartbeat", "purge question log"]
    assert tg.sql("SELECT id FROM instances") == [(tg.store.instance,)]  # alive before the first update
    for job in tg.app.job_queue.jobs():
        job.schedule_removal()


async def test_post_init_survives_a_failing_set_my_commands(tg: TG) -> None:
    for _ in range(4):  # the first attempt and three retries
        tg.request.fail_next("setMyCommands", 500)
    await tg.app.post_init(tg.app)
    assert [c.status for c in tg.sent(method="setMyCommands")] == [500] * 4
    for job in tg.app.job_queue.jobs():
        job.schedule_removal()


async def test_delivery_job_delivers_and_survives_faults(tg: TG, monkeypatch: pytest.MonkeyPatch) -> None:
    ticket = await tg.escalate(AIGUL)
    await tg.helpdesk.reply((await tg.ticket(ticket.id)).card_message_id, "Ответ из очереди", "Мария Иванова", 9000)
    context = BotContext(tg.app)
    tg.clear()

    await delivery_job(context)
    assert tg.texts(CITIZEN) == [ru("librarian_answer", number=ticket.id, text="Ответ из очереди")]

    async def broken(*args, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(application, "deliver_all", broken)
    await delivery_job(context)  # logged, not raised: the job keeps running


# --- the error handler ------------------------------------------------------------------------------------------


async def test_a_fault_is_reported_to_the_group_and_the_citizen(tg: TG, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(tg.helpdesk, "ask", broken)
    await tg.feed(tg.private_text(AIGUL, "как получить эцп"), allow_errors=True)

    assert isinstance(tg.errors[-1], RuntimeError)
    assert tg.texts(GROUP_ID) == [locales.text(locales.GROUP, "bot_error", error="RuntimeError")]
    assert tg.texts(CITIZEN) == [ru("error_try_again")]


# --- librarians' hours ------------------------------------------------------------------------------------------


async def test_off_hours_escalation_says_when_librarians_answer(make_tg, settings) -> None:
    hours = LibrarianHours.parse("Mon-Fri 09:00-18:00", "Asia/Almaty")
    saturday_noon = dt.datetime(2025, 11, 29, 12, 0, tzinfo=hours.zone)
    tg: TG = await make_tg(replace_settings(settings, hours=hours), hours=hours, clock=lambda: saturday_noon)

    await tg.say(AIGUL, "какая погода завтра в темиртау")

    reply = tg.texts(CITIZEN)[0]
    assert reply == ru("escalated_off_hours", number=1, hours="Пн–Пт 09:00–18:00 (время Казахстана)", opens="01.12 09:00")
    assert tg.card(1)  # the card is posted anyway
