"""Gaps page, for partnership leads: where does the network leave people without an option?

A heatmap of needs × localities (reachable / existing activities), the ranked lists of the
gap report, and the referral network with the selected gap highlighted.  Everything a mouse
can do here, a keyboard can too: each heatmap cell with a gap is also a row in a table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import dash
import plotly.graph_objects as go
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from pages._commission import commission_part
from pages._components import (
    HOPS_PROBLEM,
    PAGE_ALERT,
    alert,
    aria,
    button,
    drawn,
    error_text,
    guarded,
    hint,
    hops_input,
    hops_or_none,
    html_download,
    is_empty,
    no_data,
    note_only,
    page_alert,
    selected_id,
    table,
)
from pages._network import (
    KIND_NAMES,
    legend,
    network_body,
    node_details_callback,
    node_facts_list,
    png_button,
)
from pages._state import QueryReader, state_id, state_update, url_state
from pages._update_request import request_download
from pages._whatif import SIMULATION, simulation_edges
from pages._whatif import panel as whatif_panel
from pages._whatif import register_views as register_whatif_views
from pages._wire import page_outputs, warm_on_start
from pathways.analysis.commission import red_cells
from pathways.analysis.gaps import (
    GAP_KINDS,
    CoverageCell,
    GapQuery,
    GapReport,
    cell_routes,
    gap_report,
    referral_network,
)
from pathways.analysis.recommend import (
    RecommendQuery,
    protection,
    recommend,
    simulate,
    simulated_cell_routes,
)
from pathways.errors import PathwaysError
from pathways.model import DEFAULT_MAX_HOPS, MAX_MAX_HOPS
from pathways.reports.network_views import (
    network_elements,
    plotly_text,
)
from pathways.reports.render_gaps import LEAD_NOTES, NO_CELLS, as_html, coverage_grid
from pathways.webstore import get_store

# The graph runs this layout (via drawn()) whenever the set of elements changes.
LAYOUT = {"name": "cose", "animate": False, "randomize": False}

PATH = "/gaps"
dash.register_page(__name__, path=PATH, name="Gaps", title="Gaps · Thriving Pathways", order=1)

# Heatmap categories: 0 nothing provided, 1 provided but not reached, 2 under half, 3 half+.
# Black text on each of these is at least 5.4:1 (WCAG AA for small text).
_COLOURS = ["#d55e00", "#e69f00", "#cfe8f3", "#7fbfdf"]
_CATEGORY_TEXT = ["nothing provided", "provided, no one refers to it", "under half reachable",
                  "half or more reachable"]

# Plotly loads a trace type's validators on its first figure (about 0.2 s); pay that when the
# app starts, not on the first visitor's heatmap.
go.Figure(go.Heatmap(z=[[0]])).to_plotly_json()


def _section(title: str, note_key: str | None, grid) -> html.Section:
    parts: list = [html.H2(title)]
    if note_key:
        parts.append(html.P(LEAD_NOTES[note_key], className="hint"))
    parts.append(grid)
    return html.Section(parts, className="results")


def layout(**query):
    """The page with the filters in its address (``?hops=3``); bad values are noted, not used."""
    return guarded(lambda: _layout(query))


def _layout(query: dict):
    read = QueryReader(query, ("hops",))
    hops = read.number("hops", 1, MAX_MAX_HOPS, DEFAULT_MAX_HOPS, "Longest route")
    title = [html.H1("Gaps in the network"), page_alert(), read.notes(),
             url_state(PATH, {"hops": hops}, query)]
    if is_empty(get_store()):
        return html.Div(title + [no_data()])
    return html.Div(title + [
        html.P("Where people have no option: needs or places with no provision, provision no one "
               "refers to, and organisations many routes depend on.", className="lede"),
        html.Div([
            hops_input("gp-hops", hops),
            html.Div([button("Download report (HTML)", "gp-download-button"),
                      dcc.Download(id="gp-download")], className="field"),
        ], className="controls"),
        html.Div(id="gp-message", **aria({"aria-live": "polite"})),
        html.Div([
            html.Section([
                html.H2("Coverage: reachable / existing activities"),
                html.P(LEAD_NOTES["coverage"], className="hint"),
                html.Div([
                    hint("Click a cell to list its activities; the table below has every cell "
                         "too (select a row with Space or Enter)."),
                    dcc.Graph(id="gp-heatmap", config={"displayModeBar": False,
                                                       "responsive": True}),
                    html.Ul([html.Li([html.Span(className="swatch", style={"backgroundColor": c}),
                                      t], className="legend-item")
                             for c, t in zip(_COLOURS, _CATEGORY_TEXT, strict=True)],
                            className="legend", **aria({"aria-label": "Heatmap colours"})),
                html.P(dcc.Link("See each need's gaps on the map", href="/map")),
                ], className="heatmap-wide"),
                html.H3("Every need × locality cell, nothing reachable first"),
                table("gp-coverage", [("need", "Need"), ("locality", "Locality"),
                                      ("reachable", "Reachable"), ("existing", "Existing"),
                                      ("status", "Status")], "Coverage cells"),
                html.Div(id="gp-cell", className="details", **aria({"aria-live": "polite"})),
            ], className="results"),
            html.Section([
                html.H2("Referral network"),
                html.P(id="gp-highlight-label", className="summary"),
                legend(),
                network_body("gp-graph", LAYOUT, "gp-node"),
                html.Div(png_button("gp-graph", "gaps-network"), className="button-row"),
                html.Div(id="gp-highlight-nodes"),
            ], className="network", **aria({"aria-label": "Referral network (the highlighted part is "
                                                     "also listed as text)"})),
        ], className="two-columns"),
        whatif_panel(),
        html.Div([
            _section("Single points of failure", "single_points_of_failure",
                     table("gp-spof", [("name", "Name"), ("kind", "Kind"),
                                       ("pairs_lost", "Pairs lost"),
                                       ("articulation", "Articulation point")],
                           "Single points of failure")),
            _section("Unreached activities", "unreached",
                     table("gp-unreached", [("name", "Activity"), ("provider", "Provider"),
                                            ("needs_hops", "Needs hops")], "Unreached activities")),
            _section("Link workers by needs covered", "thin_options",
                     table("gp-thin", [("name", "Link worker"), ("activities", "Activities"),
                                       ("needs_covered", "Needs covered"), ("thin", "Thin")],
                           "Link workers by needs covered")),
            _section("Localities with one link worker or one provider", None,
                     table("gp-places", [("name", "Locality"), ("link_workers", "Link workers"),
                                         ("providers", "Providers")],
                           "Localities with one link worker or one provider")),
            _section("Data gaps by organisation", "data_gaps",
                     html.Div([table("gp-data", [("name", "Organisation")]
                                     + [(k, k.replace("_", " ").capitalize()) for k in GAP_KINDS],
                                     "Data gaps by organisation"),
                               request_download()])),
        ], className="two-columns"),
        dcc.Store(id="gp-highlight"),
    ])


def _axis_labels(ids: list[str], names: dict) -> list[str]:
    """Heatmap axis labels: the names as text (Plotly reads HTML in labels, so a locality
    called '<a href=...>' goes through plotly_text), made unique with the id where two share
    a name, so a clicked label leads back to one id."""
    seen: dict[str, int] = {}
    for i in ids:
        seen[names[i]] = seen.get(names[i], 0) + 1
    return [plotly_text(names[i] if seen[names[i]] == 1 else f"{names[i]} ({i})") for i in ids]


def _level(cell: CoverageCell) -> int:
    if cell["existing"] == 0:
        return 0
    if cell["reachable"] == 0:
        return 1
    return 2 if cell["reachable"] / cell["existing"] < 0.5 else 3


def _heatmap(report: GapReport) -> go.Figure:
    needs, places, cells = coverage_grid(report)
    if not cells:  # an empty heatmap draws bare numbered axes, which read as data
        return note_only(go.Figure(), "No need × locality cells to show", height=90,
                         margin={"l": 10, "r": 10, "t": 10, "b": 10}, plot_bgcolor="#fff")
    category, text, hover = [], [], []
    for need in needs:
        levels = [_level(cells[(need, place)]) for place in places]
        category.append(levels)
        text.append([f"{cells[(need, p)]['reachable']} / {cells[(need, p)]['existing']}"
                     for p in places])
        hover.append([_CATEGORY_TEXT[level] for level in levels])
    scale = []
    for i, colour in enumerate(_COLOURS):
        scale += [[i / 4, colour], [(i + 1) / 4, colour]]
    figure = go.Figure(go.Heatmap(
        z=category, x=_axis_labels(places, report["names"]),
        y=_axis_labels(needs, report["names"]), text=text, customdata=hover,
        texttemplate="%{text}", textfont={"color": "#000000", "size": 14}, zmin=-0.5, zmax=3.5,
        colorscale=scale, showscale=False, xgap=2, ygap=2,
        hovertemplate="%{y} in %{x}: %{text} (%{customdata})<extra></extra>",
    ))
    figure.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10}, height=80 + 44 * len(needs),
                         yaxis={"autorange": "reversed"}, plot_bgcolor="#fff",
                         font={"size": 13, "color": "#1b1b1b"})
    return figure


def _clicked_cell(report: GapReport, click) -> tuple[str, str] | None:
    """The (need, locality) ids of a clicked heatmap cell, found from the clicked labels in
    the server's own report (the browser sends labels, never ids), or None."""
    try:
        point = click["points"][0]
        x, y = point["x"], point["y"]
    except (TypeError, KeyError, IndexError):
        return None
    needs, places, _cells = coverage_grid(report)
    by_x = dict(zip(_axis_labels(places, report["names"]), places, strict=True))
    by_y = dict(zip(_axis_labels(needs, report["names"]), needs, strict=True))
    if not isinstance(x, str) or not isinstance(y, str) or x not in by_x or y not in by_y:
        return None
    return by_y[y], by_x[x]


