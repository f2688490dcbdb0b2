"""No other site can show the app in a frame (clickjacking), with accounts or without: in
the local mode whoever opens the app is its admin, so a page framing ``localhost`` could
steer a click onto Undo or Load without any cookie."""

from __future__ import annotations

import pytest

from pathways.webstore import set_store
from tests.conftest import load_data
from tests.integration.test_app_security import GRAPH, PATHWAY_FORM, call
from tests.integration.test_sign_in import home, web  # noqa: F401  (fixtures)

ADDRESSES = ["/", "/history", "/data", "/login", "/_dash-layout", "/assets/style.css"]


def _framing_refused(response) -> bool:
    return response.headers.get("X-Frame-Options") == "DENY" and \
        "frame-ancestors 'none'" in response.headers.get("Content-Security-Policy", "")


@pytest.fixture
def local(embedded_store, tmp_path, monkeypatch):
    """The app without accounts (the local mode), as this computer's browser reaches it."""
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path / "empty-home"))
    load_data(embedded_store, GRAPH)
    set_store(embedded_store)
    from app import app

    yield app, app.server.test_client(), embedded_store
    set_store(None)


def test_no_answer_of_the_local_app_may_be_framed(local):
    client = local[1]
    for address in ADDRESSES:
        response = client.get(address)
        assert response.status_code == 200, address
        assert _framing_refused(response), address
    callback = client.post("/_dash-update-component", json={})  # even a malformed callback
    assert _framing_refused(callback)
    status, _text = call(local, "pw-table.rowData", PATHWAY_FORM, changed=["pw-worker.value"])
    assert status == 200


def test_no_answer_with_accounts_may_be_framed_signed_in_or_not(web):  # noqa: F811
    client = web[1]
    for address in ADDRESSES:
        assert _framing_refused(client.get(address)), address  # the sign-in page, redirects
