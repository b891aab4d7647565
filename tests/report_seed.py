"""A database as a busy library would have it, for the report's tests and benchmark: N days of questions
asked with the bundled knowledge base's own wordings, feedback, and tickets with replies, closings and ratings.

    await seed(url, questions=20_000, days=90)

Deterministic (one random.Random(seed)); rows are inserted in bulk, so 20,000 questions take a few seconds.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import insert

from bot.domain import TicketKind, TicketStatus, utcnow
from bot.knowledge import bundled_knowledge_dir, load_knowledge
from bot.storage import Storage
from bot.storage.schema import CitizenRow, FeedbackRow, QuestionRow, TicketRow

# What citizens ask that the knowledge base does not answer: a few wordings of each, so the gaps group them.
UNANSWERED = [
    ["курс доллара сегодня", "какой курс доллара", "курс доллара к тенге"],
    ["погода в караганде", "какая погода завтра в караганде"],
    ["как оформить субсидию на ипотеку", "субсидия на ипотеку для молодой семьи", "ипотечная субсидия как получить"],
    ["где купить билет на поезд", "билеты на поезд астана алматы"],
    ["как записаться к нотариусу онлайн", "запись к нотариусу через интернет"],
    ["несие бойынша көмек", "несие алу үшін не керек"],
    ["как вернуть деньги за коммунальные услуги", "перерасчёт за коммунальные услуги"],
]
CLARIFY = ["справка", "документы", "эцп", "пособие", "анықтама"]


def _moment(rng: random.Random, now: dt.datetime, days: int) -> dt.datetime:
    day = rng.randrange(days)
    weekday_quiet = 0.5 if (now - dt.timedelta(days=day)).weekday() >= 5 else 1.0
    if rng.random() > weekday_quiet:
        day = rng.randrange(days)
    return now - dt.timedelta(days=day, hours=rng.uniform(0, 24) if day else rng.uniform(0, 1))


async def seed(url: str, *, questions: int = 20_000, days: int = 90, citizens: int = 3_000, seed: int = 12,
               now: dt.datetime | None = None) -> Storage:
    """Create the schema at `url` and fill it; the store is returned open (the caller disposes it)."""
    rng = random.Random(seed)
    now = now or utcnow()
    kb = load_knowledge(bundled_knowledge_dir())
    entries = list(kb.entries)
    weights = [1 / (rank + 1) for rank in range(len(entries))]  # a few entries are asked most
    store = Storage.from_url(url)
    await store.create_schema()
    async with store.database.sessions.begin() as session:
        await session.execute(insert(CitizenRow), [
            {"id": n, "channel": "telegram", "external_id": str(10_000 + n), "language": "ru", "created_at": now}
            for n in range(1, citizens + 1)])
        rows, feedback, tickets = [], [], []
        for _ in range(questions):
            moment, citizen = _moment(rng, now, days), rng.randint(1, citizens)
            roll = rng.random()
            if roll < 0.68:
                entry = rng.choices(entries, weights)[0]
                lang = "kk" if rng.random() < 0.25 and entry.questions.get("kk") else "ru"
                rows.append({"citizen_id": citizen, "question": rng.choice(entry.questions[lang]), "lang": lang,
                             "decision": "answer", "entry_id": entry.id, "score": 0.9, "created_at": moment})
                if rng.random() < 0.12:
                    helpful = rng.random() < (0.55 if entries.index(entry) % 7 == 3 else 0.85)
                    feedback.append({"citizen_id": citizen, "entry_id": entry.id, "helpful": helpful,
                                     "created_at": moment + dt.timedelta(minutes=1)})
            elif roll < 0.80:
                question = rng.choice(CLARIFY)
                rows.append({"citizen_id": citizen, "question": question, "lang": "kk" if question == "анықтама" else "ru",
                             "decision": "clarify", "entry_id": None, "score": 0.5, "created_at": moment})
            else:
                group = rng.choices(UNANSWERED, [9, 4, 6, 3, 2, 2, 3])[0]
                question = rng.choice(group)
                lang = "kk" if question.startswith("несие") else "ru"
                rows.append({"citizen_id": citizen, "question": question, "lang": lang, "decision": "escalate",
                             "entry_id": None, "score": 0.1, "created_at": moment})
                if rng.random() < 0.4:
                    tickets.append(_ticket(rng, citizen, question, lang, moment, now))
        await session.execute(insert(QuestionRow), rows)
        if feedback:
            await session.execute(insert(FeedbackRow), feedback)
        if tickets:
            await session.execute(insert(TicketRow), tickets)
    return store


def _ticket(rng: random.Random, citizen: int, question: str, lang: str, moment: dt.datetime, now: dt.datetime) -> dict:
    first = moment + dt.timedelta(minutes=rng.expovariate(1 / 40))
    closed = first + dt.timedelta(minutes=rng.expovariate(1 / 90))
    done = closed < now and rng.random() < 0.9
    return {"citizen_id": citizen, "status": str(TicketStatus.CLOSED if done else TicketStatus.TAKEN),
            "kind": str(TicketKind.UNMATCHED), "lang": lang, "question": question, "created_at": moment,
            "first_reply_at": first if first < now else None, "closed_at": closed if done else None,
            "taken_by": "Гульнар", "rating": rng.choice([5, 5, 5, 4, 4, 3, 2]) if done and rng.random() < 0.5 else None}
