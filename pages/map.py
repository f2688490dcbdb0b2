"""Map page: where the activities are, and where the gaps are (issue 17; docs/map.md).

Activities with coordinates are points coloured by need, filtered as on the Pathways page;
localities are shaded by the Gaps report's measure for one need (reachable / existing, the
heatmap's colours and meaning).  Clicking a locality lists its activities and gaps;
clicking a point gives the activity's details and its route from the chosen link worker.
Two tables under the map list every locality and every point, so a keyboard or screen-reader
user reaches each of them without the map.

Drawn with Plotly's MapLibre maps (``Scattermap``) on a plain white background, so nothing
comes from the internet unless tiles are on and reachable (pages/_map_tiles.py decides, on
the server); no text layers on the map (MapLibre would fetch fonts for them).  Beyond
1,500 elements the points are aggregated (pathways/analysis/geo.py).  The server trusts
nothing the browser sends back: a click's id is looked up again in the store.
"""

from __future__ import annotations

import json
import math
from typing import Any

import dash
import plotly.graph_objects as go
from dash import Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update

from pages._components import (
    PAGE_ALERT,
    alert,
    aria,
    button,
    choices,
    csv_download,
    error_text,
    filter_choices,
    guarded,
    hint,
    ids,
    is_empty,
    no_data,
    note_only,
    page_alert,
    selected_id,
    table,
)
from pages._map_tiles import tile_source
from pathways.analysis.geo import (
    EXPORT_COLUMNS,
    LEVEL_TEXT,
    MapData,
    MapQuery,
    export_geojson,
    export_rows,
    map_data,
    place_detail,
    point_detail,
)
from pathways.errors import PathwaysError
from pathways.model import COMMON_ACCESS_TAGS, DAY_CODES, DAY_NAMES, NodeKind, PersonRole
from pathways.reports.network_views import plotly_text
from pathways.webstore import get_store

PATH = "/map"
dash.register_page(__name__, path=PATH, name="Map", title="Map · Thriving Pathways", order=3)

# The Gaps heatmap's categories and colours (pages/gaps.py): 0 nothing provided, 1 provided
# but not reached, 2 under half reachable, 3 half or more.
AREA_COLOURS = ("#d55e00", "#e69f00", "#cfe8f3", "#7fbfdf")
# Needs' colours: Okabe-Ito and Tol's muted palette, told apart with colour-blindness; every
# one at least 3:1 against white (WCAG 1.4.11), each point outlined in black as well.
NEED_COLOURS = ("#0072b2", "#009e73", "#cc3311", "#882255", "#6a3d9a", "#117733", "#aa4499",
                "#332288", "#8c510a", "#44546a")
NO_NEED = "#555555"
MAX_AGE = 120
PLACE_LIST = 100  # a locality's activities listed when it is clicked (the rest are counted)
for _long_list in ("mp-needs", "mp-shade", "mp-worker", "mp-access"):
    filter_choices(_long_list)

# Plotly loads a trace type's validators on its first figure; pay that when the app starts.
go.Figure(go.Scattermap(lat=[0], lon=[0])).to_plotly_json()


def layout(**query):
    """``?shade=<need id>`` chooses the need whose gaps shade the localities (anything else
    is ignored: the first need)."""
    return guarded(lambda: _layout(query.get("shade")))


def _options(store) -> dict[str, list[dict]]:
    needs = [{"label": n["name"], "value": n["id"]} for n in store.list_nodes(NodeKind.NEED)]
    workers = [{"label": p["name"], "value": p["id"]}
               for p in store.list_nodes(NodeKind.PERSON, PersonRole.LINK_WORKER.value)]
    tags = set(COMMON_ACCESS_TAGS)
    for activity in store.list_nodes(NodeKind.ACTIVITY):
        tags.update(activity.get("accessibility") or [])
    return {"needs": needs, "workers": workers,
            "access": [{"label": t.replace("_", " "), "value": t} for t in sorted(tags)]}