def _hops(hops) -> int:
    return hops_or_none(hops) or DEFAULT_MAX_HOPS


def _report(store, hops: int) -> GapReport:
    return store.consistent(lambda: gap_report(store, GapQuery(max_hops=hops)))


@callback(
    Output("gp-heatmap", "figure"),
    Output("gp-coverage", "rowData"),
    Output("gp-spof", "rowData"),
    Output("gp-unreached", "rowData"),
    Output("gp-thin", "rowData"),
    Output("gp-places", "rowData"),
    Output("gp-data", "rowData"),
    Output("gp-message", "children"),
    Output(PAGE_ALERT, "children", allow_duplicate=True),
    Output(state_id(PATH), "data"),
    Input("gp-hops", "value"),
    prevent_initial_call="initial_duplicate",
)
def compute(hops):
    if hops_or_none(hops) is None:
        return (no_update,) * 7 + (alert(HOPS_PROBLEM), None, no_update)
    return (*_page(get_store(), hops), None, state_update(PATH, {"hops": hops}))


@warm_on_start
def _page(store, hops: int = DEFAULT_MAX_HOPS) -> tuple:
    """:func:`_outputs` built once per data version and hop limit (and day: review ages count
    from today), as plain JSON (pages/_wire.py): at 100k nodes the tables hold 38,000 rows,
    and a visit then only encodes them (0.3-0.5 s -> 0.1 s of CPU a request)."""
    return store.consistent(lambda: page_outputs(
        store, ("gaps", GapQuery(max_hops=hops)), lambda: _outputs(_report(store, hops))))


