"""Timer queries on SQLite read only pending timers, through the partial indexes of migration 0002."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from storage import migrate
from storage import sql as storage_sql

STATEMENTS = {
    "cancel by key": storage_sql._CANCEL_TIMER_KEY,
    "cancel all": storage_sql._CANCEL_TIMERS,
    "cancel by prefix": storage_sql._CANCEL_TIMERS_PREFIX,
    "due timers": sa.select(storage_sql._timers)
    .where(*storage_sql._PENDING, storage_sql._timers.c.due_at <= datetime(2026, 1, 5, tzinfo=UTC))
    .order_by(storage_sql._timers.c.due_at, storage_sql._timers.c.id)
    .limit(100),
}


@pytest.mark.parametrize("name", sorted(STATEMENTS))
async def test_timer_queries_search_the_pending_index(name: str, tmp_path: Path) -> None:
    await migrate.upgrade(f"sqlite:///{tmp_path / 'plans.db'}")
    compiled = STATEMENTS[name].compile(dialect=sqlite.dialect())
    database = sqlite3.connect(tmp_path / "plans.db")
    try:
        plan = database.execute(f"EXPLAIN QUERY PLAN {compiled}", [None] * len(compiled.positiontup or ())).fetchall()
    finally:
        database.close()
    details = " ".join(row[-1] for row in plan)
    assert "USING INDEX ix_timers_pending_" in details, details
    assert "SCAN" not in details, details
