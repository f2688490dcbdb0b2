"""Pathways from a link worker to the activities they can reach.

A path follows REFERS_TO, PROVIDES and OFFERS relationships in their direction, starting at
the link worker; its hops are its relationships.  An activity is reachable when such a path
of at most ``max_hops`` exists.  Each reachable activity appears once, with its shortest
path; among shortest paths the one whose names along the path sort first wins (ids break
any tie that remains).
Results are sorted by hops, then name, then id.

>>> choose_paths([[{"id": "w", "name": "W", "kind": "Person"},
...                {"id": "s2", "name": "B", "kind": "Service"},
...                {"id": "a", "name": "Art", "kind": "Activity"}],
...               [{"id": "w", "name": "W", "kind": "Person"},
...                {"id": "s1", "name": "A", "kind": "Service"},
...                {"id": "a", "name": "Art", "kind": "Activity"}]])[0]["path"][1]["name"]
'A'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any, NotRequired, TypedDict

from pathways.analysis.snapshot import cached_per_version
from pathways.errors import PathwaysError, UnknownIdError
from pathways.model import DEFAULT_MAX_HOPS, MAX_MAX_HOPS, NodeKind, PersonRole, sessions_of
from pathways.store.base import GraphStore, PathNode, PathwayFilter

MAX_AGE = 130


class ReachableActivity(TypedDict):
    id: str
    name: str
    hops: int
    path: list[PathNode]  # from the link worker to the activity
    schedule_unknown: NotRequired[bool]  # with a times filter: matched only for want of sessions


class LinkWorker(TypedDict):
    id: str
    name: str


# ``from`` is a Python keyword, hence the functional form.
Pathways = TypedDict("Pathways", {"from": LinkWorker, "activities": list[ReachableActivity]})


def path_key(path: Sequence[PathNode]) -> tuple:
    """Names along the path first; ids only break the ties that remain."""
    return tuple(node["name"] for node in path), tuple(node["id"] for node in path)


_ROW_ORDER = itemgetter("hops", "name", "id")  # how results are sorted


def choose_paths(candidates: Iterable[Sequence[PathNode]]) -> list[ReachableActivity]:
    """One shortest path per activity, ties broken by names; sorted by hops then name."""
    best: dict[str, Sequence[PathNode]] = {}
    for path in candidates:
        target = path[-1]["id"]
        old = best.get(target)
        if old is None or (len(path), path_key(path)) < (len(old), path_key(old)):
            best[target] = path
    rows: list[ReachableActivity] = [
        {
            "id": path[-1]["id"],
            "name": path[-1]["name"],
            "hops": len(path) - 1,
            # each store makes fresh lists and PathNodes per call: no copy needed
            "path": path if isinstance(path, list) else list(path),
        }
        for path in best.values()
    ]
    rows.sort(key=_ROW_ORDER)
    return rows


def check_link_worker(store: GraphStore, worker_id: str) -> dict[str, Any]:
    """The link worker's properties, or a clear error for an unknown id or another role."""
    found = store.get_node(worker_id)
    if found is None:
        raise UnknownIdError(worker_id, "link worker")
    kind, props = found
    if kind != NodeKind.PERSON or props.get("role") != PersonRole.LINK_WORKER.value:
        what = props.get("role", kind.value).replace("_", " ")
        article = "an" if what[:1].lower() in "aeiou" else "a"
        raise PathwaysError(
            f"{worker_id!r} ({props.get('name')}) is {article} {what}, not a link worker"
        )
    return props


def check_filter(store: GraphStore, where: PathwayFilter) -> None:
    for need in where.needs:
        found = store.get_node(need)
        if found is None or found[0] != NodeKind.NEED:
            known = ", ".join(n["id"] for n in store.list_nodes(NodeKind.NEED))
            raise UnknownIdError(need, f"need (known needs: {known})")
    if where.locality is not None:
        found = store.get_node(where.locality)
        if found is None or found[0] != NodeKind.LOCALITY:
            raise UnknownIdError(where.locality, "locality")
    if where.age is not None and not 0 <= where.age <= MAX_AGE:
        raise PathwaysError(f"age must be a whole number of years from 0 to {MAX_AGE},"
                            f" not {where.age}")


def pathways_from(
    store: GraphStore,
    worker_id: str,
    where: PathwayFilter = PathwayFilter(),
    max_hops: int = DEFAULT_MAX_HOPS,
) -> Pathways:
    """Reachable activities as ``{"from": {"id", "name"}, "activities": [...]}``.

    Parameters
    ----------
    store : GraphStore
        Either store; both give the same answer.
    worker_id : str
        Id of a Person whose role is ``link_worker``.
    where : PathwayFilter
        Needs (any of), locality (whole-area activities match every locality), free only,
        accessibility tags (all of), the person's age, the times they can make,
        self-referral only: see :class:`~pathways.store.base.PathwayFilter`.  With
        ``times``, each activity row also has ``schedule_unknown``: True when it matched
        only because its schedule gave no sessions to compare (check with the provider).
    max_hops : int
        Longest path to follow, 1 to :data:`pathways.model.MAX_MAX_HOPS`.

    Computed once per data version and question (a page's callbacks and row selections
    ask the same question again): the result is shared, do not modify it.
    """
    if not 1 <= max_hops <= MAX_MAX_HOPS:
        raise PathwaysError(f"max hops must be between 1 and {MAX_MAX_HOPS}, not {max_hops}")

    def read() -> tuple[dict[str, Any], list[list[PathNode]]]:
        # The pathway query first: Neo4j's reads the link worker and the filter's ids with
        # it, so the checks below cost no query of their own (one round trip, not 3-5).
        candidates = store.pathway_candidates(worker_id, max_hops, where)
        worker = check_link_worker(store, worker_id)
        check_filter(store, where)
        return worker, candidates

    def compute() -> Pathways:
        worker, candidates = read()
        chosen = choose_paths(candidates)
        if where.times:  # which rows matched only because their schedule is unknown
            details = store.activity_details([a["id"] for a in chosen])
            for row in chosen:
                row["schedule_unknown"] = not sessions_of(details.get(row["id"], {}))
        return {
            "from": {"id": worker_id, "name": worker["name"]},
            "activities": chosen,
        }

    # One read of one version of the graph: the version, the cache and, if need be, the
    # reads and the computation (on Neo4j one read transaction, not one for the version and
    # another for the reads).
    return store.consistent(
        lambda: cached_per_version(store, ("pathways_from", worker_id, where, max_hops), compute))


def with_details(store: GraphStore, result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Flat rows for a table or CSV: activity, provider, locality, cost, schedule, hops.

    ``result`` is a :func:`pathways_from` result, or any mapping whose ``activities`` have
    its ``id``, ``name``, ``hops`` and ``path`` (only those are read)."""
    details = store.activity_details([a["id"] for a in result["activities"]])
    rows: list[dict[str, Any]] = []
    for activity in result["activities"]:
        info = details.get(activity["id"], {})
        free = info.get("free")
        cost = "free" if free is True else (info.get("cost") or ("not free" if free is False else ""))
        rows.append(
            {
                "id": activity["id"],
                "activity": activity["name"],
                "provider": "; ".join(info.get("providers", [])),
                "locality": "; ".join(info.get("localities", [])),
                "needs": "; ".join(info.get("needs", [])),
                "cost": cost,
                "schedule": info.get("schedule", ""),
                "access": "; ".join(info.get("accessibility", [])),
                "hops": activity["hops"],
                "route": " → ".join(n["name"] for n in activity["path"]),
            }
        )
    return rows
