"""How a link worker refers someone to an activity: who to contact first and how, what the
person will find there, and how fresh the entry is.

Everything is recomputed from the store (the server never trusts a route or an id list sent
back by a browser): the route is the worker's best route to the activity, the same one
:func:`pathways.analysis.pathways.pathways_from` shows (shortest, then names first: both use
:func:`pathways.graphs.best_paths_to`'s order), read from the whole-graph snapshot, which
carries the referral details on the REFERS_TO relationships (method, self-referral, typical
wait, notes).

What the data holds, and where each answer comes from:

=====================  ===================================================================
first step             the worker's REFERS_TO relationship on the route: its target (an
                       organisation or service), ``method``, ``self_referral``,
                       ``typical_wait_days``, ``notes``; that target's ``referral_info``
                       and, for an online form, its ``website`` as the form's address
contacts               phone, e-mail, web address and referral_info of every node after the
                       worker on the route (organisations, services, the activity)
what they will find    the activity's schedule, venue, cost/free, accessibility, ages,
                       localities, needs, providers, whole-area flag
freshness              the activity's ``reviewed_at``, else its service's (feeds copy their
                       service's review or last-modified date); older than
                       :data:`pathways.analysis.gaps.REVIEW_DAYS` days is flagged, as the
                       Gaps report does; ``missing_from_feed`` (gone from its directory) too
=====================  ===================================================================

Contact details are personal data about professionals in their work role: they are here
because a link worker needs them to refer (DEVELOPERS.md, privacy).  Nothing here is about
the person being referred.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import networkx as nx

from pathways import graphs
from pathways.analysis.gaps import REVIEW_DAYS
from pathways.analysis.pathways import check_link_worker, with_details
from pathways.analysis.snapshot import cached_per_version, cached_snapshot
from pathways.errors import PathwaysError, UnknownIdError
from pathways.graphs import best_paths_to
from pathways.model import (
    DEFAULT_MAX_HOPS,
    MAX_MAX_HOPS,
    NodeKind,
    ReferralMethod,
    RelType,
)
from pathways.store.base import GraphStore

METHOD_WORDS: dict[str, str] = {
    ReferralMethod.PHONE.value: "phone",
    ReferralMethod.EMAIL.value: "e-mail",
    ReferralMethod.ONLINE_FORM.value: "online form",
    ReferralMethod.E_REFERRAL.value: "e-referral",
    ReferralMethod.IN_PERSON.value: "in person",
    ReferralMethod.LETTER.value: "letter",
    ReferralMethod.SIGNPOST.value: "signpost (the person contacts them)",
}
"""Plain words for each referral method (``method`` values of REFERS_TO)."""


def method_words(method: str | None) -> str:
    """Plain words for a referral method.

    >>> method_words("email"), method_words(None)
    ('e-mail', 'not recorded')
    """
    if not method:
        return "not recorded"
    return METHOD_WORDS.get(method, method.replace("_", " "))


@dataclass(frozen=True)
class RouteNode:
    """One node on the route: id, name and kind (the NodeKind value, e.g. ``Service``)."""

    id: str
    name: str
    kind: str


@dataclass(frozen=True)
class Contact:
    """How to reach one organisation, service or activity.  Strings are ``""`` when not
    recorded.  ``website`` is as the data holds it: render it as a link only through
    ``web_link`` (http and https only)."""

    id: str
    name: str
    kind: str
    phone: str = ""
    email: str = ""
    website: str = ""
    referral_info: str = ""

    @property
    def reachable_by(self) -> bool:
        """True if anything at all is recorded to get in touch."""
        return bool(self.phone or self.email or self.website or self.referral_info)


@dataclass(frozen=True)
class RouteStep:
    """One relationship of the route; the referral fields only on REFERS_TO steps."""

    source: RouteNode
    rel: str  # RelType value: REFERS_TO, PROVIDES or OFFERS
    target: RouteNode
    method: str | None = None  # ReferralMethod value
    method_words: str = ""
    self_referral: bool | None = None
    typical_wait_days: int | None = None
    notes: str = ""


@dataclass(frozen=True)
class FirstStep:
    """What the link worker does first: contact ``contact`` by ``method``.

    ``self_referral`` True means the person may contact them themselves; None when the data
    does not say.  ``notes`` are the referral route's own notes; ``referral_info`` is the
    contact's own "how to refer" words; ``form_link`` its web address when the method is an
    online form (render through ``web_link``).
    """

    contact: Contact
    method: str | None
    method_words: str
    self_referral: bool | None
    typical_wait_days: int | None
    notes: str
    referral_info: str
    form_link: str


@dataclass(frozen=True)
class Offer:
    """What the person will find: the activity as the data describes it."""

    description: str
    schedule: str
    venue: str
    cost: str  # "free", the cost in words, "not free", or "" when not recorded
    free: bool | None
    access: tuple[str, ...]
    age_min: int | None
    age_max: int | None
    ages: str  # "18–any", "not recorded"
    localities: tuple[str, ...]
    serves_whole_area: bool
    needs: tuple[str, ...]
    providers: tuple[str, ...]
    capacity: int | None


@dataclass(frozen=True)
class Freshness:
    """How fresh the entry is.  ``status``: ``current`` (reviewed in the last
    :data:`REVIEW_DAYS` days), ``stale`` (older: flagged) or ``unknown`` (no date).
    ``date`` is the date used and ``date_from`` whose it is (``activity`` or ``service``)."""

    status: Literal["current", "stale", "unknown"]
    date: str | None
    date_from: str
    age_days: int | None
    as_of: str
    missing_from_feed: str | None  # when its directory feed stopped listing it
    message: str

    @property
    def flagged(self) -> bool:
        return self.status != "current" or self.missing_from_feed is not None


@dataclass(frozen=True)
class HowToRefer:
    """Everything a link worker needs to refer someone to one activity (see the module).

    ``reachable`` False means the activity is not on the worker's referral routes within
    ``max_hops``: then ``route``/``steps`` are empty, ``first_step`` is None and
    ``contacts`` are the activity's services and their organisations (contact directly).
    ``route_wait_days`` adds up the typical waits of the route's referrals (None when one
    is not recorded).
    """

    worker: RouteNode
    activity: RouteNode
    reachable: bool
    hops: int | None
    max_hops: int
    route: tuple[RouteNode, ...]
    steps: tuple[RouteStep, ...]
    first_step: FirstStep | None
    route_wait_days: int | None
    contacts: tuple[Contact, ...]
    offer: Offer
    freshness: Freshness
    summary: str
    illustrative: bool  # made-up demo data, not a real service
    # Services or organisations providing the activity that take referrals from the person
    # themselves: the rule of the "self-referral only" filter (PathwayFilter), which may hold
    # where the route's own first step does not.
    self_referral_to: tuple[RouteNode, ...] = ()

    def to_dict(self) -> dict:
        """Plain JSON-ready data (``pathways show --format json``)."""
        return dataclasses.asdict(self)


def _text(value) -> str:
    return "" if value is None else str(value)


def _node(graph: nx.MultiDiGraph, node: str) -> RouteNode:
    attrs = graph.nodes[node]
    return RouteNode(node, attrs["props"]["name"], NodeKind(attrs["kind"]).value)


def _contact(graph: nx.MultiDiGraph, node: str) -> Contact:
    props = graph.nodes[node]["props"]
    return Contact(node, props["name"], NodeKind(graph.nodes[node]["kind"]).value,
                   _text(props.get("phone")), _text(props.get("email")),
                   _text(props.get("website")), _text(props.get("referral_info")))


def _step(graph: nx.MultiDiGraph, source: str, target: str) -> RouteStep:
    edges = graph.get_edge_data(source, target) or {}
    if RelType.REFERS_TO in edges:
        props = edges[RelType.REFERS_TO].get("props", {})
        method = props.get("method") or None
        wait = props.get("typical_wait_days")
        return RouteStep(_node(graph, source), RelType.REFERS_TO.value, _node(graph, target),
                         method, method_words(method), props.get("self_referral"),
                         int(wait) if wait is not None else None, _text(props.get("notes")))
    rel = next((r for r in (RelType.PROVIDES, RelType.OFFERS) if r in edges), None)
    return RouteStep(_node(graph, source), RelType(rel).value if rel else "", _node(graph, target))


def _sources(graph: nx.MultiDiGraph, node: str, rel: RelType) -> list[str]:
    """Nodes pointing to ``node`` by ``rel``: a look at its own neighbours, not the whole
    graph's typed index (which a one-off ``pathways show`` at 100k nodes would wait for)."""
    return [source for source, keys in graph.pred[node].items() if rel in keys]


