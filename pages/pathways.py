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
from pathways.views import KIND_STYLE, MAX_ELEMENTS, pathway_elements, stylesheet
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
            dcc.Store(id="pw-result"),
        ]
    )


def _filter(needs, locality, free, access) -> PathwayFilter:
    return PathwayFilter(tuple(needs or ()), locality or None, "free" in (free or []),
                         tuple(access or ()))


@callback(
    Output("pw-result", "data"),
    Output("pw-table", "data"),
    Output("pw-table", "selected_rows"),
    Output("pw-message", "children"),
    Input("pw-worker", "value"),
    Input("pw-needs", "value"),
    Input("pw-locality", "value"),
    Input("pw-free", "value"),
    Input("pw-access", "value"),
    Input("pw-hops", "value"),
)
def find_pathways(worker, needs, locality, free, access, hops):
    if not worker:
        return None, [], [], ""
    if not isinstance(hops, int) or not 1 <= hops <= MAX_MAX_HOPS:
        return no_update, no_update, no_update, _alert(
            f"Longest route must be a whole number from 1 to {MAX_MAX_HOPS}.")
    store = get_store()
    try:
        result = pathways_from(store, worker, _filter(needs, locality, free, access), hops)
        rows = with_details(store, result)
    except PathwaysError as exc:
        return None, [], [], _alert(str(exc))
    count = len(rows)
    message = (f"{result['from']['name']} can reach {count} matching "
               f"activit{'y' if count == 1 else 'ies'} within {hops} hops.")
    if not count:
        message += " Try fewer filters or a longer route."
    return result, rows, [], html.P(message, className="summary")


@callback(
    Output("pw-graph", "elements"),
    Input("pw-result", "data"),
    Input("pw-table", "selected_rows"),
    State("pw-table", "data"),
    State("pw-hops", "value"),
)
def draw_network(result, selected_rows, rows, hops):
    if not result:
        return []
    store = get_store()
    selected = rows[selected_rows[0]]["id"] if selected_rows and rows else None
    context = pathways_from(store, result["from"]["id"], PathwayFilter(), hops or DEFAULT_MAX_HOPS)
    ids = {n["id"] for a in context["activities"] for n in a["path"]} | {result["from"]["id"]}
    elements, _trimmed = pathway_elements(result, store.relationships_among(sorted(ids)),
                                          context, selected, MAX_ELEMENTS)
    return elements


@callback(
    Output("pw-details", "children"),
    Input("pw-table", "selected_rows"),
    State("pw-table", "data"),
    State("pw-result", "data"),
)
def show_details(selected_rows, rows, result):
    if not selected_rows or not rows:
        return html.P("Select an activity to see its route and how to refer.", className="hint")
    row = rows[selected_rows[0]]
    store = get_store()
    info = store.activity_details([row["id"]]).get(row["id"], {})
    route = next((a["path"] for a in (result or {}).get("activities", []) if a["id"] == row["id"]), [])
    contacts = []
    for node in route[1:]:
        found = store.get_node(node["id"])
        if found and (found[1].get("phone") or found[1].get("email")):
            props = found[1]
            contacts.append(html.Li(f"{props['name']}: "
                                    + " · ".join(v for v in (props.get("phone"), props.get("email")) if v)))
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
    State("pw-table", "data"),
    State("pw-result", "data"),
    prevent_initial_call=True,
)
def download_csv(_clicks, rows, result):
    if not rows:
        return no_update
    columns = ["id", "activity", "provider", "locality", "needs", "cost", "schedule", "access",
               "hops", "route"]
    worker = (result or {}).get("from", {}).get("id", "pathways")
    # A byte-order mark first, so Excel reads the file as UTF-8 (£, accents, dashes).
    return {"content": "\ufeff" + to_csv(rows, columns), "filename": f"pathways-{worker}.csv",
            "type": "text/csv"}
