"""In-process fan-out of pushed messages to the open web-chat event streams of each session."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from storage.repository import ConversationRecord, MessageRecord

log = logging.getLogger(__name__)


class Subscription:
    """One open event stream: the messages pushed since it last looked, and a way to wait for more.

    Deliberately small (a list and at most one future, created only while the stream waits) so that ten
    thousand idle streams cost little memory. A stream that falls more than `limit` messages behind is closed:
    its client reconnects with Last-Event-ID and catches up from the database, so nothing is lost.
    """

    __slots__ = ("_limit", "_pending", "_waiter", "closed", "session_id")

    def __init__(self, session_id: str, limit: int) -> None:
        self.session_id = session_id
        self.closed = False
        self._limit = limit
        self._pending: list[MessageRecord] = []
        self._waiter: asyncio.Future[None] | None = None

    def push(self, messages: Sequence[MessageRecord]) -> None:
        """Queue messages without waiting; closes a subscription that is too far behind."""
        if self.closed:
            return
        if len(self._pending) + len(messages) > self._limit:
            log.warning("event stream too slow; closing it so it reconnects", extra={"session": self.session_id})
            self.close()
            return
        self._pending.extend(messages)
        self._wake()

    def close(self) -> None:
        """End the stream: `next()` returns what is queued, then an empty batch forever."""
        self.closed = True
        self._wake()

    async def next(self, timeout: float) -> list[MessageRecord]:
        """The messages pushed since the last call; empty after `timeout` seconds of quiet, or once closed."""
        if not self._pending and not self.closed:
            # A future and a timer that resolves it: asyncio.wait_for would keep a coroutine, a second future
            # and a callback alive for every waiting stream as well.
            loop = asyncio.get_running_loop()
            waiter = self._waiter = loop.create_future()
            timer = loop.call_later(timeout, _resolve, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
        batch, self._pending = self._pending, []
        return batch

    def _wake(self) -> None:
        if self._waiter is not None:
            _resolve(self._waiter)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class EventHub:
    """Session id -> its open subscriptions. `publish` is the ConversationService push listener."""

    def __init__(self, *, queue_limit: int = 100) -> None:
        self._queue_limit = queue_limit
        self._sessions: dict[str, set[Subscription]] = {}
        self.closed = False

    def subscribe(self, session_id: str) -> Subscription:
        """Open a subscription; always `unsubscribe` it (in a `finally`). Born closed after `close()`."""
        subscription = Subscription(session_id, self._queue_limit)
        if self.closed:
            subscription.close()
        else:
            self._sessions.setdefault(session_id, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscriptions = self._sessions.get(subscription.session_id)
        if subscriptions is None:
            return
        subscriptions.discard(subscription)
        if not subscriptions:
            del self._sessions[subscription.session_id]

    def count(self, session_id: str | None = None) -> int:
        """Open subscriptions of one session, or of all sessions."""
        if session_id is not None:
            return len(self._sessions.get(session_id, ()))
        return sum(len(subscriptions) for subscriptions in self._sessions.values())

    async def publish(self, conversation: ConversationRecord, messages: Sequence[MessageRecord]) -> None:
        """Hand pushed messages to every open stream of the conversation. Never waits on a slow client."""
        for subscription in tuple(self._sessions.get(conversation.id, ())):
            subscription.push(messages)

    def close(self) -> None:
        """Server shutdown: end every stream now so that draining connections does not wait on them."""
        self.closed = True
        for subscriptions in self._sessions.values():
            for subscription in subscriptions:
                subscription.close()
