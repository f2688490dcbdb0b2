"""The referral sheet: a printable page of the options a link worker shortlisted for a person.

Opened from the Pathways page's shortlist at ``/shortlist?worker=ID&items=ID,ID``: the
address holds the link worker and the activities only, so it can be bookmarked, reopened or
sent to a colleague, and it says nothing about the person being referred (no name, postcode,
age or times: the page never asks for them).  Each option shows how to refer (the first
step, what the person will find, how fresh the entry is, the contacts on the route),
recomputed from the store on every visit: ids in the address are checked, unknown ones
named as such.  A4 print styles are in assets/print.css; "Print" calls the browser's print.
"""

from __future__ import annotations

import datetime as dt

import dash
from dash import Input, Output, clientside_callback, dcc, html

from pages._components import alert, guarded, is_empty, no_data, page_alert
from pages._referral import (
    SHEET_PATH,
    contacts,
    first_step,
    freshness,
    sheet_request,
    what_they_find,
)
from pages._state import encode
from pathways.analysis.referral import HowToRefer, how_to_refer_many
from pathways.errors import PathwaysError, UnknownIdError
from pathways.model import NodeKind
from pathways.webstore import get_store

MAX_ITEMS = 20  # a shortlist is two or three options; more than this is not a shortlist

dash.register_page(__name__, path=SHEET_PATH, name="Referral sheet",
                   title="Referral sheet · Thriving Pathways", order=90, in_menu=False)

clientside_callback(
    "function (clicks) { if (clicks) { window.print(); } return ''; }",
    Output("sl-printed", "children"),
    Input("sl-print", "n_clicks"),
    prevent_initial_call=True,
)


def layout(**query):
    return guarded(lambda: _layout(query))


def _option(number: int, found: HowToRefer) -> html.Section:
    route = " → ".join(n.name for n in found.route)
    return html.Section(
        [
            html.H2(f"{number}. {found.activity.name}"),
            html.P(found.offer.description) if found.offer.description else None,
            html.H3("First step"),
            *first_step(found),
            html.H3("What the person will find"),
            what_they_find(found),
            html.H3("How fresh this entry is"),
            freshness(found),
            html.H3("Contacts"),
            html.P(f"Route: {route}", className="hint") if route else None,
            contacts(found),
        ],
        className="sheet-option",
        **{"aria-label": f"Option {number}: {found.activity.name}"},
    )


def _read(store, worker: str, items: list[str]) -> tuple[list[HowToRefer], list[str]]:
    """How to refer to each listed activity, in order, and the ids that are no activity."""
    activities = [i for i in items
                  if (node := store.get_node(i)) is not None and node[0] == NodeKind.ACTIVITY]
    unknown = [i for i in items if i not in activities]
    return how_to_refer_many(store, worker, activities), unknown


def _layout(query: dict) -> html.Div:
    title = [html.H1("Referral sheet"), page_alert()]
    store = get_store()
    if is_empty(store):
        return html.Div(title + [no_data()])
    worker, items = sheet_request(query)
    if worker is None or not items:
        return html.Div(title + [alert("This sheet's address lists no link worker or no "
                                       "activities: open it from the shortlist on the "
                                       "Pathways page."),
                                 dcc.Link("Back to Pathways", href="/", className="button")])
    if len(items) > MAX_ITEMS:
        return html.Div(title + [alert(f"A referral sheet holds at most {MAX_ITEMS} options; "
                                       f"this address lists {len(items)}.")])
    try:
        options, unknown = store.consistent(lambda: _read(store, worker, items))
    except UnknownIdError as exc:
        return html.Div(title + [alert(f"This sheet cannot be shown: {exc}.")])
    except PathwaysError as exc:
        return html.Div(title + [alert(f"This sheet cannot be shown: {exc}")])
    who = options[0].worker.name if options else worker
    today = dt.date.today()
    notes = []
    if unknown:
        notes.append(alert(f"{len(unknown)} of the options on this sheet are no longer in the "
                           "data and are left out."))
    return html.Div(
        [
            *title,
            html.P([f"Options chosen by {who} (link worker), {today.day} {today:%B %Y}. ",
                    "This sheet holds no details of the person being referred."],
                   className="lede"),
            html.Div([html.Button("Print", id="sl-print", type="button", className="button"),
                      dcc.Link("Back to Pathways", href="/" + encode({"worker": worker, "items": items}),
                          className="button secondary"),
                      html.Span(id="sl-printed", hidden=True)],
                     className="button-row no-print"),
            html.P("To reopen this sheet or send it to a colleague, keep its address: it lists "
                   "the link worker and these activities only.", className="hint no-print"),
            *notes,
            html.Div([_option(n, found) for n, found in enumerate(options, 1)],
                     className="sheet", id="sl-sheet"),
        ],
        className="referral-sheet",
    )
