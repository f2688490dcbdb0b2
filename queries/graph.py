"""Named Cypher for loading and reading the graph, each beside the function that runs it.

Values always travel as ``$parameters``.  Labels and relationship types are put into the
text only from :mod:`pathways.model`'s enums (a whitelist), never from input: see
:data:`CREATE_NODES`, :data:`CREATE_RELATIONSHIPS` and their kin.

Every node carries the label ``Pathways`` as well as its kind's label, so one uniqueness
constraint keeps ids unique across kinds.
"""

from __future__ import annotations

from neo4j import ManagedTransaction, Transaction

from pathways.model import CONTENT_HASH, PROVENANCE_FIELDS, NodeKind, RelType

CREATE_BASE_CONSTRAINT = (
    "CREATE CONSTRAINT pathways_id_unique IF NOT EXISTS "
    "FOR (n:Pathways) REQUIRE n.id IS UNIQUE"
)
# One per kind so that MATCH (:Person {id: $id}) uses an index too.
CREATE_KIND_CONSTRAINTS = {
    kind: f"CREATE CONSTRAINT {kind.label.lower()}_id_unique IF NOT EXISTS "
    f"FOR (n:{kind.label}) REQUIRE n.id IS UNIQUE"
    for kind in NodeKind
}


def create_constraints(tx: ManagedTransaction) -> None:
    tx.run(CREATE_BASE_CONSTRAINT)
    tx.run(CREATE_META_CONSTRAINT)
    for query in CREATE_KIND_CONSTRAINTS.values():
        tx.run(query)


# Lists of ids are always looked up by index seek (hinted): a plan made while the graph was
# empty can otherwise stay cached as a label scan per id once the graph is large.
KINDS_OF_IDS = """
UNWIND $ids AS wanted
MATCH (n:Pathways {id: wanted})
USING INDEX SEEK n:Pathways(id)
RETURN n.id AS id, [l IN labels(n) WHERE l <> 'Pathways'][0] AS kind
"""


def kinds_of_ids(tx: ManagedTransaction, ids: list[str]) -> dict[str, NodeKind]:
    return {r["id"]: NodeKind(r["kind"]) for r in tx.run(KINDS_OF_IDS, ids=ids)}


# Whether the graph has any node: a first load into an empty graph skips the hash lookups
# (at 10k they were a third of the loader's lead over the bare UNWIND of the same rows).
HAS_NODES = """
OPTIONAL MATCH (n:Pathways)
WITH n LIMIT 1
RETURN n IS NOT NULL AS found
"""


def has_nodes(tx: ManagedTransaction) -> bool:
    return tx.run(HAS_NODES).single(strict=True)["found"]


# Hashes come back as one list per query: a record per row costs far more in the driver.
NODE_HASHES = """
UNWIND $ids AS wanted
MATCH (n:Pathways {id: wanted})
USING INDEX SEEK n:Pathways(id)
RETURN collect([n.id, n.content_hash]) AS hashes
"""


def node_hashes(tx: ManagedTransaction, ids: list[str]) -> dict[str, str]:
    return dict(tx.run(NODE_HASHES, ids=ids).single(strict=True)["hashes"])


# Both ends are found by index seek (hinted): right after a large load the planner's
# statistics are stale, and it once planned the end lookups as a scan of the whole id index
# joined per key (100,000 index entries per key).
_BOTH_ENDS = """
MATCH (a:Pathways {{id: {source}}})
USING INDEX SEEK a:Pathways(id)
MATCH (b:Pathways {{id: {target}}})
USING INDEX SEEK b:Pathways(id)"""

# The hashes of every relationship going out of the given nodes: one index seek per source
# and its outgoing relationships, a plan with no alternative.  Asking for each (source,
# type, target) instead left the planner a choice between expanding from either end, and a
# plan cached while the graph was small expanded from the target: a need with 15,000
# ADDRESSES made a 10k reload take 117 s.
RELATIONSHIP_HASHES = """
UNWIND $ids AS wanted
MATCH (a:Pathways {id: wanted})
USING INDEX SEEK a:Pathways(id)
MATCH (a)-[r]->(b)
RETURN collect([a.id, type(r), b.id, r.content_hash]) AS hashes
"""


