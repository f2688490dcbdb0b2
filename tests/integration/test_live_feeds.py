"""Live directory APIs (issue 15 item 4): ``pathways load https://.../services`` against a real
local HTTP server that serves the fixture records in pages, as an Open Referral UK 1.0 API (and
an HSDS 3.0 one) does, with faults injected: a 503 then success, a 429 with ``Retry-After``, a
timeout, a page cut off, a dropped connection, a page that repeats records.  No mocked client:
the real fetcher talks HTTP to a real server, and what it fetched is loaded on both stores and
compared with loading the same records from files."""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from click.testing import CliRunner

from loaders.remote import FetchError, FetchOptions, fetch_feed, lacks_detail, saved_feed
from pathways.cli import cli
from pathways.loading import load_feed
from pathways.store.embedded import EmbeddedStore
from tests.conftest import HSDS_EXAMPLES, SHARED

COUNCIL = SHARED / "fixtures" / "oruk-council-sample"
COUNCIL_FILES = sorted(COUNCIL.glob("*.json"))
ORUK_FULL = Path(__file__).parents[1] / "fixtures" / "oruk" / "service_full.json"
# timeouts well above a loopback answer on a loaded machine: a late answer is retried, and the
# tests count requests
FAST = FetchOptions(rate=0, backoff=0.05, timeout=10.0, per_page=25)


# ----------------------------------------------------------------------------- the server


class FeedApi:
    """A real HTTP server answering ``GET /api/services?page=&per_page=`` and
    ``GET /api/services/{id}`` over ``records`` as an ORUK 1.0 (``oruk``) or HSDS 3.0
    (``hsds``) API does.  ``faults[key]`` is a list of faults served, one per request, before
    the real answer: keys ``page=N`` and ``detail=ID``; faults ``503``, ``429`` (with
    ``Retry-After: 1``), ``404``, ``timeout`` (answers after the client gave up),
    ``truncated`` (a 200 whose JSON is cut off), ``drop`` (the connection closes mid-body),
    ``repeat`` (page 1's records again).  ``log`` holds (time, key) of every request."""

    def __init__(self, records: list[dict], shape: str = "oruk",
                 details: dict[str, dict] | None = None, stall: float = 3.0,
                 first_page: int = 1) -> None:
        self.records, self.shape, self.details, self.stall = records, shape, details or {}, stall
        self.first_page = first_page  # 0 for an API numbering its pages from 0
        self.faults: dict[str, list[str]] = {}
        self.log: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                api.answer(self)

            def log_message(self, *args) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/services"

    def requests_for(self, key: str) -> int:
        return sum(1 for _, k in self.log if k == key)

    def page_body(self, page: int, per_page: int, items: list | None = None) -> dict:
        pages = max(1, math.ceil(len(self.records) / per_page))
        nth = page - self.first_page + 1  # 1 for the first page
        items = self.records[(nth - 1) * per_page: nth * per_page] if items is None else items
        if self.shape == "oruk":
            return {"totalElements": len(self.records), "totalPages": pages, "number": page,
                    "size": per_page, "first": nth == 1, "last": nth >= pages,
                    "content": items}
        return {"total_items": len(self.records), "total_pages": pages, "page_number": page,
                "size": per_page, "first_page": nth == 1, "last_page": nth >= pages,
                "empty": not items, "contents": items}

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        page, per_page = int(query.get("page", 1)), int(query.get("per_page", 10))
        tail = unquote(parts.path.removeprefix("/api/services").strip("/"))
        key = f"detail={tail}" if tail else f"page={page}"
        with self.lock:
            self.log.append((time.monotonic(), key))
            pending = self.faults.get(key, [])
            fault = pending.pop(0) if pending else ""
        if fault in {"503", "429", "429-hour", "404"}:
            handler.send_response(int(fault[:3]))
            if fault.startswith("429"):
                handler.send_header("Retry-After", "3600" if fault == "429-hour" else "1")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        if fault == "timeout":
            time.sleep(self.stall)
        if tail:
            body: object = self.details.get(tail)
            if body is None:
                handler.send_response(404)
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
        else:
            body = self.page_body(page, per_page,
                                  self.records[:per_page] if fault == "repeat" else None)
        data = json.dumps(body).encode()
        sent = data[: len(data) // 2] if fault in {"truncated", "drop"} else data
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data if fault == "drop" else sent)))
        handler.end_headers()
        with contextlib.suppress(OSError):  # the client gave up waiting (timeout)
            handler.wfile.write(sent)
        if fault == "drop":
            handler.close_connection = True

    def __enter__(self) -> FeedApi:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def council_records() -> list[dict]:
    return [r for f in COUNCIL_FILES for r in json.loads(f.read_text(encoding="utf-8"))]


