"""Uploads from the browser: kept on the server, validated, previewed, then applied.

The Data page (issue 16, item 1) hands uploaded files to :func:`keep_upload`, which checks
their names, kinds and sizes and keeps them in a folder of their own under a random token;
the browser only ever holds the token.  :func:`preview` validates them exactly as
``pathways load`` does (the same planning code of :mod:`pathways.loading`, nothing written)
and compares the plan with the store: what is new, what changes (each changed cell's old and
new value) and what a feed would retire.  :func:`apply_upload` loads the kept files through
the same load function the CLI uses, and refuses when what it would now do differs from the
preview the person confirmed (the store changed in between): they are asked to look again.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import shutil
import time
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import orjson

from loaders.living_db import LoadPlan
from pathways.analysis.snapshot import cached_per_version
from pathways.config import pathways_home
from pathways.errors import InputError, PathwaysError, Problem
from pathways.graphs import Snapshot
from pathways.loading import (
    LoadResult,
    detect,
    load_feed,
    load_paths,
    plan_feed_for_store,
    plan_for_store,
)
from pathways.model import CONTENT_HASH, PROVENANCE_FIELDS, NodeKind
from pathways.spreadsheet import cell_text
from pathways.store.base import GraphStore

MB = 1_048_576
#: what may be uploaded: Living Database CSV files or a workbook, or a feed's JSON files
UPLOAD_SUFFIXES = (".csv", ".xlsx", ".json")
#: ... or one zip of them (e.g. a feed's folder)
ZIP_SUFFIX = ".zip"
MAX_UPLOAD_FILES = 40  # an HSDS tabular feed has about 22 files
#: per file and in total (MB); a bigger Living Database is loaded with ``pathways load``
MAX_UPLOAD_FILE_MB = float(os.environ.get("PATHWAYS_MAX_UPLOAD_FILE_MB", "20"))
MAX_UPLOAD_TOTAL_MB = float(os.environ.get("PATHWAYS_MAX_UPLOAD_TOTAL_MB", "50"))
#: kept uploads older than this are removed (seconds)
UPLOAD_LIFETIME = 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._()-]{0,120}$")
#: properties a person does not type: not shown as changes
_NOT_SHOWN = frozenset(PROVENANCE_FIELDS) | {CONTENT_HASH, "missing_from_feed"}


def upload_root() -> Path:
    """Where kept uploads live: ``PATHWAYS_UPLOAD_DIR``, else ``uploads/`` in the data directory
    (``PATHWAYS_HOME``).  Not the shared temp dir: uploads hold staff contact details, and a
    folder there could be made beforehand, readable by anyone, by another user of the machine.
    The folder is kept private to the app's user (0700)."""
    given = os.environ.get("PATHWAYS_UPLOAD_DIR")
    root = Path(given) if given else pathways_home() / "uploads"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(root, 0o700)
    return root


