"""The embedded store: an in-memory networkx graph saved to one JSON file.

No server needed; it is the default.  The file lives at ``$PATHWAYS_HOME/graph.json`` so
separate CLI calls share it.

Safety, between processes and between the app's threads:

- **One writer at a time.**  A load (and any write, retire or reset) holds an OS file lock
  on ``graph.json.lock`` beside the graph; the lock file names the holder's pid and start
  time.  A second writer is refused at once with :class:`~pathways.errors.StoreBusyError`
  ("another load is running on this store ..."), never queued behind a stale plan.  The
  kernel drops the lock when its process dies, even by ``kill -9``.  Inside a process a
  re-entrant lock does the same for threads.  Having the lock, the writer re-reads the file,
  so it always writes on top of the latest graph.
- **Atomic saves.**  The graph is written to a temporary ``.graph-*.tmp`` beside it, fsynced,
  then renamed over the old file: a crash mid-save leaves the previous graph.  A failed save
  removes its temporary file; one left by a killed process is removed by the next writer
  (holding the lock, no temporary file can belong to a live writer).  A full disk or a
  read-only home gives :class:`~pathways.errors.StoreUnavailableError` in plain words, and
  the old file stays as it was.
- **Whole answers for readers.**  Each read re-reads the file if another process saved it
  (one parse per save, shared by all threads).  :meth:`EmbeddedStore.pinned` makes a thread
  keep the graph it has for a sequence of reads (``refresh`` is a no-op for it meanwhile),
  and :meth:`EmbeddedStore.consistent` is that pin: a request's several reads all see one
  graph, with no retries however often loads land.  :meth:`EmbeddedStore.version` is a
  ``stat`` of the file, no parse.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, NamedTuple, TypeVar

import networkx as nx
import orjson

from pathways.errors import StoreBusyError, StoreUnavailableError
from pathways.graphs import (
    Snapshot,
    per_snapshot,
    self_referral_entries,
)
from pathways.model import (
    CONTENT_HASH,
    NodeKind,
    NodeRecord,
    RelRecord,
    RelType,
    serves_whole_area,
    sessions_of,
)
from pathways.store.base import (
    GraphStore,
    Image,
    PathNode,
    PathwayFilter,
    Progress,
    RelKey,
    WriteSummary,
    now_iso,
    summarise,
)
from pathways.store.graphfile import parse_graph, pieces
from pathways.store.pathway_search import PathwayNode, best_parents, pathway_nodes

T = TypeVar("T")
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}
_NOT_A_FOLDER = {errno.ENOTDIR, errno.EEXIST}


def _signature(stat: os.stat_result) -> tuple:
    """Changes with every save: each save renames a new file (new inode) into place, so
    this does not depend on how finely the filesystem records modification times."""
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


class _View(NamedTuple):
    """One version of the graph as this process holds it."""

    graph: Snapshot
    signature: tuple | None  # of the file it was read from or saved as; None: no file
    generation: int  # bumped by every change this process sees


class EmbeddedStore(GraphStore):
    """A ``networkx.MultiDiGraph``: node attribute ``kind`` plus properties; edge key = type.

    One instance may be shared by threads (the app does): reads never see a graph being
    changed, because every change builds a new graph and swaps it in whole.
    """

    name = "embedded"

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path is not None else None
        self._view = _View(nx.MultiDiGraph(), None, 0)
        self._read_lock = threading.Lock()  # one parse per save, views swapped in order
        self._write_lock = threading.RLock()  # one writing thread; re-entrant for nesting
        self._depth = 0  # nesting of load_lock in the writing thread
        self._lock_fd: int | None = None
        self._holder: dict = {}
        self._owner: int | None = None  # thread ident of the writer
        self._pins = threading.local()
        self.refresh()

    def describe(self) -> str:
        where = self.path if self.path is not None else "memory only"
        return f"embedded store ({where})"

    @property
    def graph(self) -> Snapshot:
        """The current graph (read only: every write replaces it whole)."""
        return self._current().graph

    # ---- reading the file --------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the file if another process saved it since we last looked (not while
        this thread is :meth:`pinned`)."""
        if self._pinned_view() is None:
            self._latest()

    def _latest(self) -> _View:
        """The graph as the file now holds it (parsed once per save, whichever thread asks)."""
        if self.path is None:
            return self._view
        try:
            signature = _signature(os.stat(self.path))
        except (FileNotFoundError, NotADirectoryError):
            return self._view  # nothing saved yet (or ever: the home is not a folder)
        except OSError as exc:
            raise self._read_error(exc) from exc
        if signature == self._view.signature:
            return self._view
        with self._read_lock:
            try:
                handle = open(self.path, "rb")  # noqa: SIM115 (closed below, errors apart)
            except (FileNotFoundError, NotADirectoryError):
                return self._view
            except OSError as exc:
                raise self._read_error(exc) from exc
            with handle:  # (a save renames a new file in: this one stays whole to its end)
                try:
                    signature = _signature(os.fstat(handle.fileno()))  # of what is read
                    if signature == self._view.signature:  # another thread just read it
                        return self._view
                    graph = self._parse(handle)  # a line at a time, not the whole bytes
                except OSError as exc:
                    raise self._read_error(exc) from exc
            self._view = _View(graph, signature, self._view.generation + 1)
            return self._view

    def _read_error(self, exc: OSError) -> StoreUnavailableError:
        return StoreUnavailableError(f"cannot read the embedded store {self.path}: {exc}")

    def _parse(self, handle: BinaryIO) -> Snapshot:
        return parse_graph(handle, self.path)  # 100k nodes: 1.6 s, was 5.8 s (see graphfile)

    def _pinned_view(self) -> _View | None:
        return getattr(self._pins, "view", None)

    def _current(self) -> _View:
        """What a read sees: the thread's pinned graph, else the latest.  The writing
        thread always sees the latest (it must plan against what it will write over)."""
        pinned = self._pinned_view()
        if pinned is not None and self._owner != threading.get_ident():
            return pinned
        return self._latest()

    @contextlib.contextmanager
    def pinned(self) -> Iterator[None]:
        """Keep, for this thread, the graph it has now for every read inside the block.

        Loads by other processes or threads still go ahead; this thread sees them at its
        next read after the block.  Nested pins keep the outermost graph.  Cheap: no copy,
        since a graph is never changed once in use (writes build a new one).
        """
        if self._pinned_view() is not None:
            yield
            return
        self._pins.view = self._latest()
        try:
            yield
        finally:
            self._pins.view = None

    def consistent(self, fn: Callable[[], T], attempts: int = 5) -> T:
        """Run ``fn`` (several reads) on one graph: :meth:`pinned`, so it runs once and a
        load landing meanwhile is seen by the next request, never half-way (``attempts``
        is not needed here)."""
        with self.pinned():
            return fn()

    def version(self) -> object:
        """Changes with every save by any process: a ``stat`` of the file (no parse), or
        the pinned graph's version inside :meth:`pinned`."""
        pinned = self._pinned_view()
        if pinned is not None:
            return self._version_of(pinned)
        if self.path is None:
            return ("memory", self._view.generation)
        try:
            return _signature(os.stat(self.path))
        except (FileNotFoundError, NotADirectoryError):
            return self._version_of(self._view)
        except OSError as exc:
            raise self._read_error(exc) from exc

    def _version_of(self, view: _View) -> object:
        if view.signature is not None:
            return view.signature
        return ("memory" if self.path is None else "no file", view.generation)

    # ---- one writer --------------------------------------------------------------------
    @contextlib.contextmanager
    def load_lock(self, what: str = "a load") -> Iterator[None]:
        """Hold the store's write lock (see the module docstring); re-entrant in a thread.

        Raises :class:`StoreBusyError` at once when another process or thread holds it, and
        :class:`StoreUnavailableError` when the home cannot be written (nothing is changed).
        """
        if not self._write_lock.acquire(blocking=False):
            raise StoreBusyError(_busy_message(self._holder))  # another thread of ours
        try:
            if self._depth == 0:
                holder = {"pid": os.getpid(), "what": what,
                          "started": dt.datetime.now().isoformat(timespec="seconds")}
                if self.path is not None:
                    self._lock_file(holder)
                self._holder, self._owner = holder, threading.get_ident()
            self._depth += 1
            try:
                if self._depth == 1:
                    self._remove_stale_temp_files()
                    self._latest()  # write on top of the latest file
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._owner = None
                    self._unlock_file()
        finally:
            self._write_lock.release()

    def _lock_path(self) -> Path:
        assert self.path is not None
        return self.path.with_name(self.path.name + ".lock")

    def _lock_file(self, holder: dict) -> None:
        try:
            self._lock_path().parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._lock_path(), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise self._save_error(exc) from exc
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StoreBusyError(_busy_message(_read_holder(fd))) from None
            try:  # say who holds it, for the message the next writer gets
                os.ftruncate(fd, 0)
                os.pwrite(fd, json.dumps(holder).encode(), 0)
            except OSError as exc:
                raise self._save_error(exc) from exc
        except BaseException:
            os.close(fd)  # closing drops the lock, if it was taken
            raise
        self._lock_fd = fd

    def _unlock_file(self) -> None:
        # The holder's name stays in the file: only a writer refused while the next holder
        # has the lock reads it, and that holder has written its own name by then.
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)  # drops the lock

    def _temp_prefix(self) -> str:
        assert self.path is not None
        return f".{self.path.stem}-"

    def _remove_stale_temp_files(self) -> None:
        """Temporary files left by a killed writer (only a lock holder makes them)."""
        if self.path is None:
            return
        try:
            for stale in self.path.parent.glob(f"{self._temp_prefix()}*.tmp"):
                stale.unlink(missing_ok=True)
        except OSError as exc:
            raise self._save_error(exc) from exc

    def _save_error(self, exc: OSError) -> StoreUnavailableError:
        folder = self.path.parent if self.path is not None else None
        if exc.errno in _FULL:
            why = "the disk is full"
        elif exc.errno == errno.EROFS:
            why = f"the folder {folder} is read-only (a read-only file system)"
        elif exc.errno in _READ_ONLY:
            why = f"the folder {folder} is read-only for this user (permission denied)"
        elif exc.errno in _NOT_A_FOLDER:
            why = f"{exc.filename or folder} is not a folder"
        else:
            why = exc.strerror or str(exc)
        return StoreUnavailableError(
            f"could not save the graph to {self.path}: {why}; nothing was changed")

    def _save(self, graph: Snapshot) -> tuple | None:
        """Write ``graph`` over the file atomically; its new signature (None: no file).

        Each line of the file is written as it is made (see graphfile: at 1m the whole
        file was ~1.5 GB of bytes in memory); any failure, serialising or writing, removes
        the temporary file and leaves the old graph, and a kill leaves only a temporary file
        the next writer removes.
        """
        if self.path is None:
            return None
        payload = pieces(graph)  # a line per chunk of records (see graphfile)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(self.path, payload, prefix=self._temp_prefix(), suffix=".tmp")
            return _signature(os.stat(self.path))
        except OSError as exc:
            raise self._save_error(exc) from exc

    def _commit(self, graph: Snapshot) -> None:
        """Save ``graph`` and make it the one readers see (the write lock is held)."""
        signature = self._save(graph)
        with self._read_lock:
            self._view = _View(graph, signature, self._view.generation + 1)

    # ---- writing -----------------------------------------------------------------------
    def existing_kinds(self, ids: Iterable[str]) -> dict[str, NodeKind]:
        nodes = self._current().graph.nodes
        return {i: nodes[i]["kind"] for i in ids if i in nodes}

    def write(
        self,
        nodes: Sequence[NodeRecord],
        rels: Sequence[RelRecord],
        progress: Progress | None = None,
    ) -> WriteSummary:
        """As :meth:`GraphStore.write`; the graph keeps the records' ``props`` dicts
        themselves, each given its ``loaded_at`` (a load's plan is not used again after its
        write; a caller that reuses records sees that key, which the other store ignores)."""
        with self.load_lock():
            current = self._latest().graph
            summary = summarise(nodes, rels, _node_hashes(current), _rel_hashes(current))
            if not (summary.nodes_new or summary.nodes_changed or summary.rels_new
                    or summary.rels_changed):
                if progress:
                    progress(len(nodes) + len(rels))
                return summary  # reloading the same data writes nothing
            graph = current.copy()  # all-or-nothing: work on a copy, swap when saved
            stamp = now_iso()
            # The records' own props dicts go into the graph, their load time added (no
            # copy each: at 1m that was ~5.6 million dicts alive twice over while the plan
            # lives).  A dict the current graph already holds (the same records written
            # again) has the same hash, so it keeps its load time: nothing a reader holds
            # changes.
            for record in nodes:
                old = graph.nodes[record.id]["props"] if record.id in graph else {}
                props = record.props
                same = old.get(CONTENT_HASH) == props[CONTENT_HASH]
                props["loaded_at"] = old["loaded_at"] if same else stamp
                graph.add_node(record.id, kind=record.kind, props=props)
                if progress:
                    progress(1)
            for rel in rels:
                data = graph.get_edge_data(rel.source_id, rel.target_id, rel.type) or {}
                old = data.get("props", {})
                props = rel.props
                same = old.get(CONTENT_HASH) == props[CONTENT_HASH]
                props["loaded_at"] = old["loaded_at"] if same else stamp
                graph.add_edge(rel.source_id, rel.target_id, key=rel.type, props=props)
                if progress:
                    progress(1)
            self._commit(graph)
            return summary

    def snapshot(self) -> Snapshot:
        """The graph itself (callers only read it; every write replaces it whole)."""
        return self._current().graph

    def ids_from_sources(self, sources: Sequence[str]) -> set[str]:
        wanted = set(sources)
        graph = self._current().graph
        return {n for n, a in graph.nodes(data=True) if a["props"].get("source") in wanted}

    def retire(self, ids: Sequence[str], remove: bool, stamp: str) -> None:
        with self.load_lock():
            graph = self._latest().graph.copy()
            for node in ids:
                if node not in graph:
                    continue
                if remove:
                    graph.remove_node(node)
                else:
                    graph.nodes[node]["props"] = {**graph.nodes[node]["props"],
                                                  "missing_from_feed": stamp}
            self._commit(graph)

    def relationships_from(self, ids: Sequence[str]) -> list[tuple[str, RelType, str, dict]]:
        graph = self._current().graph
        found = [(u, k, v, dict(a["props"])) for node in dict.fromkeys(ids) if node in graph
                 for u, v, k, a in graph.out_edges(node, keys=True, data=True)]
        return sorted(found, key=lambda e: (e[0], e[1].value, e[2]))

    def unlink(self, keys: Sequence[tuple[str, RelType, str]]) -> None:
        if not keys:
            return
        with self.load_lock("removing relationships"):
            graph = self._latest().graph.copy()
            for source, rel, target in keys:
                if graph.has_edge(source, target, RelType(rel)):
                    graph.remove_edge(source, target, RelType(rel))
            self._commit(graph)

    def reset(self) -> None:
        with self.load_lock("a reset"):
            self._commit(nx.MultiDiGraph())

    # ---- load history and undo (pathways.history) ------------------------------------------
    # Records and before-images are files in a folder beside the graph ("graph.history/"),
    # one JSON record and one compressed image per load; memory only without a file.
    def image(self, node_ids: Iterable[str], rel_keys: Iterable[RelKey],
              whole_ids: Iterable[str] = ()) -> Image:
        graph = self._current().graph
        whole = set(whole_ids)
        nodes: dict[str, tuple[NodeKind, dict] | None] = {}
        for node in (*node_ids, *whole):
            attrs = graph.nodes[node] if node in graph else None
            nodes[node] = None if attrs is None else (attrs["kind"], dict(attrs["props"]))
        rels: dict[RelKey, dict | None] = {}
        for source, rel_type, target in rel_keys:
            data = graph.get_edge_data(source, target, rel_type)
            rels[source, rel_type, target] = None if data is None else dict(data["props"])
        for node in whole & set(graph):
            for u, v, key, data in (*graph.out_edges(node, keys=True, data=True),
                                    *graph.in_edges(node, keys=True, data=True)):
                rels[u, key, v] = dict(data["props"])
        return Image(nodes, rels)

    def restore(self, image: Image) -> None:
        with self.load_lock("an undo"):
            graph = self._latest().graph.copy()
            for node, state in image.nodes.items():
                if state is not None:
                    graph.add_node(node, kind=state[0], props=dict(state[1]))
            for (source, rel_type, target), props in image.rels.items():
                if props is None:
                    if graph.has_edge(source, target, rel_type):
                        graph.remove_edge(source, target, rel_type)
                elif source in graph and target in graph:
                    graph.add_edge(source, target, key=rel_type, props=dict(props))
            graph.remove_nodes_from([n for n, state in image.nodes.items()
                                     if state is None and n in graph])
            self._commit(graph)

    def _history_dir(self) -> Path | None:
        return None if self.path is None else self.path.with_name(self.path.stem + ".history")

    def _memory_history(self) -> dict[str, tuple[dict, bytes | None]]:
        if not hasattr(self, "_history"):
            self._history: dict[str, tuple[dict, bytes | None]] = {}
        return self._history

    def history_records(self) -> list[dict]:
        folder = self._history_dir()
        if folder is None:
            return [dict(record) for record, _ in self._memory_history().values()]
        try:
            return [orjson.loads(f.read_bytes()) for f in sorted(folder.glob("*.json"))]
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise StoreUnavailableError(f"cannot read the load history in {folder}: {exc}") from exc

    def history_image(self, load_id: str) -> bytes | None:
        folder = self._history_dir()
        if folder is None:
            return self._memory_history().get(load_id, ({}, None))[1]
        try:
            return (folder / f"{_history_name(load_id)}.image.gz").read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreUnavailableError(f"cannot read the load history in {folder}: {exc}") from exc

    def save_history(self, record: dict, image: bytes | None = None) -> None:
        folder = self._history_dir()
        if folder is None:
            old = self._memory_history().get(record["id"], ({}, None))[1]
            self._memory_history()[record["id"]] = (dict(record), image if image else old)
            return
        name = _history_name(record["id"])
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for stale in folder.glob(".*.part"):  # left by a killed writer (we hold the lock)
                stale.unlink(missing_ok=True)
            if image is not None:  # the image first: a record is never without its image
                _write_atomically(folder / f"{name}.image.gz", image)
            _write_atomically(folder / f"{name}.json", orjson.dumps(record))
        except OSError as exc:
            raise self._save_error(exc) from exc

    def drop_history(self, load_id: str) -> None:
        folder = self._history_dir()
        if folder is None:
            self._memory_history().pop(load_id, None)
            return
        for suffix in (".json", ".image.gz"):
            (folder / f"{_history_name(load_id)}{suffix}").unlink(missing_ok=True)

    # ---- reading -----------------------------------------------------------------------
    def stats(self) -> dict:
        nodes, rels = _counts(self._current().graph)
        return {"nodes": dict(nodes), "relationships": dict(rels)}

    def list_nodes(self, kind: NodeKind, role: str | None = None) -> list[dict]:
        graph = self._current().graph
        found = [
            dict(a["props"])
            for _, a in graph.nodes(data=True)
            if a["kind"] == kind and (role is None or a["props"].get("role") == role)
        ]
        return sorted(found, key=lambda p: (p["name"], p["id"]))

    def get_node(self, node_id: str) -> tuple[NodeKind, dict] | None:
        graph = self._current().graph
        if node_id not in graph:
            return None
        attrs = graph.nodes[node_id]
        return attrs["kind"], dict(attrs["props"])

    def prepare_reads(self) -> None:
        """The pathway search's node index of this version (0.9 s at 100k nodes)."""
        pathway_nodes(self._current().graph)

    def pathway_candidates(
        self, worker_id: str, max_hops: int, where: PathwayFilter
    ) -> list[list[PathNode]]:
        """The best shortest path to each matching activity (see :func:`best_paths`)."""
        graph = self._current().graph
        anything, activity = where != PathwayFilter(), NodeKind.ACTIVITY.value
        path_to: dict[PathwayNode | None, list[PathNode]] = {None: []}
        paths: list[list[PathNode]] = []
        for node, parent in best_parents(graph, worker_id, max_hops).items():
            # parents come before their children; a path is made only to an answer or to a
            # predecessor, and each node's PathNode once, shared by the paths through it
            wanted = node.kind == activity and (not anything or _matches(graph, node, where))
            if wanted or node.onward:
                path: list[PathNode] = [*path_to[parent],
                                        {"id": node.id, "name": node.name, "kind": node.kind}]
                if node.onward:
                    path_to[node] = path
                if wanted:
                    paths.append(path)
        return paths

    def activity_details(self, activity_ids: Sequence[str]) -> dict[str, dict]:
        graph = self._current().graph

        def names(ids: Iterable[str]) -> list[str]:
            return sorted({graph.nodes[i]["props"]["name"] for i in ids})

        details = {}
        for activity in activity_ids:
            if activity not in graph or graph.nodes[activity]["kind"] != NodeKind.ACTIVITY:
                continue
            providers = {
                org
                for service in _sources(graph, activity, RelType.OFFERS)
                for org in _sources(graph, service, RelType.PROVIDES)
            }
            props = dict(graph.nodes[activity]["props"])
            props["providers"] = names(providers)
            props["localities"] = names(_targets(graph, activity, RelType.LOCATED_IN))
            props["needs"] = names(_targets(graph, activity, RelType.ADDRESSES))
            details[activity] = props
        return details

    def relationships_among(self, ids: Sequence[str]) -> list[tuple[str, RelType, str]]:
        graph = self._current().graph
        wanted = set(ids)
        found = [(u, k, v) for u, v, k in graph.subgraph(wanted & set(graph)).edges(keys=True)]
        return sorted(found, key=lambda e: (e[0], e[1].value, e[2]))


