"""Pathways page, for link workers: where can I refer this person, and by which route?

Pick a link worker and what matters to the person (needs, locality, free only, access
needs); see reachable activities as a table and as a network with the routes highlighted.
Contact details are shown here, on demand, because link workers need them to refer.
"""

from __future__ import annotations

import dash
import dash_cytoscape as cyto
from dash import Input, Output, State, callback, dash_table, dcc, html, no_update

from pathways.analysis.pathways import pathways_from, with_details
from pathways.errors import PathwaysError
from pathways.formatting import to_csv
from pathways.model import COMMON_ACCESS_TAGS, DEFAULT_MAX_HOPS, MAX_MAX_HOPS, NodeKind, PersonRole
from pathways.store import PathwayFilter
from pathways.views import KIND_STYLE, MAX_ELEMENTS, pathway_elements, stylesheet, web_link
from pathways.webstore import get_store

dash.register_page(__name__, path="/", name="Pathways", title="Pathways · Thriving Pathways", order=0)

TABLE_COLUMNS = [
    ("activity", "Activity"),
    ("provider", "Provider"),
    ("locality", "Locality"),
    ("cost", "Cost"),
    ("schedule", "When"),
    ("hops", "Hops"),
]


def _alert(message: str) -> html.Div:
    return html.Div(message, className="alert", role="alert")


def _options() -> tuple[list, list, list, list]:
    store = get_store()
    return store.consistent(lambda: _read_options(store))


def _read_options(store) -> tuple[list, list, list, list]:
    workers = [
        {"label": f"{p['name']} — {p.get('job_title', 'link worker')}", "value": p["id"]}
        for p in store.list_nodes(NodeKind.PERSON, PersonRole.LINK_WORKER.value)
    ]
    needs = [{"label": n["name"], "value": n["id"]} for n in store.list_nodes(NodeKind.NEED)]
    places = [{"label": n["name"], "value": n["id"]} for n in store.list_nodes(NodeKind.LOCALITY)]
    tags = set(COMMON_ACCESS_TAGS)
    for activity in store.list_nodes(NodeKind.ACTIVITY):
        tags.update(activity.get("accessibility", []))
    access = [{"label": t.replace("_", " "), "value": t} for t in sorted(tags)]
    return workers, needs, places, access


def _legend() -> html.Ul:
    return html.Ul(
        [
            html.Li(
                [html.Span(className=f"swatch shape-{shape}", style={"backgroundColor": colour}),
                 label],
                className="legend-item",
            )
            for colour, shape, label in KIND_STYLE.values()
        ],
        className="legend",
        **{"aria-label": "Legend: node colours and shapes"},
    )


def _field(label: str, control, control_id: str) -> html.Div:
    return html.Div([html.Label(label, htmlFor=control_id), control], className="field")


def layout(**_query) -> html.Div:
    try:
        workers, needs, places, access = _options()
    except PathwaysError as exc:
        return _alert(f"The graph cannot be read: {exc}")
    if not workers:
        return _alert("No link workers in the graph yet. Load data with `pathways demo` or "
                      "`pathways load FILES`.")
    controls = html.Form(
        [
            _field("Link worker", dcc.Dropdown(workers, workers[0]["value"], id="pw-worker",
                                               clearable=False), "pw-worker"),
            _field("What matters to the person (any of)",
                   dcc.Dropdown(needs, [], id="pw-needs", multi=True,
                                placeholder="Any need"), "pw-needs"),
            _field("Where the activity is", dcc.Dropdown(places, None, id="pw-locality",
                                                         placeholder="Anywhere"), "pw-locality"),
            _field("Access needs (all of)", dcc.Dropdown(access, [], id="pw-access", multi=True,
                                                         placeholder="None"), "pw-access"),
            html.Div(dcc.Checklist([{"label": " Free activities only", "value": "free"}], [],
                                   id="pw-free"), className="field"),
            _field("Longest route (hops)",
                   dcc.Input(id="pw-hops", type="number", min=1, max=MAX_MAX_HOPS, step=1,
                             value=DEFAULT_MAX_HOPS), "pw-hops"),
        ],
        className="controls",
        **{"aria-label": "Find activities"},
    )
    table = dash_table.DataTable(
        id="pw-table",
        columns=[{"name": title, "id": key} for key, title in TABLE_COLUMNS],
        data=[],
        sort_action="native",
        row_selectable="single",
        page_size=15,
        style_cell={"textAlign": "left", "whiteSpace": "normal", "height": "auto",
                    "fontFamily": "inherit", "fontSize": "14px"},
        style_header={"fontWeight": "bold"},
    )
    return html.Div(
        [
            html.H1("Pathways from a link worker"),
            html.P("Activities a link worker can reach along referral routes, shortest route "
                   "first. Demo data is illustrative, not real timetables or staff.",
                   className="lede"),
            controls,
            html.Div(id="pw-message", **{"aria-live": "polite"}),
            html.Div(
                [
                    html.Section(
                        [html.H2("Reachable activities"),
                         html.Button("Download CSV (Excel)", id="pw-download-button",
                                     className="button", type="button"),
                         dcc.Download(id="pw-download"),
                         table,
                         html.Div(id="pw-details", className="details", **{"aria-live": "polite"})],
                        className="results",
                    ),
                    html.Section(
                        [html.H2("Referral network"), _legend(),
                         cyto.Cytoscape(id="pw-graph", elements=[], stylesheet=stylesheet(),
                                        layout={"name": "breadthfirst", "directed": True,
                                                "spacingFactor": 1.1},
                                        style={"width": "100%", "height": "620px"},
                                        minZoom=0.2, maxZoom=3)],
                        className="network",
                        **{"aria-label": "Network diagram; the table lists the same activities"},
                    ),
                ],
                className="two-columns",
            ),
        ]
    )


