"""Limits on what the loaders read, and the characters they refuse or remove.

Every input file is checked against these before (or while) it is read, so that no file,
however made, can exhaust memory or a processor core, or reach a store with a value the
store cannot hold.  Each refusal says the limit and what to do.

=====================================  ===========  ===============================
What                                   Limit        Raise it with
=====================================  ===========  ===============================
size of a CSV file                     300 MB       ``PATHWAYS_MAX_CSV_MB``
size of a JSON (feed) file             100 MB       ``PATHWAYS_MAX_JSON_MB``
size of an XLSX workbook               20 MB        ``PATHWAYS_MAX_XLSX_MB``
an XLSX workbook unpacked              200 MB       ``PATHWAYS_MAX_XLSX_INFLATED_MB``
compression of one part of an XLSX     200 : 1      (fixed: more is a zip bomb)
rows in one XLSX sheet                 200,000      (fixed: use CSV files beyond)
columns in a file or sheet             100          (fixed)
characters in one cell                 32,767       (fixed: Excel's own limit)
characters in an id                    256          (fixed: ``MAX_ID_LENGTH``)
JSON nesting                           64 levels    (fixed)
a whole number                         1,000,000,000  (fixed: far below 2**63)
=====================================  ===========  ===============================

The CSV default fits the documented 1M-node Living Database (its relationships.csv is about
170 MB).  Sizes are in MB of 1,048,576 bytes.

Characters: ids refuse any control or invisible formatting character (zero-width spaces
and joiners, word joiners, byte-order marks, bidirectional overrides, soft hyphens).  Text
cells refuse control characters other than tab and line breaks (a NUL byte, a bell...);
zero-width spaces, word joiners and byte-order marks are removed from text, while zero-width
(non-)joiners are kept because emoji and several scripts need them.
"""

from __future__ import annotations

import os
import re

from pathways.errors import PathwaysError
from pathways.model import MAX_ID_LENGTH

MB = 1_048_576
MAX_CSV_MB = 300.0
MAX_JSON_MB = 100.0
MAX_XLSX_MB = 20.0
MAX_XLSX_INFLATED_MB = 200.0
MAX_XLSX_RATIO = 200
XLSX_RATIO_CHECKED_FROM = 10 * MB  # smaller parts cannot hurt, whatever their ratio
MAX_SHEET_ROWS = 200_000
MAX_COLUMNS = 100
MAX_CELL_CHARS = 32_767
MAX_JSON_DEPTH = 64
MAX_WHOLE_NUMBER = 1_000_000_000

ENV = {
    "csv": ("PATHWAYS_MAX_CSV_MB", MAX_CSV_MB),
    "json": ("PATHWAYS_MAX_JSON_MB", MAX_JSON_MB),
    "xlsx": ("PATHWAYS_MAX_XLSX_MB", MAX_XLSX_MB),
    "xlsx-inflated": ("PATHWAYS_MAX_XLSX_INFLATED_MB", MAX_XLSX_INFLATED_MB),
}

# C0 controls but tab, line feed and carriage return; DEL; C1 controls.
_CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
# Invisible formatting: soft hyphen, zero-width space/non-joiner/joiner, LRM/RLM, bidi
# embeddings/overrides/isolates, word joiner and invisible operators, BOM, annotations.
_INVISIBLE = "\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
#: any character a text cell or an id may need a closer look for (one search per file)
SUSPICIOUS = re.compile(f"[{_CONTROL}{_INVISIBLE}]")
CONTROL = re.compile(f"[{_CONTROL}]")
#: an acceptable id: no whitespace, no control or invisible character
ID_RE = re.compile(rf"^[^\s{_CONTROL}{_INVISIBLE}]+$")
#: removed from text cells: zero-width space, word joiner, byte-order mark
STRIP_FROM_TEXT = str.maketrans("", "", "\u200b\u2060\ufeff")


def limit_mb(what: str) -> float:
    """The size limit in MB for ``what`` (``csv``, ``json``, ``xlsx``, ``xlsx-inflated``),
    from its environment variable when set."""
    name, default = ENV[what]
    given = os.environ.get(name, "").strip()
    if not given:
        return default
    try:
        value = float(given)
    except ValueError:
        raise PathwaysError(f"{name} must be a number of megabytes, not {given!r}") from None
    if value <= 0:
        raise PathwaysError(f"{name} must be more than 0, not {given!r}")
    return value


def mb(size: float) -> str:
    """``12.3 MB``; small limits keep their digits (``0.001 MB``)."""
    value = size / MB
    return f"{value:,.1f} MB" if value >= 1 else f"{value:.3g} MB"


def too_large(size: int, what: str, kind: str) -> str | None:
    """The reason a file of ``size`` bytes is refused, or ``None`` when it is within limits."""
    limit = limit_mb(what)
    if size <= limit * MB:
        return None
    name, _ = ENV[what]
    return (f"the file is {mb(size)}, larger than the {limit:g} MB limit for {kind};"
            f" split it into smaller files, or set {name} to a higher number of MB")


def id_problem(value: str) -> str | None:
    """Why ``value`` cannot be an id, or ``None``.

    >>> id_problem("lw-1") is None, id_problem("lw 1"), id_problem("lw\\u200b1")[:40]
    (True, 'an id must not contain spaces', 'an id must not contain invisible or cont')
    """
    if len(value) > MAX_ID_LENGTH:
        return (f"the id is {len(value):,} characters long, longer than {MAX_ID_LENGTH}"
                " characters; use a shorter id")
    if ID_RE.match(value):
        return None
    if any(ch.isspace() for ch in value):
        return "an id must not contain spaces"
    found = SUSPICIOUS.search(value)
    code = f"U+{ord(found.group()):04X}" if found else "?"
    return (f"an id must not contain invisible or control characters (found {code});"
            " retype the id")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text (a control character), or ``None``."""
    found = CONTROL.search(value)
    if found is None:
        return None
    code = f"U+{ord(found.group()):04X}"
    nul = ", a NUL byte" if code == "U+0000" else ""
    return (f"contains an invisible control character ({code}{nul}), which often comes from"
            " copying out of another program; retype the cell")
