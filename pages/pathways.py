"""Pathways page, for link workers: where can I refer this person, and by which route?

Pick a link worker and what matters to the person (needs, locality, free only, access
needs); see reachable activities as a table and as a network with the routes highlighted.
Contact details are shown here, on demand, because link workers need them to refer.
"""

from __future__ import annotations

import dash
import dash_cytoscape as cyto
from dash import Input, Output, State, callback, dcc, html, no_update

from pathways.analysis.pathways import pathways_from, with_details
from pages._components import (HOPS_PROBLEM, PAGE_ALERT, alert, button, choices, csv_download,
                               drawn, filter_choices, guarded, hint, hops_input, hops_or_none, ids,
                               is_empty, no_data, page_alert, selected_id, table)
from pathways.model import COMMON_ACCESS_TAGS, NodeKind, PersonRole
from pathways.store import PathwayFilter
from pathways.reports.network_views import KIND_STYLE, MAX_ELEMENTS, pathway_elements, stylesheet, web_link
from pathways.webstore import get_store

# The graph runs this layout (via drawn()) whenever the set of elements changes.
LAYOUT = {"name": "breadthfirst", "directed": True, "spacingFactor": 1.1}

dash.register_page(__name__, path="/", name="Pathways", title="Pathways · Thriving Pathways", order=0)

TABLE_COLUMNS = [
    ("activity", "Activity"),
    ("provider", "Provider"),
    ("locality", "Locality"),
    ("cost", "Cost"),
    ("schedule", "When"),
    ("hops", "Hops"),
]
ANYWHERE = ""
for _long_list in ("pw-worker", "pw-needs", "pw-locality", "pw-access"):
    filter_choices(_long_list)


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


def layout(**_query):
    return guarded(_layout)


def _layout() -> html.Div:
    title = [html.H1("Pathways from a link worker"), page_alert()]
    if is_empty(get_store()):
        return html.Div(title + [no_data()])
    workers, needs, places, access = _options()
    if not workers:
        return html.Div(title + [alert("No link workers in the graph yet: load people with the "
                                       "role link_worker (`pathways load FILES`).")])
    controls = html.Form(
        [
            choices("Link worker", "pw-worker", workers, workers[0]["value"], scroll=True),
            choices("What matters to the person (any of)", "pw-needs", needs, [], multi=True,
                    scroll=True),
            choices("Where the activity is", "pw-locality",
                    [{"label": "Anywhere", "value": ANYWHERE}] + places, ANYWHERE, scroll=True),
            choices("Access needs (all of)", "pw-access", access, [], multi=True, scroll=True),
            html.Div([choices("Cost", "pw-free", [{"label": "Free activities only",
                                                   "value": "free"}], [], multi=True),
                      hops_input("pw-hops")], className="field-stack"),
        ],
        className="controls",
        **{"aria-label": "Find activities"},
    )
    return html.Div(
        title + [
            html.P("Activities a link worker can reach along referral routes, shortest route "
                   "first. Demo data is illustrative, not real timetables or staff.",
                   className="lede"),
            controls,
            html.Div(id="pw-message", **{"aria-live": "polite"}),
            html.Div(
                [
                    html.Section(
                        [html.H2("Reachable activities"),
                         hint("Select a row (click it, or move to it and press Space or Enter) "
                              "to see its route and how to refer."),
                         button("Download CSV (Excel)", "pw-download-button"),
                         dcc.Download(id="pw-download"),
                         table("pw-table", TABLE_COLUMNS, "Reachable activities", page_size=15),
                         html.Div(id="pw-details", className="details", **{"aria-live": "polite"})],
                        className="results",
                    ),
                    html.Section(
                        [html.H2("Referral network"), _legend(),
                         html.P(id="pw-graph-text", className="hint"),
                         cyto.Cytoscape(id="pw-graph", elements=[], stylesheet=stylesheet(),
                                        layout=LAYOUT, autoRefreshLayout=False,
                                        className="graph", minZoom=0.2, maxZoom=3,
                                        style={"width": "100%"})],
                        className="network",
                        **{"aria-label": "Referral network (the table and the route under it "
                                         "give the same facts as text)"},
                    ),
                ],
                className="two-columns",
            ),
        ]
    )


