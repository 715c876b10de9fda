"""Engine benchmark: turns per second on the default and a generated 200-state flow, load+validate time,
and the bare `transitions` costs the engine is built on, all measured in the same run.

Run: make bench   (or: .venv/bin/python bench/engine.py)
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from transitions import Machine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.flowgen import generated_flow
from bot.engine.engine import step
from bot.engine.machine import NEXT, TurnModel, fire
from bot.engine.types import ConversationState, Started, TextReceived
from bot.flow.compiler import compile_flow
from bot.flow.loader import load_flow_file, load_flow_text

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DEFAULT_SCRIPT = [
    "Dana Scully", "Acme Corp", "founder", "I make the decision", "about 300 people", "churn and reporting",
    "it's too expensive", "next quarter", "$50k a year", "dana@acme.com", "+1 415 555 2671",
]


def best_of(fn: Callable[[], object], repeat: int, number: int) -> float:
    """Fastest seconds per call over `repeat` batches of `number` calls (the least disturbed by other load,
    as timeit recommends)."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return min(samples)


def run_script(flow, script: list[str]) -> int:  # type: ignore[no-untyped-def]
    state: ConversationState = step(flow, None, Started(channel="bench"), NOW).state
    for text in script:
        state = step(flow, state, TextReceived(text=text), NOW).state
    return len(script)


def per_turn(flow, script: list[str], repeat: int = 7) -> float:  # type: ignore[no-untyped-def]
    turns = len(script) + 1
    return best_of(lambda: run_script(flow, script), repeat=repeat, number=30) / turns


def interleaved(flow, script: list[str], trigger: Callable[[], object], rounds: int = 9  # type: ignore[no-untyped-def]
                ) -> tuple[float, float, float]:
    """Engine turn and bare trigger measured alternately, so both see the same machine (this VM's speed
    drifts by 50% from minute to minute). Returns (fastest turn, fastest trigger, median turn/trigger)."""
    turns, triggers, ratios = [], [], []
    for _ in range(rounds):
        bare = best_of(trigger, repeat=3, number=2000)
        turn = per_turn(flow, script, repeat=3)
        turns.append(turn)
        triggers.append(bare)
        ratios.append(turn / bare)
    return min(turns), min(triggers), statistics.median(ratios)


def bare_costs(states: int) -> tuple[float, Callable[[], None]]:
    names = [f"s{i}" for i in range(states)]
    transitions = [{"trigger": "next", "source": names[i], "dest": names[i + 1]} for i in range(states - 1)]

    def build() -> Machine:
        return Machine(model=[], states=names, transitions=transitions, initial=names[0], auto_transitions=False,
                       send_event=True)

    build_cost = best_of(build, repeat=5, number=20)
    machine = build()

    def trigger() -> None:
        fire(machine, NEXT, TurnModel("s0", {}))

    return build_cost, trigger


def long_conversation(flow, turns: int) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """Per-turn cost early and late in a long conversation (an FAQ asked over and over). The engine is pure, so
    the same FAQ turn is timed from the state after 100 turns and from the state after `turns`, alternately,
    so both see the same machine speed. Returns the fastest of 15 rounds each, and the median over the rounds
    of late/early (a round's two timings are taken back to back, so their ratio drifts least)."""
    faq = TextReceived(text="how much does it cost")
    state = step(flow, None, Started(channel="bench"), NOW).state
    saved = {}
    for turn in range(1, turns + 1):
        state = step(flow, state, faq, NOW).state
        if turn in (100, turns):
            saved[turn] = state
    early, late = [], []
    for _ in range(15):
        early.append(best_of(lambda: step(flow, saved[100], faq, NOW), repeat=1, number=200))
        late.append(best_of(lambda: step(flow, saved[turns], faq, NOW), repeat=1, number=200))
    return min(early), min(late), statistics.median(b / a for a, b in zip(early, late, strict=True))


def main() -> None:
    default_path = Path(__file__).resolve().parent.parent / "flows" / "default.yaml"
    default = compile_flow(load_flow_file(default_path))
    load_default = best_of(lambda: compile_flow(load_flow_file(default_path)), repeat=5, number=3)
    text200 = generated_flow(200)
    load_200 = best_of(lambda: compile_flow(load_flow_text(text200, "generated.yaml")), repeat=5, number=2)
    flow200 = compile_flow(load_flow_text(text200, "generated.yaml"))
    script200 = [["42", "yes", "a", "$2k a month", "some text", "asap"][i % 6] for i in range(198)]

    build40, trigger = bare_costs(40)
    build200, _ = bare_costs(200)
    turn_default, trigger40, ratio_default = interleaved(default, DEFAULT_SCRIPT, trigger)
    turn_200, _, ratio_200 = interleaved(flow200, script200, trigger, rounds=5)
    early, late, growth = long_conversation(default, 2000)

    us = 1e6
    print("salesbot engine benchmark (fastest of repeated runs, one process, one core)")
    print(f"python {sys.version.split()[0]} at {os.path.realpath(sys.executable)} (its build matters)")
    print()
    print("baseline: bare transitions costs, same run")
    print(f"  build a 40-state Machine            {build40 * 1e3:8.2f} ms  (what a per-message machine would cost)")
    print(f"  build a 200-state Machine           {build200 * 1e3:8.2f} ms")
    print(f"  one trigger on a shared machine     {trigger40 * us:8.1f} µs")
    print()
    print("engine turns (parse + recognise + transition + score + replies)")
    print(f"  default flow                        {turn_default * us:8.1f} µs/turn  "
          f"{1 / turn_default:10,.0f} turns/s  ({ratio_default:.1f}x a bare trigger)")
    print(f"  generated 200-state flow            {turn_200 * us:8.1f} µs/turn  "
          f"{1 / turn_200:10,.0f} turns/s  ({ratio_200:.1f}x a bare trigger)")
    print(f"  long conversation, turn 101         {early * us:8.1f} µs/turn")
    print(f"  long conversation, turn 2001        {late * us:8.1f} µs/turn  (flat: {growth:.2f}x, median of "
          "paired rounds)")
    print()
    print("load + validate + compile")
    print(f"  default flow ({len(default.states)} states)            {load_default * 1e3:8.1f} ms")
    print(f"  generated flow ({len(flow200.states)} states)         {load_200 * 1e3:8.1f} ms")


if __name__ == "__main__":
    main()