def relationship_hashes(tx: ManagedTransaction, source_ids: list[str]) -> dict[tuple, str]:
    """(source, type, target) → content hash of every relationship out of ``source_ids``."""
    rows = tx.run(RELATIONSHIP_HASHES, ids=source_ids).single(strict=True)["hashes"]
    return {(source, rel, target): digest for source, rel, target, digest in rows}


# Only new and changed rows are sent (the store compares content hashes first), so every
# row written here gets this load's time.  New rows are CREATEd: MERGE would look each one up
# again inside the transaction, which made the first load of 100k nodes three times slower.
# If another load created the same id meanwhile, the uniqueness constraint fails the whole
# transaction, so nothing is half-written.  Changed rows are MERGEd.
_CREATE_NODES = """
UNWIND $rows AS row
CREATE (n:Pathways:{label})
SET n = row, n.loaded_at = $loaded_at
"""
_UPDATE_NODES = """
UNWIND $rows AS row
MERGE (n:Pathways {{id: row.id}})
SET n = row, n.loaded_at = $loaded_at
SET n:{label}
"""
CREATE_NODES = {kind: _CREATE_NODES.format(label=kind.label) for kind in NodeKind}
UPDATE_NODES = {kind: _UPDATE_NODES.format(label=kind.label) for kind in NodeKind}


def upsert_nodes(
    tx: ManagedTransaction, kind: NodeKind, rows: list[dict], loaded_at: str, new: bool = False
) -> None:
    """Write one batch of nodes of one kind (each row its full property map).

    ``new=True`` says none of them exists yet (the store has just looked).
    """
    queries = CREATE_NODES if new else UPDATE_NODES
    tx.run(queries[NodeKind(kind)], rows=rows, loaded_at=loaded_at).consume()


# A relationship keeps its provenance (``source``: which file or feed wrote it) and its
# ``content_hash``, but not what can be derived: its "from|TYPE|to" ``source_id`` (given back
# on reading, see :data:`REL_PROPS`) and a load time per relationship (the load history
# records when each load wrote which relationships).  The store strips them before sending.
_WRITE_RELATIONSHIPS = """
{verb} (a)-[r:{rel_type}]->(b)
SET r = row.props
"""
# A relationship's properties as read: its derived ``source_id`` put back (a graph loaded
# before relationships stopped storing it has its own, the same).
REL_PROPS = "r{.*, source_id: coalesce(r.source_id, a.id + '|' + type(r) + '|' + b.id)}"
_ROW_ENDS = "\nUNWIND $rows AS row" + _BOTH_ENDS.format(source="row.source", target="row.target")
CREATE_RELATIONSHIPS = {
    rel: _ROW_ENDS + _WRITE_RELATIONSHIPS.format(verb="CREATE", rel_type=rel.value)
    for rel in RelType
}
UPDATE_RELATIONSHIPS = {
    rel: _ROW_ENDS + _WRITE_RELATIONSHIPS.format(verb="MERGE", rel_type=rel.value)
    for rel in RelType
}


def upsert_relationships(
    tx: ManagedTransaction, rel: RelType, rows: list[dict], loaded_at: str, new: bool = False
) -> None:
    """Write one batch of relationships of one type (``new=True``: none exists yet)."""
    queries = CREATE_RELATIONSHIPS if new else UPDATE_RELATIONSHIPS
    tx.run(queries[RelType(rel)], rows=rows, loaded_at=loaded_at).consume()


DELETE_BATCH = """
MATCH (n:Pathways)
WITH n LIMIT $limit
DETACH DELETE n
RETURN count(*) AS deleted
"""


def delete_batch(tx: ManagedTransaction, limit: int) -> int:
    return tx.run(DELETE_BATCH, limit=limit).single(strict=True)["deleted"]


COUNT_NODES_BY_KIND = """
MATCH (n:Pathways)
RETURN [l IN labels(n) WHERE l <> 'Pathways'][0] AS kind, count(*) AS count
"""
COUNT_RELATIONSHIPS_BY_TYPE = """
MATCH (:Pathways)-[r]->(:Pathways)
RETURN type(r) AS type, count(*) AS count
"""