def _layout(shade=None):
    title = [html.H1("Map of activities and gaps"), page_alert()]
    store = get_store()
    if is_empty(store):
        return html.Div(title + [no_data()])
    options = store.consistent(lambda: _options(store))
    needs = options["needs"]
    controls = html.Form([
        choices("Shade localities by the gaps for", "mp-shade", needs,
                shade if shade in {n["value"] for n in needs}
                else needs[0]["value"] if needs else None, scroll=True),
        choices("Show activities for (any of)", "mp-needs", needs, [], multi=True, scroll=True),
        choices("Access needs (all of)", "mp-access", options["access"], [], multi=True,
                scroll=True),
        html.Div([
            choices("Cost", "mp-free", [{"label": "Free activities only", "value": "free"}], [],
                    multi=True),
            html.Div([html.Label("Their age", htmlFor="mp-age"),
                      dcc.Input(id="mp-age", type="number", min=0, max=MAX_AGE, step=1,
                                inputMode="numeric", debounce=True),
                      hint("Years; leave empty for any age.")], className="field"),
        ], className="field-stack"),
        choices("Days (any of)", "mp-days",
                [{"label": DAY_NAMES[d], "value": d} for d in DAY_CODES], [], multi=True),
        choices("Routes from link worker", "mp-worker",
                [{"label": "No one (no routes)", "value": ""}] + options["workers"], "",
                scroll=True),
    ], className="controls", **aria({"aria-label": "What the map shows"}))
    return html.Div(title + [
        html.P("Activities as points coloured by need, and localities shaded by the gaps for "
               "one need: the Gaps heatmap's colours and meaning. The demo data's places are "
               "approximate and illustrative.", className="lede"),
        controls,
        html.P(id="mp-tiles", className="hint", **aria({"aria-live": "polite"})),
        html.P(id="mp-summary", className="summary", **aria({"aria-live": "polite"})),
        html.Div([
            html.Section([
                html.H2("Map"),
                hint("Click a shaded locality or a point; the tables below list each of them "
                     "too (select a row with Space or Enter)."),
                html.Div(dcc.Graph(id="mp-map", config={"displayModeBar": False,
                                                        "scrollZoom": True, "responsive": True},
                                   style={"height": "520px"}),
                         className="map-frame", role="img",
                         **aria({"aria-label": "Map of activities and localities (the tables "
                                               "below give the same facts as text)"})),
                html.Div(id="mp-legend", className="legend"),
                html.Div([
                    button("Download map (PNG)", "mp-png-button"),
                    button("Download points (CSV, Excel)", "mp-csv-button"),
                    button("Download points (GeoJSON)", "mp-geojson-button"),
                    dcc.Download(id="mp-download"),
                ], className="button-row"),
            ], className="results"),
            html.Section([
                html.H2("Selected locality"),
                html.Div(hint("None yet: click a shaded locality, or select one in the "
                              "Localities table."), id="mp-place", className="details",
                         **aria({"aria-live": "polite"})),
                html.H2("Selected activity"),
                html.Div(hint("None yet: click a point, or select one in the Activities "
                              "table."), id="mp-point", className="details",
                         **aria({"aria-live": "polite"})),
            ], className="network"),
        ], className="two-columns"),
        dcc.Store(id="mp-picked"),
        html.Section([
            html.H2("Localities"),
            table("mp-places", [("name", "Locality"), ("reachable", "Reachable"),
                                ("existing", "Existing"), ("status", "Status"),
                                ("on_map", "On the map")], "Localities"),
            html.H2("Activities on the map"),
            table("mp-points", [("name", "Activity"), ("provider", "Provider"),
                                ("need", "Coloured by"), ("where", "Where")],
                  "Activities on the map", page_size=15),
        ]),
    ])


# --------------------------------------------------------------------------- reading the form


def _age(age) -> int | None:
    ok = isinstance(age, int) and not isinstance(age, bool) and 0 <= age <= MAX_AGE
    return age if ok else None


def _query(shade, needs, access, free, age, days) -> MapQuery:
    """The map's question from the form as the browser sent it; ids are checked against the
    store by the analysis (an unknown one is an error shown on the page)."""
    return MapQuery(
        needs=ids(needs), access=ids(access), free_only="free" in ids(free), age=_age(age),
        days=tuple(d for d in ids(days) if d in DAY_CODES),
        shade_need=shade if isinstance(shade, str) and shade else None)