def _ages(props: dict) -> str:
    low, high = props.get("age_min"), props.get("age_max")
    if low is None and high is None:
        return "not recorded"
    return f"{low if low is not None else 0}–{high if high is not None else 'any'}"


def _split(cell: str) -> tuple[str, ...]:
    return tuple(part for part in cell.split("; ") if part) if cell else ()


def _offer(props: dict, row: dict) -> Offer:
    capacity = props.get("capacity")
    return Offer(
        description=_text(props.get("description")),
        schedule=_text(props.get("schedule")),
        venue=_text(props.get("venue")),
        cost=row["cost"],
        free=props.get("free"),
        access=tuple(props.get("accessibility") or ()),
        age_min=props.get("age_min"),
        age_max=props.get("age_max"),
        ages=_ages(props),
        localities=_split(row["locality"]),
        serves_whole_area=props.get("serves_whole_area") is True,
        needs=_split(row["needs"]),
        providers=_split(row["provider"]),
        capacity=int(capacity) if capacity is not None else None,
    )


def _long_date(iso: str) -> str:
    try:
        day = dt.date.fromisoformat(iso[:10])
    except ValueError:
        return iso
    return f"{day.day} {day:%B %Y}"


def freshness(graph: nx.MultiDiGraph, activity: str, service: str | None,
              as_of: dt.date) -> Freshness:
    """The activity's review date (else its service's), judged as the Gaps report does."""
    props = graph.nodes[activity]["props"]
    date, date_from = props.get("reviewed_at"), "activity"
    if not date and service is not None:
        date, date_from = graph.nodes[service]["props"].get("reviewed_at"), "service"
    gone = props.get("missing_from_feed") or None
    cutoff = (as_of - dt.timedelta(days=REVIEW_DAYS)).isoformat()
    age: int | None = None
    if not date:
        status: Literal["current", "stale", "unknown"] = "unknown"
        message = "No review date recorded: check the details before referring."
        date, date_from = None, ""
    else:
        date = str(date)
        try:
            age = (as_of - dt.date.fromisoformat(date[:10])).days
        except ValueError:
            age = None
        if date[:10] < cutoff:
            status = "stale"
            message = (f"Not reviewed for over 12 months (last reviewed {_long_date(date)}):"
                       " check the details before referring.")
        else:
            status = "current"
            message = f"Reviewed {_long_date(date)}."
    if gone:
        message += (f" No longer listed by its directory feed (since {_long_date(str(gone))}):"
                    " it may have ended.")
    return Freshness(status, date, date_from, age, as_of.isoformat(),
                     str(gone) if gone else None, message)


