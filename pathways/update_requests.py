"""Update requests: a workbook an organisation corrects and sends back (issue 16, item 3).

:func:`update_request_workbook` writes, for one organisation, the Living Database sheets it
may change (``organisations`` with its own row, ``services`` it provides, ``activities``
those services offer, and ``relationships`` starting from any of them), pre-filled from the
store; the cells behind its data gaps (the Gaps report's rules,
:func:`pathways.analysis.gaps.data_gaps`) are highlighted with a note saying what is missing;
columns with allowed values get dropdowns; an ``instructions`` sheet says what to do in plain
English.  A hidden ``_update_request`` sheet names the organisation, so that loading the
returned file changes only that organisation's rows (:mod:`loaders.update_scope`).

Every text cell is written as text, never as a formula: a value starting with ``=``, ``+``,
``-`` or ``@`` is stored as a string with Excel's "quote prefix" (what Excel itself does when
someone types an apostrophe first), so it shows and round-trips as typed without running.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from loaders.files import columns_of
from loaders.update_scope import MARKER_KEY, MARKER_SHEET
from pathways.analysis.gaps import data_gaps
from pathways.analysis.lookup import resolve
from pathways.analysis.snapshot import cached_snapshot, name_of, targets
from pathways.errors import PathwaysError
from pathways.graphs import Snapshot
from pathways.model import (
    COMMON_ACCESS_TAGS,
    RELATIONSHIPS_TABLE,
    Column,
    NodeKind,
    RelType,
)
from pathways.spreadsheet import FORMULA_START
from pathways.store.base import GraphStore

GAP_FILL = PatternFill("solid", start_color="FFFF99", end_color="FFFF99")  # pale yellow
HEADER_FONT = Font(bold=True)
_SHEETS = (NodeKind.ORGANISATION, NodeKind.SERVICE, NodeKind.ACTIVITY)
_LISTS_SHEET = "_lists"
_ROWS_WITH_DROPDOWNS = 500  # rows below the data that keep the dropdowns, for new rows

#: what each data gap asks for, and the columns that answer it
GAP_HELP: dict[str, tuple[str, tuple[str, ...]]] = {
    "no_contact": (("a way for link workers to get in touch: phone, e-mail, website or (for a"
                   " service) how to refer"), ("phone", "email", "website", "referral_info")),
    "no_schedule": ("when it runs, e.g. 'Tuesdays 10:00-12:00'", ("schedule",)),
    "no_accessibility": ("accessibility information, e.g. step_free;hearing_loop",
                         ("accessibility",)),
    "no_location": (("where it happens (a venue with its postcode), or 'yes' in"
                    " serves_whole_area if it is online or borough-wide"),
                    ("venue", "serves_whole_area")),
    "no_need": (("which needs it helps with: add a row in 'relationships' with type ADDRESSES"
                " from this activity to a need"), ("name",)),
    "not_reviewed": (("a check in the last year: put today's date in reviewed_at once you have"
                     " checked the row"), ("reviewed_at",)),
}


def _owned(graph: Snapshot, organisation: str) -> dict[NodeKind, list[str]]:
    services = sorted(t for t in targets(graph, organisation, RelType.PROVIDES)
                      if graph.nodes[t]["kind"] == NodeKind.SERVICE)
    activities = sorted({a for s in services for a in targets(graph, s, RelType.OFFERS)
                         if graph.nodes[a]["kind"] == NodeKind.ACTIVITY})
    return {NodeKind.ORGANISATION: [organisation], NodeKind.SERVICE: services,
            NodeKind.ACTIVITY: activities}


def cell_value(column: Column, value: object) -> object:
    """A property as the Living Database file has it: yes/no, ';'-joined lists, text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value) or None
    if column.type == "int" and isinstance(value, int):
        return value
    return str(value)


def _put(sheet: Worksheet, row: int, col: int, value: object) -> None:
    """One cell, written as text that never runs as a formula (see the module's note)."""
    cell = sheet.cell(row=row, column=col)
    cell.value = value  # type: ignore[assignment]  # str/int: openpyxl's stub is too narrow
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl takes "=..." for a formula otherwise
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True


