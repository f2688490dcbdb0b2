"""Data page: what the graph holds, which store it lives in, and (for editors) uploading a
Living Database or a directory feed with a preview before it is applied, and update requests
for organisations (issue 16, items 1 and 3).

Uploaded files stay on the server (:mod:`pathways.changes`); the browser holds only a token,
and every callback checks the person's role on the server before it reads, keeps or loads
anything.
"""

from __future__ import annotations

import base64
import binascii

import dash
from dash import Input, Output, State, callback, dcc, html

from pages._access import Role, allowed, current_user, require
from pages._components import (
    alert,
    aria,
    button,
    choices,
    filter_choices,
    guarded,
    hint,
    no_data,
    page_alert,
    table,
)
from pages._state import QueryReader, url_state
from pathways.analysis.snapshot import cached_stats
from pathways.changes import (
    MAX_UPLOAD_FILE_MB,
    MAX_UPLOAD_TOTAL_MB,
    UPLOAD_SUFFIXES,
    ZIP_SUFFIX,
    Preview,
    PreviewOutdated,
    apply_upload,
    discard_upload,
    keep_upload,
    preview,
)
from pathways.errors import InputError, Problem
from pathways.model import NodeKind
from pathways.update_requests import update_request_filename, update_request_workbook
from pathways.webstore import get_store

PATH = "/data"
dash.register_page(__name__, path=PATH, name="Data", title="Data · Thriving Pathways", order=9)

SHOWN_PROBLEMS = 500  # rows of a problems table; the count says how many more
ORG_CHOICE = "data-request-org"
UPLOAD_BOX = {"border": "2px dashed #4a4a4a", "borderRadius": "6px", "padding": "1rem",
              "margin": "0.5rem 0"}


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
            _upload_section() if allowed(Role.EDITOR) else html.P(
                "Editors can upload data and make update requests here; you are not signed in"
                " as an editor.", id="data-editors-only"),
            _request_section(store) if allowed(Role.EDITOR) and not empty else html.Div(),
            html.P("From a command line: `pathways load FILES` loads a Living Database or a"
                   " feed; `pathways template DIR` writes empty templates."),
        ]
    )


# --- upload and preview -----------------------------------------------------------------------

def _upload_section() -> html.Section:
    kinds = ", ".join(UPLOAD_SUFFIXES) + f" (or one {ZIP_SUFFIX} of them)"
    return html.Section(
        [
            html.H2("Upload data", id="data-upload-heading"),
            html.P("Upload your Living Database (its CSV files, or one XLSX workbook) or a"
                   " directory feed (its JSON files, or an HSDS datapackage.json with its CSV"
                   " tables, or the feed's folder as one zip file). The files are checked exactly as `pathways load`"
                   " checks them; nothing changes until you have seen what would change and"
                   " pressed Apply."),
            dcc.Upload(
                id="data-upload",
                # the button takes the keyboard focus; its click opens the file chooser
                children=html.Div(["Drop files here, or ",
                                   html.Button("Choose files", id="data-upload-choose",
                                               className="button", type="button")]),
                multiple=True,
                accept=",".join((*UPLOAD_SUFFIXES, ZIP_SUFFIX)),
                className="upload-box",  # assets/upload_a11y.js names its file input
                style=UPLOAD_BOX,
                style_active={**UPLOAD_BOX, "borderStyle": "solid"},
            ),
            hint(f"Allowed: {kinds}; at most {MAX_UPLOAD_FILE_MB:g} MB a file and"
                 f" {MAX_UPLOAD_TOTAL_MB:g} MB in all.", id="data-upload-limits"),
            dcc.Store(id="data-upload-token"),
            dcc.Loading(html.Div(id="data-upload-result", role="status",
                                 **aria({"aria-live": "polite"}))),
            html.Div(html.Div([button("Apply these changes", "data-apply"),
                               button("Start again", "data-discard")], className="button-row"),
                     id="data-apply-row", hidden=True),
            dcc.Loading(html.Div(id="data-apply-result", role="status",
                                 **aria({"aria-live": "polite"}))),
        ],
        id="data-upload-section",
        **aria({"aria-labelledby": "data-upload-heading"}),
    )


def _files(contents, names) -> list[tuple[str, bytes]]:
    """The uploaded files as (name, bytes); a file the browser sent malformed is refused."""
    if not isinstance(contents, list) or not isinstance(names, list) or len(contents) != len(names):
        raise InputError([Problem("(upload)", 0, "", "the upload did not arrive whole; try again")])
    files = []
    for name, content in zip(names, contents, strict=True):
        if not isinstance(name, str) or not isinstance(content, str) or "," not in content:
            raise InputError([Problem(str(name)[:120], 0, "", "the file did not arrive whole;"
                                      " upload it again")])
        try:
            data = base64.b64decode(content.split(",", 1)[1], validate=True)
        except (binascii.Error, ValueError):
            raise InputError([Problem(name[:120], 0, "", "the file did not arrive whole; upload"
                                      " it again")]) from None
        files.append((name, data))
    return files


def _problems(problems: list[Problem], heading: str) -> html.Div:
    shown = sorted(problems)[:SHOWN_PROBLEMS]
    rows = [{"id": str(i), "file": p.file, "row": p.row or "", "column": p.column,
             "reason": p.reason} for i, p in enumerate(shown)]
    more = len(problems) - len(shown)
    return html.Div([
        alert(heading, id="data-upload-refused"),
        table("data-upload-problems", [("file", "File"), ("row", "Row"), ("column", "Column"),
                                       ("reason", "Problem")],
              "Problems in the upload", selectable=False, page_size=20, rows=rows),
        hint(f"…and {more:,} more problems." if more else
             "Correct these in your files and upload them again."),
    ])


