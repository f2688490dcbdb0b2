"""The History page (issue 16 item 2) in Chromium, on both stores: an admin picks a load by
keyboard, asks to undo it, confirms, reads what was restored, and the graph is as it was; the
page passes axe and has no sideways scroll at 390 px.  And the undo callback refuses anyone
below admin on the server."""

from __future__ import annotations

import pytest
from flask import g
from selenium.webdriver.common.keys import Keys

from pathways import history
from pathways.loading import load_paths
from pathways.webstore import set_store
from tests.integration.a11y import axe_violations, describe, overflowing, settled_overflow
from tests.integration.test_history_undo import assert_same_graph, edited_demo, whole_graph
from tests.integration.test_user_tasks import (
    arrow_to_row,
    focused_in,
    open_page,
    press,
    settle,
    tab_to,
)


@pytest.fixture
def two_loads(store, demo_dir, tmp_path, browser_available):
    """The demo, then an edited Living Database on top: ``(app, store, graph before load 2)``."""
    for record in store.history_records():  # a Neo4j database keeps history across tests
        store.drop_history(record["id"])
    load_paths(store, [demo_dir], actor="first-loader")
    before = whole_graph(store)
    load_paths(store, [edited_demo(tmp_path / "edited")], actor="second-loader")
    set_store(store)
    from app import app

    yield app, store, before
    set_store(None)


@pytest.mark.browser
def test_an_admin_undoes_the_latest_load_by_keyboard_and_the_graph_is_as_before(dash_duo,
                                                                                two_loads):
    app, store, before = two_loads
    dash_duo.start_server(app)
    open_page(dash_duo, "/history", "#hist-table", "second-loader")
    dash_duo.wait_for_contains_text("#hist-table", "first-loader", timeout=20)
    assert axe_violations(dash_duo.driver) == [], describe(axe_violations(dash_duo.driver))

    # The table is one Tab stop; the newest load is the first row; Enter picks it.
    tab_to(dash_duo, "#hist-table")
    arrow_to_row(dash_duo, 0)
    press(dash_duo, Keys.ENTER)
    tab_to(dash_duo, "#hist-undo")
    press(dash_duo, Keys.ENTER)
    dash_duo.wait_for_contains_text("#hist-confirm-text", "Undo load 2 (load by second-loader",
                                    timeout=20)
    assert "1 new node, 1 changed node" in dash_duo.find_element("#hist-confirm-text").text
    assert len(history.records(store)) == 2, "asking changes nothing"
    assert axe_violations(dash_duo.driver) == [], describe(axe_violations(dash_duo.driver))

    tab_to(dash_duo, "#hist-confirm-yes")
    assert focused_in(dash_duo, "#hist-confirm-yes")
    press(dash_duo, Keys.ENTER)
    dash_duo.wait_for_contains_text("#hist-done", "Undid load 2 (recorded as load 3)",
                                    timeout=30)
    assert "1 node deleted" in dash_duo.find_element("#hist-done").text
    settle(dash_duo)
    assert_same_graph(store, before)
    # the table is re-read from the store: the undo on top, load 2 marked undone
    dash_duo.wait_for_contains_text("#hist-table", "yes, by 3", timeout=20)
    assert history.records(store)[1]["undone_by"] == "3"

    # Undoing load 1 now is allowed (load 2 is undone); the page says what it did.
    dash_duo.driver.set_window_size(390, 844)
    settle(dash_duo)
    assert settled_overflow(dash_duo.driver) == 0, overflowing(dash_duo.driver)
    assert axe_violations(dash_duo.driver) == [], describe(axe_violations(dash_duo.driver))
    assert not [e for e in dash_duo.get_logs() if e.get("level") == "SEVERE"]


def test_the_undo_callbacks_refuse_anyone_below_admin_on_the_server(two_loads):
    from pages import history as page
    from pages._access import AccessDenied, Role

    app, store, before = two_loads
    picked = [{"id": "2"}]
    after = whole_graph(store)
    for role in (Role.VIEWER, Role.LINK_WORKER, Role.EDITOR):
        with app.server.test_request_context("/"):
            g.pathways_role = role
            with pytest.raises(AccessDenied, match="Only admins and above can undo a load"):
                page.confirm(1, picked)
            with pytest.raises(AccessDenied):
                page.ask(1, picked)
    assert_same_graph(store, after)
    assert len(history.records(store)) == 2
    with app.server.test_request_context("/"):
        g.pathways_role = Role.ADMIN
        hidden, message, _rows = page.confirm(1, picked)
    assert hidden is True and "Undid load 2" in str(message)
    assert_same_graph(store, before)
