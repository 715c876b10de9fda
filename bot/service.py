"""The one orchestrator: load the state, run the engine, save the result, carry out the effects."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from bot.engine import engine
from bot.engine.codec import lead_to_json
from bot.engine.compiled import CompiledFlow
from bot.engine.types import (
    CancelTimers,
    ChoiceMade,
    ConversationEnded,
    ConversationState,
    Effect,
    HumanTookOver,
    Inbound,
    LeadSummary,
    LeadUpdated,
    Outbound,
    RelayToHuman,
    RequestHandoff,
    ReturnedToBot,
    ScheduleTimer,
    Started,
    TextReceived,
    TimerFired,
    Turn,
    Unsubscribed,
)
from bot.errors import ConversationChanged, StorageError
from bot.flow.registry import FlowRegistry
from storage.repository import (
    Author,
    ConversationRecord,
    Direction,
    FlowVersionRecord,
    MessageRecord,
    OutboxRecord,
    Store,
    TimerRecord,
    TransitionRecord,
    UnitOfWork,
)

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
Result = TypeVar("Result")


@dataclass(frozen=True, kw_only=True)
class TurnResult:
    """What a channel gets back from one inbound message."""

    conversation: ConversationRecord
    replies: tuple[MessageRecord, ...]
    inbound: MessageRecord | None = None
    duplicate: bool = False


# Told after commit about messages no request is waiting for (timers, a rep's takeover), to push them.
Listener = Callable[[ConversationRecord, Sequence[MessageRecord]], Awaitable[None]]


class UnknownConversation(LookupError):
    """No conversation has this id."""


class ConversationService:
    """Runs turns. Per conversation, one at a time and in order; each inbound message once."""

    def __init__(self, *, store: Store, flows: FlowRegistry, clock: Clock) -> None:
        self.store = store
        self.flows = flows
        self.clock = clock
        self._locks: dict[str, asyncio.Lock] = {}
        self._listeners: list[Listener] = []
        self._stored_versions: set[tuple[str, str]] = set()  # flow versions this service saw committed

    def subscribe(self, listener: Listener) -> None:
        """Register a push listener (web-chat event streams, Telegram sender, CLI printer)."""
        self._listeners.append(listener)

    # ------------------------------------------------------------------ entry points

    async def start(self, *, channel: str, external_user_id: str, flow_id: str | None = None,
                    attributes: Mapping[str, str] | None = None) -> TurnResult:
        """Begin a conversation on the latest version of a flow (the default flow when none is named)."""
        flow = self.flows.latest(flow_id)
        now = self.clock()
        attrs = dict(attributes or {})
        turn = engine.step(flow, None, Started(channel=channel, attributes=attrs), now)
        record = ConversationRecord(id=uuid.uuid4().hex, channel=channel, external_user_id=external_user_id,
                                    state=turn.state, tier=_tier(flow, turn.state), attributes=attrs,
                                    created_at=now, updated_at=now)
        version = (flow.id, flow.version)
        async with self._lock(record.id), self.store.transaction() as uow:
            if version not in self._stored_versions:  # versions are immutable and never deleted
                await uow.save_flow_version(FlowVersionRecord(flow_id=flow.id, version=flow.version,
                                                              content=self.flows.content(flow), created_at=now))
            await uow.insert_conversation(record, lead_changed=_lead_changed(turn))
            replies = await self._save_turn(uow, record, turn, None, now)
        self._stored_versions.add(version)
        return TurnResult(conversation=record, replies=replies)

    async def handle(self, conversation_id: str, inbound: Inbound, *, channel_message_id: str | None = None
                     ) -> TurnResult:
        """Run one inbound event on a conversation. A repeated `channel_message_id` returns the first replies."""
        async with self._lock(conversation_id):
            return await _again_if_changed(lambda: self._handle(conversation_id, inbound, channel_message_id))

    async def handle_from_user(self, *, channel: str, external_user_id: str, inbound: Inbound,
                               channel_message_id: str | None = None, flow_id: str | None = None) -> TurnResult:
        """For channels that know users, not conversations (Telegram, CLI): continue or start one."""
        async with self.store.transaction() as uow:
            record = await uow.find_latest_conversation(channel, external_user_id)
        if record is None:
            started = await self.start(channel=channel, external_user_id=external_user_id, flow_id=flow_id)
            if isinstance(inbound, Started):
                return started
            result = await self.handle(started.conversation.id, inbound, channel_message_id=channel_message_id)
            return TurnResult(conversation=result.conversation, replies=started.replies + result.replies,
                              inbound=result.inbound, duplicate=result.duplicate)
        return await self.handle(record.id, inbound, channel_message_id=channel_message_id)

    async def take_over(self, conversation_id: str, agent: str) -> TurnResult:
        """A rep claims the conversation."""
        return await self._push(conversation_id, HumanTookOver(agent=agent))

    async def give_back(self, conversation_id: str, agent: str = "") -> TurnResult:
        """The rep hands the conversation back to the bot."""
        return await self._push(conversation_id, ReturnedToBot(agent=agent))

    async def fire_due_timers(self, limit: int = 100) -> int:
        """Fire every timer that is due, each exactly once. Returns how many fired."""
        async with self.store.transaction() as uow:
            due = await uow.due_timers(self.clock(), limit)
        fired = 0
        for timer in due:
            if timer.id is not None and await self._fire_timer(timer.id, timer):
                fired += 1
        return fired

    async def history(self, conversation_id: str, *, after_id: int | None = None) -> list[MessageRecord]:
        async with self.store.transaction() as uow:
            return await uow.list_messages(conversation_id, after_id=after_id)

    async def lead(self, conversation_id: str) -> LeadSummary | None:
        """The latest lead summary of a conversation (what sales sees), if one was recorded."""
        async with self.store.transaction() as uow:
            record = await uow.get_lead(conversation_id)
        return record.lead if record else None

    async def get(self, conversation_id: str) -> ConversationRecord | None:
        async with self.store.transaction() as uow:
            return await uow.get_conversation(conversation_id)

    # ------------------------------------------------------------------ internals

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            if len(self._locks) > 10_000:  # drop idle locks so memory stays flat
                for stale in [k for k, v in self._locks.items() if not v.locked()]:
                    del self._locks[stale]
            lock = self._locks[key] = asyncio.Lock()
        return lock

    async def _handle(self, conversation_id: str, inbound: Inbound, channel_message_id: str | None) -> TurnResult:
        async with self.store.transaction() as uow:
            record = await uow.get_conversation(conversation_id, for_update=True)
            if record is None:
                raise UnknownConversation(conversation_id)
            now = self.clock()
            flow = await self._flow_for(uow, record.state)
            stored_in = None
            if isinstance(inbound, (TextReceived, ChoiceMade)):
                # Storing the message is the dedup check: a channel message id seen before stores nothing.
                stored_in = await uow.add_inbound(_inbound_record(record, flow, inbound, channel_message_id, now))
                if stored_in is None:
                    return await self._replay(uow, record, channel_message_id or "")
            turn = engine.step(flow, record.state, inbound, now)
            record = _advance(record, flow, turn.state, now)
            await uow.update_conversation(record, lead_changed=_lead_changed(turn))
            replies = await self._save_turn(uow, record, turn, stored_in.id if stored_in else None, now)
        return TurnResult(conversation=record, replies=replies, inbound=stored_in)

    @staticmethod
    async def _replay(uow: UnitOfWork, record: ConversationRecord, channel_message_id: str) -> TurnResult:
        """A duplicate delivery: the first delivery's message and replies, nothing processed again."""
        seen = await uow.find_inbound(record.channel, channel_message_id)
        if seen is None or seen.id is None:
            raise StorageError(f"channel message id {channel_message_id!r} of conversation {record.id} is already "
                               "held by an outbound message; inbound ids must be unique per channel")
        replies = tuple(await uow.replies_to(seen.id))
        return TurnResult(conversation=record, replies=replies, inbound=seen, duplicate=True)

    async def _push(self, conversation_id: str, inbound: Inbound) -> TurnResult:
        result = await self.handle(conversation_id, inbound)
        await self._notify(result.conversation, result.replies)
        return result

    async def _fire_timer(self, timer_id: int, timer: TimerRecord) -> bool:
        async with self._lock(timer.conversation_id):
            fired = await _again_if_changed(lambda: self._fire_timer_once(timer_id, timer))
        if fired is None:
            return False
        record, replies = fired
        await self._notify(record, replies)
        return True

    async def _fire_timer_once(self, timer_id: int, timer: TimerRecord
                               ) -> tuple[ConversationRecord, tuple[MessageRecord, ...]] | None:
        async with self.store.transaction() as uow:
            now = self.clock()
            if not await uow.claim_timer(timer_id, now):
                return None
            record = await uow.get_conversation(timer.conversation_id, for_update=True)
            if record is None:
                return None
            flow = await self._flow_for(uow, record.state)
            turn = engine.step(flow, record.state, TimerFired(key=timer.key), now)
            record = _advance(record, flow, turn.state, now)
            await uow.update_conversation(record, lead_changed=_lead_changed(turn))
            replies = await self._save_turn(uow, record, turn, None, now)
        return record, replies

    async def _flow_for(self, uow: UnitOfWork, state: ConversationState) -> CompiledFlow:
        flow = self.flows.version(state.flow_id, state.flow_version)
        if flow is None:
            stored = await uow.get_flow_version(state.flow_id, state.flow_version)
            if stored is None:
                raise StorageError(f"flow {state.flow_id!r} version {state.flow_version} is not in the database; "
                                   "restore the flow_versions table from a backup")
            flow = self.flows.load_version(state.flow_id, state.flow_version, stored.content)
        return flow

    async def _save_turn(self, uow: UnitOfWork, record: ConversationRecord, turn: Turn, reply_to: int | None,
                         now: datetime) -> tuple[MessageRecord, ...]:
        replies = await uow.add_messages([_outbound_record(record, reply, reply_to, now) for reply in turn.replies])
        if turn.transitions:
            await uow.add_transitions([
                TransitionRecord(conversation_id=record.id, flow_id=turn.state.flow_id,
                                 flow_version=turn.state.flow_version, source=t.source, dest=t.dest,
                                 trigger=t.trigger, turn=t.turn, at=now)
                for t in turn.transitions
            ])
        for effect in turn.effects:
            await self._apply(uow, record, effect, now)
        return tuple(replies)

    async def _apply(self, uow: UnitOfWork, record: ConversationRecord, effect: Effect, now: datetime) -> None:
        """Carry out one effect in the turn's transaction. LeadUpdated is not here: the conversation row holds
        the lead (see _lead_changed)."""
        if isinstance(effect, ScheduleTimer):
            await uow.schedule_timer(TimerRecord(conversation_id=record.id, key=effect.key, due_at=effect.due_at))
        elif isinstance(effect, CancelTimers):
            await uow.cancel_timers(record.id, effect.prefix)
        elif isinstance(effect, RequestHandoff):
            await uow.add_outbox(OutboxRecord(conversation_id=record.id, kind="handoff", created_at=now, payload={
                "reason": effect.reason, "team": effect.team, "repeat": effect.repeat,
                "lead": lead_to_json(effect.lead)}))
            log.info("handoff requested", extra={"conversation": record.id, "reason": effect.reason})
        elif isinstance(effect, RelayToHuman):
            await uow.add_outbox(OutboxRecord(conversation_id=record.id, kind="relay", created_at=now,
                                              payload={"text": effect.text}))
        elif isinstance(effect, ConversationEnded):
            log.info("conversation ended", extra={"conversation": record.id, "outcome": effect.outcome.value})
        elif isinstance(effect, Unsubscribed):
            await uow.cancel_timers(record.id)

    async def _notify(self, record: ConversationRecord, messages: Sequence[MessageRecord]) -> None:
        if not messages:
            return
        for listener in self._listeners:
            try:
                await listener(record, messages)
            except Exception:
                log.exception("push listener failed", extra={"conversation": record.id})


