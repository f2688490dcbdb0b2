"""What every command shares: the store the root options chose, opened on first use."""

from __future__ import annotations

import click

from pathways.config import Neo4jSettings, store_choice
from pathways.store import GraphStore, open_store


class Context:
    """The root group's options; :meth:`store` opens the chosen store once and says which."""

    def __init__(self, store: str | None, uri, user, password, database):
        self.choice = store
        self.neo4j = dict(uri=uri, user=user, password=password, database=database)
        self._store: GraphStore | None = None

    def store(self) -> GraphStore:
        if self._store is None:
            settings = None
            if store_choice(self.choice) == "neo4j":
                settings = Neo4jSettings.from_env(**self.neo4j)
            self._store = open_store(self.choice, settings)
            click.echo(f"Using the {self._store.describe()}", err=True)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


pass_ctx = click.make_pass_decorator(Context)
