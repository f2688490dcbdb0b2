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
``PATHWAYS_NEO4J_VERSION``    the local server's Neo4j version        ``5.26.0``
``PATHWAYS_CACHE``            where the local server's jars are kept  the user's cache dir
``JAVA_HOME``                 the Java the local server runs on       ``java`` on the PATH
``PATHWAYS_SECURE_COOKIES``   ``1``: sign-in cookies sent over https  off (set it behind https)
                              only (the Secure flag)
``PATHWAYS_IDLE_MINUTES``     sign out after this long without a      ``60``
                              request
``PATHWAYS_TRUSTED_HEADERS``  ``1``: trust the SSO proxy's user and   off (see the README: only
                              role headers instead of accounts        behind that proxy)
``PATHWAYS_USER_HEADER``      the proxy's header naming the user      ``X-Forwarded-User``
``PATHWAYS_ROLE_HEADER``      the proxy's header naming the role      ``X-Forwarded-Role``
``PATHWAYS_TRUSTED_PROXIES``  how many reverse proxies in front of    ``0`` (the address the
                              the app add ``X-Forwarded-For``: the    connection came from)
                              client's address is taken from it
============================  ======================================  =========================

Every variable is read in one place, :meth:`Settings.from_env`, into one frozen
:class:`Settings`.  Each entry point reads it once and passes it down: the CLI's root group
(its options win over the variables), the web app (:mod:`pathways.webstore`), and library
calls made without settings (tests, scripts), which read the environment as it is then.

When ``NEO4J_URI`` is not set, the address and password of the server started by
``pathways neo4j start`` are used.  That server's password is random, made when it was
first started, and kept only in ``$PATHWAYS_HOME/neo4j/server.json`` (readable by its owner
only); it is never printed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pathways.errors import PathwaysError

STORE_CHOICES = ("embedded", "neo4j")
DEFAULT_NEO4J_VERSION = "5.26.0"


@dataclass(frozen=True)
class Neo4jSettings:
    """Where and as whom to reach one Neo4j database."""

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
    ) -> Neo4jSettings:
        """Options win over ``NEO4J_*`` variables, which win over the local dev server."""
        return Settings.from_env(neo4j_uri=uri, neo4j_user=user, neo4j_password=password,
                                 neo4j_database=database).neo4j()


