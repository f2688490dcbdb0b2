"""The app trusts nothing the browser sends back.

Dash callbacks are plain HTTP POSTs to ``/_dash-update-component``; anyone can send one with
any values.  These tests forge such requests with Flask's test client, built the way the Dash
renderer builds them, and check that details, contacts, networks and downloads are recomputed
on the server from ids and filters: a forged route, table, report or highlight never reaches
the answer, and contacts only ever come from the real route.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from pathways.analysis.consortia import Opportunity, consortia
from pathways.analysis.gaps import GapQuery, gap_report
from pathways.analysis.pathways import pathways_from
from pathways.webstore import set_store
from tests.conftest import load_data

EVIL_LINK = '<a href="https://evil.example">x</a>'
GRAPH = {
    "people": [
        {"id": "lw", "name": "Lee Walker", "role": "link_worker", "phone": "01422 100001",
         "email": "lee@example.org"},
        {"id": "lw2", "name": "Ann Ash", "role": "link_worker"},
        {"id": "pl", "name": "Pat Lead", "role": "partnership_lead", "phone": "07700 900999",
         "email": "secret.lead@example.org"},
    ],
    "organisations": [
        {"id": "org", "name": "@Calder Arts", "kind": "cultural", "phone": "01422 200002",
         "email": "org@example.org", "website": "data:text/html;base64,PHNjcmlwdD4="},
    ],
    "services": [
        {"id": "svc", "name": "Arts on Prescription", "phone": "01422 300003",
         "email": "svc@example.org", "website": "https://svc.example.org/refer",
         "referral_info": "Ring on Mondays"},
        {"id": "svc2", "name": "Walk Calder", "phone": "01422 400004",
         "email": "svc2@example.org", "website": "javascript:alert(document.cookie)"},
    ],
    "activities": [
        {"id": "art", "name": "Art Club", "free": "yes", "phone": "01422 500005"},
        {"id": "walk", "name": '=HYPERLINK("http://evil","x")', "free": "no",
         "phone": "01422 600006", "email": "walk@example.org"},
    ],
    "needs": [{"id": "loneliness", "name": "Loneliness"}],
    "localities": [{"id": "loc", "name": "Halifax"}, {"id": "evil", "name": EVIL_LINK}],
    "relationships": [
        {"source_id": "lw", "type": "REFERS_TO", "target_id": "svc"},
        {"source_id": "lw", "type": "REFERS_TO", "target_id": "org"},
        {"source_id": "org", "type": "PROVIDES", "target_id": "svc"},
        {"source_id": "org", "type": "PROVIDES", "target_id": "svc2"},
        {"source_id": "svc", "type": "OFFERS", "target_id": "art"},
        {"source_id": "svc2", "type": "OFFERS", "target_id": "walk"},
        {"source_id": "art", "type": "ADDRESSES", "target_id": "loneliness"},
        {"source_id": "walk", "type": "ADDRESSES", "target_id": "loneliness"},
        {"source_id": "art", "type": "LOCATED_IN", "target_id": "loc"},
        {"source_id": "walk", "type": "LOCATED_IN", "target_id": "evil"},
        {"source_id": "lw", "type": "COVERS", "target_id": "loc"},
    ],
}
# Contacts of everyone and everything NOT on the route lw -> svc -> art.
OFF_ROUTE_TO_ART = ["07700 900999", "secret.lead@example.org",  # the partnership lead
                    "01422 200002", "org@example.org",  # the organisation (not on this route)
                    "01422 400004", "svc2@example.org", "01422 600006", "walk@example.org",
                    "01422 100001", "lee@example.org"]  # the link worker themself
ON_ROUTE_TO_ART = ["01422 300003", "svc@example.org", "01422 500005"]
LEE = {"id": "lw", "name": "Lee Walker", "kind": "Person"}
PAT = {"id": "pl", "name": "Pat Lead", "kind": "Person"}


@pytest.fixture
def web(store):
    """(app, Flask test client, store) on a small graph, as a browser would reach it; once
    on each store."""
    load_data(store, GRAPH)
    set_store(store)
    from app import app

    client = app.server.test_client()
    assert client.get("/").status_code == 200  # registers the pages' callbacks
    yield app, client, store
    set_store(None)


def _split(key: str) -> list[tuple[str, ...]]:
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    return [tuple(p.rsplit(".", 1)) for p in parts]


def call(web, output: str, values: dict, changed: list[str] | None = None):
    """POST a callback request the way the Dash renderer does, for the callback that writes
    ``output`` ("component-id.property").  Every input and state the callback declares takes
    its value from ``values`` (missing ones are None), so the same forged request works
    whatever the callback's signature.  Returns (status, response text), the JSON
    re-serialised without escapes (Dash writes "/" as "\\u002f") so text can be searched."""
    app, client, _store = web
    key = next(k for k in app.callback_map if output in [f"{p[0]}.{p[1]}" for p in _split(k)])
    spec = app.callback_map[key]

    def deps(items):
        return [{"id": d["id"], "property": d["property"],
                 "value": values.get(f"{d['id']}.{d['property']}")} for d in items]

    # An id written as JSON is a dict id (the pages' address-state stores): the renderer
    # sends it as the object itself.
    outputs = [{"id": json.loads(i) if i.startswith("{") else i, "property": p}
               for i, p in _split(key)]
    inputs = [f"{d['id']}.{d['property']}" for d in spec["inputs"]]
    body = {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": deps(spec["inputs"]),
        "state": deps(spec["state"]),
        # What the user changed: the first of ``changed`` this callback has as an input.
        "changedPropIds": [c for c in (changed or []) if c in inputs][:1]
        or [i for i in inputs if i in values][:1],
    }
    response = client.post("/_dash-update-component", json=body)
    text = response.get_data(as_text=True)
    if response.is_json:
        text = json.dumps(response.get_json(), ensure_ascii=False)
    return response.status_code, text


def links(text: str) -> list[str]:
    """Every href of an html.A in a callback response."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "A" and "href" in node.get("props", {}):
                found.append(node["props"]["href"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(text))
    return found


PATHWAY_FORM: dict[str, Any] = {"pw-worker.value": "lw", "pw-needs.value": [], "pw-locality.value": None,
                "pw-free.value": [], "pw-access.value": [], "pw-hops.value": 4}


def _row(activity_id, name):
    return {"id": activity_id, "activity": name, "provider": "", "locality": "", "needs": "",
            "cost": "", "schedule": "", "access": "", "hops": 1, "route": ""}


FORGERIES = {
    # The original probe: a table row and a route naming a person instead of an activity.
    "a person's id as the selected row": {
        "pw-table.rowData": [_row("pl", "Anything")], "pw-table.selectedRows": [_row("pl", "Anything")],
        "pw-result.data": {"from": {"id": "lw", "name": "Lee Walker"},
                           "activities": [{"id": "pl", "name": "x", "hops": 1,
                                           "path": [LEE, PAT]}]},
    },
    # A real activity, with a route invented through other people and services.
    "a real activity with an invented route": {
        "pw-table.rowData": [_row("art", "Art Club")], "pw-table.selectedRows": [{"id": "art"}],
        "pw-result.data": {"from": {"id": "lw", "name": "Lee Walker"}, "activities": [
            {"id": "art", "name": "Art Club", "hops": 4, "path": [
                LEE, PAT, {"id": "org", "name": "o", "kind": "Organisation"},
                {"id": "svc2", "name": "s", "kind": "Service"},
                {"id": "walk", "name": "w", "kind": "Activity"},
                {"id": "art", "name": "Art Club", "kind": "Activity"}]}]},
    },
    # Someone who is not a link worker asked as the starting point.
    "a partnership lead as the link worker": {
        "pw-worker.value": "pl", "pw-table.selectedRows": [{"id": "art"}],
        "pw-table.rowData": [_row("art", "Art Club")],
        "pw-result.data": {"from": {"id": "pl", "name": "Pat Lead"}, "activities": [
            {"id": "art", "name": "Art Club", "hops": 1, "path": [PAT, {"id": "art",
                                                                    "name": "Art Club",
                                                                    "kind": "Activity"}]}]},
    },
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_forged_details_request_reveals_no_contact_off_the_real_route(web, forgery):
    status, text = call(web, "pw-details.children", {**PATHWAY_FORM, **FORGERIES[forgery]},
                        changed=["pw-table.selectedRows"])
    assert status in (200, 204), text
    leaked = [c for c in OFF_ROUTE_TO_ART if c in text]
    assert leaked == [], f"{forgery}: contacts leaked: {leaked}"
    assert "Traceback" not in text


def test_genuine_details_request_shows_the_route_contacts(web):
    _app, _client, store = web
    route = next(a for a in pathways_from(store, "lw")["activities"] if a["id"] == "art")["path"]
    assert [n["id"] for n in route] == ["lw", "svc", "art"]
    status, text = call(web, "pw-details.children", {
        **PATHWAY_FORM, "pw-table.selectedRows": [{"id": "art"}], "pw-table.rowData": [_row("art", "Art Club")],
        "pw-result.data": pathways_from(store, "lw")}, changed=["pw-table.selectedRows"])
    assert status == 200
    assert [c for c in ON_ROUTE_TO_ART if c not in text] == []
    assert [c for c in OFF_ROUTE_TO_ART if c in text] == []
    assert "Lee Walker → Arts on Prescription → Art Club" in text
    assert "Ring on Mondays" in text


def test_links_are_drawn_only_for_http_addresses(web):
    _app, _client, _store = web
    status, art = call(web, "pw-details.children", {
        **PATHWAY_FORM, "pw-table.selectedRows": [{"id": "art"}]}, changed=["pw-table.selectedRows"])
    assert status == 200
    assert links(art) == ["https://svc.example.org/refer"]
    # The walk's route passes a data: and a javascript: address: shown as text, never linked.
    status, walk = call(web, "pw-details.children", {
        **PATHWAY_FORM, "pw-table.selectedRows": [{"id": "walk"}]}, changed=["pw-table.selectedRows"])
    assert status == 200
    assert links(walk) == []
    assert "javascript:alert(document.cookie)" in walk and "data:text/html" in walk
    assert "01422 400004" in walk  # the service on this route still gives its phone


def test_network_is_drawn_from_the_server_not_from_a_forged_result(web):
    forged = FORGERIES["a person's id as the selected row"]
    status, text = call(web, "pw-graph.elements", {**PATHWAY_FORM, **forged},
                        changed=["pw-table.selectedRows"])
    assert status == 200
    ids = {e["data"]["id"] for e in json.loads(text)["response"]["pw-graph"]["elements"]}
    assert "pl" not in ids and "Pat Lead" not in text
    assert {"lw", "svc", "art", "org", "svc2", "walk"} <= ids


def _download(text: str, component: str) -> str:
    return json.loads(text)["response"][component]["data"]["content"]


def test_pathways_download_is_recomputed_and_excel_safe(web):
    _app, _client, store = web
    forged = [_row("pl", "FORGED ROW 07700 900999")]
    status, text = call(web, "pw-download.data", {
        **PATHWAY_FORM, "pw-download-button.n_clicks": 1, "pw-table.rowData": forged,
        "pw-result.data": {"from": {"id": "../../etc/passwd", "name": "x"}, "activities": []}})
    assert status == 200
    content = _download(text, "pw-download")
    assert "FORGED" not in content and "07700 900999" not in content
    rows = list(csv.DictReader(io.StringIO(content.lstrip("\ufeff"))))
    assert [r["id"] for r in rows] == [a["id"] for a in pathways_from(store, "lw")["activities"]]
    walk = next(r for r in rows if r["id"] == "walk")
    assert walk["activity"] == "'" + GRAPH["activities"][1]["name"]  # no live formula
    assert walk["provider"] == "'@Calder Arts"
    assert json.loads(text)["response"]["pw-download"]["data"]["filename"] == "pathways-lw.csv"


CONSORTIUM_FORM = {"co-needs.value": ["loneliness"], "co-places.value": ["loc", "evil"],
                   "co-access.value": [], "co-free.value": [], "co-size.value": 4,
                   "co-choice.value": 0}
FORGED_REPORT = {
    "opportunity": {"needs": ["loneliness"], "localities": ["loc"], "free_only": False,
                    "access": [], "age_min": None, "age_max": None},
    "names": {"loneliness": "L", "loc": "H", "pl": "FORGED Pat"},
    "cells": [{"need": "loneliness", "locality": "loc",
               "organisations": [{"id": "pl", "name": "FORGED Pat", "activities": []}]}],
    "suggestions": [{"members": [{"id": "pl", "name": "FORGED Pat"}], "covered": [],
                     "uncovered": [["loneliness", "loc"]], "existing_ties": 0,
                     "reachable_by_link_workers": True, "reasons": ["FORGED reason"]}],
    "uncoverable": [], "overlaps": [], "landscape": [],
}


def _query_store(web) -> dict:
    """What the consortia form's own callback leaves in its store for the other callbacks."""
    status, text = call(web, "co-message.children", CONSORTIUM_FORM)
    assert status == 200
    response = json.loads(text)["response"]
    store_id = next(k for k in response if k in ("co-report", "co-query"))
    return {f"{store_id}.data": response[store_id]["data"]}


def test_consortium_graph_and_download_ignore_a_forged_report(web):
    _app, _client, store = web
    genuine = _query_store(web)
    forged = {"co-report.data": FORGED_REPORT, "co-query.data": next(iter(genuine.values()))}
    status, text = call(web, "co-graph.elements", {**CONSORTIUM_FORM, **forged})
    assert status == 200
    assert "FORGED" not in text and '"pl"' not in text
    status, text = call(web, "co-download.data", {**CONSORTIUM_FORM, **forged,
                                                  "co-csv-button.n_clicks": 1},
                        changed=["co-csv-button.n_clicks"])
    assert status == 200
    content = _download(text, "co-download")
    assert "FORGED" not in content
    report = consortia(store, Opportunity(("loneliness",), ("loc", "evil")))
    rows = list(csv.DictReader(io.StringIO(content.lstrip("\ufeff"))))
    assert [r["member_id"] for r in rows] == [m["id"] for s in report["suggestions"]
                                              for m in s["members"]]
    assert rows[0]["member"] == "'@Calder Arts"  # no live formula


def test_gaps_highlight_comes_from_the_report_not_from_forged_rows(web):
    _app, _client, store = web
    report = gap_report(store, GapQuery())
    top = report["single_points_of_failure"][0]
    forged_rows = [{"id": "pl", "name": "FORGED name", "kind": "x", "pairs_lost": 9,
                    "articulation": "no"}]
    status, text = call(web, "gp-highlight.data", {
        "gp-hops.value": 4, "gp-spof.rowData": forged_rows,
        "gp-spof.selectedRows": [dict(forged_rows[0], id=top["id"])]},
        changed=["gp-spof.selectedRows"])
    assert status == 200
    assert "FORGED" not in text and '"pl"' not in text
    highlight = json.loads(text)["response"]["gp-highlight"]["data"]
    status, drawn = call(web, "gp-graph.elements", {"gp-highlight.data": highlight,
                                                     "gp-hops.value": 4})
    assert status == 200
    label = json.loads(drawn)["response"]["gp-highlight-label"]["children"]
    assert label.startswith(f"Highlighted: {top['name']}")


def test_gaps_network_ignores_a_forged_highlight(web):
    status, text = call(web, "gp-graph.elements", {
        "gp-highlight.data": {"ids": ["pl"], "label": "FORGED label",
                              "table": "gp-spof", "id": "pl"}, "gp-hops.value": 4})
    assert status == 200
    assert "FORGED" not in text
    elements = json.loads(text)["response"]["gp-graph"]["elements"]
    assert not any("selected" in e.get("classes", "") for e in elements)


def test_forged_heatmap_click_with_unknown_ids_is_refused_plainly(web):
    status, text = call(web, "gp-cell.children", {
        "gp-hops.value": 4, "gp-heatmap.clickData": {"points": [{"customdata": ["pl", "x"]}]}},
        changed=["gp-heatmap.clickData"])
    assert status in (200, 204)
    assert "Traceback" not in text and "07700" not in text


def test_heatmap_labels_are_text_not_html(web):
    status, text = call(web, "gp-heatmap.figure", {"gp-hops.value": 4})
    assert status == 200
    trace = json.loads(text)["response"]["gp-heatmap"]["figure"]["data"][0]
    labels = trace["x"] + trace["y"]
    assert not any("<" in label or ">" in label for label in labels), labels
    # Plotly shows the entities as the characters: the name reads as written.
    assert "&lt;a href=\"https://evil.example\"&gt;x&lt;/a&gt;" in labels