def stats(tx: ManagedTransaction) -> dict:
    nodes = {k.value: 0 for k in NodeKind}
    for record in tx.run(COUNT_NODES_BY_KIND):
        nodes[record["kind"]] = record["count"]
    rels = {t.value: 0 for t in RelType}
    for record in tx.run(COUNT_RELATIONSHIPS_BY_TYPE):
        rels[record["type"]] = record["count"]
    return {"nodes": nodes, "relationships": rels}


_LIST_NODES = """
MATCH (n:{label})
WHERE $role IS NULL OR n.role = $role
RETURN properties(n) AS props
ORDER BY n.name, n.id
"""
LIST_NODES = {kind: _LIST_NODES.format(label=kind.label) for kind in NodeKind}


def list_nodes(tx: ManagedTransaction, kind: NodeKind, role: str | None) -> list[dict]:
    return [r["props"] for r in tx.run(LIST_NODES[NodeKind(kind)], role=role)]


GET_NODE = """
MATCH (n:Pathways {id: $id})
RETURN [l IN labels(n) WHERE l <> 'Pathways'][0] AS kind, properties(n) AS props
"""


def get_node(tx: ManagedTransaction, node_id: str) -> tuple[NodeKind, dict] | None:
    record = tx.run(GET_NODE, id=node_id).single()
    return None if record is None else (NodeKind(record["kind"]), record["props"])


ACTIVITY_DETAILS = """
UNWIND $ids AS wanted
MATCH (a:Activity {id: wanted})
RETURN a.id AS id, properties(a) AS props,
       COLLECT { MATCH (o:Organisation)-[:PROVIDES]->(:Service)-[:OFFERS]->(a)
                 RETURN DISTINCT o.name } AS providers,
       COLLECT { MATCH (a)-[:LOCATED_IN]->(l:Locality) RETURN l.name } AS localities,
       COLLECT { MATCH (a)-[:ADDRESSES]->(n:Need) RETURN n.name } AS needs
"""


def activity_details(tx: ManagedTransaction, ids: list[str]) -> dict[str, dict]:
    details = {}
    for record in tx.run(ACTIVITY_DETAILS, ids=ids):
        props = dict(record["props"])
        for field in ("providers", "localities", "needs"):
            props[field] = sorted(record[field])
        details[record["id"]] = props
    return details


RELATIONSHIPS_AMONG = """
MATCH (a:Pathways)-[r]->(b:Pathways)
WHERE a.id IN $ids AND b.id IN $ids
RETURN a.id AS source, type(r) AS type, b.id AS target
ORDER BY source, type, target
"""


def relationships_among(tx: ManagedTransaction, ids: list[str]) -> list[tuple[str, RelType, str]]:
    result = tx.run(RELATIONSHIPS_AMONG, ids=ids)
    return [(r["source"], RelType(r["type"]), r["target"]) for r in result]


# A counter bumped by every write transaction, so cached analyses know when to recompute.
BUMP_GRAPH_VERSION = """
MERGE (m:PathwaysMeta {key: 'graph'})
SET m.version = coalesce(m.version, 0) + 1
"""
GRAPH_VERSION = """
OPTIONAL MATCH (m:PathwaysMeta {key: 'graph'})
RETURN coalesce(m.version, 0) AS version
"""


def bump_graph_version(tx: ManagedTransaction | Transaction) -> None:
    tx.run(BUMP_GRAPH_VERSION).consume()


def graph_version(tx: ManagedTransaction | Transaction) -> int:
    return tx.run(GRAPH_VERSION).single(strict=True)["version"]


