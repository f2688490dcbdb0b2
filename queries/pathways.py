"""Named Cypher for pathways from a link worker to activities.

A pathway follows REFERS_TO, PROVIDES and OFFERS relationships in their direction.  The
relationship types and the search bound come from :mod:`pathways.model` (a whitelist and a
constant); everything a user chooses travels as a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence

from neo4j import ManagedTransaction

from pathways.model import MAX_MAX_HOPS, PATHWAY_RELS, WHOLE_AREA, NodeKind, TimeSlot
from queries.graph import GRAPH_STATE

_PATHWAY_TYPES = "|".join(rel.value for rel in PATHWAY_RELS)

# Anchored on the link worker's indexed id; ALL SHORTEST (GQL, Neo4j 5.21+) expands outwards
# once and returns every shortest path to each activity within the bound, so the cost grows
# with what the worker can reach, not with the number of activities in the graph.  The
# analysis layer breaks ties by the names along the path, the same way for every store.
# The filters are those of PathwayFilter (its docstring; the embedded store's _matches):
# serves_whole_area is pathways.model.WHOLE_AREA, the Gaps heatmap's rule; sessions are
# TimeSlot texts ("TU 10:00-12:00", or "TH" for a whole day), compared as zero-padded
# "HH:MM" strings, and $times holds the person's slots as {day, start, end} maps.
# Quantifier bounds cannot be parameters, so there is one query per hop limit, 1 to
# MAX_MAX_HOPS: the number comes from this range, never from input.
# One record per call: each path as its nodes' ids, and each node on any path once with its
# name and kind: most of a call's time at 100k was the driver decoding every path step as a
# map of three strings, one record per path (issue 18 item 2, benchmarks/neo4j_pathways.py).
# The same record brings the nodes the analysis checks before answering (the link worker, the
# filter's needs and locality, as GET_NODE reads them), so a call is one query, not one per id;
# and, read last (in a subquery run once the rest of the row is made), the graph's state as
# queries.graph.GRAPH_STATE reads it: the Neo4j store's check that no load committed while the
# query read, without a round trip of its own.
_PATHWAYS_FROM_LINK_WORKER = """
MATCH (w:Person {{id: $worker_id}})
MATCH p = ALL SHORTEST (w)-[:{types}]->{{1,{max_hops}}}(a:Activity)
WHERE ($free_only = false OR a.free = true)
  AND all(tag IN $access WHERE tag IN coalesce(a.accessibility, []))
  AND (size($needs) = 0 OR EXISTS {{ MATCH (a)-[:ADDRESSES]->(n:Need) WHERE n.id IN $needs }})
  AND ($locality IS NULL OR a.serves_whole_area = true
       OR EXISTS {{ MATCH (a)-[:LOCATED_IN]->(:Locality {{id: $locality}}) }})
  AND ($age IS NULL OR ((a.age_min IS NULL OR a.age_min <= $age)
                        AND (a.age_max IS NULL OR a.age_max >= $age)))
  AND (size($times) = 0 OR size(coalesce(a.sessions, [])) = 0
       OR any(s IN a.sessions WHERE any(t IN $times WHERE left(s, 2) = t.day
              AND (CASE WHEN size(s) > 2 THEN substring(s, 3, 5) ELSE '00:00' END) < t.end
              AND t.start < (CASE WHEN size(s) > 2 THEN substring(s, 9, 5) ELSE '24:00' END))))
  AND ($self_referral_only = false
       OR EXISTS {{ MATCH (a)<-[:OFFERS]-(:Service)<-[r:REFERS_TO]-()
                   WHERE r.self_referral = true }}
       OR EXISTS {{ MATCH (a)<-[:OFFERS]-(:Service)<-[:PROVIDES]-(:Organisation)<-[r:REFERS_TO]-()
                   WHERE r.self_referral = true }})
WITH collect(nodes(p)) AS paths
WITH [path IN paths | [n IN path | n.id]] AS paths,
     COLLECT {{ UNWIND paths AS path UNWIND path AS n
               RETURN DISTINCT [n.id, n.name, [l IN labels(n) WHERE l <> 'Pathways'][0]] }}
       AS nodes,
     COLLECT {{ UNWIND $checked AS wanted MATCH (c:Pathways {{id: wanted}})
               RETURN [c.id, [l IN labels(c) WHERE l <> 'Pathways'][0], properties(c)] }}
       AS checked
CALL {{
  WITH paths
  {state}
}}
RETURN paths, nodes, checked, [version, committing, loading] AS state
"""
# GRAPH_STATE's reads and its first three columns, word for word (checked below)
_STATE = """OPTIONAL MATCH (m:PathwaysMeta {key: 'graph'})
OPTIONAL MATCH (l:PathwaysMeta {key: 'load_lock'})
RETURN coalesce(m.version, 0) AS version,
       coalesce(m.committing IS NOT NULL AND m.committing = l.owner
                AND l.expires > timestamp(), false) AS committing,
       m.loading AS loading"""
assert _STATE in GRAPH_STATE  # one rule for "a load is committing"
assert WHOLE_AREA in _PATHWAYS_FROM_LINK_WORKER  # one rule, one property name
PATHWAYS_FROM_LINK_WORKER = {
    hops: _PATHWAYS_FROM_LINK_WORKER.format(types=_PATHWAY_TYPES, max_hops=hops,
                                            state=_STATE.replace("\n", "\n  "))
    for hops in range(1, MAX_MAX_HOPS + 1)
}


def pathways_from_link_worker(
    tx: ManagedTransaction,
    worker_id: str,
    max_hops: int,
    needs: list[str],
    locality: str | None,
    free_only: bool,
    access: list[str],
    age: int | None = None,
    times: Sequence[TimeSlot] = (),
    self_referral_only: bool = False,
    checked: Sequence[str] = (),
) -> tuple[list[list[dict]], dict[str, tuple[NodeKind, dict] | None], tuple]:
    """The best-path candidates (every shortest path to each matching activity, each node
    as ``{"id", "name", "kind"}``), ``{id: (kind, properties) or None}`` for the ``checked``
    ids, and the graph's state read after all of that, as :func:`queries.graph.graph_state`
    gives it."""
    result = tx.run(
        PATHWAYS_FROM_LINK_WORKER[int(max_hops)],
        worker_id=worker_id,
        needs=needs,
        locality=locality,
        free_only=free_only,
        access=access,
        age=age,
        times=[{"day": t.day, "start": t.start, "end": t.end} for t in times],
        self_referral_only=self_referral_only,
        checked=list(checked),
    )
    record = result.single(strict=True)
    about = {node_id: (name, kind) for node_id, name, kind in record["nodes"]}
    found: dict[str, tuple[NodeKind, dict] | None] = dict.fromkeys(checked)
    for node_id, kind, props in record["checked"]:
        found[node_id] = (NodeKind(kind), props)
    paths = [[{"id": node_id, "name": about[node_id][0], "kind": about[node_id][1]}
              for node_id in path] for path in record["paths"]]
    return paths, found, tuple(record["state"])
