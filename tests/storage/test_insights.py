"""bot.storage.insights: the question log, feedback and the figures of `egov-bot stats`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.domain import Channel, Action, utcnow
from bot.storage import Storage

from .helpers import sql


async def test_question_log(store: Storage, db_path: Path):
    assert await store.insights.count_questions() == 0
    citizen = await store.citizens.get(Channel.CONSOLE, "u")
    await store.insights.log_question(citizen.id, "как получить эцп", "ru", Action.ANSWER, "eds-obtain", 1.0)
    await store.insights.log_question(None, "справка", "ru", Action.CLARIFY, None, 0.7)
    assert await store.insights.count_questions() == 2
    rows = sql(db_path, "SELECT citizen_id, question, lang, decision, entry_id, score FROM questions ORDER BY id")
    assert rows == [(citizen.id, "как получить эцп", "ru", "answer", "eds-obtain", 1.0),
                    (None, "справка", "ru", "clarify", None, 0.7)]


async def test_stats_rows_and_purge(any_store: Storage) -> None:
    citizen = await any_store.citizens.get(Channel.TELEGRAM, "504")
    for decision in (Action.ANSWER, Action.ANSWER, Action.CLARIFY, Action.ESCALATE):
        await any_store.insights.log_question(citizen.id, f"q {decision}", "ru", decision, None, 0.5)
    await any_store.insights.add_feedback(citizen.id, "eds-obtain", True)
    raw = await any_store.insights.stats(utcnow() - dt.timedelta(days=1))
    assert raw.outcomes == {"answer": 2, "clarify": 1, "escalate": 1}
    assert raw.feedback == {True: 1}
    assert sorted(raw.unmatched) == ["q clarify", "q escalate"]
    assert await any_store.insights.purge_questions(utcnow() + dt.timedelta(seconds=1)) == 4
    assert await any_store.insights.count_questions() == 0