# Neo4j applies a committing transaction's changes to its store one by one, and a reader
# running meanwhile can see some of them and not others (read committed, no snapshots).  So
# a load says, in a transaction of its own, that it is committing (its lock token), commits,
# then says it has finished; reads check the graph's state before and after and wait while
# a commit is under way.  A marker whose load no longer holds the lock (it died) is ignored.
GRAPH_STATE = """
OPTIONAL MATCH (m:PathwaysMeta {key: 'graph'})
OPTIONAL MATCH (l:PathwaysMeta {key: 'load_lock'})
RETURN coalesce(m.version, 0) AS version,
       coalesce(m.committing IS NOT NULL AND m.committing = l.owner
                AND l.expires > timestamp(), false) AS committing,
       m.loading AS loading,
       CASE WHEN m.loading IS NULL THEN null
            ELSE {owner: l.owner, host: l.host, pid: l.pid, what: l.what, started: l.started,
                  expires_in_ms: l.expires - timestamp()} END AS holder
"""
ANNOUNCE_COMMIT = """
MERGE (m:PathwaysMeta {key: 'graph'})
SET m.committing = $owner
"""
END_COMMIT = """
MATCH (m:PathwaysMeta {key: 'graph'})
WHERE m.committing = $owner
REMOVE m.committing
"""


def graph_state(tx: ManagedTransaction) -> tuple[int, bool, str | None]:
    """(version, whether a load is committing right now, the token of a load that commits
    batch by batch and has not published yet)."""
    record = tx.run(GRAPH_STATE).single(strict=True)
    return record["version"], record["committing"], record["loading"]


def interrupted_by(tx: ManagedTransaction) -> dict | None:
    """The lock's holder while a batch-by-batch load is unpublished (None: no such load)."""
    record = tx.run(GRAPH_STATE).single(strict=True)
    return None if record["loading"] is None else {**record["holder"],
                                                    "loading": record["loading"]}


# ---- a load committed batch by batch (see pathways.store.neo4j) ----------------------------
# Before its first batch commits, the load saves a journal (what it will change, as it was)
# and marks the graph node ``loading``: readers wait while it is set, so they never see some
# batches and not others.  Publishing bumps the version, clears the mark and drops the
# journal in one transaction; a load that fails or dies is rolled back from its journal.
BEGIN_BATCHED_LOAD = """
MERGE (m:PathwaysMeta {key: 'graph'})
SET m.loading = $owner
MERGE (j:PathwaysMeta {key: 'load_journal'})
SET j.owner = $owner, j.image = $image, j.started = timestamp()
"""
LOAD_JOURNAL = """
MATCH (j:PathwaysMeta {key: 'load_journal'})
RETURN j.owner AS owner, j.image AS image
"""
PUBLISH_BATCHED_LOAD = """
MATCH (m:PathwaysMeta {key: 'graph'})
WHERE m.loading = $owner
SET m.version = coalesce(m.version, 0) + 1
REMOVE m.loading
WITH m
OPTIONAL MATCH (j:PathwaysMeta {key: 'load_journal'})
DELETE j
RETURN count(m) AS published
"""


def begin_batched_load(tx: ManagedTransaction, owner: str, image: bytes) -> None:
    tx.run(BEGIN_BATCHED_LOAD, owner=owner, image=image).consume()


def load_journal(tx: ManagedTransaction) -> tuple[str, bytes] | None:
    record = tx.run(LOAD_JOURNAL).single()
    return None if record is None or record["owner"] is None else (record["owner"],
                                                                     bytes(record["image"]))


def publish_batched_load(tx: ManagedTransaction, owner: str) -> bool:
    return tx.run(PUBLISH_BATCHED_LOAD, owner=owner).single(strict=True)["published"] == 1


def announce_commit(tx: ManagedTransaction, owner: str) -> None:
    tx.run(ANNOUNCE_COMMIT, owner=owner).consume()


def end_commit(tx: ManagedTransaction, owner: str) -> None:
    tx.run(END_COMMIT, owner=owner).consume()