def _outputs(report: GapReport) -> tuple:
    """The heatmap, the six tables and the summary for a report."""
    names = report["names"]
    cells: list[dict[str, Any]] = [
        {"id": _cell_id(c), "need": names[c["need"]], "locality": names[c["locality"]],
         "existing": c["existing"], "reachable": c["reachable"],
         "status": _CATEGORY_TEXT[_level(c)], "level": _level(c)} for c in report["coverage"]]
    coverage = sorted(cells, key=lambda r: (r["reachable"] > 0, r["level"]))
    empty = sum(1 for c in report["coverage"] if c["reachable"] == 0)
    spof = [dict(r, articulation="yes" if r["articulation_point"] else "no")
            for r in report["single_points_of_failure"]]
    unreached = [dict(r, needs_hops=r["needs_hops"] if r["needs_hops"] is not None else "no route")
                 for r in report["unreached"]]
    thin = [dict(r, thin="yes" if r["thin"] else "", needs_covered=f"{r['needs_covered']}/{r['needs_total']}",
                 needs=", ".join(r["needs"])) for r in report["thin_options"]["link_workers"]]
    places = [{k: v for k, v in r.items() if not k.endswith("_ids")}
              for r in report["thin_options"]["localities"]]
    data = [{k: v for k, v in r.items() if k != "items"} for r in report["data_gaps"]]
    rest = (f"{len(unreached)} unreached activities; {len(spof)} organisations or services "
            "whose loss would cut routes.")
    summary = html.P(f"{empty} need × locality cells with nothing reachable; {rest}"
                     if cells else f"{NO_CELLS} {rest}", className="summary")
    return _heatmap(report), coverage, spof, unreached, thin, places, data, summary


