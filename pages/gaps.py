"""Gaps page, for partnership leads: where does the network leave people without an option?

A heatmap of needs × localities (reachable / existing activities), the ranked lists of the
gap report, and the referral network with the selected gap highlighted.  Everything a mouse
can do here, a keyboard can too: each heatmap cell with a gap is also a row in a table.
"""

from __future__ import annotations

import datetime as dt

import dash
import dash_cytoscape as cyto
import plotly.graph_objects as go
from dash import Input, Output, State, callback, ctx, dash_table, dcc, html, no_update

from pathways.analysis.gaps import GAP_KINDS, GapQuery, cell_routes, gap_report, referral_network
from pathways.errors import PathwaysError
from pathways.gap_report import LEAD_NOTES, as_html, coverage_grid
from pathways.model import DEFAULT_MAX_HOPS, MAX_MAX_HOPS
from pathways.views import network_elements, plotly_text, stylesheet
from pathways.webstore import get_store

dash.register_page(__name__, path="/gaps", name="Gaps", title="Gaps · Thriving Pathways", order=1)

# Heatmap categories: 0 nothing provided, 1 provided but not reached, 2 under half, 3 half+.
_COLOURS = ["#d55e00", "#e69f00", "#cfe8f3", "#7fbfdf"]
_CATEGORY_TEXT = ["nothing provided", "provided, no one refers to it", "under half reachable",
                  "half or more reachable"]
TABLE_STYLE = dict(style_cell={"textAlign": "left", "whiteSpace": "normal", "height": "auto",
                               "fontSize": "14px"},
                   style_header={"fontWeight": "bold"}, page_size=10)


def _table(table_id: str, columns: list[tuple[str, str]], selectable: bool = True):
    return dash_table.DataTable(
        id=table_id, columns=[{"name": t, "id": k} for k, t in columns], data=[],
        row_selectable="single" if selectable else False, sort_action="native", **TABLE_STYLE,
    )


def _section(title: str, note_key: str | None, table) -> html.Section:
    parts = [html.H2(title)]
    if note_key:
        parts.append(html.P(LEAD_NOTES[note_key], className="hint"))
    parts.append(table)
    return html.Section(parts, className="results")


def layout(**_query):
    return html.Div([
        html.H1("Gaps in the network"),
        html.P("Where people have no option: needs or places with no provision, provision no one "
               "refers to, and organisations many routes depend on.", className="lede"),
        html.Div([
            html.Div([html.Label("Longest route (hops)", htmlFor="gp-hops"),
                      dcc.Input(id="gp-hops", type="number", min=1, max=MAX_MAX_HOPS, step=1,
                                value=DEFAULT_MAX_HOPS)], className="field"),
            html.Div([html.Button("Download report (HTML)", id="gp-download-button",
                                  className="button", type="button"),
                      dcc.Download(id="gp-download")], className="field"),
        ], className="controls"),
        html.Div(id="gp-message", **{"aria-live": "polite"}),
        html.Div([
            html.Section([
                html.H2("Coverage: reachable / existing activities"),
                html.P(LEAD_NOTES["coverage"], className="hint"),
                dcc.Graph(id="gp-heatmap", config={"displayModeBar": False}),
                html.Ul([html.Li([html.Span(className="swatch", style={"backgroundColor": c}), t],
                                 className="legend-item")
                         for c, t in zip(_COLOURS, _CATEGORY_TEXT)],
                        className="legend", **{"aria-label": "Heatmap colours"}),
                html.H3("Cells with nothing reachable"),
                _table("gp-coverage", [("need", "Need"), ("locality", "Locality"),
                                       ("existing", "Existing"), ("reachable", "Reachable")]),
                html.Div(id="gp-cell", **{"aria-live": "polite"}),
            ], className="results"),
            html.Section([
                html.H2("Referral network"),
                html.P(id="gp-highlight-label", className="summary"),
                cyto.Cytoscape(id="gp-graph", elements=[], stylesheet=stylesheet(),
                               layout={"name": "cose", "animate": False, "randomize": False},
                               style={"width": "100%", "height": "620px"}, minZoom=0.2, maxZoom=3),
            ], className="network", **{"aria-label": "Network diagram; the tables hold the same facts"}),
        ], className="two-columns"),
        html.Div([
            _section("Single points of failure", "single_points_of_failure",
                     _table("gp-spof", [("name", "Name"), ("kind", "Kind"),
                                        ("pairs_lost", "Pairs lost"), ("articulation", "Articulation point")])),
            _section("Unreached activities", "unreached",
                     _table("gp-unreached", [("name", "Activity"), ("provider", "Provider"),
                                             ("needs_hops", "Needs hops")])),
            _section("Link workers by needs covered", "thin_options",
                     _table("gp-thin", [("name", "Link worker"), ("activities", "Activities"),
                                        ("needs_covered", "Needs covered"), ("thin", "Thin")])),
            _section("Localities with one link worker or one provider", None,
                     _table("gp-places", [("name", "Locality"), ("link_workers", "Link workers"),
                                          ("providers", "Providers")])),
            _section("Data gaps by organisation", "data_gaps",
                     _table("gp-data", [("name", "Organisation")]
                            + [(k, k.replace("_", " ").capitalize()) for k in GAP_KINDS])),
        ], className="two-columns"),
        dcc.Store(id="gp-highlight"),
    ])


