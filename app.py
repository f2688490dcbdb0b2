"""The Thriving Pathways web app (Dash, multi-page).

Run with ``pathways serve`` or ``python app.py``; for production, ``pathways serve --workers
N`` (gunicorn worker processes sharing one warmed copy of the data: pathways/cli/workers.py)
or plain ``gunicorn app:server`` (each worker reads the data for itself).
Pages live in ``pages/``: each registers itself and holds its own callbacks; the pieces they
share (alerts, fields, the results table, the empty state) are in ``pages/_components.py``.
Pages call the analysis layer through :mod:`pathways.webstore`, never Cypher.
Sign-in (accounts, the SSO proxy's headers, share links, CSRF) sits in front of every page and
callback: :func:`pages._access.install` and the routes of ``pages/login.py``.  The layout is
a function, so the top bar shows each person their own name and role.
"""

from __future__ import annotations

from pathlib import Path

import dash
from dash import Dash, html

from pages import _access, login
from pages._account import account_bar
from pages._components import aria, show_callback_error
from pages._state import nav_link, shared_store
from pathways.changes import MAX_UPLOAD_TOTAL_MB, MB

PAGES_FOLDER = Path(__file__).with_name("pages")

# Dash's own page, with the language declared (screen readers pick their voice from it).
INDEX_STRING = """<!DOCTYPE html>
<html lang="en">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""


def create_app() -> Dash:
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder=str(PAGES_FOLDER),
        title="Thriving Pathways",
        suppress_callback_exceptions=True,
        # One mechanism for every callback error: an alert in plain words on the page.
        on_error=show_callback_error,
        # gzip (flask-compress): the first page's scripts go from ~4 MB to ~1 MB on the wire.
        # Plotly (4.8 MB) is loaded only by pages with a chart (Dash loads it with dcc.Graph).
        compress=True,
    )
    app.index_string = INDEX_STRING
    app.layout = layout
    # Refuse an oversized request before reading it: uploads arrive base64-encoded (4/3 of
    # their size) in a callback's JSON, so the Data page's total limit plus a margin.
    app.server.config["MAX_CONTENT_LENGTH"] = int(MAX_UPLOAD_TOTAL_MB * MB * 4 / 3) + 2 * MB
    _access.install(app.server)
    login.install(app.server)
    return app


def layout() -> html.Div:
    """The frame of every page, built per request (the account corner is the visitor's own)."""
    return html.Div(
        [
            html.A("Skip to main content", href="#main", className="skip-link"),
            html.Header(
                [
                    html.Div("Thriving Pathways", className="brand"),
                    # The links carry the filters pages share (pages/_state.py).
                    html.Nav(
                        [nav_link(page) for page in dash.page_registry.values()
                         if page.get("in_menu", True)],  # the referral sheet is opened, not browsed to
                        **aria({"aria-label": "Pages"}),
                    ),
                    account_bar(),
                ],
                className="top-bar",
            ),
            html.Main(dash.page_container, id="main", tabIndex="-1"),
            shared_store(),
        ]
    )


app = create_app()
server = app.server

if __name__ == "__main__":
    app.run(debug=False)
