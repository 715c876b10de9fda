"""Async engines: URL normalisation, SQLite pragmas and BEGIN IMMEDIATE, and errors an operator can act on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.errors import StorageError

# busy_timeout comes first so that switching to WAL waits for a lock instead of failing.
SQLITE_PRAGMAS = ("busy_timeout=5000", "journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON")

_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS


def json_dumps(value: Any) -> str:
    """How JSON columns are written: orjson, about ten times faster than the standard library (a turn writes the
    state, its values and each message's payload). Keys that are not strings take orjson's slower option (it
    costs every call more than twice the time, so only a value that needs it gets it); integers beyond 64 bits,
    which orjson refuses, fall back to the standard library, so any value a flow can hold is stored."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        pass
    try:
        return orjson.dumps(value, option=_ORJSON_OPTIONS).decode()
    except TypeError:
        return json.dumps(value)


# Reading stays with the standard library: orjson reads an integer beyond 64 bits as a float, losing digits.
_ENGINE_OPTIONS: dict[str, Any] = {"json_serializer": json_dumps, "json_deserializer": json.loads}

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
}
_SUPPORTED = ("sqlite+aiosqlite", "postgresql+asyncpg")
_EXAMPLES = "sqlite:///data/salesbot.db or postgresql://user:password@host:5432/salesbot"

# Fragments of driver messages, and what the operator should do about them.
_HINTS = (
    ("unable to open database file", "check that its directory exists and is writable by this process"),
    ("readonly database", "the SQLite file or its directory is read-only: fix the permissions"),
    ("no such table", "the schema is missing or out of date: run `python -m storage.migrate upgrade <url>`"),
    ("does not exist", "the schema or database is missing: create it, then run the migrations"),
    (
        "database is locked",
        "another connection held the write lock for more than 5 s: look for a long transaction "
        "or a second process (an sqlite3 shell?) using the same file",
    ),
    ("connect call failed", "is the database server running and reachable at that host and port?"),
    ("password authentication failed", "check the user name and password in the database URL"),
)


def parse_url(database_url: str) -> URL:
    """Parse a database URL and switch it to the async driver of its backend.

    `sqlite:///x.db` becomes `sqlite+aiosqlite:///x.db`; `postgresql://` becomes `postgresql+asyncpg://`.

    Raises:
        StorageError: if the URL is malformed or names a backend other than SQLite or PostgreSQL.
    """
    try:
        url = make_url(database_url)
    except ArgumentError as exc:
        raise StorageError(f"database URL {database_url!r} is not a URL; use e.g. {_EXAMPLES}") from exc
    url = url.set(drivername=_ASYNC_DRIVERS.get(url.drivername, url.drivername))
    if url.drivername not in _SUPPORTED:
        raise StorageError(
            f"database URL {redact(url)!r} uses driver {url.drivername!r}; salesbot supports "
            f"{' and '.join(_SUPPORTED)}: use e.g. {_EXAMPLES}"
        )
    return url


def normalize_url(database_url: str) -> str:
    """The URL with its async driver, password kept (see parse_url)."""
    return parse_url(database_url).render_as_string(hide_password=False)


def redact(url: URL | str) -> str:
    """The URL with its password masked, for messages and logs."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except ArgumentError:
            return "<unparseable database URL>"
    return url.render_as_string(hide_password=True)


def sqlite_file(database_url: str) -> Path | None:
    """The file behind an SQLite database URL (any driver spelling), or None for other databases."""
    try:
        return sqlite_path(parse_url(database_url))
    except StorageError:
        return None


def sqlite_path(url: URL) -> Path | None:
    """The file behind an SQLite URL, or None for in-memory and URI-style databases."""
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def create_engine(database_url: str) -> AsyncEngine:
    """Build an async engine; on SQLite, create the file's directory and install the pragma/BEGIN hooks.

    Raises:
        StorageError: bad URL, missing driver, or a directory that cannot be created.
    """
    url = parse_url(database_url)
    path = sqlite_path(url)
    if path is not None:
        _ensure_directory(path)
    try:
        engine = create_async_engine(url, **_ENGINE_OPTIONS)
    except (SQLAlchemyError, ImportError) as exc:
        raise StorageError(f"cannot set up database {redact(url)}: {exc}") from exc
    if url.get_backend_name() == "sqlite":
        sa.event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
        sa.event.listen(engine.sync_engine, "begin", _on_sqlite_begin)
    return engine


def create_sqlite_engine(database_url: str, *, autocheckpoint: bool = True) -> sa.Engine:
    """A sync pysqlite engine for an SQLite URL, with the same pragma and BEGIN IMMEDIATE hooks.

    `autocheckpoint=False` turns off SQLite's checkpoint in a commit, for a caller that checkpoints the file
    itself (see checkpoint.py).

    Raises:
        StorageError: bad URL, or a directory that cannot be created.
    """
    url = parse_url(database_url)
    path = sqlite_path(url)
    if path is not None:
        _ensure_directory(path)
    try:
        engine = sa.create_engine(url.set(drivername="sqlite+pysqlite"), **_ENGINE_OPTIONS)
    except (SQLAlchemyError, ImportError) as exc:
        raise StorageError(f"cannot set up database {redact(url)}: {exc}") from exc
    sa.event.listen(engine, "connect", _on_inline_sqlite_connect)
    if not autocheckpoint:
        sa.event.listen(engine, "connect", _without_autocheckpoint)
    sa.event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _on_inline_sqlite_connect(dbapi_connection: Any, record: Any) -> None:
    _on_sqlite_connect(dbapi_connection, record)
    # Inline connections run on the event loop: never sleep in SQLite waiting for the write lock, which
    # would freeze the loop. The store retries BEGIN IMMEDIATE with asyncio.sleep instead (see sql.py).
    dbapi_connection.execute("PRAGMA busy_timeout=0")


def _without_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


def _ensure_directory(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"cannot create directory {path.parent} for the SQLite database {path}: {exc.strerror}; "
            "create it yourself or point the database URL at a writable location"
        ) from exc


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Stop the driver from emitting its own deferred BEGIN, so _on_sqlite_begin controls it; see
    # https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#sqlite-transactions
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
    finally:
        cursor.close()


def _on_sqlite_begin(connection: sa.Connection) -> None:
    # Take the write lock up front. A deferred transaction that reads and then writes cannot wait for
    # the lock (SQLite would deadlock), so it fails at once with "database is locked".
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def storage_error(exc: BaseException, url: URL | str, action: str) -> StorageError:
    """Wrap a driver or SQLAlchemy error into a StorageError saying what failed, where, and what to do."""
    detail = str(exc.orig) if isinstance(exc, DBAPIError) else str(exc)
    detail = detail.strip() or type(exc).__name__
    lowered = detail.lower()
    hints = [hint for fragment, hint in _HINTS if fragment in lowered]
    path = sqlite_path(url) if isinstance(url, URL) else None
    where = f"SQLite database {path.resolve()}" if path is not None else f"database {redact(url)}"
    message = f"{where}: {action} failed: {detail}"
    return StorageError(f"{message}; {hints[0]}" if hints else message)
