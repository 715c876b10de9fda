"""SQLite without a thread hop per statement: a sync Session behind the AsyncSession methods the unit of work uses.

aiosqlite runs every DBAPI call on a worker thread; a turn makes ~15 statements, ~45 thread hops, which cost
far more than the statements themselves (a local SQLite statement takes tens of microseconds). SQLite has
one writer and this process queues its transactions anyway, so running them inline on the event loop is
both faster and simpler. PostgreSQL keeps the real asyncio driver.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session


class InlineSession:
    """The part of AsyncSession's API the unit of work calls (`connection()`), on a sync Session, without threads."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self.bind = session.bind

    async def connection(self) -> sa.Connection:
        return self._session.connection()