def list_shape(record: dict) -> dict:
    """What a ``/services`` list gives of a full record: its one-to-one fields."""
    return {k: v for k, v in record.items() if not isinstance(v, list)}


def graph_of(store) -> tuple[dict, set]:
    """Every node (kind, props) and relationship (with props), less where and when it was
    loaded from (``source`` names the file or page, ``loaded_at`` the time)."""
    skip = {"source", "loaded_at", "content_hash"}
    graph = store.snapshot()
    nodes = {n: (str(d["kind"]), tuple(sorted((k, json.dumps(v, sort_keys=True))
                                             for k, v in d["props"].items() if k not in skip)))
             for n, d in graph.nodes(data=True)}
    rels = {(a, b, str(t), tuple(sorted((k, json.dumps(v, sort_keys=True))
                                        for k, v in d.get("props", {}).items() if k not in skip)))
            for a, b, t, d in graph.edges(keys=True, data=True)}
    return nodes, rels


def file_graph(tmp_path: Path, files: list[Path], fmt: str) -> tuple[dict, set]:
    reference = EmbeddedStore(tmp_path / "from-files" / "graph.json")
    load_feed(reference, files, fmt)
    return graph_of(reference)


def store_options(store, request, monkeypatch) -> list[str]:
    """Root options choosing this very store (as the other integration CLI tests do)."""
    if isinstance(store, EmbeddedStore):
        assert store.path is not None
        monkeypatch.setenv("PATHWAYS_HOME", str(store.path.parent))
        return ["--store", "embedded"]
    s = request.getfixturevalue("neo4j_settings")
    return ["--store", "neo4j", "--neo4j-uri", s.uri, "--neo4j-user", s.user,
            "--neo4j-password", s.password, "--neo4j-database", s.database]


def said(result) -> str:
    """What a person running the command is told on stderr (the CLI's ``main`` prints a
    project error raised out of ``cli``)."""
    return result.stderr + (str(result.exception) if result.exception else "")


def node_count(store) -> int:
    return sum(store.stats()["nodes"].values())


# ----------------------------------------------------------------------------- the tests


def test_an_oruk_api_import_gives_the_same_graph_as_the_file_import(store, tmp_path):
    records = council_records()
    with FeedApi(records) as api:
        fetched = fetch_feed(api.url, tmp_path / "saved", FAST)
    assert fetched.complete and fetched.format == "oruk"
    assert fetched.pages == math.ceil(len(records) / FAST.per_page)
    assert sorted(k for _, k in api.log) == sorted(f"page={n}" for n in range(1, fetched.pages + 1))
    load_feed(store, fetched.files, fetched.format)
    expected = file_graph(tmp_path, COUNCIL_FILES, "oruk")
    assert graph_of(store) == expected
    assert len(expected[0]) > len(records)  # services, their activities, organisations...


def test_an_hsds_api_with_full_records_gives_the_same_graph_as_the_file_import(store, tmp_path):
    example = json.loads((HSDS_EXAMPLES / "json" / "service_full.json").read_text("utf-8"))
    full = []
    for n in range(7):  # seven services shaped like the specification's example
        record = json.loads(json.dumps(example).replace(example["id"], f"{example['id']}-{n}"))
        record["name"] = f"{example['name']} {n}"
        full.append(record)
    files = tmp_path / "hsds-files"
    files.mkdir()
    (files / "services.json").write_text(json.dumps(full), encoding="utf-8")
    with FeedApi([list_shape(r) for r in full], "hsds", {r["id"]: r for r in full}) as api:
        fetched = fetch_feed(api.url, tmp_path / "saved",
                             FetchOptions(rate=0, per_page=3, full=True))
    assert fetched.format == "hsds" and fetched.pages == 3 and fetched.details == len(full)
    assert {k for _, k in api.log if k.startswith("detail=")} == {f"detail={r['id']}" for r in full}
    load_feed(store, fetched.files, fetched.format)
    assert graph_of(store) == file_graph(tmp_path, [files / "services.json"], "hsds")


def test_full_fetches_the_detail_a_list_lacks_and_loads_what_the_full_file_loads(store, tmp_path):
    full = json.loads(ORUK_FULL.read_text(encoding="utf-8"))
    listed = [list_shape(r) for r in full]
    assert all(lacks_detail(r) for r in listed)
    with FeedApi(listed, details={r["id"]: r for r in full}) as api:
        without = fetch_feed(api.url, tmp_path / "list-only", FAST)
        assert not any(k.startswith("detail=") for _, k in api.log)
        fetched = fetch_feed(api.url, tmp_path / "saved", FetchOptions(rate=0, per_page=2,
                                                                       full=True))
    assert fetched.details == len(full)
    assert api.requests_for("detail=101") == 1
    load_feed(store, fetched.files, "oruk")
    assert graph_of(store) == file_graph(tmp_path, [ORUK_FULL], "oruk")
    list_only = EmbeddedStore(tmp_path / "list-only-store" / "graph.json")
    load_feed(list_only, without.files, "oruk")
    assert len(graph_of(list_only)[1]) < len(graph_of(store)[1])  # fewer places, needs...


