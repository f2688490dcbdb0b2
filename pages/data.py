"""Data page: what the graph holds, and which store it lives in."""

from __future__ import annotations

import dash
from dash import dash_table, html

from pathways.errors import PathwaysError
from pathways.webstore import get_store

dash.register_page(__name__, path="/data", name="Data", title="Data · Thriving Pathways", order=9)


def _table(table_id: str, title: str, counts: dict) -> html.Section:
    return html.Section(
        [
            html.H2(title),
            dash_table.DataTable(
                id=table_id,
                columns=[{"name": "Kind", "id": "kind"}, {"name": "Count", "id": "count"}],
                data=[{"kind": k, "count": v} for k, v in counts.items()],
                style_cell={"textAlign": "left", "fontFamily": "inherit"},
            ),
        ],
        className="half",
    )


def layout(**_query):
    store = get_store()
    try:
        counts = store.stats()
    except PathwaysError as exc:
        return html.Div(f"The graph cannot be read: {exc}", className="alert", role="alert")
    return html.Div(
        [
            html.H1("What the graph holds"),
            html.P(f"Reading from the {store.describe()}.", id="data-store"),
            html.Div(
                [_table("data-nodes", "Nodes by kind", counts["nodes"]),
                 _table("data-rels", "Relationships by type", counts["relationships"])],
                className="two-columns",
            ),
            html.P("Load your partnership's Living Database with `pathways load FILES`; "
                   "`pathways template DIR` writes empty templates."),
        ]
    )
