"""Issue 16's "done when" as one walk through the co-production loop, in headless Chromium, on
both stores, with accounts configured (a link worker, an editor, an admin), each person signing
in with the keyboard and using the pages as they are offered (a screenshot of each step is
saved under the test's tmp dir):

1. the link worker's Data page offers no upload, and the server refuses one sent anyway
   (a real callback request from the link worker's own signed-in page, CSRF token and all);
2. the editor uploads a bad XLSX workbook: the problems table names the file, row and
   column, and the whole graph is unchanged;
3. the editor uploads a good workbook: the preview lists the new row and the changed cell
   (old and new value); Apply, by keyboard; the store holds the change;
4. the History page lists that upload first, by the editor's name; the editor has no undo;
5. the admin picks it on the History page, asks to undo, confirms: the whole graph is again
   exactly as it was before step 3.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from pathways import history
from pathways.accounts import Accounts
from pathways.config import Settings
from pathways.loading import load_paths
from pathways.webstore import set_store
from tests.integration.test_history_undo import assert_same_graph, whole_graph
from tests.integration.test_sign_in_browser import PASSWORD, sign_in_with_keyboard, start
from tests.integration.test_user_tasks import arrow_to_row, focused_in, press, settle, tab_to

pytestmark = pytest.mark.browser

PEOPLE = {"lin": "link-worker", "eddie": "editor", "ada": "admin"}
NEW_ID = "act-coproduction-loop-new"
NEW_VENUE = "Co-production Hall, HX1 1AA"


@pytest.fixture
def loop_app(store, demo_dir, browser_available, tmp_path, monkeypatch):
    """The app on the demo data, on ``store``, with three accounts: ``(app, store)``."""
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATHWAYS_UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.delenv("PATHWAYS_TRUSTED_HEADERS", raising=False)
    accounts = Accounts(Settings.from_env().accounts_file)
    for name, role in PEOPLE.items():
        accounts.add(name, role, PASSWORD)
    from pages import login

    login.THROTTLE.reset()
    for record in store.history_records():  # a Neo4j database keeps history across tests
        store.drop_history(record["id"])
    load_paths(store, [demo_dir], actor="demo-loader")
    set_store(store)
    from app import app

    yield app, store
    set_store(None)


def first_activity(demo_dir: Path) -> tuple[list[str], dict]:
    with (demo_dir / "activities.csv").open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), next(reader)


def workbook(path: Path, demo_dir: Path, rows: list[dict]) -> Path:
    """An XLSX Living Database with one ``activities`` sheet holding ``rows``."""
    header, _first = first_activity(demo_dir)
    book = openpyxl.Workbook()
    book.remove(book.worksheets[0])
    sheet = book.create_sheet("activities")
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(h) or None for h in header])
    book.save(path)
    return path


def grid_rows(dash_duo, grid_id: str) -> list[dict]:
    """The rows an AG Grid shows, in its order, as ``{column id: cell text}``."""
    found = []
    for row in dash_duo.find_elements(f"#{grid_id} .ag-center-cols-container .ag-row"):
        cells = row.find_elements(By.CSS_SELECTOR, ".ag-cell")
        found.append((int(row.get_attribute("row-index")),
                      {c.get_attribute("col-id"): c.text for c in cells}))
    return [cells for _index, cells in sorted(found, key=lambda pair: pair[0])]


def go_to(dash_duo, path: str, ready: str) -> None:
    """Follow the top bar's link to ``path``, as a person does, and wait for ``ready``."""
    link = dash_duo.find_element(f".top-bar nav a[href^='{path}']")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    link.click()
    dash_duo.wait_for_element(ready, timeout=30)
    settle(dash_duo)


def choose_file(dash_duo, path: Path) -> None:
    """Pick ``path`` in the Data page's file chooser (chromedriver cannot drive the system's
    dialog; it types the path into the chooser's input, and on a ``multiple`` input it adds to
    the files already picked, so the input is emptied first, as a new dialog starts empty)."""
    field = dash_duo.find_element("#data-upload input[type=file]")
    dash_duo.driver.execute_script("arguments[0].value = ''", field)
    field.send_keys(str(path))