def self_referral_entries(graph: nx.MultiDiGraph, activity: str) -> list[str]:
    """Where the person may refer themselves (:func:`pathways.graphs.self_referral_entries`),
    by name then id."""
    return sorted(graphs.self_referral_entries(graph, activity),
                  key=lambda n: (graph.nodes[n]["props"]["name"], n))


def _summary(worker: RouteNode, activity: RouteNode, first: FirstStep | None,
             max_hops: int, self_to: tuple[RouteNode, ...] = ()) -> str:
    direct = (f" The person may refer themselves to {' or '.join(n.name for n in self_to)}."
              if self_to and (first is None or first.self_referral is not True) else "")
    if first is None:
        return (f"{activity.name} is not on {worker.name}'s referral routes within {max_hops}"
                " hops: contact its provider directly." + direct)
    text = f"Contact {first.contact.name} first"
    if first.method:
        text += f" ({first.method_words})"
    if first.self_referral is True:
        text += "; the person may also refer themselves"
    elif first.self_referral is False:
        text += "; no self-referral"
    if first.typical_wait_days is not None:
        text += f"; typical wait {first.typical_wait_days} day{'s' if first.typical_wait_days != 1 else ''}"
    return text + "." + direct


def _build(graph: nx.MultiDiGraph, worker: str, activity: str, path, row: dict,
           max_hops: int, as_of: dt.date) -> HowToRefer:
    ids = [node for _name, node in path] if path else []
    route = tuple(_node(graph, node) for node in ids)
    steps = tuple(_step(graph, a, b) for a, b in itertools.pairwise(ids))
    offering = _sources(graph, activity, RelType.OFFERS)
    service = ids[-2] if len(ids) >= 2 else (min(offering) if offering else None)
    if ids:
        first_rel = steps[0]
        contact = _contact(graph, ids[1])
        first: FirstStep | None = FirstStep(
            contact=contact, method=first_rel.method, method_words=first_rel.method_words,
            self_referral=first_rel.self_referral, typical_wait_days=first_rel.typical_wait_days,
            notes=first_rel.notes, referral_info=contact.referral_info,
            form_link=contact.website if first_rel.method == ReferralMethod.ONLINE_FORM.value else "",
        )
        contacts = tuple(c for c in (_contact(graph, node) for node in ids[1:]) if c.reachable_by)
        referrals = [s for s in steps if s.rel == RelType.REFERS_TO.value]
        waits = [s.typical_wait_days for s in referrals]
        route_wait = sum(w for w in waits if w is not None) if None not in waits else None
    else:
        first, route_wait = None, None
        direct = sorted(offering, key=lambda s: (graph.nodes[s]["props"]["name"], s))
        orgs = sorted({o for s in direct for o in _sources(graph, s, RelType.PROVIDES)},
                      key=lambda o: (graph.nodes[o]["props"]["name"], o))
        contacts = tuple(c for c in (_contact(graph, n) for n in [*direct, *orgs, activity])
                         if c.reachable_by)
    worker_node, activity_node = _node(graph, worker), _node(graph, activity)
    self_to = tuple(_node(graph, n) for n in self_referral_entries(graph, activity))
    return HowToRefer(
        worker=worker_node, activity=activity_node, reachable=bool(ids),
        hops=len(ids) - 1 if ids else None, max_hops=max_hops, route=route, steps=steps,
        first_step=first, route_wait_days=route_wait, contacts=contacts,
        offer=_offer(graph.nodes[activity]["props"], row),
        freshness=freshness(graph, activity, service, as_of),
        summary=_summary(worker_node, activity_node, first, max_hops, self_to),
        illustrative=graph.nodes[activity]["props"].get("illustrative") is True,
        self_referral_to=self_to,
    )