# A snapshot is read in chunks of node ids, each chunk's rows as one collected list: the
# driver spends most of its time per record, so one record per chunk rather than per row
# reads the 100k benchmark graph in a third of the time (19 s -> ~6 s), and chunks keep
# each message (and the server's memory for it) bounded at a million nodes.
SNAPSHOT_CHUNK = 20_000
ALL_IDS = """
MATCH (n:Pathways)
RETURN collect(n.id) AS ids
"""
# Each snapshot read picks the nodes ``a`` (by a list of ids here, by a range of them
# below), then returns their own rows (_NODE_ROWS) or their relationships' (_OUT + ...).
_BY_IDS = """
UNWIND $ids AS wanted
MATCH (a:Pathways {id: wanted})
USING INDEX SEEK a:Pathways(id)
"""
_NODE_ROWS = """
RETURN collect([a.id, [l IN labels(a) WHERE l <> 'Pathways'][0], properties(a)]) AS rows
"""
_OUT = """
MATCH (a)-[r]->(b:Pathways)
"""
SNAPSHOT_NODES = _BY_IDS + _NODE_ROWS
SNAPSHOT_RELATIONSHIPS = _BY_IDS + _OUT + """
RETURN collect([a.id, type(r), b.id, """ + REL_PROPS + """]) AS rows
"""


# The whole graph's relationships as the snapshot reads them.  Almost every relationship
# carries only its provenance (``source``) and ``content_hash``: those come back as two plain
# values, and the property map only for the others (notes, referral details, evidence, an
# older graph's stored ``source_id``); the derived ``source_id`` is put back by the client.
# A map per relationship, and building ``source_id`` in Cypher, were most of the server's
# time: at 100k (464k relationships) 20-21 s -> 10-11 s under load 8 (REL_PROPS' projection).
_OTHER_PROPS = """CASE WHEN size(keys(r)) = 2 AND r.source IS NOT NULL
                          AND r.content_hash IS NOT NULL THEN null
                     ELSE properties(r) END"""
_RELATIONSHIP_ROWS = _OUT + """
RETURN collect([a.id, type(r), b.id, r.source, r.content_hash, """ + _OTHER_PROPS + """]) AS rows
"""
SNAPSHOT_RELATIONSHIP_ROWS = _BY_IDS + _RELATIONSHIP_ROWS


def snapshot_relationships(rows: list) -> list[tuple[str, RelType, str, dict]]:
    """:data:`SNAPSHOT_RELATIONSHIP_ROWS`' rows as ``(source, type, target, props)``, each
    ``props`` what :data:`REL_PROPS` gives (its derived ``source_id`` put back unless stored).

    >>> snapshot_relationships([["a", "OFFERS", "b", "f.csv", "h1", None],
    ...                         ["a", "REFERS_TO", "c", "f.csv", "h2", {"source": "f.csv",
    ...                          "content_hash": "h2", "notes": "weekly"}]])[1]
    ('a', <RelType.REFERS_TO: 'REFERS_TO'>, 'c', {'source': 'f.csv', 'content_hash': 'h2', \
'notes': 'weekly', 'source_id': 'a|REFERS_TO|c'})
    """
    types = {rel.value: rel for rel in RelType}
    found: list[tuple[str, RelType, str, dict]] = []
    for source, rel, target, origin, digest, props in rows:
        if props is None:
            props = {"source": origin, "content_hash": digest,
                     "source_id": source + "|" + rel + "|" + target}
        elif "source_id" not in props:
            props["source_id"] = source + "|" + rel + "|" + target
        found.append((source, types[rel], target, props))
    return found


# The lean read for analyses (GraphStore.analysis_snapshot): the same rows without a
# relationship's provenance and hash, which no analysis reads.  The property map still comes
# for relationships carrying more (referral details, notes), and loses its provenance on
# the client.  At 100k (464k relationships) about 0.3 s less of our CPU and 0.4-0.5 s less
# of the server's than SNAPSHOT_RELATIONSHIP_ROWS (benchmarks/snapshot_read.py).
_RELATIONSHIP_LEAN = _OUT + """
RETURN collect([a.id, type(r), b.id, """ + _OTHER_PROPS + """]) AS rows
"""
SNAPSHOT_RELATIONSHIP_LEAN = _BY_IDS + _RELATIONSHIP_LEAN
RELATIONSHIP_PROVENANCE = frozenset(PROVENANCE_FIELDS) | {CONTENT_HASH}