@dataclass(frozen=True)
class Settings:
    """Every setting of a run, read once from the environment (and the CLI's options).

    ``None`` means "not given": the documented default applies where the setting is used.
    """

    store: str = "embedded"
    home: Path = Path(".")
    cache: Path | None = None
    neo4j_uri: str | None = None
    neo4j_user: str | None = None
    neo4j_password: str | None = None
    neo4j_database: str | None = None
    neo4j_version: str = DEFAULT_NEO4J_VERSION
    neo4j_heap: str | None = None
    neo4j_pagecache: str = "256m"
    java_home: str | None = None
    # Sign-in (pathways/accounts.py, pages/_access.py)
    secure_cookies: bool = False
    idle_minutes: int = 60
    trusted_headers: bool = False
    user_header: str = "X-Forwarded-User"
    role_header: str = "X-Forwarded-Role"
    trusted_proxies: int = 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **given: str | None) -> Settings:
        """The settings in ``environ`` (default ``os.environ``); ``given`` values that are not
        ``None`` (the CLI's options, e.g. ``store="neo4j"``) win over the variables.

        >>> s = Settings.from_env({"PATHWAYS_HOME": "/data/tp", "NEO4J_URI": "bolt://db:7687"},
        ...                       store="Neo4j")
        >>> s.store, str(s.home), s.neo4j_uri, str(s.state_file)
        ('neo4j', '/data/tp', 'bolt://db:7687', '/data/tp/neo4j/server.json')
        """
        env = os.environ if environ is None else environ

        def read(name: str) -> str | None:
            return env.get(name) or None  # an empty variable counts as not set

        home = read("PATHWAYS_HOME")
        cache = read("PATHWAYS_CACHE")
        settings = cls(
            store=(read("PATHWAYS_STORE") or "embedded").strip().lower(),
            home=Path(home).expanduser() if home else _user_data_dir(),
            cache=Path(cache).expanduser() if cache else None,
            neo4j_uri=read("NEO4J_URI"),
            neo4j_user=read("NEO4J_USER"),
            neo4j_password=read("NEO4J_PASSWORD"),
            neo4j_database=read("NEO4J_DATABASE"),
            neo4j_version=read("PATHWAYS_NEO4J_VERSION") or DEFAULT_NEO4J_VERSION,
            neo4j_heap=read("PATHWAYS_NEO4J_HEAP"),
            neo4j_pagecache=read("PATHWAYS_NEO4J_PAGECACHE") or "256m",
            java_home=read("JAVA_HOME"),
            secure_cookies=_flag(read("PATHWAYS_SECURE_COOKIES")),
            idle_minutes=_minutes(read("PATHWAYS_IDLE_MINUTES")),
            trusted_headers=_flag(read("PATHWAYS_TRUSTED_HEADERS")),
            user_header=read("PATHWAYS_USER_HEADER") or "X-Forwarded-User",
            role_header=read("PATHWAYS_ROLE_HEADER") or "X-Forwarded-Role",
            trusted_proxies=_proxies(read("PATHWAYS_TRUSTED_PROXIES")),
        )
        # the CLI's options: text settings only (store, neo4j_*)
        chosen: dict[str, Any] = {k: v for k, v in given.items() if v}
        if "store" in chosen:
            chosen["store"] = chosen["store"].strip().lower()
        return replace(settings, **chosen)

    @property
    def state_file(self) -> Path:
        """What ``pathways neo4j start`` records about the local server (the one definition)."""
        return self.home / "neo4j" / "server.json"

    @property
    def accounts_file(self) -> Path:
        """The app's accounts (names, roles, argon2 password hashes), readable by its owner only."""
        return self.home / "accounts.json"

    @property
    def secret_file(self) -> Path:
        """The server's secret that signs sign-in cookies and share links (made once, 0600)."""
        return self.home / "server-secret"

    @property
    def throttle_file(self) -> Path:
        """Recent failed sign-ins, shared by every worker process (SQLite, 0600)."""
        return self.home / "sign-in-failures.sqlite3"

    @property
    def share_links_file(self) -> Path:
        """The share links issued (so they can be listed and revoked)."""
        return self.home / "share-links.json"

    @property
    def embedded_path(self) -> Path:
        """The embedded store's file."""
        return self.home / "graph.json"

    def store_choice(self) -> str:
        """``embedded`` or ``neo4j``, or a clear error for anything else."""
        if self.store not in STORE_CHOICES:
            raise PathwaysError(f"unknown store {self.store!r}; choose embedded or neo4j")
        return self.store

    def local_server_state(self) -> dict | None:
        """What `pathways neo4j start` recorded about the local server (running or not)."""
        try:
            return json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def neo4j(self) -> Neo4jSettings:
        """The Neo4j to talk to: the given address, or the local dev server's."""
        local = self.local_server_state()
        uri = self.neo4j_uri or (local or {}).get("uri")
        if not uri:
            raise PathwaysError(
                "no Neo4j to talk to: set NEO4J_URI (and NEO4J_USER, NEO4J_PASSWORD),"
                " or start a local one with `pathways neo4j start`"
            )
        from_local = local is not None and uri == local.get("uri")
        default_password = local["password"] if local is not None and from_local else ""
        return Neo4jSettings(
            uri=uri,
            user=self.neo4j_user or "neo4j",
            password=self.neo4j_password or default_password,
            database=self.neo4j_database or "neo4j",
        )


def _flag(value: str | None) -> bool:
    """An on/off variable: ``1``, ``true``, ``yes`` or ``on`` (any case) is on.

    >>> [_flag(v) for v in ("1", "True", "on", "0", "no", None)]
    [True, True, True, False, False, False]
    """
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _minutes(value: str | None) -> int:
    """``PATHWAYS_IDLE_MINUTES``: a whole number of minutes, at least 1 (default 60)."""
    if value is None:
        return 60
    try:
        minutes = int(value)
    except ValueError:
        minutes = 0
    if minutes < 1:
        raise PathwaysError(f"PATHWAYS_IDLE_MINUTES must be a whole number of minutes, at "
                            f"least 1 (it is {value!r})")
    return minutes


def _proxies(value: str | None) -> int:
    """``PATHWAYS_TRUSTED_PROXIES``: a whole number, 0 or more (default 0).

    >>> _proxies(None), _proxies("1")
    (0, 1)
    """
    if value is None:
        return 0
    try:
        count = int(value)
    except ValueError:
        count = -1
    if count < 0:
        raise PathwaysError(f"PATHWAYS_TRUSTED_PROXIES must be the number of reverse proxies in "
                            f"front of the app: 0, 1 or more (it is {value!r})")
    return count


def _user_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("thriving-pathways", appauthor=False))


def pathways_home() -> Path:
    """The data directory: ``$PATHWAYS_HOME`` or the platform's user data dir."""
    return Settings.from_env().home


def store_choice(given: str | None = None) -> str:
    """``given`` or ``$PATHWAYS_STORE`` (default ``embedded``), checked."""
    return Settings.from_env(store=given).store_choice()


def local_server_state() -> dict | None:
    """What `pathways neo4j start` recorded about the local server (running or not)."""
    return Settings.from_env().local_server_state()
