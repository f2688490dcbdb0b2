"""Pathways page, for link workers: where can I refer this person, and how?

A link worker picks themself, finds what fits the person (search by words, their postcode's
locality, needs, access, age, the days and times they can make, free, self-referral), reads
how to refer to an activity (who to contact first, the method, the wait, what the person
will find, how fresh the entry is), ticks two or three into a shortlist and opens the
printable referral sheet (pages/shortlist.py).  The network shows the routes.

Privacy: contact details of services and staff are shown here, on demand, because link
workers need them to refer.  Nothing about the person being referred leaves this page: their
postcode, age and times are never put in the page's address or in the referral sheet; the
sheet's address holds only the link worker and the chosen activities.

The server trusts nothing the browser sends back: every callback recomputes from the form's
ids and filters (tables, routes, shortlists and search hits are looked up again).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from pages._components import (
    HOPS_PROBLEM,
    PAGE_ALERT,
    alert,
    button,
    choices,
    csv_download,
    drawn,
    filter_choices,
    guarded,
    hint,
    hops_input,
    hops_or_none,
    ids,
    is_empty,
    no_data,
    page_alert,
    selected_id,
    table,
)
from pages._network import legend, network_body, node_details_callback, png_button
from pages._referral import (
    SHORTLIST_KEY,
    aria,
    contacts,
    first_step,
    freshness,
    pairs,
    sheet_address,
    what_they_find,
)
from pages._state import QueryReader, state_id, state_update, url_state
from pages._wire import wire
from pathways.analysis.evidence import linked_with_evidence
from pathways.analysis.pathways import (
    PathwayFilter,
    Pathways,
    ReachableActivity,
    pathways_from,
    with_details,
)
from pathways.analysis.places import TimesError, describe_times, locality_for_postcode, parse_times
from pathways.analysis.referral import HowToRefer, how_to_refer
from pathways.analysis.search import SearchHit
from pathways.analysis.search import search as search_words
from pathways.analysis.shortlist import MAX_SHORTLIST, decode_shortlist, encode_shortlist
from pathways.analysis.snapshot import cached_per_version
from pathways.model import (
    COMMON_ACCESS_TAGS,
    DEFAULT_MAX_HOPS,
    MAX_MAX_HOPS,
    NodeKind,
    PersonRole,
    RelType,
    TimeSlot,
)
from pathways.reports.network_views import (
    MAX_ELEMENTS,
    pathway_elements,
)
from pathways.webstore import get_store

# The graph runs this layout (via drawn()) whenever the set of elements changes.
LAYOUT = {"name": "breadthfirst", "directed": True, "spacingFactor": 1.1}

PATH = "/"
OWN_KEYS = ("self_referral", SHORTLIST_KEY)  # besides the shared keys of pages/_state.py
dash.register_page(__name__, path=PATH, name="Pathways", title="Pathways · Thriving Pathways", order=0)

TABLE_COLUMNS = [
    ("activity", "Activity"),
    ("provider", "Provider"),
    ("locality", "Locality"),
    ("cost", "Cost"),
    ("schedule", "When"),
    ("hops", "Hops"),
]
ANYWHERE = ""
MAX_AGE = 120
SEARCH_HITS = 8
for _long_list in ("pw-worker", "pw-needs", "pw-locality", "pw-access"):
    filter_choices(_long_list)


# --- what the person said: read, never kept ------------------------------------------------

def _parse_times(text) -> tuple[tuple[TimeSlot, ...], str | None]:
    """The times typed, as slots, and what could not be read, in plain English (None when
    they read)."""
    if not isinstance(text, str) or not text.strip():
        return (), None
    try:
        return parse_times(text), None
    except TimesError as exc:
        return (), str(exc)


def _search(store, words: str) -> list[SearchHit]:
    return search_words(store, words, limit=SEARCH_HITS)


# --- the form -------------------------------------------------------------------------------

def _options() -> tuple[list, list, list, list]:
    """The form's choices, read once per data version (shared: do not modify them).  The
    access needs come from every activity: at 100k nodes reading them took 0.6 s of each
    visit to this page."""
    store = get_store()
    return store.consistent(lambda: cached_per_version(store, "pathways page options",
                                                       lambda: _read_options(store)))


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


def _text_input(label: str, control_id: str, note: str, **kwargs) -> html.Div:
    """A labelled text box whose note (and any problem) is announced with it."""
    control = dcc.Input(id=control_id, className="text-input", debounce=True, **kwargs)
    return html.Div([html.Label(label, htmlFor=control_id), control,
                     hint(note, id=f"{control_id}-note"),
                     html.Div(id=f"{control_id}-problem", className="field-problem",
                              **aria({"aria-live": "polite"}))],
                    className="field")


def _person_fields() -> html.Fieldset:
    """What the link worker knows about the person: used here, never put in an address."""
    return html.Fieldset(
        [
            html.Legend("About the person (stays on this page)"),
            html.Div([
                _text_input("Their postcode", "pw-postcode", "Sets the locality below.",
                            type="text", autoComplete="off", maxLength=10),
                button("Find their locality", "pw-postcode-button"),
            ], className="field-with-button"),
            html.Div([html.Label("Their age", htmlFor="pw-age"),
                      dcc.Input(id="pw-age", type="number", min=0, max=MAX_AGE, step=1,
                                inputMode="numeric", debounce=True),
                      hint("Years; leave empty for any age.", id="pw-age-note")],
                     className="field"),
            _text_input("Days and times they can make", "pw-times",
                        "For example: Tuesday mornings, weekdays after 5pm, Sat 10-12.",
                        type="text", autoComplete="off", maxLength=200),
        ],
        className="field person-fields",
    )


def _search_box() -> html.Div:
    return html.Div(
        [
            html.Label("Search activities, services and organisations", htmlFor="pw-search"),
            html.Div([dcc.Input(id="pw-search", type="search", debounce=True, maxLength=100,
                                autoComplete="off", className="text-input"),
                      button("Search", "pw-search-button")], className="field-with-button"),
            hint("Words from a name or description, e.g. 'walk' or 'art group'; near "
                 "spellings count.", id="pw-search-note"),
            html.Div(id="pw-search-results", **aria({"aria-live": "polite"})),
            html.Div(id="pw-search-message", **aria({"aria-live": "polite"})),
        ],
        className="search-box", role="search",
    )


def layout(**query):
    return guarded(lambda: _layout(query))


def _initial(read: QueryReader, query: dict, workers, needs, places, access, store) -> dict:
    """The form's starting values from the page's address, each checked against the
    choices the page offers (:class:`QueryReader` notes anything it drops).  Names are
    accepted as well as ids (``?worker=Pat Example``)."""
    def named(options):
        return {o["value"]: o["label"].split(" — ")[0] for o in options}

    place = read.choices("places", named(places), [], "Locality")
    token = query.get(SHORTLIST_KEY)
    shortlist = decode_shortlist(store, token if isinstance(token, str) else "")
    read.messages += list(shortlist.problems)
    listed = {o["value"] for o in workers}
    default = shortlist.worker_id if shortlist.worker_id in listed else workers[0]["value"]
    return {
        "worker": read.choice("worker", named(workers), default, "Link worker"),
        "needs": read.choices("needs", named(needs), [], "Need"),
        "locality": place[0] if place else ANYWHERE,
        "access": read.choices("access", named(access) | {o["value"]: o["value"]
                                                          for o in access}, [], "Access need"),
        "free": ["free"] if read.flag("free", "Free only") else [],
        "self": ["self"] if read.flag("self_referral", "Self-referral only") else [],
        "hops": read.number("hops", 1, MAX_MAX_HOPS, DEFAULT_MAX_HOPS, "Longest route"),
        "items": list(shortlist.activity_ids),
    }


def _address(worker, needs, locality, free, access, hops, self_referral, items) -> dict:
    """What the page's address holds: ids and filter values only, never the person's
    postcode, age or times."""
    return {"worker": worker, "needs": list(ids(needs)),
            "places": [locality] if isinstance(locality, str) and locality else [],
            "access": list(ids(access)), "free": "free" in ids(free),
            "self_referral": "self" in ids(self_referral), "hops": hops,
            SHORTLIST_KEY: encode_shortlist(list(ids(items))[:MAX_SHORTLIST], worker)
            if ids(items) else None}


def _layout(query: dict) -> html.Div:
    read = QueryReader(query, OWN_KEYS)
    title = [html.H1("Pathways from a link worker"), page_alert()]
    store = get_store()
    if is_empty(store):
        return html.Div(title + [no_data()])
    workers, needs, places, access = _options()
    if not workers:
        return html.Div(title + [alert(
            "No link workers in the graph yet: pathways start from a link worker, and directory "
            "feeds hold none. Add people with the role link_worker (people.csv and their "
            "relationships) under Upload data on the Data page, or with `pathways load FILES`; "
            "the Gaps and Map pages list the activities already loaded.")])
    start = store.consistent(lambda: _initial(read, query, workers, needs, places, access, store))
    title += [read.notes(), url_state(PATH, _address(
        start["worker"], start["needs"], start["locality"], start["free"], start["access"],
        start["hops"], start["self"], start["items"]), query)]
    controls = html.Form(
        [
            choices("Link worker", "pw-worker", workers, start["worker"], scroll=True),
            _person_fields(),
            choices("What matters to the person (any of)", "pw-needs", needs, start["needs"],
                    multi=True, scroll=True),
            choices("Where the activity is", "pw-locality",
                    [{"label": "Anywhere", "value": ANYWHERE}] + places, start["locality"],
                    scroll=True),
            choices("Access needs (all of)", "pw-access", access, start["access"], multi=True,
                    scroll=True),
            html.Div([choices("Cost", "pw-free", [{"label": "Free activities only",
                                                   "value": "free"}], start["free"], multi=True),
                      choices("Referral", "pw-self", [{"label": "Self-referral possible",
                                                       "value": "self"}], start["self"],
                              multi=True),
                      hops_input("pw-hops", start["hops"])], className="field-stack"),
        ],
        className="controls",
        **aria({"aria-label": "Find activities"}),
    )
    return html.Div(
        title + [
            dcc.Store(id="pw-shortlist", data=start["items"]),
            html.P("Activities a link worker can reach along referral routes, shortest route "
                   "first. Demo data is illustrative, not real timetables or staff.",
                   className="lede"),
            _search_box(),
            controls,
            html.Div(id="pw-message", **aria({"aria-live": "polite"})),
            html.Div(
                [
                    html.Section(
                        [html.H2("Reachable activities"),
                         hint("Select a row (click it, or move to it and press Space or Enter) "
                              "to see how to refer, and tick it into the shortlist."),
                         button("Download CSV (Excel)", "pw-download-button"),
                         dcc.Download(id="pw-download"),
                         table("pw-table", TABLE_COLUMNS, "Reachable activities", page_size=15),
                         html.Div(dcc.Checklist(id="pw-pick", options=[], value=[],
                                                className="choice-list",
                                                inputClassName="choice-input",
                                                labelClassName="choice-label"),
                                  id="pw-pick-area", className="choices pick", hidden=True),
                         html.Div(id="pw-details", className="details", **aria({"aria-live": "polite"})),
                         html.H2("Shortlist for this person"),
                         html.Div(id="pw-shortlist-view", **aria({"aria-live": "polite"}))],
                        className="results",
                    ),
                    html.Section(
                        [html.H2("Referral network"), legend(),
                         html.P(id="pw-graph-text", className="hint"),
                         network_body("pw-graph", LAYOUT, "pw-node"),
                         html.Div(png_button("pw-graph", "pathways-network"),
                                  className="button-row")],
                        className="network",
                        **aria({"aria-label": "Referral network (the table and the route under it "
                                         "give the same facts as text)"}),
                    ),
                ],
                className="two-columns",
            ),
        ]
    )


def _age(age) -> int | None:
    ok = isinstance(age, int) and not isinstance(age, bool) and 0 <= age <= MAX_AGE
    return age if ok else None


def _query(worker, needs, locality, free, access, hops, age=None, times=None,
           self_referral=None) -> tuple[str, PathwayFilter, int] | None:
    """The question the form asks, checked: (worker id, filter, hops), or None when the form
    is incomplete or a field does not read (its own message says why).  Everything shown is
    recomputed from this, never from what the browser sends back (tables, routes, results)."""
    if not isinstance(worker, str) or not worker:
        return None
    if hops_or_none(hops) is None:
        return None
    if age is not None and _age(age) is None:
        return None
    slots, problem = _parse_times(times)
    if problem:
        return None
    where = PathwayFilter(ids(needs), locality if isinstance(locality, str) and locality else None,
                          "free" in ids(free), ids(access), age=_age(age), times=slots,
                          self_referral_only="self" in ids(self_referral))
    return worker, where, hops


def _problem(age, times, hops) -> str:
    """Why the form does not read, in plain English, for the alert under it."""
    if hops_or_none(hops) is None:
        return HOPS_PROBLEM
    if age is not None and _age(age) is None:
        return f"Their age must be a whole number of years from 0 to {MAX_AGE}."
    return "The days and times could not be read: see the message under that box."


FORM = (Input("pw-worker", "value"), Input("pw-needs", "value"), Input("pw-locality", "value"),
        Input("pw-free", "value"), Input("pw-access", "value"), Input("pw-hops", "value"),
        Input("pw-age", "value"), Input("pw-times", "value"), Input("pw-self", "value"))
FORM_STATE = tuple(State(i.component_id, i.component_property) for i in FORM)


@callback(
    Output("pw-table", "rowData"),
    Output("pw-table", "selectedRows"),
    Output("pw-message", "children"),
    Output(PAGE_ALERT, "children", allow_duplicate=True),
    *FORM,
    prevent_initial_call="initial_duplicate",
)
def find_pathways(worker, needs, locality, free, access, hops, age, times, self_referral):
    if not worker:
        return [], [], hint("Pick a link worker."), None
    query = _query(worker, needs, locality, free, access, hops, age, times, self_referral)
    if query is None:
        return no_update, no_update, alert(_problem(age, times, hops)), None
    store = get_store()
    worker, where, hops = query

    def read():
        found = pathways_from(store, worker, where, hops)
        return found, with_details(store, found)

    result, rows = store.consistent(read)
    count = len(rows)
    message = (f"{result['from']['name']} can reach {count} matching "
               f"activit{'y' if count == 1 else 'ies'} within {hops} hops.")
    unknown = sum(1 for a in result["activities"] if a.get("schedule_unknown"))
    if unknown:
        message += (f" {unknown} of them give no days or times to compare: check with the "
                    "provider.")
    if not count:
        message += " Try fewer filters or a longer route."
    # As plain JSON (pages/_wire.py): one Dash component in the answer made Plotly's encoder
    # walk every row in Python (a third of this callback's time at 100k nodes).
    return rows, [], wire(html.P(message, className="summary")), None  # an earlier error is over


@callback(
    Output("pw-times-problem", "children"),
    Input("pw-times", "value"),
)
def check_times(times):
    """What the times were read as, or what is wrong with them, beside the box."""
    slots, problem = _parse_times(times)
    if problem:
        return f"Not understood: {problem}"
    if slots:
        return hint(f"Read as: {describe_times(slots)}.")
    return None


def _elements(store, query, picked: str | None) -> tuple[Pathways, list[dict], bool]:
    """The network drawn for the form's question: the routes to the matching activities
    (outlined), other reachable ones dimmed, the selected route highlighted."""
    worker, where, hops = query
    result = pathways_from(store, worker, where, hops)
    context = pathways_from(store, worker, PathwayFilter(), hops)
    ids_ = {n["id"] for a in context["activities"] for n in a["path"]} | {worker}
    relationships = store.relationships_among(sorted(ids_))
    elements, trimmed = pathway_elements(result, relationships, context, picked, MAX_ELEMENTS)
    return result, elements, trimmed


def _drawn_network(store, *form) -> dict | None:
    """The nodes and relationships the graph shows now (for a clicked node's details):
    recomputed from the form, never taken from the browser."""
    query = _query(*form)
    if query is None:
        return None
    _result, elements, _trimmed = _elements(store, query, None)
    return {"nodes": [{"id": e["data"]["id"], "name": e["data"]["label"],
                       "kind": e["data"]["kind"]} for e in elements if "source" not in e["data"]],
            "edges": [(e["data"]["source"], e["data"]["label"].upper().replace(" ", "_"), e["data"]["target"])
                      for e in elements if "source" in e["data"]]}


# A click on a node (or a node's button) shows what it is, with the contacts a link worker
# needs to refer (never a person's own).
node_details_callback("pw-graph", "pw-node", _drawn_network, states=FORM_STATE, contacts=True)


@callback(
    Output("pw-graph", "elements"),
    Output("pw-graph", "layout"),
    Output("pw-graph-text", "children"),
    *FORM,
    Input("pw-table", "selectedRows"),
)
def draw_network(worker, needs, locality, free, access, hops, age, times, self_referral,
                 selected_rows):
    query = _query(worker, needs, locality, free, access, hops, age, times, self_referral)
    if query is None:
        return [], drawn(LAYOUT, []), ""
    store = get_store()
    picked = selected_id(selected_rows)
    result, elements, trimmed = store.consistent(lambda: _elements(store, query, picked))
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


# --- how to refer ---------------------------------------------------------------------------

def _matching(store, query, activity_id: str) -> ReachableActivity | None:
    """The activity among the worker's matching activities (with the form's filters), as
    the server sees it, or None when it is not one of them."""
    worker, where, hops = query
    result = pathways_from(store, worker, where, hops)
    return next((a for a in result["activities"] if a["id"] == activity_id), None)


def _referral(store, query, activity_id: str) -> tuple[ReachableActivity, HowToRefer] | None:
    """How to refer to the selected activity, when it is one of the worker's matching
    activities (else None): its route and every contact on it come from the store."""
    activity = _matching(store, query, activity_id)
    if activity is None:
        return None
    worker, _where, hops = query
    return activity, how_to_refer(store, worker, activity_id, hops)


@callback(
    Output("pw-details", "children"),
    Input("pw-table", "selectedRows"),
    *FORM_STATE,
)
def show_details(selected_rows, *form):
    empty = hint("No activity selected yet.")
    activity_id = selected_id(selected_rows)
    query = _query(*form)
    if activity_id is None or query is None:
        return empty
    store = get_store()
    found = store.consistent(lambda: _referral(store, query, activity_id))
    if found is None:  # not one of this worker's matching activities (or a stale selection)
        return empty
    activity, refer = found
    # its needs and localities with their evidence ("... (inferred from 'befriending')")
    shown = store.consistent(lambda: linked_with_evidence(store, activity_id))
    refer = replace(refer, offer=replace(
        refer.offer, needs=tuple(shown["needs"]) or refer.offer.needs,
        localities=tuple(shown["localities"]) or refer.offer.localities))
    return html.Div(
        [
            html.H3(activity["name"]),
            html.P(refer.offer.description) if refer.offer.description else None,
            html.H4("First step"),
            *first_step(refer),
            html.H4("What the person will find"),
            what_they_find(refer),
            html.H4("How fresh this entry is"),
            freshness(refer),
            pairs([("Route", html.Span(" → ".join(n["name"] for n in activity["path"]),
                                        id="pw-route"))]),
            html.H4("How to refer (contacts along the route)"),
            contacts(refer),
        ]
    )


# --- the shortlist --------------------------------------------------------------------------

def _activities_named(store, items) -> list[tuple[str, str]]:
    """(id, name) of each shortlisted id that is an activity, in order; anything else the
    browser sent is dropped."""
    found = []
    for item in ids(items):
        node = store.get_node(item)
        if node is not None and node[0] == NodeKind.ACTIVITY:
            found.append((item, node[1]["name"]))
    return found


@callback(
    Output("pw-pick", "options"),
    Output("pw-pick", "value"),
    Output("pw-pick-area", "hidden"),
    Input("pw-table", "selectedRows"),
    Input("pw-shortlist", "data"),
    *FORM_STATE,
)
def show_pick(selected_rows, shortlist, *form):
    activity_id = selected_id(selected_rows)
    query = _query(*form)
    if activity_id is None or query is None:
        return [], [], True
    store = get_store()
    activity = store.consistent(lambda: _matching(store, query, activity_id))
    if activity is None:
        return [], [], True
    label = f"On the shortlist: {activity['name']}"
    return ([{"label": label, "value": activity_id}],
            [activity_id] if activity_id in ids(shortlist) else [], False)


@callback(
    Output("pw-shortlist", "data"),
    Input("pw-pick", "value"),
    State("pw-table", "selectedRows"),
    State("pw-shortlist", "data"),
    *FORM_STATE,
    prevent_initial_call=True,
)
def tick(picked, selected_rows, shortlist, *form):
    """Tick or untick the selected activity: only one of the worker's matching activities
    goes in (the id is checked on the server)."""
    activity_id = selected_id(selected_rows)
    query = _query(*form)
    items = list(ids(shortlist))
    if activity_id is None or query is None:
        return no_update
    wanted = activity_id in ids(picked)
    if wanted == (activity_id in items):
        return no_update
    if not wanted:
        return [i for i in items if i != activity_id]
    store = get_store()
    if store.consistent(lambda: _matching(store, query, activity_id)) is None:
        return no_update
    return (items + [activity_id])[-MAX_SHORTLIST:]


@callback(
    Output("pw-shortlist", "data", allow_duplicate=True),
    Input({"type": "pw-unpick", "index": ALL}, "n_clicks"),
    State("pw-shortlist", "data"),
    prevent_initial_call=True,
)
def remove(clicks, shortlist):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(c for c in clicks if c):
        return no_update
    return [i for i in ids(shortlist) if i != trigger.get("index")]


@callback(
    Output("pw-shortlist-view", "children"),
    Input("pw-shortlist", "data"),
    Input("pw-worker", "value"),
    Input("pw-hops", "value"),
)
def show_shortlist(shortlist, worker, hops):
    store = get_store()
    chosen = store.consistent(lambda: _activities_named(store, shortlist))
    if not chosen:
        return hint("Nothing on the shortlist yet: select an activity in the table and tick "
                    "'On the shortlist'.")
    items = [html.Li([html.Span(name), " ",
                      html.Button("Remove", id={"type": "pw-unpick", "index": item},
                                  type="button", className="button small",
                                  **aria({"aria-label": f"Remove {name} from the shortlist"}))])
             for item, name in chosen]
    parts: list = [html.Ol(items, className="shortlist")]
    if isinstance(worker, str) and worker:
        parts += [
            html.A("Referral sheet (opens a printable page)", id="pw-sheet-link",
                   href=sheet_address(worker, [item for item, _name in chosen],
                                      hops_or_none(hops) or DEFAULT_MAX_HOPS),
                   target="_blank", rel="noopener", className="button"),
            hint("The sheet and its address name the link worker and the activities only, "
                 "nothing about the person: send the address to a colleague or reopen it "
                 "later."),
        ]
    return parts


# --- search ---------------------------------------------------------------------------------

@callback(
    Output("pw-search-results", "children"),
    Output("pw-search-message", "children", allow_duplicate=True),
    Input("pw-search", "value"),
    Input("pw-search-button", "n_clicks"),
    prevent_initial_call=True,
)
def search(words, _clicks):
    if not isinstance(words, str) or not words.strip():
        return None, None
    store = get_store()
    hits = store.consistent(lambda: _search(store, words))
    if not hits:
        return None, html.P(f"Nothing found for '{words.strip()}'. Try other words.",
                            className="summary")
    return html.Div([
        html.P(f"{len(hits)} found for '{words.strip()}': choose one to see it.",
               className="summary"),
        html.Ul([html.Li(html.Button(f"{hit.name} ({hit.kind.lower()})",
                                     id={"type": "pw-hit", "index": hit.id},
                                     type="button", className="link-button"))
                 for hit in hits], className="hits"),
    ]), None


def _activities_of(store, node_id: str, kind: NodeKind,
                   activities: list[ReachableActivity]) -> list[ReachableActivity]:
    """Those of ``activities`` that the service ``node_id`` offers, or that a service the
    organisation ``node_id`` provides offers."""
    if kind == NodeKind.ORGANISATION:
        services = [s["id"] for s in store.list_nodes(NodeKind.SERVICE)]
        edges = store.relationships_among([node_id, *services])
        offering = {t for s, rel, t in edges if s == node_id and rel == RelType.PROVIDES}
    elif kind == NodeKind.SERVICE:
        offering = {node_id}
    else:
        return []
    edges = store.relationships_among([*offering, *(a["id"] for a in activities)])
    offered = {t for s, rel, t in edges if s in offering and rel == RelType.OFFERS}
    return [a for a in activities if a["id"] in offered]


# Each filter, as the form names it, and its "off" value.
_FILTER_NAMES: dict[str, tuple[str, Any]] = {
    "needs": ("what matters to the person", ()), "locality": ("where the activity is", None),
    "free_only": ("free only", False), "access": ("access needs", ()),
    "age": ("their age", None), "times": ("days and times", ()),
    "self_referral_only": ("self-referral", False),
}


def _filters_leaving_out(store, worker: str, where: PathwayFilter, hops: int,
                         activity_id: str) -> str:
    """The filters the activity does not meet, each tried alone."""
    failed = []
    for field_name, (label, off) in _FILTER_NAMES.items():
        value = getattr(where, field_name)
        if value == off:
            continue
        alone = PathwayFilter(**{field_name: value})
        if not any(a["id"] == activity_id
                   for a in pathways_from(store, worker, alone, hops)["activities"]):
            failed.append(label)
    return ", ".join(failed)


def _unreachable(store, worker: str, who: str, name: str, activity_id: str, hops: int) -> str:
    """Why the worker cannot reach an activity: too few hops, or no referral route at all
    (then whom to contact directly)."""
    text = f"{who} cannot reach {name} within {hops} hop{'' if hops == 1 else 's'}"
    if hops < MAX_MAX_HOPS:
        further = how_to_refer(store, worker, activity_id, MAX_MAX_HOPS)
        if further.reachable:
            return text + (f": it is {further.hops} hops away (set the longest route to "
                           f"{further.hops}).")
    direct = how_to_refer(store, worker, activity_id, hops)
    text += ": none of their referral routes leads there"
    if direct.contacts:
        return text + f"; contact {direct.contacts[0].name} directly."
    return text + "."


def _hit_answer(store, query, hit_id: str) -> tuple[list | None, str]:
    """What choosing a search hit shows: the activity selected in the table when the worker
    reaches it with these filters, else why not; for a service or organisation, which of its
    activities the worker reaches."""
    worker, where, hops = query
    found = store.get_node(hit_id)
    if found is None:
        return None, "That is no longer in the data."
    kind, props = found
    name = props["name"]
    result = pathways_from(store, worker, where, hops)
    who = result["from"]["name"]
    shown = {a["id"]: a for a in result["activities"]}
    if kind == NodeKind.ACTIVITY:
        if hit_id in shown:
            row = with_details(store, {"from": result["from"], "activities": [shown[hit_id]]})[0]
            return [row], f"{name}: selected in the table, how to refer is under it."
        unfiltered = pathways_from(store, worker, PathwayFilter(), hops)
        if any(a["id"] == hit_id for a in unfiltered["activities"]):
            why = _filters_leaving_out(store, worker, where, hops, hit_id)
            return None, (f"{who} can reach {name}, but the filters you set leave it out"
                          + (f" (it does not meet: {why})." if why else "."))
        return None, _unreachable(store, worker, who, name, hit_id, hops)
    offered = _activities_of(store, hit_id, kind, result["activities"])
    if offered:
        listed = ", ".join(a["name"] for a in offered)
        return None, f"{name}: {who} can reach its activities {listed} (in the table)."
    return None, (f"{who} reaches none of {name}'s activities with these filters within "
                  f"{hops} hops.")


@callback(
    Output("pw-table", "selectedRows", allow_duplicate=True),
    Output("pw-search-message", "children", allow_duplicate=True),
    Input({"type": "pw-hit", "index": ALL}, "n_clicks"),
    *FORM_STATE,
    prevent_initial_call=True,
)
def choose_hit(clicks, *form):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(c for c in clicks if c):
        return no_update, no_update
    query = _query(*form)
    if query is None:
        return no_update, alert("Fix the form first (see the message under it).")
    store = get_store()
    rows, message = store.consistent(lambda: _hit_answer(store, query, str(trigger["index"])))
    return (rows if rows is not None else no_update), html.P(message, className="summary")


# --- postcode -------------------------------------------------------------------------------

@callback(
    Output("pw-locality", "value", allow_duplicate=True),
    Output("pw-postcode-problem", "children"),
    Input("pw-postcode-button", "n_clicks"),
    Input("pw-postcode", "value"),
    prevent_initial_call=True,
)
def postcode_locality(_clicks, postcode):
    """The person's postcode → their locality as the filter (longest listed prefix wins);
    an unknown or mistyped postcode says so and leaves the locality as it was."""
    if not isinstance(postcode, str) or not postcode.strip():
        return no_update, None
    store = get_store()
    found = store.consistent(lambda: locality_for_postcode(store, postcode[:20]))
    if found.locality is None:
        return no_update, html.P(_sentence(found.message), className="field-problem-text")
    return found.locality["id"], hint(_sentence(f"{found.message}: locality set"))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


# --- downloads and the address --------------------------------------------------------------

CSV_COLUMNS = ["id", "activity", "provider", "locality", "needs", "cost", "schedule", "access",
               "hops", "route"]


@callback(
    Output("pw-download", "data"),
    Input("pw-download-button", "n_clicks"),
    *FORM_STATE,
    prevent_initial_call=True,
)
def download_csv(_clicks, *form):
    query = _query(*form)
    if query is None:
        return no_update
    store = get_store()
    worker, where, hops = query
    rows = store.consistent(lambda: with_details(store, pathways_from(store, worker, where, hops)))
    if not rows:
        return no_update
    return csv_download(rows, CSV_COLUMNS, f"pathways-{worker}.csv")


@callback(
    Output(state_id(PATH), "data"),
    *FORM,
    Input("pw-shortlist", "data"),
)
def address(worker, needs, locality, free, access, hops, age, times, self_referral, items):
    """The applied filters and the shortlist into the page's address (a change adds a
    history entry); the person's age and times are used but never written there."""
    if _query(worker, needs, locality, free, access, hops, age, times, self_referral) is None:
        return no_update
    return state_update(PATH, _address(worker, needs, locality, free, access, hops,
                                       self_referral, items))
