"""What every command shares: the run's settings (read once, the root options winning over
the environment) and the store they choose, opened on first use."""

from __future__ import annotations

import click

from pathways.config import Settings
from pathways.store import GraphStore, open_store


class Context:
    """The root group's options as one :class:`~pathways.config.Settings`; :meth:`store` opens
    the chosen store once and says which."""

    def __init__(self, store: str | None, uri, user, password, database):
        self.settings = Settings.from_env(store=store, neo4j_uri=uri, neo4j_user=user,
                                          neo4j_password=password, neo4j_database=database)
        self._store: GraphStore | None = None

    def store(self) -> GraphStore:
        if self._store is None:
            self._store = open_store(settings=self.settings)
            click.echo(f"Using the {self._store.describe()}", err=True)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


pass_ctx = click.make_pass_decorator(Context)
