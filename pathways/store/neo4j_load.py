"""The Neo4j store's write side: loads (one transaction, or batch by batch with a journal),
their rollback, and an undo's restore, as :class:`Neo4jLoads`, which
:class:`~pathways.store.neo4j.Neo4jStore` inherits (its read side, the load lock and the
connection live there).

A load of up to :data:`COMMIT_ROWS` rows is one write transaction that also bumps the graph
version.  Neo4j applies a commit's changes one by one, and a reader running meanwhile could
see some of them, so the load marks the graph node as committing (in a transaction of its
own) while it commits, and every read transaction checks that mark and the version before
and after its query, waiting while a load commits and running again if one committed
meanwhile (:func:`pathways.store.neo4j._between_commits`).

A bigger load commits every :data:`COMMIT_ROWS` rows (fewer if the server's transaction
memory is smaller), so its size is not bounded by the server's heap and it does not spend
half its time in one huge commit.  It is still never half-visible: before its first batch
it saves a journal (what it will change, as it was: ids of what it creates, the properties
of what it changes) and marks the graph node ``loading``, in one transaction; readers wait
while that mark is set; publishing bumps the version and clears mark and journal in one
transaction.  A batched load that fails is rolled back from its journal at once; one whose
process died is rolled back by the next load, reset or undo that takes the load lock, and
readers meanwhile are told a load was interrupted (:meth:`Neo4jStore._write_batched`).
Chosen over staged labels because a load also changes existing nodes and links new
relationships to them, which no label can hide from the traversals the app runs.  A big
load's nodes, then (once they are all in) its relationships, can be committed from
:data:`SESSIONS` sessions at once (two: 1.2x faster at 100k on a quiet machine); the journal
does not depend on the order its batches land in, and a failure in either session stops both
before the rollback.  Each batch checks that its load still holds the lock just before it
commits, through its own session's fence node rather than the one lock node, so the sessions
do not take turns to commit (:meth:`Neo4jLoads._check_still_locked` argues why a batch still
never commits after its lock was taken over and the recovery began).  Its journal, its
publishing and its rollback's transactions are checked too: a load whose lock was taken over
writes nothing more, and leaves its rollback to the new holder.

Relationships store their provenance (``source``) and ``content_hash``, not what can be
derived: their "from|TYPE|to" ``source_id`` is given back on reading, and their load time
is in the load history (:mod:`queries.graph`).

Memory: Neo4j holds a transaction's changes in memory until it commits (about 4 KB per row,
:data:`TX_BYTES_PER_ROW`), so a transaction is bounded by the server's transaction memory
(``dbms.memory.transaction.total.max``, 70 % of its heap by default); loads commit in
batches that fit it.  Only a server that cannot hold :data:`MIN_COMMIT_ROWS` rows in one
transaction refuses a big load, before anything is written, saying how much heap it needs.

Neo4j errors while writing (out of memory after all, an id too long for its index...) become
:class:`~pathways.errors.StoreUnavailableError` in plain words, never retried: nothing was
written.
"""

from __future__ import annotations

import functools
import gzip
import logging
import math
import threading
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import neo4j
import orjson
from neo4j.exceptions import ClientError, DriverError, Neo4jError, TransientError

from pathways.config import Neo4jSettings
from pathways.errors import StoreBusyError, StoreUnavailableError
from pathways.gcpause import gc_paused
from pathways.model import CONTENT_HASH, NodeKind, NodeRecord, RelRecord, RelType
from pathways.store.base import (
    GraphStore,
    Image,
    Progress,
    RelKey,
    WriteSummary,
    now_iso,
    summarise,
)
from queries import graph as q
from queries import history as qh

