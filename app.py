"""The Thriving Pathways web app (Dash, multi-page).

Run with ``pathways serve`` or ``python app.py``; for production, ``gunicorn app:server``.
Pages live in ``pages/``: each registers itself and holds its own callbacks.  Pages call the
analysis layer through :mod:`pathways.webstore`, never Cypher.
"""

from __future__ import annotations

from pathlib import Path

import dash
from dash import Dash, dcc, html

PAGES_FOLDER = Path(__file__).with_name("pages")


def create_app() -> Dash:
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder=str(PAGES_FOLDER),
        title="Thriving Pathways",
        suppress_callback_exceptions=True,
    )
    app.layout = html.Div(
        [
            html.A("Skip to main content", href="#main", className="skip-link"),
            html.Header(
                [
                    html.Div("Thriving Pathways", className="brand"),
                    html.Nav(
                        [
                            dcc.Link(page["name"], href=page["relative_path"], className="nav-link")
                            for page in dash.page_registry.values()
                        ],
                        **{"aria-label": "Pages"},
                    ),
                ],
                className="top-bar",
            ),
            html.Main(dash.page_container, id="main", tabIndex="-1"),
        ]
    )
    return app


app = create_app()
server = app.server

if __name__ == "__main__":
    app.run(debug=False)
