"""Pieces every page shares, written once: alerts, form fields, choice lists, the hop input,
the results table (AG Grid), CSV downloads, and the "no data yet" state.

Dash's page registry skips modules whose name starts with an underscore, so this is not a page.
Everything here is layout or plain data; callbacks stay with their pages, and callback errors
reach the person through one handler (:func:`show_callback_error`, set on the app).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import dash_ag_grid as dag
import plotly.graph_objects as go
from dash import Input, Output, State, clientside_callback, dcc, html, set_props

from pages._access import AccessDenied
from pathways.analysis.snapshot import cached_stats
from pathways.errors import PathwaysError
from pathways.model import DEFAULT_MAX_HOPS, MAX_MAX_HOPS
from pathways.spreadsheet import csv_file_text, to_csv

log = logging.getLogger(__name__)

NO_DATA = ("No data loaded yet: load a Living Database (`pathways load`) or a directory feed "
           "(`pathways load` reads ORUK and HSDS feeds too). `pathways demo` loads illustrative "
           "demo data into an empty store.")
PAGE_ALERT = "page-alert"


# --- messages -------------------------------------------------------------------------------

def aria(attributes: dict[str, Any]) -> dict[str, Any]:
    """ARIA (and data-) attributes for a Dash component, as
    ``html.Div(id="message", **aria({"aria-live": "polite"}))``: their names have hyphens, so
    they cannot be keyword arguments, and Dash's typed components want them passed this way."""
    return attributes


def alert(message: str, **kwargs) -> html.Div:
    """A message the person must not miss (read out at once by screen readers)."""
    return html.Div(message, className="alert", role="alert", **kwargs)


def hint(message: str, **kwargs) -> html.P:
    return html.P(message, className="hint", **kwargs)


def page_alert() -> html.Div:
    """Where callback errors appear on each page (see :func:`show_callback_error`); the alert
    put in it has role="alert", which screen readers read out as it appears."""
    return html.Div(id=PAGE_ALERT)


def error_text(exc: Exception) -> str:
    """What went wrong, in words a partnership's data officer understands."""
    if isinstance(exc, AccessDenied):  # a refusal, not a failure: say what the role allows
        return str(exc)
    if isinstance(exc, PathwaysError):
        return f"Sorry, that could not be shown: {exc}"
    return ("Sorry, something went wrong while updating this page, and it has been logged. "
            "Try again; if it keeps happening, tell whoever runs this app.")


def show_callback_error(exc: Exception) -> None:
    """The app's one callback error handler (``Dash(on_error=...)``): every callback error,
    from the store or anywhere else, becomes an alert in plain words at the top of the page;
    the callback's outputs stay as they were.  Errors that are not the project's own are
    logged with their traceback for whoever runs the app (never shown to the browser)."""
    if not isinstance(exc, PathwaysError):
        log.error("callback failed", exc_info=exc)
    set_props(PAGE_ALERT, {"children": alert(error_text(exc))})


def guarded(build):
    """A page layout built by ``build()``, or an alert when the store cannot be read."""
    try:
        return build()
    except PathwaysError as exc:
        return html.Div([page_alert(), alert(f"The graph cannot be read: {exc}")])


def no_data() -> html.Div:
    """The empty-store state every page shows instead of empty charts."""
    return html.Div([html.H2("No data yet"), html.P(NO_DATA)], className="alert empty-state",
                    role="status", id="no-data")


def is_empty(store) -> bool:
    """Nothing loaded yet (counted once per data version: cheap on every page visit)."""
    return sum(cached_stats(store)["nodes"].values()) == 0


# --- form fields ----------------------------------------------------------------------------

def field(label: str, control, control_id: str, note: str | None = None) -> html.Div:
    parts = [html.Label(label, htmlFor=control_id), control]
    if note:
        parts.append(hint(note))
    return html.Div(parts, className="field")


FILTER_FROM = 30  # a list longer than this gets a box to narrow it by typing


