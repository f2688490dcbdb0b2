"""Named Cypher for pathways from a link worker to activities.

A pathway follows REFERS_TO, PROVIDES and OFFERS relationships in their direction.  The
relationship types and the search bound come from :mod:`pathways.model` (a whitelist and a
constant); everything a user chooses travels as a parameter.
"""

from __future__ import annotations

from neo4j import ManagedTransaction

from pathways.model import MAX_MAX_HOPS, PATHWAY_RELS

_PATHWAY_TYPES = "|".join(rel.value for rel in PATHWAY_RELS)

# allShortestPaths returns every shortest path to each matching activity; the analysis
# layer then breaks ties by the names along the path, the same way for every store.
PATHWAYS_FROM_LINK_WORKER = f"""
MATCH (w:Person {{id: $worker_id}})
MATCH (a:Activity)
WHERE ($free_only = false OR a.free = true)
  AND all(tag IN $access WHERE tag IN coalesce(a.accessibility, []))
  AND (size($needs) = 0 OR EXISTS {{ MATCH (a)-[:ADDRESSES]->(n:Need) WHERE n.id IN $needs }})
  AND ($locality IS NULL OR EXISTS {{ MATCH (a)-[:LOCATED_IN]->(:Locality {{id: $locality}}) }})
MATCH p = allShortestPaths((w)-[:{_PATHWAY_TYPES}*..{MAX_MAX_HOPS}]->(a))
WHERE length(p) <= $max_hops
RETURN [n IN nodes(p) | {{id: n.id, name: n.name,
                          kind: [l IN labels(n) WHERE l <> 'Pathways'][0]}}] AS path
"""


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
        PATHWAYS_FROM_LINK_WORKER,
        worker_id=worker_id,
        max_hops=max_hops,
        needs=needs,
        locality=locality,
        free_only=free_only,
        access=access,
    )
    return [record["path"] for record in result]