# ---- helpers on one graph (so a read never mixes two) --------------------------------------
def _node_hashes(graph: Snapshot) -> dict[str, str]:
    return {n: a["props"].get(CONTENT_HASH) for n, a in graph.nodes(data=True)}


def _rel_hashes(graph: Snapshot) -> dict[tuple[str, str, str], str]:
    return {
        (u, k.value, v): a["props"].get(CONTENT_HASH)
        for u, v, k, a in graph.edges(keys=True, data=True)
    }


@per_snapshot
def _counts(graph: Snapshot) -> tuple[dict[str, int], dict[str, int]]:
    """Nodes by kind and relationships by type, counted once per snapshot from networkx's
    own dicts (views and enum look-ups made it ~1 s a call at 100k)."""
    kinds = Counter(a["kind"] for a in graph._node.values())  # type: ignore[attr-defined]
    types: Counter[RelType] = Counter()
    for neighbours in graph._succ.values():  # type: ignore[attr-defined]
        for keys in neighbours.values():
            types.update(iter(keys))  # the keys (a mapping would add its values)
    return ({k.value: kinds[k] for k in NodeKind}, {t.value: types[t] for t in RelType})


def _linked(node: PathwayNode, rel: RelType) -> list[str]:
    """:func:`_targets` through networkx's own dict (no edge view: ~1 µs, not ~20 µs, which
    the pathway filter pays for every reachable activity)."""
    return [v for v, keys in node.out.items() if rel in keys]


