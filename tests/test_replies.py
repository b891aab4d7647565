"""knowledge/replies.yaml, the librarians' canned replies: loaded with the knowledge base, checked by
`egov-bot kb lint` with file and line, and reloaded (or refused) with the rest."""

from __future__ import annotations

import re

import pytest

from bot import cli
from bot.helpdesk import HelpDesk, Knowledge
from bot.knowledge import ID_PATTERN, KnowledgeBase, KnowledgeError, load_knowledge
from bot.knowledge.replies import REPLY_TEXT_LIMIT, REPLY_TITLE_LIMIT
from bot.storage import Storage

from conftest import TinyKB

KAZAKH_LETTERS = re.compile("[әғқңөұүһі]", re.IGNORECASE)

GOOD = """\
- id: come-with-id
  title: {ru: Приходите с удостоверением, kk: Жеке куәлікпен келіңіз}
  text:
    ru: Приходите в библиотеку с удостоверением личности.
    kk: Кітапханаға жеке куәлігіңізбен келіңіз.
- id: call-1414
  title: {ru: Позвоните 1414, kk: 1414-ке қоңырау шалыңыз}
  text: {ru: Позвоните 1414., kk: 1414-ке қоңырау шалыңыз.}
"""


def errors_of(tiny_kb: TinyKB) -> list[str]:
    with pytest.raises(KnowledgeError) as raised:
        load_knowledge(tiny_kb.directory)
    return [str(p) for p in raised.value.problems if p.severity == "error"]


# --- the bundled replies ---------------------------------------------------------------------------


def test_the_bundled_replies_are_useful_and_in_both_languages(kb: KnowledgeBase) -> None:
    ids = [reply.id for reply in kb.replies]
    assert 6 <= len(ids) <= 10 and len(set(ids)) == len(ids)
    assert {"come-with-id", "closed-today", "call-1414", "send-screenshot", "only-in-con"} <= set(ids)
    for reply in kb.replies:
        assert ID_PATTERN.match(reply.id)
        assert set(reply.title) == set(reply.text) == {"ru", "kk"}
        assert all(len(title) <= REPLY_TITLE_LIMIT for title in reply.title.values())
        assert all(20 <= len(text) <= REPLY_TEXT_LIMIT for text in reply.text.values())
        assert KAZAKH_LETTERS.search(reply.text["kk"]), reply.id  # Kazakh, not transliterated Russian
        assert reply.path == "knowledge/replies.yaml" and reply.line > 0
    assert "1414" in kb.reply("call-1414").text["ru"] and "1414" in kb.reply("call-1414").text["kk"]
    assert "ХҚКО" in kb.reply("only-in-con").text["kk"] and "ЦОН" in kb.reply("only-in-con").text["ru"]
    assert kb.reply("no-such-reply") is None


def test_kb_lint_passes_on_the_bundled_knowledge(capsys) -> None:
    assert cli.main(["kb", "lint", "--quiet"]) == 0
    assert "replies.yaml" not in capsys.readouterr().out


# --- loading and lint ------------------------------------------------------------------------------


def test_a_knowledge_base_without_replies_has_none(tiny_kb: TinyKB) -> None:
    assert load_knowledge(tiny_kb.directory).replies == ()


def test_good_replies_load_in_file_order(tiny_kb: TinyKB) -> None:
    tiny_kb.write("replies.yaml", GOOD)
    kb = load_knowledge(tiny_kb.directory)
    assert [r.id for r in kb.replies] == ["come-with-id", "call-1414"]
    assert kb.reply("call-1414").text == {"ru": "Позвоните 1414.", "kk": "1414-ке қоңырау шалыңыз."}
    assert kb.reply("come-with-id").line == 1 and kb.reply("call-1414").line == 6


