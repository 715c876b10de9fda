"""Schema errors as flow issues: one clear issue per mistake, at the position of the YAML that caused it.

pydantic reports a value that fits no member of a union once per member, and adds the member's name
('constrained-str', 'list[Branch]', 'GotoAction') to the error's location. Here the location is walked along
the schema, so those names are told apart from the author's own keys (a state may be called `str`), and the
errors of one union are collapsed into the one that fits what the author wrote.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from bot.errors import FlowIssue
from bot.flow import schema

if TYPE_CHECKING:
    from bot.flow.loader import SourceMap

KeyPath = tuple[str | int, ...]  # keys and list indexes from the document's root
_MISSING: Any = object()
_YAML_BOOLEANS = frozenset({"yes", "no", "on", "off"})
_DOCS = "see the key reference in docs/flows.md"

# What a pattern means, in words: never show a regex to an admin.
_PATTERNS: dict[str, tuple[str, str]] = {
    schema.IDENT: ("a valid id", "ids use letters, digits and underscores, and start with a letter"),
    schema.CURRENCY_CODE: ("a currency code", "use a 3-letter ISO currency code in capitals, like USD or EUR"),
    schema.COUNTRY_CODE: ("a country code", "use a 2-letter country code in capitals, like US or GB"),
}
# How the accepted forms of a union are written in a message.
_PLACEHOLDERS = {"goto": "<state>", "end": "<outcome>"}
_PLURALS = {"Branch": "branches"}


@dataclass(frozen=True)
class _Union:
    """A union the value at `at` failed: its members, and which one this error came from."""

    at: KeyPath
    members: tuple[Any, ...]
    member: Any


@dataclass(frozen=True)
class _Error:
    """One pydantic error, its location split into the author's path and the unions passed on the way."""

    kind: str
    message: str
    value: Any
    ctx: dict[str, Any]
    path: KeyPath
    unions: tuple[_Union, ...] = ()
    known: tuple[str, ...] = ()  # for an unknown key: the keys allowed where it was found
    at_key: bool = False  # the key itself is wrong (a dict key that is not an id)


def schema_issues(exc: ValidationError, document: Any, source: SourceMap) -> list[FlowIssue]:
    """Every schema error of `document` as issues, one per mistake."""
    errors = _collapse([_walk(err) for err in exc.errors()], 0, document)
    errors = _drop_missing_explained_by_typos(_dedupe(errors))
    return [_issue(error, document, source) for error in errors]


# ---------------------------------------------------------------- walking a location along the schema


def _walk(err: ErrorDetails) -> _Error:
    annotation: Any = schema.FlowSpec
    path: list[str | int] = []
    unions: list[_Union] = []
    known: tuple[str, ...] = ()
    at_key = False
    for part in err["loc"]:
        if part == "[key]":
            at_key = True
            continue
        members = _union_members(annotation)
        if members and isinstance(part, str):  # the name of the member this error came from
            member = _member_for_tag(members, part)
            unions.append(_Union(at=tuple(path), members=members, member=member))
            annotation = member
            continue
        path.append(part)
        annotation, known = _descend(annotation, part)
    return _Error(kind=err["type"], message=str(err["msg"]), value=err.get("input"), ctx=dict(err.get("ctx") or {}),
                  path=tuple(path), unions=tuple(unions), known=known, at_key=at_key)