def _lists(book: Workbook) -> dict[str, str]:
    """A hidden sheet of allowed values; column name → the range its dropdown offers."""
    sheet = book.create_sheet(_LISTS_SHEET)
    sheet.sheet_state = "hidden"
    wanted: dict[str, tuple[str, ...]] = {"bool": ("yes", "no")}
    for kind in _SHEETS:
        for column in columns_of(kind.table):
            if column.type == "enum":
                wanted[column.name] = column.choices
    for column in columns_of(RELATIONSHIPS_TABLE):
        if column.type == "enum":
            wanted[column.name] = column.choices
    ranges: dict[str, str] = {}
    for index, (name, values) in enumerate(wanted.items(), start=1):
        letter = get_column_letter(index)
        _put(sheet, 1, index, name)
        for row, value in enumerate(values, start=2):
            _put(sheet, row, index, value)
        ranges[name] = f"{_LISTS_SHEET}!${letter}$2:${letter}${len(values) + 1}"
    return ranges


def _dropdowns(sheet: Worksheet, columns: Sequence[Column], last_row: int,
               ranges: Mapping[str, str]) -> None:
    end = last_row + _ROWS_WITH_DROPDOWNS
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        where = f"{letter}2:{letter}{end}"
        if column.type == "enum" or column.type == "bool":
            source = ranges[column.name if column.type == "enum" else "bool"]
            check = DataValidation(type="list", formula1=f"={source}", allow_blank=True,
                                   showErrorMessage=True, errorTitle="Choose from the list",
                                   error=f"{column.name}: choose one of the values in the list")
        elif column.type == "int":
            check = DataValidation(type="whole", operator="between", formula1="0",
                                   formula2="1000000000", allow_blank=True, showErrorMessage=True,
                                   error=f"{column.name}: a whole number, 0 or more")
        else:
            continue
        check.add(where)
        sheet.add_data_validation(check)


def _sheet(book: Workbook, table: str, columns: Sequence[Column], rows: list[dict],
           ranges: Mapping[str, str]) -> Worksheet:
    sheet = book.create_sheet(table)
    for index, column in enumerate(columns, start=1):
        _put(sheet, 1, index, column.name)
        sheet.cell(row=1, column=index).font = HEADER_FONT
        header = sheet.cell(row=1, column=index)
        header.comment = Comment(column.help or column.name, "Thriving Pathways")
        sheet.column_dimensions[get_column_letter(index)].width = max(12, min(40, len(column.name) + 6))
    for row_number, values in enumerate(rows, start=2):
        for index, column in enumerate(columns, start=1):
            _put(sheet, row_number, index, cell_value(column, values.get(column.name)))
    sheet.freeze_panes = "A2"
    _dropdowns(sheet, columns, len(rows) + 1, ranges)
    return sheet


def _highlight(sheet: Worksheet, columns: Sequence[Column], row: int, missing: Sequence[str]) -> None:
    names = [c.name for c in columns]
    for gap in missing:
        what, answer_in = GAP_HELP[gap]
        for column in answer_in:
            if column not in names:
                continue
            cell = sheet.cell(row=row, column=names.index(column) + 1)
            cell.fill = GAP_FILL
            note = f"Missing: {what}."
            cell.comment = Comment(note if cell.comment is None else f"{cell.comment.text}\n{note}",
                                   "Thriving Pathways")


