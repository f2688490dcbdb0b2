"""Streaming validation of a Living Database: table by table, chunk by chunk.

:func:`loaders.living_db.plan_load` checks every row and keeps every valid record (a load
plan); a national directory (a million nodes, 4.6 million relationships) made that 7.7 GiB.
Here the rows are read from CSV files in chunks (:func:`open_sources`) and checked by a
:class:`StreamCheck` that hands each valid record to a sink as soon as it is known valid
(``on_node``, ``on_rel``: an importer file, a counter, or a list for a plan) and keeps only
what later rows are checked against:

* each node id with where it was first seen, its kind and whether it was accepted (packed
  in one integer), for duplicate ids and for relationships pointing at nodes;
* a 128-bit digest of each relationship's (source, type, target) with where it was seen,
  for duplicate relationships;
* the activities still to be placed in a locality (id, venue, where), until the
  relationships say they have one;
* the problems, and (for ``--allow-partial`` reports) the raw values of rejected rows.

The problems are the ones ``plan_load`` finds, file, row, column and reason (``plan_load``
is this check with a list as its sink).  One difference in order only: the localities of
the load are read first (they are small), so the far-away check of an activity or an
organisation needs no second pass.  A CSV file that turns out unreadable in the middle
(a quote never closed, a cell too long) is refused whole, as before: the check starts again
with that file read the old way (:class:`FileRefused`), so nothing of it is half-checked.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gc
import itertools
import multiprocessing
import os
import sys
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Protocol

from loaders.boundaries import read_boundaries
from loaders.csv_ranges import CsvRange, split_lines
from loaders.files import RawRows, _looks_utf16, files_of, read_csv_file, read_workbook
from loaders.limits import SUSPICIOUS, too_large
from loaders.living_db import Lookup, PlainRels, StreamCheck
from pathways.errors import Problem
from pathways.model import (
    KIND_OF_TABLE,
    RELATIONSHIPS_TABLE,
    NodeRecord,
    RelRecord,
    RelType,
)
from pathways.processes import idle_cores

#: CSV files at least this large are read in chunks; smaller ones whole, as before.
STREAM_FROM_BYTES = 4 * 1_048_576
#: rows handed to the check at a time
CHUNK_ROWS = 20_000

# bytes a CSV may hold without any character validation must look at (printable ASCII,
# tab and line breaks): a block of only these is checked by a byte translation
_PLAIN_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n\r"


class FileRefused(Exception):
    """A streamed CSV file turned out unreadable part-way: read it whole and start again."""

    def __init__(self, label: str):
        super().__init__(label)
        self.label = label


# --------------------------------------------------------------------------- reading


class TableSource(Protocol):
    """One table of the input: its name, its file label, and its rows in chunks."""

    @property
    def table(self) -> str: ...

    @property
    def file(self) -> str: ...

    def chunks(self) -> Iterator[RawRows]: ...


@dataclass
class _WholeTable:
    raw: RawRows

    @property
    def table(self) -> str:
        return self.raw.table

    @property
    def file(self) -> str:
        return self.raw.file

    def chunks(self) -> Iterator[RawRows]:
        yield self.raw


@dataclass
class _StreamedCsv:
    """A large CSV file, checked for its encoding first, then read a chunk at a time."""

    path: Path
    table: str
    file: str
    chunk_rows: int = CHUNK_ROWS

    def chunks(self) -> Iterator[RawRows]:
        suspicious = _scan(self.path)
        if suspicious is None:  # not plain UTF-8, or empty: the whole-file reader says why
            yield from _whole_csv(self.path, self.file)
            return
        whole = CsvRange(self.path, self.table, self.file, 0, _size(self.path), 1)
        try:
            yield from whole.chunks(self.chunk_rows, suspicious)
        except csv.Error:
            raise FileRefused(self.file) from None


def _scan(path: Path) -> bool | None:
    """Whether the file holds characters validation must look at (see
    :data:`loaders.limits.SUSPICIOUS`), or ``None`` when it is not plain UTF-8 text with
    something in it (UTF-16, another encoding, blank): such files are read whole."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    suspicious = False
    blank = True
    with path.open("rb") as handle:
        first = True
        while block := handle.read(1 << 22):
            if first and _looks_utf16(block):
                return None
            first = False
            try:
                text = decoder.decode(block)
            except UnicodeDecodeError:
                return None
            if blank and block.strip():
                blank = False
            if not suspicious:
                if block.isascii():
                    suspicious = bool(block.translate(None, _PLAIN_ASCII))
                else:
                    suspicious = SUSPICIOUS.search(text) is not None
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return None
    return None if blank else suspicious


