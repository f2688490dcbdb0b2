"""Named Cypher for load history and undo (:mod:`pathways.history`) on the Neo4j store.

A load's record is a ``PathwaysLoad`` node (:data:`pathways.model.HISTORY_LABEL`): its ``id``,
its number ``seq``, the record itself as JSON text and the compressed before-image as bytes.
It is a ``PathwaysMeta`` node (key ``load:<id>``) like the load lock, not a ``Pathways`` one,
so every graph query (stats, lists, snapshots, analyses) and ``reset`` pass it by.

Restoring an image writes labels and relationship types only from :mod:`pathways.model`'s
enums; ids and properties travel as ``$parameters``.
"""

from __future__ import annotations

from neo4j import ManagedTransaction, Transaction

from pathways.model import HISTORY_LABEL, NodeKind, RelType

CREATE_LOAD_CONSTRAINT = (
    f"CREATE CONSTRAINT pathways_load_id_unique IF NOT EXISTS "
    f"FOR (l:{HISTORY_LABEL}) REQUIRE l.id IS UNIQUE"
)


def create_constraint(tx: ManagedTransaction) -> None:
    tx.run(CREATE_LOAD_CONSTRAINT).consume()


# ---- records -------------------------------------------------------------------------------
SAVE_LOAD = f"""
MERGE (l:PathwaysMeta {{key: 'load:' + $id}})
SET l:{HISTORY_LABEL}, l.id = $id, l.seq = $seq, l.record = $record
"""
SAVE_LOAD_WITH_IMAGE = SAVE_LOAD + "SET l.image = $image\n"
LIST_LOADS = f"""
MATCH (l:{HISTORY_LABEL})
RETURN collect(l.record) AS records
"""
LOAD_IMAGE = f"""
MATCH (l:{HISTORY_LABEL} {{id: $id}})
RETURN l.image AS image
"""
DROP_LOAD = f"""
MATCH (l:{HISTORY_LABEL} {{id: $id}})
DELETE l
"""


def save_load(tx: ManagedTransaction, load_id: str, seq: int, record: str,
              image: bytes | None) -> None:
    if image is None:
        tx.run(SAVE_LOAD, id=load_id, seq=seq, record=record).consume()
    else:
        tx.run(SAVE_LOAD_WITH_IMAGE, id=load_id, seq=seq, record=record, image=image).consume()


def list_loads(tx: ManagedTransaction) -> list[str]:
    return tx.run(LIST_LOADS).single(strict=True)["records"]


def load_image(tx: ManagedTransaction, load_id: str) -> bytes | None:
    record = tx.run(LOAD_IMAGE, id=load_id).single()
    return None if record is None or record["image"] is None else bytes(record["image"])


def drop_load(tx: ManagedTransaction, load_id: str) -> None:
    tx.run(DROP_LOAD, id=load_id).consume()


# ---- before-images -------------------------------------------------------------------------
# Nodes and their outgoing relationships are read with queries.graph's SNAPSHOT_NODES and
# SNAPSHOT_RELATIONSHIPS; a node a load may delete also needs what points at it.
RELATIONSHIPS_INTO = """
UNWIND $ids AS wanted
MATCH (b:Pathways {id: wanted})
USING INDEX SEEK b:Pathways(id)
MATCH (a:Pathways)-[r]->(b)
RETURN collect([a.id, type(r), b.id, r{.*, source_id: coalesce(r.source_id, a.id + '|' + type(r)
                                                              + '|' + b.id)}]) AS rows
"""


def relationships_into(tx: ManagedTransaction, ids: list[str]) -> list:
    return tx.run(RELATIONSHIPS_INTO, ids=ids).single(strict=True)["rows"]


# ---- restoring -----------------------------------------------------------------------------
# A node gets exactly the properties it had, its kind's label and no other kind's.
_RESTORE_NODES = """
UNWIND $rows AS row
MERGE (n:Pathways {{id: row.id}})
SET n = row.props
SET n:{label}
{remove}
"""
RESTORE_NODES = {
    kind: _RESTORE_NODES.format(
        label=kind.label,
        remove="REMOVE n:" + ":".join(k.label for k in NodeKind if k != kind))
    for kind in NodeKind
}
_ENDS = """
UNWIND $rows AS row
MATCH (a:Pathways {id: row.source})
USING INDEX SEEK a:Pathways(id)
MATCH (b:Pathways {id: row.target})
USING INDEX SEEK b:Pathways(id)
"""
RESTORE_RELATIONSHIPS = {
    rel: _ENDS + f"MERGE (a)-[r:{rel.value}]->(b)\nSET r = row.props\n" for rel in RelType
}
DELETE_RELATIONSHIPS = {
    rel: _ENDS + f"MATCH (a)-[r:{rel.value}]->(b)\nDELETE r\n" for rel in RelType
}
DELETE_NODES = """
UNWIND $ids AS gone
MATCH (n:Pathways {id: gone})
USING INDEX SEEK n:Pathways(id)
DETACH DELETE n
"""


def restore_nodes(tx: ManagedTransaction | Transaction, kind: NodeKind, rows: list[dict]) -> None:
    """``rows``: ``{"id": ..., "props": {...}}``."""
    tx.run(RESTORE_NODES[NodeKind(kind)], rows=rows).consume()


def restore_relationships(tx: ManagedTransaction | Transaction, rel: RelType,
                          rows: list[dict]) -> None:
    """``rows``: ``{"source": ..., "target": ..., "props": {...}}``."""
    tx.run(RESTORE_RELATIONSHIPS[RelType(rel)], rows=rows).consume()


def delete_relationships(tx: ManagedTransaction | Transaction, rel: RelType,
                         rows: list[dict]) -> None:
    """``rows``: ``{"source": ..., "target": ...}``."""
    tx.run(DELETE_RELATIONSHIPS[RelType(rel)], rows=rows).consume()


def delete_nodes(tx: ManagedTransaction | Transaction, ids: list[str]) -> None:
    tx.run(DELETE_NODES, ids=ids).consume()