log = logging.getLogger(__name__)
_ABSENT = object()
BATCH_SIZE = 10_000  # rows per UNWIND statement (measured: 10k beats 2k by ~1.5x)
# Neo4j holds a transaction's changes in memory until it commits: 4.3 KB per row written at
# the peak (commit included), measured on the synthetic 100k graph (564k rows).  Loads are
# refused before writing only when even half of that would not fit.
TX_BYTES_PER_ROW = 4_300
TX_BYTES_PER_ROW_AT_LEAST = TX_BYTES_PER_ROW // 2
# A load of more rows than this commits batch by batch (see _write_batched): one huge
# transaction spent half its time in the final commit and 14-17 s in GC at 100k, and its
# size was bounded by the server's heap.  Smaller where the server's transaction memory is.
COMMIT_ROWS = 50_000
# Below this many rows per transaction a batched load would crawl (a round trip per few
# rows): such a server is told to take more memory instead.
MIN_COMMIT_ROWS = 2_000
# A batched load's phase (its nodes; then its relationships) of at least this many rows is
# committed from SESSIONS sessions at once.  Measured at 100k (benchmarks/load_ceiling.py,
# medians of 3, RESULTS "Neo4j loads next to the server's ceiling"): on a quiet 2-core machine
# the loader took 18.5 s from two sessions and 22.6 s from one (the bare UNWIND 14.4 s and
# 20.6 s); on a busy one two did not pay (65.8 s vs 60.3 s), as a second session then has no
# core to run on.  Tests run both.
SESSIONS = 2
PARALLEL_ROWS = 100_000
# Two sessions writing relationships to the same nodes can deadlock; Neo4j then rolls one
# transaction back, and it is run again, at most this many times.
DEADLOCK_RETRIES = 5
# Neo4j's codes (and GQL statuses) for a transaction that ran out of memory.
_MEMORY_CODES = ("MemoryPoolOutOfMemoryError", "TransactionOutOfMemoryError")
_MEMORY_GQL = ("51N72", "51N73")


def _commit_groups_of(steps: list[tuple[int, object]], per_commit: int) -> list[tuple[list, int]]:
    """``steps`` (``(rows, fn(tx))``) in groups of about ``per_commit`` rows, one commit each.

    >>> _commit_groups_of([(4, "a"), (4, "b"), (4, "c")], 8)
    [([(4, 'a'), (4, 'b')], 8), ([(4, 'c')], 4)]
    """
    groups: list[tuple[list, int]] = []
    group: list = []
    size = 0
    for rows, step in steps:
        if group and size + rows > per_commit:
            groups.append((group, size))
            group, size = [], 0
        group.append((rows, step))
        size += rows
    if group:
        groups.append((group, size))
    return groups


def _chunks(items: Sequence, size: int = BATCH_SIZE):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def is_memory_error(exc: Neo4jError) -> bool:
    """Whether Neo4j refused a transaction for lack of memory (never worth a retry)."""
    code = exc.code or ""
    gql_status = getattr(exc, "gql_status", None)
    return any(name in code for name in _MEMORY_CODES) or gql_status in _MEMORY_GQL


def _server_says(exc: Neo4jError) -> str:
    message = (exc.message or str(exc)).strip().splitlines()
    return message[0][:300] if message else (exc.code or "unknown error")


class _WriteRefused(StoreUnavailableError):
    """Raised inside a transaction function, so the driver does not retry it."""


def _heap_for(rows: int) -> str:
    """A heap that holds a load of ``rows`` (one transaction of at most :data:`COMMIT_ROWS`
    of them: bigger loads commit in batches), with room to spare."""
    per_commit = min(rows, COMMIT_ROWS)
    return f"{max(2, math.ceil(per_commit * TX_BYTES_PER_ROW / 0.7 / 2**30) + 1)}g"


def _memory_advice(rows: int, on_local_server: bool) -> str:
    if on_local_server:
        return (f"give the local server more memory, keeping its data:"
                f" `PATHWAYS_NEO4J_HEAP={_heap_for(rows)} pathways neo4j restart`; or, if this is"
                " the first load, bulk-import it (`pathways neo4j stop`, then `pathways neo4j"
                " start --import FOLDER`)")
    return (f"raise the server's server.memory.heap.max_size (to about {_heap_for(rows)}) and"
            " dbms.memory.transaction.total.max, or load a smaller set of files")


def write_refused(exc: Neo4jError, rows: int, on_local_server: bool) -> StoreUnavailableError:
    """A Neo4j error during a write, in words a data officer can act on."""
    if is_memory_error(exc):
        return _WriteRefused(
            f"Neo4j ran out of memory for this load ({rows:,} rows in one transaction);"
            f" nothing was written. To load it, {_memory_advice(rows, on_local_server)}."
            f" (Neo4j said: {_server_says(exc)})")
    return _WriteRefused(
        f"Neo4j refused this load ({rows:,} rows); nothing was written."
        f" Neo4j said: {_server_says(exc)}")


def too_big(rows: int, budget: int, on_local_server: bool) -> StoreUnavailableError:
    """A load that cannot fit the server's transaction memory, refused before writing."""
    return _WriteRefused(
        f"This load is too big for the Neo4j server's memory: {rows:,} rows in one"
        f" transaction need about {_size(rows * TX_BYTES_PER_ROW)}, and it allows"
        f" {_size(budget)}; nothing was written."
        f" To load it, {_memory_advice(rows, on_local_server)}.")


