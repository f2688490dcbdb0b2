"""Local accounts for the web app: names, roles and password hashes, and the server's secret.

The accounts live in one JSON file, ``$PATHWAYS_HOME/accounts.json``, readable and writable
by its owner only (0600), managed with ``pathways users add|list|set-role|remove``.  When
the file holds at least one account the app asks everyone to sign in; with none, the app is
the local, loopback-only tool it always was (whoever opens it is an admin).

Passwords are hashed with argon2id (:mod:`argon2`, the argon2-cffi library): a memory-hard
hash with a random salt per password, the first choice of OWASP's password storage advice;
its :class:`~argon2.PasswordHasher` also says when a stored hash was made with weaker
parameters than today's, so hashes are upgraded at the next sign-in.  Nothing here keeps a
password, only its hash.

This module knows roles by name only (``viewer``, ``link-worker``, ``editor``, ``admin``);
what each may do is decided in the web layer (``pages/_access.py``).  It also keeps the
server's secret (:func:`server_secret`), which signs sign-in cookies and share links, and the
sign-in throttle (:class:`LoginThrottle`), which is plain bookkeeping with no web framework,
kept in one file that every worker process of the app shares.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pathways.config import Settings
from pathways.errors import PathwaysError

ROLE_NAMES = ("viewer", "link-worker", "editor", "admin")
"""The four roles, lowest first (each may do everything the ones before it may)."""

MIN_PASSWORD_LENGTH = 10
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the name is unknown, so a wrong name takes as long as a wrong password
    (made at first use: every ``pathways`` command imports this module)."""
    return _HASHER.hash(secrets.token_hex(16))


@dataclass(frozen=True)
class Account:
    name: str
    role: str


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (0600), all or nothing: a new
    file is written beside it and renamed over it, so a crash leaves the old file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def check_role(role: str) -> str:
    """A role name as the CLI and files spell it (``link_worker`` is accepted too).

    >>> check_role("Link_Worker")
    'link-worker'
    """
    name = role.strip().lower().replace("_", "-").replace(" ", "-")
    if name not in ROLE_NAMES:
        raise PathwaysError(f"unknown role {role!r}; choose one of {', '.join(ROLE_NAMES)}")
    return name


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise PathwaysError(
            f"account name {name!r} is not allowed: use 1 to 64 letters, digits, dots, "
            f"hyphens, underscores or @, starting with a letter or digit")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PathwaysError(f"the password is too short: use at least {MIN_PASSWORD_LENGTH} "
                            f"characters (a few words in a row are easy to remember)")
    return password


