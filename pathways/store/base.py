"""The GraphStore interface: the few named operations analysis, CLI and app need.

Two implementations give the same answers: :mod:`pathways.store.embedded` (networkx, no
server, the default) and :mod:`pathways.store.neo4j`.  Parity tests run one set of
behaviour tests against both.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Self, TypedDict, TypeVar

from pathways.errors import StoreBusyError
from pathways.model import NodeKind, NodeRecord, RelRecord, RelType, TimeSlot

if TYPE_CHECKING:
    from pathways.graphs import Snapshot



class PathNode(TypedDict):
    """One node on a pathway, as the JSON output shows it."""

    id: str
    name: str
    kind: str  # NodeKind value

Progress = Callable[[int], None]
T = TypeVar("T")


@dataclass(frozen=True)
class WriteSummary:
    """What a load did: how many nodes and relationships were new, changed or unchanged."""

    nodes_new: int
    nodes_changed: int
    nodes_unchanged: int
    rels_new: int
    rels_changed: int
    rels_unchanged: int

    def __str__(self) -> str:
        return (
            f"nodes: {self.nodes_new} new, {self.nodes_changed} changed,"
            f" {self.nodes_unchanged} unchanged; relationships: {self.rels_new} new,"
            f" {self.rels_changed} changed, {self.rels_unchanged} unchanged"
        )


@dataclass(frozen=True)
class PathwayFilter:
    """Which reachable activities a link worker wants to see.

    Every store applies these the same way (parity tests prove it):

    ``needs``
        ids of needs; the activity ADDRESSES any of them.
    ``locality``
        a locality id; the activity is LOCATED_IN it, or serves the whole area
        (:func:`pathways.model.serves_whole_area`, the Gaps heatmap's rule).
    ``free_only``
        only activities marked free (unknown cost is left out).
    ``access``
        accessibility tags; the activity has all of them.
    ``age``
        the person's age in years; the activity's ``age_min``/``age_max`` admit it (an
        activity without an age range, or one end of it, matches on that end).
    ``times``
        when the person can come (:class:`~pathways.model.TimeSlot`, e.g. from
        :func:`pathways.analysis.places.parse_times`); the activity has a session
        (``sessions``) overlapping one of them.  An activity whose schedule gave no
        sessions (none, or text the parser cannot read) still matches: "schedule unknown",
        which :func:`pathways.analysis.pathways.pathways_from` flags on each such row.
    ``self_referral_only``
        only activities a person may refer themselves to: some REFERS_TO relationship
        with ``self_referral = yes`` points at a service that OFFERS the activity, or at an
        organisation that PROVIDES such a service.
    """

    needs: tuple[str, ...] = ()
    locality: str | None = None
    free_only: bool = False
    access: tuple[str, ...] = ()
    age: int | None = None
    times: tuple[TimeSlot, ...] = ()
    self_referral_only: bool = False


#: A relationship's key in a store: (source id, type, target id); a pair has at most one of a type
RelKey = tuple[str, RelType, str]


@dataclass
class Image:
    """Part of the graph as it was: each node's kind and properties, each relationship's
    properties, ``None`` for one that did not exist (so restoring it deletes it).

    A load's before-image (:mod:`pathways.history`) is what ``undo`` restores.
    """

    nodes: dict[str, tuple[NodeKind, dict] | None]
    rels: dict[RelKey, dict | None]


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def summarise(
    nodes: Sequence[NodeRecord],
    rels: Sequence[RelRecord],
    node_hashes: dict[str, str],
    rel_hashes: dict[tuple[str, str, str], str],
) -> WriteSummary:
    """Count new/changed/unchanged rows from the content hashes already in the store.

    A row the store has without a hash (written by something else) counts as changed.
    """
    absent = object()

    def count(items, key, hashes):
        new = changed = same = 0
        for item in items:
            old = hashes.get(key(item), absent)
            if old is absent:
                new += 1
            elif old == item.props["content_hash"]:
                same += 1
            else:
                changed += 1
        return new, changed, same

    n = count(nodes, lambda r: r.id, node_hashes)
    r = count(rels, lambda r: (r.source_id, r.type.value, r.target_id), rel_hashes)
    return WriteSummary(*n, *r)


class GraphStore(ABC):
    """A Thriving Pathways graph.  Reads never write; only :meth:`write` and :meth:`reset` do."""

    name: str

    @abstractmethod
    def describe(self) -> str:
        """Where the data lives, for 'which store did this use' messages."""

    # ---- writing -----------------------------------------------------------------------
    @abstractmethod
    def existing_kinds(self, ids: Iterable[str]) -> dict[str, NodeKind]:
        """The kind of each of ``ids`` already in the store (missing ids left out)."""

    @abstractmethod
    def write(
        self,
        nodes: Sequence[NodeRecord],
        rels: Sequence[RelRecord],
        progress: Progress | None = None,
    ) -> WriteSummary:
        """Upsert validated records all-or-nothing; unchanged rows keep their ``loaded_at``."""

    @abstractmethod
    def reset(self) -> None:
        """Empty the store."""

    @abstractmethod
    def ids_from_sources(self, sources: Sequence[str]) -> set[str]:
        """Ids of the nodes whose ``source`` is one of ``sources`` (e.g. a feed's files)."""

    @abstractmethod
    def retire(self, ids: Sequence[str], remove: bool, stamp: str) -> None:
        """Nodes gone from their feed: set ``missing_from_feed`` to ``stamp``, or (``remove``)
        delete them with their relationships."""

    @abstractmethod
    def relationships_from(self, ids: Sequence[str]) -> list[tuple[str, RelType, str, dict]]:
        """Every relationship going out of ``ids`` as ``(source, type, target, properties)``
        (``properties["source"]`` says which file or feed wrote it), sorted."""

    @abstractmethod
    def unlink(self, keys: Sequence[tuple[str, RelType, str]]) -> None:
        """Delete the relationships ``(source, type, target)`` in one write; their nodes stay
        (a feed that no longer gives a term or a place, a need the partnership vetoed)."""

    # ---- reading -----------------------------------------------------------------------
    @abstractmethod
    def stats(self) -> dict:
        """``{"nodes": {kind: count}, "relationships": {type: count}}``, every kind listed."""

    @abstractmethod
    def list_nodes(self, kind: NodeKind, role: str | None = None) -> list[dict]:
        """Every node of a kind (optionally people of one role), sorted by name then id."""

    @abstractmethod
    def get_node(self, node_id: str) -> tuple[NodeKind, dict] | None:
        """A node's kind and properties, or None."""

    @abstractmethod
    def pathway_candidates(
        self, worker_id: str, max_hops: int, where: PathwayFilter
    ) -> list[list[PathNode]]:
        """Shortest directed REFERS_TO/PROVIDES/OFFERS paths from the worker to matching
        activities, at most ``max_hops`` long.  May return several shortest paths for an
        activity; :mod:`pathways.analysis.pathways` picks one the same way for every store."""

    @abstractmethod
    def activity_details(self, activity_ids: Sequence[str]) -> dict[str, dict]:
        """Activity properties plus ``providers``, ``localities`` and ``needs`` (distinct
        names, sorted); ids that are not activities are left out."""

    @abstractmethod
    def relationships_among(self, ids: Sequence[str]) -> list[tuple[str, RelType, str]]:
        """Every relationship whose two ends are both in ``ids``, sorted."""

    @abstractmethod
    def version(self) -> object:
        """A value that changes whenever the graph changes (for caching analyses)."""

    @abstractmethod
    def snapshot(self) -> Snapshot:
        """The whole graph, read consistently, as :mod:`pathways.graphs` describes it.

        For whole-graph analyses (gaps); the same shape from every store."""

    def analysis_snapshot(self) -> Snapshot:
        """:meth:`snapshot` as analyses need it, read the same way (one version of the data;
        inside :meth:`consistent`, its transaction): a store may leave out a relationship's
        provenance and hash (``source``, ``source_id``, ``loaded_at``, ``content_hash``),
        which no analysis reads, when that makes the read cheaper (Neo4j does).  Code that
        reads them (a load's preview diff, history's images) takes :meth:`snapshot`.

        By default the snapshot itself (the embedded store's is its own graph: no copy)."""
        return self.snapshot()

    def prepare_reads(self) -> None:
        """Build now whatever this store's own reads build on first use for the current
        data version (the Warmer calls it after a load, so the first person asking does not
        wait).  Nothing by default: Neo4j's server keeps its own indexes."""
        return None

    # ---- load history and undo (pathways.history) -----------------------------------------
    @abstractmethod
    def image(self, node_ids: Iterable[str], rel_keys: Iterable[RelKey],
              whole_ids: Iterable[str] = ()) -> Image:
        """How the graph holds ``node_ids`` and ``whole_ids`` now, the relationships
        ``rel_keys``, and every relationship into or out of ``whole_ids`` (nodes a load may
        delete); absent ones as ``None``.  Read in one transaction."""

    @abstractmethod
    def restore(self, image: Image) -> None:
        """Make the graph hold exactly ``image`` for the nodes and relationships it names
        (deleting those it gives as ``None``), all or nothing, under the load lock."""

    @abstractmethod
    def history_records(self) -> list[dict]:
        """Every recorded load (:mod:`pathways.history`'s records), in no set order."""

    @abstractmethod
    def history_image(self, load_id: str) -> bytes | None:
        """The before-image saved with a load (compressed), or None."""

    @abstractmethod
    def save_history(self, record: dict, image: bytes | None = None) -> None:
        """Add or replace a load's record (its ``id`` names it); ``image`` only when adding.
        History is kept in the store but is never graph data: stats, lists, snapshots and
        :meth:`reset` do not see it."""

    @abstractmethod
    def drop_history(self, load_id: str) -> None:
        """Forget a load's record (one that wrote nothing)."""

    # ---- one writer, consistent readers ------------------------------------------------
    @contextlib.contextmanager
    def load_lock(self, what: str = "a load") -> Iterator[None]:
        """Hold the store's single write lock for a whole load (plan, write, retire).

        Raises :class:`~pathways.errors.StoreBusyError` at once, naming the holder, when
        another process is loading into the same store: one writer at a time, and a load
        never plans against data that another load is about to change.  Each store
        overrides this; the default (no lock) is only for stores with a single process.
        """
        yield

    def consistent(self, fn: Callable[[], T], attempts: int = 5) -> T:
        """Run ``fn`` (several reads) so that all of it sees one version of the graph.

        Every write bumps :meth:`version` in the same transaction (or file save) as its
        changes, so equal versions before and after mean no load committed in between;
        otherwise ``fn`` runs again.  Readers thus see the graph before or after a load,
        never a mixture.  A store that can hold one version still for a reader overrides
        this (the embedded store pins its in-memory graph for the thread: one run, no
        retries).  Wrap every request or analysis that makes more than one read.
        """
        for _ in range(attempts):
            before = self.version()
            result = fn()
            if self.version() == before:
                return result
        raise StoreBusyError(
            "the data kept changing while it was read (loads are running); try again"
        )

    def close(self) -> None:  # noqa: B027 (a default, not abstract: most stores hold nothing)
        """Release connections; the default has none."""

    def reopen(self) -> None:  # noqa: B027 (a default, not abstract: most stores hold nothing)
        """Connect again after :meth:`close` (each web worker process forked by
        ``pathways serve --workers`` opens its own connections); the default has none."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
