"""Helpers of the storage tests: plain SQL on a SQLite file, and counting the statements a store sends."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy import event

from bot.storage import Storage


def sql(db_path: Path, statement: str, *params) -> list[tuple]:
    with closing(sqlite3.connect(db_path)) as connection, connection:
        return connection.execute(statement, params).fetchall()


class StatementCounter:
    """Counts the SQL statements that reach the database, by their first words."""

    def __init__(self, store: Storage) -> None:
        self.statements: list[str] = []
        event.listen(store.database.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement: str, *args) -> None:
        self.statements.append(" ".join(statement.split()))

    def count(self, prefix: str) -> int:
        return sum(s.startswith(prefix) for s in self.statements)
