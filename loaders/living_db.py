"""Living Database validation: raw rows → typed, cross-checked records (a load plan).

Pure: no files (see :mod:`loaders.files`) and no database.  Every problem names its file,
row, column and reason; row numbers are the ones a person sees in Excel (header = row 1).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

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
    for number, values in rows_in:
        row_problems: list[Problem] = []
        cells = len(values)
        if cells > width and any(v.strip() for v in values[width:]):
            reason = f"has {cells} cells but the header has {width} columns"
            row_problems.append(Problem(raw.file, number, "", reason))
        typed: dict = {}
        for index, name, column, as_is in specs:
            text = values[index].strip() if index < cells else ""
            if not text:
                if column.required:
                    row_problems.append(Problem(raw.file, number, name, "required value is blank"))
                continue
            if as_is is None or text in as_is:
                typed[name] = text
                continue
            try:
                typed[name] = convert(column, text)
            except ValueError as exc:
                row_problems.append(Problem(raw.file, number, name, str(exc)))
        if "id" in typed and (len(typed["id"]) > MAX_ID_LENGTH or not _NO_SPACE.match(typed["id"])):
            id_reason = id_problem(typed["id"])
            if id_reason is not None:
                row_problems.append(Problem(raw.file, number, "id", id_reason))
        lo, hi = typed.get("age_min"), typed.get("age_max")
        if lo is not None and hi is not None and lo > hi:
            row_problems.append(Problem(raw.file, number, "age_max", "is below age_min"))
        if (("latitude" in typed) != ("longitude" in typed) and "latitude" in columns
                and not any(p.column in ("latitude", "longitude") for p in row_problems)):
            pair = point_problem(typed, [])  # one without the other
            if pair is not None:
                row_problems.append(Problem(raw.file, number, *pair))
        if "boundary" in typed and not row_problems:
            trouble = boundary_centre(typed)
            if trouble is not None:
                row_problems.append(Problem(raw.file, number, *trouble))
        if row_problems:
            problems.extend(row_problems)
        else:
            rows.append((number, typed))
    return rows, problems


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
    placed in them by their venue (:func:`place_activities`).
    """
    plan = LoadPlan()
    raw_by_row = _RawRowIndex(tables)

    def reject(problem: Problem) -> None:
        plan.problems.append(problem)
        key = (problem.file, problem.row)
        if key in raw_by_row:
            plan.rejected[key] = raw_by_row[key]

    node_tables = [t for t in tables if t.table != RELATIONSHIPS_TABLE]
    rel_tables = [t for t in tables if t.table == RELATIONSHIPS_TABLE]

    first_seen: dict[str, tuple[str, int]] = {}
    rejected_ids: set[str] = set()
    for raw in node_tables:
        kind = KIND_OF_TABLE[raw.table]
        rows, problems = parse_table(raw)
        for problem in problems:
            reject(problem)
            if problem.row and problem.row > 1:
                rejected_id = raw_by_row[(problem.file, problem.row)].get("id", "")
                rejected_ids.add(rejected_id.strip())
        if problems and not rows and any(p.row == 1 for p in problems):
            for number, cells in raw.rows:
                plan.rejected[(raw.file, number)] = raw_by_row[(raw.file, number)]
                # a row may have fewer or more cells than the header has columns
                rejected_ids.add(dict(zip(raw.header, cells, strict=False)).get("id", "").strip())
        for number, values in rows:
            node_id = values["id"]
            if node_id in first_seen:
                where = "{}, row {}".format(*first_seen[node_id])
                reject(Problem(raw.file, number, "id", f"duplicate id {node_id!r}, first at {where}"))
                continue
            first_seen[node_id] = (raw.file, number)
            old_kind = existing_kinds.get(node_id)
            if old_kind is not None and old_kind != kind:
                reason = f"id {node_id!r} is already a {old_kind.value} in the store"
                reject(Problem(raw.file, number, "id", reason))
                rejected_ids.add(node_id)
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
            plan.nodes.append(NodeRecord(kind, node_id, props, raw.file, number))

    _check_points(plan, localities, reject, rejected_ids)

    # A node rejected here must not be taken for an existing one by a relationship.
    kinds: dict[str, NodeKind] = dict(existing_kinds)
    for node in plan.nodes:
        kinds[node.id] = node.kind
    for node_id in rejected_ids - {node.id for node in plan.nodes}:
        kinds.pop(node_id, None)
    seen_rels: dict[tuple[str, str, str], tuple[str, int]] = {}
    for raw in rel_tables:
        rows, problems = parse_table(raw)
        for problem in problems:
            reject(problem)
        if problems and not rows and any(p.row == 1 for p in problems):
            for number, _values in raw.rows:
                plan.rejected[(raw.file, number)] = raw_by_row[(raw.file, number)]
        for number, values in rows:
            rel = _REL_TYPES[values["type"]]
            src, dst = values["source_id"], values["target_id"]
            trouble = _relationship_problem(rel, src, dst, values, kinds, rejected_ids)
            if trouble:
                column, reason = trouble
                reject(Problem(raw.file, number, column, reason))
                continue
            key = (src, rel.value, dst)
            if key in seen_rels:
                where = "{}, row {}".format(*seen_rels[key])
                reject(Problem(raw.file, number, "", f"duplicate relationship, first at {where}"))
                continue
            seen_rels[key] = (raw.file, number)
            props = {k: v for k, v in values.items() if k not in {"source_id", "type", "target_id"}}
            props["source"] = raw.file
            props["source_id"] = f"{src}|{rel.value}|{dst}"
            props[CONTENT_HASH] = content_hash(values)
            plan.rels.append(RelRecord(rel, src, dst, props, raw.file, number))
    place_activities(plan, existing_kinds, localities)
    return plan


