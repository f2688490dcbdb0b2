"""Bulk import: a first load of a large Living Database with Neo4j's offline importer.

The online loader (``pathways load --store neo4j``) writes through Bolt; ``neo4j-admin
database import full`` builds the store files directly, but only into an empty database of
a stopped server.  So this is offered where the project owns the server: ``pathways load
--import PATH`` (and ``pathways neo4j start --import PATH``) checks PATH exactly as
``pathways load`` does (nothing is imported if any row is wrong), imports, then starts the
server and creates the usual constraints.  :func:`prepare_import` writes the importer's CSV
files in the validation pass itself (:class:`ImportWriter`, fed row by row by the streaming
check of :mod:`loaders.living_stream`), so no load plan is held and no second Python pass
is made.  The graph is the one the online loader would write: same labels, types and
properties (tests compare snapshots).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from pathways.errors import InputError, Neo4jRuntimeError
from pathways.model import (
    CONTENT_HASH,
    NODE_COLUMNS,
    REL_PROPERTIES,
    SESSIONS,
    NodeKind,
    NodeRecord,
    RelRecord,
    RelType,
)
from pathways.neo4j_runtime.early_admin import EarlyAdmin, admin_env

if TYPE_CHECKING:
    from loaders.living_db import PlainRels

BASE_LABEL = "Pathways"
ID_SPACE = "Pathways"
ARRAY_DELIMITER = ";"


@dataclass
class ImportFiles:
    """The importer's input: one node file per kind, one relationship file per type."""

    folder: Path
    nodes: dict[NodeKind, Path] = field(default_factory=dict)
    relationships: dict[RelType, Path] = field(default_factory=dict)
    multiline: bool = False
    rows: int = 0
    #: neo4j-admin already started for these files (see
    #: :func:`pathways.neo4j_runtime.early_admin.start_admin_early`)
    admin: EarlyAdmin | None = field(default=None, compare=False, repr=False)


_TYPE_OF = {str: "string", bool: "boolean", int: "long", float: "double", list: "string[]"}


def _kind_of(value: object) -> str:
    kind = _TYPE_OF.get(type(value))
    if kind is not None:
        return kind
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, list | tuple):
        return "string[]"
    return "string"


def _cell(value: object, kind: str) -> str:
    if value is None:
        return ""
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "string[]":
        items = [str(v) for v in cast("Iterable[object]", value)]  # a list: the kind says so
        if any(ARRAY_DELIMITER in item for item in items):
            raise Neo4jRuntimeError(f"a list value contains {ARRAY_DELIMITER!r}: {items!r}")
        return ARRAY_DELIMITER.join(items)
    return str(value)


@dataclass
class _Part:
    """A body written by one process: its columns, their types, its rows."""

    columns: list[str]
    types: dict[str, str]
    rows: int
    multiline: bool
    widths_changed: bool
    body_path: Path
    #: (file, row) of its first row: the files list types in the order they first appear
    first: tuple[str, int] = ("", 0)


class _Mismatch(Exception):
    """Bodies written apart cannot share one header (columns or a property's type differ)."""


def _join(path: Path, fixed: list[str], parts: Sequence[_Part]) -> None:
    """One importer CSV from bodies written by several processes: one typed header, then
    each body (bodies of the same columns in the same order; else :class:`_Mismatch`)."""
    columns = parts[0].columns
    types: dict[str, str] = {}
    for part in parts:
        if part.columns != columns or part.widths_changed:
            raise _Mismatch(path.name)
        for name, kind in part.types.items():
            if types.setdefault(name, kind) != kind:
                raise _Mismatch(name)
    line = io.StringIO()
    csv.writer(line).writerow(fixed + [f"{name}:{types.get(name, 'string')}" for name in columns])
    with path.open("wb") as out:
        out.write(line.getvalue().encode("utf-8"))
        out.flush()
        for part in parts:
            with part.body_path.open("rb") as body:
                _copy(body, out)
            part.body_path.unlink()


