"""Living Database validation: raw rows → typed, cross-checked records (a load plan).

Pure: no files (see :mod:`loaders.files`) and no database.  Every problem names its file,
row, column and reason; row numbers are the ones a person sees in Excel (header = row 1).
"""

from __future__ import annotations

import hashlib
import itertools
import operator
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import orjson

from loaders.boundaries import centre_of, compact, geometry_of
from loaders.coordinates import (
    FAR_KM,
    centres_of,
    distance_km,
    parse_degrees,
    point_problem,
)
from loaders.dates import parse_date
from loaders.files import RawRows, columns_of
from loaders.limits import (
    MAX_COLUMNS,
    MAX_WHOLE_NUMBER,
    STRIP_FROM_TEXT,
    id_problem,
    text_problem,
)
from loaders.placing import Placer, postcode_in_text
from loaders.postcodes import parse_prefixes
from loaders.schedule import parse_schedule
from pathways.errors import Problem
from pathways.model import (
    ALLOWED_ENDPOINTS,
    CONTENT_HASH,
    KIND_OF_TABLE,
    MAX_ID_LENGTH,
    REL_PROPERTIES,
    RELATIONSHIPS_TABLE,
    SESSIONS,
    Column,
    NodeKind,
    NodeRecord,
    RelRecord,
    RelType,
)

TRUE_WORDS = {"yes", "y", "true", "t", "1"}
FALSE_WORDS = {"no", "n", "false", "f", "0"}
_ID_COLUMNS = frozenset({"id", "source_id", "target_id"})
# Enough for an id in a file without any control or invisible character (see _screen_rows).
_NO_SPACE = re.compile(r"^\S+$")
_REL_TYPES = {rel.value: rel for rel in RelType}
_KINDS = list(NodeKind)
_KIND_INDEX = {kind: i for i, kind in enumerate(_KINDS)}
# each relationship type's allowed (source kind, target kind) pairs
_ENDPOINT_PAIRS = {rel: frozenset((s, t) for s in sources for t in targets)
                   for rel, (sources, targets) in ALLOWED_ENDPOINTS.items()}
# the same as (type's spelling, source kind, target kind), for a whole chunk at once
_ENDPOINT_TRIPLES = frozenset((rel.value, s, t) for rel, pairs in _ENDPOINT_PAIRS.items()
                              for s, t in pairs)
# and as (type's spelling, the low bits of both ends' _pack), for ends accepted in this load
_ENDPOINT_PACKED = frozenset((rel, (_KIND_INDEX[s] << 1) | 1, (_KIND_INDEX[t] << 1) | 1)
                             for rel, s, t in _ENDPOINT_TRIPLES)
_LOW_64 = 0xFFFFFFFFFFFFFFFF
_LOCATED_IN = RelType.LOCATED_IN.value



class PlainRels(NamedTuple):
    """Valid relationships of one file, in order, whose rows give no property but their two
    ends and their type (their properties: ``source``, the file; ``source_id``,
    ``"source|TYPE|target"``; the content hash), as :attr:`StreamCheck.on_plain_rels` takes
    them: one list per field, an item per row (a few lists of strings, not a record per
    row: each tracked object alive at once counts towards the next garbage collection)."""

    file: str
    types: list[RelType]
    sources: list[str]
    targets: list[str]
    hashes: list[str]
    rows: list[int]

Lookup = Callable[[Collection[str]], Mapping[str, NodeKind]]


