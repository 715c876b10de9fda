"""Semantic checks of a flow: references, reachability, dead ends, loops, names, types and thresholds."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot.engine.expressions import Expression, comparisons
from bot.engine.parsers.base import QuestionType
from bot.flow import schema as s

if TYPE_CHECKING:
    from bot.flow.compiler import Variable, _Build

Edges = dict[str, list[tuple[str, Expression | None]]]
NUMERIC = frozenset({QuestionType.NUMBER, QuestionType.MONEY})
DATE_CATEGORIES = ("asap", "this_month", "next_month", "this_quarter", "next_quarter", "this_year", "next_year",
                   "later", "unsure")
URL_SCHEMES = ("https://", "http://", "mailto:", "tel:")
CHOICES = frozenset({QuestionType.CHOICE, QuestionType.MULTI_CHOICE})
SKIP = "skip"  # `fallback: skip` moves on without an answer


def _did_you_mean(name: str, known: list[str]) -> str:
    from bot.flow.compiler import did_you_mean  # noqa: PLC0415 - avoids an import cycle

    return did_you_mean(name, known)


def check_undefined(build: _Build, names: frozenset[str]) -> None:
    """Every name used in a condition or template must be defined somewhere in the flow."""
    known = sorted(names)
    for path, template, extra in build.templates:
        for name in sorted(template.names - names - extra):
            build.error(path, f"undefined variable '{name}' in template", _did_you_mean(name, known)
                        or "define it with a question's save_as, `set:` or `values:`")
    for path, expression in build.expressions:
        for name in sorted(expression.names - names):
            build.error(path, f"undefined variable '{name}' in condition '{expression.source}'",
                        _did_you_mean(name, known) or "define it with a question's save_as, `set:` or `values:`")


def check_types(build: _Build, variables: Mapping[str, Variable]) -> None:
    """Comparisons must fit the question that collects the variable (options, numbers, yes/no)."""
    for path, expression in build.expressions:
        for comparison in comparisons(build.env, expression.source):
            variable = variables.get(comparison.name)
            question = variable.question if variable else None
            if question is None:
                continue
            if question.type is QuestionType.MULTI_CHOICE and comparison.op in ("eq", "ne"):
                build.error(path, f"'{comparison.name}' is a multi_choice: it holds a list of option ids, so == is "
                            "never true", f"test one option with: 'some_option' in {comparison.name}")
                continue
            for constant in comparison.constants:
                problem = _mismatch(question, constant)
                if problem:
                    message, hint = problem
                    build.error(path, f"'{comparison.name}' {message}", hint)


def _mismatch(question: s.QuestionSpec, constant: object) -> tuple[str, str] | None:
    kind = question.type
    if constant is None:  # an answer skipped with `fallback: skip` has no value
        return None
    if kind in CHOICES:
        ids = [o.id for o in question.options]
        if not isinstance(constant, str) or constant not in ids:
            close = difflib.get_close_matches(constant, ids, n=1) if isinstance(constant, str) else []
            return (f"is a {kind.value} of {', '.join(ids)}; {constant!r} is not one of its options",
                    f"did you mean '{close[0]}'?" if close else f"compare with an option id: {', '.join(ids)}")
    elif kind in NUMERIC and isinstance(constant, str):
        return f"is a {kind.value}; it cannot equal the text {constant!r}", "compare numbers, like budget >= 10000"
    elif kind in NUMERIC and isinstance(constant, bool):
        return (f"is a {kind.value}; compare it with a number, not {str(constant).lower()}",
                "compare numbers, like budget >= 10000")
    elif kind is QuestionType.DATE and isinstance(constant, str) and constant not in DATE_CATEGORIES:
        close = difflib.get_close_matches(constant, DATE_CATEGORIES, n=1)
        return (f"is a date answer; {constant!r} is not one of its categories",
                f"did you mean '{close[0]}'?" if close else "use one of: " + ", ".join(DATE_CATEGORIES))
    elif kind is QuestionType.YES_NO and not isinstance(constant, bool):
        return f"is a yes/no answer; compare it with true or false, not {constant!r}", "write: demo_wanted == true"
    return None


def check_graph(build: _Build, spec: s.FlowSpec) -> tuple[Edges, dict[str, str], set[str]]:
    """Resolve every state reference and check the flow can always move on. Returns the machine's edges."""
    state_ids = list(spec.states)
    if spec.start not in spec.states:
        build.error(("start",), f"start names no state: '{spec.start}'", _did_you_mean(spec.start, state_ids))
    # The state each unknown reference most likely meant: reachability follows it, so one typo in a `next:`
    # is one issue, not one more for every state behind it.
    guesses: dict[str, set[str]] = {sid: set() for sid in spec.states}  # "" holds the global jumps' guesses

    def ref(path: tuple[str | int, ...], target: str | None, *, keywords: tuple[str, ...] = ()) -> str | None:
        if target is None or target in spec.states:
            return target
        build.error(path, f"'{target}' names no state", _did_you_mean(target, [*state_ids, *keywords]))
        guess = difflib.get_close_matches(target, state_ids, n=1)
        if guess:
            origin = str(path[1]) if path[0] == "states" else ""
            guesses.setdefault(origin, set()).add(guess[0])
        return None

    edges: Edges = {}
    fallbacks: dict[str, str] = {}
    local: dict[str, set[str]] = {sid: set() for sid in spec.states}
    for sid, state in spec.states.items():
        path: tuple[str | int, ...] = ("states", sid)
        edges[sid] = _next_edges(build, sid, state, ref)
        local[sid].update(dest for dest, _ in edges[sid])
        if state.ask and state.ask.fallback and state.ask.fallback != SKIP:
            dest = ref((*path, "ask", "fallback"), state.ask.fallback, keywords=(SKIP,))
            if dest:
                fallbacks[sid] = dest
                local[sid].add(dest)
        for i, rule in enumerate(state.on_silence):
            dest = ref((*path, "on_silence", i, "goto"), rule.goto)
            if dest:
                local[sid].add(dest)
        _dead_end(build, sid, state)
    jumps = _global_targets(spec, ref)
    jumps.update(t for sid in spec.states for t in local[sid] if _is_silence_target(spec, sid, t))
    if spec.start in spec.states:
        jumps.add(spec.start)  # restart
        lenient = {sid: local[sid] | guesses[sid] for sid in spec.states}
        _reachability(build, spec, lenient, jumps | guesses.get("", set()))
        _auto_loops(build, spec, local)
    _thresholds(build, spec.scoring)
    return {k: v for k, v in edges.items() if v}, fallbacks, jumps


