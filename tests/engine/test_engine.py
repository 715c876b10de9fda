"""Engine behaviour, as table-driven transcripts on a small inline flow."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

import pytest

from bot.engine.engine import step
from bot.engine.types import (
    CancelTimers,
    CauseKind,
    ChoiceMade,
    ConversationEnded,
    ConversationState,
    HumanTookOver,
    LeadUpdated,
    MatchKind,
    Outcome,
    RelayToHuman,
    RequestHandoff,
    ReturnedToBot,
    ScheduleTimer,
    Started,
    Status,
    TextReceived,
    Tier,
    TimerFired,
    Turn,
    Unsubscribed,
)
from storage.repository import Author, Direction
from tests.conftest import NOW, make_flow

FLOW = """
id: mini
start: hello
scoring:
  hot: 50
  warm: 20
  on_hot: handoff
  rules:
    - {id: big, when: "size >= 100", points: 30, reason: "{{ size }} people"}
    - {id: boss, when: "role == 'boss'", points: 25, reason: "Decides"}
objections:
  too_expensive:
    examples: ["it's too expensive", "costs too much", "too pricey"]
    answer: "We have plans for every budget."
    max: 1
    on_repeat: handoff
  not_now:
    examples: ["not now", "maybe later", "bad timing"]
    answer: "No problem."
    then: {goto: later}
faqs:
  pricing:
    examples: ["how much does it cost", "what is the price"]
    answer: "From $10 a month."
states:
  hello:
    say: "Hi there!"
    next: ask_size
  ask_size:
    ask:
      type: number
      text: "How many people work with you?"
      save_as: size
      max_attempts: 2
    on_silence:
      - after: 1h
        say: "Still there?"
    next: ask_role
  ask_role:
    ask:
      type: choice
      text: "Your role?"
      save_as: role
      options: [boss, worker]
    next:
      - if: "role == 'boss'"
        goto: done
      - goto: later
  later:
    say: "Talk soon, team of {{ size }}."
    end: nurture
    on_silence:
      - after: 2d
        say: "Hello again!"
        goto: ask_role
  done:
    say: "Great!"
    end: qualified
