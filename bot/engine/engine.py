"""The dialog engine: (flow, state, inbound, now) -> Turn. Pure: no I/O, no clock, no globals."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.engine import compiled as c
from bot.engine.expressions import Template
from bot.engine.machine import FALLBACK, NEXT, TurnModel, fire
from bot.engine.matcher import Match
from bot.engine.parsers import Parsed
from bot.engine.parsers.base import QuestionType
from bot.engine.reading import as_value, initial_values, interpret, is_skip
from bot.engine.text import clean_text
from bot.engine.types import (
    CancelTimers,
    Cause,
    CauseKind,
    ChoiceMade,
    ConversationEnded,
    ConversationState,
    Effect,
    HumanTookOver,
    Inbound,
    LeadSummary,
    LeadUpdated,
    MatchKind,
    Outbound,
    Outcome,
    RelayToHuman,
    RequestHandoff,
    ReturnedToBot,
    ScheduleTimer,
    ScoreEntry,
    Started,
    Status,
    TextReceived,
    Tier,
    TimerFired,
    Transition,
    Turn,
    Unsubscribed,
    UrlButton,
    Value,
)

MAX_STEPS = 500  # states entered in one turn; the validator rejects loops that never ask, this is a backstop
SILENCE = "silence:"


def step(flow: c.CompiledFlow, state: ConversationState | None, inbound: Inbound, now: datetime) -> Turn:
    """Run one turn of a conversation.

    Args:
        flow: the compiled flow version the conversation is pinned to.
        state: the conversation so far; None only with a `Started` event.
        inbound: what happened (text, a button, a timer, a human taking over or giving back).
        now: the current time, passed in so that replaying a transcript gives the same result.

    Returns:
        The new state, the replies to send, the effects to carry out and the transitions made.
    """
    if isinstance(inbound, Started) or state is None:
        channel = inbound.channel if isinstance(inbound, Started) else "unknown"
        attributes = inbound.attributes if isinstance(inbound, Started) else {}
        return _Run.start(flow, channel, attributes, now).finish()
    run = _Run(flow, state, now)
    run.dispatch(inbound)
    return run.finish()


class _Run:
    """The working copy of a conversation during one turn."""

    def __init__(self, flow: c.CompiledFlow, state: ConversationState, now: datetime) -> None:
        self.flow = flow
        self.now = now
        self.original = state
        # the state's own dict, copied by the first change (see set_value): most turns change nothing
        self.values: dict[str, Value] = state.values if isinstance(state.values, dict) else dict(state.values)
        self.values_shared = True  # `values` is also held by a state or a lead summary, so must not change
        self.ledger: tuple[ScoreEntry, ...] = state.ledger
        self.score = state.score
        # the state's own mappings, never changed in place: a change makes a new one (as on_reply, failed and
        # clear_attempts do), so most turns copy nothing
        self.attempts: Mapping[str, int] = state.attempts
        self.objections: Mapping[str, int] = state.objections
        self.status = state.status
        self.outcome = state.outcome
        self.pending = state.pending
        self.handoff_requested = state.handoff_requested
        self.hot_fired = state.hot_fired
        self.hot_goto: str | None = None  # set when a `set:` turns the lead hot; taken at the next move
        self.turn = state.turn + 1
        self.replies: list[Outbound] = []
        self.effects: list[Effect] = []
        self.lead_changed = False
        self.scope = self._fresh_scope()
        self.model = TurnModel(state.state, self.scope)

    @classmethod
    def start(cls, flow: c.CompiledFlow, channel: str, attributes: Any, now: datetime) -> _Run:
        attrs = {str(k): str(v) for k, v in attributes.items()}
        state = ConversationState(
            flow_id=flow.id, flow_version=flow.version, channel=channel, state=flow.start,
            values=initial_values(flow, attrs), attributes=attrs, started_at=now, updated_at=now, turn=-1,
        )
        run = cls(flow, state, now)
        run.lead_changed = True
        # rules on declared values, attributes or `channel` count from the start
        run.hot_goto = run.rescore_rules(flow.scoring.reading)
        run.model.moves.append(("", flow.start, "start"))
        run.run_from(flow.start)
        return run

    # ------------------------------------------------------------------ dispatch

    def dispatch(self, inbound: Inbound) -> None:
        if isinstance(inbound, TextReceived):
            self.on_text(inbound.text)
        elif isinstance(inbound, ChoiceMade):
            self.on_choice(inbound.option)
        elif isinstance(inbound, TimerFired):
            self.on_timer(inbound.key)
        elif isinstance(inbound, HumanTookOver):
            self.on_human(inbound.agent)
        elif isinstance(inbound, ReturnedToBot):
            self.on_returned()

    def on_text(self, raw: str) -> None:
        text = clean_text(raw)
        if self.status is Status.HUMAN:
            self.effects.append(RelayToHuman(text=text or raw))
            return
        if len(text) > self.flow.max_input_chars:
            self.say(self.flow.messages.too_long, CauseKind.FALLBACK, "too_long", limit=self.flow.max_input_chars)
            return
        if not text:
            self.say(self.flow.messages.empty, CauseKind.REPROMPT, self.pending or self.model.state)
            self.reask()
            return
        if self.status is Status.ACTIVE and self.pending:
            self.cancel_silence()
        question = self.question()
        meaning = interpret(self.flow, question if self.status is Status.ACTIVE else None, self.pending, text,
                            self.now)
        if meaning.kind is MatchKind.INTENT:
            self.on_intent(meaning.id)
        elif self.status is Status.UNSUBSCRIBED:
            self.say(self.flow.messages.unsubscribed, CauseKind.INTENT, "stop")
        elif meaning.match is not None and meaning.kind in (MatchKind.OBJECTION, MatchKind.FAQ):
            self.on_reply(meaning.match)
        elif self.status is Status.ENDED or question is None or meaning.parsed is None:
            self.say(self.flow.messages.ended, CauseKind.SAY, "ended")
        elif meaning.kind is MatchKind.ANSWER:
            self.accept(question, meaning.parsed)
        elif question.fallback in (None, "skip") and is_skip(text):
            self.accept(question, Parsed(ok=True, value=None))
        else:
            self.failed(question, meaning.parsed)

    def on_choice(self, option: str) -> None:
        question = self.question()
        if self.status is not Status.ACTIVE or question is None:
            self.say(self.flow.messages.stale_choice, CauseKind.SAY, "stale_choice")
            return
        self.cancel_silence()
        known = {o.id for o in question.options}
        picked = [part for part in option.split(",") if part in known]
        if not picked or (not question.multiple and len(picked) != 1):
            if question.answer.type is QuestionType.YES_NO and option in ("yes", "no"):
                self.accept(question, Parsed(ok=True, value=option == "yes"))
                return
            self.failed(question, Parsed(ok=False, error="Please pick one of the options."))
            return
        ordered = [o.id for o in question.options if o.id in picked]
        self.accept(question, Parsed(ok=True, value=ordered if question.multiple else ordered[0]))

    def on_timer(self, key: str) -> None:
        rule = self._silence_rule(key)
        if rule is None:
            return  # stale: the prospect answered, or the conversation moved on
        if rule.say:
            self.say(rule.say, CauseKind.TIMER, key)
        if rule.goto:
            self.effects.append(CancelTimers(prefix=SILENCE))
            self.status, self.outcome, self.pending = Status.ACTIVE, None, None
            self.jump(rule.goto)

    def _silence_rule(self, key: str) -> c.SilenceRule | None:
        if not key.startswith(SILENCE) or self.status not in (Status.ACTIVE, Status.ENDED):
            return None
        sid, _, index = key.removeprefix(SILENCE).rpartition(":")
        state = self.flow.states.get(sid)
        if state is None or self.model.state != sid or not index.isdigit() or int(index) >= len(state.silence):
            return None
        if self.status is Status.ACTIVE and self.pending != sid:
            return None
        return state.silence[int(index)]

    def on_human(self, agent: str) -> None:
        self.status = Status.HUMAN
        self.effects.append(CancelTimers())
        self.say(self.flow.messages.human_joined, CauseKind.HANDOFF, "human_joined", agent=agent or "Someone")

    def on_returned(self) -> None:
        if self.status is not Status.HUMAN:
            return
        self.status = Status.ENDED if self.outcome else Status.ACTIVE
        self.say(self.flow.messages.returned, CauseKind.HANDOFF, "returned")
        if self.status is Status.ACTIVE:
            self.reask()

    # ------------------------------------------------------------------ intents, objections, FAQs

    def on_intent(self, intent: str) -> None:
        messages = self.flow.messages
        if intent == "human":
            self.say(messages.human, CauseKind.INTENT, "human")
            self.request_handoff("The prospect asked to talk to a person", "sales")
        elif intent == "restart":
            self.restart()
        elif intent == "stop":
            self.status, self.pending = Status.UNSUBSCRIBED, None
            self.effects += [CancelTimers(), Unsubscribed()]
            self.lead_changed = True
            self.say(messages.stop, CauseKind.INTENT, "stop")

    def restart(self) -> None:
        self.values, self.values_shared = initial_values(self.flow, self.original.attributes), False
        self.ledger, self.score, self.attempts, self.objections = (), 0, {}, {}
        self.status, self.outcome, self.pending, self.handoff_requested = Status.ACTIVE, None, None, False
        self.hot_fired = False
        self.lead_changed = True
        self.scope = self.model.scope = self._fresh_scope()
        self.rescore_rules(self.flow.scoring.reading)
        self.effects.append(CancelTimers())
        self.say(self.flow.messages.restart, CauseKind.INTENT, "restart")
        self.jump(self.flow.start)

    def on_reply(self, match: Match) -> None:
        is_objection = match.kind is MatchKind.OBJECTION
        reply = (self.flow.objections if is_objection else self.flow.faqs)[match.id]
        kind = CauseKind.OBJECTION if is_objection else CauseKind.FAQ
        if is_objection:
            count = self.objections.get(reply.id, 0) + 1
            self.objections = {**self.objections, reply.id: count}
            self.lead_changed = True
            if reply.max is not None and count > reply.max and self.status is Status.ACTIVE:
                self.perform(reply.on_repeat or c.Action(kind=c.ActionKind.HANDOFF), kind, reply.id)
                return
        for template in reply.answer:
            self.say(template, kind, reply.id)
        if self.status is Status.ACTIVE:
            self.perform(reply.then, kind, reply.id)

    def perform(self, action: c.Action, kind: CauseKind, cause_id: str) -> None:
        if action.kind is c.ActionKind.RESUME:
            self.reask()
        elif action.kind is c.ActionKind.HANDOFF:
            self.say(self.flow.messages.handoff, CauseKind.HANDOFF, cause_id)
            self.request_handoff(f"{kind.value}: {cause_id}", "sales")
        elif action.kind is c.ActionKind.GOTO:
            self.pending = None
            self.effects.append(CancelTimers(prefix=SILENCE))
            self.jump(action.target)
        elif action.kind is c.ActionKind.END and action.outcome is not None:
            self.effects.append(CancelTimers(prefix=SILENCE))
            self.finish_with(action.outcome, ())

    # ------------------------------------------------------------------ answers

    def question(self) -> c.Question | None:
        if self.pending is None:
            return None
        return self.flow.states[self.pending].question

    def accept(self, question: c.Question, parsed: Parsed) -> None:
        sid = self.pending or self.model.state
        changed = {question.variable}
        self.set_value(question.variable, parsed.value)
        for key, value in parsed.extra.items():
            self.set_value(f"{question.variable}_{key}", value)
            changed.add(f"{question.variable}_{key}")
        self.clear_attempts(sid)
        self.pending = None
        hot_goto = self.rescore(changed)
        if hot_goto:
            self.jump(hot_goto)
        elif fire(self.flow.machine, NEXT, self.model):
            self.run_from(self.model.state)

    def failed(self, question: c.Question, parsed: Parsed) -> None:
        sid = self.pending or self.model.state
        attempts = self.attempts.get(sid, 0) + 1
        if attempts < question.max_attempts:
            self.attempts = {**self.attempts, sid: attempts}
            text = question.reprompt.render(self.scope) if question.reprompt else (
                f"{parsed.error} {question.text.render(self.scope)}".strip()
            )
            self.emit(text, CauseKind.REPROMPT, sid, question=question)
            self.schedule_silence(self.flow.states[sid])
            return
        self.clear_attempts(sid)
        self.pending = None
        self.say(self.flow.messages.fallback, CauseKind.FALLBACK, sid)
        if question.fallback not in (None, "skip"):
            fire(self.flow.machine, FALLBACK, self.model)
            self.run_from(self.model.state)
        elif fire(self.flow.machine, NEXT, self.model):
            self.run_from(self.model.state)

    def clear_attempts(self, sid: str) -> None:
        if sid in self.attempts:
            self.attempts = {key: count for key, count in self.attempts.items() if key != sid}

    def reask(self) -> None:
        question = self.question()
        if question is not None and self.pending is not None:
            self.emit(question.text.render(self.scope), CauseKind.QUESTION, self.pending, question=question)
            self.schedule_silence(self.flow.states[self.pending])

    # ------------------------------------------------------------------ running states

    def jump(self, target: str) -> None:
        fire(self.flow.machine, self.flow.jump_trigger(target), self.model)
        self.run_from(target)

    def run_from(self, sid: str) -> None:
        for _ in range(MAX_STEPS):
            state = self.flow.states[sid]
            self.enter(state)
            if self.hot_goto is not None:  # a `set:` just made the lead hot: the flow's on_hot goto wins
                target, self.hot_goto = self.hot_goto, None
                fire(self.flow.machine, self.flow.jump_trigger(target), self.model)
                sid = self.model.state
                continue
            if state.question is not None:
                self.pending = sid
                self.emit(state.question.text.render(self.scope), CauseKind.QUESTION, sid,
                          question=state.question, buttons=self._buttons(state) if not state.say else ())
                self.schedule_silence(state)
                return
            if state.end is not None:
                self.finish_with(state.end, state.silence)
                return
            if not fire(self.flow.machine, NEXT, self.model):
                return  # the validator guarantees an unconditional branch; nothing else can be done here
            sid = self.model.state

    def enter(self, state: c.State) -> None:
        if state.sets:
            for name, expression in state.sets:
                self.set_value(name, as_value(expression.value(self.scope)))
            self.hot_goto = self.rescore({name for name, _ in state.sets}) or self.hot_goto
        for index, template in enumerate(state.say):
            last = index == len(state.say) - 1
            self.emit(template.render(self.scope), CauseKind.SAY, state.id,
                      buttons=self._buttons(state) if last else ())
        if state.handoff is not None:
            if not state.say:
                self.say(self.flow.messages.handoff, CauseKind.HANDOFF, state.id)
            self.request_handoff(state.handoff.reason.render(self.scope), state.handoff.team)

    def finish_with(self, outcome: Outcome, follow_ups: Iterable[c.SilenceRule]) -> None:
        self.status, self.outcome, self.pending = Status.ENDED, outcome, None
        self.lead_changed = True
        self.effects.append(ConversationEnded(outcome=outcome))
        for rule in follow_ups:
            self.effects.append(ScheduleTimer(key=rule.key, due_at=self.now + rule.after))

    def cancel_silence(self) -> None:
        """The prospect spoke: drop the pending question's silence timers (only it can have any while it waits)."""
        if self.pending is not None and self.flow.states[self.pending].silence:
            self.effects.append(CancelTimers(prefix=SILENCE))

    def schedule_silence(self, state: c.State) -> None:
        for rule in state.silence:
            self.effects.append(ScheduleTimer(key=rule.key, due_at=self.now + rule.after))

    def _buttons(self, state: c.State) -> tuple[UrlButton, ...]:
        if not state.buttons:
            return ()
        rendered = (UrlButton(label=b.label.render(self.scope), url=b.url.render(self.scope).strip())
                    for b in state.buttons)
        return tuple(b for b in rendered if b.url.lower().startswith(("https://", "http://", "mailto:", "tel:")))

    # ------------------------------------------------------------------ values and scoring

    def set_value(self, name: str, value: Value) -> None:
        if self.values_shared:
            self.values, self.values_shared = dict(self.values), False
        self.values[name] = value
        self.scope[name] = value
        self.lead_changed = True

    def rescore(self, changed: Iterable[str]) -> str | None:
        """Re-check the rules that read a changed value. Returns a goto target if the lead just turned hot."""
        return self.rescore_rules(self.flow.scoring.rules_reading(changed))

    def rescore_rules(self, rules: Sequence[c.ScoreRule]) -> str | None:
        """Re-check `rules` (in file order). Returns a goto target if the lead just turned hot."""
        scoring = self.flow.scoring
        if not rules:
            return None
        scored = {entry.rule for entry in self.ledger}
        ledger = self.ledger
        for rule in rules:
            holds = rule.when(self.scope)
            if holds and rule.id not in scored:
                reason = rule.reason.render(self.scope)
                ledger = (*ledger, ScoreEntry(rule=rule.id, points=rule.points, reason=reason, turn=self.turn))
            elif not holds and rule.id in scored:
                ledger = tuple(entry for entry in ledger if entry.rule != rule.id)
        if ledger is self.ledger:
            return None  # the score, so the tier, is unchanged
        before = self.scope["tier"]
        self.ledger = ledger
        self.score = score = sum([entry.points for entry in ledger])
        self.scope["score"], self.scope["tier"] = score, str(scoring.tier(score))
        if before == Tier.HOT or self.scope["tier"] != Tier.HOT or self.hot_fired:
            return None
        if scoring.on_hot is None:
            return None
        self.hot_fired = True
        if scoring.on_hot.kind is c.ActionKind.GOTO:
            return scoring.on_hot.target
        if scoring.on_hot.kind is c.ActionKind.HANDOFF:
            self.request_handoff(f"Hot lead: score {score}", "sales")
        return None

    def request_handoff(self, reason: str, team: str) -> None:
        repeat, self.handoff_requested = self.handoff_requested, True
        self.lead_changed = True
        self.effects.append(RequestHandoff(reason=reason, team=team, lead=self.summary(), repeat=repeat))

    def summary(self) -> LeadSummary:
        """The lead as it stands. It holds the current values, so a later change copies them (see set_value)."""
        self.values_shared = True
        return LeadSummary(
            flow_id=self.flow.id, state=self.model.state, status=self.status, outcome=self.outcome, score=self.score,
            tier=self.flow.scoring.tier(self.score), reasons=self.ledger, values=self.values,
            objections=self.objections,
        )

    def _fresh_scope(self) -> dict[str, Any]:
        """What conditions and templates read: the values and the built-ins. A declared variable that has no
        value yet is simply absent; every reader takes a missing name as None."""
        return {
            **self.values, "score": self.score, "tier": str(self.flow.scoring.tier(self.score)),
            "channel": self.original.channel, "attrs": self.original.attributes,
        }

    # ------------------------------------------------------------------ output

    def say(self, template: Template, kind: CauseKind, cause_id: str, **extra: Any) -> None:
        scope = {**self.scope, **extra} if extra else self.scope
        self.emit(template.render(scope), kind, cause_id)

    def emit(self, text: str, kind: CauseKind, cause_id: str, *, question: c.Question | None = None,
             buttons: tuple[UrlButton, ...] = ()) -> None:
        self.replies.append(Outbound(
            text=text, cause=Cause(kind=kind, id=cause_id), state=self.model.state,
            options=question.options if question else (), multiple=bool(question and question.multiple),
            buttons=buttons,
        ))

    def finish(self) -> Turn:
        state = ConversationState(
            flow_id=self.original.flow_id, flow_version=self.original.flow_version, channel=self.original.channel,
            state=self.model.state, status=self.status, outcome=self.outcome, values=self.values,
            ledger=self.ledger, pending=self.pending, attempts=self.attempts, objections=self.objections,
            handoff_requested=self.handoff_requested, hot_fired=self.hot_fired, attributes=self.original.attributes,
            turn=self.turn, started_at=self.original.started_at,
            updated_at=self.now,
        )
        if self.lead_changed:
            self.effects.append(LeadUpdated(lead=LeadSummary.of(state, self.flow.scoring.tier(state.score))))
        moves = [Transition(source=s, dest=d, trigger=t, turn=self.turn) for s, d, t in self.model.moves]
        return Turn(state=state, replies=tuple(self.replies), effects=tuple(self.effects), transitions=tuple(moves))