def _is_silence_target(spec: s.FlowSpec, sid: str, target: str) -> bool:
    return any(rule.goto == target for rule in spec.states[sid].on_silence)


def _next_edges(build: _Build, sid: str, state: s.StateSpec, ref: object) -> list[tuple[str, Expression | None]]:
    path: tuple[str | int, ...] = ("states", sid, "next")
    resolve = ref  # typed loosely to keep the closure simple
    if state.next is None:
        return []
    if isinstance(state.next, str):
        dest = resolve(path, state.next)  # type: ignore[operator]
        return [(dest, None)] if dest else []
    found: list[tuple[str, Expression | None]] = []
    unconditional_seen = False
    for i, branch in enumerate(state.next):
        if unconditional_seen:
            build.error((*path, i), f"state '{sid}': this branch comes after one without `if` and never runs",
                        "put the branch without `if` last; it is the `else`")
        dest = resolve((*path, i, "goto"), branch.goto)  # type: ignore[operator]
        condition = build.expression((*path, i, "if"), branch.if_) if branch.if_ is not None else None
        unconditional_seen = unconditional_seen or condition is None
        if dest:
            found.append((dest, condition))
    if not unconditional_seen:
        build.error(path, f"dead end: in state '{sid}' no branch of `next` may match, and the conversation "
                    "would stop", "add a last branch without `if`, like `- goto: some_state`", at_key=True)
    return found


