"""Output as a terminal table, JSON or CSV (Excel-ready when written to a file)."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    return str(value)


def to_csv(rows: Sequence[dict], columns: Sequence[str]) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
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