def _folder(token: object) -> Path:
    """The folder kept for ``token`` as the browser sent it back; refused if not one of ours."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise PathwaysError("that upload is not known here; upload the files again")
    folder = upload_root() / token
    if not folder.is_dir():
        raise PathwaysError("that upload has expired or was already applied; upload the files"
                            " again")
    return folder


def clean_old_uploads(now: float | None = None) -> None:
    """Remove kept uploads older than :data:`UPLOAD_LIFETIME`."""
    now = time.time() if now is None else now
    for entry in upload_root().iterdir():
        try:
            if now - entry.stat().st_mtime > UPLOAD_LIFETIME:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        except OSError:
            continue  # another worker removed it first


def keep_upload(files: Iterable[tuple[str, bytes]]) -> str:
    """Check uploaded ``(file name, content)`` pairs and keep them; return their token.

    Refused, with a reason per file and nothing kept: no files, too many, a name that is not
    a plain file name, a kind other than :data:`UPLOAD_SUFFIXES`, one name twice, a file
    over :data:`MAX_UPLOAD_FILE_MB`, all of them over :data:`MAX_UPLOAD_TOTAL_MB`, or a mix
    of Living Database files (CSV/XLSX) and feed files (JSON) other than an HSDS tabular
    feed (``datapackage.json`` with its CSV tables).  A zip file uploaded on its own (a
    feed's folder, zipped) is opened and its files are checked the same way.
    """
    files = _unzipped(list(files))
    problems: list[Problem] = []
    if not files:
        raise InputError([Problem("(upload)", 0, "", "no files were uploaded")])
    if len(files) > MAX_UPLOAD_FILES:
        raise InputError([Problem("(upload)", 0, "", f"{len(files)} files were uploaded; at most"
                                  f" {MAX_UPLOAD_FILES} at a time")])
    seen: set[str] = set()
    total = 0
    for name, content in files:
        shown = str(name)[:120]
        suffix = Path(shown).suffix.lower()
        if not _SAFE_NAME.match(shown) or ".." in shown:
            problems.append(Problem(shown, 0, "", "the file name may use only letters, digits,"
                                    " spaces and . _ ( ) -; rename the file and upload it again"))
        elif suffix not in UPLOAD_SUFFIXES:
            problems.append(Problem(shown, 0, "", "not a file that can be loaded here; upload"
                                    " CSV files or an XLSX workbook (a Living Database) or the"
                                    " JSON files of a directory feed"))
        elif shown.lower() in seen:
            problems.append(Problem(shown, 0, "", "uploaded twice; upload each file once"))
        seen.add(shown.lower())
        total += len(content)
        if len(content) > MAX_UPLOAD_FILE_MB * MB:
            problems.append(Problem(shown, 0, "", f"the file is {len(content) / MB:,.1f} MB; a file"
                                    f" uploaded here is at most {MAX_UPLOAD_FILE_MB:g} MB (load"
                                    " bigger files with `pathways load`)"))
    if total > MAX_UPLOAD_TOTAL_MB * MB:
        problems.append(Problem("(upload)", 0, "", f"the files come to {total / MB:,.1f} MB; an"
                                f" upload is at most {MAX_UPLOAD_TOTAL_MB:g} MB in all (load"
                                " bigger data with `pathways load`)"))
    kinds = {Path(n).suffix.lower() == ".json" for n, _ in files}
    tabular_feed = any(Path(n).name.lower() == "datapackage.json" for n, _ in files)
    if len(kinds) > 1 and not tabular_feed:  # an HSDS folder: datapackage.json and CSV tables
        problems.append(Problem("(upload)", 0, "", "the upload mixes a feed's JSON files with"
                                " Living Database files; upload one kind at a time"))
    if problems:
        raise InputError(problems)
    clean_old_uploads()
    token = secrets.token_urlsafe(24)
    folder = upload_root() / token
    folder.mkdir(mode=0o700)
    for name, content in files:
        (folder / Path(name).name).write_bytes(content)
    return token


def _unzipped(files: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The files in a zip uploaded on its own (folders flattened; system files left out), read
    no further than the limits whatever sizes the zip declares; other uploads as they are."""
    zips = [name for name, _ in files if str(name).lower().endswith(ZIP_SUFFIX)]
    if not zips:
        return files
    if len(files) > 1:
        raise InputError([Problem(str(zips[0])[:120], 0, "", "upload a zip file on its own, or"
                                  " the files it holds without it")])
    name, content = files[0]
    shown = str(name)[:120]
    if len(content) > MAX_UPLOAD_FILE_MB * MB:
        raise InputError([Problem(shown, 0, "", f"the zip file is {len(content) / MB:,.1f} MB; at"
                                  f" most {MAX_UPLOAD_FILE_MB:g} MB")])
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise InputError([Problem(shown, 0, "", "not a zip file that can be opened")]) from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()
                   and not m.filename.startswith("__MACOSX/")
                   and not PurePosixPath(m.filename).name.startswith(".")]
        if len(members) > MAX_UPLOAD_FILES:
            raise InputError([Problem(shown, 0, "", f"the zip holds {len(members)} files; at most"
                                      f" {MAX_UPLOAD_FILES}")])
        budget = int(MAX_UPLOAD_TOTAL_MB * MB)
        out: list[tuple[str, bytes]] = []
        for member in members:
            try:
                with archive.open(member) as stream:
                    data = stream.read(min(budget, int(MAX_UPLOAD_FILE_MB * MB)) + 1)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError) as exc:
                raise InputError([Problem(f"{shown}: {member.filename}"[:120], 0, "",
                                          f"cannot be unpacked ({exc})")]) from None
            budget -= len(data)
            out.append((PurePosixPath(member.filename).name, data))
            if budget < 0:
                raise InputError([Problem(shown, 0, "", f"the zip unpacks to more than"
                                          f" {MAX_UPLOAD_TOTAL_MB:g} MB; load it with"
                                          " `pathways load`")])
    if not out:
        raise InputError([Problem(shown, 0, "", "the zip file holds no files")])
    return out