def _size(n: float) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


_UNITS = {"": 1, "B": 1, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40,
          "K": 2**10, "M": 2**20, "G": 2**30, "KB": 2**10, "MB": 2**20, "GB": 2**30}


def parse_bytes(text: str) -> int:
    """Neo4j's way of showing a size, in bytes.

    >>> parse_bytes("716.80MiB"), parse_bytes("0B"), parse_bytes("1.00GiB"), parse_bytes("2048")
    (751619276, 0, 1073741824, 2048)
    """
    number = text.strip().rstrip("BbIiKkMmGgTt")
    unit = text.strip()[len(number):].upper()
    return int(float(number) * _UNITS[unit])

def _strip_derived(source: str, rel: str, target: str, props: dict) -> dict:
    """A relationship's properties as stored: without its derived "from|TYPE|to"
    ``source_id`` (given back on reading) or a load time of its own (see queries.graph)."""
    if "loaded_at" not in props and "source_id" not in props:
        return props
    stored = props.copy()  # a copy and two deletions: a third faster than a comprehension
    stored.pop("loaded_at", None)
    if stored.get("source_id") == f"{source}|{rel}|{target}":
        del stored["source_id"]
    return stored


def _pack(image: Image) -> bytes:
    """An image as compressed JSON, for a batched load's journal (orjson writes the enums
    as their values)."""
    data = {"nodes": [[n, None, None] if s is None else [n, s[0], s[1]]
                      for n, s in image.nodes.items()],
            "rels": [[u, k, v, props] for (u, k, v), props in image.rels.items()]}
    return gzip.compress(orjson.dumps(data), compresslevel=1)


def _unpack(raw: bytes) -> Image:
    data = orjson.loads(gzip.decompress(raw))
    return Image({n: None if kind is None else (NodeKind(kind), props)
                  for n, kind, props in data["nodes"]},
                 {(u, RelType(k), v): props for u, k, v, props in data["rels"]})


def _close_quietly(tx: neo4j.Transaction) -> None:
    """End ``tx`` (rolled back unless it committed) and release what it locked; a failure
    to do so (the connection gone) means the server ends it."""
    try:
        tx.close()
    except (DriverError, Neo4jError) as failure:
        log.debug("closing a failed load transaction: %s", failure)


