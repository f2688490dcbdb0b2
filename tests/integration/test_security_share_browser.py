"""A share link's visitor, in a real browser (headless Chromium, the demo data), opens each
page it may be given without one of the page's callbacks being refused: the gate that keeps
a visitor to the linked page's callbacks (pages/_access.py) must know which page each shared
piece (the what-if panel, the funders, the networks' details) belongs to."""

from __future__ import annotations

import pytest

from pages import _access
from pathways.config import Settings
from tests.integration.test_accessibility import settle
from tests.integration.test_sign_in_browser import accounts, start  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

SHARED_VIEWS = {"/": "#pw-table", "/gaps": "#gp-heatmap", "/consortia": "#co-funders",
                "/map": "#mp-map"}


def test_a_share_visitor_opens_each_page_without_a_refused_callback(
        dash_duo, demo_app, accounts, monkeypatch):  # noqa: F811
    refused: list[str] = []
    real = _access.refusal

    def counted(message, status, sign_in=False):
        refused.append(f"{status}: {message}")
        return real(message, status, sign_in)

    monkeypatch.setattr(_access, "refusal", counted)
    app, _store = demo_app
    url = start(dash_duo, app)
    links = _access.share_links(Settings.from_env())
    for view, shown in SHARED_VIEWS.items():
        _link, token = links.create(view, 7, "eddie")
        dash_duo.driver.get(f"{url}/s/{token}")
        dash_duo.wait_for_contains_text(".account-bar", "Viewing a shared link", timeout=20)
        dash_duo.wait_for_element(shown, timeout=30)
        settle(dash_duo)
        if view == "/gaps":  # the what-if panel fills its choices from the page's report
            dash_duo.wait_for_element("#wi-picks", timeout=30)
        assert not dash_duo.find_elements("#sign-in-form"), view
        assert refused == [], (view, refused)
