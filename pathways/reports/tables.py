"""Rows as a terminal table, JSON or CSV text (the CLI's ``list``, ``paths`` and ``stats``).

Rendering only; :mod:`pathways.cli.output` writes the text to the terminal or a file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from pathways.spreadsheet import cell_text, to_csv


def rows_text(rows: Sequence[dict], fmt: str, columns: Sequence[str]) -> str:
    """``rows`` as ``table`` (aligned columns), ``json`` (every field) or ``csv`` (``columns``,
    each cell Excel-safe)."""
    if fmt == "json":
        return json.dumps(list(rows), indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return to_csv(rows, columns)
    from tabulate import tabulate

    table = [[cell_text(r.get(c)) for c in columns] for r in rows]
    return tabulate(table, headers=list(columns), tablefmt="simple") + "\n"