def choices(legend: str, control_id: str, options: list[dict], value, multi: bool = False,
            scroll: bool = False) -> html.Fieldset:
    """A group of radio buttons (one choice) or checkboxes (any number) under a legend.

    Plain native controls instead of Dash's dropdown: each option is announced by its label,
    the group by its legend, arrow keys and Space work as everywhere else, and typing the
    start of a label moves to it (assets/a11y.js).  Long lists scroll inside their box, and
    a list of more than :data:`FILTER_FROM` options (a big partnership's link workers or
    localities) gets a box above it that narrows it to the options containing what is typed
    (the page registers :func:`filter_choices` for it); the chosen options always stay.
    """
    kind = dcc.Checklist if multi else dcc.RadioItems
    control = kind(options=options, value=value, id=control_id, className="choice-list",
                   inputClassName="choice-input", labelClassName="choice-label")
    parts: list = [html.Legend(legend)]
    if len(options) > FILTER_FROM:
        parts += [html.Label("Type to narrow the list", htmlFor=f"{control_id}-filter",
                             className="choice-filter-label"),
                  dcc.Input(id=f"{control_id}-filter", type="search", debounce=False,
                            className="choice-filter"),
                  dcc.Store(id=f"{control_id}-all", data=options)]
    parts.append(control)
    return html.Fieldset(parts, className="field choices" + (" scroll" if scroll else ""))


def filter_choices(control_id: str) -> None:
    """Register the in-browser narrowing of a long choice list (see :func:`choices`).  Only
    labels move: what is chosen still reaches the server as ids, checked there as always."""
    clientside_callback(
        """function (text, all, value) {
            if (!all) { return window.dash_clientside.no_update; }
            const typed = (text || "").trim().toLowerCase();
            if (!typed) { return all; }
            const chosen = Array.isArray(value) ? value : [value];
            return all.filter(o => String(o.label).toLowerCase().includes(typed)
                                   || chosen.includes(o.value));
        }""",
        Output(control_id, "options"),
        Input(f"{control_id}-filter", "value"),
        State(f"{control_id}-all", "data"),
        State(control_id, "value"),
        prevent_initial_call=True,
    )


def number_field(label: str, control_id: str, low: int, high: int, value: int) -> html.Div:
    """A whole-number field with its range said under it (the browser's own arrows step it)."""
    return field(label, dcc.Input(id=control_id, type="number", min=low, max=high, step=1,
                                  value=value, inputMode="numeric"), control_id,
                 note=f"{low} to {high}")


def hops_input(control_id: str, value: int = DEFAULT_MAX_HOPS) -> html.Div:
    return number_field("Longest route (hops)", control_id, 1, MAX_MAX_HOPS, value)


def hops_or_none(hops) -> int | None:
    """The hop count as sent by the browser, or None when it is not a whole number in range."""
    ok = isinstance(hops, int) and not isinstance(hops, bool) and 1 <= hops <= MAX_MAX_HOPS
    return hops if ok else None


HOPS_PROBLEM = f"Longest route must be a whole number from 1 to {MAX_MAX_HOPS}."


