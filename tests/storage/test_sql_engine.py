"""Database URLs, connection checks and the wording of storage errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import StorageError
from storage.engine import normalize_url, redact
from storage.sql import SqlAlchemyStore


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///data/salesbot.db", "sqlite+aiosqlite:///data/salesbot.db"),
        ("sqlite+aiosqlite:////abs/x.db", "sqlite+aiosqlite:////abs/x.db"),
        ("postgresql://bot:s3cret@db:5432/salesbot", "postgresql+asyncpg://bot:s3cret@db:5432/salesbot"),
        ("postgres://bot@db/salesbot", "postgresql+asyncpg://bot@db/salesbot"),
        ("postgresql+asyncpg://bot@db/salesbot", "postgresql+asyncpg://bot@db/salesbot"),
    ],
)
def test_urls_get_their_async_driver(given: str, expected: str) -> None:
    assert normalize_url(given) == expected


def test_unsupported_or_malformed_urls_say_what_to_use() -> None:
    with pytest.raises(
        StorageError, match=r"driver 'mysql\+pymysql'; salesbot supports .* use e.g. sqlite:///"
    ):
        normalize_url("mysql+pymysql://u:p@h/db")
    with pytest.raises(StorageError, match="'not a url' is not a URL"):
        normalize_url("not a url")


def test_redact_hides_the_password() -> None:
    assert redact("postgresql://bot:s3cret@db/salesbot") == "postgresql://bot:***@db/salesbot"


async def test_connect_creates_the_sqlite_directory(tmp_path: Path) -> None:
    database = tmp_path / "nested" / "dir" / "salesbot.db"

    store = await SqlAlchemyStore.connect(f"sqlite:///{database}")
    await store.ping()
    await store.close()

    assert database.exists()


async def test_connect_to_an_unreachable_server_names_it_without_the_password() -> None:
    # Port 1 on localhost: nothing listens there, so the connection is refused at once.
    with pytest.raises(
        StorageError, match=r"postgresql\+asyncpg://bot:\*\*\*@127.0.0.1:1/salesbot"
    ) as caught:
        await SqlAlchemyStore.connect("postgresql://bot:s3cret@127.0.0.1:1/salesbot")

    assert "s3cret" not in str(caught.value)
    assert "is the database server running" in str(caught.value)
