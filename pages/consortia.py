"""Consortia page, for commissioners: who could respond together to an opportunity?

Pick needs and localities (and filters); see which organisations cover each cell, two or
three suggested consortia side by side with their reasons, and the chosen one on a graph.
"""

from __future__ import annotations

import dash
import dash_cytoscape as cyto
from dash import Input, Output, State, callback, dash_table, dcc, html, no_update

from pathways.analysis.consortia import Opportunity, consortia, consortium_network
from pathways.analysis.snapshot import cached_analysis
from pathways.consortia_report import as_csv, as_html_summary
from pathways.errors import PathwaysError
from pathways.model import COMMON_ACCESS_TAGS, NodeKind
from pathways.views import network_elements, stylesheet
from pathways.webstore import get_store

dash.register_page(__name__, path="/consortia", name="Consortia",
                   title="Consortia · Thriving Pathways", order=2)


def _field(label, control, control_id):
    return html.Div([html.Label(label, htmlFor=control_id), control], className="field")


def layout(**_query):
    store = get_store()
    try:
        needs, places = store.consistent(lambda: (
            [{"label": n["name"], "value": n["id"]} for n in store.list_nodes(NodeKind.NEED)],
            [{"label": n["name"], "value": n["id"]} for n in store.list_nodes(NodeKind.LOCALITY)]))
    except PathwaysError as exc:
        return html.Div(f"The graph cannot be read: {exc}", className="alert", role="alert")
    if not needs or not places:
        return html.Div("Load needs and localities first (`pathways demo`).", className="alert",
                        role="alert")
    access = [{"label": t.replace("_", " "), "value": t} for t in COMMON_ACCESS_TAGS]
    return html.Div([
        html.H1("Consortia for a commissioning opportunity"),
        html.P("Which organisations could deliver together, where their offers overlap, and what "
               "nobody covers yet.", className="lede"),
        html.Form([
            _field("Needs", dcc.Dropdown(needs, [needs[0]["value"]], id="co-needs", multi=True), "co-needs"),
            _field("Localities", dcc.Dropdown(places, [p["value"] for p in places[:2]], id="co-places",
                                              multi=True), "co-places"),
            _field("Access needs (all of)", dcc.Dropdown(access, [], id="co-access", multi=True,
                                                         placeholder="None"), "co-access"),
            html.Div(dcc.Checklist([{"label": " Free activities only", "value": "free"}], [],
                                   id="co-free"), className="field"),
            _field("Most members", dcc.Input(id="co-size", type="number", min=1, max=20, step=1,
                                             value=4), "co-size"),
        ], className="controls", **{"aria-label": "Opportunity"}),
        html.Div(id="co-message", **{"aria-live": "polite"}),
        html.Section([
            html.H2("Who covers each cell"),
            dash_table.DataTable(
                id="co-cells", columns=[{"name": "Need", "id": "need"},
                                        {"name": "Locality", "id": "locality"},
                                        {"name": "Organisations", "id": "organisations"}],
                data=[], style_cell={"textAlign": "left", "whiteSpace": "normal", "height": "auto"},
                style_data_conditional=[{"if": {"filter_query": "{count} = 0"},
                                         "backgroundColor": "#fdecea"}]),
        ], className="results"),
        html.Section([
            html.H2("Suggested consortia"),
            html.Div(id="co-suggestions", className="cards"),
            html.Div([
                html.Label("Show on the graph", htmlFor="co-choice"),
                dcc.RadioItems(id="co-choice", options=[], value=0, inline=True),
                html.Button("Download suggestions (CSV)", id="co-csv-button", className="button",
                            type="button"),
                html.Button("Printable summary", id="co-print-button", className="button",
                            type="button"),
                dcc.Download(id="co-download"),
            ], className="field"),
        ], className="results"),
        html.Section([
            html.H2("The chosen consortium"),
            html.P("Members are outlined; needs and localities of cells it leaves uncovered are "
                   "outlined too.", className="hint"),
            cyto.Cytoscape(id="co-graph", elements=[], stylesheet=stylesheet(),
                           layout={"name": "cose", "animate": False, "randomize": False},
                           style={"width": "100%", "height": "560px"}, minZoom=0.2, maxZoom=3),
        ], className="network"),
        dcc.Store(id="co-query"),
    ])


def _ids(value) -> list[str]:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(dict.fromkeys(value))
    return []