def discard_upload(token: object) -> None:
    """Remove a kept upload (after it was applied, or when the person starts again)."""
    try:
        folder = _folder(token)
    except PathwaysError:
        return
    shutil.rmtree(folder, ignore_errors=True)
    (upload_root() / f"{token}.json").unlink(missing_ok=True)


def upload_names(token: object) -> list[str]:
    return sorted(p.name for p in _folder(token).iterdir())


# --- the preview ------------------------------------------------------------------------------

@dataclass
class Preview:
    """What loading an upload would do; ``problems`` non-empty means it cannot be loaded."""

    format: str
    problems: list[Problem] = field(default_factory=list)
    new: list[dict] = field(default_factory=list)       # id, kind, name
    changed: list[dict] = field(default_factory=list)   # id, kind, name, column, old, new
    retired: list[dict] = field(default_factory=list)   # id, kind, name
    unchanged: int = 0
    digest: str = ""

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def changes_anything(self) -> bool:
        return bool(self.new or self.changed or self.retired)


def _shown(value: object) -> str:
    return cell_text(value)


def _row_changes(ident: str, kind: str, name: str, old: Mapping, new: Mapping) -> list[dict]:
    rows = []
    for column in sorted((set(old) | set(new)) - _NOT_SHOWN):
        before, after = old.get(column), new.get(column)
        if before != after and _shown(before) != _shown(after):
            rows.append({"id": f"{ident}·{column}", "item": ident, "kind": kind, "name": name,
                         "column": column, "old": _shown(before), "new": _shown(after)})
    return rows


def snapshot_with_provenance(store: GraphStore) -> Snapshot:
    """The store's whole snapshot with every relationship's hash and provenance, once per
    data version: :func:`diff_plan` compares relationships by their ``content_hash``, which
    the analyses' snapshot (:meth:`GraphStore.analysis_snapshot`) may leave out."""
    return cached_per_version(store, "snapshot with provenance", store.snapshot)


def diff_plan(graph: Snapshot, plan: LoadPlan, retired: Iterable[str] = ()) -> Preview:
    """Compare a plan with a snapshot of the store: new, changed cell by cell, retired."""
    preview = Preview(format="")
    for node in plan.nodes:
        name = str(node.props.get("name", node.id))
        if node.id not in graph:
            preview.new.append({"id": node.id, "kind": node.kind.value, "name": name})
            continue
        old = graph.nodes[node.id]["props"]
        if old.get(CONTENT_HASH) == node.props.get(CONTENT_HASH):
            preview.unchanged += 1
            continue
        found = _row_changes(node.id, node.kind.value, name, old, node.props)
        preview.changed += found
        preview.unchanged += not found
    for rel in plan.rels:
        ident = f"{rel.source_id} {rel.type.value} {rel.target_id}"
        data = graph.get_edge_data(rel.source_id, rel.target_id, rel.type) \
            if rel.source_id in graph and rel.target_id in graph else None
        if data is None:
            preview.new.append({"id": ident, "kind": "relationship", "name": ident})
            continue
        old = data.get("props", {})
        if old.get(CONTENT_HASH) == rel.props.get(CONTENT_HASH):
            preview.unchanged += 1
            continue
        found = _row_changes(ident, "relationship", ident, old, rel.props)
        preview.changed += found
        preview.unchanged += not found
    for node_id in sorted(set(retired)):
        if node_id in graph:
            kind: NodeKind = graph.nodes[node_id]["kind"]
            preview.retired.append({"id": node_id, "kind": kind.value,
                                    "name": str(graph.nodes[node_id]["props"].get("name", node_id))})
    preview.digest = _digest(preview)
    return preview