def _targets(graph: Snapshot, node_id: str, rel: RelType) -> list[str]:
    return [v for _, v, k in graph.out_edges(node_id, keys=True) if k == rel]


def _sources(graph: Snapshot, node_id: str, rel: RelType) -> list[str]:
    return [u for u, _, k in graph.in_edges(node_id, keys=True) if k == rel]


def _matches(graph: Snapshot, activity: PathwayNode, where: PathwayFilter) -> bool:
    """The rules of :class:`PathwayFilter` (the Neo4j query states the same ones)."""
    props = activity.props
    if where.free_only and props.get("free") is not True:
        return False
    if where.access and not set(where.access) <= set(props.get("accessibility", [])):
        return False
    if where.needs and set(_linked(activity, RelType.ADDRESSES)).isdisjoint(where.needs):
        return False
    if (where.locality is not None and not serves_whole_area(props)
            and where.locality not in _linked(activity, RelType.LOCATED_IN)):
        return False
    if where.age is not None:
        low, high = props.get("age_min"), props.get("age_max")
        if (low is not None and where.age < low) or (high is not None and where.age > high):
            return False
    if where.times:
        sessions = sessions_of(props)
        if sessions and not any(s.overlaps(t) for s in sessions for t in where.times):
            return False
    if where.self_referral_only and not self_referral_entries(graph, activity.id):
        return False
    return True


