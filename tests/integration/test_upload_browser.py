"""An editor uploads a Living Database workbook on the Data page, in a real browser, on both
stores (issue 16, item 1): a bad workbook shows its problems by file, row and column and
changes nothing; a good one shows what would be new and changed (old and new value) and
changes the store only when Apply is pressed.  Also: the page passes axe with a preview on
it and does not scroll sideways at 390 px; a viewer's request to upload is refused on the
server.
"""

from __future__ import annotations

import csv
import datetime as dt
import time
from collections.abc import Sequence
from pathlib import Path

import openpyxl
import pytest
from flask import g
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from pages._access import AccessDenied, Role
from pathways.analysis.snapshot import cached_snapshot
from pathways.loading import load_paths
from pathways.webstore import set_store
from tests.integration.a11y import axe_violations, describe, overflowing, settled_overflow

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_app(store, demo_dir, browser_available, tmp_path, monkeypatch):
    monkeypatch.setenv("PATHWAYS_UPLOAD_DIR", str(tmp_path / "uploads"))
    load_paths(store, [demo_dir])
    set_store(store)
    from app import app

    yield app, store
    set_store(None)


def state(store) -> dict:
    graph = cached_snapshot(store)
    return {n: {k: v for k, v in a["props"].items() if k not in {"loaded_at", "source"}}
            for n, a in graph.nodes(data=True)}


def workbook(path: Path, demo_dir: Path, change: dict, extra: Sequence[dict] = ()) -> Path:
    """A workbook with an ``activities`` sheet: the first demo activity with ``change``."""
    with (demo_dir / "activities.csv").open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header, first = list(reader.fieldnames or []), next(reader)
    book = openpyxl.Workbook()
    book.remove(book.worksheets[0])
    sheet = book.create_sheet("activities")
    sheet.append(header)
    for row in [dict(first, **change), *extra]:
        sheet.append([row.get(h) or None for h in header])
    book.save(path)
    return path


def upload(dash_duo, path: Path) -> None:
    dash_duo.wait_for_element("#data-upload-choose", timeout=30)
    field = dash_duo.driver.find_element(By.CSS_SELECTOR, "#data-upload input[type=file]")
    field.send_keys(str(path))


def grid_text(dash_duo, grid_id: str) -> str:
    return dash_duo.find_element(f"#{grid_id}").text


def test_a_bad_workbook_shows_its_problems_and_changes_nothing(dash_duo, demo_app, demo_dir,
                                                                tmp_path):
    app, store = demo_app
    bad = workbook(tmp_path / "living-database.xlsx", demo_dir,
                   {"age_min": "twelve", "venue": "Nowhere Hall"})
    before = state(store)
    dash_duo.start_server(app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/data")

    upload(dash_duo, bad)

    dash_duo.wait_for_element("#data-upload-refused", timeout=30)
    dash_duo.wait_for_contains_text("#data-upload-problems", "age_min", timeout=30)
    problems = grid_text(dash_duo, "data-upload-problems")
    assert "living-database.xlsx [activities]" in problems and "twelve" in problems
    assert "\n2\n" in f"\n{problems}\n"  # the row, as Excel numbers it
    assert not dash_duo.find_element("#data-apply-row").is_displayed()
    assert state(store) == before


def test_a_good_workbook_is_previewed_then_applied(dash_duo, demo_app, demo_dir, tmp_path):
    app, store = demo_app
    good = workbook(tmp_path / "living-database.xlsx", demo_dir,
                    {"venue": "Upload Test Hall, HX1 1AA"},
                    [{"id": "act-browser-upload-new", "name": "Browser Upload Group",
                      "serves_whole_area": "yes"}])
    with (demo_dir / "activities.csv").open(encoding="utf-8-sig", newline="") as handle:
        first = next(csv.DictReader(handle))
    before = state(store)
    dash_duo.start_server(app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/data")

    upload(dash_duo, good)

    dash_duo.wait_for_contains_text("#data-preview-summary", "valid", timeout=30)
    dash_duo.wait_for_contains_text("#data-preview-new", "act-browser-upload-new", timeout=30)
    changed = grid_text(dash_duo, "data-preview-changed")
    assert first["id"] in changed and first["venue"] in changed
    assert "Upload Test Hall, HX1 1AA" in changed
    assert state(store) == before  # nothing yet
    dash_duo.driver.set_window_size(390, 1000)
    assert settled_overflow(dash_duo.driver) == 0, overflowing(dash_duo.driver)
    dash_duo.driver.set_window_size(1400, 1000)
    violations = axe_violations(dash_duo.driver)
    assert not violations, describe(violations)

    apply_button = dash_duo.find_element("#data-apply")
    apply_button.send_keys(Keys.ENTER)  # keyboard: the focused button pressed with Enter

    dash_duo.wait_for_contains_text("#data-apply-done", "Loaded", timeout=30)
    assert store.get_node(first["id"])[1]["venue"] == "Upload Test Hall, HX1 1AA"
    assert store.get_node("act-browser-upload-new")[1]["name"] == "Browser Upload Group"
    assert not dash_duo.find_element("#data-apply-row").is_displayed()


def test_a_viewer_cannot_upload_or_download_update_requests(demo_app):
    from pages import data

    app, _store = demo_app
    with app.server.test_request_context():
        g.pathways_role = Role.VIEWER
        with pytest.raises(AccessDenied, match="upload data"):
            data.upload(["data:text/csv;base64,aWQK"], ["people.csv"], None)
        with pytest.raises(AccessDenied, match="load data"):
            data.apply(1, "a" * 32)
        with pytest.raises(AccessDenied, match="update requests"):
            data.download_request(1, "org-artworks")
        g.pathways_role = Role.LINK_WORKER
        with pytest.raises(AccessDenied):
            data.upload(["data:text/csv;base64,aWQK"], ["people.csv"], None)


def _downloaded(dash_duo, pattern: str, timeout: float = 30) -> Path:
    folder = Path(dash_duo.download_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [p for p in folder.glob(pattern) if not p.name.endswith(".crdownload")]
        if found:
            time.sleep(0.3)  # let the browser finish writing it
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"nothing matching {pattern} was downloaded")


def test_an_update_request_downloads_from_the_gaps_data_gap_table(dash_duo, demo_app):
    from pathways.analysis.gaps import GapQuery, gap_report

    app, store = demo_app
    report = gap_report(store, GapQuery())
    first = report["data_gaps"][0]
    dash_duo.start_server(app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/gaps")
    dash_duo.wait_for_contains_text("#gp-message", "cells with nothing reachable", timeout=30)
    cell = dash_duo.wait_for_element(
        "#gp-data .ag-center-cols-container .ag-row[row-index='0'] .ag-cell", timeout=30)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
    if cell.text != first["name"] and dt.date.today().isoformat() != report["as_of"]:
        # midnight passed: the page may judge review dates on the new day
        first = gap_report(store, GapQuery())["data_gaps"][0]
    assert cell.text == first["name"]
    cell.click()
    button = dash_duo.find_element("#gp-request-button")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()

    path = _downloaded(dash_duo, "update-request-*.xlsx")

    book = openpyxl.load_workbook(path)
    assert [r[0].value for r in book["organisations"].iter_rows(min_row=2)] == [first["id"]]
    items = {i["id"] for i in first["items"]}
    listed = {r[0].value for name in ("services", "activities")
              for r in book[name].iter_rows(min_row=2)}
    assert items <= listed  # every item with a gap is in the workbook to be corrected