def _strip(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def _union_members(annotation: Any) -> tuple[Any, ...]:
    """The members of a union other than None, when there are at least two."""
    annotation = _strip(annotation)
    if not _is_union(annotation):
        return ()
    members = tuple(m for m in get_args(annotation) if m is not type(None))
    return members if len(members) > 1 else ()


def _model(annotation: Any) -> type[BaseModel] | None:
    annotation = _strip(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _keys(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(field.alias or name for name, field in model.model_fields.items())


def _descend(annotation: Any, part: str | int) -> tuple[Any, tuple[str, ...]]:
    """The annotation of `part` inside `annotation`, and the keys allowed there if it is a model."""
    annotation = _strip(annotation)
    if _is_union(annotation):  # `X | None`
        members = [m for m in get_args(annotation) if m is not type(None)]
        annotation = _strip(members[0]) if len(members) == 1 else None
    model = _model(annotation)
    if model is not None:
        field = next((f for name, f in model.model_fields.items() if part in (name, f.alias)), None)
        return (field.annotation if field else None), _keys(model)
    origin = get_origin(annotation)
    if origin is dict:
        return get_args(annotation)[1], ()
    if origin is list:
        return get_args(annotation)[0], ()
    return None, ()


def _member_for_tag(members: Sequence[Any], tag: str) -> Any:
    """The union member pydantic names `tag`: 'GotoAction', 'literal[...]', 'list[...]', 'constrained-str' ..."""
    inner = re.fullmatch(r"function-\w+\[.*, (.+)\]", tag)  # a member with a validator names its type last
    if inner:
        tag = inner.group(1)
    for member in members:
        base = _strip(member)
        origin = get_origin(base)
        if _model(base) is not None:
            fits = tag == base.__name__
        elif origin is Literal:
            fits = tag.startswith("literal[")
        elif origin in (list, dict):
            fits = tag.startswith(f"{origin.__name__}[")
        elif isinstance(base, type):
            fits = tag in (base.__name__, f"constrained-{base.__name__}")
        else:
            fits = False
        if fits:
            return member
    return None


# ---------------------------------------------------------------- one issue per union


def _collapse(errors: list[_Error], level: int, document: Any) -> list[_Error]:
    """Replace the errors of each union (outermost first) by the ones that fit what the author wrote."""
    kept: list[_Error] = []
    groups: dict[KeyPath, list[_Error]] = {}
    for error in errors:
        if len(error.unions) > level:
            groups.setdefault(error.unions[level].at, []).append(error)
        else:
            kept.append(error)
    for group in groups.values():
        kept.extend(_collapse(_choose(group, level, document), level + 1, document))
    return kept


def _choose(group: list[_Error], level: int, document: Any) -> list[_Error]:
    union = group[0].unions[level]
    _, value = _locate(document, union.at)
    fitting = [m for m in union.members if value is _MISSING or _fits_type(m, value)]
    models = [m for m in fitting if _model(m) is not None]
    if isinstance(value, dict) and len(models) > 1:  # keep the mappings sharing the most keys with the input
        best = max(_overlap(m, value) for m in models)
        fitting = [m for m in fitting if _model(m) is None or _overlap(m, value) == best]
        models = [m for m in fitting if _model(m) is not None]
    all_keys = tuple(key for m in union.members if (model := _model(m)) for key in _keys(model))
    chosen = [replace(e, known=all_keys) if e.kind == "extra_forbidden" and e.path[:-1] == union.at else e
              for e in group if e.unions[level].member in fitting]  # a typo's hint searches every member's keys
    if chosen and len(models) <= 1:
        return chosen
    typos = [e for e in chosen if e.kind == "extra_forbidden"]
    if typos:  # several mappings fit equally badly: the unknown key is the mistake
        return typos
    key = next((str(p) for p in reversed(union.at) if isinstance(p, str)), "the value")
    return [_Error(kind="union", message=f"`{key}` must be {_describe(union)}", value=value, ctx={},
                   path=union.at)]


def _fits_type(member: Any, value: Any) -> bool:
    """Whether `value` has the YAML type (mapping, list, text, number, boolean) that `member` takes."""
    base = _strip(member)
    origin = get_origin(base)
    if _model(base) is not None or origin is dict:
        return isinstance(value, dict)
    if origin is list:
        return isinstance(value, list)
    if origin is Literal:
        return any(type(v) is type(value) for v in get_args(base))
    if base is bool:
        return isinstance(value, bool)
    if base in (int, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if base is str:
        return isinstance(value, str)
    return True  # a member this function does not know: keep its errors


def _overlap(member: Any, value: dict[Any, Any]) -> int:
    model = _model(member)
    return len(set(_keys(model)) & {str(k) for k in value}) if model else 0


def _describe(union: _Union) -> str:
    """What a union accepts, as an author writes it: `resume, handoff, {goto: <state>} or {end: <outcome>}`."""
    forms: list[str] = []
    for member in union.members:
        for form in _forms(member, union.at):
            if form not in forms:
                forms.append(form)
    return forms[0] if len(forms) == 1 else f"{', '.join(forms[:-1])} or {forms[-1]}"


def _forms(member: Any, at: KeyPath) -> list[str]:
    base = _strip(member)
    origin = get_origin(base)
    model = _model(base)
    if model is not None:
        required = [f.alias or name for name, f in model.model_fields.items() if f.is_required()]
        return ["{" + ", ".join(f"{k}: {_PLACEHOLDERS.get(k, f'<{k}>')}" for k in required) + "}"]
    if origin is Literal:
        return [str(v) for v in get_args(base)]
    if origin is list:
        item = _strip(get_args(base)[0])
        name = getattr(item, "__name__", "value")
        return [f"a list of {_PLURALS.get(name, name.lower() + 's')}"]
    if base is str:
        is_state = at[-1:] in (("next",), ("goto",), ("fallback",))
        return ["a state id" if is_state else "text"]
    if base is bool:
        return ["true/false"]
    if base in (int, float):
        return ["a number"]
    return [getattr(base, "__name__", str(base))]


# ---------------------------------------------------------------- tidying up


def _dedupe(errors: list[_Error]) -> list[_Error]:
    """One error per (path, kind, message); unknown keys reported by several members merge their known keys."""
    merged: dict[tuple[KeyPath, str, str, bool], _Error] = {}
    for error in errors:
        key = (error.path, error.kind, error.message, error.at_key)
        first = merged.get(key)
        merged[key] = error if first is None else replace(first, known=tuple(dict.fromkeys(first.known + error.known)))
    return list(merged.values())


def _drop_missing_explained_by_typos(errors: list[_Error]) -> list[_Error]:
    """`gotoo: x` makes `goto` missing too: report the typo only."""
    typos: dict[KeyPath, list[str]] = {}
    for error in errors:
        if error.kind == "extra_forbidden":
            typos.setdefault(error.path[:-1], []).append(str(error.path[-1]))

    def explained(error: _Error) -> bool:
        name = str(error.path[-1])
        return any(difflib.get_close_matches(typo, [name], n=1) for typo in typos.get(error.path[:-1], []))

    return [e for e in errors if not (e.kind == "missing" and e.path and explained(e))]


# ---------------------------------------------------------------- positions and wording


def _locate(document: Any, path: KeyPath) -> tuple[KeyPath, Any]:
    """The path as written in the document, and the value there (or _MISSING).

    A value the schema wraps in a list (`on_silence: {after: 1h}`, `say: Hi`) is reported at index 0 by
    pydantic, but is not a list in the document: that index is dropped.
    """
    found: list[str | int] = []
    value = document
    for index, part in enumerate(path):
        if value is _MISSING:
            found.extend(path[index:])
            break
        if part == 0 and not isinstance(value, list) and not (isinstance(value, dict) and 0 in value):
            continue
        found.append(part)
        value = _item(value, part)
    return tuple(found), value


def _item(value: Any, part: str | int) -> Any:
    if isinstance(value, dict):
        return value.get(part, _MISSING)
    if isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
        return value[part]
    return _MISSING


def _issue(error: _Error, document: Any, source: SourceMap) -> FlowIssue:
    path, _ = _locate(document, error.path)
    where = ".".join(str(p) for p in path)
    if error.kind == "extra_forbidden":
        key = str(path[-1])
        close = difflib.get_close_matches(key, error.known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else (
            f"known keys here: {', '.join(error.known)}" if error.known else "")
        return source.issue(path, f"unknown key '{key}'", hint, at_key=True)
    if error.kind == "missing":
        return source.issue(path[:-1], f"missing required key '{path[-1]}'", _DOCS)
    quoted = _yaml_boolean_text(error, path, source)
    if quoted:
        return source.issue(path, f"{where}: YAML reads yes/no/on/off as true/false; put them in quotes: '{quoted}'",
                            f"write '{quoted}' with quotes to mean the text")
    message, hint = _wording(error)
    return source.issue(path, f"{where}: {message}" if where else message, hint, at_key=error.at_key)


def _yaml_boolean_text(error: _Error, path: KeyPath, source: SourceMap) -> str:
    """The text of an unquoted yes/no/on/off that YAML turned into a boolean the schema did not want."""
    if not isinstance(error.value, bool) or error.kind == "union":
        return ""
    node = source.node(path)
    plain = isinstance(node, yaml.ScalarNode) and not node.style  # libyaml: "", PyYAML: None
    text = str(node.value) if plain and node is not None else ""
    return text if text.lower() in _YAML_BOOLEANS else ""


def _wording(error: _Error) -> tuple[str, str]:
    if error.kind == "string_pattern_mismatch":
        what, hint = _PATTERNS.get(str(error.ctx.get("pattern")), ("in the expected format", _DOCS))
        return f"'{error.value}' is not {what}", hint
    if error.kind in ("literal_error", "enum"):
        allowed = re.findall(r"'([^']*)'", str(error.ctx.get("expected", "")))
        close = difflib.get_close_matches(str(error.value), allowed, n=1) if isinstance(error.value, str) else []
        return error.message, "use one of the listed values" + (f" (did you mean '{close[0]}'?)" if close else "")
    if error.kind == "union":
        return error.message, _DOCS
    hints = {"too_short": "add at least one entry"}
    return error.message.removeprefix("Value error, "), hints.get(error.kind, _DOCS)
