"""The shared flow machine: its quiet state, transition and event classes behave as the library's own."""

from __future__ import annotations

import pytest
from transitions import EventData, MachineError

from bot.engine.expressions import compile_expression, make_environment
from bot.engine.machine import FALLBACK, NEXT, TurnModel, build_machine, fire


def _machine():  # type: ignore[no-untyped-def]
    """ask -> (big if size >= 100, else small) ; ask -fallback-> help ; jump_ask from anywhere."""
    big = compile_expression(make_environment(), "size >= 100")
    return build_machine(
        states=["ask", "big", "small", "help", "end"],
        initial="ask",
        next_edges={"ask": [("big", big), ("small", None)], "big": [("end", None)], "small": [("end", None)]},
        fallbacks={"ask": "help"},
        jump_targets=["ask"],
        jump_trigger=lambda target: f"jump_{target}",
    )


@pytest.mark.parametrize(("size", "dest"), [(150, "big"), (5, "small"), (None, "small")])
def test_next_takes_the_first_branch_whose_condition_holds(size: int | None, dest: str) -> None:
    model = TurnModel("ask", {"size": size})
    assert fire(_machine(), NEXT, model) is True
    assert model.state == dest
    assert model.moves == [("ask", dest, NEXT)]


def test_a_trigger_without_a_transition_from_the_state_raises_like_the_library() -> None:
    model = TurnModel("end", {})
    with pytest.raises(MachineError):
        fire(_machine(), NEXT, model)
    assert model.state == "end"
    assert model.moves == []


def test_no_branch_holding_leaves_the_state_and_records_nothing() -> None:
    machine = _machine()
    machine.add_transition("only_if", "big", "end", conditions=[lambda event: False])
    model = TurnModel("big", {})
    assert fire(machine, "only_if", model) is False
    assert model.state == "big"
    assert model.moves == []


def test_fallback_and_jump_triggers_move_from_their_sources() -> None:
    machine = _machine()
    model = TurnModel("ask", {})
    assert fire(machine, FALLBACK, model)
    assert fire(machine, "jump_ask", model)
    assert model.moves == [("ask", "help", FALLBACK), ("help", "ask", "jump_ask")]


def test_callbacks_added_to_the_machine_still_run_through_the_library_path() -> None:
    """The quiet classes only skip work when there is nothing to call; any callback restores the full path."""
    machine = _machine()
    seen: list[str] = []

    def note(label: str):  # type: ignore[no-untyped-def]
        return lambda event: seen.append(f"{label}:{event.state.name}")

    machine.prepare_event.append(note("prepare_event"))
    machine.before_state_change.append(note("before"))
    machine.after_state_change.append(note("after"))
    machine.finalize_event.append(note("finalize"))
    machine.get_state("big").on_enter.append(note("enter"))
    machine.get_state("ask").on_exit.append(note("exit"))
    model = TurnModel("ask", {"size": 500})
    assert fire(machine, NEXT, model)
    assert model.state == "big"
    assert seen == ["prepare_event:ask", "before:ask", "exit:ask", "enter:big", "after:big", "finalize:big"]


def test_a_transition_callback_alone_also_runs() -> None:
    machine = _machine()
    seen: list[EventData] = []
    for transition in machine.events[NEXT].transitions["small"]:
        transition.after.append(seen.append)
    model = TurnModel("small", {})
    assert fire(machine, NEXT, model)
    assert [event.transition.dest for event in seen] == ["end"]


def test_reaching_a_final_state_still_runs_the_machine_on_final_callbacks() -> None:
    machine = _machine()
    seen: list[str] = []
    machine.add_states([{"name": "closed", "final": True}])
    machine.add_transition("close", "end", "closed")
    machine.on_final.append(lambda event: seen.append(event.state.name))
    model = TurnModel("end", {})
    assert fire(machine, "close", model)
    assert model.state == "closed"
    assert seen == ["closed"]
