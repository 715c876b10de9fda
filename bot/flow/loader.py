"""Read a flow file: YAML with positions, then the schema, then the semantic checks; every problem at once."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.errors import FlowError, FlowIssue
from bot.flow.schema import FlowSpec
from bot.flow.schema_issues import schema_issues

_MERGE_TAG = "tag:yaml.org,2002:merge"
_KINDS = {yaml.SequenceNode: "list", yaml.MappingNode: "mapping"}
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


class _Loader(yaml.CSafeLoader):  # type: ignore[misc]
    """libyaml's fast parser; rejects duplicate keys instead of silently keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:  # `<<: *anchor`, merged by the base class
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.MarkedYAMLError(problem=f"a {_KINDS[type(key_node)]} cannot be a key: keys must be plain "
                                           "text", problem_mark=key_node.start_mark)
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
    """Parse YAML into plain data plus the node tree that remembers positions. Raises yaml.MarkedYAMLError."""
    loader = _Loader(content)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, content) from exc
    finally:
        loader.dispose()


def _reader_error(exc: yaml.reader.ReaderError, content: str) -> yaml.MarkedYAMLError:
    """A character YAML refuses, positioned by line and column instead of 'position N'."""
    # libyaml counts bytes of the UTF-8 text (with its byte order mark); PyYAML's own reader counts characters
    before = content[:exc.position] if exc.encoding == "unicode" else (
        content.encode("utf-8")[:exc.position].decode("utf-8", errors="ignore"))
    lines = _LINE_BREAK.split(before.removeprefix("\ufeff"))
    mark = yaml.Mark(exc.name, exc.position, len(lines) - 1, len(lines[-1]), None, None)
    code = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
    if isinstance(exc.character, int) and unicodedata.category(chr(exc.character)) == "Cc":
        problem = f"control characters are not allowed in YAML: remove the {code} character here"
    else:
        problem = f"the character {code} is not allowed in YAML: remove it"
    return yaml.MarkedYAMLError(problem=problem, problem_mark=mark)


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

    def node(self, path: Sequence[str | int]) -> yaml.Node | None:
        """The YAML node at `path`, or None when the document has no such path."""
        node = self.root
        for part in path:
            found = _child(node, part, at_key=False)
            if found is None:
                return None
            node = found[0]
        return node

    def issue(self, path: Sequence[str | int], message: str, hint: str = "", *, at_key: bool = False) -> FlowIssue:
        """A FlowIssue positioned at `path`."""
        line, col = self.position(path, at_key=at_key)
        return issue(self.file, line, col, message, hint)


def issue(file: str, line: int, col: int, message: str, hint: str = "") -> FlowIssue:
    """A FlowIssue whose message and hint are one line each, whatever text (a multi-line value) they quote."""
    return FlowIssue(file=file, line=line, col=col, message=_one_line(message), hint=_one_line(hint))


def _one_line(text: str) -> str:
    return " ".join(line.strip() for line in text.strip().splitlines() if line.strip())


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
        raise FlowError([issue(file, 1, 1, f"cannot read YAML: {exc}", "check the file is valid YAML")]) from exc
    source = SourceMap(file=file, root=root)
    if not isinstance(document, dict):
        raise FlowError([source.issue([], "a flow file must be a mapping with `id`, `start` and `states`",
                                      "start from the annotated example in docs/flows.md")])
    try:
        spec = FlowSpec.model_validate(document)
    except ValidationError as exc:
        raise FlowError(schema_issues(exc, document, source)) from exc
    return LoadedFlow(spec=spec, source=source, content=content, version=content_version(content))


def load_flow_file(path: Path) -> LoadedFlow:
    """Read a flow file from disk (see load_flow_text)."""
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FlowError([issue(str(path), 1, 1, f"cannot read the file: {exc}",
                               "check the path and that the file is UTF-8 text")]) from exc
    return load_flow_text(content, str(path))


def yaml_issue(exc: yaml.MarkedYAMLError, file: str) -> FlowIssue:
    """A YAML syntax error as a positioned issue with a hint."""
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = str(exc.problem or exc.context or "invalid YAML").strip()
    if "duplicate key" in problem:
        hint = "each key may appear once per mapping"
    elif "cannot be a key" in problem:
        hint = "write the key as plain text, like `name:`; a value may be a list or mapping, a key may not"
    elif "not allowed in YAML" in problem:
        hint = "an invisible character often comes from copy and paste; retype that spot"
    else:
        hint = "check indentation and quoting; a value containing ': ' or starting with '{' needs quotes"
    return issue(file, line, col, problem, hint)
