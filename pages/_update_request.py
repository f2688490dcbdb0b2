"""The update-request download under the Gaps page's data-gap table (issue 16, item 3): an
editor selects an organisation in the table and downloads its update request
(:mod:`pathways.update_requests`).  The server takes only the selected row's id and checks
the editor role inside the callback; others see a line saying who can make requests.
"""

from __future__ import annotations

from dash import Input, Output, State, callback, dcc, html

from pages._access import Role, allowed, require
from pages._components import button, hint, selected_id
from pathways.errors import InputError, Problem
from pathways.update_requests import update_request_filename, update_request_workbook
from pathways.webstore import get_store

GRID = "gp-data"
BUTTON = "gp-request-button"


def request_download() -> html.Div:
    """The button and its download, for editors; a line saying so for everyone else."""
    if not allowed(Role.EDITOR):
        return html.Div(hint("Editors can download an update request for an organisation"
                             " here."), id="gp-request-editors-only")
    return html.Div([
        hint("Select an organisation in the table, then download a workbook of its services"
             " and activities, its gaps highlighted, for it to correct and send back."),
        html.Div([button("Download update request", BUTTON),
                  dcc.Download(id="gp-request-download")], className="button-row"),
    ], id="gp-request")


@callback(
    Output("gp-request-download", "data"),
    Input(BUTTON, "n_clicks"),
    State(GRID, "selectedRows"),
    prevent_initial_call=True,
)
def download_selected_request(_clicks, selected_rows):
    require(Role.EDITOR, "make update requests")
    organisation = selected_id(selected_rows)
    if organisation is None:
        raise InputError([Problem("Data gaps by organisation", 0, "",
                                  "select an organisation in the table first")])
    content, org_id, _name = update_request_workbook(get_store(), organisation)
    return dcc.send_bytes(content, update_request_filename(org_id))
