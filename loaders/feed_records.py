"""What the ORUK and HSDS readers share: the quality report, text cleaning, JSON pages,
duplicate merging, and the format-neutral records both readers produce.

:mod:`loaders.oruk` and :mod:`loaders.hsds` turn a feed into :class:`Feed` (organisations,
services, and the sites where each service runs); :mod:`loaders.feeds` maps those onto the
model.  Pure: reading a file is the only I/O here.
"""

from __future__ import annotations

import csv
import html
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from loaders.files import decode_bytes
from loaders.living_db import parse_date

ACTIONS = ("dropped", "repaired", "merged", "unmapped", "incomplete", "disappeared")


# --------------------------------------------------------------------------- quality report


@dataclass(frozen=True, order=True)
class QualityEntry:
    """One record (or one field of it) the import dropped, repaired, merged or could not map.

    ``record_id`` is the node id it would have (``oruk:service:12``) or a file name; ``rule``
    is a short code that groups entries in the summary; ``reason`` says it in plain words.
    Entries never hold the values of staff metadata.
    """

    record_id: str
    field: str
    action: str
    rule: str
    reason: str
    source: str = ""


@dataclass
class QualityReport:
    """Every record dropped, repaired, merged, unmapped or disappeared, and what was loaded."""

    entries: list[QualityEntry] = field(default_factory=list)
    loaded: dict[str, int] = field(default_factory=dict)
    _seen: set = field(default_factory=set, repr=False, compare=False)

    def add(self, record_id: str, field_name: str, action: str, rule: str, reason: str,
            source: str = "") -> None:
        """Record one entry (an identical entry is kept once)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        entry = QualityEntry(record_id, field_name, action, rule, reason, source)
        if entry not in self._seen:
            self._seen.add(entry)
            self.entries.append(entry)

    @property
    def disappeared(self) -> list[str]:
        """Ids that the previous import had and this feed no longer holds."""
        return sorted(e.record_id for e in self.entries if e.action == "disappeared")

    def counts(self) -> dict[str, int]:
        """Entries per action."""
        found = Counter(entry.action for entry in self.entries)
        return {action: found[action] for action in ACTIONS}

    def by_rule(self) -> dict[tuple[str, str], int]:
        """Entries per (action, rule), sorted."""
        return dict(sorted(Counter((e.action, e.rule) for e in self.entries).items()))

    def summary(self) -> str:
        """What was loaded, then each action with its reasons, e.g.
        ``Dropped 3: empty name 2, inactive service 1.``"""
        loaded = ", ".join(f"{kind} {n}" for kind, n in self.loaded.items()) or "nothing"
        lines = [f"Loaded: {loaded}."]
        rules = self.by_rule()
        for action, count in self.counts().items():
            if count:
                reasons = ", ".join(f"{rule.replace('-', ' ')} {n}"
                                    for (a, rule), n in rules.items() if a == action)
                lines.append(f"{action.capitalize()} {count}: {reasons}.")
        if len(lines) == 1:
            lines.append("Nothing dropped, repaired, merged or unmapped.")
        return "\n".join(lines)

    def rows(self) -> list[dict]:
        return [asdict(entry) for entry in sorted(self.entries)]

    def write_csv(self, path: Path | str) -> Path:
        """The entries as a CSV Excel opens (UTF-8 with BOM)."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        names = [f.name for f in QualityEntry.__dataclass_fields__.values()]
        with out.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=names)
            writer.writeheader()
            writer.writerows(self.rows())
        return out

    def write_json(self, path: Path | str) -> Path:
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "loaded": self.loaded,
            "counts": self.counts(),
            "by_rule": [{"action": a, "rule": r, "count": n}
                        for (a, r), n in self.by_rule().items()],
            "entries": self.rows(),
        }
        out.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return out


# --------------------------------------------------------------------------- text

_TAG_RE = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>")
_ENTITY_RE = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]{1,31});")
_BLOCK_TAGS = frozenset(
    "p div section article header footer ul ol table tr h1 h2 h3 h4 h5 h6 blockquote pre hr"
    .split()
)
_SKIP_TAGS = frozenset({"script", "style", "head", "title"})
EMAIL_RE = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment; a link keeps its address after its words."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.links: list[tuple[str, int]] = []

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP_TAGS:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")
        elif tag == "a":
            self.links.append(((dict(attrs).get("href") or "").strip(), len(self.parts)))

    def handle_endtag(self, tag):
        if tag in _SKIP_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            words = "".join(self.parts[start:])
            shown = href.removeprefix("mailto:").removeprefix("tel:")
            if href and not href.lower().startswith(("javascript:", "#", "data:")):
                if shown.rstrip("/") not in words:
                    self.parts.append(f" ({shown})")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def _tidy(text: str, multiline: bool) -> str:
    text = text.replace("\xa0", " ").replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        return re.sub(r"\s+", " ", text).strip()
    lines = [re.sub(r"[ \t\f\v]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(markup: str) -> str:
    """Plain text from an HTML fragment: tags gone, paragraphs kept, links kept.

    >>> html_to_text('<p>Art &amp; chat.</p><p>See <a href="https://x.org/art">our page</a></p>')
    'Art & chat.\\n\\nSee our page (https://x.org/art)'
    >>> html_to_text('<a href="https://x.org">https://x.org</a><script>alert(1)</script>')
    'https://x.org'
    """
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return _tidy("".join(parser.parts), multiline=True)


def clean_text(value: object, *, multiline: bool = False) -> tuple[str, set[str]]:
    """Text fit to store, and what was done to it: ``html``, ``entities``, ``trimmed``.

    HTML becomes plain text (links kept); entities, even double-encoded ones, are decoded.
    """
    if value is None or isinstance(value, (dict, list, bool)):
        return "", set()
    raw = str(value)
    text, notes = raw, set()
    for _ in range(3):
        if _TAG_RE.search(text):
            text, notes = html_to_text(text), notes | {"html"}
        elif _ENTITY_RE.search(text):
            text, notes = html.unescape(text), notes | {"entities"}
        else:
            break
    tidy = _tidy(text, multiline)
    if not notes and tidy != raw:
        notes.add("trimmed")
    return tidy, notes


def text_of(value: object) -> str:
    """A scalar as plain, tidy one-line text (no reporting); ``''`` for anything else."""
    return clean_text(value)[0]


def iso_date(value: object) -> str:
    """``2023-03-15T10:30:45Z`` or ``15/03/2023`` → ``2023-03-15``; ``''`` if not a date."""
    text = text_of(value)
    for candidate in (text[:10], text):
        try:
            return parse_date(candidate)
        except ValueError:
            continue
    return ""


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
    """Every top-level JSON value in a file (one, or several concatenated)."""
    text, problems = decode_bytes(path.read_bytes(), path.name)
    if problems:
        report.add(source, "", "dropped", "unreadable-file", problems[0].reason, source)
        return []
    docs: list[object] = []
    decoder, at = json.JSONDecoder(), 0
    while True:
        while at < len(text) and text[at] in " \t\r\n,\ufeff":
            at += 1
        if at >= len(text):
            return docs
        try:
            doc, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError as exc:
            reason = (f"not valid JSON at line {exc.lineno} ({exc.msg});"
                      " the rest of the file was skipped")
            report.add(source, "", "dropped", "invalid-json", reason, source)
            return docs
        docs.append(doc)


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
        page = _page_items(doc) if isinstance(doc, dict) else None
        if page is not None:
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
    return _tidy(str(a), multiline=False) == _tidy(str(b), multiline=False)


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
            files += sorted(p for p in path.iterdir() if p.suffix.lower() == ".json")
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
