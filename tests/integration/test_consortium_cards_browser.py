"""From a red cell to a consortium whose card shows the evidence (issue 19's "done when"), by
keyboard, in Chromium on both stores: the Gaps page's cell table (Space selects the red cell),
Enter on "Find partners for this on the Consortia page", then Enter on the top card's
evidence; the card says how it was found, lists each covered cell's activities and services
as the consortia analysis computes them, the members' ties and (the local user is an admin)
who to contact.  Axe clean, and no sideways scroll at 390 px."""

from __future__ import annotations

import os

import pytest
from selenium.webdriver.common.keys import Keys

from pathways.analysis.commission import providers_elsewhere
from pathways.analysis.consortia import Opportunity, consortia, report_contacts
from pathways.analysis.gaps import GapQuery, gap_report
from pathways.reports.render_consortia import evidence_by_cell
from tests.integration.a11y import axe_violations, describe, overflowing, settled_overflow
from tests.integration.test_user_tasks import (
    _severe,
    arrow_to_row,
    focused_in,
    open_page,
    press,
    settle,
    tab_to,
)

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("PATHWAYS_TEST_SCREENSHOTS")  # a folder: save what the page looked like


def _row_of(dash_duo, need: str, place: str) -> int:
    """The row index of a need × locality cell in the Gaps page's cell table."""
    index = dash_duo.driver.execute_script(
        "const rows = document.querySelectorAll('#gp-coverage .ag-center-cols-container .ag-row');"
        " for (const r of rows) { if (r.querySelector('[col-id=need]').innerText === arguments[0]"
        " && r.querySelector('[col-id=locality]').innerText === arguments[1])"
        " return Number(r.getAttribute('row-index')); } return null", need, place)
    assert index is not None, f"{need} in {place} is not in the cell table"
    return int(index)


def _no_sideways_scroll(dash_duo, shot: str) -> None:
    size = dash_duo.driver.get_window_size()
    dash_duo.driver.set_window_size(390, 844)
    try:
        assert settled_overflow(dash_duo.driver) == 0, overflowing(dash_duo.driver)
        if SHOTS:
            dash_duo.driver.execute_script(
                "document.getElementById('co-card-1').scrollIntoView({block: 'start'})")
            dash_duo.driver.save_screenshot(f"{SHOTS}/{shot}")
    finally:
        dash_duo.driver.set_window_size(size["width"], size["height"])


def test_a_red_cell_leads_by_keyboard_to_a_consortium_card_with_its_evidence(
        dash_duo, demo_app_each_store):
    app, store = demo_app_each_store
    report = gap_report(store, GapQuery())
    names = report["names"]
    red = [c for c in report["coverage"] if c["existing"] == 0]
    assert red, "the demo plants a red cell (Todmorden × loneliness)"
    need, place = red[0]["need"], red[0]["locality"]
    query = providers_elsewhere(store, need, place)["consortia_query"]
    expected = consortia(store, Opportunity(tuple(query["needs"]), tuple(query["places"])))
    top = expected["suggestions"][0]
    assert top["evidence"], "the pre-filled opportunity has cells someone covers"

    dash_duo.start_server(app)
    open_page(dash_duo, "/gaps", "#gp-message", "cells with nothing reachable")
    tab_to(dash_duo, "#gp-coverage")
    arrow_to_row(dash_duo, _row_of(dash_duo, names[need], names[place]))
    press(dash_duo, Keys.SPACE)
    dash_duo.wait_for_contains_text("#gp-cell", f"{names[need]} in {names[place]}", timeout=20)
    dash_duo.wait_for_element("#gp-commission-link", timeout=20)
    tab_to(dash_duo, "#gp-commission-link", limit=120)
    press(dash_duo, Keys.ENTER)

    dash_duo.wait_for_contains_text("h1", "Consortia for a commissioning opportunity", timeout=20)
    dash_duo.wait_for_contains_text("#co-card-1 h3", ", ".join(m["name"] for m in top["members"]),
                                    timeout=30)
    settle(dash_duo)
    card = dash_duo.find_element("#co-card-1")
    assert top["strategy"] in card.text
    # Evidence is a disclosure: closed, its lines are not shown; Enter on it opens it.
    evidence = dash_duo.find_element("#co-evidence-1")
    assert evidence.get_attribute("open") is None
    tab_to(dash_duo, "#co-evidence-1 summary", limit=150)
    press(dash_duo, Keys.ENTER)
    dash_duo.wait_for_element("#co-evidence-1[open]", timeout=10)
    shown = evidence.text
    for cell, lines in evidence_by_cell(expected, top):
        assert cell in shown
        for line in lines:
            assert line in shown
    covered = {(e["need"], e["locality"]) for e in top["evidence"]}
    for n, p in top["uncovered"]:
        assert (n, p) not in covered
    # the members' ties, as a list, and who to contact (the local user is an admin)
    ties = dash_duo.find_element("#co-card-1 .ties").text
    for t in top["ties"]:
        assert t["text"] in ties
    contacts = report_contacts(store, expected)
    named = [contacts[m["id"]]["people"][0] for m in top["members"] if contacts[m["id"]]["people"]]
    assert named, "the demo names someone at a top member"
    for person in named:
        assert person["name"] in card.text and person["email"] in card.text
    assert focused_in(dash_duo, "#co-evidence-1")

    found = axe_violations(dash_duo.driver)
    assert found == [], describe(found)
    _no_sideways_scroll(dash_duo, "consortium-card-390.png")
    if SHOTS:
        dash_duo.driver.execute_script(
            "document.getElementById('co-card-1').scrollIntoView({block: 'start'})")
        dash_duo.driver.save_screenshot(f"{SHOTS}/consortium-card.png")
    assert _severe(dash_duo) == []


def test_a_team_card_draws_its_ties_and_lists_them_for_keyboards(dash_duo, demo_app_each_store):
    """A consortium of several members: its ties as a list and as a small network of the
    members (outlined) and what joins them; axe clean, no sideways scroll at 390 px."""
    app, store = demo_app_each_store
    needs, places = ("loneliness", "mental_health"), ("loc-north-halifax", "loc-central-halifax")
    expected = consortia(store, Opportunity(needs, places))
    rank, team = next((i, s) for i, s in enumerate(expected["suggestions"], 1) if s["ties"])
    dash_duo.start_server(app)
    query = "&".join([f"needs={n}" for n in needs] + [f"places={p}" for p in places])
    open_page(dash_duo, f"/consortia?{query}", f"#co-card-{rank} h3",
              ", ".join(m["name"] for m in team["members"]))
    listed = [li.text for li in dash_duo.find_elements(f"#co-ties-{rank} li")]
    assert listed == [t["text"] for t in team["ties"]]
    drawn = dash_duo.driver.execute_script(
        "const box = document.querySelector(arguments[0]);"
        " return box ? box.querySelectorAll('canvas').length : 0", f"#co-card-{rank} .ties-graph-box")
    assert drawn > 0, "the ties are drawn"
    found = axe_violations(dash_duo.driver)
    assert found == [], describe(found)
    size = dash_duo.driver.get_window_size()
    dash_duo.driver.set_window_size(390, 844)
    try:
        assert settled_overflow(dash_duo.driver) == 0, overflowing(dash_duo.driver)
    finally:
        dash_duo.driver.set_window_size(size["width"], size["height"])
    if SHOTS:
        dash_duo.driver.execute_script(
            f"document.getElementById('co-card-{rank}').scrollIntoView({{block: 'start'}})")
        dash_duo.driver.save_screenshot(f"{SHOTS}/consortium-ties.png")
    assert _severe(dash_duo) == []
