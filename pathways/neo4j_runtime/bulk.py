"""Bulk import: a first load of a large Living Database with Neo4j's offline importer.

The online loader (``pathways load --store neo4j``) writes through Bolt in one transaction;
on a 2-core machine Neo4j itself takes it at about 20-25k rows/s, so a national directory
(a million nodes, five million relationships) would take minutes.  ``neo4j-admin database
import full`` builds the store files directly, an order of magnitude faster, but only into
an empty database of a stopped server.  So this is offered where the project owns the
server: ``pathways neo4j start --import PATH`` validates PATH exactly as ``pathways load``
does (nothing is imported if any row is wrong), writes the importer's CSV files, imports,
then starts the server and creates the usual constraints.  The graph is the same one the
online loader would write: same labels, types and properties (tests compare snapshots).
"""

from __future__ import annotations

import csv
import os
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, cast

from pathways.errors import Neo4jRuntimeError
from pathways.model import NodeKind, NodeRecord, RelRecord, RelType

BASE_LABEL = "Pathways"
ID_SPACE = "Pathways"
ARRAY_DELIMITER = ";"


@dataclass
class ImportFiles:
    """The importer's input: one node file per kind, one relationship file per type."""

    folder: Path
    nodes: dict[NodeKind, Path] = field(default_factory=dict)
    relationships: dict[RelType, Path] = field(default_factory=dict)
    multiline: bool = False
    rows: int = 0


def _column_types(rows: list[dict]) -> dict[str, str]:
    """Each property's importer type, from its values; a column holds one type."""
    types: dict[str, str] = {}
    for row in rows:
        for key, value in row.items():
            if isinstance(value, bool):
                kind = "boolean"
            elif isinstance(value, int):
                kind = "long"
            elif isinstance(value, float):
                kind = "double"
            elif isinstance(value, list):
                kind = "string[]"
            else:
                kind = "string"
            seen = types.setdefault(key, kind)
            if seen != kind:
                raise Neo4jRuntimeError(
                    f"property {key!r} holds both {seen} and {kind} values; the bulk importer"
                    " needs one type per property (load these rows with `pathways load`)"
                )
    return types


def _cell(value: object, kind: str) -> str:
    if value is None:
        return ""
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "string[]":
        items = [str(v) for v in cast("Iterable[object]", value)]  # a list: the kind says so
        if any(ARRAY_DELIMITER in item for item in items):
            raise Neo4jRuntimeError(f"a list value contains {ARRAY_DELIMITER!r}: {items!r}")
        return ARRAY_DELIMITER.join(items)
    return str(value)


def _write(path: Path, fixed: list[str], rows: list[tuple[list[str], dict]]) -> bool:
    """Write one importer CSV; return True when some value spans lines."""
    types = _column_types([props for _, props in rows])
    names = sorted(types)
    multiline = False
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(fixed + [f"{name}:{types[name]}" for name in names])
        for head, props in rows:
            cells = [_cell(props.get(name), types[name]) for name in names]
            if not multiline and any("\n" in c or "\r" in c for c in cells):
                multiline = True
            writer.writerow(head + cells)
    return multiline


class ValidatedRows(Protocol):
    """What the importer needs of a load plan: validated nodes and relationships.

    :class:`loaders.living_db.LoadPlan` is one; the runtime does not depend on the parser.
    """

    @property
    def nodes(self) -> Sequence[NodeRecord]: ...

    @property
    def rels(self) -> Sequence[RelRecord]: ...


def write_import_files(plan: ValidatedRows, folder: Path, loaded_at: str) -> ImportFiles:
    """The plan's nodes and relationships as the importer's CSV files, ``loaded_at`` on each."""
    folder.mkdir(parents=True, exist_ok=True)
    files = ImportFiles(folder, rows=len(plan.nodes) + len(plan.rels))
    by_kind: dict[NodeKind, list] = defaultdict(list)
    for node in plan.nodes:
        props = {k: v for k, v in node.props.items() if k != "id"}
        props["loaded_at"] = loaded_at
        by_kind[node.kind].append(([node.id, f"{BASE_LABEL};{node.kind.label}"], props))
    for kind, rows in by_kind.items():
        path = folder / f"nodes-{kind.value}.csv"
        # "id" is both the importer's key and the node's id property, as online.
        files.multiline |= _write(path, [f"id:ID({ID_SPACE})", ":LABEL"], rows)
        files.nodes[kind] = path
    by_type: dict[RelType, list] = defaultdict(list)
    for rel in plan.rels:
        props = dict(rel.props)
        props["loaded_at"] = loaded_at
        by_type[rel.type].append(([rel.source_id, rel.target_id, rel.type.value], props))
    for rel_type, rows in by_type.items():
        path = folder / f"relationships-{rel_type.value}.csv"
        fixed = [f":START_ID({ID_SPACE})", f":END_ID({ID_SPACE})", ":TYPE"]
        files.multiline |= _write(path, fixed, rows)
        files.relationships[rel_type] = path
    return files


def run_import(java: str, jvm_flags: list[str], classpath: str, home: Path,
               files: ImportFiles, database: str = "neo4j") -> None:
    """Run ``neo4j-admin database import full`` into ``home`` (server stopped)."""
    command = [
        java, *jvm_flags, "-cp", classpath, "org.neo4j.cli.AdminTool",
        "database", "import", "full", database,  # first: the file lists take all that follow
        "--overwrite-destination=true",
        "--bad-tolerance=0",  # the rows were validated; anything odd is a bug, so stop
        f"--array-delimiter={ARRAY_DELIMITER}",
        f"--report-file={files.folder / 'import.report'}",
        "--max-off-heap-memory=50%",
    ]
    if files.multiline:
        command.append("--multiline-fields=true")
    command += [f"--nodes={path}" for path in files.nodes.values()]
    command += [f"--relationships={path}" for path in files.relationships.values()]
    env = dict(os.environ, NEO4J_HOME=str(home), NEO4J_CONF=str(home / "conf"))
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stdout or "")[-3000:] + (done.stderr or "")[-3000:]
        raise Neo4jRuntimeError(f"neo4j-admin import failed:\n{tail}")