# A turn reads its conversation, then saves it only over the revision it read. Another worker that saved the
# same conversation meanwhile makes the save fail and the transaction roll back; the turn then runs again on
# the row as it now is (the store forgets what it remembered of it). Each retry is a fresh transaction.
TURN_ATTEMPTS = 3


async def _again_if_changed(run: Callable[[], Awaitable[Result]]) -> Result:
    attempt = 1
    while True:
        try:
            return await run()
        except ConversationChanged as exc:
            if attempt == TURN_ATTEMPTS:
                raise
            log.info("conversation changed under the turn; running it again",
                     extra={"conversation": exc.conversation_id, "attempt": attempt})
            attempt += 1


def _advance(record: ConversationRecord, flow: CompiledFlow, state: ConversationState,
             now: datetime) -> ConversationRecord:
    return ConversationRecord(id=record.id, channel=record.channel, external_user_id=record.external_user_id,
                              state=state, tier=_tier(flow, state), attributes=record.attributes,
                              created_at=record.created_at, updated_at=now, revision=record.revision)


def _lead_changed(turn: Turn) -> bool:
    """The turn recorded a lead. Its summary is the state the turn ends in (LeadUpdated), which the conversation
    row saves, so the store keeps only the date (see Store.get_lead)."""
    return any(isinstance(effect, LeadUpdated) for effect in turn.effects)


