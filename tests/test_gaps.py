"""Content gaps (bot.gaps, `egov-bot kb gaps`): groups of questions the bot did not answer well, ranked by
citizens, with the proposed action, on SQLite and PostgreSQL; the command's text, --json and --ignore."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml

from bot import cli
from bot.domain import Action, Direction, utcnow
from bot.gaps import content_gaps, group_key, ignore_gap
from bot.helpdesk import HelpDesk
from bot.storage import Storage

TRAIN = ("где купить билет на поезд в астану", "билет на поезд до астаны купить")
DOG = "оформить пособие на собаку в акимате"    # escalated; the matcher's best is disability, at 0.4
DOG_DECLINED = "как оформить пособие на собаку"  # offered disability and large-family-benefits: declined
PAPER = "на работу требуют бумагу что меня не судили, где ее взять"  # escalated; a librarian answers with criminal-record
CRIMINAL = "справка о несудимости"             # answered by the matcher
TRAIN_ANSWER = "Билеты на поезд продаёт перевозчик, на egov.kz их нет."
DOG_ANSWER = "Такого пособия нет; спросите в акимате о правилах содержания животных."


async def fill(store: Storage, knowledge) -> HelpDesk:
    desk = HelpDesk(knowledge, store)

    async def citizen(n: int):
        return await store.citizens.get("telegram", str(500 + n))

    train = []
    for n, question in enumerate((TRAIN[0], TRAIN[1], TRAIN[0])):  # three citizens
        reply = await desk.ask(await citizen(n), question)
        train.append(reply.ticket)
    await store.tickets.add_message(train[1].id, Direction.LIBRARIAN, TRAIN_ANSWER, author="Мария")
    dog_asker = await citizen(10)
    dog = (await desk.ask(dog_asker, DOG)).ticket
    await desk.ask(dog_asker, DOG)  # again, to the open ticket: one citizen, two messages
    await store.tickets.add_message(dog.id, Direction.LIBRARIAN, "Обратитесь в акимат.", author="Ержан")
    await store.tickets.close(dog.id, "Ержан")
    assert await store.tickets.rate(dog.id, dog_asker.id, 5)  # rated best, but not saved as a draft
    declined = (await desk.decline(await citizen(11), DOG_DECLINED, "ru")).ticket
    await store.tickets.add_message(declined.id, Direction.LIBRARIAN, DOG_ANSWER, author="Гульнар")
    await store.tickets.add_message(declined.id, Direction.LIBRARIAN, "Что-то ещё?", author="Гульнар")
    await store.insights.add_draft(declined.id, "Гульнар")  # saved for editors: the best answer
    for n in (20, 21):
        ticket = (await desk.ask(await citizen(n), PAPER)).ticket
        assert (await desk.answer_with(ticket.id, "criminal-record", "Мария", 7)).refused is None
    unhappy = await citizen(30)
    await desk.ask(unhappy, CRIMINAL)
    await desk.not_helpful(unhappy, "criminal-record", CRIMINAL, "ru")
    # Logged as escalated once, answered by today's knowledge base: done, not a gap.
    await store.insights.log_question((await citizen(31)).id, CRIMINAL, "ru", Action.ESCALATE, None, 0.2)
    await asyncio.sleep(0)
    return desk


async def test_groups_are_ranked_by_citizens_with_their_actions(any_store: Storage, knowledge) -> None:
    desk = await fill(any_store, knowledge)

    gaps = await content_gaps(desk, 30)

    assert [(g.citizens, g.messages) for g in gaps] == [(3, 3), (2, 3), (2, 2), (1, 1)]
    train, dog, paper, criminal = gaps
    assert train.examples == (TRAIN[0], TRAIN[1]) and train.sources == {"escalated": 3}
    assert train.action == "new-entry" and train.entry_id is None
    assert train.draft["answer"] == {"ru": TRAIN_ANSWER, "kk": "TODO"}
    assert train.draft["questions"] == {"ru": [TRAIN[0], TRAIN[1]], "kk": ["TODO"]}
    assert train.draft["id"] == f"gap-{train.key}" and "by Мария" in train.draft["source"]
    # The matcher's best for both dog wordings is disability, but the declining citizen refused it.
    assert dog.sources == {"escalated": 2, "declined": 1} and dog.action == "new-entry"
    assert dog.reason == "close to disability, but citizens of the group refused it"
    assert dog.draft["answer"]["ru"] == DOG_ANSWER and "by Гульнар" in dog.draft["source"]
    assert set(dog.examples) == {DOG, DOG_DECLINED}
    assert (paper.action, paper.entry_id, paper.examples) == ("add-wordings", "criminal-record", (PAPER,))
    assert paper.reason == "librarians answered 2 of these messages with it" and paper.draft is None
    assert criminal.sources == {"not-helpful": 1} and criminal.examples == (CRIMINAL,)
    assert criminal.reason == "close to no entry"  # a wording answered, but not helpfully: not a missed wording
    assert criminal.draft["answer"] == {"ru": "TODO", "kk": "TODO"}
    assert len({g.key for g in gaps}) == 4 and all(len(g.key) == 10 for g in gaps)
    assert [g.key for g in await content_gaps(desk, 30)] == [g.key for g in gaps]  # stable
    assert await content_gaps(desk, 30, limit=2) == gaps[:2]


async def test_a_group_close_to_an_entry_in_the_matcher_gets_its_wordings_added(any_store: Storage, knowledge) -> None:
    desk = HelpDesk(knowledge, any_store)
    for n in range(2):
        await desk.ask(await any_store.citizens.get("telegram", str(600 + n)), DOG)

    (gap,) = await content_gaps(desk, 30)

    assert (gap.citizens, gap.messages, gap.action, gap.entry_id) == (2, 2, "add-wordings", "disability")
    assert gap.reason == "the matcher's best candidate for 1 of 1 wordings, scoring at least 0.4"


async def test_an_ignored_group_and_similar_ones_stay_out(any_store: Storage, knowledge) -> None:
    desk = await fill(any_store, knowledge)
    train = (await content_gaps(desk, 30))[0]

    assert await ignore_gap(desk, train.key.upper(), 30) == ("ignored", train)
    assert await ignore_gap(desk, train.key, 30) == ("already", None)
    assert await ignore_gap(desk, "0" * 10, 30) == ("unknown", None)
    assert await ignore_gap(desk, "поезд", 30) == ("malformed", None)
    assert train.key not in [g.key for g in await content_gaps(desk, 30)]
    # Later the most asked wording is another one: the group's key changes, it stays out all the same.
    for n in range(5):
        await desk.ask(await any_store.citizens.get("telegram", str(700 + n)), "купить билет на поезд до астаны срочно")
    assert [g.citizens for g in await content_gaps(desk, 30)] == [2, 2, 1]
    assert await any_store.gaps.ignored() == {train.key: train.stems}


async def test_an_empty_database_has_no_gaps(any_store: Storage, knowledge) -> None:
    desk = HelpDesk(knowledge, any_store)
    assert await content_gaps(desk, 30) == []
    assert await any_store.gaps.signals(utcnow()) == []
    assert await any_store.gaps.answers([]) == []


def test_the_key_is_a_short_hash_of_the_stems() -> None:
    assert group_key("билет куп поезд") == group_key("билет куп поезд") != group_key("билет поезд")
    assert len(group_key("x")) == 10


# --- the command ----------------------------------------------------------------------------


@pytest.fixture
def filled_url(tmp_path: Path, knowledge) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gaps.sqlite3'}"

    async def make() -> None:
        store = Storage.from_url(url)
        await store.create_schema()
        try:
            await fill(store, knowledge)
        finally:
            await store.dispose()

    asyncio.run(make())
    return url


def test_the_command_prints_groups_examples_and_actions(filled_url: str, knowledge, capsys) -> None:
    assert cli.main(["kb", "gaps", "--database", filled_url]) == 0

    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "content gaps in the last 30 days: 4 groups, the most citizens first"
    key = lines[2].split("]")[0][1:]
    assert lines[2] == f"[{key}] 3 citizens, 3 messages (escalated 3)"
    assert lines[3:5] == [f"  - {TRAIN[0]}", f"  - {TRAIN[1]}"]
    assert lines[5] == "  action: new entry (close to no entry); draft:"
    assert any(line.endswith("] 1 citizen, 1 message (not-helpful 1)") for line in lines)
    draft = yaml.safe_load("\n".join(line[4:] for line in lines[6:lines.index("", 6)]))
    assert draft[0]["answer"]["ru"] == TRAIN_ANSWER and draft[0]["id"] == f"gap-{key}"
    entry = knowledge.kb.entry("criminal-record")
    assert (f"  action: add these wordings to criminal-record ({entry.title['ru']}, {entry.path}:{entry.line}): "
            "librarians answered 2 of these messages with it") in lines
    assert lines[-1] == "not for the knowledge base? egov-bot kb gaps --ignore KEY"


def test_the_command_prints_one_json_object_per_line(filled_url: str, capsys) -> None:
    assert cli.main(["kb", "gaps", "--json", "--days", "7", "--database", filled_url]) == 0

    groups = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(g["citizens"], g["messages"]) for g in groups] == [(3, 3), (2, 3), (2, 2), (1, 1)]
    assert set(groups[0]) == {"key", "citizens", "messages", "examples", "action", "entry_id", "entry_where", "draft",
                              "reason", "sources"}
    assert groups[0]["entry_where"] is None and "documents.yaml:" in groups[2]["entry_where"]
    assert groups[2]["action"] == "add-wordings" and groups[2]["entry_id"] == "criminal-record"
    assert groups[0]["draft"]["answer"]["ru"] == TRAIN_ANSWER


def test_the_command_ignores_a_group_and_refuses_an_unknown_key(filled_url: str, capsys) -> None:
    cli.main(["kb", "gaps", "--json", "--database", filled_url])
    first = json.loads(capsys.readouterr().out.splitlines()[0])

    assert cli.main(["kb", "gaps", "--ignore", first["key"], "--database", filled_url]) == 0
    assert capsys.readouterr().out == (f"{first['key']} ignored: it stays out of later lists "
                                       f"(3 citizens, e.g. {TRAIN[0]!r})\n")
    assert cli.main(["kb", "gaps", "--ignore", first["key"], "--database", filled_url]) == 0
    assert capsys.readouterr().out == f"{first['key']} is already ignored\n"
    assert cli.main(["kb", "gaps", "--ignore", "abcdef0123", "--database", filled_url]) == 2
    assert capsys.readouterr().err == ("egov-bot: no gap abcdef0123 in the last 30 days (egov-bot kb gaps lists "
                                       "them; --days looks further back)\n")
    assert cli.main(["kb", "gaps", "--ignore", "поезд", "--database", filled_url]) == 2
    assert "not a gap key" in capsys.readouterr().err
    cli.main(["kb", "gaps", "--json", "--database", filled_url])
    assert first["key"] not in capsys.readouterr().out


def test_the_command_on_an_empty_database_and_bad_days(tmp_path: Path, capsys) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
    assert cli.main(["kb", "gaps", "--database", url]) == 0
    assert capsys.readouterr().out == "no content gaps in the last 30 days\n"
    assert cli.main(["kb", "gaps", "--json", "--database", url]) == 0
    assert capsys.readouterr().out == ""
    assert cli.main(["kb", "gaps", "--days", "0", "--database", url]) == 2
    assert capsys.readouterr().err == "egov-bot: --days must be a positive number of days, not 0\n"
