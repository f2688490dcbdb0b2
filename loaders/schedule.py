"""Schedules: free text and feeds' schedule records → weekly sessions (day, start, end).

An activity keeps its schedule text as it was written; the loaders add ``sessions``, the
weekly sessions read from it (:data:`pathways.model.SESSIONS`, e.g. ``["TU 10:00-12:00"]``),
so a link worker can match them against the times a person can make.

What is read, and how:

- **Days**: names and short forms (``Mondays``, ``Tue``, ``Thurs``, ``Weds``), lists
  (``Mondays, Wednesdays and Fridays``), ranges (``Mon-Fri``, ``Monday to Friday``),
  ``weekdays``, ``weekends``, ``daily`` / ``every day``.
- **Times**: ``10:00–12:30``, ``10.30am - 1pm``, ``10am–12 noon``, ``9-5`` (hours without
  am/pm: an end not after the start is taken as pm, ``9-5`` is 09:00-17:00; hours 1 to 6
  alone are taken as afternoon, ``2-4`` is 14:00-16:00), ``from 18:30`` (open-ended: to the
  end of the day).  Days without a time become whole-day sessions (``"TH"``: on Thursdays,
  times not given).
- **Kept as notes**, not sessions: ``every other`` / ``alternate`` / ``fortnightly``, ``first
  Monday of the month``, ``term time only``, ``by appointment``.  A session still stands
  for the weekday it runs on (a person free on Thursdays can make a fortnightly Thursday).
- Text with no day (``term time only``, ``Library opening hours``) gives no sessions: the
  schedule is unknown, and a times filter keeps the activity, flagged, rather than hide it.

HSDS 3.0 and ORUK schedule records (``byday``, ``opens_at``/``closes_at``, ``freq``,
``weekday``, ``description``) are read from their fields (:func:`sessions_from_record`);
their ``description`` is parsed as text only when they name no day.

Pure: no files, no store.

>>> [str(s) for s in parse_schedule("Tuesdays 10am–12 noon").sessions]
['TU 10:00-12:00']
>>> [str(s) for s in parse_schedule("Mon-Fri 9-5").sessions]
['MO 09:00-17:00', 'TU 09:00-17:00', 'WE 09:00-17:00', 'TH 09:00-17:00', 'FR 09:00-17:00']
>>> s = parse_schedule("every other Thursday"); [str(x) for x in s.sessions], s.notes
(['TH'], ('every other week',))
>>> s = parse_schedule("term time only"); s.sessions, s.notes
((), ('term time only',))
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from pathways.model import DAY_CODES, DAY_NAMES, TimeSlot

# Day words: the full name, or any start of it from three letters; a plural "s"; a dot.
_EXTRA_DAY_WORDS = {"weds": "WE", "tues": "TU", "thur": "TH", "thurs": "TH", "thu": "TH"}
_GROUP_WORDS = {
    "weekdays": DAY_CODES[:5], "weekday": DAY_CODES[:5],
    "weekends": DAY_CODES[5:], "weekend": DAY_CODES[5:],
    "daily": DAY_CODES,
}
_RANGE_WORDS = {"-", "–", "—", "to", "until", "till", "til", "through", "thru"}
_NOTES = (
    (re.compile(r"\bevery other\b|\balternate\b|\bfortnightly\b|\bevery (?:two|2) weeks\b"),
     "every other week"),
    (re.compile(r"\b(first|second|third|fourth|last|1st|2nd|3rd|4th)\s+\w+\s+of\s+(?:the|each|every)"
                r"\s+month\b|\bmonthly\b"), "monthly"),
    (re.compile(r"\bterm[- ]time\b"), "term time only"),
    (re.compile(r"\bby appointment\b|\bappointment only\b"), "by appointment"),
    (re.compile(r"\bbank holidays?\b|\bpublic holidays?\b"), "not on public holidays"),
)

_TIME = (r"(?:(?:12\s*)?(?:noon|midday)|midnight"
         r"|\d{1,2}(?:[:.]\d{2})?\s*(?:a\.?m\.?|p\.?m\.?)?)")
_TOKEN = re.compile(
    rf"(?P<range>(?:(?:from|between)\s+)?(?P<t1>{_TIME})\s*(?:-|–|—|to|until|till|and)\s*"
    rf"(?P<t2>{_TIME}))"
    rf"|(?P<from>(?:from|after|starts?(?: at)?)\s+(?P<t0>{_TIME}))"
    r"|(?P<word>[a-z]+\.?)"
    r"|(?P<dash>[-–—])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Schedule:
    """A schedule read from text or a feed record: its weekly sessions, the qualifiers found
    (``notes``) and the text it came from (kept as it was)."""

    text: str
    sessions: tuple[TimeSlot, ...]
    notes: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        """True when it gave at least one session."""
        return bool(self.sessions)

    def texts(self) -> list[str]:
        """The sessions as stored on an activity (``["TU 10:00-12:00", "TH"]``)."""
        return session_texts(self.sessions)


def session_texts(sessions: Iterable[TimeSlot]) -> list[str]:
    """Sessions in the stored form, Monday first, no repeats."""
    return [str(s) for s in sorted(set(sessions), key=_order)]


def _order(slot: TimeSlot) -> tuple:
    return DAY_CODES.index(slot.day), slot.start, slot.end


# --------------------------------------------------------------------------- days and times


def day_code(word: str) -> str | None:
    """``'Thurs'`` → ``'TH'``; ``'Mondays'`` → ``'MO'``; ``None`` if not a day.

    >>> day_code("Weds"), day_code("tuesdays"), day_code("month")
    ('WE', 'TU', None)
    """
    w = word.lower().rstrip(".")
    if w in _EXTRA_DAY_WORDS:
        return _EXTRA_DAY_WORDS[w]
    if w.endswith("s") and len(w) > 3:
        w = w[:-1]
    if len(w) < 3:
        return None
    for code, name in DAY_NAMES.items():
        if name.lower().startswith(w):
            return code
    return None


def day_group(word: str) -> tuple[str, ...] | None:
    """``'weekdays'`` → Monday to Friday, ``'weekends'``, ``'daily'``; else ``None``."""
    return _GROUP_WORDS.get(word.lower().rstrip("."))


def days_between(first: str, last: str) -> tuple[str, ...]:
    """``('MO', 'FR')`` → Monday to Friday; wraps round the week (``FR``-``MO``)."""
    i, j = DAY_CODES.index(first), DAY_CODES.index(last)
    if j < i:
        j += 7
    return tuple(DAY_CODES[k % 7] for k in range(i, j + 1))


def clock(text: str) -> tuple[int, int, str | None]:
    """One time as written: ``(hour, minute, 'am'|'pm'|None)``; ``noon`` is ``(12, 0, 'pm')``.

    Raise ``ValueError`` when it is not a time.
    """
    t = re.sub(r"\s+", "", text.lower()).replace(".", ":")
    if t in {"noon", "midday", "12noon", "12midday"}:
        return 12, 0, "pm"
    if t == "midnight":
        return 0, 0, "am"
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?:?(am|pm|a:m:?|p:m:?)?", t)
    if not match:
        raise ValueError(f"{text!r} is not a time")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = (match.group(3) or "").replace(":", "") or None
    if minute > 59 or hour > 24 or (suffix and not 1 <= hour <= 12):
        raise ValueError(f"{text!r} is not a time")
    return hour, minute, suffix


def _to24(hour: int, minute: int, suffix: str | None) -> int:
    if suffix == "am":
        hour = 0 if hour == 12 else hour
    elif suffix == "pm":
        hour = hour if hour == 12 else hour + 12
    return hour * 60 + minute


def time_range(first: str, second: str) -> tuple[str, str]:
    """Two written times → ``('HH:MM', 'HH:MM')``, reading am/pm as people mean it.

    >>> time_range("9", "5"), time_range("10", "11am"), time_range("11", "1pm"), time_range("2", "4")
    (('09:00', '17:00'), ('10:00', '11:00'), ('11:00', '13:00'), ('14:00', '16:00'))
    >>> time_range("1:30", "3"), time_range("06:00", "07:30"), time_range("10.30am", "1pm")
    (('13:30', '15:00'), ('06:00', '07:30'), ('10:30', '13:00'))

    Raise ``ValueError`` when either is not a time or the range ends before it starts.
    """
    h1, m1, s1 = clock(first)
    h2, m2, s2 = clock(second)
    end = _to24(h2, m2, s2)
    if s2 is None and h2 == 24:
        end = 24 * 60 + m2
    if s1 is None and s2 is not None and h1 <= 12:
        start = _to24(h1, m1, s2)  # "10-11am", "2-4pm": the end's am/pm, if it fits
        if start >= end:
            start = _to24(h1, m1, "am" if s2 == "pm" else None)
    else:
        start = _to24(h1, m1, s1)
    written_24h = first.strip().startswith("0") or second.strip().startswith("0") or h2 > 12
    if s1 is None and s2 is None and not written_24h and 1 <= h1 <= 6 and 1 <= h2 <= 7:
        start, end = start + 12 * 60, end + 12 * 60  # "2-4", "1:30-3": afternoon, not night
    if s2 is None and end <= start and h2 < 12:
        end += 12 * 60  # "9-5", "10:00-1:00"
    if not 0 <= start < end <= 24 * 60:
        raise ValueError(f"{first}-{second} ends before it starts")
    return _hhmm(start), _hhmm(end)


def start_time(text: str) -> str:
    """``'6.30pm'`` → ``'18:30'``; hours 1 to 6 alone are afternoon."""
    hour, minute, suffix = clock(text)
    if suffix is None and 1 <= hour <= 6 and minute == 0 and ":" not in text:
        suffix = "pm"
    return _hhmm(_to24(hour, minute, suffix))


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# --------------------------------------------------------------------------- free text


@functools.lru_cache(maxsize=4096)
def parse_schedule(text: str) -> Schedule:
    """Read a schedule written by a person; never raises (unread parts give no sessions).

    Parts separated by ``;`` or new lines are read one by one.  Within a part, days
    collect until a time comes; the time applies to them all (``Tuesdays and Thursdays
    10:00-15:00``), and a time written before the days applies to the days after it.
    """
    sessions: list[TimeSlot] = []
    notes: list[str] = []
    for part in re.split(r"[;\n]+", text or ""):
        low = part.lower()
        for pattern, note in _NOTES:
            if pattern.search(low) and note not in notes:
                notes.append(note)
        sessions.extend(_part_sessions(part))
    return Schedule(text or "", tuple(tidy_sessions(sessions)), tuple(notes))


def tidy_sessions(sessions: Iterable[TimeSlot]) -> list[TimeSlot]:
    """Sessions sorted Monday first, without repeats; a whole-day session is dropped when
    the same day also has timed ones."""
    unique = sorted(set(sessions), key=_order)
    timed = {s.day for s in unique if not s.whole_day}
    return [s for s in unique if not (s.whole_day and s.day in timed)]


def _part_sessions(part: str) -> list[TimeSlot]:
    tokens = _tokens(part)
    found: list[TimeSlot] = []
    days: list[str] = []
    when: tuple[str, str] | None = None
    pending: tuple[str, str] | None = None  # a time written before its days
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind == "days":
            if days and when is not None:  # a new group of days: close the last one
                found += _slots(days, when)
                days, when = [], None
            named = token.days
            # a range of days: "Mon-Fri", "Monday to Friday"
            if (i + 2 < len(tokens) and tokens[i + 1].kind == "sep"
                    and tokens[i + 2].kind == "days" and len(named) == 1
                    and len(tokens[i + 2].days) == 1):
                named = days_between(named[0], tokens[i + 2].days[0])
                i += 2
            days += [d for d in named if d not in days]
        elif token.kind == "time":
            if days and when is None:
                when = token.when
            elif days:
                found += _slots(days, when)
                days, when = [], None
                pending = token.when
            else:
                pending = token.when
        i += 1
    if days:
        found += _slots(days, when or pending)
    return found


def _slots(days: Sequence[str], when: tuple[str, str] | None) -> list[TimeSlot]:
    if when is None:
        return [TimeSlot(d) for d in days]
    return [TimeSlot(d, *when) for d in days]


class _Token(NamedTuple):
    kind: str  # "days", "time" or "sep"
    days: tuple[str, ...] = ()
    when: tuple[str, str] | None = None


def _tokens(part: str) -> list[_Token]:
    """Days, times and range separators, in order; other words are dropped."""
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(part):
        if match.group("range"):
            try:
                tokens.append(_Token("time", when=time_range(match.group("t1"),
                                                             match.group("t2"))))
            except ValueError:
                continue
        elif match.group("from"):
            try:
                start = start_time(match.group("t0"))
            except ValueError:
                continue
            if start < "24:00":
                tokens.append(_Token("time", when=(start, "24:00")))
        elif match.group("dash"):
            tokens.append(_Token("sep"))
        else:
            word = match.group("word")
            low = word.lower().rstrip(".")
            code = day_code(word)
            group = day_group(word)
            if code:
                tokens.append(_Token("days", (code,)))
            elif group:
                tokens.append(_Token("days", group))
            elif low == "every" and _next_word(part, match.end()) == "day":
                tokens.append(_Token("days", DAY_CODES))
            elif low in _RANGE_WORDS:
                tokens.append(_Token("sep"))
    return tokens


def _next_word(text: str, at: int) -> str:
    match = re.match(r"\s*([a-z]+)", text[at:], re.IGNORECASE)
    return match.group(1).lower() if match else ""


# --------------------------------------------------------------------------- feed records


def sessions_from_record(schedule: Mapping) -> Schedule:
    """An HSDS 3.0 ``schedule`` or ORUK ``regular_schedule`` record → its sessions.

    Days from ``byday`` (``TU,TH``; ``2MO`` = second Monday of the month, a monthly note),
    else ORUK's ``weekday``, else every day for ``freq = DAILY``; hours from ``opens_at``
    and ``closes_at`` (``from opens_at`` to the end of the day when only it is given).  A
    record naming no day is read from its ``description`` text instead.

    >>> r = sessions_from_record({"byday": "TH,FR", "opens_at": "10:00:00", "closes_at": "18:00:00"})
    >>> r.texts()
    ['TH 10:00-18:00', 'FR 10:00-18:00']
    """
    def text(key: str) -> str:
        value = schedule.get(key)
        return "" if value is None else str(value).strip()

    notes: list[str] = []
    days: list[str] = []
    for token in re.split(r"[,\s]+", text("byday").upper()):
        match = re.fullmatch(r"([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)", token)
        if match:
            days.append(match.group(2))
            if match.group(1) and "monthly" not in notes:
                notes.append("monthly")
    if not days and text("weekday"):
        code = day_code(text("weekday")) or (text("weekday")[:2].upper()
                                             if text("weekday")[:2].upper() in DAY_CODES else None)
        days = [code] if code else []
    if not days and text("freq").upper() == "DAILY":
        days = list(DAY_CODES)
    if text("interval") == "2" and text("freq").upper() == "WEEKLY":
        notes.append("every other week")
    if text("freq").upper() == "MONTHLY" and "monthly" not in notes:
        notes.append("monthly")
    description = text("description")
    if not days:
        parsed = parse_schedule(description)
        return Schedule(description, parsed.sessions, tuple(dict.fromkeys(notes + list(parsed.notes))))
    when = _feed_hours(text("opens_at"), text("closes_at"))
    slots = tidy_sessions(_slots(days, when))
    return Schedule(description, tuple(slots), tuple(notes))


def _feed_hours(opens: str, closes: str) -> tuple[str, str] | None:
    def hhmm(value: str) -> str | None:
        match = re.match(r"^(\d{1,2}):(\d{2})", value)
        if not match or int(match.group(1)) > 24 or int(match.group(2)) > 59:
            return None
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    start, end = hhmm(opens), hhmm(closes)
    if start and end and start < end:
        return start, end
    if start and not end and start < "24:00":
        return start, "24:00"
    return None


def sessions_from_records(schedules: Iterable[Mapping]) -> list[str]:
    """Every session of several feed schedule records, in the stored form."""
    found: list[TimeSlot] = []
    for schedule in schedules:
        found += sessions_from_record(schedule).sessions
    return session_texts(tidy_sessions(found))
