"""Read-only share links: one view of the app (a page and its filters) opened without an
account, as a viewer, until the link expires or is revoked (issue 16, item 5).

An editor (a partnership lead) makes a link in the app ("Share this view"); the link is
``/s/TOKEN``, where the token is the link's id signed with the server's secret
(:func:`pathways.accounts.server_secret`, by :mod:`itsdangerous`, which Flask already
depends on), so nobody can make one up or change the id in it.  Every link issued is kept in
``$PATHWAYS_HOME/share-links.json`` with the page, its query, who made it, when it expires and
whether it was revoked (``pathways share list|revoke ID``); the file is read at each use, so
revoking a link closes it at once, for a visitor already looking too.  A link shows only its
page: other pages still need a sign-in.  It never shows contact details (viewers see none).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeSerializer

from pathways.accounts import write_private
from pathways.errors import PathwaysError

MAX_DAYS = 90
_SALT = "pathways-share-link"


@dataclass(frozen=True)
class ShareLink:
    id: str
    path: str
    query: str
    created_by: str
    created_at: str
    expires_at: str
    revoked_at: str | None = None

    @property
    def view(self) -> str:
        """The page's address with its filters, e.g. ``/gaps?hops=3``."""
        return self.path + (f"?{self.query}" if self.query else "")

    def state(self, now: dt.datetime | None = None) -> str:
        """``active``, ``expired`` or ``revoked``."""
        if self.revoked_at:
            return "revoked"
        now = now or dt.datetime.now(dt.UTC)
        return "active" if now < dt.datetime.fromisoformat(self.expires_at) else "expired"


def split_view(view: str) -> tuple[str, str]:
    """(path, query) of a view's address, refusing anything that is not a page of this app.

    >>> split_view("/gaps?hops=3")
    ('/gaps', 'hops=3')
    """
    parts = urlsplit(view)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        raise PathwaysError(f"{view!r} is not a page of this app")
    return parts.path, parts.query


class ShareLinks:
    """The share links issued, kept at ``path``, signed with ``secret``."""

    def __init__(self, path: Path, secret: bytes):
        self.path = Path(path)
        self._signer = URLSafeSerializer(secret, salt=_SALT)

    def _read(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise PathwaysError(f"the share links file {self.path} cannot be read: {exc}") from exc
        return data.get("links", {}) if isinstance(data, dict) else {}

    def _write(self, links: dict[str, dict]) -> None:
        write_private(self.path, json.dumps({"links": links}, indent=1, sort_keys=True))

    def create(self, view: str, days: int, created_by: str,
               now: dt.datetime | None = None) -> tuple[ShareLink, str]:
        """Issue a link to ``view`` (a page's path and query) for ``days`` days: the link's
        record and its token (the address is ``/s/`` + token)."""
        if not 1 <= days <= MAX_DAYS:
            raise PathwaysError(f"a share link lasts from 1 to {MAX_DAYS} days (asked: {days})")
        path, query = split_view(view)
        now = now or dt.datetime.now(dt.UTC)
        link = ShareLink(id=secrets.token_hex(6), path=path, query=query,
                         created_by=created_by, created_at=now.isoformat(timespec="seconds"),
                         expires_at=(now + dt.timedelta(days=days)).isoformat(timespec="seconds"))
        links = self._read()
        links[link.id] = asdict(link)
        self._write(links)
        return link, self.token(link)

    def token(self, link: ShareLink) -> str:
        return str(self._signer.dumps(link.id))

    def list(self) -> list[ShareLink]:
        return sorted((ShareLink(**entry) for entry in self._read().values()),
                      key=lambda link: link.created_at)

    def get(self, link_id: str) -> ShareLink | None:
        entry = self._read().get(link_id)
        return ShareLink(**entry) if entry else None

    def revoke(self, link_id: str, now: dt.datetime | None = None) -> ShareLink:
        links = self._read()
        if link_id not in links:
            raise PathwaysError(f"there is no share link {link_id!r} (see `pathways share list`)")
        if not links[link_id].get("revoked_at"):
            links[link_id]["revoked_at"] = (now or dt.datetime.now(dt.UTC)).isoformat(
                timespec="seconds")
            self._write(links)
        return ShareLink(**links[link_id])

    def open(self, token: str, now: dt.datetime | None = None) -> ShareLink:
        """The link a token names, when it is genuine, not expired and not revoked; else a
        :class:`PathwaysError` saying which in plain words."""
        try:
            link_id = self._signer.loads(token)
        except BadSignature:
            raise PathwaysError("this share link is not valid: check it was copied whole, or "
                                "ask whoever sent it for a new one") from None
        link = self.get(link_id) if isinstance(link_id, str) else None
        if link is None:
            raise PathwaysError("this share link is not valid any more: ask whoever sent it "
                                "for a new one")
        state = link.state(now)
        if state != "active":
            raise PathwaysError(f"this share link was {state}: ask whoever sent it for a new one")
        return link

    def is_active(self, link_id: str) -> ShareLink | None:
        """The link while it is active (checked at every request of a share visitor)."""
        link = self.get(link_id)
        return link if link is not None and link.state() == "active" else None
