"""Conditions and message templates, in Jinja2's sandbox. Never Python `eval`."""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Callable, Iterable, Mapping
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
    _eval: Callable[[Scope], Any]

    def value(self, scope: Scope) -> Any:
        """The expression's value; None when a value it needs is missing or of the wrong type."""
        try:
            result = self._eval(scope)
            bool(result)  # StrictUndefined raises here, not when it is produced
        except Exception:
            return None
        return result

    def __call__(self, scope: Scope) -> bool:
        """True when the expression holds. Missing values or type clashes make it false, never raise."""
        try:
            return bool(self._eval(scope))
        except Exception:
            return False


_SIMPLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
Piece = str | Callable[[Scope], str]  # a template's literal text, or a closure rendering one placeholder


@dataclass(frozen=True)
class Template:
    """A compiled message template. Missing values render as empty text.

    Common shapes (text with `{{ name }}` and `{{ name | filter(...) }}` placeholders) are rendered by
    closures built at compile time (`_pieces`), with the same result as Jinja; anything else by Jinja.
    """

    source: str
    names: frozenset[str]
    _render: _Lazy | None
    _pieces: tuple[Piece, ...] | None = None

    @property
    def fast(self) -> bool:
        """Rendered by compiled closures rather than by Jinja."""
        return self._pieces is not None

    def render(self, scope: Scope) -> str:
        if self._pieces is not None:
            try:
                return "".join([piece if isinstance(piece, str) else piece(scope) for piece in self._pieces])
            except Exception:
                return ""
        if self._render is None:
            return self.source
        render = self._render.get()
        # a value not collected yet renders (and filters) as empty text, never as "None"
        blanked = {name: "" if value is None else value for name, value in _bind(self.names, scope).items()}
        try:
            return str(render(blanked))
        except Exception:
            return ""


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _simple_pieces(source: str) -> tuple[Piece, ...]:
    """A template of text and `{{ name }}` placeholders only, split at compile time (the text is kept as typed)."""
    parts = _SIMPLE.split(source)  # text, name, text, name, ..., text
    pieces: list[Piece] = []
    for index, part in enumerate(parts):
        if index % 2:
            pieces.append(_placeholder(part))
        elif part:
            pieces.append(part)
    return tuple(pieces)


def _placeholder(name: str) -> Callable[[Scope], str]:
    return lambda scope: _text(scope.get(name))


# Filters a fast template may apply: they read only their input and constant arguments.
_TEMPLATE_FILTERS: frozenset[str] = frozenset({
    "money", "urlencode", "upper", "lower", "title", "capitalize", "trim", "join", "length", "count", "string",
    "default", "replace", "round",
})


def _template_pieces(env: ImmutableSandboxedEnvironment, ast: nodes.Template) -> tuple[Piece, ...] | None:
    """Closures for a parsed template that is text and `{{ name | filter(constants) ... }}` placeholders, or
    None for any other shape (Jinja renders those). The text pieces are Jinja's own (after its whitespace
    rules); each placeholder renders like Jinja's output: a missing value is blanked to "" before the
    filters, and the result goes through the environment's `finalize` and `str`."""
    if not ast.body:
        return ()
    if len(ast.body) != 1 or not isinstance(ast.body[0], nodes.Output):
        return None
    pieces: list[Piece] = []
    for node in ast.body[0].nodes:
        if isinstance(node, nodes.TemplateData):
            pieces.append(node.data)
            continue
        value = _placeholder_value(env, node)
        if value is None:
            return None
        pieces.append(_output(env, value))
    return tuple(pieces)


def _placeholder_value(env: ImmutableSandboxedEnvironment, node: nodes.Node) -> Evaluator | None:
    if isinstance(node, nodes.Name) and node.ctx == "load":
        name = node.name
        return lambda scope: _blank_none(scope.get(name))
    if (isinstance(node, nodes.Filter) and node.name in _TEMPLATE_FILTERS and node.node is not None
            and not node.kwargs and node.dyn_args is None and node.dyn_kwargs is None
            and all(isinstance(arg, nodes.Const) for arg in node.args)):
        inner = _placeholder_value(env, node.node)
        if inner is None:
            return None
        name, args = node.name, [arg.value for arg in node.args if isinstance(arg, nodes.Const)]
        function = env.filters[name]
        if getattr(function, "jinja_pass_arg", None) is None:  # needs no context, environment or eval context
            return lambda scope: function(inner(scope), *args)
        return lambda scope: env.call_filter(name, inner(scope), args)
    return None


def _output(env: ImmutableSandboxedEnvironment, value: Evaluator) -> Callable[[Scope], str]:
    finalize = env.finalize
    if finalize is None:
        return lambda scope: str(value(scope))
    return lambda scope: str(finalize(value(scope)))


def compile_expression(env: ImmutableSandboxedEnvironment, source: str) -> Expression:
    """Compile `budget >= 10000 and authority == 'decision_maker'`. Raises ExpressionError."""
    expr = parse_expression(env, source)
    _check_filters(env, expr)
    names = find_undeclared_variables(_as_template(env, expr))
    fast = fast_path(expr)
    if fast is not None:
        return Expression(source=source, names=frozenset(names), _eval=fast)
    lazy = _Lazy(lambda: env.compile_expression(source, undefined_to_none=False))
    return Expression(source=source, names=frozenset(names), _eval=lambda scope: lazy.get()(**_bind(names, scope)))


