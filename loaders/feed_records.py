"""What the ORUK and HSDS readers share: JSON pages, duplicate merging, the staff-metadata
rule, and the format-neutral records both readers produce (the quality report is in
:mod:`loaders.quality`, text cleaning in :mod:`loaders.feed_text`).

:mod:`loaders.oruk` and :mod:`loaders.hsds` turn a feed into :class:`Feed` (organisations,
services, and the sites where each service runs); :mod:`loaders.feeds` maps those onto the
model.  Pure: reading a file is the only I/O here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from loaders.feed_text import EMAIL_RE, iso_date, tidy
from loaders.files import read_text
from loaders.limits import MAX_JSON_DEPTH
from loaders.quality import QualityReport

# --------------------------------------------------------------------------- records


@dataclass
class OrgRecord:
    id: str
    name: object
    description: object = ""
    website: object = ""
    email: object = ""
    phone: object = ""
    charity_number: object = ""
    file: str = ""
    row: int = 0


@dataclass
class SiteRecord:
    """One service at one place (ORUK/HSDS ``service_at_location``)."""

    id: str
    location_name: object = ""
    description: object = ""
    address_1: object = ""
    city: object = ""
    postcode: object = ""
    latitude: object = None
    longitude: object = None
    access: list = field(default_factory=list)  # accessibility texts
    schedules: list = field(default_factory=list)  # schedule dicts (same fields in both)
    phone: object = ""
    email: object = ""
    virtual: bool = False
    has_location: bool = True


@dataclass
class ServiceRecord:
    id: str
    name: object
    org_id: str | None
    file: str
    row: int
    alternate_name: object = ""
    description: object = ""
    website: object = ""
    email: object = ""
    phone: object = ""
    referral_info: object = ""
    reviewed_at: object = ""
    status: object = ""
    attending_type: object = ""
    fees: object = ""
    age_min: object = None
    age_max: object = None
    terms: list = field(default_factory=list)  # (term text, field it came from)
    costs: list = field(default_factory=list)  # cost option dicts
    schedules: list = field(default_factory=list)  # service-level schedule dicts
    sites: list = field(default_factory=list)


@dataclass
class Feed:
    """A whole feed in format-neutral records, ready for :func:`loaders.feeds.plan_feed`."""

    namespace: str
    services: list[ServiceRecord] = field(default_factory=list)
    orgs: dict[str, OrgRecord] = field(default_factory=dict)
    staff_emails: set[str] = field(default_factory=set)
    complete: bool = True


# --------------------------------------------------------------------------- JSON and pages

PAGE_KEYS = ("content", "contents", "items", "data", "results")
TOTAL_KEYS = ("totalElements", "total_items", "totalItems", "total")


@dataclass
class Found:
    """One raw object from a feed: its id, its data, and where it was."""

    id: str
    data: dict
    file: str
    row: int


def read_json_documents(path: Path, source: str, report: QualityReport) -> list[object]:
    """Every top-level JSON value in a file (one, or several concatenated).

    A file too large, not UTF-8, cut off, nested too deeply or holding ``NaN``/``Infinity``
    (which JSON does not allow) is reported with the line where it goes wrong; the values
    read before that point are kept (and the feed is then known to be partly unread).
    """
    text, problems = read_text(path, path.name, "json", "UTF-8")
    if problems:
        for problem in problems:
            report.unreadable(path.name, problem.row, "", problem.reason, source)
        return []
    if not text.strip(" \t\r\n\ufeff"):
        report.unreadable(path.name, 0, "", "the file is empty; nothing to read", source)
        return []
    docs: list[object] = []
    decoder, at = json.JSONDecoder(parse_constant=_refuse_constant), 0
    while True:
        while at < len(text) and text[at] in " \t\r\n,\ufeff":
            at += 1
        if at >= len(text):
            return docs
        start = at
        try:
            doc, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError as exc:
            rule, line, reason = "invalid-json", exc.lineno, _decode_error(text, exc)
        except RecursionError:
            rule, line, reason = "invalid-json", _line_of_depth(text, start), _too_deep()
        except ValueError as exc:  # NaN/Infinity, or a number with thousands of digits
            rule, line, reason = "invalid-json", *_value_error(text, start, exc)
        else:
            if _deeper_than(doc, MAX_JSON_DEPTH):
                rule, line, reason = "invalid-json", _line_of_depth(text, start), _too_deep()
            else:
                docs.append(doc)
                continue
        report.unreadable(path.name, line, "", reason + _skipped(docs), source, rule)
        return docs


def _skipped(docs: list) -> str:
    return "; the rest of the file was skipped" if docs else "; nothing in it was read"


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not allowed in JSON")


def _decode_error(text: str, exc: json.JSONDecodeError) -> str:
    rest = text[exc.pos:].strip()
    if not rest or exc.msg.startswith("Unterminated string"):
        return (f"the file ends before the JSON is complete (line {exc.lineno}): was the"
                " download cut off? Download it again")
    return f"not valid JSON at line {exc.lineno} ({exc.msg})"


_STRING = r'"(?:[^"\\]|\\.)*"'
_TOKENS = re.compile(_STRING + r"|[\[\]{}]")
_CONSTANTS = re.compile(_STRING + r"|NaN|-?Infinity|-?\d{4000,}")


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _too_deep() -> str:
    return (f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep, which no directory"
            " feed needs")


def _line_of_depth(text: str, start: int) -> int:
    """The line where the value at ``start`` nests deeper than the limit (slow: errors only)."""
    depth = 0
    for match in _TOKENS.finditer(text, start):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return _line(text, match.start())
        elif token in "]}":
            depth -= 1
    return _line(text, start)


def _value_error(text: str, start: int, exc: ValueError) -> tuple[int, str]:
    for match in _CONSTANTS.finditer(text, start):
        token = match.group()
        if token.startswith('"'):
            continue
        line = _line(text, match.start())
        if token.lstrip("-").isdigit():
            return line, (f"a number on line {line} has {len(token.lstrip('-')):,} digits;"
                          " no directory field needs that many")
        return line, (f"{token} on line {line} is not allowed in JSON (it has no NaN or"
                      " Infinity); the feed's publisher should write null instead")
    return 0, f"not valid JSON ({exc})"


def _deeper_than(value: object, limit: int) -> bool:
    """Whether ``value`` nests lists/objects more than ``limit`` deep (no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[object]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (dict, list)))
    return False


