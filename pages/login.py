"""Sign-in, sign-out and opening a share link: three plain Flask routes beside the Dash pages.

The sign-in page is a server-made HTML form (it works without scripts, and password managers
know it): ``GET /login`` shows it, ``POST /login`` checks the name and password
(:meth:`pathways.accounts.Accounts.verify`) after the CSRF check every POST passes
(``pages/_access.py``).  Failed sign-ins are counted per account name and per address
(:class:`pathways.accounts.LoginThrottle`: 5 within 15 minutes locks that name or address for
the rest of the 15 minutes, and then even the right password is refused, with the time to
try again).  The count is kept in ``$PATHWAYS_HOME/sign-in-failures.sqlite3``, shared by all
the app's worker processes and kept across restarts; each attempt is counted before its
password is checked (and uncounted if it was right), so simultaneous guesses count too.
The address is the connection's, or the client's from ``X-Forwarded-For`` when
``PATHWAYS_TRUSTED_PROXIES`` says how many proxies added it (``pages/_access.py``).
``POST /logout`` ends the session.  ``GET /s/TOKEN`` opens a share link
(:mod:`pathways.share_links`) as a viewer and goes to its page.

Dash imports page modules that register a page; this one registers routes on the Flask
server instead, from ``app.py`` (:func:`install`).
"""

from __future__ import annotations

import datetime as dt
import math

from flask import Flask, redirect, render_template_string, request, session

from pages._access import (
    CSRF_FIELD,
    csrf_token,
    current_user,
    mode,
    settings,
    share_links,
)
from pathways.accounts import Accounts, LoginThrottle
from pathways.errors import PathwaysError

THROTTLE = LoginThrottle(limit=5, window=15 * 60, path=lambda: settings().throttle_file)

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{ title }} · Thriving Pathways</title>
  <link rel="stylesheet" href="/assets/style.css">
  <link rel="stylesheet" href="/assets/account.css">
</head>
<body>
  <a href="#main" class="skip-link">Skip to main content</a>
  <header class="top-bar"><div class="brand">Thriving Pathways</div></header>
  <main id="main" tabindex="-1" class="sign-in">
    <h1>{{ title }}</h1>
    {% if problem %}<div class="alert" role="alert" id="sign-in-problem">{{ problem }}</div>{% endif %}
    {% if note %}<p class="hint" role="status" id="sign-in-note">{{ note }}</p>{% endif %}
    {% if form %}
    <form method="post" action="/login" id="sign-in-form">
      <input type="hidden" name="{{ csrf_field }}" value="{{ csrf }}">
      <input type="hidden" name="next" value="{{ next }}">
      <div class="field sign-in-field">
        <label for="sign-in-name">Account name</label>
        <input id="sign-in-name" name="name" autocomplete="username" required
               value="{{ name }}" autocapitalize="none" spellcheck="false">
      </div>
      <div class="field sign-in-field">
        <label for="sign-in-password">Password</label>
        <input id="sign-in-password" name="password" type="password"
               autocomplete="current-password" required>
      </div>
      <button class="button" type="submit" id="sign-in-button">Sign in</button>
    </form>
    <p class="hint">No account? Ask whoever runs Thriving Pathways for your partnership.</p>
    {% endif %}
  </main>
</body>
</html>"""


def _page(title: str, status: int = 200, *, problem: str = "", note: str = "", form: bool = True,
          name: str = "", next_path: str = "/"):
    html = render_template_string(PAGE, title=title, problem=problem, note=note, form=form,
                                  name=name, next=next_path, csrf=csrf_token() if form else "",
                                  csrf_field=CSRF_FIELD)
    return html, status, {"Cache-Control": "no-store"}


def _local_path(target: str | None) -> str:
    """Where to go after signing in: a path of this app only (never another site).

    Control characters refuse the whole path: browsers, and werkzeug writing ``Location``,
    drop tabs and line breaks, so ``/<tab>/evil.example`` would leave as ``//evil.example``
    (and a line break in a header is an error).

    >>> [_local_path(t) for t in ("/gaps?hops=2", "//evil.example", "https://evil.example", "/\\\\x", None)]
    ['/gaps?hops=2', '/', '/', '/', '/']
    >>> _local_path("/\\t/evil.example"), _local_path("/\\n/evil.example")
    ('/', '/')
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) \
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return "/"
    return target


def _when(seconds: float) -> str:
    """"at 14:05 UTC (in 12 minutes)": when a locked sign-in may be tried again."""
    minutes = max(1, math.ceil(seconds / 60))
    at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    return f"at {at:%H:%M} UTC (in {minutes} minute{'' if minutes == 1 else 's'})"


def sign_in_page():
    how = mode()
    if how != "accounts":
        note = ("This app takes its sign-in from your organisation's single sign-on."
                if how == "proxy" else "This app has no accounts: it is open to this "
                "computer only, and whoever uses it is an admin.")
        return _page("Sign in", note=note, form=False)
    who = current_user()
    next_path = _local_path(request.values.get("next"))
    if request.method == "GET":
        note = ""
        if who is not None and who.via == "account":
            note = f"You are signed in as {who.name} ({who.role.label})."
        elif who is not None and who.via == "share":
            note = ("A share link opens only its own page. Sign in to see the other pages.")
        elif request.args.get("signed_out"):
            note = "You are signed out."
        elif request.args.get("next"):
            note = "Sign in to see this page."
        return _page("Sign in", note=note, next_path=next_path)
    name = (request.form.get("name") or "").strip()
    password = request.form.get("password") or ""
    keys = [f"account:{name.lower()}", f"address:{request.remote_addr}"]
    wait, ticket = THROTTLE.begin(keys)  # counted as a failure until it proves right
    if wait > 0:
        return _page("Sign in", 429, name=name, next_path=next_path, problem=(
            f"Too many failed sign-ins for this account or from this computer. Try again "
            f"{_when(wait)}."))
    accounts = Accounts(settings().accounts_file)
    account = accounts.verify(name, password) if name and password else None
    if account is None:
        return _page("Sign in", 401, name=name, next_path=next_path, problem=(
            "That account name and password do not match. Check them and try again."))
    # this attempt uncounted, and the account's failures forgotten; the address's stay (one
    # good account must not reset the count of someone trying many names)
    THROTTLE.succeeded(keys[:1], ticket=ticket)
    session.clear()  # a new session (and CSRF token) for the signed-in user
    session["user"] = account.name
    csrf_token()
    return redirect(next_path)


def sign_out():
    if mode() != "local":  # the local mode keeps no session
        session.clear()
    return redirect("/login?signed_out=1")


def open_share_link(token: str):
    try:
        link = share_links().open(token)
    except PathwaysError as exc:
        return _page("Share link", 404, problem=str(exc)[0].upper() + str(exc)[1:] + ".",
                     form=False)
    who = current_user()
    if mode() == "accounts" and (who is None or who.via == "share"):
        # a signed-in user keeps their own role; without accounts everyone is the local admin
        for key in ("user", "seen"):
            session.pop(key, None)
        session["share"] = link.id
    return redirect(link.view)


def install(server: Flask) -> None:
    """The sign-in, sign-out and share-link routes (after :func:`pages._access.install`)."""
    server.add_url_rule("/login", "pathways_login", sign_in_page, methods=["GET", "POST"])
    server.add_url_rule("/logout", "pathways_logout", sign_out, methods=["POST"])
    server.add_url_rule("/s/<token>", "pathways_share", open_share_link, methods=["GET"])