def test_transient_faults_are_retried_and_the_import_is_still_whole(store, tmp_path):
    records = council_records()[:60]
    with FeedApi(records, stall=4.0) as api:  # the timeout fault answers after the client's 2 s
        api.faults = {"page=1": ["503"], "page=2": ["429"], "page=3": ["timeout"],
                      "page=4": ["truncated", "drop"]}
        fetched = fetch_feed(api.url, tmp_path / "saved",
                             FetchOptions(rate=0, backoff=0.05, timeout=2.0, per_page=10))
    assert fetched.complete and fetched.pages == 6
    tries = {n: api.requests_for(f"page={n}") for n in range(1, 7)}
    assert tries == {1: 2, 2: 2, 3: 2, 4: 3, 5: 1, 6: 1}
    asked = [t for t, k in api.log if k == "page=2"]
    assert asked[1] - asked[0] >= 0.9  # Retry-After: 1 honoured
    load_feed(store, fetched.files, fetched.format)
    reference = tmp_path / "records.json"
    reference.write_text(json.dumps(records), encoding="utf-8")
    assert graph_of(store) == file_graph(tmp_path, [reference], "oruk")


def test_an_api_numbering_its_pages_from_0_is_read_whole(tmp_path):
    records = council_records()[:45]
    with FeedApi(records, first_page=0) as api:
        fetched = fetch_feed(api.url, tmp_path / "saved", FetchOptions(rate=0, per_page=10))
    assert fetched.complete and fetched.pages == 5
    assert [k for _, k in api.log] == ["page=1", *(f"page={n}" for n in range(5))]
    reference = tmp_path / "records.json"
    reference.write_text(json.dumps(records), encoding="utf-8")
    loaded = EmbeddedStore(tmp_path / "loaded" / "graph.json")
    load_feed(loaded, fetched.files, fetched.format)
    assert graph_of(loaded) == file_graph(tmp_path, [reference], "oruk")


def test_retries_are_bounded_and_a_client_error_is_not_retried(tmp_path):
    with FeedApi(council_records()[:30]) as api:
        api.faults = {"page=2": ["503"] * 10}
        with pytest.raises(FetchError) as failed:
            fetch_feed(api.url, tmp_path / "a", FetchOptions(rate=0, backoff=0.01, retries=2,
                                                             per_page=10))
        assert api.requests_for("page=2") == 3
        problem = failed.value.problems[0]
        assert "page=2" in problem.file and problem.file.endswith("(page 2)")
        assert "503" in problem.reason
        assert "tried 3 times" in problem.reason
        api.faults = {"page=1": ["404"]}
        with pytest.raises(FetchError) as refused:
            fetch_feed(api.url, tmp_path / "b", FetchOptions(rate=0, backoff=0.01, per_page=10))
        assert api.requests_for("page=1") == 2  # once for the first fetch, once here: no retry
        assert "404" in str(refused.value)


def test_a_page_over_the_size_limit_or_a_long_retry_after_stops_at_once(tmp_path, monkeypatch):
    with FeedApi(council_records()[:30]) as api:
        monkeypatch.setenv("PATHWAYS_MAX_JSON_MB", "0.01")  # about 10 KB; a page is more
        with pytest.raises(FetchError) as large:
            fetch_feed(api.url, tmp_path / "a", FAST)
        assert "PATHWAYS_MAX_JSON_MB" in str(large.value) and api.requests_for("page=1") == 1
        monkeypatch.delenv("PATHWAYS_MAX_JSON_MB")
        api.faults = {"page=1": ["429-hour"]}
        with pytest.raises(FetchError) as busy:
            fetch_feed(api.url, tmp_path / "b", FAST)
        assert "3,600 seconds" in str(busy.value) and api.requests_for("page=1") == 2


