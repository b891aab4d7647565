"""knowledge/notices.yaml, notices of temporary changes: loaded with the knowledge base and checked by `kb lint`
with file and line, active by the librarians' local date (bot.notices), carried by the HelpDesk's answers,
shown by the console under answers and by /help, and reloaded (or refused) with the rest."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from bot import cli, locales
from bot.config import LibrarianHours
from bot.console import Console, render_entry
from bot.domain import Channel
from bot.helpdesk import Answer, HelpDesk, Knowledge
from bot.knowledge import KnowledgeBase, KnowledgeError, load_knowledge
from bot.knowledge.notices import NOTICE_TEXT_LIMIT
from bot.notices import answer_lines, help_lines, local_date
from bot.storage import Storage

from conftest import TinyKB

GOOD = """\
notices:
  - id: portal-works
    text:
      ru: Тестовое уведомление о работах на портале.
      kk: Порталдағы жұмыстар туралы сынақ хабарландыруы.
    entries: [tiny-eds]
    starts: 2030-03-01
    ends: 2030-03-02
  - id: documents-change
    text: {ru: Тестовое уведомление о справках., kk: Анықтамалар туралы сынақ хабарландыруы.}
    categories: [documents]
    starts: 2030-03-10
    ends: 2030-03-20
"""
DAY = dt.date(2030, 3, 1)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)


def problems_of(tiny_kb: TinyKB, today: dt.date = DAY) -> list[str]:
    """The problems of notices.yaml (the tiny base's own warnings left out)."""
    try:
        problems = load_knowledge(tiny_kb.directory, today=today).warnings
    except KnowledgeError as error:
        problems = error.problems
    return [str(p) for p in problems if p.path == tiny_kb.shown("notices.yaml")]


# --- the bundled file ------------------------------------------------------------------------------


def test_the_bundled_notices_file_states_nothing_and_lints_clean(kb: KnowledgeBase, capsys) -> None:
    assert kb.notices == ()  # no temporary change is announced: nothing false is shown to citizens
    assert (kb.directory / "notices.yaml").read_text(encoding="utf-8").rstrip().endswith("notices: []")
    assert cli.main(["kb", "lint"]) == 0
    assert "notices.yaml" not in capsys.readouterr().out


# --- loading and lint ------------------------------------------------------------------------------


def test_a_knowledge_base_without_notices_has_none(tiny_kb: TinyKB) -> None:
    assert load_knowledge(tiny_kb.directory).notices == ()
    tiny_kb.write("notices.yaml", "# nothing yet\nnotices: []\n")
    assert load_knowledge(tiny_kb.directory).notices == ()


def test_good_notices_load_in_file_order_with_their_lines(tiny_kb: TinyKB) -> None:
    tiny_kb.write("notices.yaml", GOOD)
    kb = load_knowledge(tiny_kb.directory, today=DAY)
    first, second = kb.notices
    assert (first.id, first.entries, first.categories, first.starts, first.ends) == (
        "portal-works", ("tiny-eds",), (), dt.date(2030, 3, 1), dt.date(2030, 3, 2))
    assert first.text == {"ru": "Тестовое уведомление о работах на портале.",
                          "kk": "Порталдағы жұмыстар туралы сынақ хабарландыруы."}
    assert (second.id, second.entries, second.categories) == ("documents-change", (), ("documents",))
    assert (first.path, first.line, second.line) == (tiny_kb.shown("notices.yaml"), 2, 9)
    assert problems_of(tiny_kb) == []


@pytest.mark.parametrize("old, new, needle, message", [
    ("      kk: Порталдағы жұмыстар туралы сынақ хабарландыруы.\n", "", "ru: Тестовое уведомление о работах",
     "notice portal-works has no Kazakh text"),
    ("kk: Анықтамалар туралы сынақ хабарландыруы.}", "en: A test notice.}", "en: A test",
     "notice documents-change: unknown language 'en' in text"),
    ("- id: documents-change", "- id: portal-works", "- id: portal-works",
     "notice id portal-works is used twice (also line 2)"),
    ("- id: documents-change", "- id: Documents_Change", "Documents_Change",
     "notice #2 needs an id in lower-case-with-dashes"),
    ("entries: [tiny-eds]", "entries: [tiny-edz]", "tiny-edz",
     "notice portal-works: unknown entry 'tiny-edz' (see the services/*.yaml files)"),
    ("categories: [documents]", "categories: [docs]", "[docs]",
     "notice documents-change: unknown category 'docs' (see categories.yaml)"),
    ("    categories: [documents]\n", "", "- id: documents-change",
     "notice documents-change concerns nothing: give entries:"),
    ("entries: [tiny-eds]", "entries: tiny-eds", "entries: tiny-eds",
     "notice portal-works: entries must be a list of entry ids"),
    ("ends: 2030-03-02", "ends: 2030-02-30", "ends: 2030-02-30",
     "notice portal-works needs ends: with a date like 2026-03-01 ('2030-02-30' is not a real date)"),
    ("    starts: 2030-03-10\n", "", "- id: documents-change", "notice documents-change needs starts:"),
    ("ends: 2030-03-02", "ends: 2030-02-20", "ends: 2030-02-20",
     "notice portal-works ends on 2030-02-20, before it starts (2030-03-01)"),
    ("    starts: 2030-03-10\n", "    starts: 2030-03-10\n    until: soon\n", "until:",
     "notice documents-change: unknown field 'until'"),
    ("ru: Тестовое уведомление о справках.,", "ru: " + "длинное уведомление " * 25 + ",", "длинное",
     f"the Russian text has 499 characters; keep it under {NOTICE_TEXT_LIMIT}"),
    ("ru: Тестовое уведомление о справках.,", "ru: Смотрите https://example.com/news,", "example.com",
     "notice documents-change: https://example.com/news is not on an official site"),
])
def test_broken_notices_are_errors_with_file_and_line(tiny_kb: TinyKB, old: str, new: str, needle: str,
                                                     message: str) -> None:
    assert old in GOOD
    tiny_kb.write("notices.yaml", GOOD.replace(old, new))
    with pytest.raises(KnowledgeError) as raised:
        load_knowledge(tiny_kb.directory, today=DAY)
    errors = [str(p) for p in raised.value.problems if p.severity == "error"]
    found = [e for e in errors if message in e]
    assert len(found) == 1, errors
    line = tiny_kb.line("notices.yaml", needle.rstrip("\n"), nth=2 if "twice" in message else 1)
    assert found[0].startswith(f"{tiny_kb.shown('notices.yaml')}:{line}: error: "), found


@pytest.mark.parametrize("text, message", [
    ("notices:\n  - id: x\n    text: [unclosed\n", "not valid YAML"),
    ("- id: portal-works\n", "expected 'notices:' followed by a list of notices"),
    ("notices: portal-works\n", "notices must be a list"),
    ("notices:\n  - just text\n", "notice #1 is not a block"),
    ("notices: []\nnotice: []\n", "unknown key 'notice'"),
])
def test_a_broken_notices_file_is_an_error(tiny_kb: TinyKB, text: str, message: str) -> None:
    tiny_kb.write("notices.yaml", text)
    problems = problems_of(tiny_kb)
    assert any(p.startswith(tiny_kb.shown("notices.yaml") + ":") and ": error: " in p and message in p
               for p in problems), problems


def test_an_ended_notice_is_a_warning_the_day_after_its_end(tiny_kb: TinyKB) -> None:
    tiny_kb.write("notices.yaml", GOOD)
    assert problems_of(tiny_kb, dt.date(2030, 3, 2)) == []  # its last day
    line = tiny_kb.line("notices.yaml", "ends: 2030-03-02")
    assert problems_of(tiny_kb, dt.date(2030, 3, 3)) == [
        f"{tiny_kb.shown('notices.yaml')}:{line}: warning: notice portal-works ended on 2030-03-02: "
        f"citizens no longer see it; remove it"]


def test_kb_lint_reports_a_broken_notice_and_fails(tiny_kb: TinyKB, capsys) -> None:
    tiny_kb.write("notices.yaml", GOOD.replace("ends: 2030-03-20", "ends: 2030-03-05"))
    assert cli.main(["kb", "lint", "--knowledge", str(tiny_kb.directory)]) == 1
    line = tiny_kb.line("notices.yaml", "ends: 2030-03-05")
    assert (f"{tiny_kb.shown('notices.yaml')}:{line}: error: notice documents-change ends on 2030-03-05, "
            f"before it starts (2030-03-10)") in capsys.readouterr().out


def test_kb_lint_warns_about_an_ended_notice_and_passes(tiny_kb: TinyKB, capsys) -> None:
    tiny_kb.write("notices.yaml", GOOD.replace("2030-03-01", "2020-03-01").replace("2030-03-02", "2020-03-02"))
    assert cli.main(["kb", "lint", "--knowledge", str(tiny_kb.directory)]) == 0
    assert "warning: notice portal-works ended on 2020-03-02" in capsys.readouterr().out


# --- which are active: the librarians' local date ----------------------------------------------------


def desk_at(knowledge: Knowledge, store: Storage, moment: dt.datetime, hours=None) -> HelpDesk:
    return HelpDesk(knowledge, store, hours=hours, clock=lambda: moment)


@pytest.mark.parametrize("moment, shown", [
    ("2030-02-28T17:30:00", False),  # 22:30 or later on 28 February in Almaty: not yet
    ("2030-02-28T20:30:00", True),   # past midnight in Almaty (still 28 February in UTC): from its first day
    ("2030-03-02T17:30:00", True),   # the evening of its last day
    ("2030-03-02T20:30:00", False),  # 3 March in Almaty: over
])
async def test_a_notice_is_shown_from_its_start_to_its_end_in_almaty(tiny_kb: TinyKB, store: Storage,
                                                                     moment: str, shown: bool) -> None:
    tiny_kb.write("notices.yaml", GOOD)
    knowledge = Knowledge.load(tiny_kb.directory)
    desk = desk_at(knowledge, store, utc(moment))
    eds, criminal = desk.entry("tiny-eds"), desk.entry("tiny-criminal")
    assert [n.id for n in desk.notices_for(eds)] == (["portal-works"] if shown else [])
    assert desk.notices_for(criminal) == ()  # another category, on another date
    assert [n.id for n in desk.active_notices()] == (["portal-works"] if shown else [])


async def test_the_local_date_follows_librarian_timezone(tiny_kb: TinyKB, store: Storage) -> None:
    tiny_kb.write("notices.yaml", GOOD)
    knowledge = Knowledge.load(tiny_kb.directory)
    moment = utc("2030-02-28T20:30:00")  # 1 March in Almaty, still 28 February in London
    assert local_date(moment) == dt.date(2030, 3, 1)
    london = LibrarianHours.parse("Mon-Fri 09:00-18:00", "Europe/London")
    assert desk_at(knowledge, store, moment, london).active_notices() == ()
    almaty = LibrarianHours.parse("Mon-Fri 09:00-18:00", "Asia/Almaty")
    assert [n.id for n in desk_at(knowledge, store, moment, almaty).active_notices()] == ["portal-works"]


async def test_a_category_notice_concerns_every_entry_of_the_category(tiny_kb: TinyKB, store: Storage) -> None:
    tiny_kb.write("notices.yaml", GOOD)
    desk = desk_at(Knowledge.load(tiny_kb.directory), store, utc("2030-03-15T06:00:00"))
    assert [n.id for n in desk.notices_for(desk.entry("tiny-criminal"))] == ["documents-change"]
    assert [n.id for n in desk.notices_for(desk.entry("tiny-address"))] == ["documents-change"]
    assert desk.notices_for(desk.entry("tiny-eds")) == ()


async def test_the_answer_carries_the_notices_of_its_entry(tiny_kb: TinyKB, store: Storage) -> None:
    tiny_kb.write("notices.yaml", GOOD)
    desk = desk_at(Knowledge.load(tiny_kb.directory), store, utc("2030-03-01T06:00:00"))
    citizen = await desk.citizen(Channel.CONSOLE, "t")
    answer = await desk.ask(citizen, "как получить эцп")
    assert isinstance(answer, Answer) and answer.entry.id == "tiny-eds"
    assert [n.id for n in answer.notices] == ["portal-works"]
    other = await desk.ask(citizen, "справка о несудимости")
    assert isinstance(other, Answer) and other.notices == ()


# --- the console --------------------------------------------------------------------------------------


async def chat(desk: HelpDesk, *lines: str) -> str:
    stdout = io.StringIO()
    console = Console(desk, stdin=io.StringIO("".join(f"{line}\n" for line in lines)), stdout=stdout,
                      user=lambda: "tester")
    await console.run()
    return stdout.getvalue()


async def test_the_console_shows_the_notice_under_the_answer_in_the_citizens_language(tiny_kb: TinyKB,
                                                                                      store: Storage) -> None:
    tiny_kb.write("notices.yaml", GOOD)
    desk = desk_at(Knowledge.load(tiny_kb.directory), store, utc("2030-03-01T06:00:00"))
    output = await chat(desk, "как получить эцп", "эцқ қалай алуға болады", "справка о несудимости")
    notice = desk.kb.notices[0]
    ru_block = render_entry(desk.entry("tiny-eds"), "ru", (notice,))
    kk_block = render_entry(desk.entry("tiny-eds"), "kk", (notice,))
    assert ru_block in output and kk_block in output
    assert ru_block.endswith("\n".join([locales.text("ru", "notice_header"),
                                        locales.text("ru", "notice_item", text=notice.text["ru"], ends="02.03.2030")]))
    assert "• Порталдағы жұмыстар туралы сынақ хабарландыруы. (02.03.2030 дейін" in kk_block
    assert output.count(locales.text("ru", "notice_header")) == 1  # not under the unconcerned answer
    assert output.count(locales.text("kk", "notice_header")) == 1


async def test_the_console_help_lists_active_notices_only(tiny_kb: TinyKB, store: Storage) -> None:
    tiny_kb.write("notices.yaml", GOOD)
    knowledge = Knowledge.load(tiny_kb.directory)
    during = await chat(desk_at(knowledge, store, utc("2030-03-01T06:00:00")), "/help")
    assert locales.text("ru", "help_notices") in during
    assert locales.text("ru", "help_notice_item", text=knowledge.kb.notices[0].text["ru"], starts="01.03.2030",
                        ends="02.03.2030") in during
    assert "Тестовое уведомление о справках" not in during  # the other notice starts later
    after = await chat(desk_at(knowledge, store, utc("2030-03-25T06:00:00")), "/help")
    assert locales.text("ru", "help") in after and locales.text("ru", "help_notices") not in after


def test_the_notice_wording_exists_in_every_language() -> None:
    for lang in locales.UI_LANGUAGES:
        assert {"notice_header", "notice_item", "help_notices", "help_notice_item"} <= locales.keys(lang)
    assert locales.text("kk", "notice_header") != locales.text("ru", "notice_header")
    assert answer_lines((), "ru") == [] and help_lines((), "kk") == []


# --- reload --------------------------------------------------------------------------------------------


async def test_reload_serves_changed_notices_and_refuses_a_broken_file(tiny_kb: TinyKB, store: Storage) -> None:
    tiny_kb.write("notices.yaml", GOOD)
    desk = desk_at(Knowledge.load(tiny_kb.directory), store, utc("2030-03-01T06:00:00"))
    assert [n.id for n in desk.active_notices()] == ["portal-works"]

    tiny_kb.write("notices.yaml", GOOD.replace("starts: 2030-03-10", "starts: 2030-02-25"))
    assert desk.reload_report().errors == []
    assert [n.id for n in desk.active_notices()] == ["portal-works", "documents-change"]

    before = desk.knowledge
    tiny_kb.write("notices.yaml", GOOD.replace("entries: [tiny-eds]", "entries: [tiny-gone]"))
    report = desk.reload_report()
    line = tiny_kb.line("notices.yaml", "tiny-gone")
    assert [str(p) for p in report.errors] == [
        f"{tiny_kb.shown('notices.yaml')}:{line}: error: notice portal-works: unknown entry 'tiny-gone' "
        f"(see the services/*.yaml files)"]
    assert desk.knowledge is before and len(desk.active_notices()) == 2  # the last good base keeps serving

    tiny_kb.write("notices.yaml", "notices:\n  - id: [broken\n")
    assert desk.reload_report().errors and desk.knowledge is before

    tiny_kb.path("notices.yaml").unlink()
    assert desk.reload_report().errors == [] and desk.active_notices() == ()