def _page_items(doc: dict) -> list | None:
    for key in PAGE_KEYS:
        if isinstance(doc.get(key), list):
            return doc[key]
    return None


def unpage(docs: list[object]) -> tuple[list[object], list[int]]:
    """Items from bare lists, single objects and paged responses (one or a list of pages);
    and the totals the pages claim (``totalElements``, ``total_items``...)."""
    items: list[object] = []
    totals: list[int] = []

    def take(doc: object, top: bool) -> None:
        if isinstance(doc, dict) and (page := _page_items(doc)) is not None:
            items.extend(page)
            claimed = [doc[k] for k in TOTAL_KEYS if type(doc.get(k)) is int]
            totals.extend(claimed[:1])
        elif isinstance(doc, list) and top:
            for element in doc:
                take(element, False)
        else:
            items.append(doc)

    for doc in docs:
        take(doc, True)
    return items, totals


def is_empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, dict)):
        return not value
    return False


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def agrees(a: object, b: object) -> bool:
    """True when ``a`` and ``b`` never say different things: blanks agree with anything,
    objects agree on their shared fields, lists of objects with ids agree when one's ids
    are a subset of the other's and the shared ones agree; text ignores stray spaces."""
    if is_empty(a) or is_empty(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return all(agrees(a[k], b[k]) for k in a.keys() & b.keys())
    if isinstance(a, list) and isinstance(b, list):
        if all(isinstance(x, dict) and record_id(x) for x in a + b):
            by_id = [{record_id(x): x for x in items} for items in (a, b)]
            small, big = sorted(by_id, key=len)
            return set(small) <= set(big) and all(agrees(small[k], big[k]) for k in small)
        return _canonical(a) == _canonical(b)
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    return tidy(str(a), multiline=False) == tidy(str(b), multiline=False)


def _richness(data: dict) -> int:
    return len(json.dumps(data, default=str))


def freshness(data: dict) -> str:
    return iso_date(data.get("assured_date")) or iso_date(data.get("last_modified"))


def merge_duplicates(found: list[Found], label: str, report: QualityReport) -> list[Found]:
    """One record per id.  The winner is the freshest (``assured_date``, else
    ``last_modified``), then the richest (most content), then the last in the feed; its
    blank fields are filled from the others.  Records that say different things are
    reported as ``merged``; one that only adds detail (a list entry and its full record) is
    merged silently.  ``label`` is the node-id prefix, e.g. ``oruk:service``.
    """
    groups: dict[str, list[Found]] = {}
    for item in found:
        groups.setdefault(item.id, []).append(item)
    merged: list[Found] = []
    for key, group in groups.items():
        if len(group) == 1:
            merged.append(group[0])
            continue
        rank = [(freshness(g.data), _richness(g.data), i) for i, g in enumerate(group)]
        order = sorted(range(len(group)), key=lambda i: rank[i], reverse=True)
        winner = group[order[0]]
        data = dict(winner.data)
        conflicts: set[str] = set()
        for index in order[1:]:
            for name, value in group[index].data.items():
                if is_empty(data.get(name)):
                    if not is_empty(value):
                        data[name] = value
                elif not agrees(value, data[name]):
                    conflicts.add(name)
        if conflicts:
            fresher = rank[order[0]][0] > rank[order[1]][0]
            why = "newest assured_date" if fresher else "most complete, else last in the feed"
            fields = ", ".join(sorted(conflicts))
            reason = (f"{len(group)} records share this id with different {fields};"
                      f" kept {winner.file} record {winner.row} ({why}),"
                      " blanks filled from the others")
            report.add(f"{label}:{key}", ", ".join(sorted(conflicts)), "merged", "duplicate-id",
                       reason, winner.file)
        merged.append(Found(key, data, winner.file, winner.row))
    return merged


def record_id(data: dict) -> str:
    """A directory id as text (numbers allowed); ``''`` when missing or blank."""
    value = data.get("id")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return ""
    return re.sub(r"\s+", "-", str(value).strip())


def dicts(value: object) -> list[dict]:
    """The objects in a JSON list (anything else in it is ignored)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def json_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir()
                            if p.suffix.lower() == ".json" and p.is_file())
        else:
            files.append(path)
    return files


def first_phone(*holders: object) -> str:
    """The first phone number of the first object (or list of objects) that has one."""
    for holder in holders:
        for item in dicts(holder) if isinstance(holder, list) else [holder]:
            if not isinstance(item, dict):
                continue
            for phone in dicts(item.get("phones")):
                if not is_empty(phone.get("number")):
                    return str(phone["number"])
    return ""


# --------------------------------------------------------------------------- staff metadata

#: keys whose values are about the people who maintain a directory, never about the service
STAFF_KEYS = frozenset({
    "pc_metadata", "assured_by", "assurer_email", "metadata", "updated_by", "created_by",
    "reviewed_by", "reviewer", "last_updated_by", "editor", "assured_by_email",
})


def withhold_staff_metadata(data: object, node_id: str, source: str, report: QualityReport,
                            emails: set[str], path: str = "") -> None:
    """Report (without values) every staff-metadata field in ``data`` and collect the
    e-mail addresses in it, so that they can be removed wherever else they turn up."""
    if isinstance(data, list):
        for item in data:
            withhold_staff_metadata(item, node_id, source, report, emails, path)
        return
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        where = f"{path}.{key}" if path else str(key)
        if str(key).lower() in STAFF_KEYS:
            if not is_empty(value):
                emails.update(m.lower() for m in EMAIL_RE.findall(_canonical(value)))
                report.add(node_id, where, "dropped", "staff-metadata",
                           "reviewer/staff metadata is never stored", source)
        elif isinstance(value, (dict, list)):
            withhold_staff_metadata(value, node_id, source, report, emails, where)
