"""Draw a flow as a diagram: Mermaid text for docs and reviews, or a standalone SVG with a layered layout."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from types import MappingProxyType
from xml.sax.saxutils import escape, quoteattr

from bot.engine.types import Outcome
from bot.flow.schema import Action, FlowSpec, GotoAction, StateSpec

ANY_STATE = "*"  # source of global jumps (objections, FAQs, on_hot); never a valid state id
NODE_CHARS = 40  # node label lines are cut here; the full text stays in a hover <title>
EDGE_CHARS = 24  # SVG edge labels are cut here
_SKIP = "skip"  # `fallback: skip` moves on to `next` instead of naming a state


class NodeKind(StrEnum):
    """What a state does, which picks its shape."""

    STEP = "step"
    QUESTION = "question"
    HANDOFF = "handoff"
    END = "end"
    MISSING = "missing"  # a target no state defines (only in flows that skipped the loader's checks)


class NodeStyle(StrEnum):
    """Colour class of a node: the Mermaid classDef names and the SVG `data-style` values."""

    START = "start"
    STEP = "step"
    QUESTION = "question"
    HANDOFF = "handoff"
    END_QUALIFIED = "end_qualified"
    END_DISQUALIFIED = "end_disqualified"
    NURTURE = "nurture"
    ANY = "any"
    MISSING = "missing"


# (fill, stroke, text colour) per style, shared by both renderers so they look alike.
_COLOURS: Mapping[NodeStyle, tuple[str, str, str]] = MappingProxyType({
    NodeStyle.START: ("#fff8e1", "#f9a825", "#5d4037"),
    NodeStyle.STEP: ("#f5f5f5", "#9e9e9e", "#212121"),
    NodeStyle.QUESTION: ("#e3f2fd", "#1e88e5", "#0d47a1"),
    NodeStyle.HANDOFF: ("#fff3e0", "#fb8c00", "#e65100"),
    NodeStyle.END_QUALIFIED: ("#e8f5e9", "#43a047", "#1b5e20"),
    NodeStyle.END_DISQUALIFIED: ("#ffebee", "#e53935", "#b71c1c"),
    NodeStyle.NURTURE: ("#f3e5f5", "#8e24aa", "#4a148c"),
    NodeStyle.ANY: ("#eceff1", "#607d8b", "#263238"),
    NodeStyle.MISSING: ("#ffffff", "#e53935", "#b71c1c"),
})
_END_STYLES: Mapping[Outcome, NodeStyle] = MappingProxyType({
    Outcome.QUALIFIED: NodeStyle.END_QUALIFIED,
    Outcome.DISQUALIFIED: NodeStyle.END_DISQUALIFIED,
    Outcome.NURTURE: NodeStyle.NURTURE,
    Outcome.HANDED_OFF: NodeStyle.HANDOFF,
})


class EdgeKind(StrEnum):
    """Why the conversation can move along an edge."""

    NEXT = "next"
    FALLBACK = "fallback"
    SILENCE = "silence"
    GLOBAL = "global"


@dataclass(frozen=True, kw_only=True)
class GraphNode:
    """A state (or a missing target) with its full, untruncated label lines: the id first."""

    id: str
    kind: NodeKind
    style: NodeStyle
    lines: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class GraphEdge:
    """A possible move; `source` is ANY_STATE for global jumps."""

    source: str
    target: str
    kind: EdgeKind
    label: str = ""


@dataclass(frozen=True, kw_only=True)
class FlowGraph:
    """The drawable shape of a flow: nodes in declaration order, edges in discovery order."""

    start: str
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]


# --- the graph model ------------------------------------------------------------------------------------


def to_graph(spec: FlowSpec) -> FlowGraph:
    """Collect a flow's states and moves; parallel edges of one kind are merged, labels joined by ' / '.

    Args:
        spec: a schema-valid flow. Targets that name no state are kept as MISSING nodes, so the
            diagram of a broken flow shows the break instead of hiding it.
    """
    edges = _merge(
        [edge for state_id, state in spec.states.items() for edge in _state_edges(state_id, state)]
        + list(_global_edges(spec))
    )
    nodes = [_node(state_id, state) for state_id, state in spec.states.items()]
    missing = dict.fromkeys(t for t in [spec.start, *(e.target for e in edges)] if t not in spec.states)
    nodes += [GraphNode(id=t, kind=NodeKind.MISSING, style=NodeStyle.MISSING, lines=(t, "missing state"))
              for t in missing]
    return FlowGraph(start=spec.start, nodes=tuple(nodes), edges=tuple(edges))


def _node(state_id: str, state: StateSpec) -> GraphNode:
    details: list[str] = []
    if state.ask is not None:
        details.append(f"{state.ask.type.value}: {state.ask.text}")
    elif state.say and state.end is None and state.handoff is None:
        details.append(f"say: {state.say[0]}")
    if state.handoff is not None:
        details.append(f"handoff: {state.handoff.team}")
    if state.end is not None:
        details.append(f"end: {state.end.value}")
    kind = _kind(state)
    # End states are coloured by outcome; the other kinds share their name with their style.
    style = _END_STYLES[state.end] if state.end is not None else NodeStyle(kind.value)
    return GraphNode(id=state_id, kind=kind, style=style, lines=(state_id, *details))


def _kind(state: StateSpec) -> NodeKind:
    if state.end is not None:
        return NodeKind.END
    if state.handoff is not None:
        return NodeKind.HANDOFF
    return NodeKind.QUESTION if state.ask is not None else NodeKind.STEP


def _state_edges(state_id: str, state: StateSpec) -> Iterator[GraphEdge]:
    if isinstance(state.next, str):
        yield GraphEdge(source=state_id, target=state.next, kind=EdgeKind.NEXT)
    elif state.next:
        alone = len(state.next) == 1
        for branch in state.next:
            label = branch.if_ if branch.if_ is not None else ("" if alone else "else")
            yield GraphEdge(source=state_id, target=branch.goto, kind=EdgeKind.NEXT, label=label)
    if state.ask is not None and state.ask.fallback not in (None, _SKIP):
        yield GraphEdge(source=state_id, target=state.ask.fallback, kind=EdgeKind.FALLBACK, label="fallback")
    for rule in state.on_silence:
        if rule.goto is not None:
            label = f"silent {_duration(rule.after)}"
            yield GraphEdge(source=state_id, target=rule.goto, kind=EdgeKind.SILENCE, label=label)


def _global_edges(spec: FlowSpec) -> Iterator[GraphEdge]:
    actions: list[tuple[str, Action | None]] = [("on_hot", spec.scoring.on_hot)]
    for objection_id, objection in spec.objections.items():
        actions += [(objection_id, objection.then), (f"{objection_id} (repeat)", objection.on_repeat)]
    actions += [(faq_id, faq.then) for faq_id, faq in spec.faqs.items()]
    for label, action in actions:
        if isinstance(action, GotoAction):
            yield GraphEdge(source=ANY_STATE, target=action.goto, kind=EdgeKind.GLOBAL, label=label)


def _merge(edges: Iterable[GraphEdge]) -> list[GraphEdge]:
    labels: dict[tuple[str, str, EdgeKind], list[str]] = {}
    for edge in edges:
        found = labels.setdefault((edge.source, edge.target, edge.kind), [])
        if edge.label and edge.label not in found:
            found.append(edge.label)
    return [GraphEdge(source=source, target=target, kind=kind, label=" / ".join(found))
            for (source, target, kind), found in labels.items()]


def _duration(after: timedelta) -> str:
    seconds = int(after.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _truncate(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


# --- Mermaid --------------------------------------------------------------------------------------------

_MERMAID_SAFE = frozenset(" .,:?!'_-/=+*@$~^")
_MERMAID_NAMED = MappingProxyType({'"': "quot", "<": "lt", ">": "gt", "&": "amp"})
_MERMAID_SHAPES = MappingProxyType({
    NodeKind.STEP: ('["', '"]'),
    NodeKind.QUESTION: ('[/"', '"/]'),
    NodeKind.HANDOFF: ('{{"', '"}}'),
    NodeKind.END: ('(["', '"])'),
    NodeKind.MISSING: ('["', '"]'),
})
_MERMAID_ARROWS = MappingProxyType({
    EdgeKind.NEXT: "-->", EdgeKind.FALLBACK: "-.->", EdgeKind.SILENCE: "-.->", EdgeKind.GLOBAL: "-.->",
})
_MERMAID_ENTRY = "entry"  # pseudo-node ids carry no `s_` prefix, so they never clash with a state
_MERMAID_ANY = "any_state"


def to_mermaid(spec: FlowSpec) -> str:
    """Render a flow as a Mermaid `flowchart TD`, ready to paste into Markdown.

    States become nodes shaped by kind (question: parallelogram, handoff: hexagon, end: stadium) and
    coloured by classDef; `next` edges are solid, fallback/silence/global jumps dotted.
    """
    graph = to_graph(spec)
    lines = ["flowchart TD", f'    {_MERMAID_ENTRY}(("start")) --> {_mermaid_id(graph.start)}']
    lines += [f"    {_mermaid_node(node)}" for node in graph.nodes]
    if any(edge.source == ANY_STATE for edge in graph.edges):
        lines.append(f'    {_MERMAID_ANY}(("any state"))')
    lines += [f"    {_mermaid_edge(edge)}" for edge in graph.edges]
    lines += [f"    classDef {style.value} {_mermaid_colours(style)}" for style in NodeStyle]
    lines += [f"    class {ids} {style}" for style, ids in _mermaid_classes(graph).items()]
    return "\n".join(lines) + "\n"


def _mermaid_id(node_id: str) -> str:
    # States share Mermaid's namespace with keywords (`end`, `graph`, `style`, ...): prefix them all.
    return _MERMAID_ANY if node_id == ANY_STATE else f"s_{node_id}"


def _mermaid_text(text: str, limit: int) -> str:
    """Truncate, then swap anything Mermaid could read as syntax for an entity code (`#quot;`, `#124;`)."""
    out: list[str] = []
    for char in _truncate(text, limit):
        if char.isalnum() or char in _MERMAID_SAFE:
            out.append(char)
        else:
            out.append(f"#{_MERMAID_NAMED.get(char, ord(char))};")
    return "".join(out)


def _mermaid_node(node: GraphNode) -> str:
    opening, closing = _MERMAID_SHAPES[node.kind]
    label = "<br/>".join(_mermaid_text(line, NODE_CHARS) for line in node.lines)
    return f"{_mermaid_id(node.id)}{opening}{label}{closing}"


def _mermaid_edge(edge: GraphEdge) -> str:
    arrow = _MERMAID_ARROWS[edge.kind]
    # Mermaid wraps long labels itself, so conditions get the roomier node limit here.
    label = f'|"{_mermaid_text(edge.label, NODE_CHARS)}"|' if edge.label else ""
    return f"{_mermaid_id(edge.source)} {arrow}{label} {_mermaid_id(edge.target)}"


def _mermaid_colours(style: NodeStyle) -> str:
    fill, stroke, colour = _COLOURS[style]
    dash = ",stroke-dasharray:4 3" if style is NodeStyle.MISSING else ""
    return f"fill:{fill},stroke:{stroke},color:{colour}{dash}"


def _mermaid_classes(graph: FlowGraph) -> dict[str, str]:
    members: dict[NodeStyle, list[str]] = {NodeStyle.START: [_MERMAID_ENTRY]}
    if any(edge.source == ANY_STATE for edge in graph.edges):
        members[NodeStyle.ANY] = [_MERMAID_ANY]
    for node in graph.nodes:
        members.setdefault(node.style, []).append(_mermaid_id(node.id))
    return {style.value: ",".join(members[style]) for style in NodeStyle if style in members}


# --- layered layout -------------------------------------------------------------------------------------

_CHAR_WIDTH = 7.0  # ≈ average glyph width of a 12 px sans-serif font
_LABEL_CHAR_WIDTH = 6.0  # the same at the 10 px edge-label font
_LINE_HEIGHT = 16.0
_PAD_X, _PAD_Y = 10.0, 7.0
_GAP_X, _GAP_Y, _MARGIN = 28.0, 64.0, 20.0


@dataclass(frozen=True, kw_only=True)
class _Box:
    x: float
    y: float
    width: float
    height: float
    layer: int = -1  # edge labels belong to no layer


def _layers(graph: FlowGraph) -> list[list[str]]:
    """Nodes grouped by BFS depth, each layer ordered by a few barycenter sweeps to cut crossings."""
    depth = _depths(graph)
    layers: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
    for node_id, layer in depth.items():
        layers[layer].append(node_id)
    down: dict[str, list[str]] = {}
    up: dict[str, list[str]] = {}
    for edge in graph.edges:
        if depth[edge.source] < depth[edge.target]:
            down.setdefault(edge.target, []).append(edge.source)
            up.setdefault(edge.source, []).append(edge.target)
    position = _positions(layers)
    for links, order in ((down, range(1, len(layers))), (up, range(len(layers) - 2, -1, -1)),
                         (down, range(1, len(layers)))):
        for index in order:
            layers[index] = _by_barycenter(layers[index], links, position)
            position.update(_positions([layers[index]]))
    return layers


def _depths(graph: FlowGraph) -> dict[str, int]:
    """Depth from `start` over local moves; states reached only by global jumps hang one below ANY_STATE."""
    local: dict[str, list[str]] = {}
    for edge in graph.edges:
        if edge.kind is not EdgeKind.GLOBAL:
            local.setdefault(edge.source, []).append(edge.target)
    depth: dict[str, int] = {}
    _bfs(local, [graph.start], 0, depth)
    jumps = [edge.target for edge in graph.edges if edge.kind is EdgeKind.GLOBAL]
    if jumps:
        depth[ANY_STATE] = 0
        _bfs(local, [target for target in jumps if target not in depth], 1, depth)
    for node in graph.nodes:  # unreachable states start their own little tree at the top
        if node.id not in depth:
            _bfs(local, [node.id], 0, depth)
    return depth


def _bfs(links: Mapping[str, list[str]], roots: Sequence[str], base: int, depth: dict[str, int]) -> None:
    queue: deque[str] = deque()
    for root in dict.fromkeys(roots):
        depth[root] = base
        queue.append(root)
    while queue:
        current = queue.popleft()
        for target in links.get(current, []):
            if target not in depth:
                depth[target] = depth[current] + 1
                queue.append(target)


def _positions(layers: Iterable[list[str]]) -> dict[str, float]:
    # Relative positions (0..1) so layers of different widths compare fairly.
    return {node: (index + 0.5) / len(layer) for layer in layers for index, node in enumerate(layer)}


def _by_barycenter(layer: list[str], links: Mapping[str, list[str]],
                   position: Mapping[str, float]) -> list[str]:
    def key(item: tuple[int, str]) -> tuple[float, int]:
        index, node = item
        linked = [position[other] for other in links.get(node, [])]
        return (sum(linked) / len(linked) if linked else position[node], index)

    return [node for _, node in sorted(enumerate(layer), key=key)]


def _place(graph: FlowGraph, layers: list[list[str]]) -> dict[str, _Box]:
    sizes = {node.id: _node_size(_svg_lines(node)) for node in graph.nodes}
    sizes[ANY_STATE] = _node_size(["any state"])
    widths = [sum(sizes[n][0] for n in layer) + _GAP_X * (len(layer) - 1) for layer in layers]
    boxes: dict[str, _Box] = {}
    y = _MARGIN
    for index, layer in enumerate(layers):
        height = max(sizes[n][1] for n in layer)
        x = _MARGIN + (max(widths) - widths[index]) / 2
        for node_id in layer:
            width, node_height = sizes[node_id]
            boxes[node_id] = _Box(x=x, y=y + (height - node_height) / 2, width=width, height=node_height,
                                  layer=index)
            x += width + _GAP_X
        y += height + _GAP_Y
    return boxes


def _node_size(lines: Sequence[str]) -> tuple[float, float]:
    return (max(len(line) for line in lines) * _CHAR_WIDTH + 2 * _PAD_X,
            len(lines) * _LINE_HEIGHT + 2 * _PAD_Y)


# --- SVG ------------------------------------------------------------------------------------------------

_Point = tuple[float, float]


@dataclass(frozen=True, kw_only=True)
class _Curve:
    """A cubic Bézier edge; the curve stays inside its control points, which bounds the canvas."""

    points: tuple[_Point, _Point, _Point, _Point]
    label_at: float = 0.5  # where on the curve (0..1) its label sits

    def label_point(self) -> _Point:
        t, u = self.label_at, 1 - self.label_at
        weights = (u**3, 3 * u * u * t, 3 * u * t * t, t**3)
        return (sum(w * x for w, (x, _) in zip(weights, self.points, strict=True)),
                sum(w * y for w, (_, y) in zip(weights, self.points, strict=True)))

    def path(self) -> str:
        a, b, c, d = (f"{x:.1f},{y:.1f}" for x, y in self.points)
        return f"M{a} C{b} {c} {d}"


def to_svg(spec: FlowSpec) -> str:
    """Render a flow as a standalone, deterministic SVG document with a top-down layered layout.

    Every state is a `<g class="node" data-state="ID">`; hovering a node or an edge label shows its full
    text. Needs no external tools.
    """
    graph = to_graph(spec)
    boxes = _place(graph, _layers(graph))
    curves = [(edge, _curve(boxes[edge.source], boxes[edge.target])) for edge in graph.edges]
    body = [_svg_edge(edge, curve, spec.id) for edge, curve in curves]
    body += [_svg_node(node, boxes[node.id], start=node.id == graph.start) for node in graph.nodes]
    if ANY_STATE in boxes:
        body.append(_svg_any(boxes[ANY_STATE]))
    body += [_svg_edge_label(edge, curve) for edge, curve in curves if edge.label]
    labels = [_label_box(edge, curve) for edge, curve in curves if edge.label]
    canvas = _canvas([*boxes.values(), *labels], [curve for _, curve in curves])
    return "\n".join([_svg_header(spec, canvas), *body, "</svg>"]) + "\n"


def _svg_lines(node: GraphNode) -> list[str]:
    return [_truncate(line, NODE_CHARS) for line in node.lines]


def _curve(source: _Box, target: _Box) -> _Curve:
    if target.layer > source.layer:  # downwards: bottom centre to top centre
        start = (source.x + source.width / 2, source.y + source.height)
        end = (target.x + target.width / 2, target.y)
        bend = (end[1] - start[1]) / 2
        # Labels sit past the middle, where the arms of a branch have already fanned out.
        return _Curve(points=(start, (start[0], start[1] + bend), (end[0], end[1] - bend), end), label_at=0.6)
    if target.layer == source.layer and source is not target:  # sideways: an arc under the layer
        start = (source.x + source.width / 2, source.y + source.height)
        end = (target.x + target.width / 2, target.y + target.height)
        dip = max(start[1], end[1]) + _GAP_Y / 2
        return _Curve(points=(start, (start[0], dip), (end[0], dip), end))
    # back up (or to itself): a loop out of the side facing the target, bulging past both nodes
    leftwards = target.x + target.width / 2 < source.x + source.width / 2
    side = -1.0 if leftwards else 1.0
    start = (source.x + (0 if leftwards else source.width), source.y + source.height / 2 - 4)
    end = (target.x + (0 if leftwards else target.width), target.y + target.height / 2 + 4)
    outer = min(start[0], end[0]) if leftwards else max(start[0], end[0])
    bulge = outer + side * (40 + 0.15 * abs(end[1] - start[1]))
    return _Curve(points=(start, (bulge, start[1]), (bulge, end[1]), end))


def _canvas(boxes: Iterable[_Box], curves: Iterable[_Curve]) -> tuple[float, float, float, float]:
    """The viewBox (x, y, width, height) holding every box and curve, plus a margin."""
    points = [point for curve in curves for point in curve.points]
    for box in boxes:
        points += [(box.x, box.y), (box.x + box.width, box.y + box.height)]
    left = min(0.0, min(x for x, _ in points) - _MARGIN)
    right = max(x for x, _ in points) + _MARGIN
    return left, 0.0, right - left, max(y for _, y in points) + _MARGIN


def _label_box(edge: GraphEdge, curve: _Curve) -> _Box:
    x, y = curve.label_point()
    width = len(_truncate(edge.label, EDGE_CHARS)) * _LABEL_CHAR_WIDTH + 6
    return _Box(x=x - width / 2, y=y - 8, width=width, height=15)


def _svg_header(spec: FlowSpec, canvas: tuple[float, float, float, float]) -> str:
    x, y, width, height = (round(value) for value in canvas)
    title = escape(spec.title or spec.id)
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="{x} {y} {width} {height}" font-family="Helvetica, Arial, sans-serif" font-size="12">',
        f"<title>{title}</title>",
        f'<defs><marker id="{_marker_id(spec.id)}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#616161"/></marker></defs>',
        f'<rect x="{x}" y="{y}" width="{width}" height="{height}" fill="#ffffff"/>',
    ])


def _marker_id(flow_id: str) -> str:
    # Scoped by flow id so several diagrams can be inlined into one HTML page.
    return f"salesbot-arrow-{flow_id}"


def _svg_edge(edge: GraphEdge, curve: _Curve, flow_id: str) -> str:
    dash = "" if edge.kind is EdgeKind.NEXT else ' stroke-dasharray="5,4"'
    attrs = f"data-kind={quoteattr(edge.kind.value)} data-source={quoteattr(edge.source)} " \
            f"data-target={quoteattr(edge.target)}"
    return (f'<g class="edge" {attrs}><path d="{curve.path()}" fill="none" stroke="#616161" '
            f'stroke-width="1.3"{dash} marker-end="url(#{_marker_id(flow_id)})"/></g>')


def _svg_edge_label(edge: GraphEdge, curve: _Curve) -> str:
    text = _truncate(edge.label, EDGE_CHARS)
    box = _label_box(edge, curve)
    kind = quoteattr(edge.kind.value)
    return (f'<g class="edge-label" data-kind={kind}><title>{escape(edge.label)}</title>'
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" height="{box.height:.1f}" rx="3" '
            f'fill="#ffffff" fill-opacity="0.85"/><text x="{box.x + box.width / 2:.1f}" y="{box.y + 11:.1f}" '
            'font-size="10" '
            f'text-anchor="middle" fill="#424242">{escape(text)}</text></g>')


def _svg_node(node: GraphNode, box: _Box, *, start: bool) -> str:
    fill, stroke, colour = _COLOURS[node.style]
    stroke_width = "3" if start else "1.5"
    dash = ' stroke-dasharray="4,3"' if node.kind is NodeKind.MISSING else ""
    texts = _svg_texts(_svg_lines(node), box, colour)
    tag = "node" if node.kind is not NodeKind.MISSING else "missing"
    marker = ' data-start="true"' if start else ""
    title = escape("\n".join(node.lines))
    return (f'<g class="{tag}" data-state={quoteattr(node.id)} data-kind="{node.kind.value}" '
            f'data-style="{node.style.value}"{marker}><title>{title}</title>'
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" height="{box.height:.1f}" '
            f'rx="8" fill="{fill}" stroke="{stroke}" stroke-width="{stroke_width}"{dash}/>{texts}</g>')


def _svg_any(box: _Box) -> str:
    fill, stroke, colour = _COLOURS[NodeStyle.ANY]
    texts = _svg_texts(["any state"], box, colour)
    return (f'<g class="any-state" data-style="{NodeStyle.ANY.value}"><title>any state: objections, '
            f'FAQs and on_hot can jump from everywhere</title><rect x="{box.x:.1f}" y="{box.y:.1f}" '
            f'width="{box.width:.1f}" height="{box.height:.1f}" rx="{box.height / 2:.1f}" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="1.5" stroke-dasharray="4,3"/>{texts}</g>')


def _svg_texts(lines: Sequence[str], box: _Box, colour: str) -> str:
    centre = box.x + box.width / 2
    weights = [' font-weight="bold"', *([""] * (len(lines) - 1))]
    return "".join(
        f'<text x="{centre:.1f}" y="{box.y + _PAD_Y + _LINE_HEIGHT * (index + 1) - 4:.1f}" '
        f'text-anchor="middle" fill="{colour}"{weight}>{escape(line)}</text>'
        for index, (line, weight) in enumerate(zip(lines, weights, strict=True))
    )