class Neo4jLoads(GraphStore):
    """The writes of :class:`~pathways.store.neo4j.Neo4jStore` (a mixin: the connection,
    reads and the load lock are the store's own)."""

    settings: Neo4jSettings
    driver: neo4j.Driver
    _on_local_server: bool
    _lock_token: str | None
    _heartbeat_failure: str | None
    _budget: int | None
    _budget_read: bool
    load_retries = 0  # transactions of batched loads run again after a deadlock

    if TYPE_CHECKING:  # defined by Neo4jStore
        def _read(self, fn: Any, *args: Any) -> Any: ...
        def _write(self, fn: Any, *args: Any) -> Any: ...

    def _write_once(self, work, rows: int) -> None:
        """Run ``work(tx)`` and bump the graph version in one transaction, committed only if
        this load still holds the lock, with readers told to wait while it is applied.
        Never retried (a load that ran out of memory would only run out again)."""
        token = self._lock_token
        assert token is not None, "writes run inside load_lock()"
        announced, landed_at = False, None
        try:
            with (self.driver.session(database=self.settings.database) as session,
                  session.begin_transaction() as tx):
                work(tx)
                self._check_still_locked(tx)
                announced = True
                self._write(q.announce_commit, token)
                try:
                    q.bump_graph_version(tx)
                    landed_at = q.graph_version(tx)  # the version once committed
                    tx.commit()
                except Exception as exc:
                    _close_quietly(tx)  # else its lock on the graph node blocks the next line
                    self._end_commit(token, rows, exc)
                    raise
                self._end_commit(token, rows, None)
        except KeyboardInterrupt as interrupt:
            interrupt.add_note(self._interrupted(token, rows, announced, landed_at))
            raise
        except DriverError as exc:
            raise StoreUnavailableError(
                f"lost the connection to Neo4j during a load of {rows:,} rows ({exc});"
                " Neo4j writes a load all or nothing, so check with `pathways stats`") from exc
        except Neo4jError as exc:
            raise write_refused(exc, rows, self._on_local_server) from exc

    def _end_commit(self, token: str, rows: int, failed: BaseException | None) -> None:
        """Clear this load's commit mark after its commit, or after its commit failed with
        ``failed``.

        If that fails (the server went away), the load's own outcome is still what is said:
        a commit's own error stays the one raised, with this failure noted on it; after a
        commit, the error says the load landed.  What it leaves is harmless to the data: the
        mark counts only while this load holds the lock (readers wait until the lock is
        released or its lease expires, :data:`queries.graph.GRAPH_STATE`), and a load in one
        transaction has no journal, so the next holder of the lock rolls nothing back."""
        try:
            self._write(q.end_commit, token)
        except StoreUnavailableError as failure:
            log.warning("clearing a load's commit mark failed (%s rows, %s): %s", f"{rows:,}",
                        "not committed" if failed is not None else "committed", failure)
            if failed is not None:
                failed.add_note(f"Clearing the load's commit mark failed too ({failure}).")
                return
            raise StoreUnavailableError(
                f"This load's {rows:,} rows landed: they are committed to the Neo4j database."
                f" But Neo4j could not then be told the commit had finished ({failure}), so"
                " the load stopped there (anything it was to do next was not done), and"
                " readers wait until its load lock is released or expires."
                " Check with `pathways stats`."
            ) from failure

    def _interrupted(self, token: str, rows: int, announced: bool,
                     landed_at: int | None) -> str:
        """What a Ctrl-C in :meth:`_write_once` left, in words.  Its commit mark is cleared
        first (a Ctrl-C may have cut that short), else this process's own reads, such as the
        load history's update, would wait for it until the lock is released; clearing it
        waits until the commit, if it went ahead, is applied (the commit holds the graph
        node), so the version then says whether it landed."""
        nothing = f"The load was interrupted before its commit; none of its {rows:,} rows was written."
        if not announced:
            return nothing
        try:
            self._write(q.end_commit, token)
            version = self._write(q.graph_version)
        except StoreUnavailableError as failure:
            return (f"Whether the load's {rows:,} rows landed is not known: Neo4j could not be"
                    f" asked ({failure}). It writes a load all or nothing: check with"
                    " `pathways stats`.")
        if landed_at is not None and version >= landed_at:
            return (f"The load's {rows:,} rows had landed before the interrupt: they are"
                    " committed to the Neo4j database (anything the load was to do next was"
                    " not done).")
        return nothing

    def _check_still_locked(self, tx: neo4j.Transaction | neo4j.ManagedTransaction,
                            fence: int | None = None) -> None:
        """Raise :class:`StoreBusyError` unless this load still holds the load lock; called
        in ``tx`` before it commits (last; or first, in a rollback: from the check until ``tx``
        ends, what it locked keeps the lock from changing hands).

        Without ``fence`` (a load in one transaction, an undo) the check write-locks the
        lock node until ``tx`` ends, as taking the lock over does, so the two take turns.

        With ``fence`` (a batch of a batched load: its session's number; or its publishing)
        it write-locks that fence node instead (:func:`queries.graph.fenced_holder`), then
        reads the holder without locking the lock node, so the sessions of one load no longer
        wait for each other's commits (they did, holding the one lock node from check to
        commit).  It
        stays as strong because taking the lock over (``load_lock``'s ``acquire``) sets the
        new owner and write-locks every fence in one transaction, before its recovery reads
        the journal.  A batch of the load taken over either

        * locked its fence first: the takeover waits for it to commit (or abort) before its
          own commit, so the batch is in the database before the recovery reads the journal
          and is rolled back with the rest (the journal lists all the load will change,
          whatever has landed); or
        * locks its fence after the takeover did: it waits until the takeover has committed,
          so it reads the new owner (Neo4j reads the latest committed value) and aborts.

        There is no third order (one fence node, write locks), and no deadlock: a batch holding
        its fence only reads and commits, and the takeover takes the fences in one order.  The
        fences are a fixed set (:data:`queries.graph.LOAD_FENCES`; sessions beyond it share
        one, and then take turns), so no batch can lock a fence the takeover did not."""
        if self._lock_token is None:
            return
        holder = q.lock_holder(tx) if fence is None else q.fenced_holder(tx, fence)
        if holder is None or holder["owner"] != self._lock_token:
            failure = self._heartbeat_failure
            why = f" (renewing it failed: {failure})" if failure else ""
            raise StoreBusyError(
                f"this load lost its hold on the Neo4j database's load lock{why}, so another"
                " load may have started; nothing was written — load again")

    def transaction_budget(self) -> int | None:
        """The most memory one transaction may use on this server, in bytes (None: no limit,
        or the server does not let this user see its settings)."""
        if not self._budget_read:
            self._budget_read = True
            try:
                records, _, _ = self.driver.execute_query(
                    q.MEMORY_SETTINGS, database_=self.settings.database)
            except ClientError:
                pass  # e.g. no SHOW SETTINGS privilege: then only the server checks (no budget)
            except DriverError as exc:
                raise StoreUnavailableError(f"lost the connection to Neo4j: {exc}") from exc
            else:
                limits = [parse_bytes(r["value"]) for r in records if r["value"]]
                self._budget = min((limit for limit in limits if limit > 0), default=None)
        return self._budget

    def write(
        self,
        nodes: Sequence[NodeRecord],
        rels: Sequence[RelRecord],
        progress: Progress | None = None,
    ) -> WriteSummary:
        # gc paused: the rows, journal and driver messages are millions of objects without
        # cycles, which the collector re-scanned again and again (at 100k under load, building
        # the rows took 6.4 s with it and 3.7 s without; the journal 4.4 s and 0.8 s)
        with self.load_lock("a write"), gc_paused():  # the lock: a no-op inside a load
            return self._write_records(nodes, rels, progress)

    def _write_records(
        self,
        nodes: Sequence[NodeRecord],
        rels: Sequence[RelRecord],
        progress: Progress | None,
    ) -> WriteSummary:
        node_hashes: dict[str, str] = {}
        rel_hashes: dict[tuple, str] = {}
        # an empty graph (this load holds the lock, so it stays empty) has no hashes to read
        if self._read(q.has_nodes):
            for chunk in _chunks([n.id for n in nodes]):
                node_hashes.update(self._read(q.node_hashes, list(chunk)))
            sources = list(dict.fromkeys(r.source_id for r in rels))
            for chunk in _chunks(sources):
                rel_hashes.update(self._read(q.relationship_hashes, list(chunk)))
        # nothing stored yet (an empty graph, or none of these ids): every row is new, and
        # counting or looking each up says nothing more (1 s of 5 before sending at 100k)
        fresh = not node_hashes and not rel_hashes
        summary = (WriteSummary(len(nodes), 0, 0, len(rels), 0, 0) if fresh
                   else summarise(nodes, rels, node_hashes, rel_hashes))

        # Unchanged rows are not sent at all: reloading the same data writes nothing.  Rows
        # the store does not have yet are created, the others updated (see queries.graph).
        by_kind: dict[tuple[NodeKind, bool], list[dict]] = defaultdict(list)
        # "New" means absent from the store, not merely without a hash (written by something
        # else): those are MERGEd like changed rows, never duplicated.
        for node in nodes:
            old = node_hashes.get(node.id, _ABSENT)
            if old != node.props[CONTENT_HASH]:
                by_kind[node.kind, old is _ABSENT].append(node.props)
        by_type: dict[tuple[RelType, bool], list[dict]] = defaultdict(list)
        for rel in rels:
            old = (_ABSENT if fresh else
                   rel_hashes.get((rel.source_id, rel.type.value, rel.target_id), _ABSENT))
            if old != rel.props[CONTENT_HASH]:
                by_type[rel.type, old is _ABSENT].append(
                    {"source": rel.source_id, "target": rel.target_id,
                     "props": _strip_derived(rel.source_id, rel.type.value, rel.target_id,
                                             rel.props)})
        if progress:
            progress(len(nodes) + len(rels) - sum(map(len, by_kind.values()))
                     - sum(map(len, by_type.values())))
        stamp = now_iso()

        def work(tx: neo4j.ManagedTransaction) -> None:
            for (kind, new), rows in by_kind.items():
                for chunk in _chunks(rows):
                    q.upsert_nodes(tx, kind, list(chunk), stamp, new=new)
                    if progress:
                        progress(len(chunk))
            for (rel_type, new), rows in by_type.items():
                for chunk in _chunks(rows):
                    q.upsert_relationships(tx, rel_type, list(chunk), stamp, new=new)
                    if progress:
                        progress(len(chunk))

        if by_kind or by_type:
            rows = sum(map(len, by_kind.values())) + sum(map(len, by_type.values()))
            budget = self.transaction_budget()
            if rows <= COMMIT_ROWS and (budget is None
                                        or rows * TX_BYTES_PER_ROW_AT_LEAST <= budget):
                self._write_once(work, rows)  # one transaction: readers wait only for its commit
                return summary
            per_commit = self._rows_per_commit()
            if per_commit < MIN_COMMIT_ROWS:
                raise too_big(rows, budget or 0, self._on_local_server)
            size = min(BATCH_SIZE, per_commit)
            node_steps: list[tuple[int, object]] = []
            for (kind, new), node_rows in by_kind.items():
                for chunk in _chunks(node_rows, size):
                    node_steps.append((len(chunk), functools.partial(
                        q.upsert_nodes, kind=kind, rows=list(chunk), loaded_at=stamp, new=new)))
            rel_steps: list[tuple[int, object]] = []
            for (rel_type, new), rel_rows in by_type.items():
                for chunk in _chunks(rel_rows, size):
                    rel_steps.append((len(chunk), functools.partial(
                        q.upsert_relationships, rel=rel_type, rows=list(chunk),
                        loaded_at=stamp, new=new)))
            # relationships after all their nodes: a batch of them only MATCHes its ends
            self._write_batched([node_steps, rel_steps], per_commit,
                                self._journal(by_kind, by_type), progress)
        return summary

    def _rows_per_commit(self) -> int:
        """Rows per transaction of a batched load: :data:`COMMIT_ROWS`, or what half the
        server's transaction memory holds at :data:`TX_BYTES_PER_ROW` (a 10k batch of
        relationships once took 5.2 KB a row)."""
        budget = self.transaction_budget()
        return COMMIT_ROWS if budget is None else min(COMMIT_ROWS,
                                                      budget // (2 * TX_BYTES_PER_ROW))

    def _journal(self, by_kind: dict, by_type: dict) -> Image:
        """What a batched load will change, as it is now: ``None`` for what it creates (a
        relationship with a new end goes with that node), the current properties of what
        it changes.  Its rollback restores exactly this."""
        new_nodes = {row["id"] for (_, new), rows in by_kind.items() if new for row in rows}
        changed_nodes = [row["id"] for (_, new), rows in by_kind.items() if not new
                         for row in rows]
        changed_rels: list[RelKey] = []
        new_rels: list[RelKey] = []
        for (rel_type, new), rows in by_type.items():
            for row in rows:
                key = (row["source"], rel_type, row["target"])
                if not new:
                    changed_rels.append(key)
                elif row["source"] not in new_nodes and row["target"] not in new_nodes:
                    new_rels.append(key)
        image = (self.image(changed_nodes, changed_rels) if changed_nodes or changed_rels
                 else Image({}, {}))
        image.nodes.update(dict.fromkeys(new_nodes))
        image.rels.update(dict.fromkeys(new_rels))
        return image

    def _write_batched(self, phases: list[list[tuple[int, object]]], per_commit: int,
                       journal: Image, progress: Progress | None) -> None:
        """Commit each phase's steps (``(rows, fn(tx))``) about ``per_commit`` rows a
        transaction, a phase only once the one before it is committed whole, unseen by
        readers until published; a failure rolls back what was committed.

        The journal (``journal``, saved before the first batch) and the graph node's
        ``loading`` mark are written in one transaction; readers wait while the mark is set
        (:meth:`_read`), so they see the graph before or after the load, never between.
        Publishing bumps the version and clears mark and journal in one transaction.  If
        this process dies meanwhile, the next holder of the load lock rolls the batches back
        from the journal (:meth:`_recover_interrupted`) and readers are told so meanwhile.

        A phase of at least :data:`PARALLEL_ROWS` rows and more than one transaction is
        committed from :data:`SESSIONS` sessions at once (:meth:`_commit_groups`): the
        journal does not depend on the order batches land in, so the rollback is the same.
        """
        token = self._lock_token
        assert token is not None, "writes run inside load_lock()"
        self._write(self._begin, token, _pack(journal))
        try:
            for steps in phases:
                groups = _commit_groups_of(steps, per_commit)
                sessions = (SESSIONS if len(groups) > 1
                            and sum(size for _, size in groups) >= PARALLEL_ROWS else 1)
                self._commit_groups(groups, sessions, progress)
            if not self._write(self._publish, token):
                raise StoreBusyError("this load lost its hold on the Neo4j database's load"
                                     " lock before publishing; nothing was written — load again")
        except BaseException as exc:
            try:
                if self._roll_back(token):
                    if isinstance(exc, KeyboardInterrupt):
                        exc.add_note("The load was interrupted; the batches it had committed"
                                     " are rolled back: nothing of it was written.")
                elif isinstance(exc, KeyboardInterrupt) and self._write(self._published, token):
                    exc.add_note("The load's rows had landed before the interrupt: it had"
                                 " been published to the Neo4j database (anything the load"
                                 " was to do next was not done).")
            except StoreBusyError:  # its lock was taken over: the new holder rolls it back
                exc.add_note("The load that took the lock over rolls back the batches this"
                             " one had committed.")
            except Exception as failure:  # the load's own error is raised below
                # e.g. the server went away, or Ctrl-C left the connection half-read: the
                # journal stays, readers are held off, and the next load rolls it back.
                exc.add_note(f"Rolling back the batches already committed failed too"
                             f" ({failure}); the next load rolls them back.")
            raise

    def _begin(self, tx: neo4j.ManagedTransaction, token: str, journal: bytes) -> None:
        """Save this batched load's journal and mark, checked as its batches are: after its
        lock was taken over, they would replace the new holder's, and this load's rollback
        would then clear them in the middle of that holder's load (its batches seen by
        readers, and nothing left to roll them back with)."""
        self._check_still_locked(tx, fence=0)
        q.begin_batched_load(tx, token, journal)

    def _publish(self, tx: neo4j.ManagedTransaction, token: str) -> bool:
        """Publish this batched load, checked as its batches are: after its lock was taken
        over, the new holder's recovery may be rolling it back, and publishing then would
        show readers a half-rolled-back graph (and tell this load it had landed).

        Nothing to publish while the lock is still this load's means an earlier run of this
        transaction published it (it committed, its reply was lost, and the driver ran it
        again: the journal is gone with the mark): the load landed.  Nothing else clears
        the mark and journal of a load that holds the lock."""
        published = q.publish_batched_load(tx, token)
        self._check_still_locked(tx, fence=0)
        return published or q.load_journal(tx) is None

    def _published(self, tx: neo4j.ManagedTransaction, token: str) -> bool:
        """Whether this batched load, which still holds the lock (checked first), has been
        published: its journal is gone (see :meth:`_publish`)."""
        self._check_still_locked(tx, fence=0)
        return q.load_journal(tx) is None

    def _commit_groups(self, groups: list[tuple[list, int]], sessions: int,
                       progress: Progress | None) -> None:
        """Commit ``groups`` (``(steps, rows)``, one transaction each) from ``sessions``
        sessions, each taking the next group when it is done.  The first failure stops the
        others taking more; it is raised only once every session has finished the
        transaction it was in, so a rollback never runs beside a late commit."""
        if sessions <= 1:
            for group, rows in groups:
                self._commit_batch(group, rows, progress)
            return
        todo = list(reversed(groups))
        taking = threading.Lock()
        failures: list[BaseException] = []
        report = progress
        if report is not None:
            reporting = threading.Lock()

            def one_at_a_time(count: int) -> None:  # e.g. a progress bar
                with reporting:
                    report(count)

            progress = one_at_a_time

        def session_work(session: int = 0) -> None:
            while True:
                with taking:
                    if failures or not todo:
                        return
                    group, rows = todo.pop()
                try:
                    self._commit_batch(group, rows, progress, fence=session)
                except BaseException as exc:  # raised by the load, below
                    with taking:
                        failures.append(exc)
                    return

        workers = [threading.Thread(target=session_work, args=(i,), name=f"pathways-load-{i}",
                                    daemon=True)
                   for i in range(1, sessions)]
        for worker in workers:
            worker.start()
        try:
            session_work()  # this thread is one of the sessions
        except BaseException:  # Ctrl-C: the others stop after the transaction they are in
            with taking:
                todo.clear()
            raise
        finally:
            for worker in workers:
                worker.join()
        if failures:
            raise failures[0]

    def _commit_batch(self, group: list, rows: int, progress: Progress | None,
                      fence: int = 0) -> None:
        """One transaction of a batched load, from the load's session number ``fence`` (it
        checks the lock through that session's fence node).  Run again (at most
        :data:`DEADLOCK_RETRIES` times) if Neo4j rolled it back for a deadlock with another
        session of the load."""
        reported = 0
        for attempt in range(DEADLOCK_RETRIES + 1):
            try:
                with (self.driver.session(database=self.settings.database) as session,
                      session.begin_transaction() as tx):
                    for number, (count, step) in enumerate(group):
                        step(tx)
                        if progress and number >= reported:
                            progress(count)
                            reported = number + 1
                    self._check_still_locked(tx, fence)
                    tx.commit()
                return
            except TransientError as exc:
                if is_memory_error(exc) or attempt == DEADLOCK_RETRIES:
                    raise write_refused(exc, rows, self._on_local_server) from exc
                self.load_retries += 1  # nothing of it was committed: run it again
            except DriverError as exc:
                raise StoreUnavailableError(
                    f"lost the connection to Neo4j during a load ({exc}); what it had written"
                    " is rolled back, or held back from readers until the next load does"
                ) from exc
            except Neo4jError as exc:
                raise write_refused(exc, rows, self._on_local_server) from exc

    def _roll_back(self, owner: str) -> bool:
        """Restore a batched load's journal batch by batch (each step is idempotent, so a
        rollback cut short is simply run again), then clear its mark.  False: no journal."""
        found = self._write(q.load_journal)
        if found is None or found[0] != owner:
            return False
        per_commit = max(self._rows_per_commit(), 1)
        size = min(BATCH_SIZE, per_commit)
        steps = self._restore_steps(_unpack(found[1]), size)
        per = max(1, per_commit // size)
        for start in range(0, len(steps), per):
            self._write(self._restore_batch, steps[start : start + per])
        self._write(self._end_rollback, owner)
        return True

    def _restore_batch(self, tx: neo4j.ManagedTransaction, group: list) -> None:
        """One transaction of a rollback, only while this process holds the lock (checked
        first: a load whose lock was taken over would otherwise go on restoring its journal
        beside, or after, the new holder's recovery and the load that follows it, putting
        back the old values over that load's committed rows)."""
        self._check_still_locked(tx, fence=0)
        for step in group:
            step(tx)

    def _end_rollback(self, tx: neo4j.ManagedTransaction, owner: str) -> None:
        """Clear a rolled-back load's mark and journal, checked as its steps are."""
        self._check_still_locked(tx, fence=0)
        q.publish_batched_load(tx, owner)

    def _recover_interrupted(self) -> None:
        """Under a newly taken load lock: roll back a batched load that died unpublished."""
        found = self._write(q.load_journal)
        if found is not None and found[0] != self._lock_token:
            self._roll_back(found[0])

    def restore(self, image: Image) -> None:
        """One transaction, as a load is (and under the load lock, readers waiting while it
        commits)."""
        steps = self._restore_steps(image)

        def work(tx: neo4j.Transaction) -> None:
            for step in steps:
                step(tx)

        with self.load_lock("an undo"):
            self._write_once(work, len(image.nodes) + len(image.rels))

    @staticmethod
    def _restore_steps(image: Image, size: int = BATCH_SIZE) -> list:
        """Steps ``fn(tx)`` of at most :data:`BATCH_SIZE` rows that make the graph hold
        ``image``: nodes first, then relationships dropped and put back, then the nodes it
        gives as ``None`` deleted (with their relationships).  Each is idempotent."""
        keep: dict[NodeKind, list[dict]] = defaultdict(list)
        for node_id, state in image.nodes.items():
            if state is not None:
                keep[state[0]].append({"id": node_id, "props": state[1]})
        gone_nodes = [n for n, state in image.nodes.items() if state is None]
        gone = set(gone_nodes)
        put: dict[RelType, list[dict]] = defaultdict(list)
        drop: dict[RelType, list[dict]] = defaultdict(list)
        for (source, rel, target), props in image.rels.items():
            if props is None and (source in gone or target in gone):
                continue  # deleting its node deletes it (DETACH DELETE)
            stored = None if props is None else _strip_derived(source, rel.value, target, props)
            row = {"source": source, "target": target, "props": stored or {}}
            (drop if props is None else put)[rel].append(row)
        steps: list = []
        for kind, rows in keep.items():
            steps += [functools.partial(qh.restore_nodes, kind=kind, rows=list(chunk))
                      for chunk in _chunks(rows, size)]
        for rel, rows in drop.items():
            steps += [functools.partial(qh.delete_relationships, rel=rel, rows=list(chunk))
                      for chunk in _chunks(rows, size)]
        for rel, rows in put.items():
            steps += [functools.partial(qh.restore_relationships, rel=rel, rows=list(chunk))
                      for chunk in _chunks(rows, size)]
        steps += [functools.partial(qh.delete_nodes, ids=list(chunk))
                  for chunk in _chunks(gone_nodes, size)]
        return steps
