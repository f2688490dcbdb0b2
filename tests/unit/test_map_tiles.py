"""The Map page's tile check (pages/_map_tiles.py): decided on the server, configurable, and
said in plain words when tiles cannot be used."""

from __future__ import annotations

import http.server
import threading
from typing import ClassVar

import pytest

from pages import _map_tiles
from pages._map_tiles import tile_source

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


class _Tiles(http.server.BaseHTTPRequestHandler):
    asked: ClassVar[list[str]] = []

    def do_GET(self):
        _Tiles.asked.append(self.path)
        ok = self.path == "/0/0/0.png"
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "image/png" if ok else "text/plain")
        self.end_headers()
        self.wfile.write(PNG if ok else b"no")

    def log_message(self, *args):
        pass


@pytest.fixture
def tile_server():
    _map_tiles._checked.clear()
    _Tiles.asked = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Tiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    _map_tiles._checked.clear()


def test_tiles_off_draws_on_a_plain_background_and_says_so(monkeypatch):
    monkeypatch.setenv("PATHWAYS_MAP_TILES", "off")
    tiles = tile_source()
    assert tiles.url is None and "off" in tiles.note and "plain background" in tiles.note


def test_a_tile_source_that_answers_is_used_with_its_credit_and_checked_once(
        monkeypatch, tile_server):
    monkeypatch.setenv("PATHWAYS_MAP_TILES", tile_server + "/{z}/{x}/{y}.png")
    monkeypatch.setenv("PATHWAYS_MAP_TILES_CREDIT", "© Test Tiles")
    first, second = tile_source(), tile_source()
    assert first.url == tile_server + "/{z}/{x}/{y}.png" and first.credit == "© Test Tiles"
    assert first.note == "" and second == first
    assert _Tiles.asked == ["/0/0/0.png"]  # one check, then the cached answer


def test_a_tile_source_that_fails_or_cannot_be_reached_is_reported(monkeypatch, tile_server):
    monkeypatch.setenv("PATHWAYS_MAP_TILES", tile_server + "/missing/{z}/{x}/{y}.png")
    tiles = tile_source()
    assert tiles.url is None and "unavailable" in tiles.note and "404" in tiles.note
    monkeypatch.setenv("PATHWAYS_MAP_TILES", "http://127.0.0.1:9/{z}/{x}/{y}.png")
    tiles = tile_source()
    assert tiles.url is None and "could not be reached" in tiles.note


def test_a_setting_that_is_not_a_tile_address_is_reported(monkeypatch):
    monkeypatch.setenv("PATHWAYS_MAP_TILES", "file:///etc/passwd")
    tiles = tile_source()
    assert tiles.url is None and "not a tile address" in tiles.note
