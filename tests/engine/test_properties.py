"""Property tests: no prospect text crashes the engine, and random walks always end or wait on a question."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine.compiled import CompiledFlow
from bot.engine.engine import step
from bot.engine.types import (
    ChoiceMade,
    ConversationState,
    Inbound,
    ScheduleTimer,
    Started,
    Status,
    TextReceived,
    TimerFired,
)
from bot.flow.compiler import compile_flow
from bot.flow.loader import load_flow_file
from tests.conftest import FLOWS, NOW

SHIPPED = [compile_flow(load_flow_file(path)) for path in sorted(FLOWS.glob("*.yaml"))]
SAMPLE_ANSWERS = [
    "Dana Scully", "Acme", "about 50 people", "1.2k", "$20k a year", "20 000 EUR", "next quarter", "ASAP",
    "not sure", "yes", "nope", "dana@example.com", "+44 20 7946 0958", "the second one", "1", "2", "3",
    "too expensive", "not now", "send me an email", "talk to a human", "start over", "how much does it cost",
    "skip", "", "🙂", "<b>hi</b>", "x" * 3000,
]


def question_states(flow: CompiledFlow) -> list[str]:
    return [sid for sid, state in flow.states.items() if state.question is not None]


def waiting_at(flow: CompiledFlow, sid: str) -> ConversationState:
    return ConversationState(flow_id=flow.id, flow_version=flow.version, channel="test", state=sid, pending=sid,
                             started_at=NOW, updated_at=NOW)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), text=st.text(max_size=300))
def test_any_text_at_any_question_gets_a_reply(data: st.DataObject, text: str) -> None:
    flow = data.draw(st.sampled_from(SHIPPED))
    sid = data.draw(st.sampled_from(question_states(flow)))
    turn = step(flow, waiting_at(flow, sid), TextReceived(text=text), NOW)
    assert turn.replies, f"no reply to {text!r} at {flow.id}:{sid}"
    assert all(isinstance(reply.text, str) for reply in turn.replies)


def invariant(flow: CompiledFlow, state: ConversationState) -> None:
    if state.status is Status.ACTIVE:
        assert state.pending is not None and flow.states[state.pending].question is not None, state
        assert state.state == state.pending
    else:
        assert state.pending is None or state.status is Status.HUMAN


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_walks_always_end_or_wait_on_a_question(data: st.DataObject) -> None:
    flow = data.draw(st.sampled_from(SHIPPED))
    turn = step(flow, None, Started(channel="test"), NOW)
    state, timers, now = turn.state, [e.key for e in turn.effects if isinstance(e, ScheduleTimer)], NOW
    invariant(flow, state)
    for _ in range(data.draw(st.integers(min_value=1, max_value=40))):
        question = flow.states[state.pending].question if state.pending else None
        choices: list[Inbound] = [TextReceived(text=t) for t in SAMPLE_ANSWERS]
        if question is not None:
            choices += [ChoiceMade(option=o.id) for o in question.options]
        choices += [TimerFired(key=k) for k in timers]
        inbound = data.draw(st.sampled_from(choices))
        now += timedelta(minutes=data.draw(st.integers(min_value=0, max_value=60 * 24 * 20)))
        turn = step(flow, state, inbound, now)
        state = turn.state
        timers += [e.key for e in turn.effects if isinstance(e, ScheduleTimer)]
        invariant(flow, state)