def _tier(flow: CompiledFlow, state: ConversationState) -> str:
    return str(flow.scoring.tier(state.score))


def _labels(flow: CompiledFlow, state: ConversationState) -> dict[str, str]:
    """Option id -> label of the pending question, so a pressed button is stored as what the prospect saw."""
    pending = flow.states.get(state.pending) if state.pending else None
    question = pending.question if pending else None
    return {option.id: option.label for option in question.options} if question else {}


def _inbound_record(record: ConversationRecord, flow: CompiledFlow, inbound: TextReceived | ChoiceMade,
                    channel_message_id: str | None, now: datetime) -> MessageRecord:
    if isinstance(inbound, TextReceived):
        text, payload = inbound.text, {}
    else:
        labels = _labels(flow, record.state)
        picked = inbound.option.split(",")
        text = ", ".join(labels.get(option, option) for option in picked)
        payload = {"choice": inbound.option}
    return MessageRecord(conversation_id=record.id, direction=Direction.IN, author=Author.PROSPECT, text=text,
                         payload=payload, channel=record.channel, channel_message_id=channel_message_id,
                         created_at=now)


def outbound_payload(reply: Outbound) -> dict[str, object]:
    """The JSON payload stored with a bot message: what channels need to render it."""
    return {
        "state": reply.state,
        "options": [{"id": o.id, "label": o.label} for o in reply.options],
        "buttons": [{"label": b.label, "url": b.url} for b in reply.buttons],
        "multiple": reply.multiple,
    }


def _outbound_record(record: ConversationRecord, reply: Outbound, reply_to: int | None,
                     now: datetime) -> MessageRecord:
    return MessageRecord(conversation_id=record.id, direction=Direction.OUT, author=Author.BOT, text=reply.text,
                         payload=outbound_payload(reply), cause_kind=str(reply.cause.kind),
                         cause_id=reply.cause.id, channel=record.channel, reply_to=reply_to, created_at=now)
