"""Load history and undo: every change to the data is recorded, and can be taken back.

Each load (``pathways load`` of a Living Database or a feed, ``pathways demo``, ``pathways
reset``, the app's upload, and undo itself) leaves a record in the store: its number, when,
who (``actor``: the OS user for the CLI, the signed-in user for the app), what (``action``),
the source files' names and SHA-256, counts, and its **before-image**: every node and
relationship the load created, changed, retired or removed, as it was just before (``None``
for one it created).  The image is taken after the load is planned and before anything is
written, under the store's load lock, so it is exactly what the load will overwrite.

Where it lives: in the store, so a shared Neo4j database keeps one history for everyone
(``PathwaysMeta:PathwaysLoad`` nodes, which carry no ``Pathways`` label, so stats, lists,
snapshots, analyses and ``reset`` never see them); the embedded store keeps a ``graph.history/``
folder beside ``graph.json``.  A record is saved ("running") before the load writes and
finished after it; a load that fails having written nothing leaves no record, one that
failed part-way (a feed written but not retired) stays, "incomplete", and can be undone.

Undo (:func:`undo`) restores the load's before-image in one all-or-nothing transaction under
the load lock, and is itself recorded with its own before-image (so undoing an undo redoes
the load).  **Later loads are never undone silently**: a load can be undone only while no
later load that changed anything still stands; otherwise undo refuses, naming them, and says
to undo them first, newest first.  (Undoing them in one go would hide from the person what
else they are throwing away; refusing keeps each step visible and each step recorded.)
Loads that changed nothing, loads already undone, and undo pairs that cancel after the
load do not stand in the way.
"""

from __future__ import annotations

import contextlib
import getpass
import gzip
import hashlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import orjson

from pathways.errors import PathwaysError, UnknownIdError
from pathways.gcpause import gc_paused
from pathways.model import CONTENT_HASH, NodeKind, NodeRecord, RelRecord, RelType
from pathways.store.base import GraphStore, Image, RelKey, now_iso

log = logging.getLogger(__name__)

#: What a record says was done
ACTIONS = ("load", "feed", "demo", "reset", "undo", "upload", "upload feed", "import")


def default_actor() -> str:
    """Who runs this process (the CLI's actor): the OS user name."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown user"


def file_sources(paths: Iterable[Path | str]) -> list[dict]:
    """Each source file's name and SHA-256 (a folder: the files in it, as the loaders read)."""
    found: list[dict] = []
    for given in paths:
        path = Path(given)
        files = (sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
                 if path.is_dir() else [path] if path.is_file() else [])
        if not files:
            found.append({"name": str(given), "sha256": ""})
        for file in files:
            digest = hashlib.sha256()
            with file.open("rb") as handle:
                while block := handle.read(1 << 20):
                    digest.update(block)
            found.append({"name": file.name, "sha256": digest.hexdigest()})
    return found


# ---- images: packed for keeping ------------------------------------------------------------
_KINDS = {k.value: k for k in NodeKind}
_TYPES = {t.value: t for t in RelType}  # a dict lookup: 5x faster than RelType(value)


def pack(image: Image) -> bytes:
    """An image as compressed JSON (gzip level 1: a fast compressor, ~8x smaller).  orjson
    writes the enums as their values."""
    data = {
        "nodes": [[n, None, None] if s is None else [n, s[0], s[1]]
                  for n, s in image.nodes.items()],
        "rels": [[u, k, v, props] for (u, k, v), props in image.rels.items()],
    }
    return gzip.compress(orjson.dumps(data), compresslevel=1)


def unpack(raw: bytes) -> Image:
    data = orjson.loads(gzip.decompress(raw))
    return Image(
        {n: None if kind is None else (_KINDS[kind], props) for n, kind, props in data["nodes"]},
        {(u, _TYPES[k], v): props for u, k, v, props in data["rels"]},
    )


