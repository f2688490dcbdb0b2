"""Cells and CSV text that spreadsheets read safely: the one place for formula neutralising and
the byte-order mark.

The bottom layer (standard library only): the loaders' reject files, the reports, the CLI's
``--output`` files and the pages' downloads all use it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

# A text cell starting with one of these is a formula to Excel and LibreOffice (OWASP "CSV
# injection"): "=", "+", "-", "@", and tab or carriage return, which some readers skip first.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# UTF-8 with a byte-order mark: without it Excel reads a CSV file as the local code page and
# shows "Â£" for "£".  Every CSV file the project writes is written in this encoding.
CSV_ENCODING = "utf-8-sig"
BOM = "\ufeff"


def excel_safe(value: T) -> T | str:
    """``value`` made safe for a spreadsheet cell: text starting with a formula character
    gets a single quote in front, so Excel and LibreOffice show it instead of running it.

    Numbers (and anything else that is not text) are returned unchanged: a negative number
    is a number, not a formula.  Every CSV or XLSX writer calls this on each cell.

    >>> print(excel_safe('=HYPERLINK("http://evil","x")'))
    '=HYPERLINK("http://evil","x")
    >>> excel_safe("-1+1"), excel_safe(-1), excel_safe("Art Club")
    ("'-1+1", -1, 'Art Club')
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def cell_text(value: object) -> str:
    """One readable cell: blank for None, yes/no, lists joined with "; ".

    >>> cell_text(None), cell_text(True), cell_text(["a", "b"]), cell_text(3)
    ('', 'yes', 'a; b', '3')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    return str(value)


def _csv_cell(value: object) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # a real number, negative or not, is never a formula
    return excel_safe(cell_text(value))


def to_csv(rows: Sequence[dict], columns: Sequence[str]) -> str:
    """CSV text with a header row; every cell passes through :func:`excel_safe`."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([excel_safe(c) for c in columns])
    for row in rows:
        writer.writerow([_csv_cell(row.get(c)) for c in columns])
    return buffer.getvalue()


def csv_file_text(text: str) -> str:
    """CSV text as the content of a file Excel opens right: the byte-order mark in front.

    For downloads that are handed over as text (the pages' ``dcc.Download``).

    >>> csv_file_text("a,b\\r\\n").encode("utf-8") == "a,b\\r\\n".encode(CSV_ENCODING)
    True
    """
    return text if text.startswith(BOM) else BOM + text


def write_text_file(path: Path, text: str, csv_file: bool) -> None:
    """Write ``text`` to ``path``; a CSV file gets the byte-order mark (see :data:`CSV_ENCODING`)."""
    path.write_text(text, encoding=CSV_ENCODING if csv_file else "utf-8", newline="")
