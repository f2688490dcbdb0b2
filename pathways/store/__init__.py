"""Graph stores behind one interface; :func:`open_store` picks one from settings."""

from __future__ import annotations

from pathways.config import Neo4jSettings, pathways_home, store_choice
from pathways.store.base import GraphStore, PathwayFilter, WriteSummary


def embedded_path():
    return pathways_home() / "graph.json"


def open_store(choice: str | None = None, neo4j_settings: Neo4jSettings | None = None) -> GraphStore:
    """Open the chosen store: ``embedded`` (default) or ``neo4j``; see :mod:`pathways.config`."""
    if store_choice(choice) == "neo4j":
        from pathways.store.neo4j import Neo4jStore

        return Neo4jStore(neo4j_settings or Neo4jSettings.from_env())
    from pathways.store.embedded import EmbeddedStore

    return EmbeddedStore(embedded_path())


__all__ = ["GraphStore", "PathwayFilter", "WriteSummary", "open_store", "embedded_path"]