# ---- records ---------------------------------------------------------------------------------
class Recorder:
    """One load's record in the making.  The load writes through :attr:`store`, a view of the
    store that, before each change (write, retire, unlink, reset), notes how the graph held
    what that change will touch and saves the record ("running") with the image so far; so
    even a load killed half-way leaves what undoes it.  :meth:`finish` marks it done.

    Made by :func:`recording`; the loading functions drive it.
    """

    def __init__(self, store: GraphStore, action: str, sources: list[dict], actor: str):
        self.target = store
        self.store: GraphStore = _RecordingStore(store, self)  # type: ignore[assignment]
        self.action, self.sources, self.actor = action, sources, actor
        self.record: dict | None = None
        self.image = Image({}, {})
        self.removed_rels = 0
        self._version: object = None

    def note(self, before: Image, new_nodes: dict[str, object] | None = None,
             new_rels: dict[RelKey, object] | None = None) -> None:
        """Add what ``before`` shows to the image (the first state seen of each wins), leaving
        out rows the change leaves as they are (their content hash in ``new_*`` matches),
        then save the record."""
        new_nodes, new_rels = new_nodes or {}, new_rels or {}
        for node, state in before.nodes.items():
            if (node not in self.image.nodes and not (
                    node in new_nodes and state is not None
                    and state[1].get(CONTENT_HASH) == new_nodes[node])):
                self.image.nodes[node] = state
        for key, props in before.rels.items():
            if key not in self.image.rels and not (
                    key in new_rels and props is not None
                    and props.get(CONTENT_HASH) == new_rels[key]):
                self.image.rels[key] = props
        self._save(image=True)

    def _save(self, image: bool = False) -> None:
        if self.record is None:
            self._version = self.target.version()
            found = self.target.history_records()
            seq = max((int(r["seq"]) for r in found), default=0) + 1
            self.record = {
                "id": str(seq), "seq": seq, "at": now_iso(), "actor": self.actor,
                "action": self.action, "sources": self.sources, "counts": {}, "changes": 0,
                "status": "running", "undoes": None,
            }
            image = True
        self.record["changes"] = len(self.image.nodes) + len(self.image.rels)
        self.target.save_history(self.record, pack(self.image) if image else None)

    def finish(self, counts: dict[str, int], **extra) -> dict:
        """Mark the record done with what the load did (a load that changed nothing is
        recorded too)."""
        if self.record is None:
            self._save()
        assert self.record is not None
        self.record.update(counts={k: int(v) for k, v in counts.items() if v}, status="done",
                           **extra)
        self._save()
        return self.record

    def abandon(self) -> None:
        """The load failed: forget the record if nothing was written, else mark it incomplete."""
        if self.record is None:
            return
        if self.target.version() == self._version:
            self.target.drop_history(self.record["id"])
        else:
            self.record["status"] = "incomplete"
            self._save()

    def load_counts(self, result) -> dict[str, int]:
        """The counts of a :class:`pathways.loading.LoadResult` (and what was removed)."""
        counts = write_counts(result.summary)
        retired = list(result.retired)
        present = self.target.existing_kinds(retired)
        removed = [n for n in retired if n not in present]
        counts["retired"] = len(retired) - len(removed)
        counts["nodes_removed"] = len(removed)
        counts["rels_removed"] = self.removed_rels
        return counts


class _RecordingStore:
    """The store as a recorded load sees it: every change is noted first (see
    :class:`Recorder`); everything else is the store's own."""

    def __init__(self, store: GraphStore, recorder: Recorder):
        self._store, self._recorder = store, recorder

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    def write(self, nodes: Sequence[NodeRecord], rels: Sequence[RelRecord], progress=None):
        keys = {(r.source_id, r.type, r.target_id): r.props.get(CONTENT_HASH) for r in rels}
        hashes = {n.id: n.props.get(CONTENT_HASH) for n in nodes}
        self._recorder.note(self._store.image(hashes, keys), hashes, keys)
        return self._store.write(nodes, rels, progress=progress)

    def retire(self, ids: Sequence[str], remove: bool, stamp: str) -> None:
        before = self._store.image(() if remove else ids, (), ids if remove else ())
        if remove:
            self._recorder.removed_rels += sum(p is not None for p in before.rels.values())
        self._recorder.note(before)
        self._store.retire(ids, remove, stamp)

    def unlink(self, keys: Sequence[RelKey]) -> None:
        before = self._store.image((), keys)
        self._recorder.removed_rels += sum(p is not None for p in before.rels.values())
        self._recorder.note(before)
        self._store.unlink(keys)

    def reset(self) -> None:
        self._recorder.note(self._store.consistent(lambda: whole_image(self._store)))
        self._store.reset()


@contextlib.contextmanager
def recording(store: GraphStore, action: str, paths: Iterable[Path | str] = (),
              actor: str | None = None) -> Iterator[Recorder]:
    """Record one load (call inside the store's load lock): write through the recorder's
    ``store``; an error abandons the record."""
    recorder = Recorder(store, action, file_sources(paths), actor or default_actor())
    try:
        yield recorder
    except BaseException as exc:
        try:
            recorder.abandon()
        except PathwaysError as failure:  # e.g. the server is gone: the load's own error stays
            exc.add_note(f"Updating the load history failed too ({failure}).")
            log.warning("could not update the load history after a failed load: %s", failure)
        raise


