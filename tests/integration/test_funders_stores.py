"""The funding landscape on both stores: the same answers on the embedded store and a real
Neo4j server (the demo and seeded random graphs with funders), and the Consortia page's
"Funding landscape" section showing them (axe-clean, phone-sized, keyboard usable)."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.keys import Keys

from pathways.analysis.funders import FunderQuery, funding_landscape
from pathways.loading import load_paths
from tests.conftest import first_difference, load_data
from tests.integration.a11y import axe_violations, describe, overflowing, settled_overflow
from tests.integration.test_accessibility import PHONE, set_size
from tests.integration.test_user_tasks import focused_text, open_page, press, settle, tab_to
from tests.unit.test_funders import with_funders

NEEDS = ("carers", "loneliness", "creativity")
PLACES = ("loc-todmorden", "loc-brighouse", "loc-north-halifax")


@pytest.fixture
def both(embedded_store, neo4j_store):
    return embedded_store, neo4j_store


@pytest.mark.neo4j
def test_funding_landscape_is_identical_on_both_stores(both, demo_dir):
    compared = 0
    for seed in [None, *range(8)]:
        for store in both:
            store.reset()
            if seed is None:
                load_paths(store, [demo_dir])
            else:
                load_data(store, with_funders(seed))
        for query in (FunderQuery(max_hops=2), FunderQuery(), FunderQuery(
                (PLACES[0],), (NEEDS[1],)) if seed is None else FunderQuery(max_hops=3)):
            embedded, neo4j = (funding_landscape(s, query) for s in both)
            assert embedded == neo4j, (seed, first_difference(embedded, neo4j))
            compared += sum(f["options"] > 0 for f in embedded["funders"])
    assert compared > 10


@pytest.mark.browser
def test_commissioner_reads_the_funding_landscape_on_the_consortia_page(dash_duo, demo_app_each_store,
                                                                         tmp_path):
    app, store = demo_app_each_store
    report = funding_landscape(store, FunderQuery(PLACES, NEEDS))
    assert report["uncovered"] and report["funders"]
    dash_duo.start_server(app)
    query = "&".join([f"needs={n}" for n in NEEDS] + [f"places={p}" for p in PLACES])
    open_page(dash_duo, f"/consortia?{query}", "#co-funders", "funders;")
    section = dash_duo.find_element("#co-funders")
    cells = len(NEEDS) * len(PLACES)
    assert (f"{len(report['funders'])} funders; {len(report['uncovered'])} of the {cells} chosen"
            in section.text)
    cards = section.find_elements("css selector", "article")
    assert [c.find_element("css selector", "h3").text for c in cards] == [
        f["name"] for f in report["funders"]]
    for card, funder in zip(cards, report["funders"], strict=True):
        assert (f"{len(funder['activities'])} funded activities; "
                f"{len(funder['link_workers'])} link workers reach them") in card.text
        assert f"Covers {len(funder['cells'])} of the {cells}" in card.text
    names = report["names"]
    listed = [li.text for li in dash_duo.find_elements("#co-funders-uncovered li")]
    assert [t.split(":")[0] for t in listed] == [
        f"{names[c['need']]} in {names[c['locality']]}" for c in report["uncovered"]]

    # By keyboard: open a funder's list of covered cells.
    with_cells = next(i for i, f in enumerate(report["funders"]) if f["cells"])
    summary = cards[with_cells].find_element("css selector", "summary")
    tab_to(dash_duo, f"#co-funders article:nth-of-type({with_cells + 1}) summary",
           backwards=True, limit=300)
    assert focused_text(dash_duo) == "Needs × localities covered"
    press(dash_duo, Keys.ENTER)
    settle(dash_duo)
    first = report["funders"][with_cells]["cells"][0]
    assert f"{names[first['need']]} in {names[first['locality']]}" in cards[with_cells].text
    assert summary.find_element("xpath", "..").get_attribute("open") is not None

    dash_duo.driver.set_script_timeout(120)
    violations = axe_violations(dash_duo.driver)
    assert not violations, describe(violations)
    set_size(dash_duo.driver, PHONE)
    settle(dash_duo)
    dash_duo.find_element("#co-funders").screenshot(str(tmp_path / "funders-phone.png"))
    assert settled_overflow(dash_duo.driver) == 0, overflowing(dash_duo.driver)
