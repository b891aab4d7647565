"""egov-bot kb replay: the same questions through the current knowledge base and an edited copy, and what
would change (bot.replay), the question log it replays (Insights.logged_questions) and the command end to end."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.domain import Action, utcnow
from bot.knowledge import load_knowledge
from bot.matching import Matcher
from bot.replay import EXAMPLES, Kind, Outcome, counted, replay
from bot.storage.schema import QuestionRow
from conftest import TINY_SERVICES, make_kb
from test_cli import assert_one_line_error, egov_bot

PENSION = """
- id: tiny-pension
  category: documents
  title:
    ru: Пенсионные накопления
    kk: Зейнетақы жинақтары
  questions:
    ru:
      - пенсионные накопления
      - как узнать остаток пенсионных накоплений
      - выписка из енпф
      - сколько денег на пенсионном счете
      - проверить пенсионные отчисления
    kk:
      - зейнетақы жинақтары
      - зейнетақы жинағымды қалай білемін
      - бжзқ үзінді көшірмесі
  answer:
    ru: Выписку о пенсионных накоплениях закажите на egov.kz.
    kk: Зейнетақы жинақтары туралы үзіндіні egov.kz сайтынан алыңыз.
  links:
    - title: "egov.kz"
      url: https://egov.kz/cms/ru
  source: "egov.kz (test)"
  reviewed: {REVIEWED}