def ids(value) -> tuple[str, ...]:
    """Ids from a choice list as the browser sent them (anything else counts as none)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(dict.fromkeys(value))
    return ()


def button(label: str, control_id: str) -> html.Button:
    return html.Button(label, id=control_id, className="button", type="button")


# --- tables ---------------------------------------------------------------------------------

def table(table_id: str, columns: list[tuple[str, str]], label: str, selectable: bool = True,
          page_size: int = 10, row_classes: dict[str, str] | None = None,
          rows: list[dict] | None = None) -> html.Div:
    """The one results table (AG Grid) in a region named ``label``: sortable columns, rows
    identified by their ``id`` (``getRowId``) and, when ``selectable``, one row at a time picked
    by click, Space or Enter.  Callbacks read only the selected row's id (:func:`selected_id`)
    and recompute everything from it.  AG Grid's grid element takes its name from the region
    (assets/a11y.js), and its cells get a visible focus ring (assets/style.css)."""
    options = {
        "pagination": True,
        "paginationPageSize": page_size,
        "paginationPageSizeSelector": False,
        "domLayout": "autoHeight",
        "ensureDomOrder": True,
        "enableCellTextSelection": True,
        "localeText": {"noRowsToShow": "Nothing to show."},
        # One Tab stop per table (the ARIA grid pattern): arrow keys move between cells,
        # Tab and Shift+Tab leave the table instead of walking every cell.
        "tabToNextCell": {"function": "false"},
        "tabToNextHeader": {"function": "false"},
    }
    if row_classes:
        options["rowClassRules"] = row_classes
    if selectable:
        options["rowSelection"] = {"mode": "singleRow", "checkboxes": False,
                                   "enableClickSelection": True}
    grid = dag.AgGrid(
        id=table_id,
        columnDefs=[{"field": key, "headerName": title} for key, title in columns],
        defaultColDef={"sortable": True, "resizable": True, "wrapText": True,
                       "autoHeight": True, "minWidth": 110, "flex": 1},
        rowData=rows or [],
        getRowId="params.data.id",
        dashGridOptions=options,
        className="ag-theme-quartz grid" + (" selectable" if selectable else ""),
        style={"width": "100%"},
    )
    return html.Div(grid, className="grid-region", role="region", **aria({"aria-label": label}))


def selected_id(selected_rows) -> str | None:
    """The id of the selected row, the only thing the server takes from a grid's selection."""
    if isinstance(selected_rows, list) and selected_rows and isinstance(selected_rows[0], dict):
        row_id = selected_rows[0].get("id")
        return row_id if isinstance(row_id, str) else None
    return None


def csv_download(rows: list[dict], columns: list[str], filename: str) -> dict:
    """A ``dcc.Download`` payload: Excel-safe CSV with a byte-order mark (Excel then reads it
    as UTF-8: £, accents, dashes)."""
    return csv_text_download(to_csv(rows, columns), filename)


def csv_text_download(text: str, filename: str) -> dict:
    """A ``dcc.Download`` payload for CSV text a report already made Excel-safe."""
    return {"content": csv_file_text(text), "filename": filename, "type": "text/csv"}


def html_download(text: str, filename: str) -> dict:
    """A ``dcc.Download`` payload for a self-contained HTML report."""
    return {"content": text, "filename": filename, "type": "text/html"}


def drawn(layout: dict, elements: list[dict]) -> dict:
    """The layout for a graph drawing ``elements``: changes exactly when the set of elements
    does, so the graph runs it once, at once, as the elements arrive.

    Graphs here set ``autoRefreshLayout=False``: dash-cytoscape's own refresh re-runs the
    layout 100 ms after elements are added or removed, on a timer that outlives the graph, and
    leaving the page within those 100 ms ran a layout on a destroyed graph ("Cannot read
    properties of null (reading 'notify')")."""
    ids = "\n".join(sorted(str(e.get("data", {}).get("id")) for e in elements))
    return {**layout, "drawing": hashlib.blake2b(ids.encode(), digest_size=8).hexdigest()}


def facts_list(title: str, items: list[str], list_id: str) -> html.Div:
    """What a network view shows, as text (every fact on a graph is also readable here)."""
    return html.Div([html.H3(title), html.Ul([html.Li(i) for i in items]) if items
                     else hint("Nothing highlighted yet.")], id=list_id, className="facts")


def note_only(figure: go.Figure, text: str, **layout: Any) -> go.Figure:
    """``figure`` without axes, ``text`` in its middle: what a chart with nothing to draw
    shows (with no trace Plotly draws a bare x/y grid, whose numbered axes read as data);
    ``layout``: the caller's own size, margins and colours."""
    figure.update_layout(
        xaxis={"visible": False}, yaxis={"visible": False},
        annotations=[{"text": text, "showarrow": False, "xref": "paper", "yref": "paper",
                      "x": 0.5, "y": 0.5, "font": {"size": 15, "color": "#1b1b1b"}}],
        **layout)
    return figure
