"""Update requests coming back: a workbook made for one organisation changes only its rows.

``pathways update-request ORG`` writes a workbook with a hidden ``_update_request`` sheet
naming the organisation (:data:`MARKER_SHEET`).  When such a workbook is loaded (CLI or the
Data page), :func:`refuse_out_of_scope` refuses every row of it that is not that
organisation's: its own row, the services it provides, the activities those services offer,
and relationships starting from one of them.  Other files loaded with it are not affected.

Pure: the store's relationships among the ids concerned are passed in by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from loaders.files import RawRows
from loaders.living_db import LoadPlan
from pathways.errors import Problem
from pathways.model import NodeKind, RelType

MARKER_SHEET = "_update_request"
MARKER_KEY = "organisation_id"
_OWN_TABLES = {NodeKind.ORGANISATION, NodeKind.SERVICE, NodeKind.ACTIVITY}


def request_organisation(path: Path) -> str | None:
    """The organisation an update-request workbook was made for, or None for any other file.

    Only called on a workbook :func:`loaders.files.read_workbook` has already checked (size,
    zip, unpacked size), so opening it again is safe."""
    if path.suffix.lower() != ".xlsx" or not path.is_file():
        return None
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds; read_sources has already said why
        return None
    try:
        if MARKER_SHEET not in book.sheetnames:
            return None
        for row in book[MARKER_SHEET].iter_rows(min_row=1, max_row=5, values_only=True):
            if len(row) >= 2 and str(row[0] or "").strip() == MARKER_KEY and row[1]:
                return str(row[1]).strip()
        return None
    finally:
        book.close()


def tables_of(tables: Iterable[RawRows], path: Path) -> list[RawRows]:
    """The tables read from the workbook ``path`` (their labels are ``NAME [sheet]``)."""
    names = {path.name, str(path)}
    return [t for t in tables if t.file.rsplit(" [", 1)[0] in names]


def ids_concerned(organisation: str, tables: Iterable[RawRows]) -> set[str]:
    """Every id the request's rows name, and the organisation's: what to ask the store about."""
    ids = {organisation}
    for table in tables:
        for column in ("id", "source_id", "target_id"):
            if column in table.header:
                index = table.header.index(column)
                ids.update(v[index].strip() for _, v in table.rows if index < len(v))
    return ids - {""}


def refuse_out_of_scope(plan: LoadPlan, organisation: str, files: set[str],
                        stored: Iterable[tuple[str, RelType, str]],
                        stored_kinds: dict[str, NodeKind]) -> list[Problem]:
    """Take out of ``plan`` the rows of ``files`` (a request's sheets) that are not
    ``organisation``'s, and say why for each, by file, row and column.

    ``stored`` holds the store's relationships among the ids concerned and ``stored_kinds``
    their kinds.  A service is the organisation's when the store says it PROVIDES it, or,
    for a service new to the store, when the request does; an activity likewise through
    OFFERS from one of those services.
    """
    why_other = (f"this workbook is an update request for {organisation!r}, so it may change only"
                 f" that organisation, its services and their activities")
    if stored_kinds.get(organisation) != NodeKind.ORGANISATION:
        return [Problem(sorted(files)[0] if files else "", 0, "",
                        f"this workbook is an update request for {organisation!r}, which is not"
                        " an organisation in the store; ask for a new update request")]
    stored = list(stored)
    mine_rels = [r for r in plan.rels if r.file in files]

    def owned_by(parents: set[str], rel: RelType, kind: NodeKind) -> set[str]:
        found = {t for s, r, t in stored if r == rel and s in parents}
        found |= {r.target_id for r in mine_rels if r.type == rel and r.source_id in parents
                  and r.target_id not in stored_kinds}  # new to the store: the request says so
        return {i for i in found if stored_kinds.get(i, kind) == kind}

    services = owned_by({organisation}, RelType.PROVIDES, NodeKind.SERVICE)
    activities = owned_by(services, RelType.OFFERS, NodeKind.ACTIVITY)
    owned = {organisation} | services | activities
    problems: list[Problem] = []
    refused: set[tuple[str, int]] = set()
    for node in plan.nodes:
        if node.file not in files or node.id in owned:
            continue
        if node.kind in _OWN_TABLES:
            reason = f"{node.id!r} is not {organisation!r}'s; {why_other}"
        else:
            reason = f"an update request changes no {node.kind.table}; {why_other}"
        problems.append(Problem(node.file, node.row, "id", reason))
        refused.add((node.file, node.row))
    for rel in mine_rels:
        if (rel.file, rel.row) in refused:
            continue
        if rel.source_id not in owned:
            column = "source_id"
        elif rel.type in (RelType.PROVIDES, RelType.OFFERS) and rel.target_id not in owned:
            column = "target_id"
        else:
            continue
        node_id = rel.source_id if column == "source_id" else rel.target_id
        problems.append(Problem(rel.file, rel.row, column,
                                f"{node_id!r} is not {organisation!r}'s; {why_other}"))
        refused.add((rel.file, rel.row))
    plan.nodes = [n for n in plan.nodes if (n.file, n.row) not in refused]
    plan.rels = [r for r in plan.rels if (r.file, r.row) not in refused]
    return problems