def _dead_end(build: _Build, sid: str, state: s.StateSpec) -> None:
    path = ("states", sid)
    if state.end is None and state.next is None:
        what = "asks a question but has no `next`" if state.ask else "has no `next` and is not an `end`"
        build.error(path, f"dead end: state '{sid}' {what}",
                    "add `next: <state>` or `end: qualified|disqualified|handed_off|nurture`", at_key=True)
    if state.on_silence and state.ask is None and state.end is None:
        build.error((*path, "on_silence"), f"state '{sid}' never waits for the prospect, so `on_silence` "
                    "never fires", "put on_silence on a state that asks a question or ends", at_key=True)
    if state.buttons and not state.say and state.ask is None:
        build.error((*path, "buttons"), f"state '{sid}' has buttons but no message to attach them to",
                    "add a `say:` (the buttons go under its last message) or an `ask:`", at_key=True)
    for index, button in enumerate(state.buttons):
        url = button.url.strip()
        if not url.startswith("{{") and not url.lower().startswith(URL_SCHEMES):
            build.error((*path, "buttons", index, "url"), f"button link {url!r} is not a web, mailto or tel link",
                        "links must start with https://, http://, mailto: or tel: (others are never shown)")


def _global_targets(spec: s.FlowSpec, ref: object) -> set[str]:
    resolve = ref
    targets: set[str] = set()
    actions: list[tuple[tuple[str | int, ...], s.Action | None]] = [(("scoring", "on_hot"), spec.scoring.on_hot)]
    for oid, objection in spec.objections.items():
        actions += [(("objections", oid, "then"), objection.then), (("objections", oid, "on_repeat"),
                                                                     objection.on_repeat)]
    actions += [(("faqs", fid, "then"), faq.then) for fid, faq in spec.faqs.items()]
    for path, action in actions:
        if isinstance(action, s.GotoAction):
            dest = resolve((*path, "goto"), action.goto)  # type: ignore[operator]
            if dest:
                targets.add(dest)
    return targets


def _reachability(build: _Build, spec: s.FlowSpec, local: Mapping[str, set[str]], roots: set[str]) -> None:
    seen: set[str] = set()
    stack = [spec.start, *roots]
    while stack:
        sid = stack.pop()
        if sid in seen or sid not in local:
            continue
        seen.add(sid)
        stack.extend(local[sid])
    for sid in spec.states:
        if sid not in seen:
            build.error(("states", sid), f"state '{sid}' is unreachable: no `next`, fallback or goto leads to it",
                        "link it from another state's `next:` or delete it", at_key=True)


def _auto_loops(build: _Build, spec: s.FlowSpec, local: Mapping[str, set[str]]) -> None:
    """A loop of states that never ask anything would spin forever. Each loop is reported once.

    A depth-first search with an explicit stack: a flow may chain thousands of such states.
    """
    auto = {sid for sid, st in spec.states.items() if st.ask is None and st.end is None}
    colour: dict[str, int] = {}  # absent: not seen; 1: on the current trail; 2: done
    reported: set[frozenset[str]] = set()
    for root in sorted(auto):
        if root in colour:
            continue
        colour[root] = 1
        trail = [root]
        stack = [iter(sorted(local[root] & auto))]
        while stack:
            dest = next(stack[-1], None)
            if dest is None:
                colour[trail.pop()] = 2
                stack.pop()
            elif colour.get(dest) == 1:
                loop = [*trail[trail.index(dest):], dest]
                if frozenset(loop) not in reported:
                    reported.add(frozenset(loop))
                    build.error(("states", dest), "loop without a question: " + " -> ".join(loop),
                                "a loop must ask something, or the bot would talk forever", at_key=True)
            elif dest not in colour:
                colour[dest] = 1
                trail.append(dest)
                stack.append(iter(sorted(local[dest] & auto)))


def _thresholds(build: _Build, scoring: s.ScoringSpec) -> None:
    if scoring.warm >= scoring.hot:
        build.error(("scoring", "warm"), f"warm threshold {scoring.warm} must be below hot threshold {scoring.hot}",
                    "for example hot: 70, warm: 40")
    if not scoring.rules:
        return
    best = sum(max(0, rule.points) for rule in scoring.rules)
    for tier in ("hot", "warm"):
        threshold = getattr(scoring, tier)
        if threshold > best:
            build.error(("scoring", tier), f"{tier} threshold {threshold} is unreachable: all scoring rules together "
                        f"give at most {best} points", f"lower `{tier}` or add rules worth more points")
