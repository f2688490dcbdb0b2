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
    # Numbers are right-aligned by their type, not by tabulate guessing from every cell's text
    # (which took 1.5 s of a 1.7 s `list` of 8,000 rows, and reads a phone number as a number).
    align = ["right" if _numeric(rows, c) else "left" for c in columns]
    return tabulate(table, headers=list(columns), tablefmt="simple", disable_numparse=True,
                    colalign=align) + "\n"


def _numeric(rows: Sequence[dict], column: str) -> bool:
    values = [r.get(column) for r in rows if r.get(column) not in (None, "")]
    return bool(values) and all(isinstance(v, int | float) and not isinstance(v, bool)
                                for v in values)