def how_to_refer_many(
    store: GraphStore,
    worker_id: str,
    activity_ids: Sequence[str],
    max_hops: int = DEFAULT_MAX_HOPS,
    as_of: dt.date | None = None,
) -> list[HowToRefer]:
    """:func:`how_to_refer` for several activities at once (one read of their details), in
    the order given, duplicates once.  Raises :class:`UnknownIdError` for the first id that
    is not an activity."""
    if not 1 <= max_hops <= MAX_MAX_HOPS:
        raise PathwaysError(f"max hops must be between 1 and {MAX_MAX_HOPS}, not {max_hops}")
    day = as_of or dt.date.today()
    wanted = list(dict.fromkeys(activity_ids))

    def read():
        check_link_worker(store, worker_id)
        graph = cached_snapshot(store)
        for activity in wanted:
            if activity not in graph or graph.nodes[activity]["kind"] != NodeKind.ACTIVITY:
                raise UnknownIdError(activity, "activity")
        paths = best_paths_to(graph, worker_id, max_hops, wanted)
        result = {"from": {"id": worker_id, "name": graph.nodes[worker_id]["props"]["name"]},
                  "activities": [
                      {"id": a, "name": graph.nodes[a]["props"]["name"],
                       "hops": len(paths[a]) - 1 if a in paths else None,
                       "path": [{"id": i, "name": n, "kind": graph.nodes[i]["kind"].value}
                                for n, i in paths.get(a, ())]}
                      for a in wanted]}
        rows = with_details(store, result)
        return [_build(graph, worker_id, a, paths.get(a), row, max_hops, day)
                for a, row in zip(wanted, rows, strict=True)]

    return store.consistent(read)


def how_to_refer(
    store: GraphStore,
    worker_id: str,
    activity_id: str,
    max_hops: int = DEFAULT_MAX_HOPS,
    as_of: dt.date | None = None,
) -> HowToRefer:
    """How ``worker_id`` refers someone to ``activity_id``, recomputed from the store.

    Parameters
    ----------
    store : GraphStore
        Either store; both give the same answer.
    worker_id : str
        A link worker's id (resolve a typed name first with
        :func:`pathways.analysis.lookup.resolve_link_worker`).
    activity_id : str
        An activity's id.
    max_hops : int
        Longest route to consider, as in :func:`pathways_from`.
    as_of : datetime.date, optional
        The day freshness is judged on (default today).

    Raises
    ------
    UnknownIdError
        No such link worker or activity.
    PathwaysError
        The id is a person who is not a link worker, or ``max_hops`` is out of range.

    Computed once per data version, worker, activity, hops and day: shared, do not modify.
    """
    day = as_of or dt.date.today()
    return cached_per_version(
        store, ("how_to_refer", worker_id, activity_id, max_hops, day),
        lambda: how_to_refer_many(store, worker_id, [activity_id], max_hops, day)[0])


REFERRAL_COLUMNS = ("first_contact", "method", "self_referral", "typical_wait_days",
                    "referral_notes", "form_link", "contact_phone", "contact_email", "venue",
                    "ages", "reviewed_at", "review_status")
"""The flat columns :func:`referral_columns` gives (``paths --format csv``)."""


def referral_columns(found: HowToRefer) -> dict[str, str]:
    """One flat row of referral details for a CSV (strings; blank when not recorded)."""
    first = found.first_step
    notes = "; ".join(t for t in (first.notes, first.referral_info) if t) if first else ""
    yes_no = {True: "yes", False: "no", None: ""}
    return {
        "first_contact": first.contact.name if first else "",
        "method": first.method_words if first and first.method else "",
        "self_referral": yes_no[first.self_referral] if first else "",
        "typical_wait_days": _text(first.typical_wait_days) if first else "",
        "referral_notes": notes,
        "form_link": first.form_link if first else "",
        "contact_phone": first.contact.phone if first else "",
        "contact_email": first.contact.email if first else "",
        "venue": found.offer.venue,
        "ages": "" if found.offer.ages == "not recorded" else found.offer.ages,
        "reviewed_at": found.freshness.date or "",
        "review_status": found.freshness.status,
    }
