"""The routes build their responses as plain data; it must be exactly what the documented models would write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.webchat import (
    HistoryOut,
    MessageOut,
    SessionCreated,
    TurnOut,
    to_message,
    to_message_json,
    to_messages,
)
from bot.http.responses import json_bytes
from storage.repository import Author, Direction, MessageRecord

# Any text a message can hold: everything but lone surrogates, which JSON in UTF-8 cannot carry at all.
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
options = st.lists(st.fixed_dictionaries({"id": texts, "label": texts}), max_size=3)
urls = st.one_of(texts, st.sampled_from(["https://x.test/a?b=1", "HTTP://X.TEST", "mailto:a@b.test", "tel:+1",
                                         "javascript:alert(1)", "data:text/html,x", "ftp://x.test"]))
buttons = st.lists(st.fixed_dictionaries({"label": texts, "url": urls}), max_size=3)
payloads = st.fixed_dictionaries({}, optional={"state": st.one_of(st.none(), texts), "options": options,
                                               "buttons": buttons, "multiple": st.booleans(), "choice": texts})
times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                     timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]))
records = st.builds(
    MessageRecord, id=st.integers(1, 2**62), conversation_id=st.just("c" * 32),
    direction=st.sampled_from(Direction), author=st.sampled_from(Author), text=texts, created_at=times,
    payload=payloads)


@settings(max_examples=300)
@given(records)
def test_a_message_is_written_as_its_model_writes_it(record: MessageRecord) -> None:
    data = to_message(record)
    assert json_bytes(data).decode() == to_message_json(record) == MessageOut.model_validate(data).model_dump_json()
    if record.direction is Direction.IN:
        assert (data["options"], data["buttons"], data["multiple"], data["state"]) == ([], [], False, None)
    assert all(button["url"].lower().startswith(("http://", "https://", "mailto:", "tel:"))
               for button in data["buttons"])


@settings(max_examples=50)
@given(st.lists(records, min_size=1, max_size=4), st.booleans())
def test_responses_are_written_as_their_models_write_them(messages: list[MessageRecord], duplicate: bool) -> None:
    out = [to_message(m) for m in messages]
    turn = {"inbound": out[0], "messages": out[1:], "duplicate": duplicate}
    created = {"session_id": "s" * 32, "token": "t", "flow": "default", "messages": out}
    for model, data in ((TurnOut, turn), (SessionCreated, created), (HistoryOut, {"messages": out})):
        assert json_bytes(data).decode() == model.model_validate(data).model_dump_json()


@settings(max_examples=100)
@given(st.lists(st.tuples(records, st.integers(0, 2)), max_size=6))
def test_messages_are_written_one_by_one_whether_they_share_their_time_or_not(
        picks: list[tuple[MessageRecord, int]]) -> None:
    """to_messages formats a time shared by consecutive records once; each message comes out as to_message's."""
    messages = []
    for record, share in picks:  # 0: its own time; 1: the previous record's object; 2: an equal copy of it
        previous = messages[-1].created_at if messages else record.created_at
        at = record.created_at if not share else previous if share == 1 else previous.replace()
        messages.append(attrs.evolve(record, created_at=at))
    assert to_messages(messages) == [to_message(m) for m in messages]
