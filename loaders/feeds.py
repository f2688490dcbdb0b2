"""Directory feeds (Open Referral UK 1.0 JSON, HSDS 3.0 tabular or JSON) → a load plan.

:func:`detect_format` tells a feed from Living Database files; :func:`plan_feed` reads a
feed (via :mod:`loaders.oruk` or :mod:`loaders.hsds`) and maps it onto the model, returning
the same validated :class:`~loaders.living_db.LoadPlan` as ``plan_load`` does, plus a
:class:`QualityReport` of every record dropped, repaired, merged or left unmapped.  A feed
loads what it can: one bad record never stops the rest.  The mapping rules (node ids,
localities, needs, costs, privacy) are documented in ``docs/feeds.md``.

Pure: no database.  Node ids are namespaced by format and table, e.g.
``oruk:service:123``, ``oruk:organization:9``, ``hsds:service_at_location:e94c...``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from loaders.feed_mapping import Mapper, candidate_ids
from loaders.feed_records import (
    Feed,
    read_json_documents,
    unpage,
)
from loaders.files import files_of
from loaders.hsds import read_hsds
from loaders.living_db import LoadPlan
from loaders.need_rules import load_rules, partnership_rules
from loaders.need_terms import NEED_NAMES
from loaders.oruk import read_oruk
from loaders.quality import QualityEntry, QualityReport
from pathways.errors import InputError, PathwaysError, Problem
from pathways.model import (
    NodeKind,
    RelType,
)

__all__ = ["QualityEntry", "QualityReport", "candidate_ids", "detect_format", "feed_sources",
           "map_feed", "plan_feed", "read_feed"]

FORMATS = ("living-db", "oruk", "hsds")

# ----------------------------------------------------------------------------- detection

_ORUK_KEYS = frozenset({
    "service_taxonomys", "regular_schedules", "regular_schedule", "eligibilitys",
    "physical_addresses", "holiday_schedules", "fundings", "accessibility_for_disabilities",
    "deliverable_type", "attending_type", "attending_access", "link_taxonomies",
    "totalElements", "vocabulary", "pc_metadata",
})
_HSDS_KEYS = frozenset({
    "schedules", "addresses", "attributes", "taxonomy_term", "alternate_name",
    "last_modified", "assurer_email", "interpretation_services", "application_process",
    "fees_description", "organization_identifiers", "legal_status", "tax_status",
    "year_incorporated", "taxonomy_detail", "term_uri", "wait_time",
    "eligibility_description", "location_type", "funding", "program",
})
# CSV names only the HSDS tabular form uses (the Living Database has organisations.csv...)
_HSDS_TABLES = frozenset({
    "organizations", "service_at_location", "locations", "addresses", "taxonomy_terms",
    "schedules", "phones", "contacts", "cost_options", "attributes",
})


def _keys(value: object, depth: int = 3) -> set[str]:
    if depth == 0:
        return set()
    if isinstance(value, list):
        return set().union(*(_keys(v, depth) for v in value[:20])) if value else set()
    if isinstance(value, dict):
        found = set(value)
        for item in value.values():
            found |= _keys(item, depth - 1)
        return found
    return set()


def _sniff_json(files: list[Path]) -> str:
    """``oruk`` or ``hsds`` from the field names the JSON uses (ties go to ORUK, whose
    list shape is the barest: ``id``, ``name``, ``organization``)."""
    oruk = hsds = readable = 0
    unreadable: list[Problem] = []
    for file in files:
        scratch = QualityReport()
        docs = read_json_documents(file, file.name, scratch)
        unreadable += scratch.read_problems
        if not docs:
            continue
        readable += 1
        items, _ = unpage(docs)
        keys = _keys(items) | _keys(docs, 1)
        oruk += len(keys & _ORUK_KEYS)
        hsds += len(keys & _HSDS_KEYS)
    if not readable:
        names = ", ".join(f.name for f in files)
        raise InputError(unreadable or [
            Problem(names, 0, "", "no readable JSON: cannot tell ORUK from HSDS")])
    return "hsds" if hsds > oruk else "oruk"


def detect_format(path: Path | str) -> str:
    """``living-db``, ``oruk`` or ``hsds`` for a file or folder.

    A folder with ``datapackage.json`` is HSDS tabular; JSON (a file, or a folder of them)
    is ORUK or HSDS by its field names; CSV/XLSX (a file, or a folder of them) is the Living
    Database unless the CSV names are HSDS table names.
    """
    given = Path(path)
    if not given.exists():
        raise InputError([Problem(str(given), 0, "", "no such file or folder")])
    if given.is_dir():
        if (given / "datapackage.json").exists():
            return "hsds"
        files = sorted(p for p in given.iterdir() if p.is_file())
        jsons = [p for p in files if p.suffix.lower() == ".json"]
        if jsons:
            return _sniff_json(jsons)
        tables = {p.stem.lower() for p in files if p.suffix.lower() in {".csv", ".xlsx"}}
        if tables & _HSDS_TABLES:
            return "hsds"
        if tables:
            return "living-db"
        reason = "folder has no .json, .csv or .xlsx files"
        raise InputError([Problem(str(given), 0, "", reason)])
    if given.name.lower() == "datapackage.json":
        return "hsds"
    if given.suffix.lower() == ".json":
        return _sniff_json([given])
    if given.suffix.lower() in {".csv", ".xlsx"}:
        return "living-db"
    raise InputError([Problem(given.name, 0, "", "not a .json, .csv or .xlsx file or a folder")])


# ----------------------------------------------------------------------------- planning


def read_feed(paths: Iterable[Path | str], fmt: str | None = None) -> tuple[Feed, QualityReport]:
    """Read a feed's files (``fmt`` ``"oruk"`` or ``"hsds"``, detected when ``None``) into
    format-neutral records, and the quality report of what could not be read."""
    given = [Path(p) for p in paths]
    files_of(given, (".json", ".csv"))  # raises when a file is given twice
    if fmt is None:
        found = {detect_format(p) for p in given}
        if len(found) != 1:
            reason = f"the paths hold different formats: {', '.join(sorted(found))}"
            raise InputError([Problem(", ".join(map(str, given)), 0, "", reason)])
        fmt = found.pop()
    report = QualityReport()
    if fmt == "oruk":
        return read_oruk(given, report), report
    if fmt == "hsds":
        return read_hsds(given, report), report
    raise PathwaysError(f"plan_feed reads oruk or hsds feeds, not {fmt!r}")


def feed_sources(feed: Feed) -> set[str]:
    """The ``source`` its nodes and relationships carry (``oruk:services.json``...)."""
    return {o.file for o in feed.orgs.values()} | {s.file for s in feed.services}


#: a newer feed removes no relationship when it no longer gives more than this share of the
#: ones the previous import wrote (and more than a few): it looks cut short, not updated
MOST_LINKS = 0.5
_FEW_LINKS = 10


def plan_feed(
    paths: Iterable[Path | str],
    fmt: str | None = None,
    existing_kinds: Mapping[str, NodeKind] | None = None,
    *,
    previous_ids: set[str] | None = None,
    localities: list[dict] | None = None,
    links: Iterable[tuple[str, RelType, str, dict]] | None = None,
    needs: list[dict] | None = None,
) -> tuple[LoadPlan, QualityReport]:
    """Read a directory feed and say what a load would write, and what it had to fix.

    :func:`read_feed` then :func:`map_feed`; see there for the parameters.
    Returns ``(plan, report)``; ``plan.problems`` stays empty: a feed loads what it can.
    """
    feed, report = read_feed(paths, fmt)
    plan = map_feed(feed, report, existing_kinds, previous_ids=previous_ids,
                    localities=localities, links=links, needs=needs)
    return plan, report


def map_feed(
    feed: Feed,
    report: QualityReport,
    existing_kinds: Mapping[str, NodeKind] | None = None,
    *,
    previous_ids: set[str] | None = None,
    localities: list[dict] | None = None,
    links: Iterable[tuple[str, RelType, str, dict]] | None = None,
    needs: list[dict] | None = None,
) -> LoadPlan:
    """Map a read feed onto the model, once.

    Parameters
    ----------
    feed, report : from :func:`read_feed`
    existing_kinds : ids already in the store → their kind
        (``store.existing_kinds(candidate_ids(feed))``).  A Need or Locality the store
        already has is linked to, not rewritten; an id of another kind is not overwritten.
    previous_ids : node ids the previous import of this feed wrote; those this feed no
        longer loads are reported as ``disappeared`` (never when pages look missing or a
        file, or part of one, could not be read: ``report.read_problems``).
    localities : the partnership's localities (``id``, ``name``, ``postcodes``) that
        activities are placed in (``loaders/placing.py``); ``store.list_nodes(LOCALITY)``.
    links : the store's relationships out of the feed's nodes
        (``store.relationships_from(...)``).  Those an earlier import of this feed wrote
        (their ``source`` is one of the feed's files) and this one no longer gives are put in
        ``report.unlinked``, unless the feed looks incomplete (as for ``disappeared``) or
        lost most of them; the partnership's own (another ``source``) are never touched: its
        ``DOES_NOT_ADDRESS`` vetoes inferred needs, its ``ADDRESSES`` win over the feed's.
    needs : the store's needs (``id``, ``name``, ``keywords``): their keywords are
        inferred from beside ``loaders/need_rules.csv``.
    """
    sources = feed_sources(feed)
    own: set[tuple[str, str, str]] = set()
    vetoed: set[tuple[str, str]] = set()
    given: set[tuple[str, str]] = set()
    for source, rel, target, props in links or ():
        if props.get("source") in sources and source.startswith(f"{feed.namespace}:"):
            own.add((source, RelType(rel).value, target))
        elif RelType(rel) == RelType.DOES_NOT_ADDRESS:
            vetoed.add((source, target))
        elif RelType(rel) == RelType.ADDRESSES and not _from_a_feed(props):
            given.add((source, target))  # a person's (Living Database), not another feed's
    names = dict(NEED_NAMES) | {str(n["id"]): str(n.get("name") or n["id"]) for n in needs or ()}
    rules = load_rules() + partnership_rules(needs or ())
    plan = Mapper(feed, dict(existing_kinds or {}), report, localities, vetoed=vetoed,
                  given=given, rules=rules, need_names=names).plan()
    loaded_ids = {node.id for node in plan.nodes}
    whole = feed.complete and not report.read_problems
    if previous_ids:
        gone = sorted(i for i in previous_ids
                      if i.startswith(f"{feed.namespace}:") and i not in loaded_ids)
        dropped = {e.record_id for e in report.entries if e.action == "dropped"}
        for node_id in gone if whole else ():
            why = "was dropped from this import (see its other entries)" if node_id in dropped \
                else "is no longer in the feed"
            report.add(node_id, "", "disappeared", "disappeared",
                       f"loaded by the previous import but {why}")
    lost = sorted(own - {(r.source_id, r.type.value, r.target_id) for r in plan.rels})
    if whole and len(lost) > _FEW_LINKS and len(lost) > MOST_LINKS * len(own):
        report.add(", ".join(sorted(sources)), "", "unmapped", "links-kept",
                   f"the feed no longer gives {len(lost):,} of the {len(own):,} links (needs,"
                   " places, activities) the previous import made, so it looks cut short:"
                   " none was removed", ", ".join(sorted(sources)))
    elif whole:
        for source, kind, target in lost:
            report.add(source, kind, "unlinked", _LINK_RULES.get(kind, "link-gone"),
                       f"the feed no longer gives {kind} {target}: removed", "")
            report.unlinked.append((source, RelType(kind), target))
    tables = {kind: sum(n.kind == kind for n in plan.nodes) for kind in NodeKind}
    report.loaded = {kind.table: n for kind, n in tables.items() if n}
    report.loaded["relationships"] = len(plan.rels)
    return plan


def _from_a_feed(props: Mapping) -> bool:
    """Whether a relationship was written by a feed (``oruk:...``/``hsds:...`` source)."""
    return str(props.get("source", "")).startswith(tuple(f"{f}:" for f in FORMATS[1:]))


_LINK_RULES = {"ADDRESSES": "need-gone", "LOCATED_IN": "place-gone",
               "OFFERS": "activity-gone", "PROVIDES": "provider-gone"}


def vetoed_links(vetoes: set[tuple[str, str]],
                 links: Iterable[tuple[str, RelType, str, dict]]) -> list[tuple[str, RelType, str]]:
    """The inferred ``ADDRESSES`` among ``links`` that the partnership's vetoes
    ``(service or activity, need)`` cancel: the node's own, and those of the activities a
    vetoed service ``OFFERS``.  A need a person or a taxonomy gave is never vetoed.

    >>> links = [("s", RelType.OFFERS, "a", {}),
    ...          ("a", RelType.ADDRESSES, "loneliness", {"inferred": True}),
    ...          ("a", RelType.ADDRESSES, "carers", {})]
    >>> vetoed_links({("s", "loneliness"), ("s", "carers")}, links)
    [('a', <RelType.ADDRESSES: 'ADDRESSES'>, 'loneliness')]
    """
    links = list(links)
    offered_by: dict[str, set[str]] = {}
    for source, rel, target, _props in links:
        if RelType(rel) == RelType.OFFERS:
            offered_by.setdefault(target, set()).add(source)
    found = {(source, RelType.ADDRESSES, need) for source, rel, need, props in links
             if RelType(rel) == RelType.ADDRESSES and props.get("inferred")
             and ((source, need) in vetoes
                  or any((s, need) in vetoes for s in offered_by.get(source, ())))}
    return sorted(found, key=lambda k: (k[0], k[1].value, k[2]))
