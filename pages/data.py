"""Data page: what the graph holds, and which store it lives in."""

from __future__ import annotations

import dash
from dash import html

from pages._components import guarded, no_data, page_alert, table
from pages._state import QueryReader, url_state
from pathways.analysis.snapshot import cached_stats
from pathways.webstore import get_store

PATH = "/data"
dash.register_page(__name__, path=PATH, name="Data", title="Data · Thriving Pathways", order=9)


def _counts(table_id: str, title: str, counts: dict) -> html.Section:
    grid = table(table_id, [("kind", "Kind"), ("count", "Count")], title, selectable=False,
                 page_size=20, rows=[{"id": k, "kind": k, "count": v} for k, v in counts.items()])
    return html.Section([html.H2(title), grid], className="half")


def layout(**query):
    """The page has no filters: the shared ones pass through, anything else is noted."""
    return guarded(lambda: _layout(query))


def _layout(query: dict):
    read = QueryReader(query)
    store = get_store()
    counts = cached_stats(store)
    empty = sum(counts["nodes"].values()) == 0
    return html.Div(
        [
            html.H1("What the graph holds"),
            page_alert(),
            read.notes(),
            url_state(PATH, {}),
            html.P(f"Reading from the {store.describe()}.", id="data-store"),
            no_data() if empty else html.Div(
                [_counts("data-nodes", "Nodes by kind", counts["nodes"]),
                 _counts("data-rels", "Relationships by type", counts["relationships"])],
                className="two-columns",
            ),
            html.P("Load your partnership's Living Database with `pathways load FILES`; "
                   "`pathways template DIR` writes empty templates."),
        ]
    )