class Accounts:
    """The accounts file at ``path``: read on every call, so a change made with the CLI
    (a new role, a removed account) applies to the running app at the next request."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def _read(self) -> dict[str, dict]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise PathwaysError(f"the accounts file {self.path} cannot be read: {exc}") from exc
        try:
            data = json.loads(text)
            accounts = data["accounts"]
            if not isinstance(accounts, dict):
                raise TypeError("accounts is not a mapping")
        except (ValueError, KeyError, TypeError) as exc:
            raise PathwaysError(f"the accounts file {self.path} is damaged ({exc}); restore it "
                                f"from a backup or remove it and add the accounts again") from exc
        return accounts

    def _write(self, accounts: dict[str, dict]) -> None:
        write_private(self.path, json.dumps({"accounts": accounts}, indent=1, sort_keys=True))

    def configured(self) -> bool:
        """True when at least one account exists (then the app asks everyone to sign in)."""
        return bool(self._read())

    def list(self) -> list[Account]:
        return [Account(name, entry["role"]) for name, entry in sorted(self._read().items())]

    def get(self, name: str) -> Account | None:
        entry = self._read().get(name)
        return Account(name, entry["role"]) if entry else None

    def add(self, name: str, role: str, password: str) -> Account:
        accounts = self._read()
        check_name(name)
        if name in accounts:
            raise PathwaysError(f"there is already an account called {name!r}; use "
                                f"`pathways users set-role` to change its role")
        role = check_role(role)
        accounts[name] = {"role": role, "hash": _HASHER.hash(check_password(password))}
        self._write(accounts)
        return Account(name, role)

    def set_role(self, name: str, role: str) -> Account:
        accounts = self._read()
        if name not in accounts:
            raise PathwaysError(f"there is no account called {name!r}")
        accounts[name]["role"] = check_role(role)
        self._write(accounts)
        return Account(name, accounts[name]["role"])

    def set_password(self, name: str, password: str) -> None:
        accounts = self._read()
        if name not in accounts:
            raise PathwaysError(f"there is no account called {name!r}")
        accounts[name]["hash"] = _HASHER.hash(check_password(password))
        self._write(accounts)

    def remove(self, name: str) -> None:
        accounts = self._read()
        if accounts.pop(name, None) is None:
            raise PathwaysError(f"there is no account called {name!r}")
        self._write(accounts)

    def verify(self, name: str, password: str) -> Account | None:
        """The account when ``password`` is its password, else None (an unknown name takes
        as long to refuse as a wrong password).  An old hash is upgraded on success."""
        accounts = self._read()
        entry = accounts.get(name)
        try:
            _HASHER.verify(entry["hash"] if entry else _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return None
        if entry is None:
            return None
        if _HASHER.check_needs_rehash(entry["hash"]):
            entry["hash"] = _HASHER.hash(password)
            self._write(accounts)
        return Account(name, entry["role"])


def sign_in_mode(settings: Settings) -> str:
    """How the app knows who is using it: ``proxy`` (the SSO proxy's headers, when
    ``PATHWAYS_TRUSTED_HEADERS`` is on), ``accounts`` (at least one account exists) or
    ``local`` (neither: this computer only, and whoever uses it is an admin)."""
    if settings.trusted_headers:
        return "proxy"
    return "accounts" if Accounts(settings.accounts_file).configured() else "local"


def server_secret(path: Path) -> bytes:
    """The server's secret (made once, 64 random bytes, kept 0600 at ``path``): it signs
    sign-in cookies and share links, so replacing the file signs everyone out and voids
    every share link."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        text = ""
    if len(text) < 64:
        text = secrets.token_hex(64)
        write_private(path, text)
    return text.encode("ascii")