@pytest.mark.parametrize("old, new, needle, message", [
    ("    kk: Кітапханаға жеке куәлігіңізбен келіңіз.\n", "", "text:", "reply come-with-id has no Kazakh text"),
    ("kk: Жеке куәлікпен келіңіз}", "en: Come with your ID}", "title: {ru: Приходите",
     "reply come-with-id has no Kazakh title"),
    ("- id: call-1414", "- id: come-with-id", "- id: come-with-id\n", "reply id come-with-id is used twice (also line 1)"),
    ("- id: call-1414", "- id: Call_1414", "Call_1414", "reply #2 needs an id in lower-case-with-dashes"),
    ("  text: {ru: Позвоните 1414.,", "  note: x\n  text: {ru: Позвоните 1414.,", "note:",
     "reply call-1414: unknown field 'note'"),
    ("ru: Позвоните 1414.,", "ru: Позвоните 1414 или смотрите https://example.com/help,", "example.com",
     "reply call-1414: https://example.com/help is not on an official site"),
    ("ru: Позвоните 1414.,", "ru: " + "очень длинный ответ " * 40 + ",", "очень длинный",
     f"the Russian text has 799 characters; keep it under {REPLY_TEXT_LIMIT}"),
    ("title: {ru: Позвоните 1414,", "title: {ru: " + "Позвоните " * 8 + ",", "title: {ru: Позвоните Позвоните",
     f"the Russian title has 79 characters; keep it under {REPLY_TITLE_LIMIT}"),
])
def test_broken_replies_are_errors_with_file_and_line(tiny_kb: TinyKB, old: str, new: str, needle: str,
                                                     message: str) -> None:
    tiny_kb.write("replies.yaml", GOOD.replace(old, new))
    found = [e for e in errors_of(tiny_kb) if message in e]
    assert len(found) == 1, errors_of(tiny_kb)
    line = tiny_kb.line("replies.yaml", needle.rstrip("\n"), nth=2 if "twice" in message else 1)
    if "has no Kazakh text" in message:  # the block that lacks it (its first line)
        line = tiny_kb.line("replies.yaml", "ru: Приходите в библиотеку")
    assert found[0].startswith(f"{tiny_kb.shown('replies.yaml')}:{line}: error: ")


@pytest.mark.parametrize("text, message", [
    ("- id: x\n  title: [unclosed\n", "not valid YAML"),
    ("id: come-with-id\n", "expected a list of replies"),
    ("- just text\n", "reply #1 is not a block with id, title and text"),
])
def test_a_broken_replies_file_is_an_error(tiny_kb: TinyKB, text: str, message: str) -> None:
    tiny_kb.write("replies.yaml", text)
    assert any(tiny_kb.shown("replies.yaml") in e and message in e for e in errors_of(tiny_kb)), errors_of(tiny_kb)


def test_kb_lint_reports_a_broken_reply(tiny_kb: TinyKB, capsys) -> None:
    tiny_kb.write("replies.yaml", GOOD.replace("    kk: Кітапханаға жеке куәлігіңізбен келіңіз.\n", ""))
    assert cli.main(["kb", "lint", "--knowledge", str(tiny_kb.directory)]) == 1
    out = capsys.readouterr().out
    assert f"{tiny_kb.shown('replies.yaml')}:4: error: reply come-with-id has no Kazakh text" in out


# --- reload ----------------------------------------------------------------------------------------


async def test_reload_serves_changed_replies_and_refuses_broken_ones(tiny_kb: TinyKB, store: Storage) -> None:
    tiny_kb.write("replies.yaml", GOOD)
    desk = HelpDesk(Knowledge.load(tiny_kb.directory), store)
    assert [r.id for r in desk.canned_replies] == ["come-with-id", "call-1414"]

    tiny_kb.write("replies.yaml", GOOD.replace("Позвоните 1414.,", "Позвоните по номеру 1414.,"))
    assert desk.reload_report().errors == []
    assert desk.canned("call-1414").text["ru"] == "Позвоните по номеру 1414."

    before = desk.knowledge
    tiny_kb.write("replies.yaml", GOOD.replace("- id: call-1414", "- id: come-with-id"))
    report = desk.reload_report()
    assert [str(p) for p in report.errors] == [
        f"{tiny_kb.shown('replies.yaml')}:6: error: reply id come-with-id is used twice (also line 1)"]
    assert desk.knowledge is before and desk.canned("call-1414") is not None  # the last good copy serves

    tiny_kb.path("replies.yaml").unlink()
    assert desk.reload_report().errors == [] and desk.canned_replies == ()
