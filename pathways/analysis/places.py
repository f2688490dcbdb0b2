"""A person's side of the search: their postcode's locality, and the times they can make.

Both are typed by a link worker sitting with the person, so both answer in plain words:

- :func:`locality_for_postcode` finds the locality whose ``postcodes`` list (districts or
  sectors, from ``localities.csv``) holds the person's postcode, longest prefix first; an
  unknown or mistyped postcode gives a result that says so, never an exception.
- :func:`parse_times` reads ``"Mon morning; Thu 13:00-15:00"`` into
  :class:`~pathways.model.TimeSlot` values for :class:`~pathways.store.base.PathwayFilter`
  ``times``, and refuses what it cannot read with :class:`TimesError` ("'Thrusday' is not
  a day; did you mean Thursday?").

The CLI and the app share these.  Nothing here keeps or logs what was typed: a postcode
and the times a person is free are about the person, not the network.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from loaders.postcodes import postcode_prefixes, tidy_postcode
from loaders.schedule import day_code, day_group, days_between, start_time, time_range
from pathways.errors import PathwaysError
from pathways.model import DAY_CODES, DAY_NAMES, NodeKind, TimeSlot
from pathways.store.base import GraphStore

# --------------------------------------------------------------------------- postcodes


@dataclass(frozen=True)
class PostcodeResult:
    """What a postcode says about where the person lives.

    ``locality`` is ``{"id", "name"}`` when one locality holds the postcode's longest listed
    prefix (``matched``, e.g. ``"HX7"`` or ``"HX6 2"``); ``None`` otherwise, and then
    ``candidates`` lists the localities when several list the same prefix.  ``message`` says
    it all in a sentence for the page or the terminal.
    """

    postcode: str
    locality: dict | None
    matched: str | None
    message: str
    candidates: tuple[dict, ...] = field(default=())

    @property
    def found(self) -> bool:
        return self.locality is not None


def locality_for_postcode(store: GraphStore, postcode: str) -> PostcodeResult:
    """The locality a person's postcode is in (spacing and case do not matter).

    A whole postcode (``hx7 8ab``), a sector (``HX7 8``) or a district (``HX7``) is looked
    up by its sector, then its district: the longest prefix that a locality lists wins.

    >>> from pathways.store.embedded import EmbeddedStore
    >>> locality_for_postcode(EmbeddedStore(), "not a postcode").message
    "'not a postcode' is not a UK postcode (e.g. HX7 8AB, or a district such as HX7)"
    """
    shown = tidy_postcode(postcode)
    prefixes = postcode_prefixes(postcode)
    if not prefixes:
        text = postcode.strip()
        message = (f"{text!r} is not a UK postcode (e.g. HX7 8AB, or a district such as HX7)"
                   if text else "type a postcode, e.g. HX7 8AB")
        return PostcodeResult(shown, None, None, message)
    listed: dict[str, list[dict]] = {}
    for place in store.list_nodes(NodeKind.LOCALITY):
        for prefix in place.get("postcodes") or ():
            listed.setdefault(prefix, []).append({"id": place["id"], "name": place["name"]})
    for prefix in prefixes:  # longest first
        places = listed.get(prefix, [])
        if len(places) == 1:
            where = places[0]
            return PostcodeResult(shown, where, prefix,
                                  f"{shown} is in {where['name']} (listed under {prefix})")
        if len(places) > 1:
            names = " and ".join(p["name"] for p in places)
            return PostcodeResult(shown, None, prefix,
                                  f"{shown} could be in {names}: each lists {prefix};"
                                  " choose the locality", tuple(places))
    if not listed:
        message = (f"no locality lists its postcodes yet, so {shown} cannot be placed;"
                   " add a postcodes column to localities.csv")
    else:
        message = f"no locality lists {shown} (nor {prefixes[-1]}); choose the locality"
    return PostcodeResult(shown, None, None, message)


# --------------------------------------------------------------------------- times

# What the parts of a day mean, for people who say "Monday morning".
PARTS_OF_DAY: dict[str, tuple[str, str]] = {
    "morning": ("08:00", "12:00"),
    "afternoon": ("12:00", "17:00"),
    "evening": ("17:00", "22:00"),
}
_FILLER = {"and", "or", "on", "at", "in", "the", "any", "all", "day", "days", "time",
           "times", "every", "free", "can", "make", "only"}
_TIME = (r"(?:(?:12\s*)?(?:noon|midday)|midnight"
         r"|\d{1,2}(?:[:.]\d{2})?\s*(?:a\.?m\.?|p\.?m\.?)?)")
_TOKEN = re.compile(
    rf"(?P<range>(?:(?:from|between)\s+)?(?P<t1>{_TIME})\s*(?:-|–|—|to|until|till|and)\s*"
    rf"(?P<t2>{_TIME}))"
    rf"|(?P<bound>(?P<how>after|from|before|until|till|by)\s+(?P<t0>{_TIME}))"
    r"|(?P<number>\d[\d:.]*\s*(?:am|pm)?)"
    r"|(?P<word>[^\W\d_]+\.?)"
    r"|(?P<sep>[-–—/,&+])"
    r"|(?P<other>[^\s])",
    re.IGNORECASE,
)
_DAY_WORDS = [name for code in DAY_CODES for name in (DAY_NAMES[code], DAY_NAMES[code] + "s")]
_KNOWN_WORDS = {w.lower(): w for w in _DAY_WORDS} | {
    w: w for part in PARTS_OF_DAY for w in (part, part + "s")
} | {"weekdays": "weekdays", "weekends": "weekends", "daily": "daily"}


class TimesError(PathwaysError, ValueError):
    """The times a person can make could not be read; the message says what to write."""


def parse_times(text: str) -> tuple[TimeSlot, ...]:
    """Days and times a person can make → weekly slots, for ``PathwayFilter(times=...)``.

    Write entries separated by ``;``.  An entry names days (``Mon``, ``Tuesdays``,
    ``Mon-Fri``, ``Monday to Wednesday``, ``weekdays``, ``weekends``, ``any day``) and,
    optionally, when: ``morning`` / ``afternoon`` / ``evening`` (:data:`PARTS_OF_DAY`),
    ``13:00-15:00``, ``1-3pm``, ``after 5pm``, ``before 11am``.  Days alone mean the whole
    day; a time alone means every day.  Blank text means no times (no filter).

    >>> [str(s) for s in parse_times("Mon morning; Thu 13:00-15:00")]
    ['MO 08:00-12:00', 'TH 13:00-15:00']
    >>> [str(s) for s in parse_times("weekends after 4pm")]
    ['SA 16:00-24:00', 'SU 16:00-24:00']
    >>> parse_times("Thrusday")
    Traceback (most recent call last):
    ...
    pathways.analysis.places.TimesError: 'Thrusday' is not a day; did you mean Thursday?

    Raises
    ------
    TimesError
        naming the word or time it could not read, with a suggestion where there is one.
    """
    slots: list[TimeSlot] = []
    for entry in re.split(r"[;\n]+", text or ""):
        if entry.strip():
            slots += _entry_slots(entry.strip())
    return tuple(sorted(set(slots), key=lambda s: (DAY_CODES.index(s.day), s.start, s.end)))


def describe_times(slots: tuple[TimeSlot, ...] | list[TimeSlot]) -> str:
    """Slots in words, for a page or a printout: ``'Monday 08:00-12:00; Thursday'``."""
    return "; ".join(s.describe() for s in slots)


def _entry_slots(entry: str) -> list[TimeSlot]:
    groups: list[tuple[list[str], list[tuple[str, str]]]] = [([], [])]
    last_kind = ""
    pending_range = False
    for match in _TOKEN.finditer(entry):
        days, windows = groups[-1]
        if match.group("range"):
            windows.append(_range(match.group("t1"), match.group("t2"), match.group("range")))
            last_kind = "time"
        elif match.group("bound"):
            windows.append(_bound(match.group("how").lower(), match.group("t0")))
            last_kind = "time"
        elif match.group("number"):
            raise TimesError(f"{match.group('number').strip()!r} is a time without an end;"
                             " write a range such as 13:00-15:00, or 'after 1pm'")
        elif match.group("sep"):
            pending_range = match.group("sep") in "-–—" and last_kind == "day"
        elif match.group("other"):
            raise TimesError(f"{match.group('other')!r} cannot be read in {entry!r};"
                             " write e.g. 'Mon morning; Thu 13:00-15:00'")
        else:
            word = match.group("word")
            low = word.lower().rstrip(".")
            found = _days_of(word)
            part = PARTS_OF_DAY.get(low[:-1] if low.endswith("s") else low)
            if found:
                if windows:  # "Mon morning Thu afternoon": a new group
                    groups.append(([], []))
                    days, windows = groups[-1]
                if pending_range and days and len(found) == 1:
                    found = days_between(days[-1], found[0])
                days += [d for d in found if d not in days]
                last_kind, pending_range = "day", False
            elif part:
                windows.append(part)
                last_kind = "time"
            elif low in {"to", "through", "thru", "till", "until"}:
                pending_range = last_kind == "day"
            elif low in _FILLER:
                continue
            else:
                raise TimesError(_unknown_word(word))
    slots: list[TimeSlot] = []
    for days, windows in groups:
        if not days and not windows:
            continue
        for day in days or DAY_CODES:
            if not windows:
                slots.append(TimeSlot(day))
            for start, end in windows:
                slots.append(TimeSlot(day, start, end))
    if not slots:
        raise TimesError(f"{entry!r} names no day or time; write e.g. 'Mon morning'")
    return slots


def _days_of(word: str) -> tuple[str, ...]:
    low = word.lower().rstrip(".")
    code = day_code(word)
    if code and (len(low) >= 3):
        return (code,)
    return day_group(word) or ()


def _range(first: str, second: str, written: str) -> tuple[str, str]:
    try:
        return time_range(first, second)
    except ValueError:
        raise TimesError(f"{written.strip()!r} is not a time range; write e.g. 13:00-15:00"
                         " or 1pm-3pm, ending after it starts") from None


def _bound(how: str, written: str) -> tuple[str, str]:
    try:
        at = start_time(written)
    except ValueError:
        raise TimesError(f"{written.strip()!r} is not a time; write e.g. 17:00 or 5pm") from None
    if how in {"after", "from"}:
        if at >= "24:00":
            raise TimesError(f"nothing is after {written.strip()!r}")
        return at, "24:00"
    if at == "00:00":
        raise TimesError(f"nothing is before {written.strip()!r}")
    return "00:00", at


def _unknown_word(word: str) -> str:
    low = word.lower().rstrip(".")
    close = difflib.get_close_matches(low, list(_KNOWN_WORDS), n=1, cutoff=0.7)
    looks_like_day = bool(close) and close[0] in {w.lower() for w in _DAY_WORDS}
    what = "a day" if looks_like_day or not close else "a day or a part of the day"
    hint = f"; did you mean {_KNOWN_WORDS[close[0]]}?" if close else (
        "; write days (Mon, Tuesdays, Mon-Fri, weekends) and times (morning, 13:00-15:00)")
    return f"{word!r} is not {what}{hint}"