class LoginThrottle:
    """Failed sign-ins per key (an account name, an address): after ``limit`` failures within
    ``window`` seconds the key is locked until the oldest of them is ``window`` old; while
    any key of a request is locked, even the right password is refused.

    The failures are kept in a small SQLite file (``path``; the app's is
    ``$PATHWAYS_HOME/sign-in-failures.sqlite3``, 0600), so every worker process of the app
    counts into one record and a restart forgets nothing: five guesses are five, however
    many workers they reach.  Each check is one write transaction (``BEGIN IMMEDIATE``: the
    other processes wait for it), and :meth:`begin` checks and counts an attempt in that one
    transaction, so requests arriving at the same moment cannot all slip under the limit.
    ``path`` may be a function giving the file at each call (the app's ``PATHWAYS_HOME``
    as of that request); without one the record is held in this process's memory (scripts,
    examples).  SQLite (the standard library's) rather than a lock file and JSON: it gives
    the one-at-a-time transactions across processes, and survives a crash mid-write.

    >>> t = LoginThrottle(limit=2, window=60)
    >>> t.failed(["account:ann"], now=0); t.wait(["account:ann"], now=1)
    0.0
    >>> t.failed(["account:ann"], now=10); t.wait(["account:ann", "address:x"], now=11)
    49.0
    >>> t.wait(["account:ann"], now=61)
    0.0
    """

    def __init__(self, limit: int = 5, window: float = 15 * 60,
                 path: Path | Callable[[], Path] | None = None):
        self.limit = limit
        self.window = window
        self._path = path
        self._memory: sqlite3.Connection | None = None
        self._memory_lock = threading.Lock()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on the record (other processes wait for it to end)."""
        if self._path is None:
            with self._memory_lock:
                if self._memory is None:
                    self._memory = sqlite3.connect(":memory:", isolation_level=None,
                                                   check_same_thread=False)
                    _throttle_tables(self._memory)
                with _write(self._memory):
                    yield self._memory
            return
        path = Path(self._path() if callable(self._path) else self._path)
        try:
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise PathwaysError(f"the record of failed sign-ins {path} cannot be opened: "
                                f"{exc}") from exc
        try:
            # WAL: readers never wait for a writer; the setting stays with the file (when
            # another process is setting it at this moment, that one does it)
            with contextlib.suppress(sqlite3.OperationalError):
                connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            with _write(connection):
                _throttle_tables(connection)
                yield connection
        except sqlite3.Error as exc:
            raise PathwaysError(f"the record of failed sign-ins {path} cannot be used: "
                                f"{exc}") from exc
        finally:
            connection.close()

    def _wait(self, connection: sqlite3.Connection, keys: list[str], now: float) -> float:
        times: dict[str, list[float]] = {}
        marks = ",".join("?" * len(keys))
        for key, at in connection.execute(
                f"SELECT key, at FROM failures WHERE at > ? AND key IN ({marks}) ORDER BY at",
                [now - self.window, *keys]):
            times.setdefault(key, []).append(at)
        longest = 0.0
        for recent in times.values():
            if len(recent) >= self.limit:
                longest = max(longest, float(recent[-self.limit] + self.window - now))
        return longest

    def _count(self, connection: sqlite3.Connection, keys: list[str], now: float,
               attempt: str | None) -> None:
        connection.execute("DELETE FROM failures WHERE at <= ?", (now - self.window,))
        connection.executemany("INSERT INTO failures (key, at, attempt) VALUES (?, ?, ?)",
                               [(key, now, attempt) for key in keys])

    def wait(self, keys: Iterable[str], now: float | None = None) -> float:
        """Seconds until every key may try again (0 when none is locked)."""
        now = time.time() if now is None else now
        keys = list(keys)
        if not keys:
            return 0.0
        with self._transaction() as connection:
            return self._wait(connection, keys, now)

    def begin(self, keys: Iterable[str], now: float | None = None) -> tuple[float, str | None]:
        """Check and count one sign-in attempt in one transaction: ``(seconds, None)`` when a
        key is locked (nothing counted), else ``(0.0, ticket)``, the attempt counted as a
        failure until :meth:`succeeded` is given its ticket."""
        now = time.time() if now is None else now
        keys = list(keys)
        with self._transaction() as connection:
            wait = self._wait(connection, keys, now) if keys else 0.0
            if wait > 0:
                return wait, None
            ticket = secrets.token_hex(8)
            self._count(connection, keys, now, ticket)
            return 0.0, ticket

    def failed(self, keys: Iterable[str], now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._transaction() as connection:
            self._count(connection, list(keys), now, None)

    def prepare(self) -> None:
        """Make the record's file (and its tables) now: ``pathways serve --workers`` does,
        before its workers start, so they never race to set it up."""
        with self._transaction():
            pass

    def reset(self) -> None:
        """Forget every failure."""
        with self._transaction() as connection:
            connection.execute("DELETE FROM failures")

    def succeeded(self, keys: Iterable[str], ticket: str | None = None) -> None:
        """Forget the failures of ``keys``, and the attempt ``ticket`` (from :meth:`begin`)."""
        keys = list(keys)
        with self._transaction() as connection:
            connection.executemany("DELETE FROM failures WHERE key = ?", [(k,) for k in keys])
            if ticket is not None:
                connection.execute("DELETE FROM failures WHERE attempt = ?", (ticket,))


def _throttle_tables(connection: sqlite3.Connection) -> None:
    connection.execute("CREATE TABLE IF NOT EXISTS failures "
                       "(key TEXT NOT NULL, at REAL NOT NULL, attempt TEXT)")
    connection.execute("CREATE INDEX IF NOT EXISTS failures_by_key ON failures (key, at)")
    connection.execute("CREATE INDEX IF NOT EXISTS failures_by_time ON failures (at)")
    connection.execute("CREATE INDEX IF NOT EXISTS failures_by_attempt ON failures (attempt)")


@contextlib.contextmanager
def _write(connection: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on any error)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
