"""The "Funding landscape" section of the Consortia page: for the needs and localities the
page has picked, who funds which organisations and services, what each funder's money reaches
along referral routes, and which needs × localities no funded provision covers.

Filled from the page's checked query (ids only); everything is recomputed on the server from
the store (:func:`pathways.analysis.funders.funding_landscape`, cached per data version).
"""

from __future__ import annotations

from dash import Input, Output, callback, html

from pages._components import alert, aria, error_text, hint
from pathways.analysis.funders import FunderQuery, FunderReach, FundingLandscape, funding_landscape
from pathways.errors import PathwaysError
from pathways.webstore import get_store

SECTION = "co-funders"


def funders_section() -> html.Section:
    """The section (heading, explanation, and the region the callback fills)."""
    return html.Section([
        html.H2("Funding landscape", id="co-funders-heading"),
        html.P("Who funds which organisations and services, what that money reaches along "
               "referral routes, and which of the chosen needs and localities no funded "
               "provision covers. Money to a network is shown with its members, but does not "
               "count as funding their services.", className="hint"),
        html.Div(id=SECTION, **aria({"aria-live": "polite"})),
    ], className="results", **aria({"aria-labelledby": "co-funders-heading"}))


def _ids(value) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(v for v in value if isinstance(v, str) and v))


@callback(Output(SECTION, "children"), Input("co-query", "data"))
def show_funders(query):
    """Recompute from the ids the browser holds (never from results it sends back)."""
    if not isinstance(query, dict):
        return hint("Pick at least one need and one locality.")
    needs, places = _ids(query.get("needs")), _ids(query.get("places"))
    if not needs or not places:
        return hint("Pick at least one need and one locality.")
    store = get_store()
    try:
        report = store.consistent(
            lambda: funding_landscape(store, FunderQuery(places, needs)))
    except PathwaysError as exc:
        return alert(error_text(exc))
    return landscape_view(report, len(needs) * len(places))


def _names(rows: list, empty: str) -> str:
    return ", ".join(r["name"] for r in rows) or empty


def _funder_card(funder: FunderReach, names: dict[str, str], cells: int,
                 max_hops: int) -> html.Article:
    facts = [
        html.Li(["Organisations: ", _names(funder["organisations"], "none directly")]),
        html.Li(["Services: ", _names(funder["services"], "none")]),
    ]
    if funder["networks"]:
        facts.append(html.Li([
            "Networks: ", _names(funder["networks"], ""),
            f" ({len(funder['network_members'])} member organisations)"]))
    facts += [
        html.Li(f"{len(funder['activities'])} funded activities; "
                f"{len(funder['link_workers'])} link workers reach them within {max_hops} hops "
                f"({funder['options']} worker–activity options)"),
        html.Li(f"Covers {len(funder['cells'])} of the {cells} chosen needs × localities; "
                f"a local link worker reaches {len(funder['reached_cells'])} of them"),
    ]
    body: list = [html.H3(funder["name"]), html.Ul(facts)]
    if funder["cells"]:
        reached = {(c["need"], c["locality"]) for c in funder["reached_cells"]}
        body.append(html.Details([
            html.Summary("Needs × localities covered"),
            html.Ul([html.Li(f"{names[c['need']]} in {names[c['locality']]}"
                             + ("" if (c["need"], c["locality"]) in reached
                                else " (no local link worker reaches it)"))
                     for c in funder["cells"]]),
        ]))
    return html.Article(body, className="card")


def landscape_view(report: FundingLandscape, cells: int) -> html.Div:
    names = report["names"]
    if not report["funders"]:
        return html.Div(hint("No funders are loaded (add funders.csv and FUNDED_BY "
                             "relationships)."))
    uncovered = report["uncovered"]
    parts: list = [
        html.P(f"{len(report['funders'])} funders; {len(uncovered)} of the {cells} chosen "
               "needs × localities have no funded provision.", className="summary"),
        html.Div([_funder_card(f, names, cells, report["max_hops"]) for f in report["funders"]],
                 className="cards"),
        html.H3("Needs × localities no funded provision covers"),
    ]
    if uncovered:
        parts.append(html.Ul([
            html.Li(f"{names[c['need']]} in {names[c['locality']]}: "
                    + ("nothing there at all" if not c["activities"]
                       else f"{c['activities']} activities, none funded"))
            for c in uncovered], id="co-funders-uncovered"))
    else:
        parts.append(html.P("Funded provision covers every chosen need and locality."))
    return html.Div(parts)
