"""Pieces every page that draws a network shares: the graph itself, its legend, a "Download PNG"
button, and the panel that says what a clicked node is.

How a page uses them (``pages/gaps.py`` is an example)::

    LAYOUT = {"name": "cose", "animate": False, "randomize": False}

    html.Section([
        html.H2("Referral network"),
        legend(),                                      # the kinds, drawn with the nodes' shapes
        network_body("gp-graph", LAYOUT, "gp-node"),   # the graph and, beside it, the panel
        png_button("gp-graph", "gaps-network"),        # saves the view as gaps-network.png
    ], className="network")

    # Once, at import: a click on a node (or on a node's button in a facts list, for keyboard
    # users) shows its details, looked up on the server in the network the page draws now.
    node_details_callback("gp-graph", "gp-node", lambda store: referral_network(store))

- Graphs set ``autoRefreshLayout=False`` and each drawing callback returns
  ``drawn(LAYOUT, elements)`` as the graph's layout (see :func:`pages._components.drawn`).
- After each layout the view fits the highlighted nodes (class ``selected``; else every node
  not dimmed), zoomed no further than labels need (``assets/network.js``).
- ``network`` in :func:`node_details_callback` gets the store and the values of ``states`` and
  returns ``{"nodes": [{"id", "name", "kind"}], "edges": [(source, type, target)]}`` (the shape
  of :func:`pathways.analysis.gaps.referral_network`), or None.  A node id the browser sends is
  used only if it is in that network; the details come from the store.
- ``contacts=True`` only where link workers need them (the Pathways page): phone, e-mail, web
  address and referral notes of organisations, services and activities.  People's own contact
  details are never shown.

Dash's page registry skips modules whose name starts with an underscore: this is not a page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import dash_cytoscape as cyto
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, html, no_update

from pages._access import Role, allowed
from pages._components import hint
from pathways.analysis.evidence import evidence_facts
from pathways.reports.network_views import KIND_STYLE, shape_data_uri, stylesheet, web_link
from pathways.webstore import get_store

NODE_PICK = "node-pick"
PNG_BUTTON = "png-button"
KIND_NAMES = {kind: label for kind, (_colour, _shape, label) in KIND_STYLE.items()}
SHOWN_NEIGHBOURS = 12  # per relationship in the details panel

# How each relationship reads from either end, for the details panel.
_REL_WORDS = {
    "REFERS_TO": ("Refers to", "Referred to by"),
    "PROVIDES": ("Provides", "Provided by"),
    "OFFERS": ("Offers", "Offered by"),
    "ADDRESSES": ("Addresses", "Addressed by"),
    "DOES_NOT_ADDRESS": ("Vetoed need", "Vetoed for"),
    "LOCATED_IN": ("Located in", "Location of"),
    "PARTNERS_WITH": ("Partners with", "Partner of"),
    "COVERS": ("Covers", "Covered by"),
    "MEMBER_OF": ("Member of", "Members"),
    "FUNDS": ("Funds", "Funded by"),
}
# What the panel shows of each kind, besides name, kind and description: (property, label).
_FACTS = {
    "Activity": [("schedule", "When"), ("venue", "Venue"), ("cost", "Cost"),
                 ("accessibility", "Access"), ("reviewed_at", "Last reviewed")],
    "Organisation": [("kind", "Type"), ("charity_number", "Charity number"),
                     ("reviewed_at", "Last reviewed")],
    "Service": [("reviewed_at", "Last reviewed")],
    "Person": [("job_title", "Role")],
    "Locality": [("area_type", "Area type")],
    "Network": [("reviewed_at", "Last reviewed")],
}
# Contact details, only with contacts=True and never for people.
_CONTACTS = [("phone", "Phone"), ("email", "E-mail"), ("website", "Web"),
             ("referral_info", "How to refer")]


def _attrs(values: dict[str, str]) -> dict[str, Any]:
    """HTML attributes with dashes (aria-*, data-*), which Dash takes as keyword arguments."""
    return values


_ATTRS_LEGEND = _attrs({"aria-label": "Legend: the shape and colour of each kind of node"})


def legend() -> html.Ul:
    """The node kinds, each drawn with the shape and colour its nodes have on the graph
    (from the same :data:`~pathways.reports.network_views.KIND_STYLE` the stylesheet uses)."""
    return html.Ul(
        [html.Li([html.Img(src=shape_data_uri(shape, colour), alt="", className="legend-shape",
                           width=18, height=18), label],
                 className="legend-item", **_attrs({"data-kind": kind, "data-shape": shape}))
         for kind, (colour, shape, label) in KIND_STYLE.items()],
        className="legend", **_ATTRS_LEGEND,
    )


def graph(graph_id: str, layout: dict) -> cyto.Cytoscape:
    """The network drawing: the shared stylesheet, no automatic re-layout (see ``drawn()``),
    as wide as its column."""
    return cyto.Cytoscape(id=graph_id, elements=[], stylesheet=stylesheet(), layout=layout,
                          autoRefreshLayout=False, className="graph", minZoom=0.2, maxZoom=3,
                          style={"width": "100%"})


def node_panel(panel_id: str) -> html.Div:
    """Where a clicked node's details appear (read out politely by screen readers)."""
    return html.Div(hint("Click or tap a node to see what it is."), id=panel_id,
                    className="details node-details", **_attrs({"aria-live": "polite"}))