"""
# The edited copy: the ЭЦП entry taken out, the address entry renamed, a pension entry added.
EDITED = TINY_SERVICES[TINY_SERVICES.index("- id: tiny-criminal"):].replace("id: tiny-address", "id: tiny-residence") + PENSION
ONLY_ADDED = TINY_SERVICES + PENSION  # nothing answered changes: a new entry only

ASKED = {  # wording: times asked
    "как получить эцп": 3,                 # tiny-eds -> librarian
    "где взять электронную цифровую подпись": 1,
    "справка о несудимости": 4,            # kept
    "адресная справка": 2,                 # tiny-address -> tiny-residence
    "пенсионные накопления": 1,            # librarian -> tiny-pension
    "справка": 1,                          # a choice with other options
    "погода в астане": 2,                  # kept: a librarian's
}


@pytest.fixture
def bases(tmp_path: Path):
    current = make_kb(tmp_path, name="knowledge")
    edited = make_kb(tmp_path, name="edited", services={"x.yaml": EDITED})
    added = make_kb(tmp_path, name="added", services={"x.yaml": ONLY_ADDED})
    return current.directory, edited.directory, added.directory


def matcher_of(directory: Path) -> Matcher:
    return Matcher(load_knowledge(directory))


# --- the core -----------------------------------------------------------------------------


def test_each_kind_of_change_is_counted_with_its_wordings_and_the_risky_ones_come_first(bases):
    current, edited, _ = bases
    result = replay(matcher_of(current), matcher_of(edited), list(ASKED.items()))
    assert (result.total, result.unchanged, result.changed) == (14, 6, 8)
    groups = {group.name: group for group in result.groups}
    assert set(groups) == {"answered -> librarian", "tiny-address -> tiny-residence", "librarian -> answered",
                           "choice -> other choice"}
    assert [g.name for g in result.groups[:2]] == ["answered -> librarian", "tiny-address -> tiny-residence"]
    lost = groups["answered -> librarian"]
    assert (lost.count, lost.risky, lost.before, lost.after) == (4, True, Kind.ANSWERED, Kind.LIBRARIAN)
    assert [(e.question, e.count) for e in lost.examples] == [("как получить эцп", 3),
                                                               ("где взять электронную цифровую подпись", 1)]
    assert lost.examples[0].before == Outcome(Kind.ANSWERED, "tiny-eds")
    assert lost.examples[0].after == Outcome(Kind.LIBRARIAN)
    moved = groups["tiny-address -> tiny-residence"]
    assert (moved.count, moved.risky) == (2, True)
    gained = groups["librarian -> answered"]
    assert (gained.count, gained.risky, str(gained.examples[0].after)) == (1, False, "tiny-pension")
    choice = groups["choice -> other choice"]
    assert not choice.risky
    assert str(choice.examples[0].before) == "choice of tiny-criminal, tiny-address"
    assert str(choice.examples[0].after) == "choice of tiny-criminal, tiny-residence"
    assert result.risky == 6


def test_an_unchanged_copy_keeps_every_outcome_and_a_new_entry_risks_nothing(bases):
    current, _, added = bases
    same = replay(matcher_of(current), matcher_of(current), list(ASKED.items()))
    assert (same.total, same.unchanged, same.groups, same.risky) == (14, 14, [], 0)
    more = replay(matcher_of(current), matcher_of(added), list(ASKED.items()))
    assert [(g.name, g.count) for g in more.groups] == [("librarian -> answered", 1)] and more.risky == 0


def test_a_change_shows_at_most_five_wordings_the_most_asked_first(bases):
    current, edited, _ = bases
    wordings = [(f"как получить эцп {'очень ' * n}срочно", n + 1) for n in range(8)]
    result = replay(matcher_of(current), matcher_of(edited), wordings)
    (group,) = result.groups
    assert group.name == "answered -> librarian" and group.count == sum(range(1, 9))
    assert len(group.examples) == EXAMPLES
    assert [e.count for e in group.examples] == [8, 7, 6, 5, 4]


def test_questions_are_counted_by_wording_blank_ones_left_out():
    assert counted(["b", "a", "b", " ", "c", "b", "a"]) == [("b", 3), ("a", 2), ("c", 1)]


# --- the question log (its query is tested in tests/storage/test_replay_log.py) ----------------


async def age_questions(store, wording: str, days: int) -> None:
    async with store.database.sessions.begin() as session:
        await session.execute(update(QuestionRow).where(QuestionRow.question == wording)
                              .values(created_at=utcnow() - dt.timedelta(days=days)))


async def log(store, asked: dict[str, int]) -> None:
    for wording, times in asked.items():
        for _ in range(times):
            await store.insights.log_question(None, wording, "ru", Action.ESCALATE, None, 0.0)


# --- the command end to end ------------------------------------------------------------------


async def test_the_command_replays_the_log_and_strict_fails_on_lost_answers(any_store, bases, tmp_path: Path):
    current, edited, added = bases
    await log(any_store, ASKED | {"выпуск эцп для физического лица": 5})
    await age_questions(any_store, "выпуск эцп для физического лица", 40)
    common = ("kb", "replay", "--knowledge", str(current), "--database", any_store.url)
    result = egov_bot(*common, "--against", str(edited), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"replayed 14 questions logged in the last 30 days through the current knowledge base and {edited}"
    assert lines[1] == "keep their outcome: 6 of 14 (43%)"
    assert lines[2] == "would change: 8 (answered questions at risk: 6)"
    assert "answered -> librarian: 4  [!]" in lines
    assert "    'как получить эцп' (asked 3 times): tiny-eds -> librarian" in lines
    assert "tiny-address -> tiny-residence: 2  [!]" in lines
    assert "librarian -> answered: 1" in lines
    assert "    'пенсионные накопления': librarian -> tiny-pension" in lines

    strict = egov_bot(*common, "--against", str(edited), "--strict", "--days", "30", cwd=tmp_path)
    assert strict.returncode == 1, strict.stderr
    assert strict.stdout.splitlines()[-1] == "FAIL: 6 answered questions would go to a librarian or to another entry"
    assert egov_bot(*common, "--against", str(added), "--strict", cwd=tmp_path).returncode == 0
    assert egov_bot(*common, "--against", str(current), "--strict", cwd=tmp_path).returncode == 0

    longer = egov_bot(*common, "--against", str(edited), "--days", "41", cwd=tmp_path)
    assert longer.stdout.splitlines()[0].startswith("replayed 19 questions logged in the last 41 days")
    assert "    'выпуск эцп для физического лица' (asked 5 times): tiny-eds -> librarian" in longer.stdout.splitlines()


def test_an_empty_log_has_nothing_to_replay(bases, tmp_path: Path):
    current, edited, _ = bases
    result = egov_bot("kb", "replay", "--knowledge", str(current), "--against", str(edited), "--strict",
                      "--database", f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "no questions logged in the last 30 days: nothing to replay\n")


def test_the_questions_of_a_file_are_replayed_instead_of_the_log(bases, tmp_path: Path):
    current, edited, added = bases
    questions = tmp_path / "questions.yaml"
    questions.write_text('- {q: "как получить эцп", expect: tiny-eds, kind: short}\n- q: пенсионные накопления\n'
                         "- {q: справка о несудимости}\n", encoding="utf-8")
    common = ("kb", "replay", "--knowledge", str(current), "--questions", str(questions),
              "--database", "nosuchdb://never-opened")  # the log is not read
    result = egov_bot(*common, "--against", str(edited), "--strict", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[:3] == [
        f"replayed 3 questions of {questions} through the current knowledge base and {edited}",
        "keep their outcome: 1 of 3 (33%)", "would change: 2 (answered questions at risk: 1)"]
    assert egov_bot(*common, "--against", str(added), "--strict", cwd=tmp_path).returncode == 0
    questions.write_text("- {expect: tiny-eds}\n", encoding="utf-8")
    line = assert_one_line_error(egov_bot(*common, "--against", str(added), cwd=tmp_path))
    assert line == f"egov-bot: {questions}: expected a list of {{q: question}}"


def test_a_broken_copy_shows_its_errors_with_file_and_line_and_exits_2(bases, tmp_path: Path):
    current, _, _ = bases
    broken = make_kb(tmp_path, name="broken")
    broken.replace("services/x.yaml", "category: documents", "category: nosuch")
    broken.replace("services/x.yaml", "    ru: Адресная справка", "    ru: ''")
    result = egov_bot("kb", "replay", "--knowledge", str(current), "--against", str(broken.directory),
                      "--database", f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.splitlines()
    category = broken.line("services/x.yaml", "category: nosuch")
    assert lines[0] == f"{broken.shown('services/x.yaml')}:{category}: error: entry tiny-criminal: unknown category 'nosuch' (see categories.yaml)"
    assert any(line.startswith(f"{broken.shown('services/x.yaml')}:") and "tiny-address" in line for line in lines[1:-1])
    assert lines[-1].startswith(f"egov-bot: the knowledge base in {broken.directory} does not load: {len(lines) - 1} errors")
    missing = assert_one_line_error(egov_bot("kb", "replay", "--knowledge", str(current), "--against",
                                             str(tmp_path / "nowhere"), cwd=tmp_path))
    assert missing == f"egov-bot: knowledge directory not found: {tmp_path / 'nowhere'}"
    days = assert_one_line_error(egov_bot("kb", "replay", "--against", str(current), "--days", "0", cwd=tmp_path))
    assert days == "egov-bot: --days must be a positive number of days"