# ---- load history files ---------------------------------------------------------------------
def _history_name(load_id: str) -> str:
    """A load's file name: its number, zero-padded so names sort as numbers do."""
    if not load_id.isdigit():
        raise ValueError(f"not a load id: {load_id!r}")
    return f"{int(load_id):08d}"


def _write_atomically(path: Path, payload: bytes | Iterable[bytes | memoryview],
                      prefix: str | None = None, suffix: str = ".part") -> None:
    """Write ``payload`` (bytes, or pieces of bytes written as they come) to ``path`` all or
    nothing: a temporary file beside it (``prefix``, ``suffix``; a crash leaves only that,
    which the next open removes), fsynced, renamed over ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=prefix or f".{path.name}-", suffix=suffix, dir=path.parent)
    try:
        try:
            for piece in (payload,) if isinstance(payload, bytes) else payload:
                view = memoryview(piece)
                while view:
                    view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---- the lock file's holder ----------------------------------------------------------------
def _read_holder(fd: int) -> dict:
    try:
        holder = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _busy_message(holder: dict) -> str:
    what = str(holder.get("what") or "a load")
    noun = what.split(" ", 1)[1] if what.split(" ", 1)[0] in ("a", "an") and " " in what else what
    pid = holder.get("pid")
    started = str(holder.get("started") or "")
    when = started[11:19] if len(started) >= 19 else "at an unknown time"
    who = f"pid {pid}, started {when}" if pid else "its process is unknown"
    return (f"another {noun} is running on this store ({who}); nothing was written"
            " — try again when it finishes")