"""


@pytest.fixture(scope="module")
def flow():  # type: ignore[no-untyped-def]
    return make_flow(FLOW)


@dataclass
class Talk:
    """Drives the pure engine one inbound at a time, keeping the latest state."""

    flow: object
    state: ConversationState | None = None
    turns: list[Turn] = field(default_factory=list)

    def send(self, inbound: object, at: timedelta = timedelta()) -> Turn:
        turn = step(self.flow, self.state, inbound, NOW + at)  # type: ignore[arg-type]
        self.state = turn.state
        self.turns.append(turn)
        return turn

    def say(self, text: str) -> Turn:
        return self.send(TextReceived(text=text))

    def start(self) -> Turn:
        return self.send(Started(channel="test"))


def texts(turn: Turn) -> list[str]:
    return [reply.text for reply in turn.replies]


def causes(turn: Turn) -> list[str]:
    return [f"{r.cause.kind.value}:{r.cause.id}" for r in turn.replies]


def test_start_says_hello_and_asks_first_question(flow) -> None:  # type: ignore[no-untyped-def]
    turn = Talk(flow).start()
    assert texts(turn) == ["Hi there!", "How many people work with you?"]
    assert causes(turn) == ["say:hello", "question:ask_size"]
    assert turn.state.pending == "ask_size"
    assert ScheduleTimer(key="silence:ask_size:0", due_at=NOW + timedelta(hours=1)) in turn.effects
    assert [(t.source, t.dest, t.trigger) for t in turn.transitions] == [("", "hello", "start"),
                                                                          ("hello", "ask_size", "next")]


def test_free_text_answer_is_parsed_scored_and_explained(flow) -> None:  # type: ignore[no-untyped-def]
    talk = Talk(flow)
    talk.start()
    turn = talk.say("we are about 150 people")
    assert turn.state.values["size"] == 150
    assert turn.state.pending == "ask_role"
    assert [(e.rule, e.points, e.reason) for e in turn.state.ledger] == [("big", 30, "150 people")]
    assert CancelTimers(prefix="silence:") in turn.effects
    assert any(isinstance(e, LeadUpdated) and e.lead.score == 30 for e in turn.effects)


@pytest.mark.parametrize(("text", "expected"), [
    ("", ["reprompt:ask_size", "question:ask_size"]),
    ("   \x00\x07  ", ["reprompt:ask_size", "question:ask_size"]),
    ("<script>alert('x')</script>", ["reprompt:ask_size"]),
    ("'; DROP TABLE conversations; --", ["reprompt:ask_size"]),
    ("🙂🙂🙂", ["reprompt:ask_size"]),
    ("مرحبا بكم", ["reprompt:ask_size"]),
])
def test_bad_input_gets_a_reprompt(flow, text: str, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    talk = Talk(flow)
    talk.start()
    turn = talk.say(text)
    assert causes(turn) == expected
    assert turn.state.pending == "ask_size"


def test_oversized_input_is_refused_politely(flow) -> None:  # type: ignore[no-untyped-def]
    talk = Talk(flow)
    talk.start()
    turn = talk.say("x" * 100_000)
    assert causes(turn) == ["fallback:too_long"]
    assert "2000" in turn.replies[0].text
    assert turn.state.pending == "ask_size"


def test_reprompt_says_what_is_expected_then_fallback_skips(flow) -> None:  # type: ignore[no-untyped-def]
    talk = Talk(flow)
    talk.start()
    first = talk.say("lots of them")
    assert causes(first) == ["reprompt:ask_size"]
    assert "number" in first.replies[0].text.lower()
    assert first.state.attempts == {"ask_size": 1}
    second = talk.say("no idea")
    assert causes(second) == ["fallback:ask_size", "question:ask_role"]
    assert second.state.values.get("size") is None
    assert second.state.attempts == {}


def test_objection_is_answered_then_the_question_is_asked_again(flow) -> None:  # type: ignore[no-untyped-def]
    talk = Talk(flow)
    talk.start()
    turn = talk.say("honestly it's way too pricey for us")
    assert causes(turn) == ["objection:too_expensive", "question:ask_size"]
    assert turn.state.objections == {"too_expensive": 1}
    assert turn.state.pending == "ask_size"


def test_repeated_objection_escalates_to_a_human(flow) -> None:  # type: ignore[no-untyped-def]
    talk = Talk(flow)
    talk.start()
    talk.say("it's too expensive")
    turn = talk.say("still costs too much")
    assert causes(turn) == ["handoff:too_expensive"]
    assert [e.reason for e in turn.effects if isinstance(e, RequestHandoff)] == ["objection: too_expensive"]


def test_objection_with_goto_jumps(flow) -> None:  # type: ignore[no-untyped-def]
    talk = Talk(flow)
    talk.start()
    turn = talk.say("not now, thanks")
    assert causes(turn) == ["objection:not_now", "say:later"]
    assert turn.state.status is Status.ENDED
    assert ConversationEnded(outcome=turn.state.outcome) in turn.effects  # type: ignore[arg-type]


def test_faq_is_answered_then_resumes(flow) -> None:  # type: ignore[no-untyped-def]
    talk = Talk(flow)
    talk.start()
    turn = talk.say("how much does it cost?")
    assert causes(turn) == ["faq:pricing", "question:ask_size"]


def test_button_choice_and_branching(flow) -> None:  # type: ignore[no-untyped-def]
    talk = Talk(flow)
    talk.start()
    talk.say("120")
    turn = talk.send(ChoiceMade(option="boss"))
    assert turn.state.values["role"] == "boss"
    assert turn.state.outcome is not None and turn.state.outcome.value == "qualified"
    assert turn.state.score == 55
    handoffs = [e for e in turn.effects if isinstance(e, RequestHandoff)]
    assert len(handoffs) == 1 and handoffs[0].lead.tier.value == "hot"


def test_unknown_button_reprompts(flow) -> None:  # type: ignore[no-untyped-def]
    talk = Talk(flow)
    talk.start()
    talk.say("5")
    turn = talk.send(ChoiceMade(option="janitor"))
    assert causes(turn) == ["reprompt:ask_role"]


@pytest.mark.parametrize(("text", "cause", "status"), [
    ("can I talk to a real person", "intent:human", Status.ACTIVE),
    ("please unsubscribe me", "intent:stop", Status.UNSUBSCRIBED),
])
def test_global_intents(flow, text: str, cause: str, status: Status) -> None:  # type: ignore[no-untyped-def]
    talk = Talk(flow)
    talk.start()
    turn = talk.say(text)
    assert causes(turn)[0] == cause
    assert turn.state.status is status


def test_stop_then_restart(flow) -> None:  # type: ignore[no-untyped-def]
    talk = Talk(flow)
    talk.start()
    talk.say("150")
    stopped = talk.say("stop")
    assert Unsubscribed() in stopped.effects
    ignored = talk.say("hello?")
    assert causes(ignored) == ["intent:stop"]
    restarted = talk.say("start over")
    assert causes(restarted) == ["intent:restart", "say:hello", "question:ask_size"]
    assert restarted.state.values == {} and restarted.state.ledger == ()
    assert restarted.state.status is Status.ACTIVE


def test_human_takes_over_relays_and_gives_back(flow) -> None:  # type: ignore[no-untyped-def]
    talk = Talk(flow)
    talk.start()
    joined = talk.send(HumanTookOver(agent="Sam"))
    assert texts(joined) == ["Sam from our team has joined the chat."]
    relayed = talk.say("hi Sam")
    assert relayed.replies == () and RelayToHuman(text="hi Sam") in relayed.effects
    back = talk.send(ReturnedToBot(agent="Sam"))
    assert causes(back) == ["handoff:returned", "question:ask_size"]


def test_silence_timer_nudges_and_stale_timer_is_ignored(flow) -> None:  # type: ignore[no-untyped-def]
    talk = Talk(flow)
    talk.start()
    nudge = talk.send(TimerFired(key="silence:ask_size:0"), at=timedelta(hours=1))
    assert causes(nudge) == ["timer:silence:ask_size:0"]
    talk.say("150")
    stale = talk.send(TimerFired(key="silence:ask_size:0"), at=timedelta(hours=2))
    assert stale.replies == () and stale.state.state == "ask_role"
    bogus = talk.send(TimerFired(key="nonsense"))
    assert bogus.replies == ()


def test_follow_up_timer_reopens_an_ended_conversation(flow) -> None:  # type: ignore[no-untyped-def]
    talk = Talk(flow)
    talk.start()
    ended = talk.say("maybe later")
    assert ScheduleTimer(key="silence:later:0", due_at=NOW + timedelta(days=2)) in ended.effects
    follow = talk.send(TimerFired(key="silence:later:0"), at=timedelta(days=2))
    assert causes(follow) == ["timer:silence:later:0", "question:ask_role"]
    assert follow.state.status is Status.ACTIVE and follow.state.outcome is None


def test_the_same_inputs_give_the_same_turns(flow) -> None:  # type: ignore[no-untyped-def]
    script = ["", "too expensive", "about 150", "how much does it cost", "boss"]

    def replay() -> list[Turn]:
        talk = Talk(flow)
        talk.start()
        for line in script:
            talk.say(line)
        return talk.turns

    assert replay() == replay()


def test_every_conversation_shares_one_machine(flow) -> None:  # type: ignore[no-untyped-def]
    machine = flow.machine
    for _ in range(3):
        talk = Talk(flow)
        talk.start()
        talk.say("150")
    assert flow.machine is machine
    assert machine.models == []


ATTRIBUTES_FLOW = """
id: attrs
start: ask
values:
  source: web
  seats: 0
