"""Network views: pathway results → dash-cytoscape elements, with a size cap.

Pure data (no Dash import), so the pages stay thin and this is testable on its own.
Node colour and shape follow the node's kind; :data:`KIND_STYLE` is also the legend.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from itertools import pairwise
from typing import Any
from urllib.parse import quote, urlsplit

from pathways.analysis.pathways import Pathways, ReachableActivity
from pathways.model import NodeKind, RelType

MAX_ELEMENTS = 1500
WEB_SCHEMES = ("http", "https")


def web_link(url: object) -> str | None:
    """``url`` when it is a plain http(s) address the app may render as a link, else None.

    Addresses come from partners' files and feeds: ``javascript:``, ``data:``, ``file:`` and
    anything with spaces or control characters in it are shown as text, never linked.

    >>> web_link("https://calderdale.example/refer"), web_link(" HTTP://a.example ")
    ('https://calderdale.example/refer', 'HTTP://a.example')
    >>> [web_link(u) for u in ("javascript:alert(1)", "data:text/html,x", "https:nohost",
    ...                        "//evil.example", "https://a.example/\tx", None)]
    [None, None, None, None, None, None]
    """
    if not isinstance(url, str):
        return None
    text = url.strip()
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return None
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.netloc:
        return None
    return text


def plotly_text(text: object) -> str:
    """Data text for a Plotly figure (axis labels, hover text, annotations), shown as written.

    Plotly reads a subset of HTML in those strings (``<a href>`` makes a live link, ``<br>``
    a line break); ``&``, ``<`` and ``>`` become entities, which Plotly shows as the
    characters themselves.

    >>> plotly_text('<a href="https://evil.example">x</a> & co')
    '&lt;a href="https://evil.example"&gt;x&lt;/a&gt; &amp; co'
    """
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

# kind → (colour, cytoscape shape, legend label).  Colours are from the Okabe–Ito palette,
# which stays distinguishable for colour-blind readers; shapes differ too.
KIND_STYLE: dict[str, tuple[str, str, str]] = {
    NodeKind.PERSON.value: ("#0072B2", "ellipse", "Link worker / person"),
    NodeKind.ORGANISATION.value: ("#E69F00", "round-rectangle", "Organisation"),
    NodeKind.SERVICE.value: ("#009E73", "diamond", "Service"),
    NodeKind.ACTIVITY.value: ("#CC79A7", "star", "Activity"),
    NodeKind.LOCALITY.value: ("#56B4E9", "hexagon", "Locality"),
    NodeKind.NEED.value: ("#D55E00", "triangle", "Need"),
    NodeKind.NETWORK.value: ("#F0E442", "pentagon", "Network"),
    NodeKind.FUNDER.value: ("#999999", "vee", "Funder"),
}


# Cytoscape's own polygons for the shapes above (its unit square, y down), so the legend draws
# each kind exactly as the graph does: regular polygons stretched to fill the square, a
# five-pointed star, and its "vee".
def _ngon(sides: int, rotation: float = 0.0) -> list[tuple[float, float]]:
    step = 2 * math.pi / sides
    start = math.pi / 2 + (step / 2 if sides % 2 == 0 else 0) + rotation
    return [(math.cos(start + i * step), -math.sin(start + i * step)) for i in range(sides)]


def _fit(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    xs, ys = [x for x, _ in points], [y for _, y in points]
    sx, sy = 2 / (max(xs) - min(xs)), 2 / (max(ys) - min(ys))
    left, top = min(xs) * sx, min(ys) * sy
    return [(x * sx - 1 - left, y * sy - 1 - top) for x, y in points]


def _star() -> list[tuple[float, float]]:
    inner_radius = 0.5 * (3 - math.sqrt(5)) * 1.57
    outer, inner = _ngon(5), _ngon(5, math.pi / 5)
    points: list[tuple[float, float]] = []
    for (ox, oy), (ix, iy) in zip(outer, inner, strict=True):
        points += [(ox, oy), (ix * inner_radius, iy * inner_radius)]
    return _fit(points)


SHAPE_POINTS: dict[str, list[tuple[float, float]]] = {
    "diamond": [(0, 1), (1, 0), (0, -1), (-1, 0)],
    "star": _star(),
    "hexagon": _fit(_ngon(6)),
    "triangle": _fit(_ngon(3)),
    "pentagon": _fit(_ngon(5)),
    "vee": [(-1, -1), (0, -0.333), (1, -1), (0, 1)],
}


def shape_svg(shape: str, colour: str) -> str:
    """A small SVG of a Cytoscape node ``shape`` filled with ``colour``, outlined as nodes are.

    >>> shape_svg("triangle", "#D55E00").startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    True
    """
    body = {
        "ellipse": '<circle r="1"',
        "round-rectangle": '<rect x="-1" y="-1" width="2" height="2" rx="0.45"',
    }.get(shape)
    if body is None:
        points = " ".join(f"{x:.3f},{y:.3f}" for x, y in SHAPE_POINTS[shape])
        body = f'<polygon points="{points}"'
    return ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="-1.15 -1.15 2.3 2.3">'
            f'{body} fill="{colour}" stroke="#333333" stroke-width="0.1"/></svg>')


def shape_data_uri(shape: str, colour: str) -> str:
    """:func:`shape_svg` as an image address (for the legend's ``<img>``)."""
    return "data:image/svg+xml," + quote(shape_svg(shape, colour))


def stylesheet() -> list[dict]:
    """Cytoscape styles: one rule per kind, plus path highlighting and dimming.

    Highlighted nodes (class ``selected``) get a thick orange ring and grow a little; the
    node a person clicked (Cytoscape's ``:selected``) a dark double ring.  Widths that are
    meant for lines are set on edges only: ``width`` on a node is its size.  Labels sit on a
    white band so they stay readable over edges, and are hidden when zoomed out too far to
    read them (the text lists beside each graph say the same).
    """
    rules: list[dict] = [
        {
            "selector": "node",
            "style": {
                "label": "data(label)",
                "font-size": "11px",
                "color": "#1b1b1b",
                "text-wrap": "wrap",
                "text-max-width": "120px",
                "text-valign": "bottom",
                "text-margin-y": "4px",
                "text-background-color": "#ffffff",
                "text-background-opacity": 0.85,
                "text-background-padding": "1px",
                "min-zoomed-font-size": 7,
                "width": 26,
                "height": 26,
                "border-width": 1,
                "border-color": "#333",
            },
        },
        {
            "selector": "edge",
            "style": {
                "curve-style": "bezier",
                "target-arrow-shape": "triangle",
                "width": 1.5,
                "line-color": "#bbb",
                "target-arrow-color": "#bbb",
                "label": "data(label)",
                "font-size": "7px",
                "color": "#777",
            },
        },
    ]
    for kind, (colour, shape, _label) in KIND_STYLE.items():
        rules.append({"selector": f"node.{kind}", "style": {"background-color": colour, "shape": shape}})
    rules += [
        {"selector": "node.start", "style": {"width": 40, "height": 40, "border-width": 3}},
        {"selector": "node.match", "style": {"border-width": 3, "border-color": "#000"}},
        {"selector": "edge.path", "style": {"line-color": "#0072B2", "target-arrow-color": "#0072B2",
                                            "width": 3}},
        {"selector": ".dim", "style": {"opacity": 0.25}},
        {"selector": "node.selected", "style": {"border-color": "#D55E00", "border-width": 5,
                                                "width": 34, "height": 34, "z-index": 10,
                                                "font-weight": "bold"}},
        {"selector": "node.start.selected", "style": {"width": 44, "height": 44}},
        {"selector": "edge.selected", "style": {"line-color": "#D55E00",
                                                "target-arrow-color": "#D55E00", "width": 4,
                                                "z-index": 9}},
        # The node a person clicked or tapped (its details are shown beside the graph).
        {"selector": "node:selected", "style": {"border-color": "#0b3d5c", "border-width": 6,
                                                "border-style": "double", "z-index": 11}},
        {"selector": "edge:selected", "style": {"line-color": "#0b3d5c",
                                                "target-arrow-color": "#0b3d5c", "width": 4}},
    ]
    return rules


def pathway_elements(
    result: Pathways,
    relationships: list[tuple[str, RelType, str]],
    context: Pathways | None = None,
    selected: str | None = None,
    limit: int = MAX_ELEMENTS,
) -> tuple[list[dict], bool]:
    """Elements for the paths in ``result`` (highlighted) and, if it fits, ``context``.

    ``context`` is the unfiltered result for the same link worker: activities that do not
    match the filters are drawn dimmed, so a link worker sees what else is there.  Returns
    ``(elements, trimmed)``; ``trimmed`` is True when the cap dropped context or paths.
    """
    path_edges: set[tuple[str, str]] = set()
    nodes: dict[str, dict] = {}
    matched = {a["id"] for a in result["activities"]}
    selected_steps: set[tuple[str, str]] = set()
    selected_nodes: set[str] = set()

    def add_path(activity: ReachableActivity, dim: bool) -> None:
        path = activity["path"]
        for node in path:
            if node["id"] not in nodes or not dim:
                nodes[node["id"]] = {**node, "dim": dim}  # a matching route wins over context
        for a, b in pairwise(path):
            if not dim:
                path_edges.add((a["id"], b["id"]))
        if activity["id"] == selected:
            selected_nodes.update(n["id"] for n in path)
            selected_steps.update((a["id"], b["id"]) for a, b in pairwise(path))

    for activity in result["activities"]:
        add_path(activity, dim=False)
    trimmed = False
    if context is not None:
        before = dict(nodes)
        for activity in context["activities"]:
            if activity["id"] not in matched:
                add_path(activity, dim=True)
        if len(nodes) * 2 > limit:  # context would not fit: drop it, keep the answer
            nodes, trimmed = before, True
    elements: list[dict] = []
    start = result["from"]["id"]
    for node_id, node in nodes.items():
        classes = [node["kind"]]
        if node_id == start:
            classes.append("start")
        if node_id in matched:
            classes.append("match")
        if node.get("dim"):
            classes.append("dim")
        if node_id in selected_nodes:
            classes.append("selected")
        elements.append(
            {"data": {"id": node_id, "label": node["name"], "kind": node["kind"]},
             "classes": " ".join(classes)}
        )
    for source, rel, target in relationships:
        if source not in nodes or target not in nodes:
            continue
        classes = ["path"] if (source, target) in path_edges else ["dim"]
        if (source, target) in selected_steps:
            classes.append("selected")
        elements.append(
            {"data": {"id": f"{source}|{rel.value}|{target}", "source": source, "target": target,
                      "label": rel.value.replace("_", " ").lower()},
             "classes": " ".join(classes)}
        )
    if len(elements) > limit:
        trimmed = True
        keep_nodes = [e for e in elements if "source" not in e["data"]][: limit // 2]
        kept = {e["data"]["id"] for e in keep_nodes}
        keep_edges = [e for e in elements if "source" in e["data"]
                      and e["data"]["source"] in kept and e["data"]["target"] in kept]
        elements = keep_nodes + keep_edges[: limit - len(keep_nodes)]
    return elements, trimmed


def network_elements(network: Mapping[str, Any], highlight: set[str],
                     limit: int = MAX_ELEMENTS) -> tuple[list[dict], bool]:
    """Elements for a referral network (from :func:`pathways.analysis.gaps.referral_network`)
    with ``highlight`` nodes marked and everything else dimmed when something is highlighted.

    When the whole network is over ``limit`` elements, only the highlighted nodes and their
    neighbours are drawn; ``trimmed`` says so.
    """
    nodes, edges = network["nodes"], network["edges"]
    trimmed = False
    if len(nodes) + len(edges) > limit:
        trimmed = True
        keep = set(highlight)
        for u, _t, v in edges:
            if u in highlight or v in highlight:
                keep.update((u, v))
        nodes = [n for n in nodes if n["id"] in keep][: limit // 2]
        kept = {n["id"] for n in nodes}
        edges = [e for e in edges if e[0] in kept and e[2] in kept][: limit - len(nodes)]
    dim = bool(highlight)
    elements = []
    for node in nodes:
        classes = [node["kind"]]
        if node["id"] in highlight:
            classes.append("selected")
        elif dim:
            classes.append("dim")
        elements.append({"data": {"id": node["id"], "label": node["name"], "kind": node["kind"]},
                         "classes": " ".join(classes)})
    for u, rel, v in edges:
        both = u in highlight and v in highlight
        elements.append({"data": {"id": f"{u}|{rel}|{v}", "source": u, "target": v,
                                  "label": rel.replace("_", " ").lower()},
                         "classes": "selected" if both else ("dim" if dim else "")})
    return elements, trimmed
