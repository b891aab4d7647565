"""`egov-bot kb suggestions`: the wordings of tickets librarians answered with an entry, grouped by entry as
YAML for the entries' `questions`, with counts; what an entry already has or already answers is left out."""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml

from bot import cli
from bot.helpdesk import HelpDesk, Knowledge
from bot.knowledge import bundled_knowledge_dir, load_knowledge
from bot.storage import Storage

KNOWLEDGE = Knowledge(load_knowledge(bundled_knowledge_dir()))
ENTRY = KNOWLEDGE.kb.entry("criminal-record")
NEW_RU = "на работу требуют бумагу что меня не судили, где ее взять"
NEW_KK = "жұмысқа сотты болмағаным туралы қағаз сұрап жатыр"
ANSWERED = "справка о несудимости"  # the matcher answers it with criminal-record already
HAS = ENTRY.questions["ru"][0]      # the entry has it word for word


async def fill(url: str) -> None:
    store = Storage.from_url(url)
    await store.create_schema()
    desk = HelpDesk(KNOWLEDGE, store)
    answers = [(NEW_RU, "ru", "criminal-record"), ("На работу требуют бумагу, что меня не судили. Где её взять?", "ru",
                                                   "criminal-record"),
               (NEW_KK, "kk", "criminal-record"), (ANSWERED, "ru", "criminal-record"), (HAS.upper(), "ru", "criminal-record"),
               ("где посмотреть мой номер", "ru", "iin")]
    try:
        for n, (question, lang, entry_id) in enumerate(answers):
            citizen = await store.citizens.get("telegram", str(300 + n))
            ticket = (await desk.escalate(citizen, question, lang)).ticket
            result = await desk.answer_with(ticket.id, entry_id, "Гульнар", 7)
            assert result.refused is None, result
        citizen = await store.citizens.get("telegram", "399")  # an entry a later reload removed
        ticket = (await desk.escalate(citizen, "старый вопрос", "ru")).ticket
        await store.suggested.answer(ticket.id, "gone-entry", "старый вопрос", "ru", "…", "Гульнар")
    finally:
        await store.dispose()


def test_suggestions_are_grouped_by_entry_with_counts_and_skip_what_the_entry_knows(tmp_path: Path, capsys) -> None:
    assert KNOWLEDGE.matcher.match(ANSWERED).entry_id == "criminal-record"
    assert KNOWLEDGE.matcher.match(NEW_RU).action == "escalate"
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    asyncio.run(fill(url))
    capsys.readouterr()

    assert cli.main(["kb", "suggestions", "--database", url]) == 0

    out = capsys.readouterr().out
    assert yaml.safe_load(out) == {
        "criminal-record": {"questions": {"ru": [NEW_RU], "kk": [NEW_KK]}},
        "iin": {"questions": {"ru": ["где посмотреть мой номер"]}},
    }
    lines = out.splitlines()
    assert lines[0] == f"criminal-record:  # {ENTRY.title['ru']} ({ENTRY.path}:{ENTRY.line}); 3 answered"
    assert lines[1:5] == ["  questions:", "    ru:", f"      - {NEW_RU}  # 2", "    kk:"]
    assert lines[5] == f"      - {NEW_KK}  # 1"
    assert lines[6].startswith("iin:  # ") and lines[6].endswith("; 1 answered")
    assert "gone-entry" not in out and ANSWERED not in out and HAS not in out.lower()


def test_suggestions_of_an_empty_database(tmp_path: Path, capsys) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
    assert cli.main(["kb", "suggestions", "--database", url]) == 0
    assert capsys.readouterr().out == "# no suggested wordings yet\n"


def test_a_wording_that_yaml_would_misread_is_quoted() -> None:
    from bot.suggested import _scalar

    for text in ("эцп: не работает", "номер #12 не приходит", "- да", "yes", "123", '"цитата"', "[ИИН] не подходит"):
        assert yaml.safe_load(f"- {_scalar(text)}  # 1") == [text], text
    assert _scalar("где ее взять, справку") == "где ее взять, справку"
