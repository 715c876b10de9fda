"""Schema migrations with Alembic, configured in code: `await upgrade(url)` or `python -m storage.migrate`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import StorageError
from storage.engine import create_engine, parse_url, storage_error
from storage.models import Base

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

T = TypeVar("T")


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic config pointing at storage/migrations; `connection` is what env.py will migrate."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def current_head() -> str:
    """The newest revision id shipped with this code."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise StorageError(
            f"no migrations found in {MIGRATIONS_DIR}: the package is incomplete, reinstall it"
        )
    return head


async def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database up to `revision` in one transaction. A no-op when it is already there."""
    await _run(database_url, lambda c: command.upgrade(alembic_config(c), revision), f"upgrade to {revision}")


async def downgrade(database_url: str, revision: str) -> None:
    """Migrate the database down to `revision` ('base' drops every table)."""
    await _run(
        database_url, lambda c: command.downgrade(alembic_config(c), revision), f"downgrade to {revision}"
    )


async def current_revision(database_url: str) -> str | None:
    """The revision the database is at, or None if it was never migrated."""
    return await _run(
        database_url, lambda c: MigrationContext.configure(c).get_current_revision(), "reading the revision"
    )


async def schema_diff(database_url: str) -> list[str]:
    """How the database's schema differs from storage.models; empty when migrations and models agree."""

    def compare(connection: sa.Connection) -> list[str]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [repr(diff) for diff in compare_metadata(context, Base.metadata)]

    return await _run(database_url, compare, "comparing the schema")


async def _run(database_url: str, work: Callable[[sa.Connection], T], action: str) -> T:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(work)
    except (SQLAlchemyError, OSError) as exc:  # asyncpg raises OSError when the server is unreachable
        raise storage_error(exc, parse_url(database_url), action) from exc
    finally:
        await engine.dispose()


async def _make_revision(database_url: str, message: str) -> None:
    """Autogenerate a new revision file from the difference between the database (at head) and the models."""
    await _run(
        database_url,
        lambda c: command.revision(alembic_config(c), message=message, autogenerate=True),
        "autogenerating a revision",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m storage.migrate {upgrade,downgrade,current,check,revision} URL ...`."""
    parser = argparse.ArgumentParser(prog="python -m storage.migrate", description=__doc__)
    parser.add_argument("action", choices=["upgrade", "downgrade", "current", "check", "revision"])
    parser.add_argument("database_url", help="e.g. sqlite:///data/salesbot.db")
    parser.add_argument("revision", nargs="?", default="head", help="target revision (upgrade/downgrade)")
    parser.add_argument("-m", "--message", default="", help="description of a new revision")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_main(args))
    except StorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


async def _main(args: argparse.Namespace) -> int:
    url: str = args.database_url
    if args.action == "upgrade":
        await upgrade(url, args.revision)
    elif args.action == "downgrade":
        await downgrade(url, args.revision)
    elif args.action == "current":
        print(f"{await current_revision(url)} (head: {current_head()})")
    elif args.action == "revision":
        await _make_revision(url, args.message or "change")
    else:
        diffs = await schema_diff(url)
        print("\n".join(diffs) or "schema matches the models")
        return 1 if diffs else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