def _check_points(plan: LoadPlan, localities: Sequence[Mapping], reject,
                  rejected_ids: set[str]) -> None:
    """Refuse activities and organisations whose coordinates are far outside the
    partnership's area (the localities' centres, this load's and the store's): see
    ``loaders/coordinates.py``."""
    here = {n.id: n.props for n in plan.nodes if n.kind == NodeKind.LOCALITY}
    centres = centres_of([*(p for p in localities if p.get("id") not in here), *here.values()])
    if not centres:
        return
    kept = []
    for node in plan.nodes:
        trouble = (point_problem(node.props, centres)
                   if node.kind in (NodeKind.ACTIVITY, NodeKind.ORGANISATION) else None)
        if trouble is None:
            kept.append(node)
            continue
        reject(Problem(node.file, node.row, *trouble))
        rejected_ids.add(node.id)
    plan.nodes[:] = kept


def place_activities(plan: LoadPlan, existing_kinds: Mapping[str, NodeKind],
                     localities: Sequence[Mapping] = ()) -> None:
    """``LOCATED_IN`` for each activity new to the store that this load gives no locality
    and that does not serve the whole area: by a postcode in its ``venue`` (longest listed
    prefix), else a locality's name in it (inferred, with evidence); see
    ``loaders/placing.py``.  Those it cannot place go in ``plan.not_placed``.
    """
    here = {n.id: n.props for n in plan.nodes if n.kind == NodeKind.LOCALITY}
    placer = Placer([*(p for p in localities if p.get("id") not in here), *here.values()])
    if not placer.by_prefix and not placer.by_name:
        return
    located = {r.source_id for r in plan.rels if r.type == RelType.LOCATED_IN}
    for node in list(plan.nodes):
        if (node.kind != NodeKind.ACTIVITY or node.id in located or node.id in existing_kinds
                or node.props.get("serves_whole_area")):
            continue
        venue = str(node.props.get("venue") or "")
        found = postcode_in_text(venue)
        placement = placer.place(postcode=found, texts=[venue])
        if placement.locality is None:
            plan.not_placed[node.id] = placement.reason
            continue
        props = placement.rel_props() or {"evidence": placement.evidence}
        values = {"source_id": node.id, "type": RelType.LOCATED_IN.value,
                  "target_id": placement.locality, **props}
        plan.rels.append(RelRecord(RelType.LOCATED_IN, node.id, placement.locality, {
            **props, "source": node.file,
            "source_id": f"{node.id}|{RelType.LOCATED_IN.value}|{placement.locality}",
            CONTENT_HASH: content_hash(values)}, node.file, node.row))


class _RawRowIndex:
    """(file, row) → that row's raw cells by column; a file is indexed only when asked."""

    def __init__(self, tables: list[RawRows]):
        self._tables = {t.file: t for t in tables}
        self._rows: dict[str, dict[int, list[str]]] = {}

    def _values(self, key: tuple[str, int]) -> list[str] | None:
        file, number = key
        table = self._tables.get(file)
        if table is None:
            return None
        if file not in self._rows:
            self._rows[file] = dict(table.rows)
        return self._rows[file].get(number)

    def __contains__(self, key: tuple[str, int]) -> bool:
        return self._values(key) is not None

    def __getitem__(self, key: tuple[str, int]) -> dict:
        values = self._values(key)
        if values is None:
            raise KeyError(key)
        return dict(zip(self._tables[key[0]].header, values, strict=False))  # ragged rows too


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