def _cell_id(cell: Mapping[str, Any]) -> str:
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
    ``{"table": ..., "id": ...}``) and, during a simulation, what was chosen to simulate
    (``"simulation"``, see pages/_whatif.py); ids, names, routes and the simulated agreements
    all come from the server.  A simulation's cell is described on the simulated network,
    its label starting "Simulated: not saved"."""
    if not isinstance(selection, dict):
        return None
    edges = simulation_edges(store, selection.get("simulation"))
    query = GapQuery(max_hops=hops)
    report = gap_report(store, query) if edges is None else simulate(store, edges, query)
    names = report["names"]
    cell = selection.get("cell")
    if cell is not None:
        if not (isinstance(cell, list) and len(cell) == 2 and all(isinstance(c, str) for c in cell)):
            return None
        need, place = cell
        if not any(c["need"] == need and c["locality"] == place for c in report["coverage"]):
            return None
        if edges is None:
            rows, label = cell_routes(store, need, place, hops), ""
        else:
            rows = simulated_cell_routes(store, edges, need, place, hops)
            label = SIMULATED_LABEL
        return {"ids": sorted({i for r in rows for i in (r["route"] or [r["id"]])}),
                "label": f"{label}{names[need]} in {names[place]}: {_count(len(rows))}",
                "rows": rows, "simulated": edges is not None}
    grid, row_id = selection.get("table"), selection.get("id")
    if grid not in _TABLES or not isinstance(row_id, str):
        return None
    rows_of, members = _TABLES[grid]
    row = next((r for r in rows_of(report) if r["id"] == row_id), None)
    if row is None:
        return None
    return {"ids": members(row), "label": ("" if edges is None else SIMULATED_LABEL)
            + f"Highlighted: {row['name']}"}


SIMULATED_LABEL = "Simulated: not saved. "


def _count(n: int) -> str:
    return f"{n} activity" if n == 1 else f"{n} activities"


_GRIDS = ("gp-coverage", *_TABLES)


@callback(
    Output("gp-highlight", "data"),
    Output("gp-cell", "children"),
    Input("gp-heatmap", "clickData"),
    *(Input(grid, "selectedRows") for grid in _GRIDS),
    Input(SIMULATION, "data"),
    State("gp-highlight", "data"),
    State("gp-hops", "value"),
    prevent_initial_call=True,
)
def choose_highlight(click, *selections_and_state):
    """Remember which cell or row was picked (ids only); the details come from the server.

    During a simulation the pick carries what is simulated, and its details describe the
    simulated network; starting or leaving a simulation redraws the open cell's details."""
    *selections, simulation, current, hops = selections_and_state
    picked = dict(zip(_GRIDS, (selected_id(s) for s in selections), strict=True))
    # A simulation starting or ending comes first when a redrawn table fires at the same time.
    trigger = SIMULATION if f"{SIMULATION}.data" in ctx.triggered_prop_ids else ctx.triggered_id
    store = get_store()
    simulated: dict[str, Any] = {"simulation": simulation} if isinstance(simulation, dict) else {}
    # Each pick remembers every table's selection as it was ("seen"): a table redrawn with new
    # rows (a simulation, or the way back) reports its unchanged selection again, which is not
    # a new pick and must not replace a heatmap cell clicked since.
    # Such a repeat redraws the current pick for the network shown now, like a simulation
    # starting or ending: whichever of the two requests Dash keeps, the details are right.
    seen = current.get("seen") if isinstance(current, dict) else None
    if trigger in _GRIDS and isinstance(seen, dict) and seen.get(trigger) == picked[trigger]:
        trigger = SIMULATION
    simulated["seen"] = picked
    if trigger == SIMULATION:
        cell = current.get("cell") if isinstance(current, dict) else None
        simulated["seen"] = seen
        if cell is None:  # nothing open, or a table row: highlight it on the network shown now
            return ({**{k: v for k, v in current.items() if k != "simulation"}, **simulated}
                    if isinstance(current, dict) else no_update), no_update
        selection: dict[str, Any] = {"cell": cell}
    elif trigger == "gp-heatmap":
        cell = _clicked_cell(_report(store, _hops(hops)), click)
        if cell is None:
            return no_update, hint("That cell is not in the report.")
        selection = {"cell": list(cell)}
    elif trigger == "gp-coverage":
        if picked[trigger] is None:
            return None, no_update
        report = _report(store, _hops(hops))
        row = next((c for c in report["coverage"] if _cell_id(c) == picked[trigger]), None)
        if row is None:
            return None, no_update
        selection = {"cell": [row["need"], row["locality"]]}
    elif trigger in _TABLES:
        row_id = picked[trigger]
        return ({"table": trigger, "id": row_id, **simulated} if row_id is not None
                else None), no_update
    else:
        return no_update, no_update
    selection.update(simulated)
    try:
        found = store.consistent(lambda: _highlight(store, selection, _hops(hops)))
    except PathwaysError as exc:  # a simulation that no longer holds (the data changed)
        return None, alert(error_text(exc))
    if found is None:
        return None, hint("That cell is not in the report.")
    rows = found["rows"]
    details = html.Div([
        html.H3(found["label"]),
        html.P("Routes on the network with the simulated agreements (nothing is saved; "
               "“Back to the real network” shows it as it is)." if found["simulated"] else "",
               className="simulated-note"),
        html.P("No activity addresses this need here." if not rows else
               "Each activity with the shortest route from a link worker covering the locality:"),
        html.Ul([html.Li(f"{r['name']} ({r['provider']}): {r['route_names']}") for r in rows],
                id="gp-cell-activities"),
        commission_part(store, *selection["cell"]),  # a red cell: who could provide it
    ])
    return selection, details


