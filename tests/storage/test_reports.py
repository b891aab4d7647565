"""bot.storage.reports: the report's figures grouped in SQL by local day, outcome, language and entry."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert

from bot.domain import Channel
from bot.storage import Storage
from bot.storage.schema import FeedbackRow, QuestionRow, TicketRow

D = dt.datetime(2026, 11, 10)  # naive UTC, as the rows store it


async def _fill(store: Storage) -> int:
    citizen = (await store.citizens.get(Channel.TELEGRAM, "77")).id
    questions = [  # (created_at, lang, decision, entry)
        (D + dt.timedelta(hours=3), "ru", "answer", "eds-obtain"),
        (D + dt.timedelta(hours=4), "ru", "answer", "eds-obtain"),
        (D + dt.timedelta(hours=5), "kk", "answer", "id-card"),
        (D + dt.timedelta(hours=6), "ru", "clarify", None),
        (D + dt.timedelta(hours=20), "ru", "escalate", None),  # 01:00 the next day at UTC+5
        (D - dt.timedelta(days=5), "ru", "answer", "old-entry"),  # before the period
    ]
    async with store.database.sessions.begin() as session:
        await session.execute(insert(QuestionRow), [
            {"citizen_id": citizen, "question": f"вопрос {n}", "lang": lang, "decision": decision, "entry_id": entry,
             "score": 0.5, "created_at": moment} for n, (moment, lang, decision, entry) in enumerate(questions)])
        await session.execute(insert(FeedbackRow), [
            {"citizen_id": citizen, "entry_id": entry, "helpful": helpful, "created_at": D + dt.timedelta(hours=7)}
            for entry, helpful in (("eds-obtain", True), ("eds-obtain", False), ("id-card", False), ("id-card", False))])
        await session.execute(insert(TicketRow), [
            {"citizen_id": citizen, "question": "q", "status": status, "rating": rating, "created_at": moment}
            for status, rating, moment in (("closed", 5, D + dt.timedelta(hours=1)), ("closed", 4, D + dt.timedelta(hours=21)),
                                           ("open", None, D + dt.timedelta(hours=22)),
                                           ("withdrawn", None, D + dt.timedelta(hours=2)))])
    return citizen


async def test_questions_by_local_day_and_outcome(any_store: Storage) -> None:
    await _fill(any_store)
    since = D - dt.timedelta(days=1)
    day, next_day = D.date(), D.date() + dt.timedelta(days=1)
    assert await any_store.reports.questions_by_day(since) == [
        (day, "answer", 3), (day, "clarify", 1), (day, "escalate", 1)]
    assert await any_store.reports.questions_by_day(since, offset=300) == [
        (day, "answer", 3), (day, "clarify", 1), (next_day, "escalate", 1)]
    assert sorted(await any_store.reports.questions_by_language(since)) == [
        ("kk", "answer", 1), ("ru", "answer", 2), ("ru", "clarify", 1), ("ru", "escalate", 1)]


async def test_entries_feedback_tickets_and_ratings(any_store: Storage) -> None:
    await _fill(any_store)
    since = D - dt.timedelta(days=1)
    assert await any_store.reports.answered_entries(since) == [("eds-obtain", 2), ("id-card", 1)]
    assert await any_store.reports.answered_entries(D - dt.timedelta(days=10)) == [
        ("eds-obtain", 2), ("id-card", 1), ("old-entry", 1)]
    assert await any_store.reports.feedback_by_entry(since) == [("id-card", 0, 2), ("eds-obtain", 1, 1)]
    day = D.date()
    assert await any_store.reports.tickets_by_day(since) == [(day, 3)]  # the withdrawn one left out
    assert await any_store.reports.tickets_by_day(since, offset=300) == [(day, 1), (day + dt.timedelta(days=1), 2)]
    assert await any_store.reports.ratings(since) == {5: 1, 4: 1}


async def test_an_empty_database(any_store: Storage) -> None:
    since = D - dt.timedelta(days=30)
    reports = any_store.reports
    assert await reports.questions_by_day(since) == [] and await reports.questions_by_language(since) == []
    assert await reports.answered_entries(since) == [] and await reports.feedback_by_entry(since) == []
    assert await reports.tickets_by_day(since) == [] and await reports.ratings(since) == {}
