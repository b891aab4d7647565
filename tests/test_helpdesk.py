"""bot.helpdesk: what the bot does with a message (answer, clarify, escalate, small talk) and reload."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bot.domain import Citizen
from bot.helpdesk import Answer, Clarify, Escalated, HelpDesk, Knowledge, SmallTalk
from bot.matching import Matcher
from bot.storage import Storage
from conftest import TINY_SERVICES, TinyKB

UNRELATED_RU = "рецепт бешбармака по домашнему"
UNRELATED_KK = "бүгін ауа райы қандай"


@pytest.fixture
def helpdesk(knowledge: Knowledge, store: Storage) -> HelpDesk:
    return HelpDesk(knowledge, store)


@pytest.fixture
async def citizen(store: Storage) -> Citizen:
    return await store.citizens.get("console", "tester")


async def test_answer(helpdesk: HelpDesk, citizen: Citizen, store: Storage):
    reply = await helpdesk.ask(citizen, "как получить эцп")
    assert isinstance(reply, Answer)
    assert reply.entry.id == "eds-obtain"
    assert reply.lang == "ru"
    assert reply.decision.entry_id == "eds-obtain"
    assert await store.tickets.queue() == []


async def test_answer_in_kazakh(helpdesk: HelpDesk, citizen: Citizen):
    reply = await helpdesk.ask(citizen, "электрондық цифрлық қолтаңба алу")
    assert isinstance(reply, Answer)
    assert (reply.entry.id, reply.lang) == ("eds-obtain", "kk")


async def test_greeting_with_a_question_is_a_question(helpdesk: HelpDesk, citizen: Citizen):
    reply = await helpdesk.ask(citizen, "Здравствуйте! Как получить ЭЦП?")
    assert isinstance(reply, Answer)
    assert reply.entry.id == "eds-obtain"


async def test_clarify(helpdesk: HelpDesk, citizen: Citizen, store: Storage):
    reply = await helpdesk.ask(citizen, "справка")
    assert isinstance(reply, Clarify)
    assert 2 <= len(reply.options) <= 3
    assert [e.id for e in reply.options] == [c.id for c in reply.decision.candidates]
    assert {"address-certificate", "criminal-record"} <= {e.id for e in reply.options}
    assert await store.tickets.queue() == []  # a choice is offered, nobody is bothered yet


@pytest.mark.parametrize(("question", "lang"), [(UNRELATED_RU, "ru"), (UNRELATED_KK, "kk")], ids=["ru", "kk"])
async def test_escalation_stores_a_ticket(helpdesk: HelpDesk, matcher: Matcher, citizen: Citizen,
                                          store: Storage, question: str, lang: str):
    reply = await helpdesk.ask(citizen, question)
    assert isinstance(reply, Escalated)
    assert reply.lang == lang
    expected_candidates = [{"id": c.id, "score": round(c.score, 3)} for c in matcher.match(question).candidates]
    [ticket] = await store.tickets.queue()
    assert ticket == reply.ticket
    assert (ticket.citizen_id, ticket.question, ticket.lang, ticket.kind, ticket.status) == (
        citizen.id, question, lang, "unmatched", "open")
    assert ticket.candidates == expected_candidates


async def test_escalate_directly_keeps_candidates(helpdesk: HelpDesk, citizen: Citizen, store: Storage):
    candidates = [{"id": "eds-obtain", "score": 0.5}, {"id": "eds-renew", "score": 0.45}]
    reply = await helpdesk.escalate(citizen, "эцп не работает", "ru", kind="declined", candidates=candidates)
    stored = await store.tickets.get(reply.ticket.id)
    assert (stored.kind, stored.candidates, stored.question) == ("declined", candidates, "эцп не работает")


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("здравствуйте", "greeting"),
        ("Привет!", "greeting"),
        ("добрый день", "greeting"),
        ("сәлеметсіз бе", "greeting"),
        ("рахмет", "thanks"),
        ("спасибо большое", "thanks"),
        ("ок", "thanks"),
        ("", "no-words"),
        ("   ", "no-words"),
        ("🙂🙂", "no-words"),
        ("?!", "no-words"),
    ],
    ids=["zdravstvuyte", "privet", "dobryi-den", "salemetsiz-be", "rakhmet", "spasibo", "ok",
         "empty", "spaces", "emoji", "punctuation"],
)
async def test_small_talk_creates_no_ticket(helpdesk: HelpDesk, citizen: Citizen, store: Storage,
                                            message: str, kind: str):
    reply = await helpdesk.ask(citizen, message)
    assert isinstance(reply, SmallTalk)
    assert reply.kind == kind
    assert reply.lang in ("ru", "kk")
    assert await store.tickets.queue() == []
    assert await store.insights.count_questions() == 0


async def test_small_talk_in_kazakh_is_answered_in_kazakh(helpdesk: HelpDesk, citizen: Citizen):
    reply = await helpdesk.ask(citizen, "сәлем")
    assert isinstance(reply, SmallTalk) and reply.lang == "kk"


async def test_questions_are_logged(helpdesk: HelpDesk, citizen: Citizen, store: Storage, db_path: Path):
    for message in ("как получить эцп", "справка", UNRELATED_RU, "здравствуйте", ""):
        await helpdesk.ask(citizen, message)
    assert await store.insights.count_questions() == 3  # small talk is not logged
    with closing(sqlite3.connect(db_path)) as connection:
        rows = connection.execute("SELECT citizen_id, question, decision, entry_id FROM questions ORDER BY id").fetchall()
    assert rows == [
        (citizen.id, "как получить эцп", "answer", "eds-obtain"),
        (citizen.id, "справка", "clarify", None),
        (citizen.id, UNRELATED_RU, "escalate", None),
    ]


async def test_entry_lookup(helpdesk: HelpDesk):
    assert helpdesk.entry("iin").id == "iin"
    assert helpdesk.entry("no-such-entry") is None


# --- reload -----------------------------------------------------------------------------------


@pytest.fixture
def tiny_desk(tiny_kb: TinyKB, store: Storage) -> HelpDesk:
    return HelpDesk(Knowledge.load(tiny_kb.directory), store)


async def test_reload_with_a_broken_knowledge_base_keeps_the_old_one(tiny_desk: HelpDesk, tiny_kb: TinyKB,
                                                                     citizen: Citizen):
    before = tiny_desk.knowledge
    tiny_kb.replace("services/x.yaml", "category: eds", "category: edss")
    problems = tiny_desk.reload()
    assert problems, "a broken knowledge base must be reported"
    assert all(p.severity == "error" for p in problems)
    assert any(p.path == "knowledge/services/x.yaml" and "unknown category 'edss'" in p.message for p in problems)
    assert tiny_desk.knowledge is before
    reply = await tiny_desk.ask(citizen, "как получить эцп")
    assert isinstance(reply, Answer) and reply.entry.id == "tiny-eds"


async def test_reload_picks_up_changes(tiny_desk: HelpDesk, tiny_kb: TinyKB, citizen: Citizen):
    before = tiny_desk.knowledge
    tiny_kb.replace("services/x.yaml", "Получите ЭЦП онлайн на pki.gov.kz с биометрией.", "Новый текст ответа.")
    assert tiny_desk.reload() == []
    assert tiny_desk.knowledge is not before
    reply = await tiny_desk.ask(citizen, "как получить эцп")
    assert isinstance(reply, Answer) and reply.entry.answer["ru"] == "Новый текст ответа."


async def test_reload_from_another_directory(tiny_desk: HelpDesk, make_kb, tmp_path: Path):
    other = make_kb(tmp_path, name="other", services={"x.yaml": TINY_SERVICES.split("\n- id: tiny-criminal")[0]})
    assert tiny_desk.reload(other.directory) == []
    assert [e.id for e in tiny_desk.knowledge.kb.entries] == ["tiny-eds"]


async def test_reload_from_a_missing_directory(tiny_desk: HelpDesk, tmp_path: Path):
    before = tiny_desk.knowledge
    problems = tiny_desk.reload(tmp_path / "missing")
    assert [p.message for p in problems] == ["the knowledge directory does not exist"]
    assert tiny_desk.knowledge is before


# --- what people write that is not a question: never a ticket, always the reply it calls for -------------

NOT_QUESTIONS = [
    # thanks and acknowledgements -> "you're welcome, ask anything else"
    ("большое спасибо за помощь", "thanks", "ru"), ("спасибо вам", "thanks", "ru"), ("Спасибо!", "thanks", "ru"),
    ("спс", "thanks", "ru"), ("благодарю", "thanks", "ru"), ("ок", "thanks", "ru"), ("Ok", "thanks", "ru"),
    ("понятно", "thanks", "ru"), ("ясно, спасибо", "thanks", "ru"), ("хорошо", "thanks", "ru"),
    ("понял, спасибо большое", "thanks", "ru"), ("spasibo", "thanks", "ru"), ("👍", "thanks", "ru"),
    ("🙏", "thanks", "ru"), ("🙏🙏🙏", "thanks", "ru"), ("рахмет сізге", "thanks", "kk"), ("рақмет", "thanks", "kk"),
    ("рахмет", "thanks", "kk"), ("көп рахмет", "thanks", "kk"), ("коп рахмет", "thanks", "kk"),
    ("түсіндім", "thanks", "kk"), ("тусиндим", "thanks", "kk"), ("жақсы", "thanks", "kk"), ("жаксы", "thanks", "kk"),
    ("түсінікті, рахмет", "thanks", "kk"), ("rahmet", "thanks", "kk"), ("thank you very much", "thanks", None),
    ("thanks", "thanks", None),
    # greeting plus intent -> "please write your question", with two examples
    ("Здравствуйте, у меня вопрос", "greeting", "ru"), ("здравствуйте", "greeting", "ru"),
    ("мне нужна помощь", "greeting", "ru"), ("помогите пожалуйста", "greeting", "ru"), ("алло", "greeting", "ru"),
    ("добрый день, можно вопрос?", "greeting", "ru"), ("привет, хочу спросить", "greeting", "ru"),
    ("zdravstvuite u menya vopros", "greeting", "ru"),
    ("Сәлеметсіз бе, менің сұрағым бар", "greeting", "kk"), ("салеметсиз бе менин сурагым бар", "greeting", "kk"),
    ("сәлем", "greeting", "kk"), ("көмек керек", "greeting", "kk"), ("комек керек", "greeting", "kk"),
    ("hello, I have a question", "greeting", None), ("hi", "greeting", None),
    # bare digits without a rating prompt -> a hint
    ("3", "digits", "ru"), ("12", "digits", "ru"), ("0", "digits", "ru"),
    # nothing to read
    ("", "no-words", "ru"), ("?!", "no-words", "ru"),
]


@pytest.mark.parametrize(("message", "kind", "lang"), NOT_QUESTIONS, ids=[m or "empty" for m, _, _ in NOT_QUESTIONS])
async def test_what_is_not_a_question_gets_its_own_reply(helpdesk: HelpDesk, citizen: Citizen, store: Storage,
                                                         message: str, kind: str, lang: str | None):
    reply = await helpdesk.ask(citizen, message)
    assert isinstance(reply, SmallTalk), reply
    assert reply.kind == kind
    if lang is not None:
        assert reply.lang == lang
    assert await store.tickets.queue() == []
    assert await store.insights.count_questions() == 0


async def test_not_questions_with_an_open_ticket_do_not_join_it(helpdesk: HelpDesk, citizen: Citizen, store: Storage):
    ticket = (await helpdesk.ask(citizen, UNRELATED_RU)).ticket
    for message in ("спасибо", "Здравствуйте, у меня вопрос", "3", "👍"):
        assert isinstance(await helpdesk.ask(citizen, message), SmallTalk)
    assert await store.tickets.messages(ticket.id) == []


async def test_a_question_after_thanks_is_answered(helpdesk: HelpDesk, citizen: Citizen):
    await helpdesk.ask(citizen, "спасибо")
    reply = await helpdesk.ask(citizen, "как получить эцп")
    assert isinstance(reply, Answer) and reply.entry.id == "eds-obtain"


async def test_a_bare_digit_rates_the_ticket_whose_prompt_is_open(helpdesk: HelpDesk, citizen: Citizen,
                                                                  store: Storage):
    from bot.helpdesk import Rated

    ticket = (await helpdesk.ask(citizen, UNRELATED_RU)).ticket
    await store.tickets.close(ticket.id, "Мария")
    assert isinstance(await helpdesk.ask(citizen, "4"), SmallTalk)  # the prompt is not sent yet
    await store.outbox.claim_notice(ticket.id)  # sent
    reply = await helpdesk.ask(citizen, "4")
    assert reply == Rated(ticket.id, 4, "ru")
    assert (await store.tickets.get(ticket.id)).rating == 4
    assert isinstance(await helpdesk.ask(citizen, "5"), SmallTalk)  # rated already
    assert isinstance(await helpdesk.ask(citizen, "7"), SmallTalk)


async def test_a_question_without_decisive_words_is_answered_in_the_interface_language(
        helpdesk: HelpDesk, store: Storage):
    kazakh = await store.citizens.get("telegram", "77", language="kk")
    russian = await store.citizens.get("telegram", "78", language="ru")
    assert (await helpdesk.ask(kazakh, "эцп")).lang == "kk"
    assert (await helpdesk.ask(russian, "эцп")).lang == "ru"
    assert (await helpdesk.ask(russian, "эцқ қалай алуға болады")).lang == "kk"  # the question shows its language