def _heatmap(report: dict) -> go.Figure:
    # Names come from partners' data; Plotly reads HTML in labels and hover text, so every
    # name goes through plotly_text (a locality called '<a href=...>' stays text).
    names = {k: plotly_text(v) for k, v in report["names"].items()}
    needs, places, cells = coverage_grid(report)
    category, text, custom = [], [], []
    for need in needs:
        row_c, row_t, row_d = [], [], []
        for place in places:
            c = cells[(need, place)]
            if c["existing"] == 0:
                level = 0
            elif c["reachable"] == 0:
                level = 1
            else:
                level = 2 if c["reachable"] / c["existing"] < 0.5 else 3
            row_c.append(level)
            row_t.append(f"{c['reachable']} / {c['existing']}")
            row_d.append([need, place, _CATEGORY_TEXT[level]])
        category.append(row_c)
        text.append(row_t)
        custom.append(row_d)
    scale = []
    for i, colour in enumerate(_COLOURS):
        scale += [[i / 4, colour], [(i + 1) / 4, colour]]
    figure = go.Figure(go.Heatmap(
        z=category, x=[names[p] for p in places], y=[names[n] for n in needs], text=text,
        texttemplate="%{text}", customdata=custom, zmin=-0.5, zmax=3.5, colorscale=scale,
        showscale=False, xgap=2, ygap=2,
        hovertemplate="%{y} in %{x}: %{text} (%{customdata[2]})<extra></extra>",
    ))
    figure.update_layout(margin=dict(l=10, r=10, t=10, b=10), height=80 + 44 * len(needs),
                         yaxis=dict(autorange="reversed"), plot_bgcolor="#fff")
    return figure


def _hops(hops) -> int:
    ok = isinstance(hops, int) and not isinstance(hops, bool) and 1 <= hops <= MAX_MAX_HOPS
    return hops if ok else DEFAULT_MAX_HOPS


def _report(store, hops: int) -> dict:
    return store.consistent(lambda: gap_report(store, GapQuery(max_hops=hops)))


@callback(
    Output("gp-heatmap", "figure"),
    Output("gp-coverage", "data"),
    Output("gp-spof", "data"),
    Output("gp-unreached", "data"),
    Output("gp-thin", "data"),
    Output("gp-places", "data"),
    Output("gp-data", "data"),
    Output("gp-message", "children"),
    Input("gp-hops", "value"),
)
def compute(hops):
    if isinstance(hops, bool) or not isinstance(hops, int) or not 1 <= hops <= MAX_MAX_HOPS:
        message = html.Div(f"Longest route must be a whole number from 1 to {MAX_MAX_HOPS}.",
                           className="alert", role="alert")
        return (no_update,) * 7 + (message,)
    try:
        report = _report(get_store(), hops)
    except PathwaysError as exc:
        return (go.Figure(), [], [], [], [], [], [],
                html.Div(f"The graph cannot be read: {exc}", className="alert", role="alert"))
    names = report["names"]
    coverage = [{"id": _cell_id(c), "need": names[c["need"]],
                 "locality": names[c["locality"]], "existing": c["existing"],
                 "reachable": c["reachable"]} for c in report["coverage"] if c["reachable"] == 0]
    spof = [dict(r, articulation="yes" if r["articulation_point"] else "no")
            for r in report["single_points_of_failure"]]
    unreached = [dict(r, needs_hops=r["needs_hops"] if r["needs_hops"] is not None else "no route")
                 for r in report["unreached"]]
    thin = [dict(r, thin="yes" if r["thin"] else "", needs_covered=f"{r['needs_covered']}/{r['needs_total']}",
                 needs=", ".join(r["needs"])) for r in report["thin_options"]["link_workers"]]
    places = [{k: v for k, v in r.items() if not k.endswith("_ids")}
              for r in report["thin_options"]["localities"]]
    data = [{k: v for k, v in r.items() if k != "items"} for r in report["data_gaps"]]
    summary = html.P(
        f"{len(coverage)} need × locality cells with nothing reachable; {len(unreached)} unreached "
        f"activities; {len(spof)} organisations or services whose loss would cut routes.",
        className="summary")
    return _heatmap(report), coverage, spof, unreached, thin, places, data, summary


def _cell_id(cell: dict) -> str:
    return f"{cell['need']}|{cell['locality']}"


# Each table: its rows in the report, and which nodes a selected row highlights.
_TABLES = {
    "gp-spof": (lambda r: r["single_points_of_failure"], lambda row: [row["id"]]),
    "gp-unreached": (lambda r: r["unreached"], lambda row: [row["id"]]),
    "gp-thin": (lambda r: r["thin_options"]["link_workers"], lambda row: [row["id"]]),
    "gp-places": (lambda r: r["thin_options"]["localities"],
                  lambda row: row["link_worker_ids"] + row["provider_ids"]),
    "gp-data": (lambda r: r["data_gaps"], lambda row: [row["id"]] + [i["id"] for i in row["items"]]),
}