# The same reads by a range of ids (a chunk's first to its last) rather than a list of
# them: one range seek in the id index instead of 20,000 seeks, in the index's order.  At
# 100k on the server's side: nodes 0.6-1.0 s, not 0.9-1.2 s; relationships 1.0-1.5 s, not
# 1.3-1.9 s (benchmarks/snapshot_read.py).  :func:`snapshot_part` checks the range held
# exactly the chunk's ids, in order, and reads by the list otherwise.  The hint: a plan made
# on an empty graph is cached (see SNAPSHOT_RELATIONSHIPS' seek).
_ID_RANGE = """
MATCH (a:Pathways)
USING INDEX a:Pathways(id)
WHERE a.id >= $first AND a.id <= $last
WITH a ORDER BY a.id
"""
SNAPSHOT_NODE_RANGE = _ID_RANGE + _NODE_ROWS
SNAPSHOT_RELATIONSHIP_RANGE = _ID_RANGE + _RELATIONSHIP_ROWS
SNAPSHOT_RELATIONSHIP_RANGE_LEAN = _ID_RANGE + _RELATIONSHIP_LEAN


def lean_relationships(rows: list) -> list[tuple[str, RelType, str, dict]]:
    """:data:`SNAPSHOT_RELATIONSHIP_LEAN`'s rows as ``(source, type, target, props)``, each
    ``props`` every property but :data:`RELATIONSHIP_PROVENANCE`.

    >>> lean_relationships([["a", "OFFERS", "b", None],
    ...                     ["a", "REFERS_TO", "c", {"source": "f.csv", "content_hash": "h2",
    ...                      "loaded_at": "t", "source_id": "x", "notes": "weekly"}]])
    [('a', <RelType.OFFERS: 'OFFERS'>, 'b', {}), ('a', <RelType.REFERS_TO: 'REFERS_TO'>, \
'c', {'notes': 'weekly'})]
    """
    types = {rel.value: rel for rel in RelType}
    drop = RELATIONSHIP_PROVENANCE
    return [(source, types[rel], target,
             {} if props is None else {k: v for k, v in props.items() if k not in drop})
            for source, rel, target, props in rows]


def snapshot(tx: ManagedTransaction, lean: bool = False) -> tuple[list, list]:
    """Every node and relationship, in one read transaction (a consistent picture);
    ``lean``: relationships without their provenance (:data:`SNAPSHOT_RELATIONSHIP_LEAN`)."""
    ids = sorted(tx.run(ALL_IDS).single(strict=True)["ids"])
    return snapshot_part(tx, ids, lean)


def snapshot_ids(tx: ManagedTransaction, version: object) -> tuple[object, list[str]]:
    """``(version, every node's id, sorted)``: what :func:`snapshot_part` reads split."""
    return version, sorted(tx.run(ALL_IDS).single(strict=True)["ids"])


def snapshot_part(tx: ManagedTransaction, ids: list[str],
                  lean: bool = False) -> tuple[list, list]:
    """The nodes ``ids`` (sorted) and the relationships out of them, read
    :data:`SNAPSHOT_CHUNK` ids a query; the same rows, in the same order, whether the ids
    are read in one transaction or split at chunk boundaries over several.  ``lean``: the
    relationships without their provenance (:func:`lean_relationships`).

    Each chunk is read as the range of ids from its first to its last
    (:data:`SNAPSHOT_NODE_RANGE`), in the index's order; if those are not exactly the
    chunk's ids in order (Neo4j ordering some strings differently from Python), the chunk is
    read again by its ids (:data:`SNAPSHOT_NODES`)."""
    nodes: list = []
    rels: list = []
    kinds = {kind.value: kind for kind in NodeKind}
    by_ids, by_range, rows_of = (
        (SNAPSHOT_RELATIONSHIP_LEAN, SNAPSHOT_RELATIONSHIP_RANGE_LEAN, lean_relationships)
        if lean else
        (SNAPSHOT_RELATIONSHIP_ROWS, SNAPSHOT_RELATIONSHIP_RANGE, snapshot_relationships))
    for start in range(0, len(ids), SNAPSHOT_CHUNK):
        chunk = ids[start : start + SNAPSHOT_CHUNK]
        bounds = {"first": chunk[0], "last": chunk[-1]}
        node_rows = tx.run(SNAPSHOT_NODE_RANGE, bounds).single(strict=True)["rows"]
        if [row[0] for row in node_rows] == chunk:
            rel_rows = tx.run(by_range, bounds).single(strict=True)["rows"]
        else:  # (not seen: ids in one alphabet order the same in both)
            node_rows = tx.run(SNAPSHOT_NODES, ids=chunk).single(strict=True)["rows"]
            rel_rows = tx.run(by_ids, ids=chunk).single(strict=True)["rows"]
        nodes.extend((node_id, kinds[kind], props) for node_id, kind, props in node_rows)
        rels.extend(rows_of(rel_rows))
    return nodes, rels