def _whole_csv(path: Path, label: str) -> Iterator[RawRows]:
    tables, problems = read_csv_file(path, label)
    if problems:
        raise _ReadProblems(problems)
    yield from tables


class _ReadProblems(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__(problems)
        self.problems = problems


@dataclass
class Sources:
    """The tables of some Living Database files, in the order given; ``problems`` are the
    files' own (missing, unreadable, unknown names), filled in as the tables are read."""

    localities: list[RawRows]
    tables: list[TableSource]
    problems: list[Problem] = field(default_factory=list)
    #: XLSX sheets, read whole (update-request workbooks are checked against them)
    workbook_tables: list[RawRows] = field(default_factory=list)

    def chunks(self, relationships: bool) -> Iterator[RawRows]:
        """Every chunk of the node tables (or of the relationship tables), in order."""
        for source in self.tables:
            if (source.table == RELATIONSHIPS_TABLE) != relationships:
                continue
            try:
                yield from source.chunks()
            except _ReadProblems as refused:
                self.problems.extend(refused.problems)


def open_sources(paths: Sequence[Path | str], whole: Collection[str] = (),
                 chunk_rows: int = CHUNK_ROWS) -> Sources:
    """CSV files, folders of them, or XLSX workbooks, ready to be read table by table.

    CSV files of :data:`STREAM_FROM_BYTES` or more are read a chunk at a time, except
    locality files and the files named in ``whole``; the rest as
    :func:`loaders.files.read_sources` reads them.
    """
    files, problems = files_of(paths, (".csv", ".xlsx"))
    sources = Sources([], [], problems)
    for file, label in files:
        suffix = file.suffix.lower()
        found: list[RawRows] = []
        if suffix == ".xlsx":
            found, trouble = read_workbook(file, label)
            sources.problems.extend(trouble)
            sources.workbook_tables.extend(found)
        elif suffix == ".csv":
            table = file.stem.strip().lower()
            if table not in KIND_OF_TABLE and table != RELATIONSHIPS_TABLE:
                found, trouble = read_csv_file(file, label)  # says the name is unknown
                sources.problems.extend(trouble)
            elif (table == "localities" or label in whole
                  or _size(file) < STREAM_FROM_BYTES or _too_large(file)):
                found, trouble = read_csv_file(file, label)
                sources.problems.extend(trouble)
            else:
                sources.tables.append(_StreamedCsv(file, table, label, chunk_rows))
                continue
        else:
            sources.problems.append(Problem(label, 0, "", "not a .csv or .xlsx file"))
        for raw in found:
            if raw.table == "localities":
                read_boundaries(raw, file.parent)
                sources.localities.append(raw)
            sources.tables.append(_WholeTable(raw))
    return sources


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _too_large(path: Path) -> bool:
    return too_large(_size(path), "csv", "CSV files") is not None


def sources_of(tables: list[RawRows]) -> Sources:
    """Tables already read (as :func:`loaders.files.read_sources` gives them)."""
    return Sources([t for t in tables if t.table == "localities"],
                   [_WholeTable(t) for t in tables])


def check_sources(sources: Sources, check: StreamCheck) -> StreamCheck:
    """Run ``check`` over every chunk of ``sources``: node tables, then relationships."""
    for raw in sources.chunks(relationships=False):
        check.add_nodes(raw)
    for raw in sources.chunks(relationships=True):
        check.add_rels(raw)
    check.finish()
    check.problems[:0] = sources.problems
    return check


@dataclass
class Checked:
    """What :func:`check_paths` found: problems, rejected rows, unplaced activities, counts."""

    problems: list[Problem]
    rejected: dict[tuple[str, int], dict]
    not_placed: dict[str, str]
    nodes: int
    rels: int
    sources: Sources


#: the collector's first threshold while rows are checked (Python's default: 700)
YOUNG_COLLECTION = 50_000


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often while rows are checked.  Each row makes
    a few short-lived dicts, lists and records, freed by reference counting as soon as it
    is written (no cycles), yet every 700 of them start a collection: at 100k that was
    15-20 % of the check's CPU.  Cycles are still collected, every 50,000 allocations."""
    young, *older = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_COLLECTION), *older)
    try:
        yield
    finally:
        gc.set_threshold(young, *older)


#: what a sink gives: ``(on_node, on_rel)``, or ``(on_node, on_rel, on_plain_rels)`` (see
#: :class:`loaders.living_db.StreamCheck`)
SinkCallbacks = (tuple[Callable[[NodeRecord], None], Callable[[RelRecord], None]]
                 | tuple[Callable[[NodeRecord], None], Callable[[RelRecord], None],
                         Callable[[PlainRels], None]])


