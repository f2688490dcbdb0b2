"""The embedded store's ``graph.json``: written and read a chunk at a time, fast and small.

Speed (100k nodes / 464k relationships, 144 MB, 2-core box): reading took 5.8 s, then
~1.6 s: Python's cycle collector re-scanning the heap while half a million dicts are made
(paused now: the parsed data holds no cycles), ``NodeKind(...)``/``RelType(...)`` enum calls
(looked up in a dict now) and networkx's ``add_edge`` (its dicts are filled directly, exactly
as ``add_node``/``add_edge`` would fill them; tested equal).

Memory (issue 18 item 8: a 1M-node graph.json could not be opened again in 13 GiB): the
whole file used to be parsed into one tree of wrapper dicts ({"source", "type", "target",
"props"} per relationship) alive next to the graph built from it, and every saved file was
built the same way, twice over (the wrapper dicts, then one bytes object).  Now the file is
written in lines of :data:`CHUNK` records and read back one line at a time, so only one
chunk's wrappers exist at once; and the strings the graph keeps are shared where they repeat:
each node id is one object (the node's key, its ``props["id"]`` and every adjacency entry
naming it, where parsing made one copy per mention), and short values of properties that
repeat across records (``source``, ``loaded_at``, ``method``, schedules...) are one object
per distinct value.  Same graph, equal dicts (tests/unit/test_graphfile.py).  Nor do the
file's whole bytes exist at once: a save sends each line to the file as it is made
(:func:`pieces`) and the store opens the file and reads it a line at a time (at 1m the
bytes are ~1.5 GB; tests/unit/test_embedded_streaming.py).

The file is still the one JSON document format 1 has always been (older versions read it
whole, as before), laid out so that a reader can take it a line at a time::

    {"format":1,"layout":"lines","nodes":[
    {node},{node},...,
    {node},...
    ],"relationships":[
    {rel},...
    ]}

JSON escapes newlines inside strings, so a newline is always a line break between chunks.
Files written whole by older versions (one line) are read whole, as before; so is anything
that does not follow the layout exactly, so a damaged file gets the same plain message.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import networkx as nx
import orjson

from pathways.errors import StoreUnavailableError
from pathways.gcpause import gc_paused
from pathways.graphs import Snapshot
from pathways.model import NODE_COLUMNS, RELATIONSHIP_COLUMNS, SESSIONS, NodeKind, RelType

FORMAT_VERSION = 1
CHUNK = 20_000  # records per line: ~6 MB of relationships, one chunk's wrappers at a time
_KINDS = {k.value: k for k in NodeKind}
_TYPES = {t.value: t for t in RelType}
_HEAD = b'{"format":1,"layout":"lines","nodes":['
_MIDDLE = b'],"relationships":['
_TAIL = b"]}"
# Property values made one object per distinct value: the provenance that repeats by
# construction (the file a record came from, the time of its load) and the columns whose
# values come from a short list (enums, dates, tags).  Ids, hashes, names and free text are
# a record's own: sharing them would cost a lookup each for nothing.
_COLUMNS = [c for columns in NODE_COLUMNS.values() for c in columns]
_NODE_SHARED = tuple(dict.fromkeys(["source", "loaded_at"] + [
    c.name for c in _COLUMNS if c.type in ("enum", "date")]))
_NODE_SHARED_LISTS = tuple(dict.fromkeys([c.name for c in _COLUMNS if c.type == "tags"]
                                         + [SESSIONS]))
_REL_SHARED = tuple(dict.fromkeys(["source", "loaded_at"] + [
    c.name for c in RELATIONSHIP_COLUMNS if c.type in ("enum", "date") and c.name != "type"]))


# ---- writing -------------------------------------------------------------------------------
def pieces(graph: Snapshot) -> Iterator[bytes | memoryview]:
    """``graph`` as a graph file's bytes, a piece at a time (format 1, a line per
    :data:`CHUNK` records): the head, each chunk's line, the closing brackets.  Joined they
    are :func:`serialise`'s bytes; a writer can send each to the file as it comes, so no
    more than one chunk's JSON exists at once (at 1m the whole file is ~1.5 GB)."""
    yield _HEAD
    yield from _chunks(({"id": n, "kind": a["kind"].value, "props": a["props"]}
                        for n, a in graph.nodes(data=True)))
    yield b"\n" + _MIDDLE
    yield from _chunks(({"source": u, "type": k.value, "target": v, "props": a["props"]}
                        for u, v, k, a in graph.edges(keys=True, data=True)))
    yield b"\n" + _TAIL + b"\n"