def _ids(value) -> tuple[str, ...]:
    """Ids from a multi-select as the browser sent them (anything else counts as none)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return ()


def _query(worker, needs, locality, free, access, hops) -> tuple[str, PathwayFilter, int] | None:
    """The question the form asks, checked: (worker id, filter, hops), or None when the form
    is incomplete.  Everything shown is recomputed from this, never from what the browser
    sends back (tables, routes, results)."""
    if not isinstance(worker, str) or not worker:
        return None
    if isinstance(hops, bool) or not isinstance(hops, int) or not 1 <= hops <= MAX_MAX_HOPS:
        return None
    where = PathwayFilter(_ids(needs), locality if isinstance(locality, str) and locality else None,
                          "free" in _ids(free), _ids(access))
    return worker, where, hops


FORM = (Input("pw-worker", "value"), Input("pw-needs", "value"), Input("pw-locality", "value"),
        Input("pw-free", "value"), Input("pw-access", "value"), Input("pw-hops", "value"))
FORM_STATE = tuple(State(i.component_id, i.component_property) for i in FORM)


@callback(
    Output("pw-table", "data"),
    Output("pw-table", "selected_rows"),
    Output("pw-table", "selected_row_ids"),
    Output("pw-message", "children"),
    *FORM,
)
def find_pathways(worker, needs, locality, free, access, hops):
    if not worker:
        return [], [], [], ""
    query = _query(worker, needs, locality, free, access, hops)
    if query is None:
        return no_update, no_update, no_update, _alert(
            f"Longest route must be a whole number from 1 to {MAX_MAX_HOPS}.")
    store = get_store()
    worker, where, hops = query

    def read():
        found = pathways_from(store, worker, where, hops)
        return found, with_details(store, found)

    try:
        result, rows = store.consistent(read)
    except PathwaysError as exc:
        return [], [], [], _alert(str(exc))
    count = len(rows)
    message = (f"{result['from']['name']} can reach {count} matching "
               f"activit{'y' if count == 1 else 'ies'} within {hops} hops.")
    if not count:
        message += " Try fewer filters or a longer route."
    return rows, [], [], html.P(message, className="summary")


def _selected(selected_ids) -> str | None:
    if isinstance(selected_ids, list) and selected_ids and isinstance(selected_ids[0], str):
        return selected_ids[0]
    return None


@callback(
    Output("pw-graph", "elements"),
    *FORM,
    Input("pw-table", "selected_row_ids"),
)
def draw_network(worker, needs, locality, free, access, hops, selected_ids):
    query = _query(worker, needs, locality, free, access, hops)
    if query is None:
        return []
    store = get_store()
    worker, where, hops = query

    def read():
        result = pathways_from(store, worker, where, hops)
        context = pathways_from(store, worker, PathwayFilter(), hops)
        ids = {n["id"] for a in context["activities"] for n in a["path"]} | {worker}
        return result, context, store.relationships_among(sorted(ids))

    try:
        result, context, relationships = store.consistent(read)
    except PathwaysError:
        return []  # find_pathways shows the message
    elements, _trimmed = pathway_elements(result, relationships, context,
                                          _selected(selected_ids), MAX_ELEMENTS)
    return elements


def _route_details(store, query, activity_id: str) -> dict | None:
    """The selected activity as the server sees it: its shortest route from the worker (with
    the form's filters), its details, and the properties of every node after the worker on
    that route.  None when the activity is not among the worker's matching activities."""
    worker, where, hops = query
    result = pathways_from(store, worker, where, hops)
    activity = next((a for a in result["activities"] if a["id"] == activity_id), None)
    if activity is None:
        return None
    row = with_details(store, {"from": result["from"], "activities": [activity]})[0]
    info = store.activity_details([activity_id]).get(activity_id, {})
    on_route = [found[1] for node in activity["path"][1:]
                if (found := store.get_node(node["id"])) is not None]
    return {"activity": activity, "row": row, "info": info, "on_route": on_route}


def _contact(props: dict) -> html.Li | None:
    """How to reach one organisation, service or activity on the route: phone, e-mail, web
    address (a link only for http and https) and referral notes, or None if none is known."""
    parts: list = []
    spoken = " · ".join(v for v in (props.get("phone"), props.get("email")) if v)
    if spoken:
        parts.append(spoken)
    website = props.get("website")
    if website:
        href = web_link(website)
        parts.append(html.A(website, href=href, target="_blank", rel="noopener noreferrer")
                     if href else html.Span(f"web address (not a web link): {website}"))
    if props.get("referral_info"):
        parts.append(f"How to refer: {props['referral_info']}")
    if not parts:
        return None
    joined: list = [f"{props['name']}: "]
    for index, part in enumerate(parts):
        joined += ([" · "] if index else []) + [part]
    return html.Li(joined)


@callback(
    Output("pw-details", "children"),
    Input("pw-table", "selected_row_ids"),
    *FORM_STATE,
)
def show_details(selected_ids, worker, needs, locality, free, access, hops):
    hint = html.P("Select an activity to see its route and how to refer.", className="hint")
    activity_id = _selected(selected_ids)
    query = _query(worker, needs, locality, free, access, hops)
    if activity_id is None or query is None:
        return hint
    store = get_store()
    try:
        found = store.consistent(lambda: _route_details(store, query, activity_id))
    except PathwaysError as exc:
        return _alert(str(exc))
    if found is None:  # not one of this worker's matching activities (or a stale selection)
        return hint
    row, info, route = found["row"], found["info"], found["activity"]["path"]
    contacts = [item for props in found["on_route"] if (item := _contact(props)) is not None]
    return html.Div(
        [
            html.H3(row["activity"]),
            html.P(info.get("description", "")),
            html.Dl([
                html.Dt("Route"), html.Dd(" → ".join(n["name"] for n in route)),
                html.Dt("Needs"), html.Dd(row["needs"] or "not recorded"),
                html.Dt("Venue"), html.Dd(info.get("venue", "not recorded")),
                html.Dt("Access"), html.Dd(row["access"] or "not recorded"),
                html.Dt("Ages"), html.Dd(_ages(info)),
            ]),
            html.H4("How to refer (contacts along the route)"),
            html.Ul(contacts) if contacts else html.P("No contact details recorded."),
        ]
    )


def _ages(info: dict) -> str:
    low, high = info.get("age_min"), info.get("age_max")
    if low is None and high is None:
        return "not recorded"
    return f"{low if low is not None else 0}–{high if high is not None else 'any'}"


@callback(
    Output("pw-download", "data"),
    Input("pw-download-button", "n_clicks"),
    *FORM_STATE,
    prevent_initial_call=True,
)
def download_csv(_clicks, worker, needs, locality, free, access, hops):
    query = _query(worker, needs, locality, free, access, hops)
    if query is None:
        return no_update
    store = get_store()
    worker, where, hops = query
    try:
        rows = store.consistent(
            lambda: with_details(store, pathways_from(store, worker, where, hops)))
    except PathwaysError:
        return no_update  # find_pathways already shows why
    if not rows:
        return no_update
    columns = ["id", "activity", "provider", "locality", "needs", "cost", "schedule", "access",
               "hops", "route"]
    # A byte-order mark first, so Excel reads the file as UTF-8 (£, accents, dashes).
    return {"content": "\ufeff" + to_csv(rows, columns), "filename": f"pathways-{worker}.csv",
            "type": "text/csv"}