def check_paths(paths: Sequence[Path | str], lookup: Lookup,
                store_localities: Sequence[Mapping] = (), *,
                sink: Callable[[], SinkCallbacks] | None = None,
                keep_rejected: bool = True, chunk_rows: int = CHUNK_ROWS) -> Checked:
    """Read and check Living Database files in one streaming pass.

    ``sink()`` gives fresh ``(on_node, on_rel)`` callbacks for the valid records, or
    ``(on_node, on_rel, on_plain_rels)`` to take relationships without properties of their
    own a run at a time (called again, after its previous records are to be forgotten, if
    a file must be re-read whole: see :class:`FileRefused`).
    """
    with fewer_collections():
        return _check_paths(paths, lookup, store_localities, sink, keep_rejected, chunk_rows)


def _check_paths(paths: Sequence[Path | str], lookup: Lookup,
                 store_localities: Sequence[Mapping],
                 sink: Callable[[], SinkCallbacks] | None,
                 keep_rejected: bool, chunk_rows: int) -> Checked:
    whole: set[str] = set()
    while True:
        callbacks = sink() if sink is not None else (_ignore, _ignore)
        on_node, on_rel = callbacks[0], callbacks[1]
        on_plain = callbacks[2] if len(callbacks) > 2 else None
        sources = open_sources(paths, whole, chunk_rows)
        check = StreamCheck(lookup, store_localities, sources.localities, on_node, on_rel,
                            keep_rejected, on_plain)
        try:
            check_sources(sources, check)
        except FileRefused as refused:
            whole.add(refused.label)
            continue
        if not check.problems and not check.nodes and not check.rels:
            files = ", ".join(dict.fromkeys(t.file for t in sources.tables)) or ", ".join(
                map(str, paths))
            reason = "nothing to load: the files have a header but no rows"
            check.problems.append(Problem(files, 0, "", reason))
        return Checked(check.problems, check.rejected, check.not_placed, check.nodes,
                       check.rels, sources)


def _ignore(_record: object) -> None:
    return None


# --------------------------------------------------------------------------- in workers

#: at most this many forked processes check the rows of a first load
CHECK_WORKERS = 4


def check_workers(idle: float | None = None) -> int:
    """How many workers pay here: one per idle core, at most :data:`CHECK_WORKERS`; 1 means
    the check in one process.  Idle cores are measured over a moment (:func:`idle_cores`),
    not taken from the load average, which lags by a minute (a job just ended still counts).
    Each worker reads its own part of the large files, so workers cost little more CPU
    than one process; on cores already busy they only add their overhead.  ``idle``: the
    idle cores if the caller has just measured them."""
    if idle is None:
        idle = idle_cores()
    if idle is None:
        idle = (os.cpu_count() or 1) - os.getloadavg()[0]
    return max(1, min(CHECK_WORKERS, _cores_here(), int(idle + 0.5)))


def _cores_here() -> int:
    """The processors this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class WorkerSink(Protocol):
    """Where a worker's valid records go; ``close`` says (picklably) what it wrote."""

    def node(self, record: NodeRecord) -> None: ...

    def rel(self, record: RelRecord) -> None: ...

    def close(self) -> object: ...


def can_fork() -> bool:
    """Whether worker processes may be forked here (Linux: fork is safe and cheap)."""
    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


def _phase_answers(pipes: Sequence, phase: str) -> list[tuple] | None:
    """End a phase in every worker (``None`` says its rows are all sent) and take their
    answers, or None when any worker found a problem or answered out of turn (the caller
    then leaves the decision to the one-process check)."""
    answers = []
    for pipe in pipes:
        pipe.send(None)
        answer = pipe.recv()
        if answer[0] != phase or answer[1]:
            return None
        answers.append(answer)
    return answers