def test_a_failure_part_way_writes_nothing_and_a_rerun_resumes(store, tmp_path, request,
                                                                monkeypatch):
    records = council_records()[:50]
    saved = tmp_path / "saved"
    options = store_options(store, request, monkeypatch)
    with FeedApi(records) as api:
        api.faults = {"page=4": ["404"]}
        args = [*options, "load", api.url + "?per_page=10", "--save-to", str(saved),
                "--rate", "50"]
        first = CliRunner().invoke(cli, args)
        assert first.exit_code == 1, first.output
        assert "page=4" in said(first) and "404" in said(first)
        assert "nothing was written" in said(first)
        assert node_count(store) == 0
        manifest = json.loads((saved / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["complete"] is False and len(manifest["pages"]) == 3
        api.faults = {}
        before = len(api.log)
        second = CliRunner().invoke(cli, args)
        assert second.exit_code == 0, second.output
        assert [k for _, k in api.log[before:]] == ["page=4", "page=5"]  # resumed at page 4
    reference = tmp_path / "records.json"
    reference.write_text(json.dumps(records), encoding="utf-8")
    assert graph_of(store) == file_graph(tmp_path, [reference], "oruk")
    manifest = json.loads((saved / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["complete"] is True and manifest["total_items"] == len(records)


def test_a_page_repeating_earlier_records_stops_the_fetch(store, tmp_path, request, monkeypatch):
    options = store_options(store, request, monkeypatch)
    with FeedApi(council_records()[:30]) as api:
        api.faults = {"page=2": ["repeat"]}
        result = CliRunner().invoke(cli, [*options, "load", api.url + "?per_page=10",
                                          "--save-to", str(tmp_path / "saved"), "--rate", "50"])
    assert result.exit_code == 1
    assert "page=2" in said(result) and "already on page(s) 1" in said(result)
    assert node_count(store) == 0


def test_the_request_rate_is_kept(tmp_path):
    with FeedApi(council_records()[:120]) as api:
        start = time.monotonic()
        fetch_feed(api.url, tmp_path / "saved", FetchOptions(rate=4, per_page=10))
    times = [t for t, _ in api.log]
    assert len(times) == 12
    busiest = max(sum(1 for u in times if t <= u < t + 1) for t in times)
    assert busiest <= 5  # 4 a second (one more where a window's edges meet)
    assert time.monotonic() - start >= 2  # 12 requests at 4 a second take about 3 s


def test_the_saved_folder_reloads_offline_to_the_same_graph(store, tmp_path, request,
                                                            monkeypatch):
    full = json.loads(ORUK_FULL.read_text(encoding="utf-8"))
    saved = tmp_path / "saved"
    with FeedApi([list_shape(r) for r in full], details={r["id"]: r for r in full}) as api:
        online = EmbeddedStore(tmp_path / "online" / "graph.json")
        monkeypatch.setenv("PATHWAYS_HOME", str(online.path.parent))
        fetched = CliRunner().invoke(cli, ["--store", "embedded", "load", api.url, "--full",
                                           "--save-to", str(saved), "--rate", "50"])
        assert fetched.exit_code == 0, fetched.output
    options = store_options(store, request, monkeypatch)
    offline = CliRunner().invoke(cli, [*options, "load", str(saved)])  # the server is gone
    assert offline.exit_code == 0, offline.output
    assert graph_of(store) == graph_of(online) == file_graph(tmp_path, [ORUK_FULL], "oruk")
    nodes = store.snapshot().nodes(data=True)
    assert {d["props"]["source"] for _, d in nodes if d["props"]["id"].startswith("oruk:")} \
        <= {f"oruk:{f.name}" for f in saved_feed(saved).files}


def test_an_incomplete_saved_folder_loads_only_when_allowed(tmp_path, monkeypatch):
    saved = tmp_path / "saved"
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path / "home"))
    with FeedApi(council_records()[:30]) as api:
        api.faults = {"page=3": ["404", "404"]}
        url = api.url + "?per_page=10"
        CliRunner().invoke(cli, ["--store", "embedded", "load", url, "--save-to", str(saved),
                                 "--rate", "50"])
        partial = CliRunner().invoke(cli, ["--store", "embedded", "load", url, "--save-to",
                                           str(saved), "--rate", "50", "--allow-partial"])
    assert partial.exit_code == 0, partial.output
    assert "not complete" in said(partial)
    refused = CliRunner().invoke(cli, ["--store", "embedded", "load", str(saved)])
    assert refused.exit_code == 1 and "not complete" in said(refused)
    store = EmbeddedStore(tmp_path / "home" / "graph.json")
    services = store.stats()["nodes"].get("Service", 0)
    assert 0 < services <= 20  # the two pages saved, no more


def test_only_web_addresses_are_fetched_and_credentials_are_never_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path / "home"))
    refused = CliRunner().invoke(cli, ["--store", "embedded", "load", "ftp://example.org/x"])
    assert refused.exit_code == 1 and "only http:// and https://" in said(refused)
    with FeedApi(council_records()[:5]) as api:
        api.faults = {"page=1": ["404"]}
        secret = api.url.replace("http://", "http://someone:hunter2@") + "?api_key=s3cret"
        result = CliRunner().invoke(cli, ["--store", "embedded", "load", secret, "--save-to",
                                          str(tmp_path / "saved"), "--rate", "50"])
    assert result.exit_code == 1 and "404" in said(result)
    written = (tmp_path / "saved" / "manifest.json").read_text(encoding="utf-8")
    for shown in (result.output, result.stderr, written):
        assert "hunter2" not in shown and "s3cret" not in shown
