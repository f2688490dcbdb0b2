"""What a page's callback costs the server per request, beyond the analysis it shows.

At 100k nodes the Gaps page's answer holds 38,000 table rows.  These tests check, on both
stores, the two things that kept its cost per request small (issue 18, many users): the
answer is plain JSON that the fast encoder takes in one pass (Plotly's slow value-by-value
cleaning, which a single Dash component or figure in the answer triggers, never runs), and
the rows are built once per data version, not once per visitor, while a load still shows
at once.  The answers are the report's own rows either way.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json

import plotly.io._json as plotly_json
import pytest

from pathways.analysis.gaps import gap_report
from pathways.webstore import set_store
from tests.conftest import load_data

GAPS_OUTPUT = "gp-heatmap.figure"


@pytest.fixture
def web(store, demo_dir):
    """(app, Flask test client, store) on the demo data, once on each store."""
    from pathways.loading import load_paths

    load_paths(store, [demo_dir])
    set_store(store)
    from app import app

    client = app.server.test_client()
    assert client.get("/").status_code == 200  # registers the pages' callbacks
    yield app, client, store
    set_store(None)


def _split(key: str) -> list[tuple[str, ...]]:
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    return [tuple(p.rsplit(".", 1)) for p in parts]


def gaps_answer(web, hops: int = 4) -> dict:
    """The Gaps page's main callback as the browser calls it when the hop limit is set."""
    app, client, _store = web
    key = next(k for k in app.callback_map if GAPS_OUTPUT in [".".join(p) for p in _split(k)])
    spec = app.callback_map[key]
    outputs = [{"id": json.loads(i) if i.startswith("{") else i, "property": p}
               for i, p in _split(key)]
    body = {"output": key, "outputs": outputs,
            "inputs": [{"id": d["id"], "property": d["property"], "value": hops}
                       for d in spec["inputs"]],
            "state": [], "changedPropIds": ["gp-hops.value"]}
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()["response"]


def test_gaps_answer_is_encoded_in_one_pass_and_holds_the_reports_rows(web, monkeypatch):
    cleaned = []
    original = plotly_json.clean_to_json_compatible

    def counting(obj, **kwargs):
        cleaned.append(type(obj).__name__)
        return original(obj, **kwargs)

    monkeypatch.setattr(plotly_json, "clean_to_json_compatible", counting)
    answer = gaps_answer(web)
    assert cleaned == [], "the answer went through Plotly's value-by-value cleaning"
    report = gap_report(web[2])
    assert ([r["id"] for r in answer["gp-spof"]["rowData"]]
            == [r["id"] for r in report["single_points_of_failure"]])
    assert ({r["id"] for r in answer["gp-unreached"]["rowData"]}
            == {r["id"] for r in report["unreached"]})
    assert len(answer["gp-coverage"]["rowData"]) == len(report["coverage"])
    heatmap = answer["gp-heatmap"]["figure"]["data"][0]
    assert heatmap["type"] == "heatmap" and len(heatmap["z"]) == len(
        {c["need"] for c in report["coverage"]})
    assert "unreached activities" in json.dumps(answer["gp-message"]["children"])


def test_gaps_rows_are_built_once_per_data_version_and_a_load_shows_at_once(web, monkeypatch):
    gaps_page = importlib.import_module("pages.gaps")  # the module Dash loaded
    built = []
    original = gaps_page._heatmap

    def counting(report):
        built.append(1)
        return original(report)

    monkeypatch.setattr(gaps_page, "_heatmap", counting)
    today = dt.date.today()
    first, second = gaps_answer(web), gaps_answer(web)
    if dt.date.today() == today:  # else the second visit is rightly the new day's report
        assert first == second
        assert len(built) <= 1, "every visit rebuilt the page's rows"
    # A new activity nobody refers to: it must be listed as soon as it is loaded.
    load_data(web[2], {"activities": [{"id": "act-new-choir", "name": "Brand New Choir"}]})
    before = len(built)
    after = gaps_answer(web)
    assert len(built) == before + 1
    unreached = {r["id"]: r["name"] for r in after["gp-unreached"]["rowData"]}
    assert unreached.get("act-new-choir") == "Brand New Choir"
    assert "act-new-choir" not in {r["id"] for r in first["gp-unreached"]["rowData"]}


def test_pathways_page_reads_every_activity_once_per_data_version(web, monkeypatch):
    """The form's access needs come from every activity; a visit must not read them all
    again (0.6 s a visit at 100k nodes), and a load must show a new one at once."""
    app, _client, store = web
    page = importlib.import_module("pages.pathways")
    asked = count_list_nodes(store, monkeypatch)

    def access_choices() -> set[str]:
        return set(_values_of(layout_tree(app, page, "/"), "pw-access"))

    first = access_choices()
    assert access_choices() == first and "step_free" in first
    assert asked.count("Activity") <= 1, "every visit read every activity"
    load_data(store, {"activities": [{"id": "act-new-dance", "name": "New Dance",
                                      "accessibility": "hearing_loop_plus"}]})
    assert access_choices() == first | {"hearing_loop_plus"}
    assert asked.count("Activity") == 2


