"""Who may do what in the app: the four roles, and the one check every page callback uses.

Roles, lowest first (issue 16): a **viewer** sees the network, gaps and consortia without
contact details; a **link worker** also sees contacts and referral sheets; an **editor** also
uploads data and makes update requests; an **admin** also manages accounts and undoes loads.

The request's role is put on :data:`flask.g` by the app's sign-in layer before any page or
callback runs.  Pages never decide who someone is; they only ask :func:`current_role` and
:func:`require`, and they check on the server inside the callback (a hidden button is not a
permission).
"""

from __future__ import annotations

from enum import IntEnum

from flask import g, has_request_context

from pathways.errors import PathwaysError


class Role(IntEnum):
    VIEWER = 1
    LINK_WORKER = 2
    EDITOR = 3
    ADMIN = 4

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").lower()


class AccessDenied(PathwaysError):
    """A request asked for something its role may not do (the message says which role may)."""


# Without a sign-in layer (the local, loopback-only app), whoever can open it runs it: admin.
LOCAL_ROLE = Role.ADMIN


def current_role() -> Role:
    """The role of the request being served (outside a request, e.g. a script: the local role)."""
    if has_request_context():
        role = g.get("pathways_role")
        if role is not None:
            return Role(role)
    return LOCAL_ROLE


def allowed(role: Role) -> bool:
    return current_role() >= role


def require(role: Role, what: str) -> None:
    """Refuse ``what`` (e.g. "upload data") unless the request's role is at least ``role``."""
    have = current_role()
    if have < role:
        raise AccessDenied(f"Only {role.label}s and above can {what}; you are signed in as a "
                           f"{have.label}.")
