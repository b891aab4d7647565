"""Fixtures of the offline Telegram handler tests: see harness.py for the fake Bot API and the harness.

This folder is a package (telegram_ui), so this conftest does not take the module name `conftest` from
tests/conftest.py, which test_cli.py, test_helpdesk.py and test_knowledge.py import by that name; and its
name does not shadow python-telegram-bot's `telegram`. The shared fixtures of tests/conftest.py (knowledge,
postgres, ...) apply here too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import Settings
from bot.helpdesk import HelpDesk, Knowledge
from bot.places import load_access_points
from bot.telegram_ui.application import build_application
from bot.storage import Storage

from .harness import ENV, TG, RecordingRequest



@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 issues a PTBDeprecationWarning whenever an int-or-timedelta value is read, and RetryAfter reads
    # its own retry_after in __init__: with filterwarnings=error every 429 would surface as that warning.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def settings() -> Settings:
    return Settings.from_env(dict(ENV), env_file=None)


@pytest.fixture(scope="session")
def access_points() -> list:
    return load_access_points()


@pytest.fixture
async def make_tg(tmp_path: Path, knowledge: Knowledge, access_points: list):
    """make_tg(settings=None, hours=None, clock=None, database="tg", timers=None): a started harness; shut down after the test."""
    built: list[TG] = []

    async def make(settings: Settings | None = None, *, hours=None, clock: Callable[[], dt.datetime] | None = None,
                   database: str = "tg", database_url: str = "", timers=None) -> TG:
        settings = settings or Settings.from_env(dict(ENV), env_file=None)
        db_path = tmp_path / f"{database}.sqlite3"
        database_url = database_url or f"sqlite+aiosqlite:///{db_path}"
        store = Storage.from_url(database_url)
        extra = {"clock": clock} if clock else {}
        if timers is not None:  # bot.reminders.Timers: reminders and the digest (off unless given)
            extra["timers"] = timers
        helpdesk = HelpDesk(Knowledge(knowledge.kb, access_points, knowledge.matcher), store, hours=hours, **extra)  # hours=None: always open
        request = RecordingRequest()
        app = build_application(settings, helpdesk, request=request, updates_request=RecordingRequest())
        app.bot.rate_limiter.backoff = 0.01  # retries of a handler's requests without the real pauses
        harness = TG(app, request, helpdesk, settings, db_path, database_url)

        async def collect(update: object, context) -> None:
            harness.errors.append(context.error)

        app.add_error_handler(collect)
        await app.initialize()
        await store.create_schema()
        built.append(harness)
        return harness

    yield make
    for harness in built:
        await harness.app.shutdown()
        await harness.store.dispose()


@pytest.fixture
async def tg(make_tg) -> TG:
    return await make_tg()


@pytest.fixture(params=["sqlite", "postgresql"])
async def tg_any(request, make_tg) -> TG:
    """The harness on SQLite and on a real PostgreSQL server (the librarians' queue and delivery tests)."""
    if request.param == "sqlite":
        return await make_tg()
    return await make_tg(database_url=request.getfixturevalue("postgres").create_database())