@dataclass
class LoadPlan:
    """What a load would write, and what it refuses.

    ``rejected`` maps (file, row) to the raw values of every row with a problem, for the
    ``--allow-partial`` report.
    """

    nodes: list[NodeRecord] = field(default_factory=list)
    rels: list[RelRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rejected: dict[tuple[str, int], dict] = field(default_factory=dict)
    #: activity id → why it could not be placed in a locality (see :func:`place_activities`)
    not_placed: dict[str, str] = field(default_factory=dict)


def content_hash(props: Mapping) -> str:
    """A digest of a row's content, so reloading an unchanged row changes nothing.

    orjson with sorted keys is the canonical form: the standard json module made hashing
    a third of the time of validating 564k rows.
    """
    text = orjson.dumps(props, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.blake2b(text, digest_size=16).hexdigest()


# --------------------------------------------------------------------------- values


def convert(column: Column, text: str) -> object:
    """Turn a cell's text into its typed value; raise ``ValueError`` with a plain reason."""
    if column.type == "str":
        return text
    if column.type == "enum":
        value = text.strip()
        if value in column.choices:
            return value
        wanted = value.lower().replace(" ", "_").replace("-", "_")
        for choice in column.choices:  # "Link Worker" → link_worker, "refers to" → REFERS_TO
            if choice.lower() == wanted:
                return choice
        raise ValueError(f"{text!r} is not one of: {', '.join(column.choices)}")
    if column.type == "bool":
        word = text.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError(f"{text!r} is not yes or no")
    if column.type == "int":
        value = text.strip()
        if not (value.isascii() and value.isdigit()):  # int() would take "1_000" and "١٢"
            digits = value[1:]
            if value.startswith("-") and digits.isascii() and digits.isdigit():
                raise ValueError(f"{shorten(text)} must not be negative")
            raise ValueError(f"{shorten(text)} is not a whole number")
        if len(value) > 10 or int(value) > MAX_WHOLE_NUMBER:
            raise ValueError(f"{shorten(text)} is too large (at most {MAX_WHOLE_NUMBER:,})")
        return int(value)
    if column.type == "date":
        return parse_date(text)
    if column.type == "tags":
        tags = [t.strip().lower().replace(" ", "_") for t in text.split(";")]
        return sorted({t for t in tags if t})
    if column.type == "postcodes":
        return parse_prefixes(text)
    if column.type in ("latitude", "longitude"):
        return parse_degrees(text, column.type)
    if column.type == "boundary":  # loaders.files put the named file's geometry here
        if not text.startswith("{"):
            raise ValueError(f"{shorten(text)}: boundary files are read with the Living "
                             "Database's files from a folder (see docs/map.md)")
        return compact(geometry_of(text))
    raise AssertionError(f"unknown column type {column.type}")


def shorten(text: str, limit: int = 40) -> str:
    """A value as a message shows it: quoted, and cut short when long."""
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + f"… ({len(text):,} characters)"


# --------------------------------------------------------------------------- one table


def parse_table(raw: RawRows) -> tuple[list[tuple[int, dict]], list[Problem]]:
    """Check a table's header and convert each row's cells; no cross-row checks here.

    Returns ``(rows, problems)`` where each row is ``(row_number, values)`` with only the
    non-blank cells, typed.  A row with any problem is left out of ``rows``.
    """
    columns = {c.name: c for c in columns_of(raw.table)}
    if len(raw.header) > MAX_COLUMNS:
        reason = (f"the header has {len(raw.header):,} columns; a file has at most {MAX_COLUMNS}"
                  f" columns (this one needs: {', '.join(columns)})")
        return [], [Problem(raw.file, 1, "", reason)]
    problems: list[Problem] = []
    seen: set[str] = set()
    for name in raw.header:
        if not name:
            problems.append(Problem(raw.file, 1, "", "a column has no name in the header"))
        elif name in seen:
            problems.append(Problem(raw.file, 1, name, "column appears twice in the header"))
        elif name not in columns:
            expected = ", ".join(columns)
            problems.append(Problem(raw.file, 1, name, f"unknown column; expected: {expected}"))
        seen.add(name)
    for column in columns.values():
        if column.required and column.name not in seen:
            problems.append(Problem(raw.file, 1, column.name, "required column is missing"))
    if problems:  # a bad header makes every row suspect: refuse the whole file
        return [], problems

    rows: list[tuple[int, dict]] = []
    width = len(raw.header)
    # Per column: the values taken as they are (any text; an enum's exact spelling).
    specs = [
        (index, name, columns[name],
         None if columns[name].type == "str"
         else frozenset(columns[name].choices) if columns[name].type == "enum" else ())
        for index, name in enumerate(raw.header)
    ]
    rows_in = raw.rows
    if raw.problems or raw.check_chars:  # the slow path: only files that need it
        rows_in, early = _screen_rows(raw, specs)
        problems.extend(early)
    # the checks across cells, only for the columns this file has
    has_id, has_ages = "id" in seen, "age_min" in seen and "age_max" in seen
    has_point, has_boundary = "latitude" in columns, "boundary" in seen
    cell_specs = [(index, name, column.required, as_is, column)
                  for index, name, column, as_is in specs]
    for number, values in rows_in:
        row_problems: list[Problem] = []
        cells = len(values)
        if cells > width and any(v.strip() for v in values[width:]):
            reason = f"has {cells} cells but the header has {width} columns"
            row_problems.append(Problem(raw.file, number, "", reason))
        typed: dict = {}
        for index, name, required, as_is, column in cell_specs:
            text = values[index].strip() if index < cells else ""
            if not text:
                if required:
                    row_problems.append(Problem(raw.file, number, name, "required value is blank"))
                continue
            if as_is is None or text in as_is:
                typed[name] = text
                continue
            try:
                typed[name] = convert(column, text)
            except ValueError as exc:
                row_problems.append(Problem(raw.file, number, name, str(exc)))
        if has_id and "id" in typed and (len(typed["id"]) > MAX_ID_LENGTH
                                         or not _NO_SPACE.match(typed["id"])):
            id_reason = id_problem(typed["id"])
            if id_reason is not None:
                row_problems.append(Problem(raw.file, number, "id", id_reason))
        if has_ages:
            lo, hi = typed.get("age_min"), typed.get("age_max")
            if lo is not None and hi is not None and lo > hi:
                row_problems.append(Problem(raw.file, number, "age_max", "is below age_min"))
        if (has_point and ("latitude" in typed) != ("longitude" in typed)
                and not any(p.column in ("latitude", "longitude") for p in row_problems)):
            pair = point_problem(typed, [])  # one without the other
            if pair is not None and pair[0] not in seen:  # not blank: not in the file at all
                given_one = "longitude" if pair[0] == "latitude" else "latitude"
                why = f"column is missing but {given_one} is given: give both or neither"
                pair = (pair[0], why)
            if pair is not None:
                row_problems.append(Problem(raw.file, number, *pair))
        if has_boundary and "boundary" in typed and not row_problems:
            trouble = boundary_centre(typed)
            if trouble is not None:
                row_problems.append(Problem(raw.file, number, *trouble))
        if row_problems:
            problems.extend(row_problems)
        else:
            rows.append((number, typed))
    return rows, problems


_REL_ENDS = ("source_id", "type", "target_id")
_REL_COLUMN_NAMES = frozenset(c.name for c in columns_of(RELATIONSHIPS_TABLE))
_TYPE_SPELLINGS = frozenset(_REL_TYPES)


class RelColumns(NamedTuple):
    """A relationship chunk's rows as columns: row numbers, types (their own spelling),
    sources and targets; every row valid as :func:`parse_table` reads it and without a
    property (its other cells blank)."""

    numbers: list[int]
    types: list[str]
    sources: list[str]
    targets: list[str]


def plain_rel_columns(raw: RawRows) -> RelColumns | None:
    """What :func:`parse_table` gives for a chunk of a relationships file, a column at a
    time and without a dict per row, when its header is right and every row has its three
    ends (stripped, type spelled exactly) and nothing else; ``None`` otherwise (the chunk
    is then read by :func:`parse_table`)."""
    header, rows = raw.header, raw.rows
    width = len(header)
    if (raw.problems or raw.check_chars or not rows or width > MAX_COLUMNS
            or len(set(header)) != width or not _REL_COLUMN_NAMES.issuperset(header)
            or not set(header).issuperset(_REL_ENDS)):
        return None
    cells = [values for _number, values in rows]
    if list(map(len, cells)).count(width) != len(cells):
        return None  # short or long rows: the row loop says which
    ends: dict[str, list[str]] = {}
    for name, column in zip(header, zip(*cells, strict=True), strict=True):
        texts = list(map(str.strip, column))
        if name in _REL_ENDS:
            if "" in texts:
                return None  # a required value blank
            ends[name] = texts
        elif any(texts):
            return None  # a property somewhere: the rows go as dicts
    types = ends["type"]
    if not _TYPE_SPELLINGS.issuperset(types):
        return None  # a type spelled otherwise (or not a type)
    return RelColumns([number for number, _values in rows], types, ends["source_id"],
                      ends["target_id"])


# what orjson writes for a relationship row without properties, keys sorted (content_hash)
_PLAIN_REL_JSON = '{"source_id":"%s","target_id":"%s","type":"%s"}'
# characters JSON escapes
_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')


def _plain_rel_hashes(types: list[str], srcs: list[str], dsts: list[str]) -> list[str]:
    """:func:`content_hash` of each row ``{"source_id", "type", "target_id"}``."""
    blake2b = hashlib.blake2b
    if _JSON_ESCAPED.search("".join(srcs)) or _JSON_ESCAPED.search("".join(dsts)):
        return [content_hash({"source_id": src, "type": rel, "target_id": dst})
                for rel, src, dst in zip(types, srcs, dsts, strict=True)]
    return [blake2b((_PLAIN_REL_JSON % ends).encode(), digest_size=16).hexdigest()
            for ends in zip(srcs, dsts, types, strict=True)]


def boundary_centre(typed: dict) -> tuple[str, str] | None:
    """Give a locality with a boundary and no centre its boundary's centre; with a centre,
    ``(column, reason)`` when the boundary is far from it (or near it only swapped)."""
    lat, lon = centre_of(orjson.loads(typed["boundary"]))
    if "latitude" not in typed and "longitude" not in typed:
        typed["latitude"], typed["longitude"] = lat, lon
        return None
    if point_problem({"latitude": lat, "longitude": lon}, centres_of([typed])) is None:
        return None
    if point_problem({"latitude": lon, "longitude": lat}, centres_of([typed])) is None:
        return "boundary", ("its positions look swapped (latitude first): GeoJSON gives "
                            "longitude first, then latitude")
    far = distance_km(lat, lon, typed["latitude"], typed["longitude"])
    return "boundary", (f"its centre is {far:,.0f} km from the locality's centre given in "
                        f"latitude and longitude (more than {FAR_KM:g} km)")


def _screen_rows(raw: RawRows, specs) -> tuple[list[tuple[int, list[str]]], list[Problem]]:
    """Rows refused before conversion: problems found while reading, control characters in
    any cell, invisible characters in ids.  The other rows come back with zero-width spaces,
    word joiners and BOMs removed from their text cells."""
    found: dict[int, list[Problem]] = {}
    for problem in raw.problems:
        found.setdefault(problem.row, []).append(problem)
    kept: list[tuple[int, list[str]]] = []
    for number, values in raw.rows:
        row_problems = list(found.get(number, ()))
        if raw.check_chars:
            values = list(values)
            for index, name, _column, _as_is in specs:
                if index >= len(values) or not values[index].strip():
                    continue
                text = values[index].strip()
                if name in _ID_COLUMNS:
                    trouble = id_problem(text)
                else:
                    trouble = text_problem(text)
                    values[index] = text.translate(STRIP_FROM_TEXT)
                if trouble:
                    row_problems.append(Problem(raw.file, number, name, trouble))
        if row_problems:
            found[number] = row_problems
        else:
            kept.append((number, values))
    return kept, [p for problems in found.values() for p in problems]


# --------------------------------------------------------------------------- whole load


def plan_load(tables: list[RawRows], existing_kinds: Mapping[str, NodeKind],
              localities: Sequence[Mapping] = ()) -> LoadPlan:
    """Validate every row of every table together and say what a load would write.

    ``existing_kinds`` maps ids already in the store to their kind, so relationships may
    point at nodes loaded before, and an id cannot change kind.  ``localities`` are the
    store's (``id``, ``name``, ``postcodes``): with this load's own, new activities are
    placed in them by their venue (:meth:`StreamCheck.finish`).  This is the
    :class:`StreamCheck` with the plan's lists as its sink (``loaders.living_stream`` reads
    large files in chunks for the same check).
    """
    plan = LoadPlan()

    def lookup(ids: Collection[str]) -> dict[str, NodeKind]:
        return {i: existing_kinds[i] for i in ids if i in existing_kinds}

    check = StreamCheck(lookup, localities, [t for t in tables if t.table == "localities"],
                        plan.nodes.append, plan.rels.append)
    for raw in tables:
        if raw.table != RELATIONSHIPS_TABLE:
            check.add_nodes(raw)
    for raw in tables:
        if raw.table == RELATIONSHIPS_TABLE:
            check.add_rels(raw)
    check.finish()
    plan.problems, plan.rejected, plan.not_placed = (check.problems, check.rejected,
                                                     check.not_placed)
    return plan


# --------------------------------------------------------------------------- checking rows


def _pack(file: int, row: int, kind: NodeKind, accepted: bool) -> int:
    return (((file << 32) | row) << 5) | (_KIND_INDEX[kind] << 1) | int(accepted)


def _unpack(packed: int) -> tuple[int, int, NodeKind, bool]:
    place = packed >> 5
    return place >> 32, place & 0xFFFFFFFF, _KINDS[(packed >> 1) & 0xF], bool(packed & 1)


def _rel_key(src: str, rel: str, dst: str) -> int:
    """128 bits standing for a relationship's (source, type, target): two of Python's keyed
    string-tuple hashes (SipHash of each string, seeded per process), so two different
    relationships share a key with odds of about n\u00b2 / 2\u00b9\u00b2\u2078."""
    return (hash((src, rel, dst)) << 64) | (hash((dst, src, rel)) & 0xFFFFFFFFFFFFFFFF)


class _ChunkRows:
    """(file, row) → a chunk's raw row by column, built when a row is first rejected."""

    def __init__(self, raw: RawRows):
        self.raw = raw
        self._rows: dict[int, list[str]] | None = None

    def get(self, key: tuple[str, int]) -> dict | None:
        file, number = key
        if file != self.raw.file:
            return None
        if self._rows is None:
            self._rows = dict(self.raw.rows)
        values = self._rows.get(number)
        if values is None:
            return None
        return dict(zip(self.raw.header, values, strict=False))  # ragged rows too


class StreamCheck:
    """Check node chunks (all of them first), then relationship chunks, then :meth:`finish`.

    ``lookup(ids)`` gives the kinds of those ids already in the store; ``store_localities``
    are the store's localities (``id``, ``name``, ``postcodes``, centre); ``load_localities``
    this load's locality tables, read whole.  Valid records go
    to ``on_node`` and ``on_rel`` (or ``on_plain_rels``) as soon as they are known valid.
    """

    def __init__(self, lookup: Lookup, store_localities: Sequence[Mapping],
                 load_localities: Sequence[RawRows],
                 on_node: Callable[[NodeRecord], None], on_rel: Callable[[RelRecord], None],
                 keep_rejected: bool = True,
                 on_plain_rels: Callable[[PlainRels], None] | None = None):
        self.lookup = lookup
        self.on_node = on_node
        self.on_rel = on_rel
        #: when given, relationships without properties of their own go here, a run of a
        #: chunk's rows at a time, not to ``on_rel`` one by one (same order)
        self.on_plain_rels = on_plain_rels
        self.keep_rejected = keep_rejected
        self.problems: list[Problem] = []
        self.rejected: dict[tuple[str, int], dict] = {}
        self.not_placed: dict[str, str] = {}
        self.nodes = 0
        self.rels = 0
        self._files: list[str] = []
        self._file_index: dict[str, int] = {}
        self._ids: dict[str, int] = {}  # id → _pack(file, row, kind, accepted)
        self._rejected_ids: set[str] = set()
        self._rel_keys: dict[int, int] = {}  # _rel_key → (file << 32) | row
        self._pending: dict[str, tuple[str, int, int]] = {}  # activity → (venue, file, row)
        self._bad_header: set[str] = set()
        here = self._localities_here(load_localities)
        known = [*(p for p in store_localities if p.get("id") not in here), *here.values()]
        self._centres = centres_of(known)
        self._placer = Placer(known)
        self._placing = bool(self._placer.by_prefix or self._placer.by_name)

    def _localities_here(self, tables: Sequence[RawRows]) -> dict[str, dict]:
        """This load's valid localities by id (first of each id; not one the store holds
        as another kind), for the far-away check and for placing activities."""
        here: dict[str, dict] = {}
        for raw in tables:
            rows, _problems = parse_table(raw)
            existing = self.lookup([values["id"] for _number, values in rows])
            for _number, values in rows:
                node_id = values["id"]
                old = existing.get(node_id)
                if node_id not in here and (old is None or old == NodeKind.LOCALITY):
                    here[node_id] = values
        return here

    def _file(self, name: str) -> int:
        index = self._file_index.get(name)
        if index is None:
            index = self._file_index[name] = len(self._files)
            self._files.append(name)
        return index

    def _reject(self, problem: Problem, rows: _ChunkRows) -> None:
        self.problems.append(problem)
        if self.keep_rejected:
            values = rows.get((problem.file, problem.row))
            if values is not None:
                self.rejected[(problem.file, problem.row)] = values

    def _refuse_file(self, raw: RawRows, node_ids: bool) -> None:
        """Every row of a file whose header is wrong is refused (and its ids with it)."""
        self._bad_header.add(raw.file)
        for number, cells in raw.rows:
            if self.keep_rejected:
                self.rejected[(raw.file, number)] = dict(zip(raw.header, cells, strict=False))
            if node_ids:
                self._rejected_ids.add(dict(zip(raw.header, cells, strict=False))
                                       .get("id", "").strip())

    # ------------------------------------------------------------------ nodes

    def add_nodes(self, raw: RawRows) -> None:
        if raw.file in self._bad_header:
            self._refuse_file(raw, node_ids=True)
            return
        kind = KIND_OF_TABLE[raw.table]
        file = self._file(raw.file)
        chunk = _ChunkRows(raw)
        rows, problems = parse_table(raw)
        for problem in problems:
            self._reject(problem, chunk)
            if problem.row and problem.row > 1:
                values = chunk.get((problem.file, problem.row)) or {}
                self._rejected_ids.add(values.get("id", "").strip())
        if problems and not rows and any(p.row == 1 for p in problems):
            self._refuse_file(raw, node_ids=True)
            return
        existing = self.lookup([values["id"] for _number, values in rows
                                if len(values["id"]) <= MAX_ID_LENGTH])
        checks_point = kind in (NodeKind.ACTIVITY, NodeKind.ORGANISATION) and self._centres
        for number, values in rows:
            node_id = values["id"]
            first = self._ids.get(node_id)
            if first is not None:
                at, row, _kind, _accepted = _unpack(first)
                where = f"{self._files[at]}, row {row}"
                self._reject(Problem(raw.file, number, "id",
                                     f"duplicate id {node_id!r}, first at {where}"), chunk)
                continue
            old_kind = existing.get(node_id)
            if old_kind is not None and old_kind != kind:
                self._ids[node_id] = _pack(file, number, kind, False)
                reason = f"id {node_id!r} is already a {old_kind.value} in the store"
                self._reject(Problem(raw.file, number, "id", reason), chunk)
                self._rejected_ids.add(node_id)
                continue
            props = dict(values)
            if kind == NodeKind.ACTIVITY and values.get("schedule"):
                sessions = parse_schedule(values["schedule"]).texts()
                if sessions:  # derived: the free text stays as it was
                    props[SESSIONS] = sessions
            props["source"] = raw.file
            props["source_id"] = node_id
            hashed = {**values, SESSIONS: props[SESSIONS]} if SESSIONS in props else values
            props[CONTENT_HASH] = content_hash(hashed)
            trouble = point_problem(props, self._centres) if checks_point else None
            if trouble is not None:
                self._ids[node_id] = _pack(file, number, kind, False)
                self._reject(Problem(raw.file, number, *trouble), chunk)
                self._rejected_ids.add(node_id)
                continue
            self._ids[node_id] = _pack(file, number, kind, True)
            if (kind == NodeKind.ACTIVITY and self._placing and node_id not in existing
                    and not props.get("serves_whole_area")):
                self._pending[node_id] = (str(props.get("venue") or ""), file, number)
            self.nodes += 1
            self.on_node(NodeRecord(kind, node_id, props, raw.file, number))

    # ------------------------------------------------------------------ relationships

    def _endpoint_kinds(self, rows: list[tuple[int, dict]]) -> dict[str, NodeKind]:
        """The kinds of a chunk's endpoints: this load's accepted nodes, else the store's
        (not for an id whose row here was rejected)."""
        return self._kinds_of_ends([values["source_id"] for _number, values in rows],
                                   [values["target_id"] for _number, values in rows])

    def _kinds_of_ends(self, srcs: list[str], dsts: list[str]) -> dict[str, NodeKind]:
        """:meth:`_endpoint_kinds` of rows with these sources and targets."""
        kinds: dict[str, NodeKind] = {}
        ask: set[str] = set()
        ids, rejected, kind_of = self._ids, self._rejected_ids, _KINDS
        for node_id in itertools.chain.from_iterable(zip(srcs, dsts, strict=True)):
            if node_id in kinds:
                continue
            packed = ids.get(node_id)
            if packed is not None and packed & 1:
                kinds[node_id] = kind_of[(packed >> 1) & 0xF]
            elif node_id not in rejected and len(node_id) <= MAX_ID_LENGTH:
                ask.add(node_id)
        if ask:
            kinds.update(self.lookup(ask))
        return kinds

    def add_rels(self, raw: RawRows) -> None:
        if raw.file in self._bad_header:
            self._refuse_file(raw, node_ids=False)
            return
        file = self._file(raw.file)
        plain = plain_rel_columns(raw)  # the usual chunk: no dict per row
        if plain is not None and self._add_valid_rels([], file, raw.file, plain) is None:
            return
        chunk = _ChunkRows(raw)
        rows, problems = parse_table(raw)
        for problem in problems:
            self._reject(problem, chunk)
        if problems and not rows and any(p.row == 1 for p in problems):
            self._refuse_file(raw, node_ids=False)
            return
        found = self._add_valid_rels(rows, file, raw.file)
        if found is None:
            return
        kinds = found
        rel_keys, pending, on_rel, label = self._rel_keys, self._pending, self.on_rel, raw.file
        for number, values in rows:
            type_name = values["type"]  # the type's own spelling (parse_table)
            rel = _REL_TYPES[type_name]
            src, dst = values["source_id"], values["target_id"]
            # the usual row, checked here at once; any other gets _relationship_problem's
            if (len(values) != 3 or src == dst
                    or (kinds.get(src), kinds.get(dst)) not in _ENDPOINT_PAIRS[rel]):
                trouble = _relationship_problem(rel, src, dst, values, kinds,
                                                self._rejected_ids)
                if trouble:
                    column, reason = trouble
                    self._reject(Problem(label, number, column, reason), chunk)
                    continue
            key = _rel_key(src, type_name, dst)
            first = rel_keys.get(key)
            if first is not None:
                where = f"{self._files[first >> 32]}, row {first & 0xFFFFFFFF}"
                self._reject(Problem(label, number, "",
                                     f"duplicate relationship, first at {where}"), chunk)
                continue
            rel_keys[key] = (file << 32) | number
            props = _rel_props(values, src, type_name, dst, label, content_hash(values))
            if rel is RelType.LOCATED_IN:
                pending.pop(src, None)
            self.rels += 1
            on_rel(RelRecord(rel, src, dst, props, label, number))

    def _add_valid_rels(self, rows: list[tuple[int, dict]], file: int, label: str,
                        plain: RelColumns | None = None) -> dict[str, NodeKind] | None:
        """The chunk's rows (those :func:`parse_table` kept) when every one of them is a
        valid relationship: checked a column at a time, then counted, remembered and handed
        on in order, as :meth:`add_rels` does row by row; then ``None``.  When any row would
        be refused (or there are none), nothing is done and the kinds of the rows' ends are
        returned (:meth:`_endpoint_kinds`) for the row-by-row loop to say why.  ``plain``:
        the chunk's rows as :func:`plain_rel_columns` reads them, instead of ``rows``."""
        if plain is not None:
            return self._add_valid_columns(*plain, None, file, label)
        if not rows:
            return {}
        values = [v for _number, v in rows]
        return self._add_valid_columns(
            [number for number, _v in rows],
            [v["type"] for v in values],  # the type's own spelling (parse_table)
            [v["source_id"] for v in values], [v["target_id"] for v in values], values,
            file, label)

    def _add_valid_columns(self, numbers: list[int], types: list[str], srcs: list[str],
                           dsts: list[str], values: list[dict] | None, file: int,
                           label: str) -> dict[str, NodeKind] | None:
        """:meth:`_add_valid_rels` of rows given as columns (``values``: each row's dict,
        or ``None`` when no row has a property: see :func:`plain_rel_columns`)."""
        # what the row loop's usual row passes: both ends known, an allowed pair, no loop;
        # first by the ends' packed kinds when this load accepted them all (a first load)
        kinds: dict[str, NodeKind] | None = None
        ids, none = self._ids, itertools.repeat(0)
        if not all(map(_ENDPOINT_PACKED.__contains__,
                       zip(types, [packed & 31 for packed in map(ids.get, srcs, none)],
                           [packed & 31 for packed in map(ids.get, dsts, none)], strict=True))):
            kinds = self._kinds_of_ends(srcs, dsts)  # the store's too
            if not all(map(_ENDPOINT_TRIPLES.__contains__,
                           zip(types, map(kinds.get, srcs), map(kinds.get, dsts), strict=True))):
                return kinds
        if any(map(operator.eq, srcs, dsts)):
            return kinds if kinds is not None else self._kinds_of_ends(srcs, dsts)
        rejected = self._rejected_ids
        widths = [] if values is None else list(map(len, values))
        wide = ([] if widths.count(3) == len(widths)  # rows with properties
                else [at for at, width in enumerate(widths) if width != 3])
        wide_kinds = (kinds if kinds is not None or not wide
                      else self._kinds_of_ends([srcs[at] for at in wide],
                                               [dsts[at] for at in wide]))
        for at in wide:  # the row loop's own check
            if _relationship_problem(_REL_TYPES[types[at]], srcs[at], dsts[at],
                                     values[at] if values is not None else {},
                                     wide_kinds or {}, rejected):
                return self._kinds_of_ends(srcs, dsts)
        keys = [(first << 64) | (second & _LOW_64) for first, second in  # _rel_key's
                zip(map(hash, zip(srcs, types, dsts, strict=True)),
                    map(hash, zip(dsts, srcs, types, strict=True)), strict=True)]
        rel_keys = self._rel_keys
        if len(set(keys)) != len(keys) or not rel_keys.keys().isdisjoint(keys):
            return kinds if kinds is not None else self._kinds_of_ends(srcs, dsts)  # a duplicate
        place = file << 32
        rel_keys.update(zip(keys, [place | number for number in numbers], strict=True))
        del keys
        self.rels += len(numbers)
        pending = self._pending
        if pending and _LOCATED_IN in types:
            for src in itertools.compress(srcs, map(_LOCATED_IN.__eq__, types)):
                pending.pop(src, None)
        if values is None:
            hashes = _plain_rel_hashes(types, srcs, dsts)
        else:
            dumps, sort, blake2b = orjson.dumps, orjson.OPT_SORT_KEYS, hashlib.blake2b
            hashes = [blake2b(dumps(v, option=sort, default=str), digest_size=16).hexdigest()
                      for v in values]  # content_hash's
        rels = list(map(_REL_TYPES.__getitem__, types))
        on_rel, on_plain = self.on_rel, self.on_plain_rels
        if on_plain is None:
            wide, start = list(range(len(numbers))), len(numbers)  # every row to on_rel
        else:
            start = 0
        for at in wide:
            if at > start and on_plain is not None:  # the plain rows before this one first
                on_plain(PlainRels(label, rels[start:at], srcs[start:at], dsts[start:at],
                                   hashes[start:at], numbers[start:at]))
            start = at + 1
            row = (values[at] if values is not None else  # _rel_props needs its width
                   {"source_id": srcs[at], "type": types[at], "target_id": dsts[at]})
            on_rel(RelRecord(rels[at], srcs[at], dsts[at],
                             _rel_props(row, srcs[at], types[at], dsts[at], label,
                                        hashes[at]), label, numbers[at]))
        if start < len(numbers) and on_plain is not None:
            if start:
                rels, srcs, dsts = rels[start:], srcs[start:], dsts[start:]
                hashes, numbers = hashes[start:], numbers[start:]
            on_plain(PlainRels(label, rels, srcs, dsts, hashes, numbers))
        return None

    # ------------------------------------------------------------------ the end

    def finish(self) -> None:
        """Place the new activities no ``LOCATED_IN`` row placed (see
        ``loaders/placing.py``): by a postcode in its ``venue`` (longest listed prefix), else
        a locality's name in it (inferred, with evidence); those it cannot place go in
        :attr:`not_placed`."""
        pending, self._pending = self._pending, {}
        for node_id, (venue, file, number) in pending.items():
            placement = self._placer.place(postcode=postcode_in_text(venue), texts=[venue])
            if placement.locality is None:
                self.not_placed[node_id] = placement.reason
                continue
            props = placement.rel_props() or {"evidence": placement.evidence}
            values = {"source_id": node_id, "type": RelType.LOCATED_IN.value,
                      "target_id": placement.locality, **props}
            self.rels += 1
            self.on_rel(RelRecord(RelType.LOCATED_IN, node_id, placement.locality, {
                **props, "source": self._files[file],
                "source_id": f"{node_id}|{RelType.LOCATED_IN.value}|{placement.locality}",
                CONTENT_HASH: content_hash(values)}, self._files[file], number))


def _rel_props(values: Mapping, src: str, type_name: str, dst: str, label: str,
               digest: str) -> dict:
    """A valid relationship row's properties: its own, where it comes from, its hash."""
    if len(values) == 3:
        return {"source": label, "source_id": f"{src}|{type_name}|{dst}", CONTENT_HASH: digest}
    props = {k: v for k, v in values.items() if k not in {"source_id", "type", "target_id"}}
    props["source"] = label
    props["source_id"] = f"{src}|{type_name}|{dst}"
    props[CONTENT_HASH] = digest
    return props


def _relationship_problem(
    rel: RelType,
    src: str,
    dst: str,
    values: Mapping,
    kinds: Mapping[str, NodeKind],
    rejected_ids: set[str],
) -> tuple[str, str] | None:
    for column, node_id in (("source_id", src), ("target_id", dst)):
        if node_id not in kinds:
            if node_id in rejected_ids:
                return column, f"{shorten(node_id)} is on a row that was rejected"
            trouble = id_problem(node_id)
            if trouble:
                return column, trouble
            return column, f"no node with id {node_id!r} in this load or in the store"
    if src == dst:
        return "target_id", "a node cannot have a relationship with itself"
    sources, targets = ALLOWED_ENDPOINTS[rel]
    if kinds[src] not in sources:
        allowed = " or ".join(sorted(k.value for k in sources))
        return "source_id", f"{rel.value} must start from {allowed}, not {kinds[src].value} {src!r}"
    if kinds[dst] not in targets:
        allowed = " or ".join(sorted(k.value for k in targets))
        return "target_id", f"{rel.value} must point to {allowed}, not {kinds[dst].value} {dst!r}"
    for name in values:
        if name in {"source_id", "type", "target_id"}:
            continue
        if name not in REL_PROPERTIES[rel]:
            return name, f"only applies to REFERS_TO, not {rel.value}"
    return None
