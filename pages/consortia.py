"""Consortia page, for commissioners: who could respond together to an opportunity?

Pick needs and localities (and filters); see which organisations cover each cell, two or
three suggested consortia side by side with their reasons, and the chosen one on a graph.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from pages._access import Role, allowed
from pages._components import (
    PAGE_ALERT,
    alert,
    aria,
    button,
    choices,
    csv_text_download,
    drawn,
    filter_choices,
    guarded,
    hint,
    html_download,
    ids,
    is_empty,
    no_data,
    number_field,
    page_alert,
    table,
)
from pages._consortium_card import consortium_card
from pages._funders import funders_section
from pages._network import (
    legend,
    network_body,
    node_details_callback,
    node_facts_list,
    png_button,
)
from pages._state import QueryReader, state_id, state_update, url_state
from pages._wire import warm_on_start
from pathways.analysis.consortia import (
    MemberContacts,
    Opportunity,
    Suggestions,
    consortium_network,
    consortium_suggestions,
    report_contacts,
)
from pathways.analysis.snapshot import cached_analysis, cached_per_version
from pathways.model import COMMON_ACCESS_TAGS, NodeKind
from pathways.reports.consortium_workbook import workbook_bytes
from pathways.reports.network_views import network_elements
from pathways.reports.render_consortia import as_csv, as_html_summary
from pathways.webstore import get_store

# The graph runs this layout (via drawn()) whenever the set of elements changes.
LAYOUT = {"name": "cose", "animate": False, "randomize": False}

PATH = "/consortia"
MAX_MEMBERS = 20
DEFAULT_SIZE = 4
dash.register_page(__name__, path=PATH, name="Consortia",
                   title="Consortia · Thriving Pathways", order=2)
for _long_list in ("co-needs", "co-places"):
    filter_choices(_long_list)


def layout(**query):
    """The page with the opportunity in its address (``?needs=…&places=…&access=…&free=1&size=4``);
    ids or names of needs and localities; anything unknown is noted, not used."""
    return guarded(lambda: _layout(query))


def _layout(query: dict):
    store = get_store()
    read = QueryReader(query, ("size",))
    title = [html.H1("Consortia for a commissioning opportunity"), page_alert()]
    if is_empty(store):
        return html.Div(title + [read.notes(), url_state(PATH, {}), no_data()])
    needs, places = store.consistent(lambda: cached_per_version(
        store, "consortia page options", lambda: _read_options(store)))
    if not needs or not places:
        missing = " and no ".join(kind for kind, got in (("needs", needs), ("localities", places))
                                  if not got)
        return html.Div(title + [alert(
            f"No {missing} in the graph: consortia are suggested for needs in localities. "
            "A directory feed places an activity in a locality from the town or postcode of "
            "its address; add the missing ones (localities.csv, needs.csv and their "
            "relationships) under Upload data on the Data page, or with `pathways load FILES`.")])
    access = [{"label": t.replace("_", " "), "value": t} for t in COMMON_ACCESS_TAGS]
    state: dict[str, Any] = {
        "needs": read.choices("needs", _named(needs), [needs[0]["value"]], "Need"),
        "places": read.choices("places", _named(places), [p["value"] for p in places[:2]],
                               "Locality"),
        "access": read.choices("access", _named(access), [], "Access need"),
        "free": read.flag("free", "Free activities only"),
        "size": read.number("size", 1, MAX_MEMBERS, DEFAULT_SIZE, "Most members"),
    }
    title += [read.notes(), url_state(PATH, state, query)]
    return html.Div(title + [
        html.P("Which organisations could deliver together, where their offers overlap, and what "
               "nobody covers yet.", className="lede"),
        html.Form([
            choices("Needs", "co-needs", needs, state["needs"], multi=True, scroll=True),
            choices("Localities", "co-places", places, state["places"], multi=True, scroll=True),
            choices("Access needs (all of)", "co-access", access, state["access"], multi=True,
                    scroll=True),
            html.Div([
                choices("Cost", "co-free", [{"label": "Free activities only", "value": "free"}],
                        ["free"] if state["free"] else [], multi=True),
                number_field("Most members", "co-size", 1, MAX_MEMBERS, state["size"]),
            ], className="field-stack"),
        ], className="controls", **aria({"aria-label": "Opportunity"})),
        html.Div(id="co-message", **aria({"aria-live": "polite"})),
        html.Section([
            html.H2("Who covers each cell"),
            table("co-cells", [("need", "Need"), ("locality", "Locality"),
                               ("organisations", "Organisations")], "Who covers each cell",
                  selectable=False, row_classes={"uncovered": "params.data.count == 0"}),
        ], className="results"),
        html.Section([
            html.H2("Suggested consortia"),
            html.Div(id="co-suggestions", className="cards"),
            choices("Show on the graph", "co-choice", [], 0),
            html.Div([button("Download suggestions (CSV)", "co-csv-button"),
                      button("Printable brief (HTML)", "co-print-button"),
                      button("Brief workbook (XLSX)", "co-xlsx-button"),
                      dcc.Download(id="co-download")], className="button-row"),
            hint("The printable brief is for the suggestion chosen under \"Show on the graph\" "
                 "(the workbook has every suggestion); contacts are in them only for link "
                 "workers and above."),
        ], className="results"),
        html.Section([
            html.H2("The chosen consortium"),
            html.P("Members are outlined; needs and localities of cells it leaves uncovered are "
                   "outlined too.", className="hint"),
            legend(),
            network_body("co-graph", LAYOUT, "co-node"),
            html.Div(png_button("co-graph", "consortium-network"), className="button-row"),
            html.Div(id="co-graph-text"),
        ], className="network", **aria({"aria-label": "The chosen consortium (also listed as text)"})),
        funders_section(),
        dcc.Store(id="co-query"),
    ])


def _read_options(store) -> tuple[list[dict], list[dict]]:
    """The needs and localities to choose from, read once per data version (shared: do not
    modify them); listing them by kind took 0.1 s of each visit at 100k nodes."""
    return ([{"label": n["name"], "value": n["id"]} for n in store.list_nodes(NodeKind.NEED)],
            [{"label": n["name"], "value": n["id"]} for n in store.list_nodes(NodeKind.LOCALITY)])


def _named(options: list[dict]) -> dict[str, str]:
    return {o["value"]: o["label"] for o in options}


def _ids(value) -> list[str]:
    return list(ids(value)) if isinstance(value, list) else []


def _report(store, query: dict) -> Suggestions:
    """The consortium suggestions for a query, recomputed on the server (cached per data
    version: the graph and the print and download buttons ask for the same report).  The
    page does not show the natural groupings, so they are not computed (at 100k nodes they
    are most of a first call)."""
    opp = Opportunity(tuple(query["needs"]), tuple(query["places"]), query["free"],
                      tuple(query["access"]))
    return cached_analysis(store, ("consortia page", opp, query["size"]),
                           lambda _graph: consortium_suggestions(store, opp,
                                                                 max_size=query["size"]))


@warm_on_start
def _first_view(store) -> None:
    """Compute the page's first view (what its layout picks when the address names nothing)
    before the workers fork (pathways/cli/workers.py), so its first visitors share one
    report and whatever the suggestions index per snapshot."""
    if is_empty(store):
        return
    needs, places = store.consistent(lambda: cached_per_version(
        store, "consortia page options", lambda: _read_options(store)))
    if needs and places:
        query = {"needs": [needs[0]["value"]], "places": [p["value"] for p in places[:2]],
                 "access": [], "free": False, "size": DEFAULT_SIZE}
        store.consistent(lambda: _report(store, query))


def _report_and_contacts(store, query: dict) -> tuple[Suggestions,
                                                      dict[str, MemberContacts] | None]:
    """The report and, only when this request's role may see contact details (link workers
    and above; checked here, on the server), its members' contacts."""
    report = _report(store, query)
    return report, report_contacts(store, report) if allowed(Role.LINK_WORKER) else None


