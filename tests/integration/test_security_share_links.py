"""A share link's visitor runs only the callbacks of the page the link was made for, however
the callback request is forged (Flask's test client, the requests built by hand).

Dash passes a callback its inputs by position and never checks the ids a request gives them,
so the gate must not take a ``_pages_location`` input in any callback's request as the page
being routed to.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from tests.integration.test_app_security import PATHWAY_FORM, call
from tests.integration.test_sign_in import (  # noqa: F401  (fixtures)
    fresh,
    home,
    make_link,
    sign_in,
    web,
)


def _visitor(web, view: str):  # noqa: F811
    """A new browser that opened a share link to ``view``, made by an editor."""
    sign_in(web, "eddie")
    _status, text = make_link(web, view)
    address = re.search(r"https?://[^\"\s]+/s/[A-Za-z0-9._-]+", text).group(0)  # type: ignore[union-attr]
    visitor = fresh(web)
    client = visitor[1]
    assert client.get(urlsplit(address).path).status_code == 302
    client.environ_base["HTTP_X_CSRFTOKEN"] = client.get_cookie("_csrf_token").value
    return client


def _gaps_download(first_input: dict) -> dict:
    return {"output": "gp-download.data", "outputs": {"id": "gp-download", "property": "data"},
            "inputs": [first_input], "state": [{"id": "gp-hops", "property": "value", "value": 4}],
            "changedPropIds": ["gp-download-button.n_clicks"]}


def test_a_share_visitor_cannot_run_another_pages_callback_by_naming_the_router_input(
        web, home):  # noqa: F811
    client = _visitor(web, "/?worker=lw&hops=4")
    # The Gaps report's download, its button's place taken by the page router's input with
    # the shared page's path ("/" is truthy as a click count): refused like the plain request.
    forged = _gaps_download({"id": "_pages_location", "property": "pathname", "value": "/"})
    answer = client.post("/_dash-update-component", json=forged)
    assert answer.status_code == 403, answer.get_data(as_text=True)[:200]
    assert "gap report" not in answer.get_data(as_text=True)
    plain = _gaps_download({"id": "gp-download-button", "property": "n_clicks", "value": 1})
    assert client.post("/_dash-update-component", json=plain).status_code == 403


def test_a_share_visitor_still_routes_to_its_own_page_and_not_to_another(web, home):  # noqa: F811
    client = _visitor(web, "/gaps?hops=3")

    def route(path: str) -> int:
        body = {"output": ".._pages_content.children..._pages_store.data..",
                "outputs": [{"id": "_pages_content", "property": "children"},
                            {"id": "_pages_store", "property": "data"}],
                "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                           {"id": "_pages_location", "property": "search", "value": "?hops=3"}],
                "state": [], "changedPropIds": ["_pages_location.pathname"]}
        return client.post("/_dash-update-component", json=body).status_code

    assert route("/gaps") == 200
    assert route("/") == 403 and route("/data") == 403
    # and its own page's callbacks run: the Gaps report's download
    plain = _gaps_download({"id": "gp-download-button", "property": "n_clicks", "value": 1})
    answer = client.post("/_dash-update-component", json=plain)
    assert answer.status_code == 200 and "gap report" in answer.get_data(as_text=True)



def test_a_share_visitor_cannot_run_the_shared_pieces_of_another_page(web, home):  # noqa: F811
    """The network's details, the what-if panel and the funders are registered by shared
    modules for several pages: a visitor of a link to the Pathways page gets the Pathways
    network's details, not the Gaps page's nor the Consortia page's funders."""
    client = _visitor(web, "/?worker=lw&hops=4")
    visitor = (web[0], client, web[2])
    tapped = {"gp-graph.tapNodeData": {"id": "svc"}, "gp-hops.value": 4}
    assert call(visitor, "gp-node.children", tapped, changed=["gp-graph.tapNodeData"])[0] == 403
    assert call(visitor, "co-funders.children", {"co-query.data": None})[0] == 403
    assert call(visitor, "wi-summary.children", {"gp-hops.value": 4})[0] == 403
    # the Pathways page's own network details still answer
    status, text = call(visitor, "pw-node.children",
                        {**PATHWAY_FORM, "pw-graph.tapNodeData": {"id": "svc"}},
                        changed=["pw-graph.tapNodeData"])
    assert status == 200 and "Arts on Prescription" in text
