"""SQLite without a thread hop per statement: a sync Session behind the AsyncSession methods the unit of work uses.

aiosqlite runs every DBAPI call on a worker thread; a turn makes ~15 statements, ~45 thread hops, which cost
far more than the statements themselves (a local SQLite statement takes tens of microseconds). SQLite has
one writer and this process queues its transactions anyway, so running them inline on the event loop is
both faster and simpler. PostgreSQL keeps the real asyncio driver.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session


class InlineSession:
    """The subset of AsyncSession's API the unit of work calls, on a sync Session, without threads."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self.bind = session.bind

    async def scalars(self, statement: Any) -> sa.ScalarResult[Any]:
        return self._session.scalars(statement)

    async def execute(self, statement: Any, params: Any = None) -> sa.Result[Any]:
        return self._session.execute(statement, params)

    async def get(self, entity: Any, ident: Any) -> Any:
        return self._session.get(entity, ident)

    async def flush(self) -> None:
        self._session.flush()

    async def connection(self) -> sa.Connection:
        return self._session.connection()

    def add(self, instance: object) -> None:
        self._session.add(instance)

    def add_all(self, instances: Iterable[object]) -> None:
        self._session.add_all(instances)

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        with self._session.begin_nested():
            yield