def check_first_load_in_workers(
    paths: Sequence[Path | str],
    on_rel: Callable[[RelRecord], None],
    worker_sink: Callable[[int], WorkerSink],
    *, workers: int = 2, chunk_rows: int | None = None,
) -> tuple[Checked, list[object]] | None:
    """The check of a first load into an empty store, in ``workers`` forked processes: a
    fast path for files that are all valid.

    Each large CSV file is split in ``workers`` byte ranges at line ends
    (:mod:`loaders.csv_ranges`) and each worker reads and checks its own range, so no rows
    pass between processes; the small files this process has read are split between the
    workers by id (node rows) or by (source, target) (relationship rows).  After the node
    tables the workers swap the ids they accepted (an id accepted by two is a duplicate:
    the fast path gives up), so each checks its relationship rows against every node;
    after the relationships this process looks for a relationship two workers accepted.
    Each worker hands its valid rows to its own ``worker_sink(i)``; activities no
    ``LOCATED_IN`` row placed are placed here at the end (to ``on_rel``).  Returns the
    :class:`Checked` (no problems) and what each worker's sink ``close()`` gave, or
    ``None`` when any row or file is wrong, a file cannot be read in ranges (a line break
    inside a quoted cell), or a worker failed: the caller then discards what was written
    and runs :func:`check_paths`, whose report (every problem, in order, with where each
    duplicate was first seen) is the one users get.
    """
    chunk_rows = chunk_rows or CHUNK_ROWS
    sources = open_sources(paths, (), chunk_rows)
    if sources.problems:
        return None
    ranges: dict[int, list[CsvRange]] = {}
    for at, source in enumerate(sources.tables):
        if isinstance(source, _StreamedCsv):
            split = split_lines(source.path, source.table, source.file, workers)
            if split is None:
                return None
            ranges[at] = split
    check = StreamCheck(_nothing_stored, (), sources.localities, _no_record, on_rel,
                        keep_rejected=False)
    context = multiprocessing.get_context("fork")
    pipes: list[Connection] = []
    processes = []
    gc.freeze()  # the workers' copies of what exists now: not scanned, nor written to by scans
    for index in range(workers):
        mine, theirs = context.Pipe()
        process = context.Process(target=_worker, daemon=True,
                                  args=(theirs, list(pipes), check, worker_sink, index,
                                        chunk_rows))
        process.start()
        theirs.close()
        pipes.append(mine)
        processes.append(process)
    gc.unfreeze()
    try:
        with fewer_collections():
            return _share_out(sources, ranges, check, pipes)
    except (FileRefused, OSError, EOFError):  # OSError, EOFError: a worker failed
        return None
    finally:
        for pipe in pipes:
            with contextlib.suppress(OSError):
                pipe.send(_STOP)
            pipe.close()
        for process in processes:
            process.join()


_STOP = "stop"


def _send_tables(sources: Sources, ranges: Mapping[int, list[CsvRange]], check: StreamCheck,
                 pipes: list[Connection], relationships: bool) -> bool:
    """Send each worker its share of every node table (or relationship table): a range of
    each large file to read, a share of each small one's rows; False on a problem."""
    by = ("source_id", "target_id") if relationships else ("id",)
    for at, source in enumerate(sources.tables):
        if (source.table == RELATIONSHIPS_TABLE) != relationships:
            continue
        check._file(source.file)  # the workers number the files in this order too
        split = ranges.get(at)
        if split is not None:
            for index, pipe in enumerate(pipes):
                pipe.send(split[index] if index < len(split) else source.file)
            continue
        for raw in source.chunks():
            if raw.problems:
                return False
            for pipe, part in zip(pipes, _split(raw, len(pipes), by), strict=True):
                pipe.send(part)
    return not sources.problems


def _ranges_join(ranges: Mapping[int, list[CsvRange]], answers: Sequence[tuple],
                 relationships: bool) -> bool:
    """Whether each range's rows ended where the next range's were counted to begin (they
    do unless a record spans lines), for the node tables or the relationship tables."""
    ended = {(file, start): next_row for answer in answers for file, start, next_row in answer[-1]}
    return all(ended.get((before.file, before.start)) == after.first_row
               for split in ranges.values()
               if (split[0].table == RELATIONSHIPS_TABLE) == relationships
               for before, after in itertools.pairwise(split))


def _share_out(sources: Sources, ranges: Mapping[int, list[CsvRange]], check: StreamCheck,
               pipes: list[Connection]) -> tuple[Checked, list[object]] | None:
    if not _send_tables(sources, ranges, check, pipes, relationships=False):
        return None
    node_answers = _phase_answers(pipes, "nodes")
    if node_answers is None or not _ranges_join(ranges, node_answers, False):
        return None
    ids: list[list[tuple[str, int]]] = []
    for _nodes, _problems, nodes, accepted, pending, _ends in node_answers:
        check.nodes += nodes
        ids.append(accepted)
        check._pending.update(pending)  # placed at the end unless a row places them
    if len({node_id for found in ids for node_id, _packed in found}) != check.nodes:
        return None  # an id accepted by two workers: a duplicate
    for at, pipe in enumerate(pipes):  # each worker gets the others' ids
        pipe.send([entry for other, found in enumerate(ids) if other != at for entry in found])
    del ids
    if not _send_tables(sources, ranges, check, pipes, relationships=True):
        return None
    rel_answers = _phase_answers(pipes, "rels")
    if rel_answers is None or not _ranges_join(ranges, rel_answers, True):
        return None
    parts = []
    keys: set[int] = set()
    for _rels, _problems, rels, placed, part, rel_keys, _ends in rel_answers:
        check.rels += rels
        keys.update(rel_keys)
        for activity in placed:
            check._pending.pop(activity, None)
        parts.append(part)
    if len(keys) != check.rels:
        return None  # a relationship accepted by two workers: a duplicate
    del keys
    check.finish()
    if check.problems or not (check.nodes or check.rels):
        return None
    return Checked([], {}, check.not_placed, check.nodes, check.rels, sources), parts


