"""Conversation tests: YAML scripts of prospect turns with expected replies, state, values, score and outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.engine import engine
from bot.engine.compiled import CompiledFlow
from bot.engine.types import (
    CancelTimers,
    ChoiceMade,
    ConversationState,
    Inbound,
    Outbound,
    RequestHandoff,
    ScheduleTimer,
    Started,
    TextReceived,
    TimerFired,
    Turn,
)
from bot.errors import FlowError, FlowIssue
from bot.flow.compiler import compile_flow
from bot.flow.loader import SourceMap, load_flow_file, parse_yaml, yaml_issue
from bot.flow.schema import Duration


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expect(_Model):
    """What must hold after a turn (or at the end, for `final`). Every key is optional."""

    replies: list[str] | None = None  # substrings, each found in a later reply than the previous one
    no_reply: bool | None = None
    causes: list[str] | None = None  # "kind:id" of the replies, in order, e.g. "objection:too_expensive"
    state: str | None = None
    status: str | None = None
    outcome: str | None = None
    values: dict[str, Any] | None = None
    score: int | None = None
    min_score: int | None = None
    tier: str | None = None
    handoff: bool | None = None  # a handoff was requested (in this turn; in `final`, at any point)
    objections: dict[str, int] | None = None


class Step(_Model):
    say: str | None = None
    choose: str | None = None
    wait: Duration | None = None
    expect: Expect = Expect()


class Case(_Model):
    name: str
    channel: str = "test"
    attributes: dict[str, str] = {}
    turns: list[Step] = Field(min_length=1)
    final: Expect = Expect()


class TestFile(_Model):
    flow: str
    start: datetime = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    cases: list[Case] = Field(min_length=1)


@dataclass
class CaseResult:
    name: str
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class FileResult:
    file: str
    flow: CompiledFlow
    cases: list[CaseResult]
    visited: set[str]

    @property
    def passed(self) -> bool:
        return all(case.passed for case in self.cases)

    def unvisited(self) -> list[str]:
        return [sid for sid in self.flow.states if sid not in self.visited]


def load_test_file(path: Path) -> tuple[TestFile, SourceMap]:
    """Read a conversation test file. Raises FlowError with positions."""
    try:
        document, root = parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise FlowError([FlowIssue(file=str(path), line=1, col=1, message=f"cannot read the file: {exc}")]) from exc
    except yaml.MarkedYAMLError as exc:
        raise FlowError([yaml_issue(exc, str(path))]) from exc
    source = SourceMap(file=str(path), root=root)
    if not isinstance(document, dict):
        raise FlowError([source.issue([], "a test file is a mapping with `flow` and `cases`")])
    try:
        return TestFile.model_validate(document), source
    except ValidationError as exc:
        raise FlowError([source.issue([p for p in err["loc"] if isinstance(p, (str, int))],
                                      f"{'.'.join(map(str, err['loc']))}: {err['msg']}") for err in exc.errors()]
                        ) from exc


def run_test_file(path: Path, flow: CompiledFlow | None = None) -> FileResult:
    """Run every case of a test file against its flow (compiled from `flow:` unless given)."""
    spec, source = load_test_file(path)
    if flow is None:
        flow = compile_flow(load_flow_file((path.parent / spec.flow).resolve()))
    visited: set[str] = set()
    results = [
        _run_case(flow, spec, case, source, ("cases", index), visited) for index, case in enumerate(spec.cases)
    ]
    return FileResult(file=str(path), flow=flow, cases=results, visited=visited)


class _Simulation:
    """A conversation driven by the pure engine with a simulated clock and timers."""

    def __init__(self, flow: CompiledFlow, now: datetime) -> None:
        self.flow = flow
        self.now = now
        self.state: ConversationState | None = None
        self.timers: dict[str, datetime] = {}
        self.handoff_ever = False

    def send(self, inbound: Inbound) -> list[Turn]:
        turn = engine.step(self.flow, self.state, inbound, self.now)
        self._absorb(turn)
        return [turn]

    def wait(self, delta: timedelta) -> list[Turn]:
        end = self.now + delta
        turns: list[Turn] = []
        while True:
            due = sorted((at, key) for key, at in self.timers.items() if at <= end)
            if not due:
                break
            at, key = due[0]
            del self.timers[key]
            self.now = max(self.now, at)
            turns += self.send(TimerFired(key=key))
        self.now = end
        return turns

    def _absorb(self, turn: Turn) -> None:
        self.state = turn.state
        for effect in turn.effects:
            if isinstance(effect, ScheduleTimer):
                self.timers[effect.key] = effect.due_at
            elif isinstance(effect, CancelTimers):
                self.timers = {k: v for k, v in self.timers.items() if not k.startswith(effect.prefix)}
            elif isinstance(effect, RequestHandoff):
                self.handoff_ever = True


def _run_case(flow: CompiledFlow, spec: TestFile, case: Case, source: SourceMap, path: tuple[str | int, ...],
              visited: set[str]) -> CaseResult:
    result = CaseResult(name=case.name)
    sim = _Simulation(flow, spec.start)
    opening = sim.send(Started(channel=case.channel, attributes=case.attributes))
    visited.update(t.dest for turn in opening for t in turn.transitions)
    for index, step in enumerate(case.turns):
        step_path = (*path, "turns", index)
        # a first step with only `expect` checks the bot's opening messages
        turns = opening if index == 0 and _is_expect_only(step) else _play(sim, step)
        for turn in turns:
            visited.update(t.dest for t in turn.transitions)
        _check(result, source, step_path, step.expect, sim, turns, final=False)
        if not result.passed:
            return result
    _check(result, source, (*path, "final"), case.final, sim, [], final=True)
    return result


def _is_expect_only(step: Step) -> bool:
    return step.say is None and step.choose is None and step.wait is None


def _play(sim: _Simulation, step: Step) -> list[Turn]:
    turns: list[Turn] = []
    if step.wait is not None:
        turns += sim.wait(step.wait)
    if step.say is not None:
        turns += sim.send(TextReceived(text=step.say))
    if step.choose is not None:
        turns += sim.send(ChoiceMade(option=step.choose))
    return turns


def _check(result: CaseResult, source: SourceMap, path: tuple[str | int, ...], expect: Expect, sim: _Simulation,
           turns: list[Turn], *, final: bool) -> None:
    state = sim.state
    if state is None:
        return
    replies = [reply for turn in turns for reply in turn.replies]
    where = "{}:{}:{}".format(source.file, *source.position(path))
    problems = _reply_problems(expect, replies) if not final else []
    problems += _state_problems(expect, sim, state)
    if expect.handoff is not None:
        got = sim.handoff_ever if final else any(isinstance(e, RequestHandoff) for t in turns for e in t.effects)
        if got != expect.handoff:
            problems.append(f"expected handoff={expect.handoff}, got {got}")
    result.failures += [f"{where}: {result.name}: {problem}" for problem in problems]


def _reply_problems(expect: Expect, replies: list[Outbound]) -> list[str]:
    problems: list[str] = []
    texts = [reply.text for reply in replies]
    shown = " | ".join(texts) or "(no reply)"
    if expect.no_reply and replies:
        problems.append(f"expected no reply, got: {shown}")
    position = 0
    for wanted in expect.replies or []:
        found = next((i for i in range(position, len(texts)) if wanted.lower() in texts[i].lower()), None)
        if found is None:
            problems.append(f"expected a reply containing {wanted!r}, got: {shown}")
            break
        position = found + 1
    if expect.causes is not None:
        causes = [f"{reply.cause.kind.value}:{reply.cause.id}" for reply in replies]
        if causes != expect.causes:
            problems.append(f"expected causes {expect.causes}, got {causes}")
    return problems


def _state_problems(expect: Expect, sim: _Simulation, state: ConversationState) -> list[str]:
    checks: list[tuple[str, object, object]] = [
        ("state", expect.state, state.state),
        ("status", expect.status, state.status.value),
        ("outcome", expect.outcome, state.outcome.value if state.outcome else None),
        ("score", expect.score, state.score),
        ("tier", expect.tier, sim.flow.scoring.tier(state.score).value),
    ]
    problems = [f"expected {name} {want!r}, got {got!r}" for name, want, got in checks
                if want is not None and want != got]
    if expect.min_score is not None and state.score < expect.min_score:
        problems.append(f"expected a score of at least {expect.min_score}, got {state.score}")
    for name, want in (expect.values or {}).items():
        got = state.values.get(name)
        if got != want:
            problems.append(f"expected value {name}={want!r}, got {got!r}")
    for name, want in (expect.objections or {}).items():
        if state.objections.get(name, 0) != want:
            problems.append(f"expected objection {name} raised {want} time(s), got {state.objections.get(name, 0)}")
    return problems
