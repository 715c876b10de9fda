"""Fixtures for the storage tests: every Store implementation, migrated and empty, plus record builders."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.engine.types import ConversationState, ScoreEntry, Status
from storage import migrate
from storage.memory import InMemoryStore
from storage.repository import ConversationRecord, Store
from storage.sql import SqlAlchemyStore

T0 = datetime(2026, 1, 5, 9, 30, 15, 123456, tzinfo=UTC)
CEST = timezone(timedelta(hours=2))


EmptyDatabase = Callable[[str], Awaitable[str]]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A database file that does not exist yet, in a directory that does not exist yet either."""
    return f"sqlite:///{tmp_path / 'data' / 'salesbot.db'}"


@pytest.fixture
def empty_database(sqlite_url: str, request: pytest.FixtureRequest) -> EmptyDatabase:
    """`await empty_database("sqlite" | "postgres")`: the URL of a database without any table."""

    async def build(backend: str) -> str:
        if backend == "sqlite":
            return sqlite_url
        url = str(request.getfixturevalue("postgres_url"))
        await migrate.downgrade(url, "base")
        return url

    return build


async def migrated_store(url: str) -> SqlAlchemyStore:
    """A store on `url`, its schema migrated to the latest version first. Close it."""
    await migrate.upgrade(url)
    return await SqlAlchemyStore.connect(url)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, empty_database: EmptyDatabase) -> AsyncIterator[Store]:
    """Each Store implementation in turn, empty and migrated."""
    built: Store
    if request.param == "memory":
        built = InMemoryStore()
    else:
        built = await migrated_store(await empty_database(request.param))
    try:
        yield built
    finally:
        await built.close()


@pytest.fixture
def new_conversation() -> Callable[..., ConversationRecord]:
    """Build a conversation record; keyword arguments override the defaults."""
    return make_conversation


def make_conversation(**overrides: Any) -> ConversationRecord:
    state = ConversationState(
        flow_id="demo",
        flow_version="v1",
        channel="webchat",
        state="company_size",
        status=Status.ACTIVE,
        values={
            "name": "Ada",
            "team_size": 40,
            "budget": 1500.5,
            "consent": True,
            "phone": None,
            "tools": ["crm", "email"],
        },
        ledger=(ScoreEntry(rule="team_size", points=20, reason="40 people", turn=2),),
        pending="company_size",
        attempts={"company_size": 1},
        objections={"price": 1},
        turn=3,
        started_at=T0.astimezone(CEST),
        updated_at=T0 + timedelta(minutes=2),
    )
    defaults: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "channel": "webchat",
        "external_user_id": "visitor-1",
        "state": state,
        "attributes": {"utm_source": "newsletter", "locale": "en"},
        "created_at": T0.astimezone(CEST),
        "updated_at": T0 + timedelta(minutes=2),
    }
    defaults.update(overrides)
    return ConversationRecord(**defaults)
