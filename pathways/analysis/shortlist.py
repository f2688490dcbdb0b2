"""A shortlist of activities for one person, carried in a URL, and its printable referral
sheet (issue 14 item 2).

The shortlist holds only ids: the link worker's and the activities'.  Nothing about the
person being referred is ever encoded, stored or printed: the sheet is what a link worker
hands over or keeps, and the URL can be sent to a colleague.

The encoded form is ``1.`` followed by the URL-safe base64 of a JSON list
``[worker_id or "", activity_id, ...]`` (any character an id may hold survives; ``1.`` is the
format's version).  Decoding trusts nothing: a link can be edited by anyone, so every id is
checked against the store, and what is not a link worker or an activity is dropped with a
plain message.  The sheet itself is recomputed from the store
(:func:`pathways.analysis.referral.how_to_refer_many`), never from what a browser sent.

>>> token = encode_shortlist(["act-choir", "act-walk"], "lw-pat")
>>> token
'1.WyJsdy1wYXQiLCJhY3QtY2hvaXIiLCJhY3Qtd2FsayJd'
>>> parse_shortlist(token)
('lw-pat', ('act-choir', 'act-walk'), ())
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from pathways.analysis.pathways import check_link_worker
from pathways.analysis.referral import HowToRefer, RouteNode, how_to_refer_many
from pathways.errors import PathwaysError
from pathways.model import DEFAULT_MAX_HOPS, NodeKind, PersonRole
from pathways.store.base import GraphStore

MAX_SHORTLIST = 12
"""Most activities one shortlist (and one sheet) holds."""
MAX_TOKEN_CHARS = 8_000
"""Longer links are refused unread (twelve ids of the longest allowed length fit)."""
VERSION = "1."
UNREADABLE = ("The shortlist in this link could not be read (it may have been cut short or "
              "changed); start a new one.")
SHEET_NOTE = ("This sheet lists services and activities only. It holds no information about "
              "the person being referred.")


@dataclass(frozen=True)
class Shortlist:
    """A decoded shortlist: the link worker (None when missing or not valid), the activities
    that exist, in their order, and plain messages about anything dropped."""

    worker_id: str | None
    activity_ids: tuple[str, ...]
    problems: tuple[str, ...] = ()

    def encode(self) -> str:
        return encode_shortlist(self.activity_ids, self.worker_id)


@dataclass(frozen=True)
class ReferralSheet:
    """What a printable referral sheet shows: who prepared it (the link worker), the day,
    each option's :class:`HowToRefer`, the shortlist's token to reopen it, and notes
    (privacy; illustrative demo data).  Nothing about the person being referred."""

    worker: RouteNode
    prepared_on: str
    options: tuple[HowToRefer, ...]
    shortlist: str
    notes: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"worker": {"id": self.worker.id, "name": self.worker.name},
                "prepared_on": self.prepared_on, "shortlist": self.shortlist,
                "notes": list(self.notes), "options": [o.to_dict() for o in self.options]}


def encode_shortlist(activity_ids: Sequence[str], worker_id: str | None = None) -> str:
    """The URL-safe text of a shortlist (ids only; duplicates once, order kept).

    Raises :class:`PathwaysError` for more than :data:`MAX_SHORTLIST` activities or an id
    that is not text.
    """
    ids = list(dict.fromkeys(activity_ids))
    if len(ids) > MAX_SHORTLIST:
        raise PathwaysError(f"a shortlist holds at most {MAX_SHORTLIST} activities, not {len(ids)}")
    items = [worker_id or "", *ids]
    if not all(isinstance(i, str) for i in items):
        raise PathwaysError("a shortlist holds ids (text) only")
    raw = json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return VERSION + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:39] + "…")


def parse_shortlist(text: str) -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
    """``(worker_id, activity_ids, problems)`` as written in ``text``, not yet checked
    against any store; an unreadable text gives no ids and a problem."""
    unreadable: tuple[None, tuple[str, ...], tuple[str, ...]] = (None, (), (UNREADABLE,))
    if not isinstance(text, str) or not text.strip():
        return None, (), ()
    text = text.strip()
    if len(text) > MAX_TOKEN_CHARS or not text.startswith(VERSION):
        return unreadable
    body = text[len(VERSION):]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        items = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError):
        return unreadable
    if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
        return unreadable
    worker = items[0] or None
    ids = tuple(dict.fromkeys(i for i in items[1:] if i))
    problems: tuple[str, ...] = ()
    if len(ids) > MAX_SHORTLIST:
        kept = f"only the first {MAX_SHORTLIST} are kept"
        problems = (f"The link listed {len(ids)} activities; {kept}.",)
        ids = ids[:MAX_SHORTLIST]
    return worker, ids, problems


def decode_shortlist(store: GraphStore, text: str) -> Shortlist:
    """The shortlist in ``text``, checked against the store.

    Never raises for a bad link: ids that are not activities (removed since, mistyped,
    tampered with) are dropped, as is a worker who is not a link worker, each with a
    message in ``problems``; an unreadable text gives an empty shortlist and says so.
    """
    worker, ids, problems = parse_shortlist(text)

    def read():
        found = store.get_node(worker) if worker else None
        return found, store.activity_details(list(ids)) if ids else {}

    found, details = store.consistent(read)
    notes = list(problems)
    if worker and (found is None or found[0] != NodeKind.PERSON
                   or found[1].get("role") != PersonRole.LINK_WORKER.value):
        notes.append(f"The link worker in this link ({_shown(worker)}) is not in the data;"
                     " choose a link worker.")
        worker = None
    kept = tuple(i for i in ids if i in details)
    gone = [i for i in ids if i not in details]
    if gone:
        listed = ", ".join(_shown(i) for i in gone[:3]) + (f" and {len(gone) - 3} more"
                                                          if len(gone) > 3 else "")
        word = "activity is" if len(gone) == 1 else "activities are"
        notes.append(f"{len(gone)} {word} no longer in the data and left out: {listed}.")
    return Shortlist(worker, kept, tuple(notes))


def referral_sheet(
    store: GraphStore,
    worker_id: str,
    activity_ids: Sequence[str],
    max_hops: int = DEFAULT_MAX_HOPS,
    as_of: dt.date | None = None,
) -> ReferralSheet:
    """The data of a printable referral sheet: each activity's "how to refer" from
    ``worker_id``, in the shortlist's order, recomputed from the store.

    Raises
    ------
    UnknownIdError
        An id that is not a link worker or an activity (decode a link with
        :func:`decode_shortlist` first: it drops those).
    PathwaysError
        More than :data:`MAX_SHORTLIST` activities.
    """
    ids = list(dict.fromkeys(activity_ids))
    if len(ids) > MAX_SHORTLIST:
        raise PathwaysError(f"a shortlist holds at most {MAX_SHORTLIST} activities, not {len(ids)}")
    day = as_of or dt.date.today()
    options = tuple(how_to_refer_many(store, worker_id, ids, max_hops, day)) if ids else ()
    if options:
        worker = options[0].worker
    else:
        props = check_link_worker(store, worker_id)
        worker = RouteNode(worker_id, props["name"], NodeKind.PERSON.value)
    notes = [SHEET_NOTE]
    if any(o.illustrative for o in options):
        notes.append("Entries marked as demo data are illustrative, not real services.")
    if any(o.freshness.flagged for o in options):
        notes.append("Some entries have not been reviewed for over a year: check them before"
                     " referring.")
    return ReferralSheet(worker, day.isoformat(), options, encode_shortlist(ids, worker_id),
                         tuple(notes))
