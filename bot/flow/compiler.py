"""Turns a schema-valid flow into a CompiledFlow, collecting every problem as a positioned FlowIssue."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.engine import compiled as c
from bot.engine.expressions import (
    Expression,
    ExpressionError,
    Template,
    compile_expression,
    compile_template,
    make_environment,
)
from bot.engine.machine import build_machine
from bot.engine.matcher import IntentMatcher, IntentSpec
from bot.engine.parsers import prepare
from bot.engine.parsers.base import EXTRA_KEYS, AnswerSpec, ChoiceOption, QuestionType
from bot.engine.types import MatchKind, Option
from bot.errors import FlowError, FlowIssue
from bot.flow import schema as s
from bot.flow.checks import check_graph, check_types, check_undefined
from bot.flow.loader import LoadedFlow, load_flow_file, load_flow_text

BUILTIN_MEANINGS = {
    "score": "the lead's score", "tier": "the lead's tier", "channel": "the chat's channel",
    "attrs": "the chat's channel attributes",
}
BUILTINS = frozenset(BUILTIN_MEANINGS)
MESSAGE_NAMES = frozenset({"limit", "agent"})

# Phrasings every flow understands for the global intents; a flow's `intents.<id>.examples` add to these.
BUILTIN_INTENT_EXAMPLES: dict[str, tuple[str, ...]] = {
    "human": (
        "can I talk to a person", "I want to speak to a human", "connect me with a sales rep",
        "is there a real person I can chat with", "let me talk to someone on your team", "get me an agent",
        "can someone call me", "are you a bot?",
    ),
    "restart": (
        "start over", "restart", "let's begin again", "can we start from the beginning", "reset the conversation",
        "I made a mistake, go back to the start",
    ),
    "stop": (
        "stop", "unsubscribe", "leave me alone", "opt me out", "stop messaging me", "don't contact me again",
        "remove me from your list",
    ),
}
DEFAULT_INTENT_SAY = {
    "human": "Of course! I'm getting someone from our team. They'll reply right here shortly.",
    "restart": "Sure, let's start over.",
    "stop": "Understood. You won't hear from us again. Take care!",
}


@dataclass(frozen=True, kw_only=True)
class Variable:
    """A name conditions and templates may use, with the question that collects it, if any."""

    name: str
    path: tuple[str | int, ...]
    question: s.QuestionSpec | None = None


@dataclass
class _Build:
    """Working state of one compilation: the sandbox, and the issues found so far."""

    loaded: LoadedFlow
    env: ImmutableSandboxedEnvironment = field(default_factory=make_environment)
    issues: list[FlowIssue] = field(default_factory=list)
    templates: list[tuple[tuple[str | int, ...], Template, frozenset[str]]] = field(default_factory=list)
    expressions: list[tuple[tuple[str | int, ...], Expression]] = field(default_factory=list)

    def error(self, path: Sequence[str | int], message: str, hint: str = "", *, at_key: bool = False) -> None:
        self.issues.append(self.loaded.source.issue(path, message, hint, at_key=at_key))

    def template(self, path: tuple[str | int, ...], source: str, extra: frozenset[str] = frozenset()) -> Template:
        try:
            template = compile_template(self.env, source)
        except ExpressionError as exc:
            self.error(path, str(exc), exc.hint or "templates use {{ name }} for values; close every {{ with }}")
            return Template(source=source, names=frozenset(), _render=None)  # never rendered: the flow is rejected
        self.templates.append((path, template, extra))
        return template

    def expression(self, path: tuple[str | int, ...], source: str) -> Expression:
        try:
            expression = compile_expression(self.env, source)
        except ExpressionError as exc:
            self.error(path, str(exc),
                       exc.hint or "write conditions like: budget >= 10000 and authority == 'decision_maker'")
            return compile_expression(self.env, "false")
        self.expressions.append((path, expression))
        return expression


def compile_flow(loaded: LoadedFlow) -> c.CompiledFlow:
    """Compile and cross-check a loaded flow. Raises FlowError with every issue found."""
    build = _Build(loaded=loaded)
    spec = loaded.spec
    variables = collect_variables(spec, build)
    states = {sid: _state(build, sid, st, spec.settings) for sid, st in spec.states.items()}
    objections = {oid: _reply(build, ("objections", oid), oid, o) for oid, o in spec.objections.items()}
    faqs = {fid: _reply(build, ("faqs", fid), fid, f) for fid, f in spec.faqs.items()}
    scoring = _scoring(build, spec.scoring)
    messages = _messages(build, spec)
    for oid in spec.objections.keys() & spec.faqs.keys():
        build.error(("faqs", oid), f"duplicate id '{oid}': it names both an objection and a FAQ",
                    "rename one of them; ids name what the bot answered in logs and analytics", at_key=True)
    edges, fallbacks, jumps = check_graph(build, spec)
    names = frozenset(variables) | BUILTINS
    check_undefined(build, names)
    check_types(build, variables)
    if build.issues:
        raise FlowError(build.issues)
    machine = build_machine(
        states=list(spec.states), initial=spec.start, next_edges=edges, fallbacks=fallbacks,
        jump_targets=jumps, jump_trigger=lambda target: f"jump_{target}",
    )
    return c.CompiledFlow(
        id=spec.id, version=loaded.version, title=spec.title or spec.id, start=spec.start, states=states,
        objections=objections, faqs=faqs, scoring=scoring, messages=messages, defaults=dict(spec.values),
        variables=names, max_input_chars=spec.settings.max_input_chars,
        matcher=_matcher(spec), machine=machine,
    )


def load_and_compile(path: Path) -> c.CompiledFlow:
    """Read, validate and compile a flow file."""
    return compile_flow(load_flow_file(path))


def compile_text(content: str, file: str = "<flow>") -> c.CompiledFlow:
    """Validate and compile flow text (used by tests and the admin console)."""
    return compile_flow(load_flow_text(content, file))


def collect_variables(spec: s.FlowSpec, build: _Build) -> dict[str, Variable]:
    """Every variable the flow defines: answers (and their derived values), `set` keys and `values`."""
    found: dict[str, Variable] = {}
    for name in spec.values:
        _not_builtin(build, name, ("values", name))
        found[name] = Variable(name=name, path=("values", name))
    for sid, state in spec.states.items():
        for name in state.set:
            _not_builtin(build, name, ("states", sid, "set", name))
            found.setdefault(name, Variable(name=name, path=("states", sid, "set", name)))
        if state.ask is None:
            continue
        variable = state.ask.save_as or sid
        path: tuple[str | int, ...] = ("states", sid, "ask")
        _not_builtin(build, variable, (*path, "save_as") if state.ask.save_as else path)
        previous = found.get(variable)
        if previous is not None and previous.question is not None and previous.question.type != state.ask.type:
            build.error(path, f"'{variable}' is collected as {previous.question.type.value} in another state "
                        f"and as {state.ask.type.value} here", "use one type per variable, or another save_as")
        found[variable] = Variable(name=variable, path=path, question=state.ask)
        for key in EXTRA_KEYS.get(state.ask.type, ()):
            found.setdefault(f"{variable}_{key}", Variable(name=f"{variable}_{key}", path=path))
    return found


def _not_builtin(build: _Build, name: str, path: tuple[str | int, ...]) -> None:
    """A variable named like a built-in would hide it from every condition and template."""
    if name in BUILTIN_MEANINGS:
        fix = (f"add `save_as:` with another name, like '{name}_answer'" if path[-1] == "ask"
               else f"choose another name, like '{name}_answer'")
        build.error(path, f"'{name}' is a built-in variable ({BUILTIN_MEANINGS[name]}) and cannot be redefined",
                    f"{fix}; built-ins: {', '.join(sorted(BUILTINS))}",
                    at_key=path[-1] != "save_as")


def _action(build: _Build, path: tuple[str | int, ...], raw: s.Action | None) -> c.Action | None:
    del build, path  # targets are checked with the graph
    if raw is None:
        return None
    if isinstance(raw, s.GotoAction):
        return c.Action(kind=c.ActionKind.GOTO, target=raw.goto)
    if isinstance(raw, s.EndAction):
        return c.Action(kind=c.ActionKind.END, outcome=raw.end)
    return c.Action(kind=c.ActionKind(raw))


def _question(build: _Build, sid: str, q: s.QuestionSpec, settings: s.SettingsSpec) -> c.Question:
    path: tuple[str | int, ...] = ("states", sid, "ask")
    options = tuple(ChoiceOption(id=o.id, label=o.label, synonyms=tuple(o.synonyms)) for o in q.options)
    seen: set[str] = set()
    for index, option in enumerate(q.options):
        if option.id in seen:
            build.error((*path, "options", index), f"duplicate option id '{option.id}' in state '{sid}'",
                        "give every option its own id")
        seen.add(option.id)
    answer = AnswerSpec(
        type=q.type, options=options, minimum=q.min, maximum=q.max,
        currency=q.currency or settings.currency, region=settings.phone_region,
    )
    prepare(answer)
    return c.Question(
        variable=q.save_as or sid, answer=answer, text=build.template((*path, "text"), q.text),
        reprompt=build.template((*path, "reprompt"), q.reprompt) if q.reprompt else None,
        options=tuple(Option(id=o.id, label=o.label) for o in q.options),
        multiple=q.type is QuestionType.MULTI_CHOICE,
        max_attempts=q.max_attempts or settings.max_attempts, fallback=q.fallback,
    )


def _state(build: _Build, sid: str, st: s.StateSpec, settings: s.SettingsSpec) -> c.State:
    path: tuple[str | int, ...] = ("states", sid)
    return c.State(
        id=sid,
        sets=tuple((k, build.expression((*path, "set", k), v)) for k, v in st.set.items()),
        say=tuple(build.template((*path, "say", i), text) for i, text in enumerate(st.say)),
        buttons=tuple(
            c.UrlButton(label=build.template((*path, "buttons", i, "label"), b.label),
                        url=build.template((*path, "buttons", i, "url"), b.url))
            for i, b in enumerate(st.buttons)
        ),
        handoff=c.Handoff(reason=build.template((*path, "handoff", "reason"), st.handoff.reason),
                          team=st.handoff.team) if st.handoff else None,
        question=_question(build, sid, st.ask, settings) if st.ask else None,
        silence=tuple(
            c.SilenceRule(key=f"silence:{sid}:{i}", after=rule.after, goto=rule.goto,
                          say=build.template((*path, "on_silence", i, "say"), rule.say) if rule.say else None)
            for i, rule in enumerate(st.on_silence)
        ),
        end=st.end,
    )


def _reply(build: _Build, path: tuple[str, str], rid: str, spec: s.ObjectionSpec | s.FaqSpec) -> c.Reply:
    answer = tuple(build.template((*path, "answer", i), text) for i, text in enumerate(spec.answer))
    then = _action(build, path, spec.then) or c.Action(kind=c.ActionKind.RESUME)
    if isinstance(spec, s.ObjectionSpec):
        return c.Reply(id=rid, answer=answer, then=then, max=spec.max,
                       on_repeat=_action(build, path, spec.on_repeat))
    return c.Reply(id=rid, answer=answer, then=then, max=None, on_repeat=None)


def _scoring(build: _Build, spec: s.ScoringSpec) -> c.Scoring:
    rules: list[c.ScoreRule] = []
    seen: set[str] = set()
    for i, rule in enumerate(spec.rules):
        path: tuple[str | int, ...] = ("scoring", "rules", i)
        if rule.id in seen:
            build.error((*path, "id"), f"duplicate scoring rule id '{rule.id}'", "give every rule its own id")
        seen.add(rule.id)
        rules.append(c.ScoreRule(id=rule.id, when=build.expression((*path, "when"), rule.when),
                                 points=rule.points, reason=build.template((*path, "reason"), rule.reason)))
    by_name: dict[str, list[c.ScoreRule]] = {}
    for compiled_rule in rules:
        for name in compiled_rule.when.names:
            by_name.setdefault(name, []).append(compiled_rule)
    return c.Scoring(rules=tuple(rules), hot=spec.hot, warm=spec.warm,
                     on_hot=_action(build, ("scoring", "on_hot"), spec.on_hot),
                     rules_by_name={k: tuple(v) for k, v in by_name.items()},
                     order={rule.id: index for index, rule in enumerate(rules)},
                     reading=tuple(rule for rule in rules if rule.when.names))


def _messages(build: _Build, spec: s.FlowSpec) -> c.Messages:
    m = spec.settings.messages
    path = ("settings", "messages")
    fixed = {name: build.template((*path, name), getattr(m, name), MESSAGE_NAMES)
             for name in s.MessagesSpec.model_fields}
    intents = {iid: build.template(("intents", iid, "say"), getattr(spec.intents, iid).say or DEFAULT_INTENT_SAY[iid])
               for iid in DEFAULT_INTENT_SAY}
    return c.Messages(**fixed, **intents)


def _matcher(spec: s.FlowSpec) -> IntentMatcher:
    specs = [
        IntentSpec(kind=MatchKind.INTENT, id=iid,
                   examples=(*BUILTIN_INTENT_EXAMPLES[iid], *getattr(spec.intents, iid).examples))
        for iid in BUILTIN_INTENT_EXAMPLES
    ]
    specs += [IntentSpec(kind=MatchKind.OBJECTION, id=oid, examples=tuple(o.examples), keywords=tuple(o.keywords))
              for oid, o in spec.objections.items()]
    specs += [IntentSpec(kind=MatchKind.FAQ, id=fid, examples=tuple(f.examples), keywords=tuple(f.keywords))
              for fid, f in spec.faqs.items()]
    return IntentMatcher(specs, threshold=spec.settings.match_threshold)


def did_you_mean(name: str, known: Sequence[str]) -> str:
    """A 'did you mean' hint, or a list of what exists."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    shown = ", ".join(sorted(known)[:12])
    return f"known names: {shown}" if shown else ""


