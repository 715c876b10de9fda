"""The Store contract, run against every implementation: in-memory, SQLite, PostgreSQL when configured."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from bot.engine.types import ConversationState, LeadSummary, Outcome, ScoreEntry, Status, Tier
from bot.errors import ConversationChanged, StorageError
from storage.repository import (
    Author,
    ConversationRecord,
    Direction,
    FlowVersionRecord,
    LeadRecord,
    MessageRecord,
    OutboxRecord,
    Store,
    TimerRecord,
    TransitionRecord,
    UnitOfWork,
)

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
NewConversation = Callable[..., ConversationRecord]


async def _insert(store: Store, new_conversation: NewConversation, **overrides: object) -> ConversationRecord:
    record = new_conversation(**overrides)
    async with store.transaction() as uow:
        await uow.insert_conversation(record)
    return record


def _ended(state: ConversationState) -> ConversationState:
    return attrs.evolve(
        state,
        state="done",
        status=Status.ENDED,
        outcome=Outcome.QUALIFIED,
        ledger=(*state.ledger, ScoreEntry(rule="budget", points=15, reason="budget over 1k", turn=4)),
        values={**state.values, "budget": 2000},
        pending=None,
        turn=state.turn + 1,
        updated_at=state.updated_at + timedelta(minutes=1),
    )


def _inbound(
    conversation_id: str, text: str, message_id: str | None, channel: str = "webchat"
) -> MessageRecord:
    return MessageRecord(
        conversation_id=conversation_id,
        direction=Direction.IN,
        author=Author.PROSPECT,
        text=text,
        created_at=NOW,
        channel=channel,
        channel_message_id=message_id,
    )


def _reply(conversation_id: str, text: str, reply_to: int | None) -> MessageRecord:
    return MessageRecord(
        conversation_id=conversation_id,
        direction=Direction.OUT,
        author=Author.BOT,
        text=text,
        created_at=NOW,
        payload={"options": [{"id": "small", "label": "1-10"}], "state": "company_size"},
        cause_kind="question",
        cause_id="company_size",
        channel="webchat",
        reply_to=reply_to,
    )


def _timer(conversation_id: str, key: str, due_in: timedelta) -> TimerRecord:
    return TimerRecord(conversation_id=conversation_id, key=key, due_at=NOW + due_in)


# ---------------------------------------------------------------- conversations


async def test_conversation_round_trip_keeps_state_and_normalises_timestamps_to_utc(
    store: Store, new_conversation: NewConversation
) -> None:
    record = await _insert(store, new_conversation)

    async with store.transaction() as uow:
        loaded = await uow.get_conversation(record.id)
        locked = await uow.get_conversation(record.id, for_update=True)

    assert loaded == record
    assert locked == record
    assert loaded is not None
    assert loaded.state == record.state
    assert loaded.state.score == 20
    assert loaded.state.started_at.utcoffset() == record.state.started_at.utcoffset()
    assert loaded.created_at.utcoffset() == timedelta(0)
    assert loaded.updated_at.utcoffset() == timedelta(0)


async def test_any_value_a_flow_can_hold_round_trips_exactly(
    store: Store, new_conversation: NewConversation
) -> None:
    """JSON columns take integers beyond 64 bits, floats, unicode, control characters and lists unchanged."""
    record = await _insert(store, new_conversation)
    values = {"huge": 2**70 + 1, "negative": -(2**65) - 3, "ratio": 0.1, "big_float": 1e300,
              "text": "Zoë 👋 \u202e <b>\x01", "tags": ["a", "ß"], "flag": True, "nothing": None}
    changed = attrs.evolve(record, state=attrs.evolve(record.state, values=values), tier="hot", updated_at=NOW)
    async with store.transaction() as uow:
        await uow.update_conversation(changed, lead_changed=True)
    async with store.transaction() as uow:
        loaded = await uow.get_conversation(record.id)
        lead = await uow.get_lead(record.id)

    assert loaded is not None and lead is not None
    assert loaded.state.values == values
    assert lead.lead.values == values
    assert type(loaded.state.values["huge"]) is int


async def test_get_conversation_unknown_is_none(store: Store) -> None:
    async with store.transaction() as uow:
        assert await uow.get_conversation("0" * 32) is None
        assert await uow.get_conversation("0" * 32, for_update=True) is None


async def test_update_conversation_replaces_state_but_not_identity_or_created_at(
    store: Store, new_conversation: NewConversation
) -> None:
    record = await _insert(store, new_conversation)
    changed = attrs.evolve(
        record,
        state=_ended(record.state),
        tier="hot",
        attributes={"locale": "de"},
        channel="telegram",
        external_user_id="someone-else",
        created_at=NOW + timedelta(days=9),
        updated_at=NOW,
    )

    async with store.transaction() as uow:
        await uow.update_conversation(changed)
    async with store.transaction() as uow:
        loaded = await uow.get_conversation(record.id)
        for_update = await uow.get_conversation(record.id, for_update=True)

    # The identity and the creation time stay as inserted.
    assert loaded == for_update == attrs.evolve(
        changed, channel=record.channel, external_user_id=record.external_user_id, created_at=record.created_at,
        revision=1)


async def test_successive_updates_save_what_each_changed_and_keep_what_it_passed_on(
    store: Store, new_conversation: NewConversation
) -> None:
    """A turn passes the row's values and attributes on as they are unless it changes them; a value changed to
    an equal one of another type (1 to True, 1 to 1.0) is a change, and so is a new flow version."""
    record = await _insert(store, new_conversation, attributes={"source": "ad"})
    async with store.transaction() as uow:
        current = await uow.get_conversation(record.id, for_update=True)
    assert current is not None
    steps = [
        lambda r: attrs.evolve(r.state, turn=r.state.turn + 1),  # values and attributes passed on as they are
        lambda r: attrs.evolve(r.state, values={**r.state.values, "consent": 1}),
        lambda r: attrs.evolve(r.state, values={**r.state.values, "consent": True}),
        lambda r: attrs.evolve(r.state, values={**r.state.values, "consent": 1.0}),
        lambda r: attrs.evolve(r.state, flow_version="v2"),
    ]
    for number, step in enumerate(steps, start=1):
        changed = attrs.evolve(current, state=step(current), updated_at=NOW)
        async with store.transaction() as uow:
            await uow.update_conversation(changed)
        async with store.transaction() as uow:
            from_row = await uow.get_conversation(record.id)
            current = await uow.get_conversation(record.id, for_update=True)
        assert from_row == current == attrs.evolve(changed, revision=number)
        assert from_row is not None and from_row.attributes == {"source": "ad"}
        assert [type(v) for v in from_row.state.values.values()] == [type(v) for v in changed.state.values.values()]
    assert current is not None and current.state.flow_version == "v2"


async def test_writes_are_visible_later_in_the_same_transaction(
    store: Store, new_conversation: NewConversation
) -> None:
    record = new_conversation()
    changed = attrs.evolve(record, state=_ended(record.state), updated_at=NOW)

    async with store.transaction() as uow:
        await uow.insert_conversation(record)
        assert await uow.get_conversation(record.id) == record
        await uow.update_conversation(changed)
        saved = attrs.evolve(changed, revision=1)
        assert await uow.get_conversation(record.id) == saved
        assert await uow.get_conversation(record.id, for_update=True) == saved
        assert await uow.find_latest_conversation("webchat", "visitor-1") == saved


async def test_insert_twice_or_update_unknown_conversation_raises(
    store: Store, new_conversation: NewConversation
) -> None:
    record = await _insert(store, new_conversation)

    with pytest.raises(StorageError, match=f"conversation {record.id}: .* already exists"):
        async with store.transaction() as uow:
            await uow.insert_conversation(record)
    with pytest.raises(StorageError, match=r"cannot update conversation 0+: it does not exist"):
        async with store.transaction() as uow:
            await uow.update_conversation(attrs.evolve(record, id="0" * 32))


async def test_an_update_over_a_revision_that_moved_on_is_refused_and_saves_nothing(
    store: Store, new_conversation: NewConversation
) -> None:
    """Two turns that read the same revision: the first to save wins, the second learns it must run again."""
    record = await _insert(store, new_conversation)
    first = attrs.evolve(record, state=attrs.evolve(record.state, turn=10), updated_at=NOW)
    second = attrs.evolve(record, state=attrs.evolve(record.state, turn=20), updated_at=NOW)
    async with store.transaction() as uow:
        await uow.update_conversation(first)

    with pytest.raises(ConversationChanged, match=rf"conversation {record.id} .*\(revision 0, now 1\).*run the turn"):
        async with store.transaction() as uow:
            await uow.update_conversation(attrs.evolve(second, tier="hot"), lead_changed=True)
    async with store.transaction() as uow:
        loaded = await uow.get_conversation(record.id)
        reread = await uow.get_conversation(record.id, for_update=True)
        assert await uow.get_lead(record.id) is None
    assert loaded == reread == attrs.evolve(first, created_at=record.created_at, revision=1)


async def test_find_latest_conversation_picks_the_most_recently_updated(
    store: Store, new_conversation: NewConversation
) -> None:
    await _insert(store, new_conversation, updated_at=NOW - timedelta(days=2))
    latest = await _insert(store, new_conversation, updated_at=NOW)
    await _insert(store, new_conversation, updated_at=NOW - timedelta(days=1))
    await _insert(store, new_conversation, external_user_id="visitor-2", updated_at=NOW + timedelta(days=1))
    await _insert(store, new_conversation, channel="telegram", updated_at=NOW + timedelta(days=1))

    async with store.transaction() as uow:
        found = await uow.find_latest_conversation("webchat", "visitor-1")
        missing = await uow.find_latest_conversation("webchat", "nobody")

    assert found == latest
    assert missing is None


async def test_rollback_on_exception_leaves_nothing_behind(
    store: Store, new_conversation: NewConversation
) -> None:
    record = new_conversation()

    async def write_everything_then_fail() -> None:
        async with store.transaction() as uow:
            await uow.insert_conversation(record)
            await uow.add_message(_inbound(record.id, "hi", "m-1"))
            await uow.schedule_timer(_timer(record.id, "nudge", timedelta(0)))
            await uow.add_outbox(
                OutboxRecord(conversation_id=record.id, kind="alert", payload={}, created_at=NOW)
            )
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await write_everything_then_fail()

    async with store.transaction() as uow:
        assert await uow.get_conversation(record.id) is None
        assert await uow.find_inbound("webchat", "m-1") is None
        assert await uow.due_timers(NOW) == []
        assert await uow.pending_outbox() == []


async def test_naive_datetimes_are_refused(store: Store, new_conversation: NewConversation) -> None:
    record = new_conversation(created_at=datetime(2026, 1, 5, 9, 0))

    with pytest.raises(StorageError, match=r"created_at is a naive datetime .* datetime.now\(UTC\)"):
        async with store.transaction() as uow:
            await uow.insert_conversation(record)


# ---------------------------------------------------------------- messages


async def test_messages_come_back_in_order_with_after_id_paging(
    store: Store, new_conversation: NewConversation
) -> None:
    record = await _insert(store, new_conversation)
    other = await _insert(store, new_conversation)
    async with store.transaction() as uow:
        stored = [await uow.add_message(_inbound(record.id, f"line {i}", f"m-{i}")) for i in range(5)]
        await uow.add_message(_inbound(other.id, "elsewhere", "x-1"))

    async with store.transaction() as uow:
        everything = await uow.list_messages(record.id)
        after_second = await uow.list_messages(record.id, after_id=stored[1].id)
        first_two = await uow.list_messages(record.id, limit=2)
        after_last = await uow.list_messages(record.id, after_id=stored[-1].id)

    ids = [m.id or 0 for m in stored]
    assert 0 not in ids
    assert ids == sorted(ids)
    assert everything == stored
    assert [m.text for m in after_second] == ["line 2", "line 3", "line 4"]
    assert first_two == stored[:2]
    assert after_last == []


async def test_add_message_returns_the_stored_record(store: Store, new_conversation: NewConversation) -> None:
    record = await _insert(store, new_conversation)
    reply = _reply(record.id, "How big is your team?", None)

    async with store.transaction() as uow:
        stored = await uow.add_message(reply)
        listed = await uow.list_messages(record.id)

    assert stored.id is not None
    assert stored == attrs.evolve(reply, id=stored.id)
    assert listed == [stored]


async def test_replies_to_lists_the_answers_to_one_inbound_message(
    store: Store, new_conversation: NewConversation
) -> None:
    record = await _insert(store, new_conversation)
    async with store.transaction() as uow:
        first = await uow.add_message(_inbound(record.id, "hi", "m-1"))
        second = await uow.add_message(_inbound(record.id, "40 people", "m-2"))
        assert first.id is not None
        assert second.id is not None
        answers = [await uow.add_message(_reply(record.id, f"answer {i}", first.id)) for i in range(2)]
        await uow.add_message(_reply(record.id, "to the second", second.id))

    async with store.transaction() as uow:
        assert await uow.replies_to(first.id) == answers
        assert [m.text for m in await uow.replies_to(second.id)] == ["to the second"]
        assert await uow.replies_to(answers[0].id or 0) == []


async def test_inbound_dedup_by_channel_and_channel_message_id(
    store: Store, new_conversation: NewConversation
) -> None:
    record = await _insert(store, new_conversation)
    async with store.transaction() as uow:
        first = await uow.add_message(_inbound(record.id, "hi", "m-1"))
        await uow.add_message(_inbound(record.id, "same id, other channel", "m-1", channel="telegram"))
        await uow.add_message(_reply(record.id, "no channel id", first.id))
        await uow.add_message(_reply(record.id, "no channel id either", first.id))

    with pytest.raises(StorageError, match="duplicate message: channel 'webchat' message id 'm-1'"):
        async with store.transaction() as uow:
            await uow.add_message(_inbound(record.id, "hi again", "m-1"))

    async with store.transaction() as uow:
        assert await uow.find_inbound("webchat", "m-1") == first
        assert await uow.find_inbound("webchat", "m-404") is None
        assert len(await uow.list_messages(record.id)) == 4


async def test_a_refused_duplicate_leaves_the_transaction_usable(
    store: Store, new_conversation: NewConversation
) -> None:
    record = await _insert(store, new_conversation)
    async with store.transaction() as uow:
        await uow.add_message(_inbound(record.id, "hi", "m-1"))
        with pytest.raises(StorageError, match="duplicate message"):
            await uow.add_message(_inbound(record.id, "hi", "m-1"))
        await uow.add_message(_inbound(record.id, "next", "m-2"))

    async with store.transaction() as uow:
        assert [m.text for m in await uow.list_messages(record.id)] == ["hi", "next"]


async def test_a_message_needs_an_existing_conversation(store: Store) -> None:
    with pytest.raises(StorageError, match=r"cannot add a message to conversation 0+: .* does not exist"):
        async with store.transaction() as uow:
            await uow.add_message(_inbound("0" * 32, "hi", "m-1"))
    with pytest.raises(StorageError, match=r"cannot add a message to conversation 0+: .* does not exist"):
        async with store.transaction() as uow:
            await uow.add_inbound(_inbound("0" * 32, "hi", "m-1"))
    with pytest.raises(StorageError, match=r"cannot add a message to conversation 0+: .* does not exist"):
        async with store.transaction() as uow:
            await uow.add_messages([_reply("0" * 32, "a", None), _reply("0" * 32, "b", None)])


async def test_add_inbound_stores_a_new_message_and_nothing_for_a_seen_channel_message_id(
    store: Store, new_conversation: NewConversation
) -> None:
    record = await _insert(store, new_conversation)
    async with store.transaction() as uow:
        first = await uow.add_inbound(_inbound(record.id, "hi", "m-1"))
        again = await uow.add_inbound(_inbound(record.id, "hi, resent", "m-1"))
        elsewhere = await uow.add_inbound(_inbound(record.id, "same id, other channel", "m-1", channel="telegram"))
        unkeyed = [await uow.add_inbound(_inbound(record.id, "no id", None)) for _ in range(2)]
    async with store.transaction() as uow:
        later = await uow.add_inbound(_inbound(record.id, "resent in a later transaction", "m-1"))
        listed = await uow.list_messages(record.id)

    assert first is not None and first.id is not None
    assert first == attrs.evolve(_inbound(record.id, "hi", "m-1"), id=first.id)
    assert again is None and later is None
    assert elsewhere is not None and all(message is not None for message in unkeyed)
    assert [m.text for m in listed] == ["hi", "same id, other channel", "no id", "no id"]
    async with store.transaction() as uow:
        assert await uow.find_inbound("webchat", "m-1") == first


async def test_add_messages_stores_a_batch_in_order(store: Store, new_conversation: NewConversation) -> None:
    record = await _insert(store, new_conversation)
    async with store.transaction() as uow:
        question = await uow.add_message(_inbound(record.id, "hi", "m-1"))
        assert question.id is not None
        replies = [_reply(record.id, f"answer {i}", question.id) for i in range(3)]
        stored = await uow.add_messages(replies)
        single = await uow.add_messages([_reply(record.id, "one more", None)])
        none = await uow.add_messages([])

    ids = [m.id or 0 for m in stored]
    assert ids == sorted(ids) and 0 not in ids and len(set(ids)) == 3
    assert stored == [attrs.evolve(reply, id=message_id) for reply, message_id in zip(replies, ids, strict=True)]
    assert len(single) == 1 and (single[0].id or 0) > ids[-1]
    assert none == []
    async with store.transaction() as uow:
        assert await uow.replies_to(question.id) == stored


# ---------------------------------------------------------------- leads and flows


async def test_the_lead_is_the_state_dated_by_the_last_turn_that_changed_it(
    store: Store, new_conversation: NewConversation
) -> None:
    record = new_conversation(tier="cold")
    later = attrs.evolve(record, updated_at=NOW + timedelta(minutes=5))
    hot_state = attrs.evolve(record.state, state="done", status=Status.ENDED, outcome=Outcome.QUALIFIED,
                             ledger=(*record.state.ledger, ScoreEntry(rule="budget", points=60, reason="big", turn=4)))
    latest = attrs.evolve(record, state=hot_state, tier="hot", updated_at=NOW + timedelta(minutes=9))

    async with store.transaction() as uow:
        await uow.insert_conversation(record)
        assert await uow.get_lead(record.id) is None  # no turn recorded a lead yet
    async with store.transaction() as uow:
        await uow.update_conversation(later, lead_changed=True)
        assert await uow.get_lead(record.id) == LeadRecord(
            conversation_id=record.id, lead=LeadSummary.of(record.state, Tier.COLD), updated_at=later.updated_at)
    async with store.transaction() as uow:  # a turn that leaves the lead alone keeps its date
        moved = attrs.evolve(later, state=attrs.evolve(record.state, pending=None), revision=1,
                             updated_at=NOW + timedelta(minutes=7))
        await uow.update_conversation(moved)
        assert await uow.get_lead(record.id) == LeadRecord(
            conversation_id=record.id, lead=LeadSummary.of(moved.state, Tier.COLD), updated_at=later.updated_at)
        await uow.update_conversation(attrs.evolve(latest, revision=2), lead_changed=True)
    async with store.transaction() as uow:
        found = await uow.get_lead(record.id)
    assert found == LeadRecord(conversation_id=record.id, lead=LeadSummary.of(hot_state, Tier.HOT),
                               updated_at=latest.updated_at)
    assert found.lead.score == 80 and found.lead.outcome is Outcome.QUALIFIED
    assert [entry.rule for entry in found.lead.reasons] == ["team_size", "budget"]


async def test_a_new_conversation_can_start_with_its_lead(store: Store, new_conversation: NewConversation) -> None:
    record = new_conversation(tier="warm")
    async with store.transaction() as uow:
        await uow.insert_conversation(record, lead_changed=True)
    async with store.transaction() as uow:
        assert await uow.get_lead(record.id) == LeadRecord(
            conversation_id=record.id, lead=LeadSummary.of(record.state, Tier.WARM), updated_at=record.updated_at)
        assert await uow.get_lead("0" * 32) is None


async def test_a_lead_without_a_tier_is_refused_by_name(store: Store, new_conversation: NewConversation) -> None:
    record = new_conversation(tier=None)
    message = rf"conversation {record.id}: a lead needs the record's tier"
    with pytest.raises(StorageError, match=message):
        async with store.transaction() as uow:
            await uow.insert_conversation(record, lead_changed=True)
    async with store.transaction() as uow:
        await uow.insert_conversation(record)
        with pytest.raises(StorageError, match=message):
            await uow.update_conversation(attrs.evolve(record, updated_at=NOW), lead_changed=True)
        assert await uow.get_lead(record.id) is None


async def test_save_flow_version_is_idempotent(store: Store) -> None:
    first = FlowVersionRecord(flow_id="demo", version="abc123", content="states: {}\n", created_at=NOW)

    async with store.transaction() as uow:
        await uow.save_flow_version(first)
    async with store.transaction() as uow:
        await uow.save_flow_version(attrs.evolve(first, created_at=NOW + timedelta(days=1)))

    async with store.transaction() as uow:
        assert await uow.get_flow_version("demo", "abc123") == first
        assert await uow.get_flow_version("demo", "other") is None


# ---------------------------------------------------------------- timers


async def test_schedule_timer_replaces_the_pending_timer_with_the_same_key(
    store: Store, new_conversation: NewConversation
) -> None:
    record = await _insert(store, new_conversation)
    async with store.transaction() as uow:
        await uow.schedule_timer(_timer(record.id, "nudge", timedelta(minutes=1)))
        old = (await uow.due_timers(NOW + timedelta(hours=1)))[0]
        await uow.schedule_timer(_timer(record.id, "nudge", timedelta(minutes=30)))
        await uow.schedule_timer(_timer(record.id, "follow_up", timedelta(minutes=10)))

    async with store.transaction() as uow:
        due = await uow.due_timers(NOW + timedelta(hours=1))
        claimed_old = await uow.claim_timer(old.id or 0, NOW)

    assert [(t.key, t.due_at) for t in due] == [
        ("follow_up", NOW + timedelta(minutes=10)),
        ("nudge", NOW + timedelta(minutes=30)),
    ]
    assert all(t.fired_at is None and not t.cancelled for t in due)
    assert claimed_old is False


async def test_cancel_timers_by_exact_case_sensitive_prefix(
    store: Store, new_conversation: NewConversation
) -> None:
    record = await _insert(store, new_conversation)
    other = await _insert(store, new_conversation)
    async with store.transaction() as uow:
        for key in ("nudge_1", "nudge_2", "nudgeX1", "NUDGE_3", "follow_up"):
            await uow.schedule_timer(_timer(record.id, key, timedelta(0)))
        await uow.schedule_timer(_timer(other.id, "nudge_1", timedelta(0)))

    async with store.transaction() as uow:
        # '_' would be a LIKE wildcard and SQLite's LIKE ignores case: neither may leak in.
        assert await uow.cancel_timers(record.id, "nudge_") == 2
        assert await uow.cancel_timers(record.id, "nudge_") == 0
        remaining = sorted(t.key for t in await uow.due_timers(NOW) if t.conversation_id == record.id)
        assert remaining == ["NUDGE_3", "follow_up", "nudgeX1"]
        assert await uow.cancel_timers(record.id) == 3
        assert [t.conversation_id for t in await uow.due_timers(NOW)] == [other.id]


async def test_due_timers_are_oldest_first_limited_and_only_due(
    store: Store, new_conversation: NewConversation
) -> None:
    record = await _insert(store, new_conversation)
    async with store.transaction() as uow:
        for minutes in (5, -30, 0, -10, 60):
            await uow.schedule_timer(_timer(record.id, f"t{minutes}", timedelta(minutes=minutes)))

    async with store.transaction() as uow:
        due = await uow.due_timers(NOW)
        first_two = await uow.due_timers(NOW, limit=2)
        later = await uow.due_timers(NOW + timedelta(hours=2))

    assert [t.key for t in due] == ["t-30", "t-10", "t0"]
    assert [t.key for t in first_two] == ["t-30", "t-10"]
    assert len(later) == 5
    assert all(t.due_at.utcoffset() == timedelta(0) for t in later)


async def test_claim_timer_succeeds_exactly_once(store: Store, new_conversation: NewConversation) -> None:
    record = await _insert(store, new_conversation)
    async with store.transaction() as uow:
        await uow.schedule_timer(_timer(record.id, "nudge", timedelta(0)))
        await uow.schedule_timer(_timer(record.id, "cancelled", timedelta(0)))
        await uow.cancel_timers(record.id, "cancelled")
        due = await uow.due_timers(NOW)

    timer_id = due[0].id
    assert timer_id is not None
    async with store.transaction() as uow:
        assert await uow.claim_timer(timer_id, NOW) is True
    async with store.transaction() as uow:
        assert await uow.claim_timer(timer_id, NOW) is False
        assert await uow.claim_timer(timer_id + 1, NOW) is False  # the cancelled one
        assert await uow.claim_timer(999_999, NOW) is False
        assert await uow.due_timers(NOW) == []


async def test_of_many_concurrent_claims_exactly_one_wins(
    store: Store, new_conversation: NewConversation
) -> None:
    record = await _insert(store, new_conversation)
    async with store.transaction() as uow:
        await uow.schedule_timer(_timer(record.id, "nudge", timedelta(0)))
        (timer,) = await uow.due_timers(NOW)

    async def claim() -> bool:
        async with store.transaction() as uow:
            return await uow.claim_timer(timer.id or 0, NOW)

    results = await asyncio.gather(*(claim() for _ in range(10)))

    assert results.count(True) == 1


# ---------------------------------------------------------------- event log and outbox


async def test_transitions_are_appended_and_listed_in_order(
    store: Store, new_conversation: NewConversation
) -> None:
    record = await _insert(store, new_conversation)
    other = await _insert(store, new_conversation)

    def step(conversation_id: str, source: str, dest: str, turn: int) -> TransitionRecord:
        return TransitionRecord(
            conversation_id=conversation_id,
            flow_id="demo",
            flow_version="v1",
            source=source,
            dest=dest,
            trigger="answer",
            turn=turn,
            at=NOW + timedelta(seconds=turn),
        )

    first = [step(record.id, "start", "company_size", 1), step(record.id, "company_size", "budget", 2)]
    async with store.transaction() as uow:
        await uow.add_transitions(first)
        await uow.add_transitions([step(other.id, "start", "done", 1)])
        await uow.add_transitions([step(record.id, "budget", "done", 3)])
        await uow.add_transitions([])

    async with store.transaction() as uow:
        listed = await uow.list_transitions(record.id)
        assert await uow.list_transitions("0" * 32) == []

    assert listed == [*first, step(record.id, "budget", "done", 3)]


async def test_outbox_add_pending_and_done(store: Store, new_conversation: NewConversation) -> None:
    record = await _insert(store, new_conversation)
    async with store.transaction() as uow:
        alert = await uow.add_outbox(
            OutboxRecord(conversation_id=record.id, kind="handoff", payload={"team": "sales"}, created_at=NOW)
        )
        relay = await uow.add_outbox(
            OutboxRecord(conversation_id=record.id, kind="relay", payload={"text": "hi"}, created_at=NOW)
        )
    assert alert.id is not None
    assert relay.id is not None
    assert alert.id < relay.id
    assert alert.payload == {"team": "sales"}

    async with store.transaction() as uow:
        assert await uow.pending_outbox() == [alert, relay]
        assert await uow.pending_outbox(limit=1) == [alert]
        await uow.mark_outbox_done(alert.id, NOW + timedelta(seconds=1))
        await uow.mark_outbox_done(
            alert.id, NOW + timedelta(seconds=9)
        )  # delivered once: the first time stays
    async with store.transaction() as uow:
        assert await uow.pending_outbox() == [relay]
        with pytest.raises(StorageError, match="cannot mark outbox row 999999 done: no such row"):
            await uow.mark_outbox_done(999_999, NOW)


async def test_the_unit_of_work_satisfies_the_port(store: Store) -> None:
    async with store.transaction() as uow:
        port: UnitOfWork = uow
        assert port is uow
    await store.ping()
