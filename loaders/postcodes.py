"""UK postcode prefixes: the districts and sectors a locality lists, and a person's postcode.

A postcode is an outward code (the district, ``HX7``) and an inward code (``2AB``) whose
first digit makes the sector (``HX7 2``).  A locality's ``postcodes`` cell lists districts or
sectors, ``;``-separated (``HX7;HX6 2``); a person's postcode, whole or partial, is matched
against them, longest prefix first (see :func:`pathways.analysis.places.locality_for_postcode`).

Pure text functions: no files, no store.
"""

from __future__ import annotations

import re

# An outward code: A9, A99, A9A, AA9, AA99, AA9A (the Royal Mail's six forms).
_OUTWARD = r"[A-Z]{1,2}[0-9][A-Z0-9]?|[A-Z]{2}[0-9]"
_PREFIX = re.compile(rf"^(?P<district>{_OUTWARD})(?: (?P<sector>[0-9]))?$")
_FULL = re.compile(rf"^(?P<district>{_OUTWARD}) ?(?P<inward>[0-9][A-Z]{{2}})$")
# A sector with part of its unit ("HX7 8", "HX7 8A"): only with the space, since "OL14"
# is a district, not OL1 sector 4.
_PARTIAL = re.compile(rf"^(?P<district>{_OUTWARD}) (?P<sector>[0-9])[A-Z]?$")


def normalise_prefix(text: str) -> str:
    """A district or sector as a locality lists it: ``' hx6   2 '`` → ``'HX6 2'``.

    Raise ``ValueError`` with a plain reason when it is neither.

    >>> normalise_prefix("hx7"), normalise_prefix("HX6  2")
    ('HX7', 'HX6 2')
    """
    value = re.sub(r"\s+", " ", text.strip().upper())
    if _PREFIX.match(value):
        return value
    if _FULL.match(value):
        sector, district = postcode_prefixes(value)
        raise ValueError(f"{text.strip()!r} is a whole postcode; list its sector or district"
                         f" ({sector!r} or {district!r})")
    raise ValueError(f"{text.strip()!r} is not a postcode district or sector"
                     " (e.g. HX7, or HX6 2 for a sector)")


def parse_prefixes(text: str) -> list[str]:
    """A ``postcodes`` cell: ``'HX7; hx6 2'`` → ``['HX6 2', 'HX7']`` (sorted, no repeats).

    Raise ``ValueError`` naming the first entry that is not a district or sector.
    """
    found = {normalise_prefix(part) for part in text.split(";") if part.strip()}
    return sorted(found)


def postcode_prefixes(postcode: str) -> list[str]:
    """The prefixes a postcode may be listed under, longest first, or ``[]`` if it is not
    a postcode (whole, or a district or sector on its own).

    >>> postcode_prefixes(" hx7  8ab"), postcode_prefixes("HX7"), postcode_prefixes("HX78AB")
    (['HX7 8', 'HX7'], ['HX7'], ['HX7 8', 'HX7'])
    >>> postcode_prefixes("OL14"), postcode_prefixes("Halifax")
    (['OL14'], [])
    """
    value = re.sub(r"\s+", " ", postcode.strip().upper())
    match = _FULL.match(value)
    if match:
        return [f"{match.group('district')} {match.group('inward')[0]}", match.group("district")]
    match = _PARTIAL.match(value)
    if match:
        return [f"{match.group('district')} {match.group('sector')}", match.group("district")]
    return [value] if _PREFIX.match(value) else []


def tidy_postcode(postcode: str) -> str:
    """A postcode as people write it: ``'hx78ab'`` → ``'HX7 8AB'`` (unchanged if not one)."""
    value = re.sub(r"\s+", "", postcode.strip().upper())
    match = _FULL.match(value)
    return f"{match.group('district')} {match.group('inward')}" if match else postcode.strip()
