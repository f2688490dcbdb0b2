"""Named Cypher for pathways from a link worker to activities.

A pathway follows REFERS_TO, PROVIDES and OFFERS relationships in their direction.  The
relationship types and the search bound come from :mod:`pathways.model` (a whitelist and a
constant); everything a user chooses travels as a parameter.
"""

from __future__ import annotations

from neo4j import ManagedTransaction

from pathways.model import MAX_MAX_HOPS, PATHWAY_RELS

_PATHWAY_TYPES = "|".join(rel.value for rel in PATHWAY_RELS)

# Anchored on the link worker's indexed id; ALL SHORTEST (GQL, Neo4j 5.21+) expands outwards
# once and returns every shortest path to each activity within the bound, so the cost grows
# with what the worker can reach, not with the number of activities in the graph.  The
# analysis layer breaks ties by the names along the path, the same way for every store.
# Quantifier bounds cannot be parameters, so there is one query per hop limit, 1 to
# MAX_MAX_HOPS: the number comes from this range, never from input.
_PATHWAYS_FROM_LINK_WORKER = """
MATCH (w:Person {{id: $worker_id}})
MATCH p = ALL SHORTEST (w)-[:{types}]->{{1,{max_hops}}}(a:Activity)
WHERE ($free_only = false OR a.free = true)
  AND all(tag IN $access WHERE tag IN coalesce(a.accessibility, []))
  AND (size($needs) = 0 OR EXISTS {{ MATCH (a)-[:ADDRESSES]->(n:Need) WHERE n.id IN $needs }})
  AND ($locality IS NULL OR EXISTS {{ MATCH (a)-[:LOCATED_IN]->(:Locality {{id: $locality}}) }})
RETURN [n IN nodes(p) | {{id: n.id, name: n.name,
                          kind: [l IN labels(n) WHERE l <> 'Pathways'][0]}}] AS path
"""
PATHWAYS_FROM_LINK_WORKER = {
    hops: _PATHWAYS_FROM_LINK_WORKER.format(types=_PATHWAY_TYPES, max_hops=hops)
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
) -> list[list[dict]]:
    result = tx.run(
        PATHWAYS_FROM_LINK_WORKER[int(max_hops)],
        worker_id=worker_id,
        needs=needs,
        locality=locality,
        free_only=free_only,
        access=access,
    )
    return [record["path"] for record in result]
