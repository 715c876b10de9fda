"""SQLite without a thread hop per statement: a sync Session behind the AsyncSession methods the unit of work uses.

aiosqlite runs every DBAPI call on a worker thread; a turn's statements made ~45 thread hops, which cost
far more than the statements themselves (a local SQLite statement takes tens of microseconds). SQLite has
one writer and this process queues its transactions anyway, so running them inline on the event loop is
both faster and simpler. PostgreSQL keeps the real asyncio driver.
"""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa
from sqlalchemy.orm import Session

from storage.prepared import PreparedStatements


class InlineSession:
    """The part of AsyncSession's API the unit of work calls (`connection()`), on a sync Session, without threads.

    `statements` runs the unit of work's fixed statements straight on the driver (see prepared.py).
    """

    def __init__(self, session: Session, statements: PreparedStatements) -> None:
        self._session = session
        self.bind = session.bind
        self.statements = statements

    async def connection(self) -> sa.Connection:
        return self._session.connection()

    def driver_connection(self) -> sqlite3.Connection:
        """The sqlite3 connection under the session's, in the same transaction."""
        connection = self._session.connection().connection.driver_connection
        if not isinstance(connection, sqlite3.Connection):
            raise TypeError(f"the inline SQLite engine runs on {type(connection).__name__}, not sqlite3")
        return connection
