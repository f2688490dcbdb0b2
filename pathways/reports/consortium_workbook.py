"""The consortium brief as an XLSX workbook, one sheet per part: the opportunity, the
suggestions (with the method that found each), every cell with its evidence, the members'
existing ties, and (only when the caller was allowed to ask for them) the members' contacts.

Presentation only: the figures come from :func:`pathways.analysis.consortia.consortia`, the
contacts from :func:`pathways.analysis.consortia.report_contacts`.  Every text cell passes
through :func:`pathways.spreadsheet.excel_safe` and is stored as text, so a name such as
``=HYPERLINK(...)`` shows as written and never runs.

Written with openpyxl directly (already a dependency, as :mod:`pathways.update_requests`
does): pandas, which the project dropped, would add nothing for five small sheets of rows.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from pathways.analysis.consortia import ConsortiumReport, MemberContacts, Suggestions
from pathways.spreadsheet import cell_text, excel_safe

SHEETS = ("Opportunity", "Suggestions", "Cells & evidence", "Ties", "Contacts")
TIE_WORDS = {"PARTNERS_WITH": "partners", "MEMBER_OF": "shared network",
             "REFERS_TO": "referral route"}
_HEADER = Font(bold=True)
NOTE = "Illustrative analysis from Thriving Pathways; check offers with each organisation."


def _value(value: object) -> object:
    """A cell: numbers stay numbers; everything else readable text, neutralised."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return excel_safe(cell_text(value))


def _sheet(book: Workbook, title: str, columns: Sequence[str], rows: Sequence[Sequence[object]],
           widths: Mapping[int, int] | None = None) -> Worksheet:
    sheet = book.create_sheet(title)
    for row_number, values in enumerate([list(columns), *rows], start=1):
        for col, value in enumerate(values, start=1):
            cell = sheet.cell(row=row_number, column=col)
            cell.value = _value(value)
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl would take "=..." for a formula otherwise
            if row_number == 1:
                cell.font = _HEADER
            else:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for col, name in enumerate(columns, start=1):
        wanted = (widths or {}).get(col, max(12, min(40, len(name) + 4)))
        sheet.column_dimensions[get_column_letter(col)].width = wanted
    sheet.freeze_panes = "A2"
    return sheet


def _cell_words(report: Suggestions, cell: Sequence[str]) -> str:
    names = report["names"]
    return f"{names[cell[0]]} in {names[cell[1]]}"


def opportunity_rows(report: Suggestions) -> list[list[object]]:
    opp, names = report["opportunity"], report["names"]
    low, high = opp["age_min"], opp["age_max"]
    ages = "any" if low is None and high is None else \
        f"{low if low is not None else 0}–{high if high is not None else 'any'}"
    return [
        ["Needs", "; ".join(names[n] for n in opp["needs"])],
        ["Localities", "; ".join(names[p] for p in opp["localities"])],
        ["Free activities only", opp["free_only"]],
        ["Access needs (all of)", "; ".join(a.replace("_", " ") for a in opp["access"]) or "none"],
        ["Ages", ages],
        ["Cells (need × locality)", len(report["cells"])],
        ["Cells no organisation covers", "; ".join(_cell_words(report, c)
                                                    for c in report["uncoverable"]) or "none"],
        ["Cells more than one organisation covers", len(report["overlaps"])],
        ["Note", NOTE],
    ]


def suggestion_rows(report: Suggestions) -> list[list[object]]:
    return [[rank, "; ".join(m["name"] for m in s["members"]), s["strategy"], len(s["covered"]),
             "; ".join(_cell_words(report, c) for c in s["uncovered"]) or "none",
             s["existing_ties"], s["reachable_by_link_workers"], " | ".join(s["reasons"])]
            for rank, s in enumerate(report["suggestions"], 1)]


def evidence_rows(report: Suggestions) -> list[list[object]]:
    """Per suggestion, every cell: each member's activity there and the member's service
    offering it, or that no member covers it."""
    names, rows = report["names"], []
    for rank, s in enumerate(report["suggestions"], 1):
        for c in report["cells"]:
            found = [e for e in s["evidence"]
                     if (e["need"], e["locality"]) == (c["need"], c["locality"])]
            where = [rank, names[c["need"]], names[c["locality"]]]
            if not found:
                rows.append([*where, "not covered", "", "", "", ""])
            rows += [[*where, "covered", e["member_name"], e["service_name"], e["activity_name"],
                      e["activity"]] for e in found]
    return rows


def tie_rows(report: Suggestions) -> list[list[object]]:
    return [[rank, t["members"][0]["name"], t["members"][1]["name"],
             TIE_WORDS.get(t["kind"], t["kind"]), t["text"]]
            for rank, s in enumerate(report["suggestions"], 1) for t in s["ties"]]


def contact_rows(contacts: Mapping[str, MemberContacts]) -> list[list[object]]:
    rows: list[list[object]] = []
    for c in sorted(contacts.values(), key=lambda c: (c["name"], c["id"])):
        rows += [[c["name"], p["name"], p["role"], p["job_title"], p["phone"], p["email"]]
                 for p in c["people"]]
        rows.append([c["name"], "(the organisation)", "", "", c["phone"], c["email"]
                     + (f"; {c['website']}" if c["website"] else "")])
    return rows


def workbook_bytes(report: ConsortiumReport | Suggestions,
                   contacts: Mapping[str, MemberContacts] | None = None) -> bytes:
    """The brief as XLSX bytes; the Contacts sheet only when ``contacts`` is given (the
    caller decides who may see them)."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]  # a new workbook has one sheet
    _sheet(book, SHEETS[0], ["Part", "Value"], opportunity_rows(report), {1: 36, 2: 80})
    _sheet(book, SHEETS[1], ["Suggestion", "Members", "How it was found", "Cells covered",
                             "Cells uncovered", "Existing ties", "Link workers reach every member",
                             "Reasons"], suggestion_rows(report), {2: 40, 3: 60, 5: 40, 8: 80})
    _sheet(book, SHEETS[2], ["Suggestion", "Need", "Locality", "Status", "Member", "Service",
                             "Activity", "Activity id"], evidence_rows(report),
           {5: 36, 6: 36, 7: 36, 8: 30})
    _sheet(book, SHEETS[3], ["Suggestion", "Member", "Member", "Kind of tie", "Tie"],
           tie_rows(report), {2: 36, 3: 36, 5: 80})
    if contacts is not None:
        _sheet(book, SHEETS[4], ["Organisation", "Contact", "Work role", "Job title", "Phone",
                                 "E-mail"], contact_rows(contacts), {1: 36, 2: 24, 4: 30, 6: 36})
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