def sign_in_as(dash_duo, name: str, role_label: str) -> None:
    """Sign out whoever is signed in (if anyone), then sign in as ``name`` by keyboard."""
    if dash_duo.find_elements("#sign-out"):
        dash_duo.find_element("#sign-out").click()
    dash_duo.wait_for_element("#sign-in-form", timeout=20)
    sign_in_with_keyboard(dash_duo, name)
    dash_duo.wait_for_text_to_equal("#account-name", f"Signed in as {name} ({role_label})",
                                    timeout=20)
    settle(dash_duo)


def snap(dash_duo, tmp_path: Path, label: str, at: str) -> None:
    """A screenshot of the step (``at`` scrolled to the top), under the test's tmp dir."""
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'start'})",
                                   dash_duo.find_element(at))
    dash_duo.driver.save_screenshot(str(tmp_path / f"{label}.png"))


def upload_callback(app) -> str:
    """The Data page's upload callback, as the browser addresses it."""
    [key] = [k for k, v in app.callback_map.items()
             if getattr(v.get("callback"), "__module__", None) == "pages.data"
             and getattr(v.get("callback"), "__name__", None) == "upload"]
    return key


def send_upload_anyway(dash_duo, app) -> dict:
    """What a tampered page would send: the upload callback's request, from this browser's
    signed-in session with its CSRF token; the server's status and answer."""
    outputs = [{"id": part.split(".")[0], "property": part.split(".")[1]}
               for part in upload_callback(app).strip(".").split("...")]
    body = {
        "output": upload_callback(app),
        "outputs": outputs,
        "inputs": [{"id": "data-upload", "property": "contents",
                    "value": ["data:text/csv;base64,aWQsbmFtZQpwLXgsWAo="]}],
        "state": [{"id": "data-upload", "property": "filename", "value": ["people.csv"]},
                  {"id": "data-upload-token", "property": "data", "value": None}],
        "changedPropIds": ["data-upload.contents"],
    }
    return dash_duo.driver.execute_async_script(
        """
        const [body, done] = arguments;
        const token = (document.cookie.split('; ').find(c => c.startsWith('_csrf_token=')) || '')
            .split('=').slice(1).join('=');
        fetch('/_dash-update-component', {method: 'POST', credentials: 'same-origin',
               headers: {'Content-Type': 'application/json', 'X-CSRFToken': token},
               body: JSON.stringify(body)})
          .then(r => r.text().then(t => done({status: r.status, text: t})))
          .catch(e => done({status: 0, text: String(e)}));
        """, body)


