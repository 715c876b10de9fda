"""The follow-up timer loop: both composition roots (the server and `salesbot chat`) run one."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.service import ConversationService

log = logging.getLogger(__name__)


class TimerLoop:
    """Fires due follow-up timers every `interval` seconds; a failure is logged and retried next time."""

    def __init__(self, service: ConversationService, interval: float) -> None:
        self._service = service
        self._interval = interval
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="salesbot-timers")

    async def stop(self, grace: float = 10.0) -> None:
        """Let a batch in progress finish (up to `grace` seconds), then stop."""
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._task, grace)

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self._service.fire_due_timers()
            except Exception:
                log.exception("firing follow-up timers failed; retrying", extra={"interval": self._interval})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval)
