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
from bot.telegram_ui.application import CITIZEN_COMMANDS
from bot.telegram_ui.jobs import delivery_job
from bot.telegram_ui.context import BotContext

from .harness import AIGUL, EDITOR, GROUP_ID, MARIA, TG, replace_settings, ru

CITIZEN = AIGUL["id"]


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
    before = tg.helpdesk.knowledge

    await tg.cmd(EDITOR, "/reload")

    (reply,) = tg.texts(EDITOR["id"])
    assert reply.startswith(ru("reload_failed", errors="").rstrip())
    assert str(problem) in reply
    assert re.search(r"kb/services/eds\.yaml:\d+: error: not valid YAML", reply)
    assert tg.helpdesk.knowledge is before

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
    before = tg.helpdesk.knowledge

    await tg.cmd(AIGUL, "/reload")

    assert tg.texts(CITIZEN) == [ru("editors_only")]
    assert tg.helpdesk.knowledge is before
    await tg.cmd(MARIA, "/reload", GROUP_ID)  # in the group too: a librarian who is not an editor is told
    assert tg.texts(GROUP_ID) == [ru("editors_only")]
    assert tg.helpdesk.knowledge is before


async def test_reload_in_the_group_names_removed_entries(make_tg, settings, tmp_path: Path) -> None:
    directory = knowledge_copy(tmp_path)
    tg: TG = await make_tg(replace_settings(settings, knowledge_dir=directory))
    ncalayer = directory / "services" / "eds.yaml"
    text = ncalayer.read_text(encoding="utf-8")
    start = text.index("- id: ncalayer")
    end = text.find("\n- id: ", start + 1)
    ncalayer.write_text(text[:start] + (text[end + 1:] if end != -1 else ""), encoding="utf-8")

    await tg.cmd(EDITOR, "/reload", GROUP_ID)

    entries = len(load_knowledge(directory).entries)
    assert tg.texts(GROUP_ID) == [ru("reload_ok", entries=entries) + " " + ru("reload_removed", removed="ncalayer")]
    assert tg.helpdesk.entry("ncalayer") is None


async def test_reload_refuses_what_kb_lint_rejects(make_tg, settings, tmp_path: Path) -> None:
    """A variant the matcher would answer with another entry is a lint error: /reload keeps the old base."""
    directory = knowledge_copy(tmp_path)
    eds = directory / "services" / "eds.yaml"
    text = eds.read_text(encoding="utf-8")
    start = text.index("- id: eds-renew")
    ru_questions = text.index("    ru:\n", start) + len("    ru:\n")
    eds.write_text(text[:ru_questions] + "      - как получить эцп\n" + text[ru_questions:], encoding="utf-8")
    tg: TG = await make_tg(replace_settings(settings, knowledge_dir=directory))
    before = tg.helpdesk.knowledge

    await tg.cmd(EDITOR, "/reload")

    (reply,) = tg.texts(EDITOR["id"])
    assert reply.startswith(ru("reload_failed", errors="").rstrip()) and "eds-renew" in reply
    assert tg.helpdesk.knowledge is before


async def test_reload_checks_access_points_and_a_good_edit_shows_in_where(make_tg, settings, tmp_path: Path) -> None:
    directory = knowledge_copy(tmp_path)
    points = directory / "access_points.yaml"
    good = points.read_text(encoding="utf-8")
    tg: TG = await make_tg(replace_settings(settings, knowledge_dir=directory))
    before = tg.helpdesk.knowledge

    points.write_text(good.replace("latitude: 49.80", "latitude: [49.80", 1), encoding="utf-8")
    await tg.cmd(EDITOR, "/reload")
    (reply,) = tg.texts(EDITOR["id"])
    assert re.search(r"kb/access_points\.yaml:\d+: error", reply), reply
    assert tg.helpdesk.knowledge is before

    points.write_text(good.replace("Темиртау", "Темиртау-Новый", 1), encoding="utf-8")
    await tg.cmd(EDITOR, "/reload")
    assert tg.texts(EDITOR["id"])[-1].startswith(ru("reload_ok", entries=len(before.kb.entries))[:20])
    await tg.cmd(AIGUL, "/where Темиртау-Новый")
    assert "Темиртау-Новый" in tg.last(CITIZEN).text


# --- start-up and the delivery job ------------------------------------------------------------------------------


async def test_post_init_sets_the_commands_and_schedules_delivery(tg: TG) -> None:
    await tg.app.post_init(tg.app)

    default, kazakh, english = tg.sent(method="setMyCommands")
    for call, lang in ((default, "ru"), (kazakh, "kk"), (english, "en")):
        assert [c["command"] for c in call.params["commands"]] == list(CITIZEN_COMMANDS)
        assert call.params["commands"][0]["description"] == locales.text(lang, "command_start")
    assert "language_code" not in default.params and kazakh.params["language_code"] == "kk"
    assert sorted(job.name for job in tg.app.job_queue.jobs()) == ["close idle tickets", "delivery", "heartbeat",
                                                                      "purge question log"]
    assert tg.sql("SELECT id FROM instances") == [(tg.store.updates.instance,)]  # alive before the first update
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
