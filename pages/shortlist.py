"""The referral sheet: a printable page of the options a link worker shortlisted for a person.

Opened from the Pathways page's shortlist at ``/shortlist?shortlist=TOKEN``: the token
(:mod:`pathways.analysis.shortlist`) holds the link worker's and the activities' ids only,
so the address can be bookmarked, reopened or sent to a colleague, and it says nothing about
the person being referred (no name, postcode, age or times: the page never asks for them).
Each option shows how to refer (the first step, what the person will find, how fresh the
entry is, the contacts on the route), recomputed from the store on every visit
(:func:`~pathways.analysis.shortlist.referral_sheet`): ids in the address are checked, and
what was dropped is said.  A4 print styles are in assets/print.css; "Print" calls the browser's print.
"""

from __future__ import annotations

import datetime as dt

import dash
from dash import Input, Output, clientside_callback, dcc, html

from pages._access import Role, allowed
from pages._components import alert, guarded, is_empty, no_data, page_alert
from pages._referral import (
    SHEET_PATH,
    SHORTLIST_KEY,
    aria,
    contacts,
    first_step,
    freshness,
    what_they_find,
)
from pages._state import QueryReader, encode
from pathways.analysis.referral import HowToRefer
from pathways.analysis.shortlist import decode_shortlist, referral_sheet
from pathways.model import DEFAULT_MAX_HOPS, MAX_MAX_HOPS
from pathways.webstore import get_store

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
            html.P("Demo data: illustrative, not a real service.", className="hint")
            if found.illustrative else None,
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
        **aria({"aria-label": f"Option {number}: {found.activity.name}"}),
    )


def _layout(query: dict) -> html.Div:
    title = [html.H1("Referral sheet"), page_alert()]
    if not allowed(Role.LINK_WORKER):  # the sheet is contact details: link workers and up
        return html.Div(title + [alert(
            "Referral sheets hold contact details, so only link workers and above can open "
            "them: sign in with a link worker's account.")])
    store = get_store()
    if is_empty(store):
        return html.Div(title + [no_data()])
    read = QueryReader(query, (SHORTLIST_KEY, "hops"))
    hops = read.number("hops", 1, MAX_MAX_HOPS, DEFAULT_MAX_HOPS, "Longest route")
    token = query.get(SHORTLIST_KEY)
    shortlist = decode_shortlist(store, token if isinstance(token, str) else "")
    read.messages += list(shortlist.problems)
    back = dcc.Link("Back to Pathways", className="button secondary", href="/" + encode(
        {"worker": shortlist.worker_id, "hops": hops if hops != DEFAULT_MAX_HOPS else None,
         SHORTLIST_KEY: shortlist.encode() if shortlist.activity_ids else None}))
    worker = shortlist.worker_id
    if worker is None or not shortlist.activity_ids:
        return html.Div(title + [read.notes(), alert(
            "This sheet's address lists no link worker or no activities: open it from the "
            "shortlist on the Pathways page."), back])
    sheet = store.consistent(lambda: referral_sheet(store, worker, shortlist.activity_ids,
                                                    hops))
    day = dt.date.fromisoformat(sheet.prepared_on)
    return html.Div(
        [
            *title,
            read.notes(),
            html.P(f"Options chosen by {sheet.worker.name} (link worker), "
                   f"{day.day} {day:%B %Y}.", className="lede"),
            html.Div([html.Button("Print", id="sl-print", type="button", className="button"),
                      back, html.Span(id="sl-printed", hidden=True)],
                     className="button-row no-print"),
            html.P("To reopen this sheet or send it to a colleague, keep its address: it lists "
                   "the link worker and these activities only.", className="hint no-print"),
            html.Ul([html.Li(note) for note in sheet.notes], className="sheet-notes"),
            html.Div([_option(n, found) for n, found in enumerate(sheet.options, 1)],
                     className="sheet", id="sl-sheet"),
        ],
        className="referral-sheet",
    )
