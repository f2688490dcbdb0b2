"""Consortium cards' contacts (issue 19 item 4) through HTTP as a browser sends it, on both
stores: a member's named contact in their work role is on the Consortia page's cards, in the
printable brief and in the workbook for link workers and above; viewers and share-link
visitors get none of it, whatever they send (the check is on the server, in the callback).
"""

from __future__ import annotations

import base64
import io
import re
from urllib.parse import urlsplit

import pytest
from openpyxl import load_workbook

from pathways.webstore import set_store
from tests.conftest import load_data
from tests.integration.test_app_security import GRAPH, call
from tests.integration.test_sign_in import ROLES, fresh, home, make_link, sign_in

__all__ = ["home"]  # the fixture, used by name below

# The demo-like graph the security tests use, with its partnership lead working for the
# organisation: her phone and e-mail are the named contact a commissioner would see.
TEAM_GRAPH = {**GRAPH, "relationships": [*GRAPH["relationships"],
                                          {"source_id": "pl", "type": "WORKS_FOR",
                                           "target_id": "org"}]}
LEAD = ["Pat Lead", "07700 900999", "secret.lead@example.org"]
QUERY = {"needs": ["loneliness"], "places": ["loc", "evil"], "access": [], "free": False,
         "size": 4}
FORM = {"co-needs.value": QUERY["needs"], "co-places.value": QUERY["places"],
        "co-access.value": [], "co-free.value": [], "co-size.value": 4}


@pytest.fixture
def web_both(store, home):
    load_data(store, TEAM_GRAPH)
    set_store(store)
    from app import app

    yield app, app.server.test_client(), store
    set_store(None)


def cards(web) -> tuple[int, str]:
    return call(web, "co-suggestions.children", FORM, changed=["co-needs.value"])


def download(web, button: str) -> tuple[int, dict | None]:
    status, text = call(web, "co-download.data",
                        {f"{button}.n_clicks": 1, "co-query.data": QUERY, "co-choice.value": 0},
                        changed=[f"{button}.n_clicks"])
    if status != 200:
        return status, None
    import json

    return status, json.loads(text)["response"]["co-download"]["data"]


def workbook_text(data: dict) -> tuple[list[str], str]:
    book = load_workbook(io.BytesIO(base64.b64decode(data["content"])))
    text = " ".join(str(c.value) for ws in book for row in ws.iter_rows() for c in row)
    return book.sheetnames, text


@pytest.mark.parametrize("name", list(ROLES))
def test_cards_brief_and_workbook_name_contacts_only_for_link_workers_and_above(web_both, name):
    sign_in(web_both, name)
    status, text = cards(web_both)
    assert status == 200
    assert "Art Club (@Calder Arts: Arts on Prescription)" in text  # the evidence, for everyone
    _status, brief = download(web_both, "co-print-button")
    _status, xlsx = download(web_both, "co-xlsx-button")
    sheets, book = workbook_text(xlsx)
    viewer = ROLES[name] == "viewer"
    for found in (text, brief["content"], book):
        assert [c for c in LEAD if c in found] == ([] if viewer else LEAD)
    assert ("Contacts" in sheets) is not viewer
    if viewer:
        assert "Contact details are shown to link workers" in text
    else:
        assert "Pat Lead (partnership lead)" in text
    # the organisation's formula-leading name is text in the workbook, never a formula
    assert "'@Calder Arts" in book


def test_a_share_link_visitor_sees_the_cards_without_contacts(web_both, home):
    sign_in(web_both, "eddie")
    status, text = make_link(web_both, "/consortia?needs=loneliness&places=loc&places=evil")
    assert status == 200
    address = re.search(r"https?://[^\"\s]+/s/[A-Za-z0-9._-]+", text).group(0)
    visitor = fresh(web_both)
    _app, client, _store = visitor
    assert client.get(urlsplit(address).path).status_code == 302
    client.environ_base["HTTP_X_CSRFTOKEN"] = client.get_cookie("_csrf_token").value
    status, text = cards(visitor)
    assert status == 200 and "Art Club" in text
    assert [c for c in LEAD if c in text] == []
    assert "Contact details are shown to link workers" in text
    _status, xlsx = download(visitor, "co-xlsx-button")
    sheets, book = workbook_text(xlsx)
    assert "Contacts" not in sheets and [c for c in LEAD if c in book] == []
    _status, brief = download(visitor, "co-print-button")
    assert [c for c in LEAD if c in brief["content"]] == []
