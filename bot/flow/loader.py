"""Read a flow file: YAML with positions, then the schema, then the semantic checks; every problem at once."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
import yaml

from bot.errors import FlowError, FlowIssue
from bot.flow import schema
from bot.flow.schema import FlowSpec

class _Loader(yaml.CSafeLoader):  # type: ignore[misc]
    """libyaml's fast parser; rejects duplicate keys instead of silently keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                first = seen[key].start_mark
                raise yaml.MarkedYAMLError(
                    problem=f"duplicate key '{key}' (first defined on line {first.line + 1})",
                    problem_mark=key_node.start_mark,
                )
            seen[key] = key_node
        return dict(super().construct_mapping(node, deep=deep))


def parse_yaml(content: str) -> tuple[Any, yaml.Node | None]:
    """Parse YAML into plain data plus the node tree that remembers positions."""
    loader = _Loader(content)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    finally:
        loader.dispose()


@dataclass(frozen=True)
class SourceMap:
    """Maps a path inside the document (keys and list indexes) to the line and column it came from."""

    file: str
    root: yaml.Node | None

    def position(self, path: Sequence[str | int], *, at_key: bool = False) -> tuple[int, int]:
        """1-based (line, col) of the deepest node of `path` present in the document.

        Scalars point at their value; mappings, lists and `at_key` point at the key that holds them.
        """
        node = self.root
        line, col = 1, 1
        for index, part in enumerate(path):
            found = _child(node, part, at_key=at_key and index == len(path) - 1)
            if found is None:
                break
            node, (line, col) = found
        return line, col

    def issue(self, path: Sequence[str | int], message: str, hint: str = "", *, at_key: bool = False) -> FlowIssue:
        """A FlowIssue positioned at `path`."""
        line, col = self.position(path, at_key=at_key)
        return FlowIssue(file=self.file, line=line, col=col, message=message, hint=hint)


def _child(node: yaml.Node | None, part: str | int, *, at_key: bool) -> tuple[yaml.Node, tuple[int, int]] | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == str(part):
                nested = isinstance(value_node, (yaml.MappingNode, yaml.SequenceNode))
                mark = key_node.start_mark if (at_key or nested) else value_node.start_mark
                return value_node, (mark.line + 1, mark.column + 1)
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item = node.value[part]
        return item, (item.start_mark.line + 1, item.start_mark.column + 1)
    return None


@dataclass(frozen=True)
class LoadedFlow:
    """A schema-valid flow with where each of its parts came from."""

    spec: FlowSpec
    source: SourceMap
    content: str
    version: str


def content_version(content: str) -> str:
    """The version id of a flow: a short hash of its exact text."""
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:12]


def load_flow_text(content: str, file: str) -> LoadedFlow:
    """Parse and schema-check flow text. Raises FlowError listing every problem found."""
    try:
        document, root = parse_yaml(content)
    except yaml.MarkedYAMLError as exc:
        raise FlowError([yaml_issue(exc, file)]) from exc
    except yaml.YAMLError as exc:
        raise FlowError([FlowIssue(file=file, line=1, col=1, message=f"cannot read YAML: {exc}")]) from exc
    source = SourceMap(file=file, root=root)
    if not isinstance(document, dict):
        raise FlowError([source.issue([], "a flow file must be a mapping with `id`, `start` and `states`",
                                      "start from the annotated example in docs/flows.md")])
    try:
        spec = FlowSpec.model_validate(document)
    except ValidationError as exc:
        raise FlowError([_to_issue(source, err) for err in exc.errors()]) from exc
    return LoadedFlow(spec=spec, source=source, content=content, version=content_version(content))


def load_flow_file(path: Path) -> LoadedFlow:
    """Read a flow file from disk (see load_flow_text)."""
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FlowError([FlowIssue(file=str(path), line=1, col=1, message=f"cannot read the file: {exc}",
                                   hint="check the path and that the file is UTF-8 text")]) from exc
    return load_flow_text(content, str(path))


def yaml_issue(exc: yaml.MarkedYAMLError, file: str) -> FlowIssue:
    """A YAML syntax error as a positioned issue with a hint."""
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = str(exc.problem or exc.context or "invalid YAML").strip()
    hint = "each key may appear once per mapping" if "duplicate key" in problem else (
        "check indentation and quoting; a value containing ': ' or starting with '{' needs quotes"
    )
    return FlowIssue(file=file, line=line, col=col, message=problem, hint=hint)


_MAP_VALUES: dict[str, type[BaseModel]] = {
    "states": schema.StateSpec, "objections": schema.ObjectionSpec, "faqs": schema.FaqSpec,
}


def _fields_at(path: Sequence[str | int]) -> list[str]:
    """Known keys of the model at `path`, for 'did you mean' hints on unknown keys."""
    model: type[BaseModel] | None = schema.FlowSpec
    in_mapping = False
    for part in path:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        if in_mapping:  # `part` is a user-chosen name (a state id ...); its value has the model
            in_mapping = False
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        in_mapping = part in _MAP_VALUES and model is schema.FlowSpec
        model = _MAP_VALUES[part] if in_mapping else _model_of(field.annotation)
    return [f.alias or name for name, f in model.model_fields.items()] if model else []


def _model_of(annotation: Any) -> type[BaseModel] | None:
    stack = [annotation]
    while stack:
        arg = stack.pop()
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        stack.extend(getattr(arg, "__args__", ()))
    return None


def _to_issue(source: SourceMap, err: Any) -> FlowIssue:
    loc = [part for part in err["loc"] if not (isinstance(part, str) and _is_union_tag(part))]
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        known = _fields_at(loc[:-1])
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else (f"known keys here: {', '.join(known)}" if known else "")
        return source.issue(loc, f"unknown key '{key}'", hint, at_key=True)
    if kind == "missing":
        return source.issue(loc[:-1], f"missing required key '{loc[-1]}'", "see the key reference in docs/flows.md")
    where = ".".join(str(p) for p in loc)
    message = str(err["msg"]).removeprefix("Value error, ")
    return source.issue(loc, f"{where}: {message}" if where else message, _hint_for(kind))


def _is_union_tag(part: str) -> bool:
    # pydantic adds the union member's type name to the location, e.g. 'literal[...]' or 'GotoAction'
    return part.startswith(("literal[", "list[", "str", "function-")) or part in {
        "GotoAction", "EndAction", "Branch", "int", "float", "bool", "none",
    }


def _hint_for(kind: str) -> str:
    return {
        "string_pattern_mismatch": "ids use letters, digits and underscores, and start with a letter",
        "enum": "use one of the listed values",
        "literal_error": "use one of the listed values",
        "too_short": "add at least one entry",
    }.get(kind, "see the key reference in docs/flows.md")