def write_counts(summary) -> dict[str, int]:
    """The counts of a :class:`~pathways.store.base.WriteSummary`."""
    return {"nodes_new": summary.nodes_new, "nodes_changed": summary.nodes_changed,
            "rels_new": summary.rels_new, "rels_changed": summary.rels_changed}


# ---- reading the history -----------------------------------------------------------------------
def records(store: GraphStore) -> list[dict]:
    """Every load, newest first, each with ``undone_by`` (the undo that took it back, or None)."""
    found = sorted(store.history_records(), key=lambda r: int(r["seq"]), reverse=True)
    undone = _undone(found)
    for record in found:
        record["undone_by"] = undone.get(record["id"])
    return found


def _undone(found: list[dict]) -> dict[str, str]:
    """Load id → the id of the undo that undid it, replaying the undos in order (undoing an
    undo redoes its load)."""
    by_id = {r["id"]: r for r in found}
    undone: dict[str, str] = {}

    def take_back(load_id: str, by: str) -> None:
        undone[load_id] = by
        target = by_id.get(load_id)
        if target is not None and target.get("undoes"):
            put_back(target["undoes"])

    def put_back(load_id: str) -> None:
        undone.pop(load_id, None)
        target = by_id.get(load_id)
        if target is not None and target.get("undoes"):
            take_back(target["undoes"], load_id)

    for record in sorted(found, key=lambda r: int(r["seq"])):
        if record.get("undoes") and record["status"] == "done":
            take_back(record["undoes"], record["id"])
    return undone


def standing_after(found: list[dict], target: dict) -> list[dict]:
    """The later loads that still stand on top of ``target`` (undo refuses while there are
    any): each changed something, is not undone, and is not an undo of a load after target."""
    seq = int(target["seq"])
    by_id = {r["id"]: r for r in found}

    def neutral(record: dict) -> bool:
        if record.get("undone_by") or not record.get("changes"):
            return True
        undid = by_id.get(record.get("undoes") or "")
        return undid is not None and int(undid["seq"]) > seq

    return [r for r in found if int(r["seq"]) > seq and not neutral(r)]


def describe(record: dict) -> str:
    """One line for a record, e.g. ``3 (demo by sam at 2026-11-30T16:11:00+00:00)``."""
    return f"{record['id']} ({record['action']} by {record['actor']} at {record['at']})"


_COUNT_WORDS = {
    "nodes_new": ("new node", "new nodes"),
    "nodes_changed": ("changed node", "changed nodes"),
    "rels_new": ("new relationship", "new relationships"),
    "rels_changed": ("changed relationship", "changed relationships"),
    "retired": ("node retired", "nodes retired"),
    "nodes_removed": ("node removed", "nodes removed"),
    "rels_removed": ("relationship removed", "relationships removed"),
    "nodes_restored": ("node restored", "nodes restored"),
    "rels_restored": ("relationship restored", "relationships restored"),
    "nodes_deleted": ("node deleted", "nodes deleted"),
    "rels_deleted": ("relationship deleted", "relationships deleted"),
}


def counts_text(counts: dict[str, int]) -> str:
    """What a load did in words, e.g. ``1 new node, 3 changed relationships``."""
    shown = [f"{counts[key]:,} {one if counts[key] == 1 else many}"
             for key, (one, many) in _COUNT_WORDS.items() if counts.get(key)]
    return ", ".join(shown) or "no change"


def rows(store: GraphStore, hashes: bool = True) -> list[dict]:
    """The history as flat rows for tables and files, newest first (``hashes``: each file
    with the start of its SHA-256; else the file names only, for a narrow table)."""
    return [{
        "id": r["id"], "when": r["at"], "who": r["actor"], "action": r["action"],
        "sources": "; ".join(f"{s['name']} (sha256 {s['sha256'][:12]})" if s["sha256"] and hashes
                             else s["name"] for s in r.get("sources", [])),
        "counts": counts_text(r.get("counts", {})),
        "status": r["status"] + (f" (undoes {r['undoes']})" if r.get("undoes") else ""),
        "undone": f"yes, by {r['undone_by']}" if r.get("undone_by") else "no",
    } for r in records(store)]