FORM = (Input("mp-shade", "value"), Input("mp-needs", "value"), Input("mp-access", "value"),
        Input("mp-free", "value"), Input("mp-age", "value"), Input("mp-days", "value"))
FORM_STATE = tuple(State(i.component_id, i.component_property) for i in FORM)


# --------------------------------------------------------------------------- the figure


def need_colours(names: dict[str, str], needs: list[str]) -> dict[str, str]:
    return {n: NEED_COLOURS[i % len(NEED_COLOURS)] for i, n in enumerate(needs)}


def _view(lats: list[float], lons: list[float]) -> dict[str, Any]:
    """Centre and zoom that show every drawn thing in a map ~350 px wide (a phone's): at
    zoom z MapLibre draws the world 512 × 2^z px wide."""
    if not lats:
        return {"center": {"lat": 54.0, "lon": -2.0}, "zoom": 4.5}
    south, north, west, east = min(lats), max(lats), min(lons), max(lons)
    span = max(north - south, (east - west) * math.cos(math.radians((north + south) / 2)), 0.01)
    zoom = max(1.0, min(14.0, math.log2(250 * 360 / (512 * span))))
    return {"center": {"lat": (north + south) / 2, "lon": (west + east) / 2}, "zoom": zoom}


# AREA_COLOURS as a colour scale for levels 0..3 (z), one flat step per level.
_STEPS = [[edge, AREA_COLOURS[level]] for level in range(4)
          for edge in (max(0.0, (level - 0.5) / 3), min(1.0, (level + 0.5) / 3))]


def _corners(geometry: dict) -> list[list[float]]:
    """Every outer ring's positions, for the view's extent."""
    polygons = ([geometry["coordinates"]] if geometry["type"] == "Polygon"
                else geometry["coordinates"])
    return [position[:2] for polygon in polygons for position in polygon[0]]