def count_list_nodes(store, monkeypatch) -> list[str]:
    """The kinds every later ``store.list_nodes`` call asks for, in order."""
    asked: list[str] = []
    original = store.list_nodes

    def counting(kind, *args, **kwargs):
        asked.append(getattr(kind, "value", kind))
        return original(kind, *args, **kwargs)

    monkeypatch.setattr(store, "list_nodes", counting)
    return asked


def layout_tree(app, page, path: str) -> dict:
    """A page's layout as the browser receives it (JSON), built for a request to ``path``."""
    with app.server.test_request_context(path):
        text = json.dumps(page.layout(), default=lambda o: o.to_plotly_json())
    return json.loads(text)


def _values_of(tree, control_id: str) -> list[str]:
    """The option values of the component with ``control_id`` in a serialised layout."""
    if isinstance(tree, dict):
        props = tree.get("props", {})
        if isinstance(props, dict) and props.get("id") == control_id:
            return [o["value"] for o in props.get("options", [])]
        for value in tree.values():
            found = _values_of(value, control_id)
            if found:
                return found
    if isinstance(tree, list):
        for value in tree:
            found = _values_of(value, control_id)
            if found:
                return found
    return []


def test_consortia_page_lists_needs_and_localities_once_per_data_version(web, monkeypatch):
    app, _client, store = web
    page = importlib.import_module("pages.consortia")
    asked = count_list_nodes(store, monkeypatch)

    def need_choices() -> set[str]:
        return set(_values_of(layout_tree(app, page, "/consortia"), "co-needs"))

    first = need_choices()
    assert need_choices() == first and first
    assert asked.count("Need") <= 1, "every visit listed the needs again"
    load_data(store, {"needs": [{"id": "need-new-grief", "name": "Grief"}]})
    assert need_choices() == first | {"need-new-grief"}


def _value_of(tree, control_id: str):
    """The value of the component with ``control_id`` in a serialised layout."""
    if isinstance(tree, dict):
        props = tree.get("props", {})
        if isinstance(props, dict) and props.get("id") == control_id:
            return props.get("value")
        values = list(tree.values())
    elif isinstance(tree, list):
        values = tree
    else:
        return None
    for value in values:
        found = _value_of(value, control_id)
        if found is not None:
            return found
    return None


def test_consortia_first_view_is_computed_before_the_workers_start(web, monkeypatch):
    """``pathways serve --workers N`` warms the pages in the master (pages/_wire.py): the
    Consortia page's first view is then answered without computing its report again."""
    app, client, store = web
    page = importlib.import_module("pages.consortia")
    importlib.import_module("pages._wire").warm_pages(store)
    computed = []
    original = page.consortium_suggestions

    def counting(*args, **kwargs):
        computed.append(args[1])
        return original(*args, **kwargs)

    monkeypatch.setattr(page, "consortium_suggestions", counting)
    tree = layout_tree(app, page, "/consortia")
    values = {f"co-{name}.value": _value_of(tree, f"co-{name}")
              for name in ("needs", "places", "access", "free", "size")}
    assert values["co-needs.value"] and values["co-places.value"]
    key = next(k for k in app.callback_map if "co-cells.rowData" in k)
    spec = app.callback_map[key]
    body = {"output": key,
            "outputs": [{"id": json.loads(i) if i.startswith("{") else i, "property": p}
                        for i, p in _split(key)],
            "inputs": [{"id": d["id"], "property": d["property"],
                        "value": values.get(f"{d['id']}.{d['property']}")}
                       for d in spec["inputs"]],
            "state": [], "changedPropIds": ["co-needs.value"]}
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    cells = response.get_json()["response"]["co-cells"]["rowData"]
    assert len(cells) == len(values["co-needs.value"]) * len(values["co-places.value"])
    assert computed == [], "the first view's report was computed again"


def test_pathways_table_answer_is_encoded_in_one_pass_and_lists_the_workers_activities(
        web, monkeypatch):
    from pathways.analysis.pathways import pathways_from
    from pathways.model import NodeKind, PersonRole

    app, client, store = web
    worker = store.list_nodes(NodeKind.PERSON, PersonRole.LINK_WORKER.value)[0]["id"]
    cleaned = []
    original = plotly_json.clean_to_json_compatible
    monkeypatch.setattr(plotly_json, "clean_to_json_compatible",
                        lambda obj, **kw: cleaned.append(1) or original(obj, **kw))
    key = next(k for k in app.callback_map if "pw-message.children" in k)
    spec = app.callback_map[key]
    form = {"pw-worker.value": worker, "pw-needs.value": [], "pw-locality.value": None,
            "pw-free.value": [], "pw-access.value": [], "pw-hops.value": 4}
    body = {"output": key,
            "outputs": [{"id": i, "property": p} for i, p in _split(key)],
            "inputs": [{"id": d["id"], "property": d["property"],
                        "value": form.get(f"{d['id']}.{d['property']}")} for d in spec["inputs"]],
            "state": [], "changedPropIds": ["pw-worker.value"]}
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    answer = response.get_json()["response"]
    assert cleaned == [], "the answer went through Plotly's value-by-value cleaning"
    expected = {a["id"] for a in pathways_from(store, worker)["activities"]}
    assert {r["id"] for r in answer["pw-table"]["rowData"]} == expected and expected
    assert f"can reach {len(expected)} matching" in json.dumps(answer["pw-message"])
