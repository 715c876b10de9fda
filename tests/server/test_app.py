"""The app factory and its lifespan: startup errors, the database it opens itself, the timer loop."""

from __future__ import annotations

import asyncio
import gc
import logging
from pathlib import Path

import pytest

from bot.errors import ConfigError, FlowError, StorageError
from bot.scheduler import TimerLoop
from bot.server import create_app, settle_heap
from tests.server.conftest import Chat, client_for, eventually, make_settings


def test_bad_flows_fail_when_the_app_is_built(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"FLOWS_DIR='.*nowhere' is not a directory; point it at your flows"):
        create_app(make_settings(flows_dir=tmp_path / "nowhere"))
    (tmp_path / "broken.yaml").write_text("id: b\nstart: a\nstates:\n  a:\n    say: hi\n    next: nope\n",
                                          encoding="utf-8")
    with pytest.raises(FlowError, match=r"broken.yaml:6:11: error: 'nope' names no state"):
        create_app(make_settings(flows_dir=tmp_path, default_flow="b"))


async def test_with_no_store_the_lifespan_migrates_opens_and_closes_the_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'bot.db'}"
    app = create_app(make_settings(database_url=url, webchat_secret=""))
    assert (tmp_path / "data" / "webchat_secret").is_file()  # generated next to the database, at build time
    async with app.router.lifespan_context(app), client_for(app) as client:
        chat = await Chat.open(client)
        await chat.say("Dana")
        assert (await client.get("/readyz")).status_code == 200
    assert (tmp_path / "data" / "bot.db").is_file()
    app2 = create_app(make_settings(database_url=url, webchat_secret=""))
    async with app2.router.lifespan_context(app2), client_for(app2) as client:
        chat.http = client  # same secret after a restart: the old token still works
        assert len(await chat.history()) == 4


async def test_before_startup_the_app_is_not_ready(tmp_path: Path) -> None:
    app = create_app(make_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"))
    async with client_for(app) as client:
        assert (await client.get("/readyz")).status_code == 503
        assert (await client.get("/healthz")).status_code == 200


class FlakyService:
    def __init__(self) -> None:
        self.calls = 0

    async def fire_due_timers(self) -> int:
        self.calls += 1
        if self.calls == 1:
            raise StorageError("database is locked")
        return 0


async def test_the_timer_loop_logs_failures_keeps_going_and_stops(caplog: pytest.LogCaptureFixture) -> None:
    service = FlakyService()
    loop = TimerLoop(service, 0.01)  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="salesbot.server"):
        loop.start()
        await eventually(lambda: service.calls >= 3)
        async with asyncio.timeout(1):
            await loop.stop()
    assert "firing follow-up timers failed; retrying" in caplog.text
    calls = service.calls
    await asyncio.sleep(0.05)
    assert service.calls == calls


def test_settling_the_heap_leaves_the_collector_only_what_comes_after() -> None:
    """serve() calls settle_heap() before serving: what exists then is frozen, so collections skip it."""
    kept = [[number] for number in range(1000)]  # lists: objects the collector tracks
    before = gc.get_freeze_count()
    try:
        settle_heap()
        later = [[number] for number in range(10)]
        assert gc.get_freeze_count() >= before + len(kept)
        tracked = gc.get_objects()
        assert not any(item is kept[0] for item in tracked)
        assert any(item is later[0] for item in tracked)
    finally:
        gc.unfreeze()
