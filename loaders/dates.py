"""Dates as every input format writes them (Living Database cells, ORUK and HSDS feeds).

Below both the Living Database validator (:mod:`loaders.living_db`) and the feed readers
(:mod:`loaders.feed_text`), so neither depends on the other for it.
"""

from __future__ import annotations

import datetime as dt
import re

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(text: str) -> str:
    """ISO ``YYYY-MM-DD`` or UK ``DD/MM/YYYY`` → ISO text.

    >>> parse_date(" 2026-03-31 "), parse_date("31/03/2026")
    ('2026-03-31', '2026-03-31')
    """
    value = text.strip()
    if _ISO_DATE.match(value):  # the common case, without strptime's cost
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (use YYYY-MM-DD, e.g. 2026-03-31)")