def serialise(graph: Snapshot) -> bytearray:
    """``graph`` as a graph file's bytes, all in one buffer (:func:`pieces` joined)."""
    out = bytearray()
    for piece in pieces(graph):
        out += piece
    return out


def _chunks(records: Iterator[dict[str, Any]]) -> Iterator[bytes | memoryview]:
    """Each :data:`CHUNK` of ``records`` as its line: a newline, then the records' JSON
    without the list's brackets, with a comma before the newline of every line but the
    first (so the pieces are ``\n`` line, ``,`` ``\n`` line, ...)."""
    first = True
    chunk: list[dict[str, Any]] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == CHUNK:
            yield b"\n" if first else b",\n"
            yield memoryview(orjson.dumps(chunk))[1:-1]
            first = False
            chunk = []
    if chunk:
        yield b"\n" if first else b",\n"
        yield memoryview(orjson.dumps(chunk))[1:-1]


# ---- reading -------------------------------------------------------------------------------
def parse_graph(raw: bytes | BinaryIO, path: Path | str | None) -> Snapshot:
    """The graph ``raw`` holds: the bytes of a graph file, or the file itself open for
    reading in binary at its start (then read a line at a time: the whole file's bytes never
    exist at once, ~1.5 GB at 1m); a plain message naming ``path`` when it is not one or is
    damaged.  An open file is read to its end or until it is found damaged."""
    with gc_paused():
        source = _Source(raw)
        if source.starts_with(_HEAD + b"\n"):
            try:
                graph = _read_lines(source)
            except (KeyError, TypeError, ValueError) as exc:  # JSON, but not a graph's
                raise StoreUnavailableError(f"{path} is damaged ({exc!r})") from exc
            if graph is not None:
                return graph
        return _read_whole(source.whole(), path)


def _read_whole(raw: bytes, path: Path | str | None) -> Snapshot:
    try:
        data = orjson.loads(raw)
    except ValueError as exc:
        raise StoreUnavailableError(f"cannot read the embedded store {path}: {exc}") from exc
    del raw  # freed here when read from an open file (~1.5 GB at 1m): nothing else holds it
    if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
        raise StoreUnavailableError(f"{path} is not a Thriving Pathways graph file")
    try:
        builder = _Builder()
        builder.add_nodes(data["nodes"])
        del data["nodes"]
        builder.add_rels(data["relationships"])
        return builder.graph
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreUnavailableError(f"{path} is damaged ({exc!r})") from exc


def _read_lines(source: _Source) -> Snapshot | None:
    """The graph of a file laid out in lines, a chunk at a time; None when the file does not
    follow the layout exactly or is not JSON (the whole-file reader then says what, as for
    any file).  Records that are JSON but not a graph's raise at once (at 1m, reading the
    whole file again only to say so would need the memory this layout saves)."""
    builder = _Builder()
    lines = source.lines(len(_HEAD) + 1)
    for add, closing in ((builder.add_nodes, _MIDDLE), (builder.add_rels, _TAIL)):
        more = True
        for line in lines:
            if line == closing:
                break
            if not more:  # the previous chunk had no comma: not the last after all
                return None
            more = line.endswith(b",")
            try:
                records = orjson.loads(b"[" + (line[:-1] if more else line) + b"]")
            except orjson.JSONDecodeError:
                return None
            add(records)
        else:
            return None  # the file ended inside a list
        if more:
            return None  # a comma before the closing bracket
    if source.rest().strip():
        return None  # something after the document
    return builder.graph