def figure(data: MapData, tiles) -> go.Figure:
    """Areas (shaded boundaries, or circles at the centres of localities without one), then
    points or clusters, then outlines:
    one trace per need so each colour is named in the legend below the map."""
    names = data["names"]
    needs = [n for n in names if n not in {a["id"] for a in data["areas"]}]
    colours = need_colours(names, needs)
    fig = go.Figure()
    bounded = [a for a in data["areas"] if a["boundary"] is not None]
    centred = [a for a in data["areas"] if a["latitude"] is not None and a["boundary"] is None]
    lats: list[float] = [a["latitude"] for a in centred if a["latitude"] is not None]
    lons: list[float] = [a["longitude"] for a in centred if a["longitude"] is not None]
    shade = names.get(data["shade_need"], "")
    if bounded:
        for area in bounded:
            for lon, lat in _corners(area["boundary"] or {"type": "MultiPolygon",
                                                          "coordinates": []}):
                lats.append(lat)
                lons.append(lon)
        fig.add_trace(go.Choroplethmap(  # boundaries: filled shapes with a dark 3:1 outline
            geojson={"type": "FeatureCollection", "features": [
                {"type": "Feature", "id": a["id"], "geometry": a["boundary"], "properties": {}}
                for a in bounded]},
            locations=[a["id"] for a in bounded], z=[a["level"] for a in bounded],
            zmin=0, zmax=3, colorscale=_STEPS, showscale=False, name="locality boundaries",
            marker={"line": {"color": "#1b1b1b", "width": 2}, "opacity": 0.85},
            customdata=[["locality", a["id"]] for a in bounded],
            text=[plotly_text(f"{a['name']}: {shade} {a['reachable']} / {a['existing']} "
                              f"({LEVEL_TEXT[a['level']]})") for a in bounded],
            hovertemplate="%{text}<extra></extra>", showlegend=False))
    if centred:
        circle_lats, circle_lons = lats[:len(centred)], lons[:len(centred)]
        fig.add_trace(go.Scattermap(  # an outline ring under each area (3:1 on white)
            lat=circle_lats, lon=circle_lons, mode="markers", hoverinfo="skip", name="area outline",
            marker={"size": 46, "color": "#1b1b1b", "opacity": 0.9}, showlegend=False))
        fig.add_trace(go.Scattermap(
            lat=circle_lats, lon=circle_lons, mode="markers", name="localities",
            marker={"size": 42, "color": [AREA_COLOURS[a["level"]] for a in centred],
                    "opacity": 1},
            customdata=[["locality", a["id"]] for a in centred],
            text=[plotly_text(f"{a['name']}: {shade} {a['reachable']} / {a['existing']} "
                              f"({LEVEL_TEXT[a['level']]})") for a in centred],
            hovertemplate="%{text}<extra></extra>", showlegend=False))
    items: list[dict[str, Any]] = list(data["clusters"] or data["points"])  # type: ignore[arg-type]
    if items:
        lats += [p["latitude"] for p in items]
        lons += [p["longitude"] for p in items]
        sizes = ([12 + 3 * math.log2(c["count"]) for c in data["clusters"]]
                 if data["aggregated"] else [11] * len(items))
        fig.add_trace(go.Scattermap(  # black outlines under the points
            lat=[p["latitude"] for p in items], lon=[p["longitude"] for p in items],
            mode="markers", hoverinfo="skip", showlegend=False, name="point outline",
            marker={"size": [s + 3 for s in sizes], "color": "#000000"}))
        by_need: dict[str, list[int]] = {}
        for index, item in enumerate(items):
            by_need.setdefault(item["need"], []).append(index)
        for need, members in by_need.items():
            chosen = [items[i] for i in members]
            if data["aggregated"]:
                text = [plotly_text(f"{c['count']:,} activities"
                                    + (f" in {names.get(c['locality'], '')}" if c["locality"]
                                       else " here")) for c in chosen]
                custom = [["cluster", c["locality"]] for c in chosen]
            else:
                text = [plotly_text(f"{p['name']} ({p['provider']})") for p in chosen]
                custom = [["activity", p["id"]] for p in chosen]
            fig.add_trace(go.Scattermap(
                lat=[p["latitude"] for p in chosen], lon=[p["longitude"] for p in chosen],
                mode="markers", name=plotly_text(names.get(need, "no need given")),
                marker={"size": [sizes[i] for i in members],
                        "color": colours.get(need, NO_NEED)},
                customdata=custom, text=text, hovertemplate="%{text}<extra></extra>",
                showlegend=False))
    if not fig.data:  # no trace: a bare x/y grid, numbered axes reading as data
        return note_only(fig, "Nothing to draw:<br>no activity or locality here<br>has a place"
                         " on the map", plot_bgcolor="#ffffff", paper_bgcolor="#ffffff",
                         margin={"l": 0, "r": 0, "t": 0, "b": 0})
    map_layout: dict[str, Any] = {"style": "white-bg", **_view(lats, lons)}
    if tiles.url:
        map_layout["layers"] = [{"below": "traces", "sourcetype": "raster",
                                 "sourceattribution": tiles.credit, "source": [tiles.url]}]
    fig.update_layout(map=map_layout, margin={"l": 0, "r": 0, "t": 0, "b": 0},
                      uirevision="map", showlegend=False, paper_bgcolor="#ffffff",
                      clickmode="event", hoverlabel={"bgcolor": "#ffffff",
                                                     "font": {"color": "#1b1b1b"}})
    return fig


def _legend(data: MapData) -> list:
    names = data["names"]
    needs = [n for n in names if n not in {a["id"] for a in data["areas"]}]
    colours = need_colours(names, needs)
    shown = sorted({p["need"] for p in (data["clusters"] or data["points"])},
                   key=lambda n: needs.index(n) if n in needs else len(needs))
    shade = names.get(data["shade_need"], "")
    return [
        html.Ul([html.Li([html.Span(className="swatch dot", style={"backgroundColor": c}), t],
                         className="legend-item")
                 for c, t in zip(AREA_COLOURS, LEVEL_TEXT, strict=True)],
                className="legend", **aria({"aria-label": f"Locality colours: gaps for {shade}"})),
        html.Ul([html.Li([html.Span(className="swatch dot",
                                    style={"backgroundColor": colours.get(n, NO_NEED)}),
                          names.get(n, "no need given")], className="legend-item")
                 for n in shown], className="legend", **aria({"aria-label": "Point colours"})),
    ]


