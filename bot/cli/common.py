"""What every egov-bot command shares: usage errors, the settings and knowledge base of its options, and
the HelpDesk over the database (the only module of the command line that handles the store)."""

from __future__ import annotations

from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Coroutine, Iterator, TypeVar

from bot import config
from bot.knowledge import KnowledgeBase, KnowledgeError, load_knowledge
from bot.matching import Matcher

if TYPE_CHECKING:  # the database commands import SQLAlchemy when they run, not `match`
    import argparse

    from bot.helpdesk import HelpDesk, Knowledge
    from bot.reminders import Timers

T = TypeVar("T")


class UsageError(Exception):
    """A problem the user can fix; printed as one line, exit 2."""


# --- settings and the knowledge base ----------------------------------------------------------


def knowledge_dir(option: str | None) -> Path:
    """--knowledge DIR, else KNOWLEDGE_DIR (environment, then .env), else the bundled knowledge/."""
    path = config.knowledge_dir(config.environment(options={"KNOWLEDGE_DIR": option}))
    if not path.is_dir():
        raise UsageError(f"knowledge directory not found: {path}")
    return path


def database_url(option: str | None) -> str:
    """--database URL, else DATABASE_URL (environment, then .env), else ./egov-bot.sqlite3."""
    return config.database_url(config.environment(options={"DATABASE_URL": option}))


def _not_loaded(error: KnowledgeError) -> UsageError:
    errors = [p for p in error.problems if p.severity == "error"]
    more = f" (and {len(errors) - 1} more problems: run egov-bot kb lint)" if len(errors) > 1 else ""
    return UsageError(f"the knowledge base does not load: {errors[0]}{more}")


def load(option: str | None) -> KnowledgeBase:
    try:
        return load_knowledge(knowledge_dir(option))
    except KnowledgeError as error:
        raise _not_loaded(error) from None


def load_matcher(option: str | None) -> Matcher:
    """The matcher of the knowledge base (`.kb`), from the on-disk index cache when it is current."""
    from bot.index_cache import load_indexed

    try:
        return load_indexed(knowledge_dir(option))
    except KnowledgeError as error:
        raise _not_loaded(error) from None


def load_indexed_knowledge(option: str | None) -> Knowledge:
    """The knowledge base, its matcher and the access points of --knowledge / KNOWLEDGE_DIR."""
    from bot.helpdesk import Knowledge

    try:
        return Knowledge.load(knowledge_dir(option))
    except KnowledgeError as error:
        raise _not_loaded(error) from None


# --- the HelpDesk over the database ----------------------------------------------------------


@contextmanager
def database_errors() -> Iterator[None]:
    """The database's errors (a wrong URL, a missing folder, a server that does not answer) as usage errors."""
    from bot.storage import StoreError

    try:
        yield
    except StoreError as error:
        raise UsageError(str(error)) from None


def build_helpdesk(knowledge: str | None, url: str, hours: config.LibrarianHours | None = None,
                   timers: Timers | None = None) -> HelpDesk:
    """The HelpDesk of every command: the library of --knowledge / KNOWLEDGE_DIR over the database at `url`.
    Whoever holds it disposes its store: open_helpdesk() at its end, the Telegram application at shutdown."""
    from bot.helpdesk import HelpDesk
    from bot.storage import Storage

    knowledge = load_indexed_knowledge(knowledge)
    with database_errors():
        store = Storage.from_url(url)
    return HelpDesk(knowledge, store, hours=hours, timers=timers)


@asynccontextmanager
async def open_helpdesk(knowledge: str | None, database: str | None) -> AsyncIterator[HelpDesk]:
    """The HelpDesk over the database of --database / DATABASE_URL, migrated; its store disposed at the end."""
    helpdesk = build_helpdesk(knowledge, database_url(database))
    try:
        await helpdesk.store.upgrade()
        yield helpdesk
    finally:
        await helpdesk.store.dispose()


async def upgrade_database(url: str) -> None:
    """Apply the migrations with a store of its own, disposed at the end."""
    from bot.storage import Storage

    store = Storage.from_url(url)
    try:
        await store.upgrade()
    finally:
        await store.dispose()


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """asyncio.run(work), with the database's errors as usage errors."""
    import asyncio

    with database_errors():
        return asyncio.run(work)


def with_helpdesk(args: argparse.Namespace, work: Callable[[HelpDesk], Awaitable[T]]) -> T:
    """`await work(helpdesk)` over open_helpdesk() of the command's --knowledge and --database."""

    async def run() -> T:
        async with open_helpdesk(args.knowledge, args.database) as helpdesk:
            return await work(helpdesk)

    return run_async(run())