def network_body(graph_id: str, layout: dict, panel_id: str) -> html.Div:
    """The graph with its details panel beside it (below it on narrow screens)."""
    return html.Div([graph(graph_id, layout), node_panel(panel_id)], className="network-body")


def png_button(graph_id: str, filename: str, label: str = "Download PNG") -> html.Button:
    """A button that saves the graph's current view as ``filename``.png (for reports): drawn in
    the browser by Cytoscape, white background, twice the screen's resolution."""
    return html.Button(label, id={"type": PNG_BUTTON, "graph": graph_id, "file": filename},
                       className="button", type="button")


# One callback for every PNG button: the browser draws the image (nothing goes to the server).
clientside_callback(
    """function (clicks) {
        const id = window.dash_clientside.callback_context.triggered_id;
        if (!id || !id.graph) { return window.dash_clientside.no_update; }
        const index = window.dash_clientside.callback_context.inputs_list[0]
            .findIndex(i => i.id.graph === id.graph && i.id.file === id.file);
        if (index < 0 || !clicks[index]) { return window.dash_clientside.no_update; }
        window.dash_clientside.set_props(id.graph, {generateImage: {
            type: "png", action: "download", filename: id.file,
            options: {bg: "#ffffff", scale: 2, maxWidth: 4000, maxHeight: 4000}}});
        return window.dash_clientside.no_update;
    }""",
    Output({"type": PNG_BUTTON, "graph": ALL, "file": ALL}, "title"),
    Input({"type": PNG_BUTTON, "graph": ALL, "file": ALL}, "n_clicks"),
    prevent_initial_call=True,
)


def node_button(text: str, graph_id: str, node_id: str) -> html.Button:
    """A node named in a text list, as a button that shows its details like a click on the
    graph does (the keyboard's way to the details panel)."""
    return html.Button(text, id={"type": NODE_PICK, "graph": graph_id, "node": node_id},
                       className="link-button", type="button")


def node_facts_list(title: str, items: Sequence[tuple[str, str | None]], list_id: str,
                    graph_id: str) -> html.Div:
    """What a network view shows, as text: ``(text, node id or None)`` per item; items with a
    node id are buttons that open that node's details."""
    entries = [html.Li(node_button(text, graph_id, node) if node else text)
               for text, node in items]
    return html.Div([html.H3(title), html.Ul(entries) if entries
                     else hint("Nothing highlighted yet.")], id=list_id, className="facts")