scoring:
  hot: 30
  warm: 10
  on_hot: {goto: vip}
  rules:
    - {id: ads, when: "source == 'ads'", points: 10, reason: "Came from ads"}
    - {id: seats, when: "seats >= 20", points: 25, reason: "{{ seats }} seats"}
states:
  ask:
    ask: {type: yes_no, text: "Ready?", save_as: ready}
    next: bye
  bye:
    say: "Bye"
    end: nurture
  vip:
    say: "VIP!"
    end: qualified
"""


def test_channel_attributes_are_typed_scored_from_the_start_and_survive_restart() -> None:
    flow = make_flow(ATTRIBUTES_FLOW)
    talk = Talk(flow)
    opening = talk.send(Started(channel="web", attributes={"source": "ads", "seats": "5", "ignored": "x"}))
    assert opening.state.values == {"source": "ads", "seats": 5}
    assert [e.rule for e in opening.state.ledger] == ["ads"]
    restarted = talk.say("start over")
    assert restarted.state.values == {"source": "ads", "seats": 5}
    assert restarted.state.score == 10


def test_hot_goto_fires_once_even_when_a_set_makes_the_lead_hot() -> None:
    flow = make_flow(ATTRIBUTES_FLOW.replace("""  ask:
    ask:""", """  ask:
    set: {seats: "seats + 20"}
    ask:"""))
    talk = Talk(flow)
    turn = talk.send(Started(channel="web", attributes={"source": "ads"}))
    assert causes(turn) == ["say:vip"]
    assert turn.state.hot_fired and turn.state.outcome is not None


def test_channel_attributes_are_readable_as_attrs_in_conditions() -> None:
    flow = make_flow("""
