"""Output as a terminal table, JSON or CSV (Excel-ready when written to a file)."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

# A text cell starting with one of these is a formula to Excel and LibreOffice (OWASP "CSV
# injection"): "=", "+", "-", "@", and tab or carriage return, which some readers skip first.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    return str(value)


def _csv_cell(value) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # a real number, negative or not, is never a formula
    return excel_safe(_cell(value))


def to_csv(rows: Sequence[dict], columns: Sequence[str]) -> str:
    """CSV text with a header row; every cell passes through :func:`excel_safe`."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([excel_safe(c) for c in columns])
    for row in rows:
        writer.writerow([_csv_cell(row.get(c)) for c in columns])
    return buffer.getvalue()


def emit(rows: Sequence[dict], fmt: str, columns: Sequence[str], output: Path | None = None) -> None:
    """Write rows to stdout (or ``output``) as ``table``, ``json`` or ``csv``.

    CSV files get a UTF-8 byte-order mark so Excel shows "£" and accents correctly.
    """
    if fmt == "json":
        text = json.dumps(list(rows), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "csv":
        text = to_csv(rows, columns)
    else:
        from tabulate import tabulate

        table = [[_cell(r.get(c)) for c in columns] for r in rows]
        text = tabulate(table, headers=list(columns), tablefmt="simple") + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
        output.write_text(text, encoding=encoding, newline="")