def _summary(data: MapData) -> str:
    drawn = sum(c["count"] for c in data["clusters"]) if data["aggregated"] else len(data["points"])
    parts = [f"{drawn:,} of {data['matching']:,} matching activities on the map"]
    if data["aggregated"]:
        parts.append(f"grouped into {len(data['clusters']):,} clusters (more than the map "
                     "draws one by one; zoom in by narrowing the filters)")
    if data["without_coordinates"]:
        parts.append(f"{data['without_coordinates']:,} have no coordinates (online, borough-wide "
                     "or not given)")
    centred = sum(1 for a in data["areas"]
                  if a["latitude"] is not None or a["boundary"] is not None)
    bounded = sum(1 for a in data["areas"] if a["boundary"] is not None)
    parts.append(f"{centred:,} of {len(data['areas']):,} localities shaded"
                 + (f" ({bounded:,} by their boundaries)" if bounded else ""))
    return "; ".join(parts) + "."


@callback(
    Output("mp-map", "figure"),
    Output("mp-legend", "children"),
    Output("mp-summary", "children"),
    Output("mp-tiles", "children"),
    Output("mp-places", "rowData"),
    Output("mp-points", "rowData"),
    Output(PAGE_ALERT, "children", allow_duplicate=True),
    *FORM,
    prevent_initial_call="initial_duplicate",
)
def draw(shade, needs, access, free, age, days):
    store = get_store()
    try:
        data = store.consistent(lambda: map_data(store, _query(shade, needs, access, free, age,
                                                               days)))
    except PathwaysError as exc:
        return (no_update,) * 6 + (alert(error_text(exc)),)
    tiles = tile_source()
    names = data["names"]
    places = [{"id": a["id"], "name": a["name"], "reachable": a["reachable"],
               "existing": a["existing"], "status": LEVEL_TEXT[a["level"]],
               "on_map": ("boundary" if a["boundary"] is not None else
                          "centre" if a["latitude"] is not None else "no centre given")}
              for a in data["areas"]]
    if data["aggregated"]:
        points = [{"id": c["id"], "name": f"{c['count']:,} activities",
                   "provider": "(grouped)", "need": names.get(c["need"], ""),
                   "where": names.get(c["locality"], f"{c['latitude']:.3f}, {c['longitude']:.3f}")}
                  for c in data["clusters"]]
    else:
        points = [{"id": p["id"], "name": p["name"], "provider": p["provider"],
                   "need": names.get(p["need"], "no need given"),
                   "where": "; ".join(names.get(x, x) for x in p["localities"])
                   or f"{p['latitude']:.4f}, {p['longitude']:.4f}"} for p in data["points"]]
    tile_note = tiles.note or f"Map tiles: {tiles.credit or 'custom tile source'}."
    return (figure(data, tiles), _legend(data), _summary(data), tile_note, places, points, None)


# --------------------------------------------------------------------------- clicks


def _clicked(click) -> tuple[str, str] | None:
    """``(kind, id)`` from a map click's customdata; the id is only a key to look up."""
    try:
        kind, node = click["points"][0]["customdata"]
    except (TypeError, KeyError, IndexError, ValueError):
        return None
    if kind in ("locality", "activity", "cluster") and isinstance(node, str) and node:
        return ("locality" if kind == "cluster" else kind), node
    return None


def _place_view(store, locality: str, query: MapQuery) -> list:
    detail = place_detail(store, locality, query)
    items = [html.Li(f"{a['name']} ({a['provider'] or 'provider not given'})"
                     + (" — serves the whole area" if a["whole_area"] else ""))
             for a in detail["activities"][:PLACE_LIST]]
    if len(detail["activities"]) > PLACE_LIST:
        items.append(html.Li(f"and {len(detail['activities']) - PLACE_LIST:,} more: narrow the "
                             "filters, or download the points (CSV)."))
    gaps = [html.Li(f"{g['need']}: {g['reachable']} / {g['existing']}, {g['status']}")
            for g in detail["gaps"]]
    return [html.H3(detail["name"]),
            html.P(f"{len(detail['activities'])} activities match the filters here "
                   "(including those serving the whole area)."),
            html.Ul(items, className="plain-list") if items else html.P("None."),
            html.H4("Needs with nothing reachable here"),
            html.Ul(gaps, className="plain-list") if gaps else html.P("None: every need has "
                                                                      "something reachable.")]


