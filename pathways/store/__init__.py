"""Graph stores behind one interface; :func:`open_store` picks one from settings."""

from __future__ import annotations

from dataclasses import replace

from pathways.config import Neo4jSettings, Settings
from pathways.store.base import GraphStore, PathwayFilter, WriteSummary


def embedded_path(settings: Settings | None = None):
    return (settings or Settings.from_env()).embedded_path


def open_store(choice: str | None = None, neo4j_settings: Neo4jSettings | None = None,
               settings: Settings | None = None) -> GraphStore:
    """Open the chosen store: ``embedded`` (default) or ``neo4j``, as ``settings`` say (read
    from the environment when not given; see :mod:`pathways.config`).  ``choice`` and
    ``neo4j_settings`` override them."""
    settings = settings or Settings.from_env()
    if choice:
        settings = replace(settings, store=choice.strip().lower())
    if settings.store_choice() == "neo4j":
        from pathways.store.neo4j import Neo4jStore

        return Neo4jStore(neo4j_settings or settings.neo4j())
    from pathways.store.embedded import EmbeddedStore

    return EmbeddedStore(settings.embedded_path)


__all__ = ["GraphStore", "PathwayFilter", "WriteSummary", "embedded_path", "open_store"]
