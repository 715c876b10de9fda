"""Flow diagrams: Mermaid text and the standalone SVG."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.flow.graph import EdgeKind, NodeKind, NodeStyle, to_graph, to_mermaid, to_svg
from bot.flow.schema import FlowSpec

DEFAULT_FLOW = Path(__file__).resolve().parents[2] / "flows" / "default.yaml"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def default_spec() -> FlowSpec:
    # Schema only, not the loader: the diagram must not depend on the semantic checks.
    return FlowSpec.model_validate(yaml.safe_load(DEFAULT_FLOW.read_text(encoding="utf-8")))


def flow(states: dict[str, Any], **extra: Any) -> FlowSpec:
    """A small flow starting at its first state; `extra` adds top-level keys."""
    return FlowSpec.model_validate({"id": "t", "start": next(iter(states)), "states": states, **extra})


def ask(text: str, type_: str = "text", **extra: Any) -> dict[str, Any]:
    return {"type": type_, "text": text, **extra}


def nodes(svg: str) -> list[ET.Element]:
    return ET.fromstring(svg).findall(f".//{SVG}g[@class='node']")


def generated_flow(size: int) -> FlowSpec:
    """A chain of questions where every third one branches ahead, plus a fallback and a silence jump."""
    states: dict[str, Any] = {}
    for index in range(size - 1):
        step: dict[str, Any] = {"ask": ask(f"Question {index} with <b>markup</b> & \"quotes\"?")}
        if index % 3 == 0:
            step["next"] = [{"if": f"answer >= {index}", "goto": f"s{min(index + 3, size - 1)}"},
                            {"goto": f"s{index + 1}"}]
        else:
            step["next"] = f"s{index + 1}"
        if index % 10 == 5:
            step["on_silence"] = {"after": "2h", "goto": f"s{size - 1}"}
        states[f"s{index}"] = step
    states[f"s{size - 1}"] = {"end": "qualified"}
    return flow(states)


# --- graph model ----------------------------------------------------------------------------------------


def test_graph_classifies_states_by_kind_and_outcome(default_spec: FlowSpec) -> None:
    graph = to_graph(default_spec)
    by_id = {node.id: node for node in graph.nodes}
    assert [(by_id[i].kind, by_id[i].style) for i in ("welcome", "ask_name", "hot_end", "disqualified_end",
                                                       "goodbye_end", "qualified_end")] == [
        (NodeKind.STEP, NodeStyle.STEP),
        (NodeKind.QUESTION, NodeStyle.QUESTION),
        (NodeKind.END, NodeStyle.HANDOFF),
        (NodeKind.END, NodeStyle.END_DISQUALIFIED),
        (NodeKind.END, NodeStyle.NURTURE),
        (NodeKind.END, NodeStyle.END_QUALIFIED),
    ]


def test_graph_merges_global_jumps_to_one_target(default_spec: FlowSpec) -> None:
    jumps = {(e.target, e.label) for e in to_graph(default_spec).edges if e.kind is EdgeKind.GLOBAL}
    assert jumps == {("nurture_offer", "no_budget / not_now"), ("send_info_route", "send_info")}


@pytest.mark.parametrize(("next_", "labels"), [
    ("b", [""]),
    ([{"goto": "b"}], [""]),
    ([{"if": "x", "goto": "b"}, {"goto": "c"}], ["x", "else"]),
    ([{"if": "x", "goto": "b"}, {"if": "y", "goto": "b"}, {"goto": "c"}], ["x / y", "else"]),
])
def test_graph_labels_branches_and_merges_parallel_ones(next_: Any, labels: list[str]) -> None:
    graph = to_graph(flow({"a": {"next": next_}, "b": {"end": "qualified"}, "c": {"end": "nurture"}}))
    assert [edge.label for edge in graph.edges] == labels


def test_graph_keeps_targets_that_name_no_state_as_missing_nodes() -> None:
    graph = to_graph(flow({"a": {"next": "nowhere"}}))
    assert [(node.id, node.kind) for node in graph.nodes] == [
        ("a", NodeKind.STEP), ("nowhere", NodeKind.MISSING),
    ]


# --- Mermaid --------------------------------------------------------------------------------------------


def test_mermaid_has_a_node_for_every_state(default_spec: FlowSpec) -> None:
    text = to_mermaid(default_spec)
    assert text.startswith("flowchart TD\n")
    for state_id in default_spec.states:
        assert re.search(rf"^    s_{state_id}[\[(\{{]", text, re.MULTILINE), state_id


@pytest.mark.parametrize("line", [
    "entry((\"start\")) --> s_welcome",
    "s_welcome --> s_ask_name",
    "s_ask_role -->|\"role == 'student'\"| s_disqualified_end",
    "s_ask_role -->|\"else\"| s_ask_authority",
    "s_ask_size -->|\"company_size #lt; 5\"| s_disqualified_end",
    "s_nurture_email -.->|\"fallback\"| s_goodbye_end",
    "s_nurture_end -.->|\"silent 14d\"| s_nurture_followup",
    "any_state((\"any state\"))",
    "any_state -.->|\"no_budget / not_now\"| s_nurture_offer",
    "any_state -.->|\"send_info\"| s_send_info_route",
])
def test_mermaid_draws_every_kind_of_edge(default_spec: FlowSpec, line: str) -> None:
    assert f"    {line}\n" in to_mermaid(default_spec)


@pytest.mark.parametrize(("state", "shape"), [
    ({"ask": ask("Name?", "name"), "next": "done"}, 's_a[/"a<br/>name: Name?"/]'),
    ({"say": "Hello", "next": "done"}, 's_a["a<br/>say: Hello"]'),
    ({"handoff": True, "next": "done"}, 's_a{{"a<br/>handoff: sales"}}'),
    ({"end": "disqualified"}, 's_a(["a<br/>end: disqualified"])'),
])
def test_mermaid_shapes_nodes_by_kind(state: dict[str, Any], shape: str) -> None:
    text = to_mermaid(flow({"a": state, "done": {"end": "qualified"}}))
    assert f"    {shape}\n" in text


@pytest.mark.parametrize(("outcome", "style"), [
    ("qualified", "end_qualified"), ("disqualified", "end_disqualified"),
    ("nurture", "nurture"), ("handed_off", "handoff"),
])
def test_mermaid_classes_end_states_by_outcome(outcome: str, style: str) -> None:
    text = to_mermaid(flow({"a": {"next": "done"}, "done": {"end": outcome}}))
    assert f"    class s_done {style}\n" in text


def test_mermaid_defines_every_class(default_spec: FlowSpec) -> None:
    text = to_mermaid(default_spec)
    for style in ("start", "question", "end_qualified", "end_disqualified", "handoff", "nurture"):
        assert f"    classDef {style} fill:" in text


@pytest.mark.parametrize(("raw", "escaped"), [
    ("budget >= 10000 and role == 'cto'", "budget #gt;= 10000 and role == 'cto'"),
    ('Is it "A" [or] {B}?', "Is it #quot;A#quot; #91;or#93; #123;B#125;?"),
    ("a | (b) <c> & d", "a #124; #40;b#41; #lt;c#gt; #amp; d"),
    ("#quot; %% ; `x`", "#35;quot#59; #37;#37; #59; #96;x#96;"),
])
def test_mermaid_escapes_conditions_and_question_text(raw: str, escaped: str) -> None:
    text = to_mermaid(flow({
        "q": {"ask": ask(raw), "next": [{"if": raw, "goto": "done"}, {"goto": "other"}]},
        "done": {"end": "qualified"},
        "other": {"end": "nurture"},
    }))
    assert f'    s_q[/"q<br/>text: {escaped}"/]\n' in text
    assert f'    s_q -->|"{escaped}"| s_done\n' in text
    for label in re.findall(r'\|"(.*?)"\||\["(.*?)"\]|\[/"(.*?)"/\]', text):
        inner = "".join(label).replace("<br/>", "")
        assert not set(inner) & set('"[]{}()|<>`%'), inner


def test_mermaid_truncates_long_text_with_an_ellipsis() -> None:
    text = to_mermaid(flow({"q": {"ask": ask("word " * 30), "next": "done"}, "done": {"end": "nurture"}}))
    node = next(line for line in text.splitlines() if line.startswith("    s_q["))
    assert node.endswith('#8230;"/]')
    assert len(node) < 100


@pytest.mark.parametrize("reserved", ["end", "graph", "subgraph", "style", "class", "click", "default"])
def test_mermaid_prefixes_state_ids_so_keywords_are_safe(reserved: str) -> None:
    text = to_mermaid(flow({"a": {"next": reserved}, reserved: {"end": "qualified"}}))
    assert f"    s_a --> s_{reserved}\n" in text
    assert f"    s_{reserved}([" in text
    assert not re.search(rf"(^|\s){reserved}\[", text, re.MULTILINE)


def test_mermaid_skips_fallback_skip_and_silence_without_goto() -> None:
    text = to_mermaid(flow({
        "q": {"ask": ask("Budget?", "money", fallback="skip"), "on_silence": {"after": "1h", "say": "Hi?"},
              "next": "done"},
        "done": {"end": "qualified"},
    }))
    assert "-.->" not in text


# --- SVG ------------------------------------------------------------------------------------------------


def test_svg_parses_and_fits_its_content(default_spec: FlowSpec) -> None:
    root = ET.fromstring(to_svg(default_spec))
    x, y, width, height = (float(v) for v in root.attrib["viewBox"].split())
    assert (float(root.attrib["width"]), float(root.attrib["height"])) == (width, height)
    for rect in root.iter(f"{SVG}rect"):
        if rect.attrib.get("width", "").endswith("%"):
            continue
        left, top = float(rect.attrib["x"]), float(rect.attrib["y"])
        assert x <= left
        assert left + float(rect.attrib["width"]) <= x + width
        assert y <= top
        assert top + float(rect.attrib["height"]) <= y + height


def test_svg_has_one_node_group_per_state(default_spec: FlowSpec) -> None:
    found = [group.attrib["data-state"] for group in nodes(to_svg(default_spec))]
    assert sorted(found) == sorted(default_spec.states)


@pytest.mark.parametrize(("kind", "count", "dashed"), [
    ("next", 28, False), ("fallback", 2, True), ("silence", 1, True), ("global", 2, True),
])
def test_svg_draws_edges_by_kind(default_spec: FlowSpec, kind: str, count: int, dashed: bool) -> None:
    root = ET.fromstring(to_svg(default_spec))
    paths = [g.find(f"{SVG}path") for g in root.iter(f"{SVG}g") if g.attrib.get("data-kind") == kind
             and g.attrib.get("class") == "edge"]
    assert len(paths) == count
    assert all(("stroke-dasharray" in p.attrib) is dashed for p in paths if p is not None)


def test_svg_layers_follow_the_conversation() -> None:
    svg = to_svg(flow({"a": {"next": "b"}, "b": {"next": "c"}, "c": {"end": "qualified"}}))
    tops = {g.attrib["data-state"]: float(g.find(f"{SVG}rect").attrib["y"]) for g in nodes(svg)}  # type: ignore[union-attr]
    assert tops["a"] < tops["b"] < tops["c"]


@pytest.mark.parametrize("hostile", [
    "<script>alert('x')</script>",
    "</text><script>alert(1)</script>",
    "a & b \"c\" 'd' ]]> <!-- e -->",
])
def test_svg_escapes_every_text(hostile: str) -> None:
    svg = to_svg(flow(
        {"q": {"ask": ask(hostile), "next": [{"if": hostile, "goto": "done"}, {"goto": "done"}]},
         "done": {"end": "qualified"}},
        title=hostile,
    ))
    root = ET.fromstring(svg)
    assert "<script" not in svg
    assert not list(root.iter(f"{SVG}script"))
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert hostile in titles
    assert f"q\ntext: {hostile}" in titles


def test_svg_truncates_long_labels_and_keeps_the_full_text_in_a_title() -> None:
    question = "How many people in your team use spreadsheets for customer analytics today?"
    svg = to_svg(flow({"q": {"ask": ask(question), "next": "done"}, "done": {"end": "qualified"}}))
    group = next(g for g in nodes(svg) if g.attrib["data-state"] == "q")
    assert group.findtext(f"{SVG}title") == f"q\ntext: {question}"
    shown = [t.text or "" for t in group.iter(f"{SVG}text")]
    assert shown[1].endswith("…")
    assert len(shown[1]) <= 40


def test_svg_truncates_edge_labels_and_keeps_the_full_condition_in_a_title() -> None:
    condition = "budget_annual >= 20000 and authority == 'decision_maker'"
    svg = to_svg(flow({"a": {"next": [{"if": condition, "goto": "b"}, {"goto": "b2"}]},
                       "b": {"end": "qualified"}, "b2": {"end": "nurture"}}))
    labels = ET.fromstring(svg).findall(f".//{SVG}g[@class='edge-label']")
    assert [(g.findtext(f"{SVG}title"), g.findtext(f"{SVG}text")) for g in labels] == [
        (condition, "budget_annual >= 20000…"), ("else", "else"),
    ]


def test_svg_marks_the_start_state(default_spec: FlowSpec) -> None:
    starts = [g.attrib["data-state"] for g in nodes(to_svg(default_spec)) if g.attrib.get("data-start")]
    assert starts == ["welcome"]


def test_svg_is_deterministic(default_spec: FlowSpec) -> None:
    again = FlowSpec.model_validate(yaml.safe_load(DEFAULT_FLOW.read_text(encoding="utf-8")))
    assert to_svg(default_spec) == to_svg(default_spec) == to_svg(again)


def test_svg_shows_missing_targets_without_counting_them_as_states() -> None:
    svg = to_svg(flow({"a": {"next": "nowhere"}}))
    assert [g.attrib["data-state"] for g in nodes(svg)] == ["a"]
    assert 'class="missing" data-state="nowhere"' in svg


@pytest.mark.parametrize(("states", "extra"), [
    pytest.param({"a": {"ask": ask("Hi?"), "on_silence": {"after": "1d", "goto": "a"}, "next": "z"},
                  "z": {"end": "nurture"}}, {}, id="silence-loops-to-itself"),
    pytest.param({"a": {"next": "b"}, "b": {"ask": ask("Again?"), "next": "a"}}, {}, id="back-edge-to-start"),
    pytest.param({"a": {"end": "qualified"}, "b": {"end": "nurture"}},
                 {"faqs": {"f": {"examples": ["x"], "answer": "y", "then": {"goto": "a"}}}},
                 id="global-jump-to-start-and-an-orphan"),
    pytest.param({"a": {"next": [{"if": "x", "goto": "c"}, {"goto": "b"}]}, "b": {"next": "c"},
                  "c": {"end": "qualified"}}, {}, id="same-layer-and-skip-layer-edges"),
])
def test_svg_handles_loops_orphans_and_odd_edges(states: dict[str, Any], extra: dict[str, Any]) -> None:
    spec = flow(states, **extra)
    svg = to_svg(spec)
    assert sorted(g.attrib["data-state"] for g in nodes(svg)) == sorted(states)
    assert all(f"s_{state_id}" in to_mermaid(spec) for state_id in states)


def test_svg_and_mermaid_render_a_large_generated_flow() -> None:
    spec = generated_flow(200)
    svg = to_svg(spec)
    assert len(nodes(svg)) == 200
    assert svg == to_svg(spec)
    text = to_mermaid(spec)
    assert all(f"    s_s{index}" in text for index in range(200))