def _bind(names: Iterable[str], scope: Scope) -> dict[str, Any]:
    """The values a Jinja expression or template reads. A flow only uses names it declares (the validator
    checks), so a name missing from the scope is a variable not collected yet: None."""
    return {name: scope.get(name) for name in names}


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "gteq": operator.ge, "lt": operator.lt,
    "lteq": operator.le, "in": lambda a, b: a in b, "notin": lambda a, b: a not in b,
}
_BINARY: dict[type[nodes.Expr], Callable[[Any, Any], Any]] = {
    nodes.Add: operator.add, nodes.Sub: operator.sub, nodes.Mul: operator.mul, nodes.Div: operator.truediv,
    nodes.FloorDiv: operator.floordiv, nodes.Mod: operator.mod,
}
_FILTERS: dict[str, Callable[[Any], Any]] = {
    "length": len, "count": len, "lower": lambda v: str(v).lower(), "upper": lambda v: str(v).upper(),
    "int": lambda v: int(float(v)), "float": float, "abs": abs,
}
Evaluator = Callable[[Scope], Any]


def fast_path(expr: nodes.Node) -> Evaluator | None:
    """Python closures for the common subset of conditions (names, constants, comparisons, and/or/not,
    arithmetic, `is none`, a few filters), with the same results as Jinja. None when the expression uses
    anything else; Jinja's compiled sandbox then evaluates it. A closure is ~10x cheaper than a Jinja call."""
    if isinstance(expr, nodes.Const):
        constant = expr.value
        return lambda scope: constant
    if isinstance(expr, nodes.Name) and expr.ctx == "load":
        name = expr.name
        return lambda scope: scope.get(name)
    if isinstance(expr, (nodes.List, nodes.Tuple)):
        return _sequence(expr.items)
    if isinstance(expr, nodes.Not):
        return _unary(fast_path(expr.node), operator.not_)
    if isinstance(expr, (nodes.And, nodes.Or)):
        return _logic(expr)
    if type(expr) in _BINARY and isinstance(expr, nodes.BinExpr):
        return _binary(_BINARY[type(expr)], expr.left, expr.right)
    if isinstance(expr, nodes.Compare):
        return _compare(expr)
    if isinstance(expr, nodes.Test) and expr.name == "none" and not expr.args and not expr.kwargs:
        return _unary(fast_path(expr.node), lambda value: value is None)
    if isinstance(expr, nodes.Filter) and expr.name in _FILTERS and not expr.args and not expr.kwargs:
        return _unary(fast_path(expr.node) if expr.node is not None else None, _FILTERS[expr.name])
    return None


def _unary(inner: Evaluator | None, apply: Callable[[Any], Any]) -> Evaluator | None:
    if inner is None:
        return None
    return lambda scope: apply(inner(scope))


def _sequence(items: list[nodes.Expr]) -> Evaluator | None:
    parts = [fast_path(item) for item in items]
    if any(part is None for part in parts):
        return None
    fns = [part for part in parts if part is not None]
    return lambda scope: [fn(scope) for fn in fns]


def _logic(expr: nodes.And | nodes.Or) -> Evaluator | None:
    left, right = fast_path(expr.left), fast_path(expr.right)
    if left is None or right is None:
        return None
    if isinstance(expr, nodes.And):
        return lambda scope: left(scope) and right(scope)
    return lambda scope: left(scope) or right(scope)


def _binary(op: Callable[[Any, Any], Any], left_node: nodes.Expr, right_node: nodes.Expr) -> Evaluator | None:
    left, right = fast_path(left_node), fast_path(right_node)
    if left is None or right is None:
        return None
    return lambda scope: op(left(scope), right(scope))


def _compare(expr: nodes.Compare) -> Evaluator | None:
    first = fast_path(expr.expr)
    steps = [(_COMPARE.get(operand.op), fast_path(operand.expr)) for operand in expr.ops]
    if first is None or any(op is None or fn is None for op, fn in steps):
        return None
    chain = [(op, fn) for op, fn in steps if op is not None and fn is not None]

    def evaluate(scope: Scope) -> bool:
        left = first(scope)
        for op, fn in chain:
            right = fn(scope)
            if not op(left, right):
                return False
            left = right
        return True

    return evaluate


def _check_filters(env: ImmutableSandboxedEnvironment, tree: nodes.Node) -> None:
    """Unknown filters and tests are errors when the flow loads, not when a prospect reaches them."""
    found = [tree] if isinstance(tree, (nodes.Filter, nodes.Test)) else []
    for node in [*found, *tree.find_all((nodes.Filter, nodes.Test))]:
        if not isinstance(node, (nodes.Filter, nodes.Test)):
            continue
        known = env.filters if isinstance(node, nodes.Filter) else env.tests
        kind = "filter" if isinstance(node, nodes.Filter) else "test"
        if node.name not in known:
            close = difflib.get_close_matches(node.name, list(known), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known {kind}s include: " + ", ".join(
                sorted(known)[:15])
            raise ExpressionError(f"unknown {kind} '{node.name}'", hint=hint)


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
        return Template(source=source, names=frozenset(_SIMPLE.findall(source)), _render=None,
                        _pieces=_simple_pieces(source))
    try:
        ast = env.parse(source)
    except TemplateSyntaxError as exc:
        raise ExpressionError(f"invalid template: {exc.message}") from exc
    _check_filters(env, ast)
    return Template(source=source, names=frozenset(find_undeclared_variables(ast)),
                    _render=_Lazy(lambda: env.from_string(source).render), _pieces=_template_pieces(env, ast))


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
