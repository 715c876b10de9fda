"""Alembic environment: migrates the connection storage.migrate hands over, or opens its own async engine."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import sqlalchemy as sa
from alembic import context

from storage.engine import create_engine
from storage.models import Base, UtcDateTime


def _render_item(kind: str, item: object, _context: Any) -> str | Literal[False]:
    # Migrations stay free of application imports: UtcDateTime's column type is a plain timestamptz.
    if kind == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _migrate(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _migrate_url(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_migrate)
    finally:
        await engine.dispose()


def _migrate_offline(database_url: str) -> None:
    context.configure(
        url=database_url,
        target_metadata=Base.metadata,
        literal_binds=True,
        render_as_batch=database_url.startswith("sqlite"),
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def _run() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if context.is_offline_mode():
        _migrate_offline(config.get_main_option("sqlalchemy.url") or "")
    elif isinstance(connection, sa.Connection):
        _migrate(connection)
    else:
        asyncio.run(_migrate_url(config.get_main_option("sqlalchemy.url") or ""))


_run()
