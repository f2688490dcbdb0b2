"""The Neo4j store: the official driver, read transactions for reads, batched writes.

Constraints are created before the first write.  Writes are ``UNWIND $rows`` batches of
:data:`BATCH_SIZE` rows, never a round trip per row.  Every query is a named constant in
:mod:`queries`.  The write side (loads in one transaction or batch by batch, their journal
and rollback, an undo's restore) is :class:`pathways.store.neo4j_load.Neo4jLoads`, which
:class:`Neo4jStore` inherits; its module says how a load is never half-visible.

Readers wait while a load commits: Neo4j applies a commit's changes one by one, and a
reader running meanwhile could see some of them, so a load marks the graph node as
committing (or, batch by batch, ``loading``) and every read transaction checks that mark
and the version before and after its query, waiting while a load commits and running again
if one committed meanwhile (:func:`_between_commits`).

One writer at a time: :meth:`Neo4jStore.load_lock` is a lease on one ``PathwaysMeta`` node
(owner, host, pid, expiry on the server's clock), renewed by a heartbeat thread while the
load runs; a lease whose owner died on this host, or that expired, is taken over.  A load's
write transactions check that it still holds the lease just before committing (a batched
load's through one fence node per session, which taking the lease waits on: see
:meth:`~pathways.store.neo4j_load.Neo4jLoads._check_still_locked`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple
from urllib.parse import urlsplit

import neo4j
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, DriverError, Neo4jError, ServiceUnavailable

from pathways.config import Neo4jSettings, local_server_state
from pathways.errors import StoreBusyError, StoreUnavailableError
from pathways.gcpause import gc_paused
from pathways.graphs import Snapshot, build_snapshot
from pathways.model import NodeKind, RelType
from pathways.processes import alive, idle_cores
from pathways.store.base import Image, PathNode, PathwayFilter, RelKey, T
from pathways.store.neo4j_load import (  # noqa: F401  (importable from here, as before)
    BATCH_SIZE,
    COMMIT_ROWS,
    MIN_COMMIT_ROWS,
    TX_BYTES_PER_ROW,
    TX_BYTES_PER_ROW_AT_LEAST,
    Neo4jLoads,
    _chunks,
    _server_says,
    _strip_derived,
    is_memory_error,
    parse_bytes,
    too_big,
    write_refused,
)
from queries import graph as q
from queries import history as qh
from queries import pathways as qp

log = logging.getLogger(__name__)

LOCK_LEASE_SECONDS = 600.0  # a load holding the lock renews it every tenth of this
COMMIT_WAIT_SECONDS = 300.0  # how long a read waits for a load's commit (100k: about 25 s)
RESET_BATCH = 10_000  # nodes a reset deletes per transaction
SNAPSHOT_SESSIONS = 2  # read transactions reading the snapshot at once (one core each)
#   when as many cores are idle (see Neo4jStore._snapshot_sessions)


def _between_commits(tx: neo4j.ManagedTransaction, fn, args,
                     versioned: bool = False) -> tuple[object, bool, bool]:
    """``fn(tx, *args)`` (``fn(tx, version, *args)`` if ``versioned``: the data version the
    check before it read), whether no load was committing before or while it ran, and
    whether a batch-by-batch load is unpublished (its batches must not be seen)."""
    before = q.graph_state(tx)
    if before[1] or before[2] is not None:
        return None, False, before[2] is not None
    if fn is None:  # the version alone: the state read is the check (one query, not three)
        return before[0], True, False
    result = fn(tx, before[0], *args) if versioned else fn(tx, *args)
    if isinstance(result, _StateRead):  # fn's last query read the state after all its reads
        read = result
        result, after = read.result, read.state
    else:
        after = q.graph_state(tx)
    return result, after == before, after[2] is not None


class _StateRead(NamedTuple):
    """What :meth:`Neo4jStore.consistent`'s ``fn`` returned, and the graph's state that the
    last of its queries read after everything else it read (the check after, for free)."""

    result: object
    state: tuple


def _interrupted_message(holder: dict) -> str:
    return ("a load into this Neo4j database was interrupted part-way"
            f" ({holder.get('what') or 'a load'}, pid {holder.get('pid')} on host"
            f" {holder.get('host')}); its changes are held back from readers until the next"
            " load rolls them back: run the load again (the same files complete it)")


def _lock_owner() -> tuple[str, str, int]:
    return uuid.uuid4().hex, socket.gethostname(), os.getpid()


def _stale(holder: dict) -> bool:
    """A lease that expired, or whose owner was a process on this host that has ended."""
    if holder["expires_in_ms"] is None or holder["expires_in_ms"] < 0:
        return True
    same_host = holder["host"] == socket.gethostname()
    return same_host and holder["pid"] != os.getpid() and not alive(int(holder["pid"]))


def _busy_message(holder: dict, where: str) -> str:
    started = holder.get("started")
    at = (dt.datetime.fromtimestamp(started / 1000).strftime("%H:%M") if started
          else "at an unknown time")
    return (f"another load is running on this store ({where}: {holder.get('what') or 'a load'},"
            f" started {at} by pid {holder.get('pid')} on host {holder.get('host')});"
            " nothing was written — try again when it finishes")


class Neo4jStore(Neo4jLoads):
    name = "neo4j"

    def __init__(self, settings: Neo4jSettings):
        self.settings = settings
        try:
            self.driver = GraphDatabase.driver(
                settings.uri,
                auth=(settings.user, settings.password),
                connection_timeout=10,
                # Planner hints such as "label does not exist yet" on an empty graph are
                # noise for users of a CLI or the app.
                notifications_min_severity="OFF",
            )
            self.driver.verify_connectivity()
        except AuthError as exc:
            raise StoreUnavailableError(
                f"Neo4j at {settings.uri} refused user {settings.user!r}: check NEO4J_USER and"
                " NEO4J_PASSWORD"
            ) from exc
        except (ServiceUnavailable, DriverError, Neo4jError, OSError, ValueError) as exc:
            raise StoreUnavailableError(
                f"cannot reach Neo4j at {settings.uri} ({exc}). Is it running? Start a local one"
                " with `pathways neo4j start`, or set NEO4J_URI"
            ) from exc
        self._constraints_made = False
        self._history_constraint_made = False
        local = local_server_state()
        self._on_local_server = local is not None and local.get("uri") == settings.uri
        self.lock_lease_seconds = LOCK_LEASE_SECONDS
        self._lock_token: str | None = None
        self._lock_thread: int | None = None
        self._heartbeat_failure: str | None = None
        self._budget: int | None = None
        self._budget_read = False
        self._pinned = threading.local()  # the read transaction consistent() holds, per thread

    def describe(self) -> str:
        return f"neo4j store ({self.settings.uri}, database {self.settings.database!r})"

    def close(self) -> None:
        self.driver.close()

    def reopen(self) -> None:
        """A new connection pool after :meth:`close`: connections cannot be shared across a
        fork, so each web worker process opens its own (``pathways serve --workers``)."""
        self.driver = Neo4jStore(self.settings).driver

    def _read(self, fn, *args, versioned: bool = False):
        """One read transaction that sees the graph before or after any load, never between.

        It waits while a load is committing (Neo4j lets readers see a commit half applied),
        and runs again if one committed while it ran.  Inside :meth:`consistent` it runs in
        the read transaction that holds (checked once, around all of them), and the version
        is the one that check read (no query: a commit meanwhile makes the whole run again).
        """
        pinned = getattr(self._pinned, "tx", None)
        if pinned is not None:
            if fn is None:
                return self._pinned.version
            self._pinned.state_after = None  # a read after the last state read
            return fn(pinned, *args)
        deadline = time.monotonic() + COMMIT_WAIT_SECONDS
        while True:
            try:
                with self.driver.session(database=self.settings.database) as session:
                    result, clean, loading = session.execute_read(_between_commits, fn, args,
                                                                  versioned)
            except DriverError as exc:
                raise StoreUnavailableError(f"lost the connection to Neo4j: {exc}") from exc
            except Neo4jError as exc:
                raise StoreUnavailableError(f"Neo4j could not answer: {_server_says(exc)}") from exc
            if clean:
                return result
            if loading:
                self._raise_if_interrupted()
            if time.monotonic() > deadline:
                raise StoreBusyError(
                    f"a load has been committing to Neo4j for over {COMMIT_WAIT_SECONDS:.0f} s;"
                    " try again when it finishes")
            time.sleep(0.05)

    def _raise_if_interrupted(self) -> None:
        """Readers are held off while a batched load is unpublished; if that load died (its
        lock is stale or gone), say so at once rather than wait."""
        try:
            with self.driver.session(database=self.settings.database) as session:
                holder = session.execute_read(q.interrupted_by)
        except (DriverError, Neo4jError) as exc:
            raise StoreUnavailableError(f"lost the connection to Neo4j: {exc}") from exc
        if holder is None:
            return
        if holder.get("owner") != holder["loading"] or _stale(holder):
            raise StoreBusyError(_interrupted_message(holder))

    def _write(self, fn, *args):
        """A small write (constraints, versions, the lock), retried by the driver if transient."""
        try:
            with self.driver.session(database=self.settings.database) as session:
                return session.execute_write(fn, *args)
        except DriverError as exc:
            raise StoreUnavailableError(f"lost the connection to Neo4j: {exc}") from exc
        except Neo4jError as exc:
            raise write_refused(exc, 0, self._on_local_server) from exc

    def ensure_constraints(self) -> None:
        if not self._constraints_made:
            self._write(q.create_constraints)
            self._constraints_made = True

    def after_bulk_import(self) -> None:
        """After neo4j-admin built the database: the constraints, and a new data version."""
        self.ensure_constraints()
        self._write(q.bump_graph_version)

    # ---- writing -----------------------------------------------------------------------
    def existing_kinds(self, ids: Iterable[str]) -> dict[str, NodeKind]:
        ids = list(dict.fromkeys(ids))
        found: dict[str, NodeKind] = {}
        for chunk in _chunks(ids):
            found.update(self._read(q.kinds_of_ids, list(chunk)))
        return found

    def reset(self) -> None:
        """Delete every node (in batches), holding the load lock: never during a load.
        Readers wait meanwhile, as during a load's commit."""
        with self.load_lock("emptying the store"):
            token = self._lock_token
            self._write(self._announce_commit, token)
            try:
                while self._write(self._delete_batch, RESET_BATCH):
                    pass
                self._write(self._bump_version)
            finally:
                self._write(q.end_commit, token)

    def _announce_commit(self, tx: neo4j.ManagedTransaction, token: str) -> None:
        """A reset's commit mark, only while this process holds the load lock (checked
        first: a reset whose lock was taken over would otherwise overwrite the new holder's
        mark while it commits, then clear it in its ``finally``, and readers could see that
        holder's commit half applied)."""
        self._check_still_locked(tx, fence=0)
        q.announce_commit(tx, token)

    def _delete_batch(self, tx: neo4j.ManagedTransaction, limit: int) -> int:
        """Delete up to ``limit`` nodes while this process holds the load lock (checked first:
        a reset whose lock was taken over would otherwise go on emptying the graph under
        the load that took it, after that load was reported landed)."""
        self._check_still_locked(tx, fence=0)
        deleted = q.delete_batch(tx, limit)
        if deleted:  # the graph changed: a reset cut short is kept in the history, undoable
            q.bump_graph_version(tx)
        return deleted

    def _bump_version(self, tx: neo4j.ManagedTransaction) -> None:
        """A reset's version bump, only while this process holds the load lock (checked
        first: a reset whose lock was taken over after its last deletion would otherwise
        report the store emptied while the load that took it over had landed)."""
        self._check_still_locked(tx, fence=0)
        q.bump_graph_version(tx)

    def ids_from_sources(self, sources: Sequence[str]) -> set[str]:
        return self._read(q.ids_from_sources, list(sources))

    def retire(self, ids: Sequence[str], remove: bool, stamp: str) -> None:
        if ids:
            with self.load_lock("retiring records gone from a feed"):
                self._write_once(lambda tx: q.retire(tx, list(ids), remove, stamp), len(ids))

    def relationships_from(self, ids: Sequence[str]) -> list[tuple[str, RelType, str, dict]]:
        found: list[tuple[str, RelType, str, dict]] = []
        for chunk in _chunks(list(dict.fromkeys(ids))):
            found.extend(self._read(q.relationships_from, list(chunk)))
        return sorted(found, key=lambda e: (e[0], e[1].value, e[2]))

    def unlink(self, keys: Sequence[tuple[str, RelType, str]]) -> None:
        if keys:
            with self.load_lock("removing relationships"):
                self._write_once(lambda tx: q.unlink(tx, list(keys)), len(keys))

    # ---- load history and undo (pathways.history) ------------------------------------------
    def image(self, node_ids: Iterable[str], rel_keys: Iterable[RelKey],
              whole_ids: Iterable[str] = ()) -> Image:
        wanted_rels = set(rel_keys)
        whole = sorted(set(whole_ids))
        ids = sorted(set(node_ids) | set(whole))
        sources = sorted({source for source, _, _ in wanted_rels} | set(whole))

        def read(tx: neo4j.ManagedTransaction) -> Image:
            nodes: dict[str, tuple[NodeKind, dict] | None] = dict.fromkeys(ids)
            for chunk in _chunks(ids):
                for node_id, kind, props in tx.run(q.SNAPSHOT_NODES, ids=list(chunk)).single(
                        strict=True)["rows"]:
                    nodes[node_id] = (NodeKind(kind), props)
            rels: dict[RelKey, dict | None] = dict.fromkeys(wanted_rels)
            whole_set = set(whole)
            for chunk in _chunks(sources):
                for source, rel, target, props in tx.run(
                        q.SNAPSHOT_RELATIONSHIPS, ids=list(chunk)).single(strict=True)["rows"]:
                    key = (source, RelType(rel), target)
                    if key in rels or source in whole_set:
                        rels[key] = props
            for chunk in _chunks(whole):
                for source, rel, target, props in qh.relationships_into(tx, list(chunk)):
                    rels[source, RelType(rel), target] = props
            return Image(nodes, rels)

        return self._read(read)

    def history_records(self) -> list[dict]:
        return [json.loads(text) for text in self._read(qh.list_loads)]

    def history_image(self, load_id: str) -> bytes | None:
        return self._read(qh.load_image, load_id)

    def save_history(self, record: dict, image: bytes | None = None) -> None:
        if not self._history_constraint_made:
            self._write(qh.create_constraint)
            self._history_constraint_made = True
        self._write(qh.save_load, record["id"], int(record["seq"]), json.dumps(record), image)

    def drop_history(self, load_id: str) -> None:
        self._write(qh.drop_load, load_id)

    # ---- one writer at a time ------------------------------------------------------------
    @contextlib.contextmanager
    def load_lock(self, what: str = "a load") -> Iterator[None]:
        """Hold this database's load lock (a lease on one ``PathwaysMeta`` node) for a load.

        Raises :class:`~pathways.errors.StoreBusyError` at once, naming the holder, if
        another load holds it.  A holder on this host whose process is gone, or whose lease
        (:attr:`lock_lease_seconds`, renewed every tenth of it) expired, is taken over.
        Re-entrant in the thread that holds it (a reset inside a load).
        """
        if self._lock_token is not None and self._lock_thread == threading.get_ident():
            yield
            return
        token, host, pid = _lock_owner()
        lease_ms = int(self.lock_lease_seconds * 1000)

        def acquire(tx: neo4j.ManagedTransaction) -> dict | None:
            holder = q.lock_holder(tx)
            if holder is not None and not _stale(holder):
                return holder
            q.take_lock(tx, token, host, pid, what, lease_ms)
            # before anything is rolled back: wait out a batch of a load taken over that is
            # in the middle of its check (see pathways.store.neo4j_load, _check_still_locked)
            q.fence_all(tx)
            return None

        self.ensure_constraints()
        holder = self._write(acquire)
        if holder is not None:
            where = f"the Neo4j database {self.settings.database!r} at {self.settings.uri}"
            raise StoreBusyError(_busy_message(holder, where))
        self._lock_token, self._lock_thread = token, threading.get_ident()
        self._heartbeat_failure = None
        stop = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(token, lease_ms, stop),
                                name="pathways-load-lock", daemon=True)
        beat.start()
        try:
            self._recover_interrupted()
            yield
        except BaseException as exc:
            self._release_lock(token, stop, beat, what, exc)
            raise
        self._release_lock(token, stop, beat, what, None)

    def _release_lock(self, token: str, stop: threading.Event, beat: threading.Thread,
                      what: str, failed: BaseException | None) -> None:
        """Stop the heartbeat and release the lock.  If releasing fails (the server went
        away), the load's own error ``failed`` is still the one raised, with the release's
        failure noted on it and logged; after a load that succeeded, the error says that it
        landed and what becomes of the lock."""
        stop.set()
        beat.join()
        self._lock_token = self._lock_thread = None
        try:
            self._write(q.release_lock, token)
        except StoreUnavailableError as failure:
            expiry = (f"it expires within {self.lock_lease_seconds / 60:.0f} minutes (sooner"
                      " for a load on this host once this process has ended), and other loads"
                      " wait until then")
            log.warning("releasing the Neo4j load lock after %s failed (%s); %s", what,
                        failure, expiry)
            if failed is not None:
                failed.add_note(f"Releasing the Neo4j load lock failed too ({failure});"
                                f" {expiry}.")
                return
            raise StoreUnavailableError(
                f"{what[:1].upper()}{what[1:]} is done: its changes landed in the Neo4j"
                f" database. But releasing its load lock then failed ({failure}); {expiry}."
            ) from failure

    def _heartbeat(self, token: str, lease_ms: int, stop: threading.Event) -> None:
        """Renew the lease until the load ends; a failure is reported by the load's commit."""
        while not stop.wait(self.lock_lease_seconds / 10):
            try:
                if not self._write(q.renew_lock, token, lease_ms):
                    self._heartbeat_failure = "another load took the lock over"
                    return
            except StoreUnavailableError as exc:
                self._heartbeat_failure = str(exc)

    def version(self) -> object:
        return self._read(None)

    def consistent(self, fn: Callable[[], T], attempts: int = 5) -> T:
        """Run ``fn`` (several reads) in one read transaction, so that all of it sees one
        version of the graph: the load checks (:func:`_between_commits`) run once around all
        of its reads instead of around each, and a cluster serves it from one reader.  Runs
        again if a load committed meanwhile, at most ``attempts`` times.

        Inside it :meth:`version` is the version that check read, with no query of its own,
        so a call cached per version (:func:`pathways.analysis.snapshot.cached_per_version`
        inside ``fn``) is one transaction whether it finds its answer or computes it; and
        when ``fn``'s last read is the pathway query, which reads the graph's state last, that
        is the check after (a pathways call: two queries, one round trip each)."""
        if getattr(self._pinned, "tx", None) is not None:
            return fn()  # already inside one
        runs = 0

        def run(tx: neo4j.ManagedTransaction, version: int) -> T | _StateRead:
            nonlocal runs
            runs += 1
            if runs > attempts:
                raise StoreBusyError(
                    "the data kept changing while it was read (loads are running); try again")
            self._pinned.tx, self._pinned.version, self._pinned.nodes = tx, version, {}
            self._pinned.state_after = None
            try:
                result = fn()
                after = self._pinned.state_after
                return result if after is None else _StateRead(result, after)
            finally:
                self._pinned.tx = self._pinned.version = self._pinned.nodes = None
                self._pinned.state_after = None

        return self._read(run, versioned=True)

    def snapshot(self) -> Snapshot:
        return self._snapshot(lean=False)

    def analysis_snapshot(self) -> Snapshot:
        """:meth:`snapshot` with each relationship's properties minus its provenance and
        hash (:data:`queries.graph.RELATIONSHIP_PROVENANCE`), which analyses never read:
        less for the server to read and for us to decode (benchmarks/snapshot_read.py).
        Read the same way, in the same parts, with the same version checks."""
        return self._snapshot(lean=True)

    def _snapshot(self, lean: bool) -> Snapshot:
        with gc_paused():
            if getattr(self._pinned, "tx", None) is not None:  # inside consistent(): its one
                nodes, rels = self._read(q.snapshot, lean)
            else:
                nodes, rels = self._snapshot_rows(lean=lean)
            return build_snapshot(nodes, rels)

    def _snapshot_sessions(self) -> int:
        """:data:`SNAPSHOT_SESSIONS` on a remote server (its cores are not ours to count); on
        this machine's, that many only if as many cores are idle now (measured over a moment,
        :func:`pathways.processes.idle_cores`), else one: at 100k on a busy 2-core box two
        transactions took 5-20 % more of the server's CPU for no gain in wall time."""
        host = urlsplit(self.settings.uri).hostname or ""
        if host not in {"localhost", "127.0.0.1", "::1"}:
            return SNAPSHOT_SESSIONS
        idle = idle_cores()
        return SNAPSHOT_SESSIONS if idle is not None and idle >= SNAPSHOT_SESSIONS - 0.5 else 1

    def _snapshot_rows(self, sessions: int | None = None,
                       lean: bool = False) -> tuple[list, list]:
        """The snapshot's nodes and relationships, read from ``sessions`` read transactions
        at once, each an equal run of the sorted ids (the same rows in the same order as one
        transaction reads them: each query gives its ids' rows in the order of the ids).
        Most of the read is the server's work, one core per transaction (at 100k, 464k
        relationships: about 3 s of the server's CPU and 2.5 s of ours), so on an idle second
        core two transactions overlap it; on a busy machine they cannot gain
        (benchmarks/snapshot_read.py); by default :meth:`_snapshot_sessions` decides.

        Each transaction is one committed version (:meth:`_read`); if they do not all see
        the version the ids were read at, a load committed meanwhile, and the whole read runs
        again (at most five times), so the parts never mix two versions.  ``lean``: the
        relationships without their provenance (:meth:`analysis_snapshot`).
        """
        for _ in range(5):
            version, ids = self._read(q.snapshot_ids, versioned=True)
            if len(ids) <= q.SNAPSHOT_CHUNK:
                return self._read(q.snapshot, lean)  # (one transaction: its own ids)
            split = max(1, self._snapshot_sessions() if sessions is None else sessions)
            parts = [ids[len(ids) * k // split : len(ids) * (k + 1) // split]
                     for k in range(split)]

            def read_part(part: list[str]) -> tuple[object, list, list]:
                return self._read(q.versioned_snapshot_part, part, lean, versioned=True)

            if split == 1:
                read = [read_part(ids)]
            else:
                with ThreadPoolExecutor(split, thread_name_prefix="snapshot") as pool:
                    read = list(pool.map(read_part, parts))
            if all(seen == version for seen, _, _ in read):
                return ([n for _, found, _ in read for n in found],
                        [r for _, _, found in read for r in found])
        raise StoreBusyError(
            "the data kept changing while it was read (loads are running); try again")

    # ---- reading -----------------------------------------------------------------------
    def stats(self) -> dict:
        return self._read(q.stats)

    def list_nodes(self, kind: NodeKind, role: str | None = None) -> list[dict]:
        return self._read(q.list_nodes, kind, role)

    def get_node(self, node_id: str) -> tuple[NodeKind, dict] | None:
        read = getattr(self._pinned, "nodes", None)  # by this transaction's pathway query
        if read and node_id in read:
            found = read[node_id]
            return None if found is None else (found[0], dict(found[1]))
        return self._read(q.get_node, node_id)

    def pathway_candidates(
        self, worker_id: str, max_hops: int, where: PathwayFilter
    ) -> list[list[PathNode]]:
        """The pathway query; it also reads the link worker and the filter's needs and
        locality, and inside :meth:`consistent` keeps them for :meth:`get_node`, so the
        analysis's checks of those ids cost no query of their own."""
        checked = [worker_id, *where.needs] + ([where.locality] if where.locality else [])
        paths, found, state_after = self._read(
            qp.pathways_from_link_worker,
            worker_id,
            max_hops,
            list(where.needs),
            where.locality,
            where.free_only,
            list(where.access),
            where.age,
            where.times,
            where.self_referral_only,
            checked,
        )
        read = getattr(self._pinned, "nodes", None)
        if read is not None:
            read.update(found)
            self._pinned.state_after = state_after  # read after all of the query's reads
        return paths

    def activity_details(self, activity_ids: Sequence[str]) -> dict[str, dict]:
        return self._read(q.activity_details, list(activity_ids))

    def relationships_among(self, ids: Sequence[str]) -> list[tuple[str, RelType, str]]:
        return self._read(q.relationships_among, list(ids))