def _report(store, query: dict) -> dict:
    """The consortium report for a query, recomputed on the server (cached per data version:
    the graph and the print and download buttons ask for the same report)."""
    opp = Opportunity(tuple(query["needs"]), tuple(query["places"]), query["free"],
                      tuple(query["access"]))
    return cached_analysis(store, ("consortia page", opp, query["size"]),
                           lambda _graph: consortia(store, opp, max_size=query["size"]))


def _checked(query) -> dict | None:
    """The query the browser holds, checked again: only ids and filters, never results."""
    if not isinstance(query, dict):
        return None
    size = query.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 20:
        return None
    checked = {"needs": _ids(query.get("needs")), "places": _ids(query.get("places")),
               "access": _ids(query.get("access")), "free": query.get("free") is True,
               "size": size}
    return checked if checked["needs"] and checked["places"] else None


def _choice(report: dict, index) -> int:
    ok = isinstance(index, int) and not isinstance(index, bool)
    return index if ok and 0 <= index < len(report["suggestions"]) else 0


@callback(
    Output("co-query", "data"),
    Output("co-cells", "data"),
    Output("co-suggestions", "children"),
    Output("co-choice", "options"),
    Output("co-choice", "value"),
    Output("co-message", "children"),
    Input("co-needs", "value"),
    Input("co-places", "value"),
    Input("co-access", "value"),
    Input("co-free", "value"),
    Input("co-size", "value"),
)
def suggest(needs, places, access, free, size):
    needs, places = _ids(needs), _ids(places)
    if not needs or not places:
        return None, [], [], [], 0, html.P("Pick at least one need and one locality.", className="hint")
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 20:
        return (no_update,) * 5 + (html.Div("Most members must be a whole number from 1 to 20.",
                                            className="alert", role="alert"),)
    query = {"needs": needs, "places": places, "access": _ids(access),
             "free": "free" in _ids(free), "size": size}
    store = get_store()
    try:
        report = store.consistent(lambda: _report(store, query))
    except PathwaysError as exc:
        return None, [], [], [], 0, html.Div(str(exc), className="alert", role="alert")
    names = report["names"]
    cells = [{"need": names[c["need"]], "locality": names[c["locality"]],
              "organisations": ", ".join(o["name"] for o in c["organisations"]) or "nobody covers this",
              "count": len(c["organisations"])} for c in report["cells"]]
    cards = []
    for rank, s in enumerate(report["suggestions"], 1):
        cards.append(html.Article([
            html.H3(f"{rank}. " + ", ".join(m["name"] for m in s["members"])),
            html.Ul([html.Li(r) for r in s["reasons"]]),
            html.P("Uncovered: " + "; ".join(f"{names[n]} in {names[p]}" for n, p in s["uncovered"]))
            if s["uncovered"] else html.P("Covers every cell."),
        ], className="card"))
    options = [{"label": f" Suggestion {i + 1}", "value": i} for i in range(len(report["suggestions"]))]
    summary = html.P(f"{len(report['uncoverable'])} of {len(report['cells'])} cells no organisation "
                     f"covers; {len(report['overlaps'])} cells covered by more than one.",
                     className="summary")
    return query, cells, cards or html.P("No organisation covers any cell."), options, 0, summary


@callback(Output("co-graph", "elements"), Input("co-query", "data"), Input("co-choice", "value"))
def draw(query, index):
    query = _checked(query)
    if query is None:
        return []
    store = get_store()

    def read():
        report = _report(store, query)
        if not report["suggestions"]:
            return None
        return consortium_network(store, report, _choice(report, index))

    try:
        network = store.consistent(read)
    except PathwaysError:
        return []  # suggest shows the message
    if network is None:
        return []
    elements, _trimmed = network_elements(network, set(network["members"]) | set(network["uncovered"]))
    return elements


@callback(
    Output("co-download", "data"),
    Input("co-csv-button", "n_clicks"),
    Input("co-print-button", "n_clicks"),
    State("co-query", "data"),
    State("co-choice", "value"),
    prevent_initial_call=True,
)
def download(_csv, _print, query, index):
    query = _checked(query)
    if query is None:
        return no_update
    store = get_store()
    try:
        report = store.consistent(lambda: _report(store, query))
    except PathwaysError:
        return no_update
    if not report["suggestions"]:
        return no_update
    if dash.ctx.triggered_id == "co-print-button":
        index = _choice(report, index)
        return {"content": as_html_summary(report, index), "filename": f"consortium-{index + 1}.html",
                "type": "text/html"}
    return {"content": "\ufeff" + as_csv(report), "filename": "consortia.csv", "type": "text/csv"}