def _query(worker, needs, locality, free, access, hops) -> tuple[str, PathwayFilter, int] | None:
    """The question the form asks, checked: (worker id, filter, hops), or None when the form
    is incomplete.  Everything shown is recomputed from this, never from what the browser
    sends back (tables, routes, results)."""
    if not isinstance(worker, str) or not worker:
        return None
    if hops_or_none(hops) is None:
        return None
    where = PathwayFilter(ids(needs), locality if isinstance(locality, str) and locality else None,
                          "free" in ids(free), ids(access))
    return worker, where, hops


FORM = (Input("pw-worker", "value"), Input("pw-needs", "value"), Input("pw-locality", "value"),
        Input("pw-free", "value"), Input("pw-access", "value"), Input("pw-hops", "value"))
FORM_STATE = tuple(State(i.component_id, i.component_property) for i in FORM)


@callback(
    Output("pw-table", "rowData"),
    Output("pw-table", "selectedRows"),
    Output("pw-message", "children"),
    Output(PAGE_ALERT, "children", allow_duplicate=True),
    *FORM,
    prevent_initial_call="initial_duplicate",
)
def find_pathways(worker, needs, locality, free, access, hops):
    if not worker:
        return [], [], hint("Pick a link worker."), None
    query = _query(worker, needs, locality, free, access, hops)
    if query is None:
        return no_update, no_update, alert(HOPS_PROBLEM), None
    store = get_store()
    worker, where, hops = query

    def read():
        found = pathways_from(store, worker, where, hops)
        return found, with_details(store, found)

    result, rows = store.consistent(read)
    count = len(rows)
    message = (f"{result['from']['name']} can reach {count} matching "
               f"activit{'y' if count == 1 else 'ies'} within {hops} hops.")
    if not count:
        message += " Try fewer filters or a longer route."
    return rows, [], html.P(message, className="summary"), None  # an earlier error is over


@callback(
    Output("pw-graph", "elements"),
    Output("pw-graph", "layout"),
    Output("pw-graph-text", "children"),
    *FORM,
    Input("pw-table", "selectedRows"),
)
def draw_network(worker, needs, locality, free, access, hops, selected_rows):
    query = _query(worker, needs, locality, free, access, hops)
    if query is None:
        return [], drawn(LAYOUT, []), ""
    store = get_store()
    worker, where, hops = query

    def read():
        result = pathways_from(store, worker, where, hops)
        context = pathways_from(store, worker, PathwayFilter(), hops)
        ids_ = {n["id"] for a in context["activities"] for n in a["path"]} | {worker}
        return result, context, store.relationships_among(sorted(ids_))

    result, context, relationships = store.consistent(read)
    picked = selected_id(selected_rows)
    elements, trimmed = pathway_elements(result, relationships, context, picked, MAX_ELEMENTS)
    shown = len(result["activities"])
    text = (f"The graph shows the routes from {result['from']['name']} to the {shown} matching "
            f"activit{'y' if shown == 1 else 'ies'} in the table (outlined), other reachable "
            "activities dimmed")
    chosen = next((a for a in result["activities"] if a["id"] == picked), None)
    text += (f"; the selected route, in orange: {' → '.join(n['name'] for n in chosen['path'])}."
             if chosen else ".")
    if trimmed:
        text += " Large network: only part of it is drawn."
    return elements, drawn(LAYOUT, elements), text


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
    Input("pw-table", "selectedRows"),
    *FORM_STATE,
)
def show_details(selected_rows, worker, needs, locality, free, access, hops):
    empty = hint("No activity selected yet.")
    activity_id = selected_id(selected_rows)
    query = _query(worker, needs, locality, free, access, hops)
    if activity_id is None or query is None:
        return empty
    store = get_store()
    found = store.consistent(lambda: _route_details(store, query, activity_id))
    if found is None:  # not one of this worker's matching activities (or a stale selection)
        return empty
    row, info, route = found["row"], found["info"], found["activity"]["path"]
    contacts = [item for props in found["on_route"] if (item := _contact(props)) is not None]
    return html.Div(
        [
            html.H3(row["activity"]),
            html.P(info.get("description", "")),
            html.Dl([
                html.Dt("Route"), html.Dd(" → ".join(n["name"] for n in route), id="pw-route"),
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


CSV_COLUMNS = ["id", "activity", "provider", "locality", "needs", "cost", "schedule", "access",
               "hops", "route"]


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
    rows = store.consistent(lambda: with_details(store, pathways_from(store, worker, where, hops)))
    if not rows:
        return no_update
    return csv_download(rows, CSV_COLUMNS, f"pathways-{worker}.csv")
