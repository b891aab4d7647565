"""Everything the bot keeps, on SQLAlchemy 2 (async): the only package that imports SQLAlchemy.

Everything needed to route a reply is stored (which group message belongs to which ticket, what is still
to be delivered), so a restart loses nothing. One Storage holds one concern per attribute, all over one
engine: `store.citizens.get(...)`, `store.tickets.open(...)`, `store.outbox.claim_card(...)`.
"""

from __future__ import annotations

from bot.storage.citizens import Citizens
from bot.storage.database import Database, StoreError, default_database_url
from bot.storage.gaps import Gaps
from bot.storage.insights import Insights
from bot.storage.outbox import Outbox
from bot.storage.suggested import Suggested
from bot.storage.reminders import Reminders
from bot.storage.reports import Reports
from bot.storage.tickets import Tickets
from bot.storage.updates import Updates

__all__ = ["Storage", "StoreError", "default_database_url"]


class Storage:
    """Citizens, tickets, what is to be delivered, incoming updates, what editors learn from, and reminders."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.citizens = Citizens(database)
        self.tickets = Tickets(database)
        self.outbox = Outbox(database)
        self.updates = Updates(database)
        self.insights = Insights(database)
        self.suggested = Suggested(database)  # answers with an entry and the wordings they suggest
        self.reminders = Reminders(database)
        self.reports = Reports(database)  # the figures of `egov-bot report`, grouped in SQL
        self.gaps = Gaps(database)  # what `kb gaps` reads, and the groups editors ignore

    @classmethod
    def from_url(cls, url: str) -> "Storage":
        """StoreError when the URL names no database SQLAlchemy can use."""
        return cls(Database.from_url(url))

    async def create_schema(self) -> None:
        """The tables straight from the models, marked as the newest migration (tests and throw-away databases)."""
        await self.database.create_schema()

    async def upgrade(self) -> None:
        """Bring the schema up to date with the migrations (see Database.upgrade)."""
        await self.database.upgrade()

    async def dispose(self) -> None:
        await self.database.dispose()