class _ImportTable:
    """One importer CSV written row by row: its columns are known as rows come, so the body
    goes to a side file and the typed header is put in front of it at the end."""

    def __init__(self, path: Path, fixed: list[str], expected: Iterable[str], label: str = ""):
        self.path = path
        self.label = label
        self.fixed = fixed
        self.columns: list[str] = []
        self.index: dict[str, int] = {}
        self.types: dict[str, str] = {}
        self.rows = 0
        self.first = ("", 0)  # (file, row) of the first row, when rows come from a check
        self.widths_changed = False  # a column first seen after rows were written
        self.multiline = False
        self._plans: dict[tuple, tuple] = {}
        self._stamped_plans: dict[tuple, tuple] = {}  # for write_stamped
        self._loaded_at = ""  # for write_plain: the writer's load time
        self._plain_templates: dict[tuple[str, int], tuple[str | None, bool]] = {}
        for name in expected:
            self._add(name)
        self.body_path = path.with_name(path.name + ".body")
        self.handle = self.body_path.open("w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.handle)

    def _add(self, name: str) -> int:
        self._plans.clear()  # they pick from the columns known when they were made
        self._stamped_plans.clear()
        self.index[name] = len(self.columns)
        self.columns.append(name)
        if self.rows:
            self.widths_changed = True
        return self.index[name]

    def write(self, head: list[str], props: Mapping[str, object]) -> None:
        """One row.  Rows with the same properties of the same types (most of them) reuse
        a plan made from the first such row: which value goes in which column, which need
        turning into text; the first is written property by property, registering types."""
        values = [*props.values(), ""]  # the last: for the columns this row has no value for
        key = (*props, *map(type, values))
        plan = self._plans.get(key)
        if plan is None:
            self._write_slowly(head, props)
            self._plans[key] = self._plan(props)
            return
        pick, convert = plan
        for at, kind in convert:
            values[at] = _cell(values[at], kind)
        self._put((*head, *pick(values)))

    def write_stamped(self, head: tuple[str, ...], props: Mapping[str, object],
                      loaded_at: str) -> None:
        """What ``write(list(head), {**props, "loaded_at": loaded_at})`` writes, without
        copying ``props`` (the hot path of a relationship: its plan picks the head's cells
        and the load time too)."""
        key = (*props, *map(type, props.values()))
        plan = self._stamped_plans.get(key)
        if plan is None or "loaded_at" in props:
            self.write(list(head), {**props, "loaded_at": loaded_at})  # registers the types
            if "loaded_at" not in props:
                self._stamped_plans[key] = self._stamped_plan(len(head), props)
            return
        pick, convert = plan
        values = [*head, *props.values(), loaded_at, ""]
        for at, kind in convert:
            values[at] = _cell(values[at], kind)
        self._put(pick(values))

    def _put(self, cells: Sequence[str]) -> None:
        """``self.writer.writerow(cells)``, for cells that are all text.  A line none of
        whose cells needs quotes (no comma, quote or line break: almost all) is joined and
        written here, as the csv module writes it (``\\r\\n`` at the end) in a quarter of
        its time; others go through the csv module, noting a line break for neo4j-admin's
        ``--multiline-fields``."""
        line = ",".join(cells)
        if (line.count(",") == len(cells) - 1 and '"' not in line and "\n" not in line
                and "\r" not in line):
            self.handle.write(line + "\r\n")
        else:
            self.multiline = self.multiline or "\n" in line or "\r" in line
            self.writer.writerow(cells)
        self.rows += 1

    def write_plain(self, rels: PlainRels, rows: Sequence[int]) -> None:
        """What ``write_stamped`` writes for each row of ``rels`` at the positions ``rows``
        (all of this table's type), each line made from one template of this table's
        columns.  A first row goes through ``write_stamped`` (it registers the properties'
        types), as do rows with a cell that needs quotes."""
        names = ("source", "source_id", CONTENT_HASH, "loaded_at")
        if rows and not all(self.types.get(name) == "string" for name in names):
            self._write_plain_slowly(rels, rows[:1])
            rows = rows[1:]
        if not rows:
            return
        srcs, dsts, hashes = rels.sources, rels.targets, rels.hashes
        ends = "".join([srcs[at] + dsts[at] for at in rows])
        key = (rels.file, len(self.columns))  # columns are only ever added
        made = self._plain_templates.get(key)
        if made is None:
            made = self._plain_templates[key] = self._plain_template(rels.file)
        template, ids_first = made
        if template is None or any(mark in ends for mark in _QUOTED):
            self._write_plain_slowly(rels, rows)
            return
        if ids_first:
            lines = [template % (srcs[i], dsts[i], srcs[i], dsts[i], hashes[i]) for i in rows]
        else:
            lines = [template % (srcs[i], dsts[i], hashes[i], srcs[i], dsts[i]) for i in rows]
        self.handle.write("".join(lines))
        self.rows += len(rows)

    def _plain_template(self, file: str) -> tuple[str | None, bool]:
        """The line of :meth:`write_plain` for a relationship from ``file``, with ``%s`` for
        its source, target, source again, target again and hash (the last three in the
        order of their columns: ``True`` when the ``source_id`` comes first), or ``None``
        when a constant cell needs quotes or a property's type is not text."""
        names = ("source", "source_id", CONTENT_HASH, "loaded_at")
        if (any(mark in self.label + file + self._loaded_at for mark in _QUOTED)
                or not all(self.types.get(name) == "string" for name in names)):
            return None, False
        at = [3 + self.index[name] for name in names]
        cells = ["%s", "%s", self.label.replace("%", "%%"), *[""] * len(self.columns)]
        cells[at[0]] = file.replace("%", "%%")
        cells[at[1]] = "%s|" + self.label.replace("%", "%%") + "|%s"
        cells[at[2]] = "%s"
        cells[at[3]] = self._loaded_at.replace("%", "%%")
        return ",".join(cells) + "\r\n", at[1] < at[2]

    def _write_plain_slowly(self, rels: PlainRels, rows: Sequence[int]) -> None:
        for at in rows:
            src, dst = rels.sources[at], rels.targets[at]
            self.write_stamped((src, dst, self.label), {
                "source": rels.file, "source_id": f"{src}|{self.label}|{dst}",
                CONTENT_HASH: rels.hashes[at]}, self._loaded_at)

    def _stamped_plan(self, width: int, props: Mapping[str, object]):
        """:meth:`_plan` for :meth:`write_stamped`'s values: the head's ``width`` cells, the
        properties, the load time, then the empty cell."""
        names = [*props, "loaded_at"]
        position = {name: width + at for at, name in enumerate(names)
                    if name == "loaded_at" or props[name] is not None}
        empty = width + len(names)
        pick = itemgetter(*range(width), *[position.get(name, empty) for name in self.columns])
        convert = [(position[name], self.types[name]) for name in props
                   if props[name] is not None and type(props[name]) is not str]
        return pick, convert

    def _plan(self, props: Mapping[str, object]):
        """For rows like ``props``: a function picking each column's value, and which values
        turn into text how (``None``: nothing, so the empty cell)."""
        position = {name: at for at, name in enumerate(props) if props[name] is not None}
        empty = len(props)
        pick = itemgetter(*[position.get(name, empty) for name in self.columns], empty)
        convert = [(at, self.types[name]) for name, at in position.items()
                   if type(props[name]) is not str]
        return (lambda values: pick(values)[:-1]), convert

    def _write_slowly(self, head: list[str], props: Mapping[str, object]) -> None:
        cells = [""] * len(self.columns)
        for name, value in props.items():
            if value is None:
                continue
            kind = _TYPE_OF.get(type(value)) or _kind_of(value)
            seen = self.types.get(name)
            if seen != kind:
                if seen is not None:
                    raise Neo4jRuntimeError(
                        f"property {name!r} holds both {seen} and {kind} values; the bulk"
                        " importer needs one type per property (load these rows with"
                        " `pathways load`)")
                self.types[name] = kind
            at = self.index.get(name)
            if at is None:
                at = self._add(name)
                cells.append("")
            if kind == "string":
                text = value if type(value) is str else str(value)
                if not self.multiline and ("\n" in text or "\r" in text):
                    self.multiline = True
                cells[at] = text
            else:
                cells[at] = _cell(value, kind)
        self.writer.writerow(head + cells)
        self.rows += 1

    def close(self) -> _Part:
        """Stop writing; what :func:`_join` needs to put this body behind a header."""
        self.handle.close()
        return _Part(list(self.columns), dict(self.types), self.rows, self.multiline,
                     self.widths_changed, self.body_path, self.first)

    def finish(self) -> None:
        """The header (each column typed by its values; a column without any: string), then
        the body; rows written before a column appeared get its empty cell."""
        self.handle.close()
        header = self.fixed + [f"{name}:{self.types.get(name, 'string')}" for name in self.columns]
        if not self.widths_changed:
            line = io.StringIO()
            csv.writer(line).writerow(header)
            with self.path.open("wb") as out, self.body_path.open("rb") as body:
                out.write(line.getvalue().encode("utf-8"))
                out.flush()
                _copy(body, out)
        else:  # rare: a property no model column names, first seen late
            width = len(header)
            with (self.path.open("w", encoding="utf-8", newline="") as out,
                  self.body_path.open(encoding="utf-8", newline="") as body):
                writer = csv.writer(out)
                writer.writerow(header)
                for row in csv.reader(body):
                    writer.writerow(row + [""] * (width - len(row)))
        self.body_path.unlink()

    def discard(self) -> None:
        self.handle.close()
        self.body_path.unlink(missing_ok=True)
        self.path.unlink(missing_ok=True)


# a cell with any of these is quoted by the csv module
_QUOTED = (",", '"', "\n", "\r")


def _copy(source, target) -> None:
    """Append ``source``'s bytes to ``target`` in the kernel where it can (no Python copy)."""
    size = os.fstat(source.fileno()).st_size
    done = 0
    try:
        while done < size:
            sent = os.sendfile(target.fileno(), source.fileno(), done, size - done)
            if sent == 0:
                break
            done += sent
    except OSError:  # no sendfile between these files here: copy through Python
        source.seek(done)
        shutil.copyfileobj(source, target)


class ImportWriter:
    """The importer's CSV files written as validated rows come (``node`` and ``rel``), so a
    large Living Database is never held in memory; ``finish`` gives the :class:`ImportFiles`,
    ``discard`` removes what was written (when a row turns out wrong)."""

    def __init__(self, folder: Path, loaded_at: str):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.loaded_at = loaded_at
        self._nodes: dict[NodeKind, _ImportTable] = {}
        self._rels: dict[RelType, _ImportTable] = {}

    def node(self, node: NodeRecord) -> None:
        table = self._nodes.get(node.kind)
        if table is None:
            expected = [c.name for c in NODE_COLUMNS[node.kind] if c.name != "id"]
            table = self._nodes[node.kind] = _ImportTable(
                self.folder / f"nodes-{node.kind.value}.csv",
                _NODE_FIXED,  # "id" is the key and the property, as online
                [*expected, *_PROVENANCE, SESSIONS, "loaded_at"], f"{BASE_LABEL};{node.kind.label}")
            table.first = (node.file, node.row)
        props = dict(node.props)
        props.pop("id", None)
        props["loaded_at"] = self.loaded_at
        table.write([node.id, table.label], props)

    def rel(self, rel: RelRecord) -> None:
        table = self._rels.get(rel.type)
        if table is None:
            table = self._rel_table(rel.type, rel.file, rel.row)
        table.write_stamped((rel.source_id, rel.target_id, table.label),  # label: the type
                            rel.props, self.loaded_at)

    def plain_rels(self, rels: PlainRels) -> None:
        """What :meth:`rel` writes for each row of ``rels`` (relationships whose properties
        are where they come from, see :class:`loaders.living_db.PlainRels`), in order: a
        type's rows at a time."""
        types = rels.types
        for rel_type in dict.fromkeys(types):  # in the order the types first come
            rows = [at for at, each in enumerate(types) if each is rel_type]
            table = self._rels.get(rel_type)
            if table is None:
                table = self._rel_table(rel_type, rels.file, rels.rows[rows[0]])
            table.write_plain(rels, rows)

    def _rel_table(self, rel_type: RelType, file: str, row: int) -> _ImportTable:
        table = self._rels[rel_type] = _ImportTable(
            self.folder / f"relationships-{rel_type.value}.csv",
            _REL_FIXED,
            [*sorted(REL_PROPERTIES[rel_type]), *_PROVENANCE, "inferred", "evidence",
             "loaded_at"], rel_type.value)
        table.first = (file, row)
        table._loaded_at = self.loaded_at
        return table

    def close(self) -> dict[NodeKind | RelType, _Part]:
        """A worker's end: what it wrote, for the parent to join (:meth:`finish`)."""
        parts: dict[NodeKind | RelType, _Part] = {k: t.close() for k, t in self._nodes.items()}
        parts.update((t, table.close()) for t, table in self._rels.items())
        return parts

    def finish(self, parts: Sequence[Mapping[NodeKind | RelType, _Part]] = (),
               file_order: Sequence[str] = ()) -> ImportFiles:
        """The finished files; ``parts`` are workers' bodies (see :meth:`close`), joined
        behind one header per kind or type with this writer's own rows after them, in the
        order their rows first appear in the files of ``file_order`` (as in one process)."""
        files = ImportFiles(self.folder)
        rank = {name: at for at, name in enumerate(file_order)}
        groups: list[tuple[Mapping[Any, _ImportTable], dict[Any, Path], list[str], str, type]] = [
            (self._nodes, files.nodes, _NODE_FIXED, "nodes", NodeKind),
            (self._rels, files.relationships, _REL_FIXED, "relationships", RelType)]
        for own_tables, found, fixed, prefix, key_type in groups:

            def first_seen(key, own_tables=own_tables) -> tuple[int, int]:
                firsts = [(rank.get(p[key].first[0], len(rank)), p[key].first[1])
                          for p in parts if key in p]
                return min([*firsts, *([(len(rank) + 1, 0)] if key in own_tables else [])])

            keys = dict.fromkeys([*own_tables, *(k for part in parts for k in part
                                                 if isinstance(k, key_type))])
            for key in sorted(keys, key=first_seen) if parts else keys:
                own = own_tables.get(key)
                pieces = [part[key] for part in parts if key in part]
                path = self.folder / f"{prefix}-{key.value}.csv"
                if not pieces and own is not None:
                    own.finish()
                    pieces = [_Part([], {}, own.rows, own.multiline, False, path)]
                else:
                    pieces = [*pieces, *([own.close()] if own is not None else [])]
                    _join(path, fixed, pieces)
                found[key] = path
                files.rows += sum(piece.rows for piece in pieces)
                files.multiline |= any(piece.multiline for piece in pieces)
        return files

    def discard(self) -> None:
        for table in [*self._nodes.values(), *self._rels.values()]:
            table.discard()


_PROVENANCE = ("source", "source_id", CONTENT_HASH)
_NODE_FIXED = [f"id:ID({ID_SPACE})", ":LABEL"]
_REL_FIXED = [f":START_ID({ID_SPACE})", f":END_ID({ID_SPACE})", ":TYPE"]


class ValidatedRows(Protocol):
    """What the importer needs of a load plan: validated nodes and relationships.

    :class:`loaders.living_db.LoadPlan` is one; the runtime does not depend on the parser.
    """

    @property
    def nodes(self) -> Sequence[NodeRecord]: ...

    @property
    def rels(self) -> Sequence[RelRecord]: ...


def write_import_files(plan: ValidatedRows | ImportFiles, folder: Path,
                       loaded_at: str) -> ImportFiles:
    """The plan's nodes and relationships as the importer's CSV files, ``loaded_at`` on each.

    Files already written in the validation pass (:func:`prepare_import`) are used as they
    are."""
    if isinstance(plan, ImportFiles):
        return plan
    writer = ImportWriter(folder, loaded_at)
    try:
        for node in plan.nodes:
            writer.node(node)
        for rel in plan.rels:
            writer.rel(rel)
        return writer.finish()
    except BaseException:
        writer.discard()
        raise


def prepare_import(paths: Sequence[Path | str], folder: Path, loaded_at: str,
                   workers: int | None = None) -> ImportFiles:
    """Check Living Database files as a first load into an empty store, writing the
    importer's files in the same pass (each valid row as soon as it is known valid).

    The rows are checked in ``workers`` forked processes (default: one per idle core, see
    :func:`loaders.living_stream.check_workers`; 1: in this one).  When any row is wrong
    the check runs again in this process alone for the report (every problem in order),
    so a bad load costs that second pass.

    Raises :class:`~pathways.errors.InputError` (file, row, column, reason) when any row is
    wrong; then nothing is left in ``folder``.  Memory holds ids and relationship digests,
    not rows (see :mod:`loaders.living_stream`).
    """
    from loaders.living_stream import can_fork, check_paths, check_workers

    workers = check_workers() if workers is None else workers
    if workers > 1 and can_fork():
        files = _prepare_in_workers(paths, folder, loaded_at, workers)
        if files is not None:
            return files
    writers: list[ImportWriter] = []

    def sink():
        for old in writers:  # a file must be read whole after all: start again
            old.discard()
        writers[:] = [ImportWriter(folder, loaded_at)]
        return writers[0].node, writers[0].rel, writers[0].plain_rels

    try:
        checked = check_paths(paths, _nothing_stored, sink=sink, keep_rejected=False)
        if checked.problems:
            raise InputError(checked.problems)
        return writers[0].finish()
    except BaseException:
        for writer in writers:
            writer.discard()
        raise


def _nothing_stored(_ids: object) -> dict:
    return {}


def _prepare_in_workers(paths: Sequence[Path | str], folder: Path, loaded_at: str,
                        workers: int) -> ImportFiles | None:
    """:func:`prepare_import`'s fast path (see
    :func:`loaders.living_stream.check_first_load_in_workers`): the importer's files, or
    ``None`` with nothing left in ``folder`` when a row is wrong or the workers' bodies
    cannot be joined (the check in one process then decides)."""
    from loaders.living_stream import check_first_load_in_workers

    main = ImportWriter(folder, loaded_at)
    parts_folder = folder / "parts"
    done = False
    try:
        found = check_first_load_in_workers(
            paths, main.rel, lambda index: ImportWriter(parts_folder / str(index), loaded_at),
            workers=workers)
        if found is None:
            return None
        checked, parts = found
        try:
            files = main.finish(cast("list[dict[NodeKind | RelType, _Part]]", parts),
                                [t.file for t in checked.sources.tables])
        except _Mismatch:
            return None
        done = True
        return files
    finally:
        shutil.rmtree(parts_folder, ignore_errors=True)
        if not done:
            main.discard()
            for name in [*(f"nodes-{k.value}" for k in NodeKind),  # joined before another
                         *(f"relationships-{t.value}" for t in RelType)]:  # failed to join
                (folder / f"{name}.csv").unlink(missing_ok=True)


def _admin_args(files: ImportFiles, database: str) -> list[str]:
    args = [
        "database", "import", "full", database,  # first: the file lists take all that follow
        "--overwrite-destination=true",
        "--bad-tolerance=0",  # the rows were validated; anything odd is a bug, so stop
        f"--array-delimiter={ARRAY_DELIMITER}",
        f"--report-file={files.folder / 'import.report'}",
        "--max-off-heap-memory=50%",
    ]
    if files.multiline:
        args.append("--multiline-fields=true")
    args += [f"--nodes={path}" for path in files.nodes.values()]
    args += [f"--relationships={path}" for path in files.relationships.values()]
    return args


def run_import(java: str, jvm_flags: list[str], classpath: str, home: Path,
               files: ImportFiles, database: str = "neo4j") -> str:
    """Run ``neo4j-admin database import full`` into ``home`` (server stopped): the one
    :func:`.early_admin.start_admin_early` started for ``files`` when there is one (same Java, flags,
    classpath and home), else a new one.  Returns what it printed."""
    args = _admin_args(files, database)
    early, files.admin = files.admin, None
    done = None
    if early is not None:
        if early.key == (java, tuple(jvm_flags), classpath, Path(home)):
            done = early.run(args)
        early.cancel()  # not used (or done): nothing must wait on its stdin
    if done is None:
        done = subprocess.run([java, *jvm_flags, "-cp", classpath, "org.neo4j.cli.AdminTool", *args],
                              env=admin_env(home), capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stdout or "")[-3000:] + (done.stderr or "")[-3000:]
        raise Neo4jRuntimeError(f"neo4j-admin import failed:\n{tail}")
    return done.stdout or ""
