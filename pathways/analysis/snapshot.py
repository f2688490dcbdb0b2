"""Whole-graph snapshots for analyses, cached per store and data version, and the small
graph helpers the analyses share (names, neighbours by relationship type, link workers).

A snapshot is the ``networkx.MultiDiGraph`` :meth:`GraphStore.snapshot` returns; every
analysis computed from it gives the same answer whichever store it came from.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypedDict, TypeVar

from pathways.errors import UnknownIdError
from pathways.gcpause import dropped_snapshot, gc_paused
from pathways.graphs import Snapshot, node_names, per_snapshot
from pathways.model import NodeKind, PersonRole, RelType
from pathways.store.base import GraphStore

T = TypeVar("T")
Neighbours = dict[str, list[str]]  # node -> nodes (one relationship type, one direction)


class NetworkNode(TypedDict):
    """A node to draw (gaps' referral network, a consortium's network)."""

    id: str
    name: str
    kind: str  # NodeKind value


def name_of(graph: Snapshot, node: str) -> str:
    # networkx's own dict (not in its type stubs): a third of the time of graph.nodes[node]
    name: str = graph._node[node]["props"]["name"]  # type: ignore[attr-defined]
    return name


@per_snapshot
def typed_adjacency(graph: Snapshot) -> dict[RelType, tuple[Neighbours, Neighbours]]:
    """``{rel: (out, into)}``: ``out[node]`` lists the nodes ``node`` points to by a ``rel``
    relationship, in the order of ``graph.succ``; ``into[node]`` those pointing to it, in the
    order of the graph's nodes (no answer depends on either order: the two stores' snapshots
    order nodes and relationships differently, and the parity tests compare their answers).
    Nodes without one are absent.

    At 100k nodes the analyses ask for neighbours a million times, and networkx's views cost
    ~15 µs a call; this reads networkx's own dicts (node → neighbour → key → data) once.
    Keyed by type first, so a hot loop takes one type's dict once (:func:`rel_out`,
    :func:`rel_in`) and then pays one dict look-up per node.

    One pass over ``graph.succ`` fills both sides (``graph.pred`` holds the same key dicts,
    and reading each of the 464k relationships' key dicts is most of the time at 100k):
    0.33 s, not 0.6 s.
    """
    built: dict[RelType, tuple[Neighbours, Neighbours]] = {rel: ({}, {}) for rel in RelType}
    outs = {rel: pair[0] for rel, pair in built.items()}
    ins = {rel: pair[1] for rel, pair in built.items()}
    # networkx's own dict (not in its type stubs)
    for node, neighbours in graph._succ.items():  # type: ignore[attr-defined]
        for other, keys in neighbours.items():
            for key in keys:
                table = outs[key]
                found = table.get(node)
                if found is None:
                    table[node] = [other]
                else:
                    found.append(other)
                table = ins[key]
                found = table.get(other)
                if found is None:
                    table[other] = [node]
                else:
                    found.append(node)
    return built


def rel_out(graph: Snapshot, rel: RelType) -> Neighbours:
    """``{node: [nodes it points to by a rel relationship]}`` (shared: do not modify it)."""
    return typed_adjacency(graph)[rel][0]


def rel_in(graph: Snapshot, rel: RelType) -> Neighbours:
    """``{node: [nodes pointing to it by a rel relationship]}`` (shared: do not modify it)."""
    return typed_adjacency(graph)[rel][1]


_NONE: list[str] = []


def targets(graph: Snapshot, node: str, rel: RelType) -> list[str]:
    """Nodes ``node`` points to by a ``rel`` relationship (shared: do not modify it)."""
    return typed_adjacency(graph)[rel][0].get(node, _NONE)


def sources(graph: Snapshot, node: str, rel: RelType) -> list[str]:
    """Nodes that point to ``node`` by a ``rel`` relationship (shared: do not modify it)."""
    return typed_adjacency(graph)[rel][1].get(node, _NONE)


@per_snapshot
def by_kind(graph: Snapshot) -> dict[NodeKind, list[str]]:
    """Each kind's nodes sorted by name, then id, sorted once per snapshot."""
    found: dict[NodeKind, list[str]] = {kind: [] for kind in NodeKind}
    for node, attrs in graph._node.items():  # type: ignore[attr-defined]
        kind = attrs.get("kind")
        if kind is not None:
            found[kind].append(node)
    names = node_names(graph)  # the analyses read it anyway
    for nodes in found.values():  # by name, then id: two stable sorts, no key tuples
        nodes.sort()
        nodes.sort(key=names.__getitem__)
    return found


def of_kind(graph: Snapshot, kind: NodeKind) -> list[str]:
    """The nodes of one kind, sorted by name, then id (a new list: callers may change it)."""
    return list(by_kind(graph)[kind])


def link_workers(graph: Snapshot) -> list[str]:
    return [
        n for n in of_kind(graph, NodeKind.PERSON)
        if graph.nodes[n]["props"].get("role") == PersonRole.LINK_WORKER.value
    ]


def providers(graph: Snapshot, activity: str) -> list[str]:
    """Organisations that provide a service offering the activity (sorted ids)."""
    return list(providers_of(graph).get(activity, ()))


@per_snapshot
def providers_of(graph: Snapshot) -> dict[str, tuple[str, ...]]:
    """``{node: organisations providing a service that offers it (sorted ids)}`` for every
    node offered by a service, built once per snapshot (shared: do not modify it)."""
    offered_by, provided_by = rel_in(graph, RelType.OFFERS), rel_in(graph, RelType.PROVIDES)
    return {node: tuple(sorted({o for s in services for o in provided_by.get(s, _NONE)}))
            for node, services in offered_by.items()}


def check_ids(graph: Snapshot, ids: Iterable[str], kind: NodeKind, what: str) -> None:
    for node in ids:
        if node not in graph or graph.nodes[node]["kind"] != kind:
            known = ", ".join(of_kind(graph, kind))
            raise UnknownIdError(node, f"{what} (known: {known})")


# Per store (weakly held, so a dropped store's results can never be served to a new one that
# happens to reuse its id): {(version, what): value} for the current version only, least
# recently used first.
_cache: weakref.WeakKeyDictionary[GraphStore, dict[tuple[Any, Hashable], Any]] = (
    weakref.WeakKeyDictionary())
# Per store: {(version, what): lock} while a value is being computed, so that two requests
# asking for the same thing at once (a page's callbacks fire together) compute it once.
_computing: weakref.WeakKeyDictionary[GraphStore, dict[tuple[Any, Hashable], threading.Lock]] = (
    weakref.WeakKeyDictionary())
_cache_lock = threading.Lock()
CACHE_ENTRIES = 256  # per store and version: filter combinations, heatmap cells, pathways


def cached_per_version(store: GraphStore, what: Hashable, compute: Callable[[], T]) -> T:
    """Memoise ``compute()`` per store and data version: the value is computed once per
    version of the data and shared (callers must not modify it).

    ``what`` names the value (hashable: a string, or a tuple of the arguments it depends
    on).  A write to the store changes its version, so the next call computes afresh and the
    previous version's values are dropped.  Concurrent calls for the same value wait for one
    computation.  The snapshot itself is never evicted; other values least recently used first.
    """
    version = store.version()
    key = (version, what)
    with _cache_lock:
        entries = _cache.setdefault(store, {})
        if key in entries:
            entries[key] = entries.pop(key)  # most recently used last
            return entries[key]
        gate = _computing.setdefault(store, {}).setdefault(key, threading.Lock())
    try:
        with gate:
            with _cache_lock:
                entries = _cache.setdefault(store, {})
                if key in entries:  # computed by the call we waited for
                    return entries[key]
            with gc_paused():
                value = compute()
            stale: list[tuple[Any, Hashable]] = []
            with _cache_lock:
                entries = _cache.setdefault(store, {})
                # Every insert drops other versions, so all entries share one version: the
                # first says whether any is stale (no scan of 256 keys per computed value).
                if entries and next(iter(entries))[0] != version:
                    stale = [k for k in entries if k[0] != version]
                    for old in stale:
                        del entries[old]
                while len(entries) >= CACHE_ENTRIES:
                    oldest = next(k for k in entries if k[1] != "snapshot")
                    del entries[oldest]
                entries[key] = value
            if any(k[1] == "snapshot" for k in stale):
                dropped_snapshot()  # (outside the lock: it may run a full collection)
            return value
    finally:
        with _cache_lock:
            _computing.get(store, {}).pop(key, None)


def cached_already(store: GraphStore, what: Hashable) -> Any:
    """What :func:`cached_per_version` holds for ``what`` at the store's current version, or
    None if it has not been computed (nothing is computed here)."""
    key = (store.version(), what)
    with _cache_lock:
        return _cache.get(store, {}).get(key)


def cached_analysis(store: GraphStore, what: Hashable, compute: Callable[[Snapshot], T]) -> T:
    """Memoise ``compute(snapshot)`` per store and data version (a page click is cheap)."""
    return cached_per_version(store, what, lambda: compute(cached_snapshot(store)))


def cached_snapshot(store: GraphStore) -> Snapshot:
    """The analyses' snapshot (:meth:`GraphStore.analysis_snapshot`: on Neo4j without each
    relationship's provenance and hash, which no analysis reads), once per data version.
    Code that compares relationships by their hash takes the full one
    (:func:`pathways.changes.snapshot_with_provenance`)."""
    return cached_per_version(store, "snapshot", store.analysis_snapshot)


def cached_stats(store: GraphStore) -> dict[str, dict[str, int]]:
    """:meth:`GraphStore.stats` (nodes by kind, relationships by type), once per data version:
    a page asking "is anything loaded?" on every visit does not count 500k relationships."""
    return cached_per_version(store, "stats", store.stats)