def _checked(query) -> dict | None:
    """The query the browser holds, checked again: only ids and filters, never results."""
    if not isinstance(query, dict):
        return None
    size = query.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_MEMBERS:
        return None
    checked = {"needs": _ids(query.get("needs")), "places": _ids(query.get("places")),
               "access": _ids(query.get("access")), "free": query.get("free") is True,
               "size": size}
    return checked if checked["needs"] and checked["places"] else None


def _choice(report: Suggestions, index) -> int:
    ok = isinstance(index, int) and not isinstance(index, bool)
    return index if ok and 0 <= index < len(report["suggestions"]) else 0


@callback(
    Output("co-query", "data"),
    Output("co-cells", "rowData"),
    Output("co-suggestions", "children"),
    Output("co-choice", "options"),
    Output("co-choice", "value"),
    Output("co-message", "children"),
    Output(PAGE_ALERT, "children", allow_duplicate=True),
    Output(state_id(PATH), "data"),
    Input("co-needs", "value"),
    Input("co-places", "value"),
    Input("co-access", "value"),
    Input("co-free", "value"),
    Input("co-size", "value"),
    prevent_initial_call="initial_duplicate",
)
def suggest(needs, places, access, free, size):
    needs, places = _ids(needs), _ids(places)
    if not needs or not places:
        return (None, [], [], [], 0, hint("Pick at least one need and one locality."), None,
                no_update)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_MEMBERS:
        return (no_update,) * 5 + (alert(f"Most members must be a whole number from 1 to "
                                         f"{MAX_MEMBERS}."), None, no_update)
    query = {"needs": needs, "places": places, "access": _ids(access),
             "free": "free" in _ids(free), "size": size}
    store = get_store()
    report, contacts = store.consistent(lambda: _report_and_contacts(store, query))
    names = report["names"]
    cells = [{"id": f"{c['need']}|{c['locality']}", "need": names[c["need"]],
              "locality": names[c["locality"]],
              "organisations": ", ".join(o["name"] for o in c["organisations"]) or "nobody covers this",
              "count": len(c["organisations"])} for c in report["cells"]]
    cards = [consortium_card(report, rank, s, contacts)
             for rank, s in enumerate(report["suggestions"], 1)]
    options = [{"label": f"Suggestion {i + 1}", "value": i} for i in range(len(report["suggestions"]))]
    summary = html.P(f"{len(report['uncoverable'])} of {len(report['cells'])} cells no organisation "
                     f"covers; {len(report['overlaps'])} cells covered by more than one.",
                     className="summary")
    return (query, cells, cards or html.P("No organisation covers any cell."), options, 0, summary,
            None, state_update(PATH, query))


