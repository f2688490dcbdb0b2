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
sign-in throttle (:class:`LoginThrottle`), which is plain bookkeeping with no web framework.
"""

from __future__ import annotations

import functools
import json
import os
import re
import secrets
import time
from collections import deque
from collections.abc import Iterable
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

    Kept in the server process's memory (each gunicorn worker counts apart, and a restart
    forgets): enough to turn password guessing from thousands a minute into a handful an hour.

    >>> t = LoginThrottle(limit=2, window=60)
    >>> t.failed(["account:ann"], now=0); t.wait(["account:ann"], now=1)
    0.0
    >>> t.failed(["account:ann"], now=10); t.wait(["account:ann", "address:x"], now=11)
    49.0
    >>> t.wait(["account:ann"], now=61)
    0.0
    """

    def __init__(self, limit: int = 5, window: float = 15 * 60):
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def wait(self, keys: Iterable[str], now: float | None = None) -> float:
        """Seconds until every key may try again (0 when none is locked)."""
        now = time.time() if now is None else now
        longest = 0.0
        for key in keys:
            times = self._recent(key, now)
            if len(times) >= self.limit:
                longest = max(longest, float(times[-self.limit] + self.window - now))
        return longest

    def failed(self, keys: Iterable[str], now: float | None = None) -> None:
        now = time.time() if now is None else now
        for key in keys:
            times = self._recent(key, now)
            times.append(now)
            self._failures[key] = times

    def reset(self) -> None:
        """Forget every failure (a restart does the same)."""
        self._failures.clear()

    def succeeded(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._failures.pop(key, None)