class _Source:
    """A graph file's bytes, or the file open for reading: the same lines from either."""

    def __init__(self, raw: bytes | BinaryIO):
        self.raw, self.at = raw, 0  # at: where the next line begins (bytes only)

    def starts_with(self, prefix: bytes) -> bool:
        if isinstance(self.raw, bytes | bytearray):
            return self.raw.startswith(prefix)
        return self.raw.read(len(prefix)) == prefix

    def lines(self, start: int) -> Iterator[bytes]:
        """The lines from ``start`` (without their newline); ``start`` is where
        :meth:`starts_with` left an open file."""
        raw = self.raw
        if not isinstance(raw, bytes | bytearray):
            while line := raw.readline():  # a line is a chunk: ~6 MB at most
                yield line[:-1] if line.endswith(b"\n") else line
            return
        self.at = start
        while self.at < len(raw):
            end = raw.find(b"\n", self.at)
            if end < 0:
                end = len(raw)
            line = raw[self.at:end]
            self.at = end + 1
            yield line

    def rest(self) -> bytes:
        """What follows the last line taken (an open file: read to its end)."""
        if isinstance(self.raw, bytes | bytearray):
            return self.raw[self.at:]
        return self.raw.read()

    def whole(self) -> bytes:
        """All of it (an open file: read again from its start)."""
        raw = self.raw
        if isinstance(raw, bytes | bytearray):
            return bytes(raw)  # (the same object when it is bytes)
        raw.seek(0)
        whole = raw.read()
        self.raw = b""  # (held by the caller from here on)
        return whole


class _Builder:
    """``add_node`` for each node then ``add_edge`` for each relationship, filling
    networkx's dicts directly: ``_node[n]`` is the node's attributes; ``_succ[u][v]`` is
    ``_pred[v][u]``, one dict of key -> attributes.  Equal strings that repeat are made one
    object (see the module's docstring)."""

    def __init__(self) -> None:
        self.graph: Snapshot = nx.MultiDiGraph()
        self._ids: dict[str, str] = {}  # each node id -> the one object used for it
        self._values: dict[str, str] = {}  # short repeated property values, one object each

    def _share(self, props: dict[str, Any], keys: tuple[str, ...],
               lists: tuple[str, ...] = ()) -> None:
        values = self._values
        for key in keys:
            value = props.get(key)
            if type(value) is str:
                props[key] = values.setdefault(value, value)
        for key in lists:
            value = props.get(key)
            if type(value) is list:
                value[:] = [values.setdefault(v, v) if type(v) is str else v for v in value]

    def add_nodes(self, nodes: list[dict[str, Any]]) -> None:
        graph, ids, kinds, share = self.graph, self._ids, _KINDS, self._share
        node_attrs = graph._node  # type: ignore[attr-defined]
        succ = graph._succ  # type: ignore[attr-defined]
        pred = graph._pred  # type: ignore[attr-defined]
        for node in nodes:
            node_id, kind, props = node["id"], node["kind"], node["props"]
            if node_id is None or kind not in kinds:
                raise ValueError(f"node {node_id!r} of unknown kind {kind!r}")
            if type(props) is dict:
                share(props, _NODE_SHARED, _NODE_SHARED_LISTS)
                if props.get("id") == node_id and type(node_id) is str:
                    node_id = ids.setdefault(node_id, props["id"])
                    props["id"] = node_id
            if node_id in node_attrs:  # as add_node: a repeated id updates the attributes
                node_attrs[node_id].update(kind=kinds[kind], props=props)
                continue
            ids.setdefault(node_id, node_id)
            node_attrs[node_id] = {"kind": kinds[kind], "props": props}
            succ[node_id] = {}
            pred[node_id] = {}

    def add_rels(self, rels: list[dict[str, Any]]) -> None:
        graph, ids, types, shared = self.graph, self._ids, _TYPES, _REL_SHARED
        values = self._values
        succ = graph._succ  # type: ignore[attr-defined]
        pred = graph._pred  # type: ignore[attr-defined]
        for rel in rels:
            source, target, rel_type, props = (rel["source"], rel["target"], rel["type"],
                                               rel["props"])
            key = types.get(rel_type)
            if key is None:
                raise ValueError(f"{rel_type!r} is not a relationship type")
            if type(props) is dict:
                for name in shared:  # (inline: once per relationship)
                    value = props.get(name)
                    if type(value) is str:
                        props[name] = values.setdefault(value, value)
            attrs = {"props": props}
            u, v = ids.get(source), ids.get(target)  # listed nodes only: in succ and pred
            if u is None or v is None:
                graph.add_edge(source, target, key=key, **attrs)  # an endpoint not listed
                continue
            out = succ[u]
            keys = out.get(v)
            if keys is None:
                keys = out[v] = {}
                pred[v][u] = keys
            if key in keys:
                keys[key].update(attrs)  # as add_edge with an existing key
            else:
                keys[key] = attrs