def versioned_snapshot_part(tx: ManagedTransaction, version: object, ids: list[str],
                            lean: bool = False) -> tuple[object, list, list]:
    """:func:`snapshot_part` with the data version its transaction saw."""
    return (version, *snapshot_part(tx, ids, lean))


IDS_FROM_SOURCES = """
MATCH (n:Pathways)
WHERE n.source IN $sources
RETURN collect(n.id) AS ids
"""


def ids_from_sources(tx: ManagedTransaction, sources: list[str]) -> set[str]:
    return set(tx.run(IDS_FROM_SOURCES, sources=sources).single(strict=True)["ids"])


MARK_MISSING_FROM_FEED = """
UNWIND $ids AS gone
MATCH (n:Pathways {id: gone})
USING INDEX SEEK n:Pathways(id)
SET n.missing_from_feed = $stamp
"""
REMOVE_NODES = """
UNWIND $ids AS gone
MATCH (n:Pathways {id: gone})
USING INDEX SEEK n:Pathways(id)
DETACH DELETE n
"""


def retire(tx: ManagedTransaction, ids: list[str], remove: bool, stamp: str) -> None:
    if remove:
        tx.run(REMOVE_NODES, ids=ids).consume()
    else:
        tx.run(MARK_MISSING_FROM_FEED, ids=ids, stamp=stamp).consume()


# Relationships out of given nodes with their properties (a feed's earlier links, a
# partnership's vetoes): one index seek per node, as RELATIONSHIP_HASHES.
RELATIONSHIPS_FROM = """
UNWIND $ids AS wanted
MATCH (a:Pathways {id: wanted})
USING INDEX SEEK a:Pathways(id)
MATCH (a)-[r]->(b:Pathways)
RETURN collect([a.id, type(r), b.id, """ + REL_PROPS + """]) AS rows
"""


def relationships_from(tx: ManagedTransaction, ids: list[str]) -> list[tuple[str, RelType, str, dict]]:
    rows = tx.run(RELATIONSHIPS_FROM, ids=ids).single(strict=True)["rows"]
    return [(source, RelType(rel), target, props) for source, rel, target, props in rows]


UNLINK = {
    rel: _ROW_ENDS + f"\nMATCH (a)-[r:{rel.value}]->(b)\nDELETE r\n" for rel in RelType
}


def unlink(tx: ManagedTransaction, keys: list[tuple[str, RelType, str]]) -> None:
    """Delete relationships ``(source, type, target)``, batched per type (types whitelisted)."""
    by_type: dict[RelType, list[dict]] = {}
    for source, rel, target in keys:
        by_type.setdefault(RelType(rel), []).append({"source": source, "target": target})
    for rel, rows in by_type.items():
        tx.run(UNLINK[rel], rows=rows).consume()