def _text(value) -> str | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v).replace("_", " ") for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def node_facts(kind: str, props: Mapping[str, Any], network: Mapping[str, Any],
               contacts: bool) -> list[tuple[str, Any]]:
    """The (label, value) pairs the details panel shows for one node: its public properties,
    contact details only when ``contacts`` (and never a person's), then its neighbours in
    ``network`` grouped by relationship."""
    facts: list[tuple[str, Any]] = [("Kind", KIND_NAMES.get(kind, kind))]
    for key, label in _FACTS.get(kind, []):
        if key == "cost":
            text = "free" if props.get("free") in (True, "yes") else _text(props.get("cost"))
        else:
            text = _text(props.get(key))
        if text:
            facts.append((label, text))
    if kind == "Activity" and (props.get("age_min") is not None or props.get("age_max") is not None):
        low, high = props.get("age_min"), props.get("age_max")
        facts.append(("Ages", f"{low if low is not None else 0}–{high if high is not None else 'any'}"))
    if contacts and kind != "Person" and allowed(Role.LINK_WORKER):  # never for viewers
        for key, label in _CONTACTS:
            text = _text(props.get(key))
            if not text:
                continue
            href = web_link(text) if key == "website" else None
            facts.append((label, html.A(text, href=href, target="_blank", rel="noopener noreferrer")
                          if href else text))
    names = {n["id"]: n["name"] for n in network.get("nodes", [])}
    node_id = props.get("id")
    groups: dict[str, list[str]] = {}
    for source, rel, target in network.get("edges", []):
        words = _REL_WORDS.get(rel, (rel.replace("_", " ").capitalize(),) * 2)
        if source == node_id and target in names:
            groups.setdefault(words[0], []).append(names[target])
        elif target == node_id and source in names:
            groups.setdefault(words[1], []).append(names[source])
    for label, found in groups.items():
        shown = sorted(set(found))
        more = len(shown) - SHOWN_NEIGHBOURS
        text = ", ".join(shown[:SHOWN_NEIGHBOURS]) + (f" and {more} more" if more > 0 else "")
        facts.append((f"{label} (on this graph)", text))
    return facts


def _details(store, network: Mapping[str, Any] | None, node_id: str, contacts: bool):
    if not network or not any(n["id"] == node_id for n in network.get("nodes", [])):
        return None
    found = store.get_node(node_id)
    if found is None:
        return None
    kind, props = found
    kind_name = getattr(kind, "value", kind)
    facts = node_facts(kind_name, {**props, "id": node_id}, network, contacts)
    if kind_name in ("Activity", "Service"):  # its needs and places, with their evidence
        at = next((i for i, (label, _v) in enumerate(facts)
                   if str(label).endswith("(on this graph)")), len(facts))
        facts[at:at] = evidence_facts(store, node_id)
    return props, kind_name, facts


def _picked(tapped) -> str | None:
    """The node id the browser says was picked (a tap on the graph or a node's button)."""
    trigger = ctx.triggered_id
    if isinstance(trigger, dict) and trigger.get("type") == NODE_PICK:
        clicked = ctx.triggered[0].get("value") if ctx.triggered else None
        node = trigger.get("node")
        return node if clicked and isinstance(node, str) else None
    if isinstance(tapped, dict) and isinstance(tapped.get("id"), str):
        return tapped["id"]
    return None


def node_details_callback(graph_id: str, panel_id: str,
                          network: Callable[..., Mapping[str, Any] | None],
                          states: Sequence[State] = (), contacts: bool = False) -> None:
    """Register, once per page at import, the callback that fills ``panel_id`` with the details
    of the node picked on ``graph_id`` (a click or tap) or by a :func:`node_button`."""

    @callback(
        Output(panel_id, "children"),
        Input(graph_id, "tapNodeData"),
        Input({"type": NODE_PICK, "graph": graph_id, "node": ALL}, "n_clicks"),
        *states,
        prevent_initial_call=True,
    )
    def show_node(tapped, _clicks, *values):
        node_id = _picked(tapped)
        if node_id is None:
            return no_update
        store = get_store()
        found = store.consistent(lambda: _details(store, network(store, *values), node_id,
                                                  contacts))
        if found is None:
            return hint("That node is not on this graph any more: pick another.")
        props, kind, facts = found
        colour, shape, _label = KIND_STYLE.get(kind, ("#999999", "ellipse", kind))
        parts: list = [html.H3([html.Img(src=shape_data_uri(shape, colour), alt="",
                                         className="legend-shape", width=18, height=18),
                                props.get("name", node_id)])]
        if props.get("description"):
            parts.append(html.P(props["description"]))
        rows: list = []
        for label, value in facts:
            rows += [html.Dt(label), html.Dd(value)]
        parts.append(html.Dl(rows))
        return html.Div(parts, **_attrs({"data-node": node_id}))