def _preview_view(result: Preview, names: list[str]) -> html.Div:
    what = "a directory feed" if result.format in {"oruk", "hsds"} else "a Living Database"
    cells = f"{len(result.changed):,} cell" + ("" if len(result.changed) == 1 else "s")
    unchanged = f"{result.unchanged:,} row" + (" is" if result.unchanged == 1 else "s are")
    summary = (f"{', '.join(names) or 'The upload'}: {what}, valid. Loading it would add"
               f" {len(result.new):,}, change {cells} and retire {len(result.retired):,};"
               f" {unchanged} as in the store already.")
    parts: list = [html.P(summary, id="data-preview-summary")]
    if not result.changes_anything:
        parts.append(hint("Nothing would change: the store already holds these files' data."))
    parts += [
        html.H3(f"New ({len(result.new):,})"),
        table("data-preview-new", [("kind", "Kind"), ("id", "Id"), ("name", "Name")],
              "New rows", selectable=False, rows=result.new),
        html.H3(f"Changed ({cells})"),
        table("data-preview-changed", [("item", "Id"), ("name", "Name"), ("column", "Column"),
                                       ("old", "Now"), ("new", "After loading")],
              "Changed cells", selectable=False, rows=result.changed),
        html.H3(f"To be retired ({len(result.retired):,})"),
        table("data-preview-retired", [("kind", "Kind"), ("id", "Id"), ("name", "Name")],
              "Rows to be retired", selectable=False, rows=result.retired) if result.retired
        else hint("None. A Living Database load retires nothing; a feed retires the records"
                  " its previous import had and this one no longer has."),
    ]
    return html.Div(parts, id="data-preview")


@callback(
    Output("data-upload-token", "data"),
    Output("data-upload-result", "children"),
    Output("data-apply-row", "hidden"),
    Output("data-apply-result", "children"),
    Input("data-upload", "contents"),
    State("data-upload", "filename"),
    State("data-upload-token", "data"),
    prevent_initial_call=True,
)
def upload(contents, names, old_token):
    require(Role.EDITOR, "upload data")
    discard_upload(old_token)
    try:
        token = keep_upload(_files(contents, names))
    except InputError as exc:
        return None, _problems(exc.problems, "The upload was refused: nothing was kept."), True, ""
    result = preview(get_store(), token)
    if not result.valid:
        discard_upload(token)
        return None, _problems(result.problems, "The files cannot be loaded as they are:"
                               " nothing was changed."), True, ""
    return token, _preview_view(result, [str(n) for n in names]), False, ""


@callback(
    Output("data-upload-token", "data", allow_duplicate=True),
    Output("data-upload-result", "children", allow_duplicate=True),
    Output("data-apply-row", "hidden", allow_duplicate=True),
    Output("data-apply-result", "children", allow_duplicate=True),
    Input("data-apply", "n_clicks"),
    State("data-upload-token", "data"),
    prevent_initial_call=True,
)
def apply(_clicks, token):
    require(Role.EDITOR, "load data")
    store = get_store()
    try:
        who = current_user()
        result = apply_upload(store, token, actor=who.name if who is not None else None)
    except PreviewOutdated as exc:
        again = preview(store, token)
        if not again.valid:
            discard_upload(token)
            return None, _problems(again.problems, str(exc)), True, ""
        return token, _preview_view(again, []), False, alert(str(exc), id="data-apply-outdated")
    done = html.P([(f"Loaded: {result.summary}. It is in the load history, where it can be"
                   " undone. "), html.A("Reload this page", href=PATH), " to see the new counts."],
                  id="data-apply-done")
    return None, "", True, done


@callback(
    Output("data-upload-token", "data", allow_duplicate=True),
    Output("data-upload-result", "children", allow_duplicate=True),
    Output("data-apply-row", "hidden", allow_duplicate=True),
    Input("data-discard", "n_clicks"),
    State("data-upload-token", "data"),
    prevent_initial_call=True,
)
def start_again(_clicks, token):
    require(Role.EDITOR, "upload data")
    discard_upload(token)
    return None, hint("The upload was discarded; nothing was changed."), True


# --- update requests --------------------------------------------------------------------------

def _request_section(store) -> html.Section:
    organisations = store.list_nodes(NodeKind.ORGANISATION)
    options = [{"label": f"{o.get('name', o['id'])} ({o['id']})", "value": o["id"]}
               for o in organisations]
    return html.Section(
        [
            html.H2("Update requests", id="data-request-heading"),
            html.P("Download a workbook for one organisation, pre-filled with its services and"
                   " activities, its data gaps highlighted, for it to correct and send back."
                   " Uploaded here, the returned workbook changes only that organisation's"
                   " rows."),
            choices("Organisation", ORG_CHOICE, options,
                    options[0]["value"] if options else None, scroll=True),
            html.Div([button("Download update request", "data-request-button"),
                      dcc.Download(id="data-request-download")], className="button-row"),
        ],
        id="data-request-section",
        **aria({"aria-labelledby": "data-request-heading"}),
    )


filter_choices(ORG_CHOICE)


@callback(
    Output("data-request-download", "data"),
    Input("data-request-button", "n_clicks"),
    State(ORG_CHOICE, "value"),
    prevent_initial_call=True,
)
def download_request(_clicks, organisation):
    require(Role.EDITOR, "make update requests")
    if not isinstance(organisation, str) or not organisation:
        raise InputError([Problem("(request)", 0, "", "choose an organisation first")])
    content, org_id, _name = update_request_workbook(get_store(), organisation)
    return dcc.send_bytes(content, update_request_filename(org_id))
