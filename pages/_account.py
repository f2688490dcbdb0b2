"""The top bar's account corner: who is signed in (name and role), sign out, and, for editors
and admins, "Share this view" (a read-only link to the page as it is shown now, with its
filters: :mod:`pathways.share_links`).

Built per request (``app.py``'s layout is a function), so each person sees their own name.
The share callback checks the role on the server and takes the page from the browser only as
a request: the path must be one of this app's pages, and the query is kept as text the page
reads (and checks) again when the link is opened.
"""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, clientside_callback, dcc, html
from flask import request

from pages._access import CSRF_FIELD, Role, allowed, csrf_token, current_user, require, share_links
from pages._components import alert, aria, hint
from pathways.errors import PathwaysError
from pathways.share_links import MAX_DAYS, split_view

DEFAULT_DAYS = 14


def share_control() -> html.Details:
    """"Share this view": how many days, a button, and the link made (editors and admins)."""
    return html.Details(
        [
            html.Summary("Share this view"),
            html.Div(
                [
                    html.P("Anyone with the link sees this page, as it is now, without contact "
                           "details, until the link expires or is revoked "
                           "(pathways share revoke).", className="hint"),
                    html.Div([html.Label("Days the link works", htmlFor="share-days"),
                              dcc.Input(id="share-days", type="number", min=1, max=MAX_DAYS,
                                        step=1, value=DEFAULT_DAYS)], className="field"),
                    html.Button("Make a share link", id="share-make", type="button",
                                className="button"),
                    dcc.Store(id="share-view"),
                    html.Div(id="share-result", **aria({"aria-live": "polite"})),
                ],
                className="share-panel",
            ),
        ],
        className="share-control", id="share-control",
    )


def account_bar() -> html.Div | None:
    """Who is signed in and how to sign out (nothing in the local mode: no accounts)."""
    who = current_user()
    if who is None or who.via == "local":
        return None
    parts: list = []
    if who.via == "share":
        parts.append(html.Span("Viewing a shared link (read only)", className="account-name"))
        parts.append(html.A("Sign in", href="/login", className="nav-link"))
    else:
        parts.append(html.Span(f"Signed in as {who.name} ({who.role.label})",
                               className="account-name", id="account-name"))
        if who.via == "account":
            parts.append(html.Form(
                [dcc.Input(type="hidden", name=CSRF_FIELD, value=csrf_token()),
                 html.Button("Sign out", type="submit", className="link-button",
                             id="sign-out")],
                method="post", action="/logout", className="sign-out"))
    if allowed(Role.EDITOR):
        parts.append(share_control())
    return html.Div(parts, className="account-bar")


# The page as the browser shows it now (the pages keep their filters in the address).
clientside_callback(
    """function (clicks) {
        if (!clicks) { return window.dash_clientside.no_update; }
        return {view: window.location.pathname + window.location.search, clicks: clicks};
    }""",
    Output("share-view", "data"),
    Input("share-make", "n_clicks"),
    prevent_initial_call=True,
)


@callback(
    Output("share-result", "children"),
    Input("share-view", "data"),
    State("share-days", "value"),
    prevent_initial_call=True,
)
def make_share_link(asked, days):
    require(Role.EDITOR, "share views")
    view = asked.get("view") if isinstance(asked, dict) else None
    if not isinstance(view, str):
        return alert("The page to share was not sent: reload the page and try again.")
    try:
        path, _query = split_view(view)
    except PathwaysError as exc:
        return alert(f"That cannot be shared: {exc}.")
    pages = {page["relative_path"] for page in dash.page_registry.values()}
    if path not in pages:
        return alert("Only a page of this app can be shared.")
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        return alert(f"Choose how many days the link works: a whole number from 1 to {MAX_DAYS}.")
    who = current_user()
    link, token = share_links().create(view, days, who.name if who else "local user")
    address = request.host_url.rstrip("/") + "/s/" + token
    return html.Div([
        html.Label("Share link (copy it)", htmlFor="share-link"),
        dcc.Input(id="share-link", value=address, readOnly=True, type="text",
                  className="share-link"),
        hint(f"Works until {link.expires_at[:10]} (UTC). To stop it sooner, whoever runs the "
             f"app types: pathways share revoke {link.id}"),
    ])
