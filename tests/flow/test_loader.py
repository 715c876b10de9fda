"""The flow loader: positions of YAML nodes, documents that are not flows, unreadable and huge files, JSON Schema."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.errors import FlowError, FlowIssue
from bot.flow.compiler import compile_flow
from bot.flow.jsonschema import flow_json_schema
from bot.flow.loader import SourceMap, content_version, load_flow_file, load_flow_text, parse_yaml

NOT_A_MAPPING = "a flow file must be a mapping with `id`, `start` and `states`"

DOCUMENT = """\
id: demo
start: greet
states:
  greet:
    say: Hi
    next: ask
  ask:
    say:
      - First
      - Second
    ask:
      type: choice
      text: Which?
      options:
        - id: a
          label: A
        - {id: b, label: B}
objections:
  price:
    then: {goto: greet}
"""


def source_map() -> SourceMap:
    _, root = parse_yaml(DOCUMENT)
    return SourceMap(file="demo.yaml", root=root)


# ---------------------------------------------------------------- SourceMap


@pytest.mark.parametrize(
    ("path", "at_key", "position"),
    [
        pytest.param([], False, (1, 1), id="document"),
        pytest.param(["id"], False, (1, 5), id="scalar-value"),
        pytest.param(["id"], True, (1, 1), id="scalar-at-key"),
        pytest.param(["states"], False, (3, 1), id="mapping-at-its-key"),
        pytest.param(["states", "greet"], False, (4, 3), id="nested-mapping"),
        pytest.param(["states", "greet", "say"], False, (5, 10), id="nested-scalar"),
        pytest.param(["states", "greet", "say"], True, (5, 5), id="nested-scalar-at-key"),
        pytest.param(["states", "ask", "say"], False, (8, 5), id="list-at-its-key"),
        pytest.param(["states", "ask", "say", 0], False, (9, 9), id="list-item"),
        pytest.param(["states", "ask", "say", 1], False, (10, 9), id="second-list-item"),
        pytest.param(["states", "ask", "ask", "options", 0], False, (15, 11), id="mapping-item"),
        pytest.param(["states", "ask", "ask", "options", 0, "label"], False, (16, 18), id="key-in-mapping-item"),
        pytest.param(["states", "ask", "ask", "options", 1], False, (17, 11), id="flow-mapping-item"),
        pytest.param(["states", "ask", "ask", "options", 1, "label"], False, (17, 26), id="key-in-flow-mapping"),
        pytest.param(["objections", "price", "then", "goto"], False, (20, 18), id="flow-mapping-value"),
        pytest.param(["states", "missing", "say"], False, (3, 1), id="missing-key-falls-back-to-parent"),
        pytest.param(["states", "ask", "say", 5], False, (8, 5), id="index-past-the-end"),
        pytest.param(["states", "ask", "say", -1], False, (8, 5), id="negative-index"),
        pytest.param(["states", "greet", "say", 0], False, (5, 10), id="index-into-a-scalar"),
    ],
)
def test_position_of_a_path(path: list[str | int], at_key: bool, position: tuple[int, int]) -> None:
    assert source_map().position(path, at_key=at_key) == position


def test_issue_is_positioned_at_its_path() -> None:
    issue = source_map().issue(["states", "ask", "say", 1], "too long", "shorten it")

    assert issue == FlowIssue(file="demo.yaml", line=10, col=9, message="too long", hint="shorten it")
    assert issue.format() == "demo.yaml:10:9: error: too long\n  hint: shorten it"


def test_positions_of_an_empty_document_are_the_first_line() -> None:
    _, root = parse_yaml("")

    assert SourceMap(file="empty.yaml", root=root).position(["states", "a"]) == (1, 1)


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        pytest.param("id: a\nid: b\n", (2, 1), "duplicate key 'id' (first defined on line 1)", id="top-level"),
        pytest.param("states:\n  a:\n    say: x\n    say: y\n", (4, 5),
                     "duplicate key 'say' (first defined on line 3)", id="nested"),
        pytest.param("options:\n  - id: a\n    id: b\n", (3, 5),
                     "duplicate key 'id' (first defined on line 2)", id="in-a-list-item"),
        pytest.param("then: {goto: a, goto: b}\n", (1, 17),
                     "duplicate key 'goto' (first defined on line 1)", id="flow-mapping"),
    ],
)
def test_duplicate_keys_are_reported_at_the_second_key(text: str, position: tuple[int, int], message: str) -> None:
    with pytest.raises(FlowError, match=re.escape(message)) as info:
        load_flow_text(text, "dup.yaml")

    [issue] = info.value.issues
    assert (issue.line, issue.col) == position
    assert issue.hint == "each key may appear once per mapping"


# ---------------------------------------------------------------- documents that are not flows


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("- greet\n- done\n", id="list"),
        pytest.param("just some text\n", id="string"),
        pytest.param("42\n", id="number"),
        pytest.param("null\n", id="null"),
        pytest.param("", id="empty"),
        pytest.param("\n\n  \n", id="blank-lines"),
        pytest.param("# only a comment\n", id="only-a-comment"),
    ],
)
def test_a_document_that_is_not_a_mapping_is_one_issue_at_the_start(text: str, tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(FlowError, match=re.escape(NOT_A_MAPPING)) as info:
        load_flow_file(path)

    assert info.value.issues == [
        FlowIssue(file=str(path), line=1, col=1, message=NOT_A_MAPPING,
                  hint="start from the annotated example in docs/flows.md"),
    ]


def test_an_empty_mapping_reports_every_missing_key() -> None:
    with pytest.raises(FlowError) as info:
        load_flow_text("{}\n", "flow.yaml")

    assert [i.message for i in info.value.issues] == [
        "missing required key 'id'", "missing required key 'start'", "missing required key 'states'",
    ]


# ---------------------------------------------------------------- unreadable files


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", id="png"),
        pytest.param(b"id: caf\xe9\nstart: greet\n", id="latin-1"),
        pytest.param(b"\xff\xfei\x00d\x00:\x00", id="utf-16"),
    ],
)
def test_a_file_that_is_not_utf8_is_one_issue(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_bytes(content)

    with pytest.raises(FlowError, match=r"cannot read the file: 'utf-8' codec can't decode") as info:
        load_flow_file(path)

    [issue] = info.value.issues
    assert (issue.file, issue.line, issue.col) == (str(path), 1, 1)
    assert "UTF-8" in issue.hint


def test_a_missing_file_is_one_issue(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"

    with pytest.raises(FlowError, match=r"cannot read the file: .*No such file") as info:
        load_flow_file(path)

    assert [(i.file, i.line, i.col) for i in info.value.issues] == [(str(path), 1, 1)]


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffid: bom\nstart: done\nstates:\n  done:\n    end: qualified\n".encode())

    assert load_flow_file(path).spec.id == "bom"


def test_a_control_character_is_reported_at_its_line() -> None:
    with pytest.raises(FlowError, match="control characters are not allowed") as info:
        load_flow_text("id: demo\nstart: greet\ntitle: a\x00b\n", "ctrl.yaml")

    [issue] = info.value.issues
    assert (issue.line, issue.col) == (3, 9)
    assert "\n" not in issue.message


@pytest.mark.parametrize(
    ("text", "position"),
    [
        pytest.param("title: caf\u00e9 \x07\n", (1, 13), id="after-a-two-byte-character"),
        pytest.param("\ufeffid: demo\ntitle: a\x00b\n", (2, 9), id="after-a-byte-order-mark"),
        pytest.param("id: demo\r\ntitle: \x1b[0m\r\n", (2, 8), id="windows-line-ends"),
    ],
)
def test_a_control_character_is_positioned_by_characters_not_bytes(text: str, position: tuple[int, int]) -> None:
    with pytest.raises(FlowError, match=r"control characters are not allowed in YAML: remove the U\+00") as info:
        load_flow_text(text, "ctrl.yaml")

    [issue] = info.value.issues
    assert (issue.line, issue.col) == position


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        pytest.param("id: demo\n? [a, b]\n: 1\n", "list", id="list"),
        pytest.param("id: demo\n? {a: b}\n: 1\n", "mapping", id="mapping"),
    ],
)
def test_a_list_or_mapping_as_a_key_is_an_issue(text: str, kind: str) -> None:
    with pytest.raises(FlowError, match=f"a {kind} cannot be a key: keys must be plain text") as info:
        load_flow_text(text, "key.yaml")

    assert [(i.line, i.col) for i in info.value.issues] == [(2, 3)]


def test_merge_keys_are_not_mistaken_for_duplicates() -> None:
    text = ("id: demo\nstart: a\nstates:\n  a: &base\n    say: Hi\n    next: b\n"
            "  b:\n    <<: *base\n    say: Bye\n    next: c\n  c:\n    end: qualified\n")

    assert load_flow_text(text, "merge.yaml").spec.states["b"].say == ["Bye"]


def test_every_issue_message_is_one_line() -> None:
    text = ("id: demo\nstart: a\nstates:\n  a:\n    next:\n"
            "      - if: |\n          x ==\n          ==\n        goto: a\n")

    with pytest.raises(FlowError) as info:
        compile_flow(load_flow_text(text, "lines.yaml"))

    assert info.value.issues
    assert all("\n" not in i.message and "\n" not in i.hint for i in info.value.issues)


# ---------------------------------------------------------------- huge files


def _chain(states: int, *, ask: bool) -> str:
    """A valid flow of `states` steps in a row, each with a long text, ending in an end state."""
    filler = "lorem ipsum " * 16
    parts = ["id: big\nstart: s0\nstates:\n"]
    for i in range(states):
        if ask:
            parts.append(f"  s{i}:\n    ask:\n      type: text\n      text: \"Question {i}: {filler}\"\n"
                         f"      save_as: v{i}\n    next: s{i + 1}\n")
        else:
            parts.append(f"  s{i}:\n    say: \"Line {i}: {filler}\"\n    next: s{i + 1}\n")
    parts.append(f"  s{states}:\n    end: qualified\n")
    return "".join(parts)


def test_a_1mb_flow_loads_and_compiles(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(_chain(4_000, ask=True), encoding="utf-8")
    assert path.stat().st_size >= 1_000_000

    flow = compile_flow(load_flow_file(path))

    assert len(flow.states) == 4_001


def test_a_1mb_flow_of_statements_loads_and_compiles(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(_chain(6_000, ask=False), encoding="utf-8")
    assert path.stat().st_size >= 1_000_000

    flow = compile_flow(load_flow_file(path))

    assert len(flow.states) == 6_001


def test_a_1mb_broken_flow_reports_its_issues(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(_chain(4_000, ask=True).replace("next: s2000\n", "next: s20000\n"), encoding="utf-8")

    with pytest.raises(FlowError, match="'s20000' names no state") as info:
        compile_flow(load_flow_file(path))

    [issue] = info.value.issues  # the states behind the typo are not also reported unreachable
    assert (issue.line, issue.col, issue.message) == (12_003, 11, "'s20000' names no state")
    assert issue.hint == "did you mean 's2000'?"


def test_a_long_loop_without_a_question_is_reported_once(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text(_chain(3_000, ask=False).replace("next: s3000\n", "next: s0\n"), encoding="utf-8")

    with pytest.raises(FlowError) as info:
        compile_flow(load_flow_file(path))

    loops = [i for i in info.value.issues if i.message.startswith("loop without a question: ")]
    assert len(loops) == 1
    assert loops[0].message.endswith("s2999 -> s0")


def test_content_version_is_a_short_hash_of_the_exact_text() -> None:
    version = content_version("id: a\n")

    assert re.fullmatch(r"[0-9a-f]{12}", version)
    assert content_version("id: a\n") == version
    assert content_version("id: a \n") != version


# ---------------------------------------------------------------- JSON Schema


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def _types(node: Any) -> list[object]:
    if isinstance(node, dict):
        own = [node["type"]] if isinstance(node.get("type"), str) else []
        return own + [t for key, value in node.items() if key != "properties" for t in _types(value)] + [
            t for value in node.get("properties", {}).values() for t in _types(value)
        ]
    if isinstance(node, list):
        return [t for item in node for t in _types(item)]
    return []


def test_json_schema_is_valid_json_with_a_dialect() -> None:
    schema = flow_json_schema()

    assert json.loads(json.dumps(schema)) == schema
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"  # what editors' YAML support knows
    assert schema["type"] == "object"


def test_json_schema_describes_the_top_level_keys() -> None:
    schema = flow_json_schema()

    assert {"id", "start", "states", "objections", "faqs", "scoring"} <= set(schema["properties"])
    assert {"id", "start", "states"} <= set(schema["required"])
    assert schema["additionalProperties"] is False


def test_json_schema_references_resolve_and_types_are_json_types() -> None:
    schema = flow_json_schema()
    definitions = schema["$defs"]

    refs = _refs(schema)
    assert refs
    for ref in refs:
        assert ref.startswith("#/$defs/"), ref
        assert ref.removeprefix("#/$defs/") in definitions, ref
    assert set(_types(schema)) <= {"object", "array", "string", "number", "integer", "boolean", "null"}


def test_json_schema_uses_the_yaml_spelling_of_keys() -> None:
    definitions = flow_json_schema()["$defs"]

    assert "if" in definitions["Branch"]["properties"]
    assert "if_" not in definitions["Branch"]["properties"]
    assert definitions["StateSpec"]["additionalProperties"] is False


SHIPPED_SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "flow.schema.json"


def test_shipped_schema_is_up_to_date() -> None:
    assert json.loads(SHIPPED_SCHEMA.read_text(encoding="utf-8")) == flow_json_schema(), (
        "regenerate it: salesbot flows schema > docs/flow.schema.json")


@pytest.mark.parametrize("flow", sorted((Path(__file__).resolve().parents[2] / "flows").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_shipped_flows_pass_the_editor_schema(flow: Path) -> None:
    import jsonschema  # noqa: PLC0415 - only this test needs it
    import yaml  # noqa: PLC0415

    errors = list(jsonschema.Draft7Validator(flow_json_schema()).iter_errors(yaml.safe_load(flow.read_text())))
    assert [e.message for e in errors] == []