def _digest(preview: Preview) -> str:
    text = orjson.dumps([preview.new, preview.changed, preview.retired],
                        option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def _plan(store: GraphStore, folder: Path) -> tuple[str, LoadPlan, list[str], list[Problem]]:
    """(format, plan, ids a feed would retire, problems) for the kept files: nothing written."""
    paths = [folder]
    fmt = detect(paths, None)
    if fmt == "living-db":
        plan = plan_for_store(store, paths)
        return fmt, plan, [], list(plan.problems)
    plan, quality, _previous = plan_feed_for_store(store, paths, fmt)
    problems = quality.read_problems if not plan.nodes else []
    if not plan.nodes:
        problems = problems + [Problem(", ".join(p.name for p in folder.iterdir()), 0, "",
                                       "nothing to load: the feed holds no records that can be"
                                       " loaded")]
    return fmt, plan, list(quality.disappeared), problems


def preview(store: GraphStore, token: object) -> Preview:
    """Validate the kept upload as ``pathways load`` would and say what loading it would do.

    The preview's digest is kept beside the upload, server-side, for :func:`apply_upload`."""
    folder = _folder(token)
    try:
        fmt, plan, retired, problems = _plan(store, folder)
    except InputError as exc:  # a problem found before any row could be read
        return Preview(format="", problems=sorted(exc.problems))
    if problems:
        return Preview(format=fmt, problems=sorted(problems))
    result = store.consistent(lambda: diff_plan(snapshot_with_provenance(store), plan, retired))
    result.format = fmt
    (upload_root() / f"{token}.json").write_bytes(orjson.dumps({"digest": result.digest}))
    return result


class PreviewOutdated(PathwaysError):
    """The data changed after the preview: what a load would do now is not what was shown."""


def apply_upload(store: GraphStore, token: object, actor: str | None = None) -> LoadResult:
    """Load the kept upload with the CLI's load function, all or nothing, recorded in the
    store's history as an ``upload`` by ``actor`` (the signed-in user; default the OS user).

    Refused (nothing written) when the upload was never previewed, or when, under the store's
    write lock, the change it would make differs from the preview (someone loaded something
    in between): :class:`PreviewOutdated`, so the person looks at the new preview first.
    """
    folder = _folder(token)
    kept = upload_root() / f"{token}.json"
    if not kept.is_file():
        raise PathwaysError("preview the upload before applying it")
    expected = orjson.loads(kept.read_bytes())["digest"]
    paths = [folder]
    fmt = detect(paths, None)
    retired: list[str] = []

    def check(plan: LoadPlan) -> None:  # called under the load lock, before anything is written
        now = diff_plan(snapshot_with_provenance(store), plan, retired).digest
        if now != expected:
            raise PreviewOutdated("the data changed after your preview, so nothing was loaded;"
                                  " look at the new preview and apply it again")

    if fmt == "living-db":
        result = load_paths(store, paths, on_plan=check, actor=actor, action="upload")
    else:
        _, quality, _ = plan_feed_for_store(store, paths, fmt)
        retired = list(quality.disappeared)
        result = load_feed(store, paths, fmt, on_plan=check, actor=actor, action="upload feed")
    discard_upload(token)
    return result
