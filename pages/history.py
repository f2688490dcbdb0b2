"""History page: every load, newest first, and (for admins) undoing one (issue 16 item 2).

The table is read from the store's own history (:mod:`pathways.history`), on every visit
and after every undo.  An admin picks a load, presses "Undo this load", reads what it will
do, and confirms with a second button.  The server takes only the picked row's id from the
browser, checks the role inside each callback (a hidden button is not a permission), and
works out everything else from the store: whether the load can be undone, and what was
restored.
"""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, html

from pages._access import Role, allowed, current_user, require
from pages._components import alert, aria, button, guarded, hint, page_alert, selected_id, table
from pathways.errors import PathwaysError
from pathways.history import ROW_COLUMNS, counts_text, describe, records, rows, undo
from pathways.webstore import get_store

PATH = "/history"
dash.register_page(__name__, path=PATH, name="History", title="History · Thriving Pathways",
                   order=10)

TITLES = {"id": "Load", "when": "When (UTC)", "who": "Who", "action": "What",
          "sources": "Files", "counts": "Changes", "status": "Status",
          "undone": "Undone?"}


def layout(**_query):
    return guarded(_layout)


def _rows(store) -> list[dict]:
    """The history's rows, with times as a person reads them (``2026-11-30 16:11``)."""
    found = rows(store, hashes=False)
    for row in found:
        row["when"] = row["when"][:16].replace("T", " ")
    return found


def _table(found: list[dict]) -> html.Div:
    return table("hist-table", [(c, TITLES[c]) for c in ROW_COLUMNS], "Loads, newest first",
                 selectable=allowed(Role.ADMIN), page_size=15, rows=found)


def _layout() -> html.Div:
    found = _rows(get_store())
    admin = allowed(Role.ADMIN)
    return html.Div(
        [
            html.H1("Load history"),
            page_alert(),
            html.P("Every change to the data is recorded here: loads from the command line, "
                   "uploads on the Data page, the demo, emptying the store, and undos. Each "
                   "load keeps how the data it changed was before, so it can be undone.",
                   className="lede"),
            hint("No loads recorded yet.", id="hist-empty") if not found else hint(
                "Each file's SHA-256 is in `pathways history`, to check which version was loaded."),
            _table(found),
            html.Section(
                [
                    html.H2("Undo a load"),
                    hint("Pick a load in the table, then press Undo this load. A load can be "
                         "undone while no later load stands on it; undo those first, newest "
                         "first. An undo is recorded too, and undoing an undo puts its load "
                         "back."),
                    html.Div(button("Undo this load", "hist-undo"), className="button-row"),
                    html.Div(
                        [html.P(id="hist-confirm-text"),
                         html.Div([button("Yes, undo it", "hist-confirm-yes"),
                                   html.Button("Cancel", id="hist-confirm-no", type="button",
                                               className="button secondary")],
                                  className="button-row")],
                        id="hist-confirm", hidden=True, className="confirm-panel"),
                ],
                **aria({"aria-label": "Undo a load"}),
            ) if admin else hint("Only admins can undo a load."),
            html.Div(id="hist-result", role="status"),
        ]
    )


@callback(
    Output("hist-confirm", "hidden"),
    Output("hist-confirm-text", "children"),
    Output("hist-result", "children"),
    Input("hist-undo", "n_clicks"),
    State("hist-table", "selectedRows"),
    prevent_initial_call=True,
)
def ask(_clicks, selected_rows):
    """Say what undoing the picked load will do, and ask to confirm (nothing changes yet)."""
    require(Role.ADMIN, "undo a load")
    load_id = selected_id(selected_rows)
    found = {r["id"]: r for r in records(get_store())}
    target = found.get(load_id or "")
    if target is None:
        return True, "", alert("Pick a load in the table first.")
    question = (f"Undo load {describe(target)}? It changed: "
                f"{counts_text(target.get('counts', {}))}. The data goes back to how it was "
                "before it.")
    return False, question, ""


@callback(
    Output("hist-confirm", "hidden", allow_duplicate=True),
    Input("hist-confirm-no", "n_clicks"),
    prevent_initial_call=True,
)
def cancel(_clicks):
    return True


@callback(
    Output("hist-confirm", "hidden", allow_duplicate=True),
    Output("hist-result", "children", allow_duplicate=True),
    Output("hist-table", "rowData"),
    Input("hist-confirm-yes", "n_clicks"),
    State("hist-table", "selectedRows"),
    prevent_initial_call=True,
)
def confirm(_clicks, selected_rows):
    """Undo the picked load: checked again and done on the server, then the table re-read."""
    require(Role.ADMIN, "undo a load")
    store = get_store()
    load_id = selected_id(selected_rows)
    if load_id is None:
        return True, alert("Pick a load in the table first."), dash.no_update
    who = current_user()
    try:
        done = undo(store, load_id, actor=who.name if who is not None else None)
    except PathwaysError as exc:
        return True, alert(f"Nothing was undone: {exc}"), _rows(store)
    return (True,
            html.P(f"Undid load {done['undoes']} (recorded as load {done['id']}): "
                   f"{counts_text(done['counts'])}.", id="hist-done"),
            _rows(store))