def _highlight(store, selection, hops: int) -> dict | None:
    """What a selection highlights, looked up in the server's own report: ``{"ids", "label"}``
    (plus ``rows`` for a coverage cell), or None when the selection names nothing in it.

    The browser only says which cell or row it picked (``{"cell": [need, locality]}`` or
    ``{"table": ..., "id": ...}``); ids, names and routes all come from the server."""
    if not isinstance(selection, dict):
        return None
    report = gap_report(store, GapQuery(max_hops=hops))
    names = report["names"]
    cell = selection.get("cell")
    if cell is not None:
        if not (isinstance(cell, list) and len(cell) == 2 and all(isinstance(c, str) for c in cell)):
            return None
        need, place = cell
        if not any(c["need"] == need and c["locality"] == place for c in report["coverage"]):
            return None
        rows = cell_routes(store, need, place, hops)
        return {"ids": sorted({i for r in rows for i in (r["route"] or [r["id"]])}),
                "label": f"{names[need]} in {names[place]}: {len(rows)} activities", "rows": rows}
    table, row_id = selection.get("table"), selection.get("id")
    if table not in _TABLES or not isinstance(row_id, str):
        return None
    rows_of, members = _TABLES[table]
    row = next((r for r in rows_of(report) if r["id"] == row_id), None)
    if row is None:
        return None
    return {"ids": members(row), "label": f"Highlighted: {row['name']}"}


def _first(selected_ids) -> str | None:
    if isinstance(selected_ids, list) and selected_ids and isinstance(selected_ids[0], str):
        return selected_ids[0]
    return None


@callback(
    Output("gp-highlight", "data"),
    Output("gp-cell", "children"),
    Input("gp-heatmap", "clickData"),
    Input("gp-coverage", "selected_row_ids"),
    Input("gp-spof", "selected_row_ids"),
    Input("gp-unreached", "selected_row_ids"),
    Input("gp-thin", "selected_row_ids"),
    Input("gp-places", "selected_row_ids"),
    Input("gp-data", "selected_row_ids"),
    State("gp-hops", "value"),
    prevent_initial_call=True,
)
def choose_highlight(click, s_cov, s_spof, s_unr, s_thin, s_places, s_data, hops):
    """Remember which cell or row was picked (ids only); the details come from the server."""
    trigger = ctx.triggered_id
    if trigger == "gp-heatmap":
        try:
            need, place = click["points"][0]["customdata"][:2]
        except (TypeError, KeyError, IndexError, ValueError):
            return no_update, no_update
        selection = {"cell": [need, place]}
    elif trigger == "gp-coverage":
        picked = _first(s_cov)
        if picked is None:
            return None, no_update
        store = get_store()
        try:
            report = _report(store, _hops(hops))
        except PathwaysError as exc:
            return None, html.Div(str(exc), className="alert", role="alert")
        cell = next((c for c in report["coverage"] if _cell_id(c) == picked), None)
        if cell is None:
            return None, no_update
        selection = {"cell": [cell["need"], cell["locality"]]}
    elif trigger in _TABLES:
        picked = _first({"gp-spof": s_spof, "gp-unreached": s_unr, "gp-thin": s_thin,
                         "gp-places": s_places, "gp-data": s_data}[trigger])
        return ({"table": trigger, "id": picked} if picked is not None else None), no_update
    else:
        return no_update, no_update
    store = get_store()
    try:
        found = store.consistent(lambda: _highlight(store, selection, _hops(hops)))
    except PathwaysError as exc:
        return None, html.Div(str(exc), className="alert", role="alert")
    if found is None:
        return None, html.P("That cell is not in the report.", className="hint")
    rows = found["rows"]
    details = html.Div([
        html.H3(found["label"]),
        html.P("No activity addresses this need here." if not rows else
               "Each activity with the shortest route from a link worker covering the locality:"),
        html.Ul([html.Li(f"{r['name']} ({r['provider']}): {r['route_names']}") for r in rows]),
    ])
    return selection, details


@callback(
    Output("gp-graph", "elements"),
    Output("gp-highlight-label", "children"),
    Input("gp-highlight", "data"),
    Input("gp-hops", "value"),
)
def draw(selection, hops):
    store = get_store()
    try:
        network, found = store.consistent(
            lambda: (referral_network(store), _highlight(store, selection, _hops(hops))))
    except PathwaysError:
        return [], ""
    found = found or {}
    elements, trimmed = network_elements(network, set(found.get("ids", [])))
    label = found.get("label", "Select a cell or a row to highlight it here.")
    if trimmed:
        label += " (large network: only the highlighted part is drawn)"
    return elements, label


@callback(
    Output("gp-download", "data"),
    Input("gp-download-button", "n_clicks"),
    State("gp-hops", "value"),
    prevent_initial_call=True,
)
def download(_clicks, hops):
    try:
        report = _report(get_store(), _hops(hops))
    except PathwaysError:
        return no_update  # compute already shows why
    return {"content": as_html(report), "filename": f"gap-report-{dt.date.today()}.html",
            "type": "text/html"}
