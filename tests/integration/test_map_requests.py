"""The Map page's callbacks as a browser (or a forger) calls them, on both stores: downloads
hold the points with coordinates (CSV Excel-safe, GeoJSON longitude first), and forged ids
get a plain message, never a server error or someone else's data."""

from __future__ import annotations

import csv
import io
import json

import pytest

from pathways.analysis.geo import MapQuery, map_data
from pathways.loading import load_paths
from pathways.webstore import set_store
from tests.conftest import write_folder
from tests.integration.test_app_security import call

FORM: dict[str, object] = {"mp-shade.value": "loneliness", "mp-needs.value": [], "mp-access.value": [],
        "mp-free.value": [], "mp-age.value": None, "mp-days.value": [], "mp-worker.value": ""}


@pytest.fixture
def web(store, demo_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("PATHWAYS_MAP_TILES", "off")
    evil = write_folder(tmp_path / "evil", {
        "activities": [["id", "name", "latitude", "longitude"],
                       ["act-evil", '=HYPERLINK("http://evil.example","x")', "53.72", "-1.86"]],
        "relationships": [["source_id", "type", "target_id"],
                          ["act-evil", "ADDRESSES", "creativity"]]})
    load_paths(store, [demo_dir, evil])
    set_store(store)
    from app import app

    client = app.server.test_client()
    assert client.get("/map").status_code == 200  # registers the pages' callbacks
    yield app, client, store
    set_store(None)


def _download(web, button: str, needs: list[str]) -> dict:
    status, text = call(web, "mp-download.data", {**FORM, "mp-needs.value": needs,
                                                  f"{button}.n_clicks": 1}, [f"{button}.n_clicks"])
    assert status == 200, text
    return json.loads(text)["response"]["mp-download"]["data"]


def test_the_downloads_hold_every_point_for_the_filters(web):
    _app, _client, store = web
    expected = {p["id"]: p for p in map_data(store, MapQuery(needs=("creativity",)))["points"]}
    sheet = _download(web, "mp-csv-button", ["creativity"])
    rows = list(csv.DictReader(io.StringIO(sheet["content"].lstrip("\ufeff"))))
    assert {r["id"] for r in rows} == set(expected)
    evil = next(r for r in rows if r["id"] == "act-evil")
    assert evil["name"].startswith("'=")  # Excel shows it, does not run it
    for row in rows:
        assert (float(row["latitude"]), float(row["longitude"])) == (
            expected[row["id"]]["latitude"], expected[row["id"]]["longitude"])
    geo = json.loads(_download(web, "mp-geojson-button", ["creativity"])["content"])
    assert geo["type"] == "FeatureCollection"
    assert {f["id"]: f["geometry"]["coordinates"] for f in geo["features"]} == {
        i: [p["longitude"], p["latitude"]] for i, p in expected.items()}


@pytest.mark.parametrize("click", [
    {"points": [{"customdata": ["locality", "act-evil"]}]},  # an activity passed as a locality
    {"points": [{"customdata": ["activity", "loc-elland"]}]},  # and the other way round
    {"points": [{"customdata": ["activity", "x" * 5000]}]},
    {"points": [{"customdata": "not a pair"}]},
    {"points": []},
    "nonsense",
])
def test_a_forged_click_gets_a_plain_message_or_nothing(web, click):
    status, text = call(web, "mp-place.children", {**FORM, "mp-map.clickData": click},
                        ["mp-map.clickData"])
    assert status in (200, 204), text
    assert "Traceback" not in text and "x" * 300 not in text
    if status == 200 and "no " in text:
        assert "with id" in text  # the short "no activity with id ..." message


def test_a_forged_shading_need_is_refused_with_a_message(web):
    status, text = call(web, "mp-map.figure", {**FORM, "mp-shade.value": "no-such-need"},
                        ["mp-shade.value"])
    assert status == 200 and "no-such-need" in text and "figure" not in text