def _point_view(store, activity: str, worker: str | None) -> list:
    detail = point_detail(store, activity, worker)
    facts = [("Provider", detail["provider"]), ("Where", detail["venue"] or detail["localities"]),
             ("Locality", detail["localities"]), ("When", detail["schedule"] or "not given"),
             ("Cost", detail["cost"]), ("Needs", detail["needs"] or "not given")]
    parts: list = [html.H3(detail["name"])]
    if detail["description"]:
        parts.append(html.P(detail["description"]))
    parts.append(html.Dl([item for label, value in facts
                          for item in (html.Dt(label), html.Dd(value))], className="facts"))
    if not worker:
        parts.append(hint("Choose a link worker above to see the route to this activity."))
    elif detail["route"] is None:
        parts.append(html.P(f"{detail['worker']} has no route to this activity within the "
                            "longest route (4 hops)."))
    else:
        parts.append(html.P(["Route from ", html.Strong(detail["worker"]), ": ",
                             " → ".join(detail["route"])]))
    return parts


@callback(
    Output("mp-place", "children"),
    Output("mp-point", "children"),
    Output("mp-picked", "data"),
    Output(PAGE_ALERT, "children", allow_duplicate=True),
    Input("mp-map", "clickData"),
    Input("mp-places", "selectedRows"),
    Input("mp-points", "selectedRows"),
    Input("mp-worker", "value"),
    State("mp-picked", "data"),
    *FORM_STATE,
    prevent_initial_call=True,
)
def select(click, place_rows, point_rows, worker, picked, *form):
    """A locality or an activity, picked on the map or in a table (or the link worker changed
    for the activity shown): its ids are looked up again in the store, never trusted."""
    store = get_store()
    chosen_worker = worker if isinstance(worker, str) and worker else None
    place = point = None
    if ctx.triggered_id == "mp-map":
        found = _clicked(click)
        if found is not None:
            place, point = (found[1], None) if found[0] == "locality" else (None, found[1])
    elif ctx.triggered_id == "mp-places":
        place = selected_id(place_rows)
    elif ctx.triggered_id == "mp-points":
        row = selected_id(point_rows)
        if row is not None and row.startswith("locality:"):
            place = row.removeprefix("locality:")
        elif row is not None and not row.startswith("grid:"):
            point = row
    elif ctx.triggered_id == "mp-worker" and isinstance(picked, str) and picked:
        point = picked
    try:
        if place is not None:
            view = store.consistent(lambda: _place_view(store, place, _query(*form)))
            return view, no_update, no_update, None
        if point is not None:
            view = store.consistent(lambda: _point_view(store, point, chosen_worker))
            return no_update, view, point, None
    except PathwaysError as exc:
        return no_update, no_update, no_update, alert(error_text(exc))
    return no_update, no_update, no_update, None


# --------------------------------------------------------------------------- exports


@callback(
    Output("mp-download", "data"),
    Input("mp-csv-button", "n_clicks"),
    Input("mp-geojson-button", "n_clicks"),
    *FORM_STATE,
    prevent_initial_call=True,
)
def download(_csv, _geojson, *form):
    store = get_store()
    query = _query(*form)
    if ctx.triggered_id == "mp-geojson-button":
        collection = store.consistent(lambda: export_geojson(store, query))
        return {"content": json.dumps(collection, ensure_ascii=False, indent=1),
                "filename": "activities-map.geojson", "type": "application/geo+json"}
    rows = store.consistent(lambda: export_rows(store, query))
    return csv_download(rows, EXPORT_COLUMNS, "activities-map.csv")


# The PNG is drawn in the browser by Plotly from what the map shows (nothing goes to the server).
clientside_callback(
    """function (clicks) {
        if (!clicks) { return window.dash_clientside.no_update; }
        const plot = document.querySelector('#mp-map .js-plotly-plot');
        if (plot && window.Plotly) {
            window.Plotly.downloadImage(plot, {format: 'png', filename: 'activities-map',
                                               scale: 2});
        }
        return window.dash_clientside.no_update;
    }""",
    Output("mp-png-button", "title"),
    Input("mp-png-button", "n_clicks"),
    prevent_initial_call=True,
)
