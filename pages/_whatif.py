"""The Gaps page's "What would close these gaps?" panel (issue 19): the ranked new referral
agreements for the page's hop limit, a form for one's own, and a Simulate button that redraws
the heatmap, the coverage table and the single points of failure for the graph with them,
in memory (nothing is written), under a "Simulated: not saved" banner, with a way back.
Also each top single point of failure with the new route that would protect most of it.

The browser sends only which recommendations are ticked (their rank) and the ids picked in
the own-agreement form; the server recomputes the recommendations and checks every id is a
real node of a kind allowed at that end before simulating.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from pages._components import (
    PAGE_ALERT,
    alert,
    aria,
    button,
    choices,
    error_text,
    field,
    filter_choices,
    hint,
    hops_or_none,
    ids,
)
from pathways.analysis.gaps import GapQuery, GapReport, gap_report
from pathways.analysis.recommend import (
    METHOD,
    RecommendQuery,
    can_receive,
    can_refer,
    find_node,
    protection,
    recommend,
    simulate,
)
from pathways.analysis.snapshot import cached_analysis, cached_snapshot, name_of
from pathways.errors import PathwaysError
from pathways.model import DEFAULT_MAX_HOPS
from pathways.reports.render_recommend import remedy_text, step_text
from pathways.webstore import get_store

MAX_PICKS = 20
SIMULATION = "wi-simulated"  # the dcc.Store saying what is being simulated (see simulation_edges)
LIST_LIMIT = 2000  # possible ends of an own agreement listed as choices; more: a text box
# A simulation must not pass for the real network: a dashed frame (text #1b1b1b on #e8f1f8: 15:1).
BANNER_STYLE = {"background": "#e8f1f8", "border": "2px dashed #0b3d5c", "color": "#1b1b1b",
                "padding": "10px 12px", "borderRadius": "6px", "margin": "12px 0"}


def _endpoint_options(graph, allowed) -> list[dict[str, str]]:
    kinds = {"Person": "link worker", "Organisation": "organisation", "Service": "service"}
    rows = [(name_of(graph, n), n, kinds.get(graph.nodes[n]["kind"].value, ""))
            for n in graph if allowed(graph, n)]
    return [{"label": f"{name} ({kind})", "value": node} for name, node, kind in sorted(rows)]


def _end_field(legend: str, control_id: str, store, allowed) -> Any:
    """A choice list by name; for a very big partnership (more than :data:`LIST_LIMIT`
    possible ends) a text box for a name or an id instead, so the page stays light.  The
    list is made once per data version (every node is looked at: 0.4 s at 100k nodes), not
    on every visit to the Gaps page."""
    options = store.consistent(lambda: cached_analysis(
        store, ("what-if ends", allowed.__name__), lambda graph: _endpoint_options(graph, allowed)))
    if len(options) <= LIST_LIMIT:
        return choices(legend, control_id, options, None, scroll=True)
    return field(f"{legend} (a name or an id)", dcc.Input(id=control_id, type="text"),
                 control_id, note=f"{len(options):,} to choose from: type the exact name.")


def panel() -> html.Section:
    """The panel (its lists are filled for the page's hop limit by :func:`fill`)."""
    store = get_store()
    return html.Section([
        html.H2("What would close these gaps?"),
        html.P("New referral agreements that would let local link workers reach provision that "
               "exists but no one refers to (the amber cells), fewest first. Tick some, or add "
               "your own, then Simulate to see the heatmap and the single points of failure "
               "with them. Nothing is saved.", className="hint"),
        html.Div(id="wi-banner", **aria({"aria-live": "polite"})),
        html.Div(id="wi-summary"),
        choices("Recommended agreements", "wi-picks", [], [], multi=True),
        html.Div([_end_field("Your own agreement: from", "wi-from", store, can_refer),
                  _end_field("to", "wi-to", store, can_receive)], className="controls"),
        html.Div([button("Simulate", "wi-simulate"),
                  button("Back to the real network", "wi-back")], className="button-row"),
        html.P(METHOD, id="wi-method", className="hint"),
        html.H3("Single points of failure, and a second route for each"),
        html.Ul(id="wi-remedies"),
        # What is being simulated, as chosen (ticked ranks, own ends, hop limit), or None: the
        # cell details read it to describe the simulated network; the server recomputes the
        # agreements from it (chosen_edges) every time, never trusting it.
        dcc.Store(id=SIMULATION),
    ], className="results", id="wi-panel")


filter_choices("wi-from")
filter_choices("wi-to")


def _hops(hops) -> int:
    return hops_or_none(hops) or DEFAULT_MAX_HOPS


@callback(
    Output("wi-picks", "options"),
    Output("wi-picks", "value"),
    Output("wi-summary", "children"),
    Output("wi-remedies", "children"),
    Output("wi-banner", "children", allow_duplicate=True),
    Output(SIMULATION, "data", allow_duplicate=True),
    Input("gp-hops", "value"),
    prevent_initial_call="initial_duplicate",
)
def fill(hops):
    """The recommendations and remedies for the page's hop limit (a new limit redraws the real
    network: any simulation is gone)."""
    if hops_or_none(hops) is None:
        return no_update, no_update, no_update, no_update, no_update, no_update
    store = get_store()
    found, kept = store.consistent(
        lambda: (recommend(store, RecommendQuery(max_hops=hops)), protection(store, hops)))
    options = [{"label": f"{s['rank']}. {step_text(s)}", "value": str(s["rank"])}
               for s in found["recommendations"]]
    amber = len(found["amber"])
    summary = hint(
        f"{amber} amber cell{'s' if amber != 1 else ''} (provision exists, no local link worker "
        f"reaches it within {hops} hops); the {len(options)} agreements below would make "
        f"{found['closed']} of them reachable." if options else
        f"{amber} amber cells; no new referral agreement would make one of them reachable.")
    remedies = [html.Li(remedy_text(r)) for r in kept["remedies"]] or [
        html.Li("No single points of failure.")]
    return options, [], summary, remedies, None, None


# How the Gaps page draws its heatmap and rows: given by pages/gaps.py (register_views), so
# that a simulation is drawn exactly as the real network is, without an import cycle.
_PAGE: dict[str, Any] = {}


def register_views(heatmap: Callable[[GapReport], Any], level: Callable[[Any], int],
                   category_text: list[str], cell_id: Callable[[Any], str]) -> None:
    _PAGE.update(heatmap=heatmap, level=level, category_text=category_text, cell_id=cell_id)


def _views(report: GapReport) -> tuple[Any, list[dict], list[dict]]:
    """The heatmap, coverage rows and single points of failure rows, as the page draws them."""
    _heatmap, _level, _CATEGORY_TEXT, _cell_id = (
        _PAGE["heatmap"], _PAGE["level"], _PAGE["category_text"], _PAGE["cell_id"])
    names = report["names"]
    cells: list[dict[str, Any]] = [{"id": _cell_id(c), "need": names[c["need"]], "locality": names[c["locality"]],
              "existing": c["existing"], "reachable": c["reachable"],
              "status": _CATEGORY_TEXT[_level(c)], "level": _level(c)} for c in report["coverage"]]
    coverage = sorted(cells, key=lambda r: (r["reachable"] > 0, r["level"]))
    spof = [dict(r, articulation="yes" if r["articulation_point"] else "no")
            for r in report["single_points_of_failure"]]
    return _heatmap(report), coverage, spof


def chosen_edges(store, hops: int, picks, own_from, own_to) -> list[tuple[str, str]]:
    """The agreements to simulate, from what the browser says was chosen: ticked ranks looked
    up in the server's own recommendations; the own agreement's ends looked up in the store
    (an id or an exact name of a node of a kind allowed at that end)."""
    found = recommend(store, RecommendQuery(max_hops=hops))
    by_rank = {str(s["rank"]): (s["source"]["id"], s["target"]["id"])
               for s in found["recommendations"]}
    edges = [by_rank[p] for p in ids(picks)[:MAX_PICKS] if p in by_rank]
    start, end = (_text(own_from), _text(own_to))
    if start or end:
        if not (start and end):
            raise PathwaysError("Choose both ends of your own agreement (from and to), "
                                "or neither.")
        graph = cached_snapshot(store)  # an id or a name, checked: a real node of a kind allowed
        edges.append((find_node(graph, start, receiving=False),
                      find_node(graph, end, receiving=True)))
    if not edges:
        raise PathwaysError("Tick a recommended agreement or choose your own to simulate.")
    return edges


def simulation_edges(store, simulation) -> list[tuple[str, str]] | None:
    """The agreements being simulated, recomputed from what the page's store says was chosen
    (:func:`chosen_edges`: only the server's own recommendations and real nodes), or None when
    the page shows the real network."""
    if not isinstance(simulation, dict):
        return None
    hops = hops_or_none(simulation.get("hops")) or DEFAULT_MAX_HOPS
    return chosen_edges(store, hops, simulation.get("picks"), simulation.get("from"),
                        simulation.get("to"))


def _text(value) -> str:
    """A chosen id or a typed name as the browser sent it (anything else counts as none)."""
    return value.strip() if isinstance(value, str) else ""


@callback(
    Output("gp-heatmap", "figure", allow_duplicate=True),
    Output("gp-coverage", "rowData", allow_duplicate=True),
    Output("gp-spof", "rowData", allow_duplicate=True),
    Output("wi-banner", "children"),
    Output("gp-message", "children", allow_duplicate=True),
    Output(PAGE_ALERT, "children", allow_duplicate=True),
    Output(SIMULATION, "data"),
    Input("wi-simulate", "n_clicks"),
    Input("wi-back", "n_clicks"),
    State("wi-picks", "value"),
    State("wi-from", "value"),
    State("wi-to", "value"),
    State("gp-hops", "value"),
    prevent_initial_call=True,
)
def run(_simulate, _back, picks, own_from, own_to, hops):
    """Simulate the chosen agreements (nothing written), or go back to the real network."""
    store = get_store()
    hops = _hops(hops)
    query = GapQuery(max_hops=hops)
    if ctx.triggered_id == "wi-back":
        real = store.consistent(lambda: gap_report(store, query))
        return (*_views(real), hint("Showing the real network."), _summary(real), None, None)
    try:
        def read():
            edges = chosen_edges(store, hops, picks, own_from, own_to)
            graph = cached_snapshot(store)
            return ([(name_of(graph, u), name_of(graph, v)) for u, v in edges],
                    gap_report(store, query), simulate(store, edges, query))

        named, before, after = store.consistent(read)
    except PathwaysError as exc:
        return no_update, no_update, no_update, alert(error_text(exc)), no_update, None, no_update
    amber = [sum(1 for c in r["coverage"] if c["existing"] and not c["reachable"])
             for r in (before, after)]
    banner = html.Div([
        html.Strong("Simulated: not saved. "),
        (f"The heatmap, coverage table and single points of failure show the network with "
         f"{len(named)} new referral agreement{'s' if len(named) != 1 else ''}: "),
        "; ".join(f"{u} → {v}" for u, v in named),
        (f". Amber cells: {amber[0]} → {amber[1]}. Nothing was written; "
         "“Back to the real network” (below the heatmap) shows it as it is."),
    ], className="simulated", style=BANNER_STYLE)
    return (*_views(after), hint(f"Simulated {len(named)} new agreement"
                                 f"{'s' if len(named) != 1 else ''}: see the banner above the "
                                 "heatmap."),
            html.Div([banner, _summary(after)]), None,
            {"picks": list(ids(picks)[:MAX_PICKS]), "from": _text(own_from), "to": _text(own_to),
             "hops": hops})


def _summary(report: GapReport) -> html.P:
    """The page's one-line summary (as pages/gaps.py words it) for ``report``."""
    empty = sum(1 for c in report["coverage"] if c["reachable"] == 0)
    return html.P(
        f"{empty} need × locality cells with nothing reachable; {len(report['unreached'])} "
        f"unreached activities; {len(report['single_points_of_failure'])} organisations or "
        "services whose loss would cut routes.", className="summary")
