"""Builds the one `transitions` machine a flow version runs on, and the lightweight per-turn model."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from transitions import Event, EventData, Machine, State, Transition

from bot.engine.expressions import Expression

NEXT = "next"
FALLBACK = "fallback"


class TurnModel:
    """The model a trigger runs on: the current machine state and the values conditions read.

    One is created per turn (cheap: three slots), never registered with the machine, so every
    conversation shares the compiled machine without sharing anything mutable.
    """

    __slots__ = ("moves", "scope", "state")

    def __init__(self, state: str, scope: Mapping[str, Any]) -> None:
        self.state = state
        self.scope = scope
        self.moves: list[tuple[str, str, str]] = []  # (source, dest, trigger) in order


class _State(State):
    """A state whose enter and exit do nothing when it has no callbacks, and flow states never have any.

    The library's enter and exit log twice each and walk the empty callback lists: about 2 µs of a
    10 µs trigger. Given to the machine through its documented `state_cls` hook.
    """

    def enter(self, event_data: EventData) -> None:
        if self.on_enter:
            super().enter(event_data)

    def exit(self, event_data: EventData) -> None:
        if self.on_exit:
            super().exit(event_data)


class _Transition(Transition):
    """A transition that, when neither it nor the machine has callbacks (flow machines never do), only checks its
    conditions and changes the state.

    The library's `execute` logs four debug lines and walks five empty callback lists on every trigger, and its
    state change calls the empty exit and enter and looks the states up four times: about 5 µs of a 12 µs
    trigger. With any callback present it runs unchanged. Given to the machine through its documented
    `transition_cls` hook; `_eval_conditions` and `_change_state` are the library's own steps.
    """

    def execute(self, event_data: EventData) -> bool:
        machine = event_data.machine
        if self.prepare or self.before or self.after or machine.before_state_change or machine.after_state_change:
            return bool(super().execute(event_data))
        if not self._eval_conditions(event_data):
            return False
        if self.dest:
            self._change_state(event_data)
        return True

    def _change_state(self, event_data: EventData) -> None:
        """Set the model's state through the machine's public `set_state`. With exit or enter callbacks, or a
        final destination, the library's own step runs instead (flow states have none of these)."""
        machine = event_data.machine
        dest = machine.get_state(self.dest) if self.dest is not None else None
        if dest is None or machine.get_state(self.source).on_exit or dest.on_enter or dest.final:
            super()._change_state(event_data)
            return
        machine.set_state(dest, event_data.model)
        event_data.state = dest


class _Event(Event):
    """An event that, when the machine has no event callbacks and no queue (flow machines have neither), tries
    the source state's transitions in order directly.

    The library's `trigger` wraps that in a partial, the machine's queue check, an empty `prepare_event` and
    `finalize_event` walk and two debug lines: about 1.3 µs of an 8 µs trigger. With any of those present it
    runs unchanged. Given to the machine through its documented `event_cls` hook.
    """

    def trigger(self, model: object, *args: Any, **kwargs: Any) -> bool:
        machine = self.machine
        if machine.prepare_event or machine.finalize_event or machine.on_exception or machine.has_queue:
            return bool(super().trigger(model, *args, **kwargs))
        event_data = EventData(machine.get_model_state(model), self, machine, model, args=args, kwargs=kwargs)
        if not self._is_valid_source(event_data.state):
            return False
        for transition in self.transitions[event_data.state.name]:
            event_data.transition = transition
            if transition.execute(event_data):
                event_data.result = True
                return True
        return False


class _Machine(Machine):
    state_cls = _State
    transition_cls = _Transition
    event_cls = _Event


def _guard(condition: Expression) -> Callable[[EventData], bool]:
    def check(event: EventData) -> bool:
        model = event.model
        return isinstance(model, TurnModel) and condition(model.scope)

    return check


def build_machine(
    *,
    states: Sequence[str],
    initial: str,
    next_edges: Mapping[str, Sequence[tuple[str, Expression | None]]],
    fallbacks: Mapping[str, str],
    jump_targets: Iterable[str],
    jump_trigger: Callable[[str], str],
) -> Machine:
    """Compile a flow's graph into a shared machine.

    `next` follows a state's branches in order (the first whose condition holds wins), `fallback` leaves a
    question after too many failed answers, and `jump_<state>` moves from anywhere to a global target
    (objection and FAQ gotos, restart, the hot-lead goto, silence gotos).
    """
    machine = _Machine(
        model=[],
        states=list(states),
        initial=initial,
        auto_transitions=False,
        send_event=True,
    )
    for source, edges in next_edges.items():
        for dest, condition in edges:
            conditions: list[str | Callable[..., bool | None]] = [_guard(condition)] if condition else []
            machine.add_transition(NEXT, source, dest, conditions=conditions)
    for source, dest in fallbacks.items():
        machine.add_transition(FALLBACK, source, dest)
    for target in sorted(set(jump_targets)):
        machine.add_transition(jump_trigger(target), "*", target)
    return machine


def fire(machine: Machine, trigger: str, model: TurnModel) -> bool:
    """Fire `trigger` for `model` on the shared machine, and record the move. True when a transition happened."""
    source = model.state
    if not machine.events[trigger].trigger(model):
        return False
    model.moves.append((source, model.state, trigger))
    return True
