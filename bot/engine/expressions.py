"""Conditions and message templates, in Jinja2's sandbox. Never Python `eval`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.lexer import describe_token
from jinja2.meta import find_undeclared_variables
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment

Scope = Mapping[str, Any]


def _money(value: object) -> str:
    """Format a number with thousands separators: 20000 -> '20,000'."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _blank_none(value: object) -> object:
    return "" if value is None else value


class ExpressionError(ValueError):
    """An expression or template does not parse. The message and `hint` are admin-facing."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


def make_environment() -> ImmutableSandboxedEnvironment:
    """The sandbox every flow compiles its expressions in. Built by the flow compiler, one per flow."""
    env = ImmutableSandboxedEnvironment(
        autoescape=False, undefined=StrictUndefined, finalize=_blank_none, keep_trailing_newline=False
    )
    env.filters["money"] = _money
    return env


class _Lazy:
    """Compiles Jinja source to Python on first use. Parsing (done eagerly) validates; compiling is the slow
    part, and a flow has many templates that a given conversation never reaches."""

    __slots__ = ("_build", "_fn")

    def __init__(self, build: Callable[[], Callable[..., Any]]) -> None:
        self._build = build
        self._fn: Callable[..., Any] | None = None

    def get(self) -> Callable[..., Any]:
        if self._fn is None:
            self._fn = self._build()
        return self._fn


@dataclass(frozen=True)
class Expression:
    """A compiled expression over the collected values (a `set:` value or a condition)."""

    source: str
    names: frozenset[str]
    _fn: _Lazy

    def value(self, scope: Scope) -> Any:
        """The expression's value; None when a value it needs is missing or of the wrong type."""
        try:
            return self._fn.get()(**scope)
        except Exception:
            return None

    def __call__(self, scope: Scope) -> bool:
        """True when the expression holds. Missing values or type clashes make it false, never raise."""
        return bool(self.value(scope))


Condition = Expression
_SIMPLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@dataclass(frozen=True)
class Template:
    """A compiled message template. Missing values render as empty text."""

    source: str
    names: frozenset[str]
    _render: _Lazy | None
    simple: bool = False  # only {{ name }} placeholders: rendered without Jinja

    def render(self, scope: Scope) -> str:
        if self.simple:
            return _SIMPLE.sub(lambda m: _text(scope.get(m.group(1))), self.source)
        if self._render is None:
            return self.source
        render = self._render.get()
        try:
            return str(render(scope))
        except Exception:
            return str(render({**scope, **{name: "" for name in self.names if name not in scope}}))


def _text(value: object) -> str:
    return "" if value is None else str(value)


def compile_expression(env: ImmutableSandboxedEnvironment, source: str) -> Expression:
    """Compile `budget >= 10000 and authority == 'decision_maker'`. Raises ExpressionError."""
    expr = parse_expression(env, source)
    names = find_undeclared_variables(_as_template(env, expr))
    return Expression(source=source, names=frozenset(names),
                      _fn=_Lazy(lambda: env.compile_expression(source, undefined_to_none=False)))


def parse_expression(env: ImmutableSandboxedEnvironment, source: str) -> nodes.Expr:
    """Parse an expression the way `Environment.compile_expression` does, so errors speak of the author's text.

    Raises ExpressionError.
    """
    if "{{" in source or "}}" in source:
        bare = _SIMPLE.sub(r"\1", source)
        raise ExpressionError(f"invalid expression '{source}': conditions are not templates",
                              hint=f"conditions use bare names without {{{{ }}}}: write {bare}")
    if not source.strip():
        raise ExpressionError("empty expression", hint="write a condition, like budget >= 10000")
    parser = Parser(env, source, state="variable")
    try:
        expr = parser.parse_expression()
        if not parser.stream.eos:
            extra = describe_token(parser.stream.current)
            raise TemplateSyntaxError(f"unexpected {extra!r} after a complete expression", parser.stream.current.lineno)
    except TemplateSyntaxError as exc:
        message = (exc.message or "invalid syntax").replace("end of template", "end of expression")
        raise ExpressionError(f"invalid expression '{source}': {message}") from exc
    return expr


def _as_template(env: ImmutableSandboxedEnvironment, expr: nodes.Expr) -> nodes.Template:
    """Wrap a parsed expression in a template node, for jinja2.meta's analyses."""
    template = nodes.Template([nodes.Output([expr], lineno=1)], lineno=1)
    template.set_environment(env)
    return template


def compile_template(env: ImmutableSandboxedEnvironment, source: str) -> Template:
    """Compile a message template like 'Thanks {{ name }}!'. Raises ExpressionError."""
    if "{" not in source:
        return Template(source=source, names=frozenset(), _render=None)
    if "{" not in _SIMPLE.sub("", source) and "}" not in _SIMPLE.sub("", source):
        return Template(source=source, names=frozenset(_SIMPLE.findall(source)), _render=None, simple=True)
    try:
        ast = env.parse(source)
    except TemplateSyntaxError as exc:
        raise ExpressionError(f"invalid template: {exc.message}") from exc
    return Template(source=source, names=frozenset(find_undeclared_variables(ast)),
                    _render=_Lazy(lambda: env.from_string(source).render))


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """`name <op> constant` found in a condition, for type checks against the variable's question."""

    name: str
    op: str
    constants: tuple[object, ...]


def comparisons(env: ImmutableSandboxedEnvironment, source: str) -> list[Comparison]:
    """Every comparison of a bare name with literal constants in a condition."""
    try:
        expr = parse_expression(env, source)
    except ExpressionError:
        return []
    found: list[Comparison] = []
    compares = [expr] if isinstance(expr, nodes.Compare) else []
    for compare in [*compares, *expr.find_all(nodes.Compare)]:
        left: nodes.Node = compare.expr
        for operand in compare.ops:
            right = operand.expr
            name, const = _name_and_const(left, right)
            if name is not None and const is not None:
                found.append(Comparison(name=name, op=operand.op, constants=const))
            left = right
    return found


def _name_and_const(left: nodes.Node, right: nodes.Node) -> tuple[str | None, tuple[object, ...] | None]:
    for a, b in ((left, right), (right, left)):
        if isinstance(a, nodes.Name):
            if isinstance(b, nodes.Const):
                return a.name, (b.value,)
            if isinstance(b, (nodes.List, nodes.Tuple)) and all(isinstance(i, nodes.Const) for i in b.items):
                return a.name, tuple(i.value for i in b.items if isinstance(i, nodes.Const))
    return None, None
