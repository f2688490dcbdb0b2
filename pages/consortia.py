"""Consortia page, for commissioners: who could respond together to an opportunity?

Pick needs and localities (and filters); see which organisations cover each cell, two or
three suggested consortia side by side with their reasons, and the chosen one on a graph.
"""

from __future__ import annotations

import dash
import dash_cytoscape as cyto
from dash import Input, Output, State, callback, dash_table, dcc, html, no_update

from pathways.analysis.consortia import Opportunity, consortia, consortium_network
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
        needs = [{"label": n["name"], "value": n["id"]} for n in store.list_nodes(NodeKind.NEED)]
        places = [{"label": n["name"], "value": n["id"]} for n in store.list_nodes(NodeKind.LOCALITY)]
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
        dcc.Store(id="co-report"),
    ])


@callback(
    Output("co-report", "data"),
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
    if not needs or not places:
        return None, [], [], [], 0, html.P("Pick at least one need and one locality.", className="hint")
    if not isinstance(size, int) or not 1 <= size <= 20:
        return (no_update,) * 5 + (html.Div("Most members must be a whole number from 1 to 20.",
                                            className="alert", role="alert"),)
    opp = Opportunity(tuple(needs), tuple(places), "free" in (free or []), tuple(access or ()))
    try:
        report = consortia(get_store(), opp, max_size=size)
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
    return report, cells, cards or html.P("No organisation covers any cell."), options, 0, summary


@callback(Output("co-graph", "elements"), Input("co-report", "data"), Input("co-choice", "value"))
def draw(report, index):
    if not report or not report["suggestions"]:
        return []
    index = index if isinstance(index, int) and index < len(report["suggestions"]) else 0
    network = consortium_network(get_store(), report, index)
    elements, _trimmed = network_elements(network, set(network["members"]) | set(network["uncovered"]))
    return elements


@callback(
    Output("co-download", "data"),
    Input("co-csv-button", "n_clicks"),
    Input("co-print-button", "n_clicks"),
    State("co-report", "data"),
    State("co-choice", "value"),
    prevent_initial_call=True,
)
def download(_csv, _print, report, index):
    if not report or not report["suggestions"]:
        return no_update
    if dash.ctx.triggered_id == "co-print-button":
        index = index if isinstance(index, int) and index < len(report["suggestions"]) else 0
        return {"content": as_html_summary(report, index), "filename": f"consortium-{index + 1}.html",
                "type": "text/html"}
    return {"content": "\ufeff" + as_csv(report), "filename": "consortia.csv", "type": "text/csv"}