@callback(Output("co-graph", "elements"), Output("co-graph", "layout"),
          Output("co-graph-text", "children"),
          Input("co-query", "data"), Input("co-choice", "value"))
def draw(query, index):
    query = _checked(query)
    if query is None:
        return [], drawn(LAYOUT, []), ""
    store = get_store()
    found = store.consistent(lambda: _network(store, query, index))
    if found is None:
        return [], drawn(LAYOUT, []), hint("No consortium to draw.")
    network, choice = found
    marked = set(network["members"]) | set(network["uncovered"])
    elements, _trimmed = network_elements(network, marked)
    names = {n["id"]: n["name"] for n in network["nodes"]}
    items = ([(f"Member: {names.get(m, m)}", m) for m in network["members"]]
             + [(f"Uncovered: {names.get(u, u)}", u) for u in network["uncovered"]])
    return elements, drawn(LAYOUT, elements), node_facts_list(
        f"Suggestion {choice + 1} on the graph", items, "co-graph-list", "co-graph")


def _network(store, query: dict, index) -> tuple[Any, int] | None:
    """The chosen suggestion's network for a checked query and which suggestion it is, or None
    when nothing is suggested."""
    report: Any = _report(store, query)
    if not report["suggestions"]:
        return None
    choice = _choice(report, index)
    return consortium_network(store, report, choice), choice


def _drawn_network(store, query, index) -> Any:
    """The network the graph shows for the query and choice the browser holds (checked again)."""
    query = _checked(query)
    found = None if query is None else _network(store, query, index)
    return None if found is None else found[0]


# A click on a node (or its button in the list) says what it is; no contact details here.
node_details_callback("co-graph", "co-node", _drawn_network,
                      (State("co-query", "data"), State("co-choice", "value")))


@callback(
    Output("co-download", "data"),
    Input("co-csv-button", "n_clicks"),
    Input("co-print-button", "n_clicks"),
    Input("co-xlsx-button", "n_clicks"),
    State("co-query", "data"),
    State("co-choice", "value"),
    prevent_initial_call=True,
)
def download(_csv, _print, _xlsx, query, index):
    query = _checked(query)
    if query is None:
        return no_update
    store = get_store()
    report, contacts = store.consistent(lambda: _report_and_contacts(store, query))
    if not report["suggestions"]:
        return no_update
    if dash.ctx.triggered_id == "co-print-button":
        index = _choice(report, index)
        return html_download(as_html_summary(report, index, contacts),
                             f"consortium-{index + 1}.html")
    if dash.ctx.triggered_id == "co-xlsx-button":
        return dcc.send_bytes(workbook_bytes(report, contacts), "consortium-brief.xlsx")
    return csv_text_download(as_csv(report), "consortia.csv")
