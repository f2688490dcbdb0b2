"""The Neo4j store: the official driver, read transactions for reads, batched writes.

Constraints are created before the first write.  A load is one write transaction that runs
``UNWIND $rows`` batches of :data:`BATCH_SIZE` rows, so it is all-or-nothing and never a
round trip per row.  Every query is a named constant in :mod:`queries`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import neo4j
import networkx as nx
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, DriverError, Neo4jError, ServiceUnavailable

from pathways.config import Neo4jSettings
from pathways.errors import StoreUnavailableError
from pathways.gcpause import gc_paused
from pathways.model import CONTENT_HASH, NodeKind, NodeRecord, RelRecord, RelType
from pathways.store.base import (
    GraphStore,
    PathNode,
    PathwayFilter,
    Progress,
    WriteSummary,
    now_iso,
    summarise,
)
from queries import graph as q
from queries import pathways as qp

_ABSENT = object()
BATCH_SIZE = 10_000  # rows per UNWIND statement (measured: 10k beats 2k by ~1.5x)


def _chunks(items: Sequence, size: int = BATCH_SIZE):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Neo4jStore(GraphStore):
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

    def describe(self) -> str:
        return f"neo4j store ({self.settings.uri}, database {self.settings.database!r})"

    def close(self) -> None:
        self.driver.close()

    def _read(self, fn, *args):
        try:
            with self.driver.session(database=self.settings.database) as session:
                return session.execute_read(fn, *args)
        except ServiceUnavailable as exc:
            raise StoreUnavailableError(f"lost the connection to Neo4j: {exc}") from exc

    def _write(self, fn, *args):
        try:
            with self.driver.session(database=self.settings.database) as session:
                return session.execute_write(fn, *args)
        except ServiceUnavailable as exc:
            raise StoreUnavailableError(f"lost the connection to Neo4j: {exc}") from exc

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

    def write(
        self,
        nodes: Sequence[NodeRecord],
        rels: Sequence[RelRecord],
        progress: Progress | None = None,
    ) -> WriteSummary:
        self.ensure_constraints()
        node_hashes: dict[str, str] = {}
        for chunk in _chunks([n.id for n in nodes]):
            node_hashes.update(self._read(q.node_hashes, list(chunk)))
        rel_hashes: dict[tuple, str] = {}
        sources = list(dict.fromkeys(r.source_id for r in rels))
        for chunk in _chunks(sources):
            rel_hashes.update(self._read(q.relationship_hashes, list(chunk)))
        summary = summarise(nodes, rels, node_hashes, rel_hashes)

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
            old = rel_hashes.get((rel.source_id, rel.type.value, rel.target_id), _ABSENT)
            if old != rel.props[CONTENT_HASH]:
                by_type[rel.type, old is _ABSENT].append(
                    {"source": rel.source_id, "target": rel.target_id, "props": rel.props}
                )
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
            q.bump_graph_version(tx)

        if by_kind or by_type:
            self._write(work)
        return summary

    def reset(self) -> None:
        while self._write(q.delete_batch, 10_000):
            pass
        self._write(q.bump_graph_version)

    def ids_from_sources(self, sources: Sequence[str]) -> set[str]:
        return self._read(q.ids_from_sources, list(sources))

    def retire(self, ids: Sequence[str], remove: bool, stamp: str) -> None:
        if ids:
            self._write(q.retire, list(ids), remove, stamp)

    def version(self) -> object:
        return self._read(q.graph_version)

    def snapshot(self) -> nx.MultiDiGraph:
        with gc_paused():
            nodes, rels = self._read(q.snapshot)
            graph = nx.MultiDiGraph()
            graph.add_nodes_from((node_id, {"kind": kind, "props": props})
                                 for node_id, kind, props in nodes)
            graph.add_edges_from((source, target, rel, {"props": props})
                                 for source, rel, target, props in rels)
        return graph

    # ---- reading -----------------------------------------------------------------------
    def stats(self) -> dict:
        return self._read(q.stats)

    def list_nodes(self, kind: NodeKind, role: str | None = None) -> list[dict]:
        return self._read(q.list_nodes, kind, role)

    def get_node(self, node_id: str) -> tuple[NodeKind, dict] | None:
        return self._read(q.get_node, node_id)

    def pathway_candidates(
        self, worker_id: str, max_hops: int, where: PathwayFilter
    ) -> list[list[PathNode]]:
        return self._read(
            qp.pathways_from_link_worker,
            worker_id,
            max_hops,
            list(where.needs),
            where.locality,
            where.free_only,
            list(where.access),
        )

    def activity_details(self, activity_ids: Sequence[str]) -> dict[str, dict]:
        return self._read(q.activity_details, list(activity_ids))

    def relationships_among(self, ids: Sequence[str]) -> list[tuple[str, RelType, str]]:
        return self._read(q.relationships_among, list(ids))