# ---- one writer at a time: a lease on one PathwaysMeta node -------------------------------
# The lock node has only the PathwaysMeta label, so reads (which match :Pathways), stats,
# snapshots and reset() never see or delete it.  PathwaysMeta keys are unique, so two
# loads racing to MERGE it find the same node.
CREATE_META_CONSTRAINT = (
    "CREATE CONSTRAINT pathways_meta_key_unique IF NOT EXISTS "
    "FOR (m:PathwaysMeta) REQUIRE m.key IS UNIQUE"
)
# The first statement takes the node's write lock (held until the transaction ends), so the
# owner read next is the latest committed one and no other load can change it meanwhile.
LOCK_NODE = """
MERGE (l:PathwaysMeta {key: 'load_lock'})
SET l.probed = timestamp()
"""
LOCK_HOLDER = """
MATCH (l:PathwaysMeta {key: 'load_lock'})
RETURN l.owner AS owner, l.host AS host, l.pid AS pid, l.what AS what,
       l.started AS started, l.expires - timestamp() AS expires_in_ms
"""
TAKE_LOCK = """
MATCH (l:PathwaysMeta {key: 'load_lock'})
SET l.owner = $owner, l.host = $host, l.pid = $pid, l.what = $what,
    l.started = timestamp(), l.expires = timestamp() + $lease_ms
"""
RENEW_LOCK = """
MATCH (l:PathwaysMeta {key: 'load_lock'})
WHERE l.owner = $owner
SET l.expires = timestamp() + $lease_ms
RETURN count(l) AS renewed
"""
RELEASE_LOCK = """
MATCH (l:PathwaysMeta {key: 'load_lock'})
WHERE l.owner = $owner
REMOVE l.owner, l.host, l.pid, l.what, l.started, l.expires
"""


# A batched load's sessions do not check the lock node itself before each commit (taking
# its write lock made the sessions' commits take turns): each write-locks its own session's
# fence node, then reads the holder.  Taking the lock write-locks every fence (FENCE_ALL) in
# the same transaction, so it waits for any batch in the middle of its check to commit, and a
# batch checking after it reads the new holder (see pathways.store.neo4j_load).  A fixed set:
# one a batch could create after a takeover had locked "all of them" would fence nothing.
LOAD_FENCES = 16
FENCE = """
MERGE (f:PathwaysMeta {key: 'load_fence:' + toString($number)})
SET f.probed = timestamp()
"""
FENCE_ALL = """
UNWIND range(0, $count - 1) AS number
MERGE (f:PathwaysMeta {key: 'load_fence:' + toString(number)})
SET f.probed = timestamp()
"""


def lock_holder(tx: ManagedTransaction | Transaction) -> dict | None:
    """Lock the load-lock node for this transaction; return its holder (None if free)."""
    tx.run(LOCK_NODE).consume()
    record = tx.run(LOCK_HOLDER).single()
    return None if record is None or record["owner"] is None else record.data()


def fenced_holder(tx: ManagedTransaction | Transaction, fence: int) -> dict | None:
    """Lock fence node ``fence`` (a load's session number) for this transaction, not the lock
    node, which other sessions' commits then need not wait for; return the lock's holder
    (None if free)."""
    tx.run(FENCE, number=fence % LOAD_FENCES).consume()
    record = tx.run(LOCK_HOLDER).single()
    return None if record is None or record["owner"] is None else record.data()


def fence_all(tx: ManagedTransaction) -> None:
    """Write-lock every fence node (in one order: two takeovers cannot deadlock), waiting
    for any batch holding one to commit or abort."""
    tx.run(FENCE_ALL, count=LOAD_FENCES).consume()


def take_lock(tx: ManagedTransaction, owner: str, host: str, pid: int, what: str,
              lease_ms: int) -> None:
    tx.run(TAKE_LOCK, owner=owner, host=host, pid=pid, what=what, lease_ms=lease_ms).consume()


def renew_lock(tx: ManagedTransaction, owner: str, lease_ms: int) -> bool:
    return tx.run(RENEW_LOCK, owner=owner, lease_ms=lease_ms).single(strict=True)["renewed"] == 1


def release_lock(tx: ManagedTransaction, owner: str) -> None:
    tx.run(RELEASE_LOCK, owner=owner).consume()


# How much memory one transaction may use: the total for all transactions, and the limit
# per transaction (0B: none).  A load is refused before writing when it cannot fit.
MEMORY_SETTINGS = """
SHOW SETTINGS YIELD name, value
WHERE name IN ['dbms.memory.transaction.total.max', 'db.memory.transaction.max']
RETURN name, value
"""