@callback(
    Output("gp-graph", "elements"),
    Output("gp-graph", "layout"),
    Output("gp-highlight-label", "children"),
    Output("gp-highlight-nodes", "children"),
    Input("gp-highlight", "data"),
    Input("gp-hops", "value"),
)
def draw(selection, hops):
    store = get_store()
    network, found = store.consistent(
        lambda: (referral_network(store), _highlight(store, selection, _hops(hops))))
    found = found or {}
    highlight = set(found.get("ids", []))
    elements, trimmed = network_elements(network, highlight)
    label = found.get("label", "Select a cell or a row to highlight it here.")
    if trimmed:
        label += " (large network: only the highlighted part is drawn)"
    names = [(f"{n['name']} ({KIND_NAMES.get(n['kind'], n['kind'])})", n["id"])
             for n in network["nodes"] if n["id"] in highlight]
    return (elements, drawn(LAYOUT, elements), label,
            node_facts_list("Highlighted on the network", names, "gp-highlight-list",
                            "gp-graph"))


# A click on a node (or its button in the list) says what it is; no contact details here.
node_details_callback("gp-graph", "gp-node", referral_network)


@callback(
    Output("gp-download", "data"),
    Input("gp-download-button", "n_clicks"),
    State("gp-hops", "value"),
    prevent_initial_call=True,
)
def download(_clicks, hops):
    """The gap report as one HTML file, with the step from each gap to an action: who could
    provide the red cells, routes that would close the amber ones, a second route around each
    top single point of failure (for the page's hop limit; the real network, never a
    simulation)."""
    store, hops = get_store(), _hops(hops)

    def read():
        report = gap_report(store, GapQuery(max_hops=hops))
        return (report, red_cells(store, report["coverage"]),
                recommend(store, RecommendQuery(max_hops=hops)), protection(store, hops))

    return html_download(as_html(*store.consistent(read)), f"gap-report-{dt.date.today()}.html")


# The "What would close these gaps?" panel draws simulations with the page's own heatmap.
register_whatif_views(_heatmap, _level, _CATEGORY_TEXT, _cell_id)
