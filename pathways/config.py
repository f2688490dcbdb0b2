"""Settings from the environment (and CLI options), with documented defaults.

============================  ======================================  =========================
variable                      meaning                                 default
============================  ======================================  =========================
``PATHWAYS_STORE``            ``embedded`` or ``neo4j``               ``embedded``
``PATHWAYS_HOME``             data directory (embedded graph, the     the user's data dir
                              local Neo4j's database and password)
``NEO4J_URI``                 Bolt address of your Neo4j              the local server
``NEO4J_USER``                Neo4j user                              ``neo4j``
``NEO4J_PASSWORD``            Neo4j password                          the local server's
``NEO4J_DATABASE``            database name                           ``neo4j``
``PATHWAYS_NEO4J_HEAP``       the local server's largest heap         half the machine's memory
``PATHWAYS_NEO4J_PAGECACHE``  the local server's page cache           ``256m``
============================  ======================================  =========================

When ``NEO4J_URI`` is not set, the address and password of the server started by
``pathways neo4j start`` are used.  That server's password is random, made when it was
first started, and kept only in ``$PATHWAYS_HOME/neo4j/server.json`` (readable by its owner
only); it is never printed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from pathways.errors import PathwaysError

STORE_CHOICES = ("embedded", "neo4j")


def pathways_home() -> Path:
    """The data directory: ``$PATHWAYS_HOME`` or the platform's user data dir."""
    given = os.environ.get("PATHWAYS_HOME")
    if given:
        return Path(given).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("thriving-pathways", appauthor=False))


def store_choice(given: str | None = None) -> str:
    choice = (given or os.environ.get("PATHWAYS_STORE") or "embedded").strip().lower()
    if choice not in STORE_CHOICES:
        raise PathwaysError(f"unknown store {choice!r}; choose embedded or neo4j")
    return choice


@dataclass(frozen=True)
class Neo4jSettings:
    uri: str
    user: str
    password: str
    database: str

    @classmethod
    def from_env(
        cls,
        uri: str | None = None,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
    ) -> "Neo4jSettings":
        """Options win over ``NEO4J_*`` variables, which win over the local dev server."""
        local = local_server_state()
        uri = uri or os.environ.get("NEO4J_URI") or (local or {}).get("uri")
        if not uri:
            raise PathwaysError(
                "no Neo4j to talk to: set NEO4J_URI (and NEO4J_USER, NEO4J_PASSWORD),"
                " or start a local one with `pathways neo4j start`"
            )
        from_local = local is not None and uri == local.get("uri")
        default_password = local["password"] if from_local else ""
        return cls(
            uri=uri,
            user=user or os.environ.get("NEO4J_USER") or "neo4j",
            password=password or os.environ.get("NEO4J_PASSWORD") or default_password,
            database=database or os.environ.get("NEO4J_DATABASE") or "neo4j",
        )


def local_server_state() -> dict | None:
    """What `pathways neo4j start` recorded about the local server (running or not)."""
    path = pathways_home() / "neo4j" / "server.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