def _instructions(book: Workbook, name: str, organisation: str, gaps: list[str],
                  as_of: dt.date) -> None:
    sheet = book.create_sheet("instructions", 0)
    lines = [
        f"Update request for {name} ({organisation})",
        f"Made on {as_of.isoformat()} from the Thriving Pathways Living Database.",
        "",
        "What we ask",
        ("Please check every row in the sheets 'organisations', 'services' and 'activities', "
        "correct what is wrong, fill in what is missing, and send the workbook back."),
        ("Cells highlighted in pale yellow are missing something link workers rely on; "
        "hover over a highlighted cell to read what. The list below says the same in words."),
        "Put today's date (YYYY-MM-DD) in reviewed_at on each row you have checked.",
        "",
        "How to fill it in",
        ("Do not change the ids in the 'id' column, the sheet names or the column headings: "
        "they are how your rows are matched when the workbook is loaded."),
        ("To add a service or an activity, add a row with a new id (short, no spaces, e.g. "
        "act-your-org-new-group), then a row in 'relationships': PROVIDES from your "
        "organisation to a new service, OFFERS from your service to a new activity."),
        ("Columns with a fixed list of values (kind, yes/no columns, relationship type, "
        "method) have a dropdown. Hover over a column heading to read what it is for."),
        "accessibility: several tags separated by ';', e.g. " + ";".join(COMMON_ACCESS_TAGS[:3]),
        "Phone numbers and e-mail addresses are shown to link workers only.",
        ("Rows for other organisations are refused when the workbook is loaded: this "
        "workbook changes only your organisation, its services and their activities."),
        ("To remove a service or an activity, say so when you send the workbook back; "
        "deleting its row does not remove it."),
        "",
        "Data gaps found",
    ]
    lines += gaps or ["None: thank you. Please still check that everything is up to date."]
    for number, line in enumerate(lines, start=1):
        _put(sheet, number, 1, line)
    sheet["A1"].font = Font(bold=True, size=14)
    for number, line in enumerate(lines, start=1):
        if line in {"What we ask", "How to fill it in", "Data gaps found"}:
            sheet.cell(row=number, column=1).font = HEADER_FONT
    sheet.column_dimensions["A"].width = 120


def update_request_workbook(store: GraphStore, organisation_text: str,
                            as_of: dt.date | None = None) -> tuple[bytes, str, str]:
    """The update-request workbook for an organisation named by id or name.

    Returns ``(xlsx bytes, organisation id, organisation name)``; raises
    :class:`~pathways.analysis.lookup.UnknownNameError` (a PathwaysError) for a name that
    matches no organisation.
    """
    as_of = as_of or dt.date.today()
    organisation = resolve(store, NodeKind.ORGANISATION, organisation_text)
    graph = cached_snapshot(store)
    if organisation not in graph:  # changed between the lookup and the snapshot
        raise PathwaysError(f"no organisation {organisation!r} in the data any more")
    name = name_of(graph, organisation)
    owned = _owned(graph, organisation)
    gap_items = {item["id"]: item["missing"]
                 for row in data_gaps(graph, as_of) if row["id"] == organisation
                 for item in row["items"]}

    book = Workbook()
    book.remove(book.worksheets[0])
    ranges = _lists(book)
    gap_lines: list[str] = []
    for kind in _SHEETS:
        columns = columns_of(kind.table)
        ids = owned[kind]
        rows = [{**graph.nodes[i]["props"], "id": i} for i in ids]
        sheet = _sheet(book, kind.table, columns, rows, ranges)
        for row_number, node in enumerate(ids, start=2):
            missing = list(gap_items.get(node, []))
            if missing:
                _highlight(sheet, columns, row_number, missing)
                wants = "; ".join(GAP_HELP[g][0] for g in missing)
                gap_lines.append(f"{kind.table}, row {row_number}, "
                                 f"{name_of(graph, node)} ({node}): needs {wants}")
    rel_columns = columns_of(RELATIONSHIPS_TABLE)
    rel_rows = []
    for source in [i for kind in _SHEETS for i in owned[kind]]:
        for _, target, rel, data in sorted(graph.out_edges(source, keys=True, data=True),
                                           key=lambda e: (e[2].value, e[1])):
            rel_rows.append({**data.get("props", {}), "source_id": source, "type": rel.value,
                             "target_id": target})
    _sheet(book, RELATIONSHIPS_TABLE, rel_columns, rel_rows, ranges)
    marker = book.create_sheet(MARKER_SHEET)
    marker.sheet_state = "hidden"
    _put(marker, 1, 1, MARKER_KEY)
    _put(marker, 1, 2, organisation)
    _put(marker, 2, 1, "organisation_name")
    _put(marker, 2, 2, name)
    _instructions(book, name, organisation, gap_lines, as_of)
    book.active = 0
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), organisation, name


def update_request_filename(organisation: str) -> str:
    """``update-request-<id>.xlsx`` with only safe characters in the id part."""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in organisation)[:80]
    return f"update-request-{safe or 'organisation'}.xlsx"