def _nothing_stored(_ids: object) -> dict:
    return {}


def _no_record(_record: object) -> None:
    raise AssertionError("records are written by the workers")


def _split(raw: RawRows, parts: int, by: tuple[str, ...]) -> list[RawRows]:
    """A chunk's rows in ``parts`` shares by the values of the columns ``by`` as validation
    reads them (stripped); a chunk without those columns goes whole to the first (its
    header problem is found there)."""
    try:
        columns = [raw.header.index(name) for name in by]
    except ValueError:
        return [raw, *(RawRows(raw.table, raw.file, raw.header, []) for _ in range(parts - 1))]
    shares: list[list[tuple[int, list[str]]]] = [[] for _ in range(parts)]
    for row in raw.rows:
        values = row[1]
        try:
            key = hash(tuple(values[at].strip() for at in columns))
        except IndexError:  # a short row: refused wherever it goes
            key = 0
        shares[key % parts].append(row)
    return [RawRows(raw.table, raw.file, raw.header, rows, check_chars=raw.check_chars)
            for rows in shares]


def _worker(pipe: Connection, others: list[Connection], check: StreamCheck,
            worker_sink: Callable[[int], WorkerSink], index: int, chunk_rows: int) -> None:
    """A worker: check the node tables sent until ``None`` (a share of rows, a range of a
    file to read, or only a file's name when it has no range here), answer with the ids
    accepted; take the other workers' ids; check the relationship tables sent until
    ``None``, answer with what it wrote and the relationships' keys.  ``others`` are the
    parent's ends of earlier workers' pipes."""
    for other in others:
        other.close()
    gc.set_threshold(max(gc.get_threshold()[0], YOUNG_COLLECTION))  # see fewer_collections
    try:
        sink = worker_sink(index)
        placed: list[str] = []

        def on_rel(record: RelRecord) -> None:
            if record.type is RelType.LOCATED_IN:
                placed.append(record.source_id)
            sink.rel(record)

        check.on_node, check.on_rel = sink.node, on_rel
        plain_rels = getattr(sink, "plain_rels", None)
        if plain_rels is not None:  # an ImportWriter: relationships without properties in runs

            def on_plain_rels(rels: PlainRels) -> None:
                if RelType.LOCATED_IN in rels.types:
                    placed.extend(src for src, rel in zip(rels.sources, rels.types, strict=True)
                                  if rel is RelType.LOCATED_IN)
                plain_rels(rels)

            check.on_plain_rels = on_plain_rels
        ends = _check_sent(pipe, check, check.add_nodes, chunk_rows)
        if ends is None:
            return
        pending, check._pending = check._pending, {}
        pipe.send(("nodes", len(check.problems), check.nodes, list(check._ids.items()),
                   pending, ends))
        del pending
        others_ids = pipe.recv()
        if others_ids == _STOP:
            return
        check._ids.update(others_ids)
        del others_ids
        ends = _check_sent(pipe, check, check.add_rels, chunk_rows)
        if ends is None:
            return
        pipe.send(("rels", len(check.problems), check.rels, placed, sink.close(),
                   list(check._rel_keys), ends))
    except BaseException as exc:  # the check in one process decides
        with contextlib.suppress(OSError):
            pipe.send(("failed", repr(exc)))
    finally:
        pipe.close()


def _check_sent(pipe: Connection, check: StreamCheck, add: Callable[[RawRows], None],
                chunk_rows: int) -> list[tuple[str, int, int]] | None:
    """Check what is sent until ``None``; the ranges read (file, start, row after the
    last), or None when told to stop."""
    ends: list[tuple[str, int, int]] = []
    while (sent := pipe.recv()) is not None:
        if sent == _STOP:
            return None
        if isinstance(sent, str):
            check._file(sent)
        elif isinstance(sent, CsvRange):
            check._file(sent.file)
            for raw in sent.chunks(chunk_rows):
                add(raw)
            ends.append((sent.file, sent.start, sent.next_row))
        else:
            add(sent)
    return ends