ROW_COLUMNS = ["id", "when", "who", "action", "sources", "counts", "status", "undone"]


# ---- reset and undo ----------------------------------------------------------------------------
def whole_image(store: GraphStore) -> Image:
    graph = store.snapshot()
    return Image(
        {n: (a["kind"], dict(a["props"])) for n, a in graph.nodes(data=True)},
        {(u, k, v): dict(a["props"]) for u, v, k, a in graph.edges(keys=True, data=True)},
    )


def record_import(store: GraphStore, sources: list[dict], actor: str | None = None) -> dict:
    """Record a first load made by neo4j-admin's offline importer (``load --import``), which
    wrote the database before any server, and so any recorder, could see it.  The database
    was new and empty, so the record says so (``empty_before``) instead of keeping an image
    of every row (which at a million nodes would cost what the import's streaming check
    saves): :func:`undo` deletes everything then in the graph, which, since undo refuses while
    a later load stands on it, is exactly what the import wrote.  ``sources`` are the files'
    names and SHA-256 (:func:`file_sources`), taken before the import read them."""
    with store.load_lock("recording the import"):
        stats = store.stats()
        recorder = Recorder(store, "import", sources, actor or default_actor())
        record = recorder.finish({"nodes_new": sum(stats["nodes"].values()),
                                  "rels_new": sum(stats["relationships"].values())},
                                 empty_before=True)
        # ``changes`` counts the other loads' image rows; this one changed every row it wrote
        record["changes"] = sum(record["counts"].values())
        store.save_history(record, None)
        return record


def reset_store(store: GraphStore, actor: str | None = None) -> dict:
    """Empty the store, recorded (its before-image is the whole graph, so it can be undone)."""
    with (store.load_lock("a reset"), gc_paused(),
          recording(store, "reset", actor=actor) as recorder):
        recorder.store.reset()
        return recorder.finish({"nodes_removed": len(recorder.image.nodes),
                                "rels_removed": len(recorder.image.rels)})


class UndoRefused(PathwaysError):
    """An undo that cannot be done (already undone, or later loads stand on it)."""


def undo(store: GraphStore, load_id: str, actor: str | None = None) -> dict:
    """Restore the graph as it was before load ``load_id``; the undo's record (its counts
    say what was restored and deleted).  See the module docstring for when it refuses."""
    # the cycle collector paused: with a large graph in memory, each of its passes walks
    # every node (an undo of 7k rows at 100k nodes took 24 s with it, ~10 s without)
    with store.load_lock("an undo"), gc_paused():
        found = records(store)
        by_id = {r["id"]: r for r in found}
        target = by_id.get(str(load_id).strip())
        if target is None:
            raise UnknownIdError(str(load_id), "load")
        if target.get("undone_by"):
            raise UndoRefused(f"load {target['id']} was already undone by load "
                              f"{target['undone_by']}; to put it back, undo load "
                              f"{target['undone_by']}")
        standing = standing_after(found, target)
        if standing:
            listed = "; ".join(describe(r) for r in standing)
            raise UndoRefused(
                f"load {target['id']} cannot be undone while later loads stand on it: {listed}."
                " Undo those first, newest first (" + ", then ".join(
                    f"pathways undo {r['id']}" for r in standing) + "); nothing was changed")
        if target.get("empty_before"):  # an import into a new database: all it holds is its
            whole = whole_image(store)
            image: Image | None = Image(dict.fromkeys(whole.nodes), dict.fromkeys(whole.rels))
        else:
            image = image_of(store, target["id"])
        if image is None:
            raise UndoRefused(f"load {target['id']} kept no before-image, so it cannot be undone")
        with recording(store, "undo", actor=actor) as recorder:
            recorder.note(store.image(image.nodes, image.rels))
            store.restore(image)
            kept = sum(s is not None for s in image.nodes.values())
            kept_rels = sum(p is not None for p in image.rels.values())
            return recorder.finish(
                {"nodes_restored": kept, "nodes_deleted": len(image.nodes) - kept,
                 "rels_restored": kept_rels, "rels_deleted": len(image.rels) - kept_rels},
                undoes=target["id"])


def image_of(store: GraphStore, load_id: str) -> Image | None:
    """A load's before-image (for tests and the History page's details)."""
    raw = store.history_image(load_id)
    return None if raw is None else unpack(raw)


__all__ = ["ACTIONS", "ROW_COLUMNS", "Recorder", "UndoRefused", "default_actor", "record_import",
           "recording", "records", "reset_store", "rows", "undo"]