id: utm
start: route
states:
  route:
    next:
      - if: "attrs.utm_source == 'google'"
        goto: ads
      - goto: other
  ads:
    say: "Welcome, Google visitor!"
    end: nurture
  other:
    say: "Welcome!"
    end: nurture
""")
    turn = Talk(flow).send(Started(channel="web", attributes={"utm_source": "google"}))
    assert texts(turn) == ["Welcome, Google visitor!"]
    assert texts(Talk(flow).send(Started(channel="web"))) == ["Welcome!"]


HOT_LEAD = ["Dana Scully", "Acme Corp", "founder", "I make the decision", "about 300 people", "churn and reporting",
            "next quarter", "$50k a year", "dana@acme.com", "+1 415 555 2671"]


def test_a_lead_asking_twice_marks_the_second_handoff_as_a_repeat(default_flow) -> None:  # type: ignore[no-untyped-def]
    """The default flow alerts sales when the lead turns hot, and again when it books a demo: one lead, so the
    second request is marked to join the first alert. A restart starts a new lead."""
    talk = Talk(default_flow)
    talk.start()
    handoffs = [e for text in HOT_LEAD for e in talk.say(text).effects if isinstance(e, RequestHandoff)]
    assert [(h.reason, h.repeat) for h in handoffs] == [("Hot lead: score 90", False),
                                                        ("Hot lead ready for a demo", True)]
    talk.say("start over")
    again = [e for text in HOT_LEAD[:8] for e in talk.say(text).effects if isinstance(e, RequestHandoff)]
    assert [(h.reason, h.repeat) for h in again] == [("Hot lead: score 90", False)]


def test_every_enum_written_to_storage_or_the_wire_is_its_value_as_a_string() -> None:
    """Storage, the codec and the web chat write str(member) (cheaper than .value): each enum must be a StrEnum."""
    for enum in (Outcome, Status, Tier, CauseKind, MatchKind, Direction, Author):
        assert issubclass(enum, StrEnum), enum
        assert [str(member) for member in enum] == [member.value for member in enum]
        assert all(type(str(member)) is str for member in enum)
