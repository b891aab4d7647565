"""The question log as `egov-bot kb replay` reads it: each masked wording with the times it was asked."""

from __future__ import annotations

import datetime as dt

from bot.domain import utcnow
from test_replay import age_questions, log


async def test_the_log_gives_each_wording_with_its_count_since_a_moment(any_store):
    await log(any_store, {"как получить эцп": 2, "адресная справка": 3, "старый вопрос": 1})
    await age_questions(any_store, "старый вопрос", 40)
    since = utcnow() - dt.timedelta(days=30)
    assert await any_store.insights.logged_questions(since) == [("адресная справка", 3), ("как получить эцп", 2)]
    assert len(await any_store.insights.logged_questions(since - dt.timedelta(days=30))) == 3