def test_the_co_production_loop_by_role_on_each_store(dash_duo, loop_app, demo_dir, tmp_path):
    app, store = loop_app
    _header, first = first_activity(demo_dir)
    assert first["venue"] != NEW_VENUE
    initial = whole_graph(store)
    loads_before = [r["id"] for r in history.records(store)]
    start(dash_duo, app)

    # 1. The link worker: no upload on the Data page, and the server refuses one sent anyway.
    sign_in_as(dash_duo, "lin", "link worker")
    go_to(dash_duo, "/data", "#data-editors-only")
    assert not dash_duo.find_elements("#data-upload")
    assert not dash_duo.find_elements("#data-upload-choose")
    answer = send_upload_anyway(dash_duo, app)
    assert answer["status"] == 200, answer  # the callback ran, and refused:
    reply = json.loads(answer["text"])
    assert reply.get("response") == {}, "no output of the upload callback was sent back"
    assert "Only editors and above can upload data" in json.dumps(reply["sideUpdate"]), reply
    uploads = tmp_path / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir()), "nothing was kept"
    assert_same_graph(store, initial)

    # 2. The editor uploads a bad workbook: file, row and column shown; nothing changed.
    sign_in_as(dash_duo, "eddie", "editor")
    go_to(dash_duo, "/data", "#data-upload-choose")
    bad = workbook(tmp_path / "bad-living-database.xlsx", demo_dir,
                   [dict(first, age_min="twelve")])
    choose_file(dash_duo, bad)
    dash_duo.wait_for_element("#data-upload-refused", timeout=30)
    dash_duo.wait_for_contains_text("#data-upload-problems", "age_min", timeout=30)
    problems = grid_rows(dash_duo, "data-upload-problems")
    assert any(p["file"].startswith("bad-living-database.xlsx") and "activities" in p["file"]
               and p["row"] == "2" and p["column"] == "age_min" and "twelve" in p["reason"]
               for p in problems), problems
    assert not dash_duo.find_element("#data-apply-row").is_displayed()
    snap(dash_duo, tmp_path, "2-bad-workbook", "#data-upload-result")
    assert_same_graph(store, initial)
    assert [r["id"] for r in history.records(store)] == loads_before, "no load recorded"

    # 3. The editor uploads a good workbook: preview; Apply by keyboard; the store changes.
    good = workbook(tmp_path / "living-database.xlsx", demo_dir,
                    [dict(first, venue=NEW_VENUE),
                     {"id": NEW_ID, "name": "Co-production Walk", "serves_whole_area": "yes"}])
    before_upload = whole_graph(store)
    choose_file(dash_duo, good)
    dash_duo.wait_for_contains_text("#data-preview-summary", "valid", timeout=30)
    dash_duo.wait_for_contains_text("#data-preview-new", NEW_ID, timeout=30)
    assert [r["id"] for r in grid_rows(dash_duo, "data-preview-new")] == [NEW_ID]
    changed = grid_rows(dash_duo, "data-preview-changed")
    assert {"item": first["id"], "column": "venue", "old": first["venue"],
            "new": NEW_VENUE}.items() <= next(
        (c for c in changed if c.get("column") == "venue"), {}).items(), changed
    snap(dash_duo, tmp_path, "3-preview", "#data-preview")
    assert_same_graph(store, before_upload)  # a preview changes nothing
    tab_to(dash_duo, "#data-apply")
    press(dash_duo, Keys.ENTER)
    dash_duo.wait_for_contains_text("#data-apply-done", "Loaded", timeout=30)
    assert store.get_node(first["id"])[1]["venue"] == NEW_VENUE
    after_upload = whole_graph(store)
    assert store.get_node(NEW_ID)[1]["name"] == "Co-production Walk"

    # 4. The History page: the upload first, by the editor; no undo for an editor.
    go_to(dash_duo, "/history", "#hist-table")
    dash_duo.wait_for_contains_text("#hist-table", "eddie", timeout=30)
    top = grid_rows(dash_duo, "hist-table")[0]  # the newest first
    newest = history.records(store)[0]
    assert top["id"] == newest["id"] and newest["id"] not in loads_before
    assert top["who"] == "eddie" and "upload" in top["action"].lower(), top
    assert "living-database.xlsx" in top["sources"], top
    assert not dash_duo.find_elements("#hist-undo")
    snap(dash_duo, tmp_path, "4-history-editor", "#main h1")
    assert "Only admins can undo a load." in dash_duo.find_element("#main").text

    # 5. The admin undoes it on the History page (pick, ask, confirm), all by keyboard.
    sign_in_as(dash_duo, "ada", "admin")
    go_to(dash_duo, "/history", "#hist-undo")
    dash_duo.wait_for_contains_text("#hist-table", "eddie", timeout=30)
    tab_to(dash_duo, "#hist-table")
    arrow_to_row(dash_duo, 0)
    press(dash_duo, Keys.ENTER)
    tab_to(dash_duo, "#hist-undo")
    press(dash_duo, Keys.ENTER)
    dash_duo.wait_for_contains_text("#hist-confirm-text", f"Undo load {newest['id']}",
                                    timeout=20)
    assert "eddie" in dash_duo.find_element("#hist-confirm-text").text
    assert_same_graph(store, after_upload)  # asking changes nothing
    tab_to(dash_duo, "#hist-confirm-yes")
    assert focused_in(dash_duo, "#hist-confirm-yes")
    press(dash_duo, Keys.ENTER)
    dash_duo.wait_for_contains_text("#hist-done", f"Undid load {newest['id']}", timeout=30)
    settle(dash_duo)
    snap(dash_duo, tmp_path, "5-undone", "#main h1")
    assert_same_graph(store, before_upload)
    assert_same_graph(store, initial)
    assert history.records(store)[1]["undone_by"] == history.records(store)[0]["id"]
    dash_duo.wait_for_contains_text("#hist-table", f"yes, by {history.records(store)[0]['id']}",
                                    timeout=20)
