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


def text_table(rows: Sequence[Sequence], headers: Sequence[str], **options) -> str:
    """``rows`` as a terminal table (tabulate), each cell printed as it is.

    tabulate reads any text that looks like a number as one, so a share link id such as
    ``940423549e12`` printed as ``9.40424e+20`` and a name such as ``007`` as ``7``. Here only
    the columns whose every value *is* a number (int or float) are formatted and aligned as
    numbers; every other column is text, left as it was."""
    from tabulate import tabulate

    width = max((len(r) for r in rows), default=len(headers))
    text = [i for i in range(width)
            if not _all_numbers([r[i] if i < len(r) else None for r in rows])]
    # An empty list would mean "parse every column", which is right: every column is numbers.
    return tabulate(rows, headers=list(headers), disable_numparse=text, **options)


def _all_numbers(values: Sequence) -> bool:
    present = [v for v in values if v not in (None, "")]
    return bool(present) and all(isinstance(v, int | float) and not isinstance(v, bool)
                                 for v in present)


def _numeric(rows: Sequence[dict], column: str) -> bool:
    return _all_numbers([r.get(column) for r in rows])
