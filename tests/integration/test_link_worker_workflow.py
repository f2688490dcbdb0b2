"""A link worker's workflow on the Pathways page (issue 14), in a real browser, on the demo data
in each store: one test per task, done the way a link worker would, mostly by keyboard.

1. Open how to refer for an activity: first step, what the person will find, freshness.
2. Tick two activities into the shortlist, open the printable referral sheet, print it, reopen
   it from its address; nothing in the sheet or its address identifies the person.
3. Search by words ("walk", a typo), choose a hit: shown in the table, or why it is not.
4. Type the person's postcode: their locality becomes the filter; an unknown one says so.
5. Filters that fit the person: age, days and times (plain-English errors), self-referral
   only; whole-area activities stay with a locality chosen.
6. The page's address holds the filters and the shortlist (reload, Back), never the person's
   postcode, age or times.

Every state reached is checked with axe-core and at 390 px (no sideways scroll).
Expected answers come from the analysis layer on the same store, never hard-coded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from pathways.analysis.pathways import pathways_from
from pathways.analysis.places import locality_for_postcode, parse_times
from pathways.analysis.referral import how_to_refer
from pathways.analysis.search import search
from pathways.analysis.shortlist import parse_shortlist
from pathways.model import NodeKind, PersonRole, serves_whole_area
from pathways.store.base import PathwayFilter
from pathways.webstore import set_store
from tests.integration.a11y import axe_violations, describe, horizontal_overflow
from tests.integration.test_accessibility import SMALL_TARGETS
from tests.integration.test_user_tasks import (
    arrow_to_row,
    focused_text,
    press,
    settle,
    tab_to,
)

# The browser tests are marked one by one (the forged-request tests at the end need none).
browser = pytest.mark.browser

PHONE = (390, 844)


# --- helpers --------------------------------------------------------------------------------

def set_size(driver, size: tuple[int, int] | None) -> None:
    """Emulate a phone of ``size`` CSS pixels, or go back to the desktop window (None)."""
    if size is None:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        return
    width, height = size
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": True})


def check_page(dash_duo, state: str) -> None:
    """axe-core clean on the desktop and on a phone; at 390 px no sideways scroll and no
    control a finger cannot hit (24 × 24 px)."""
    settle(dash_duo)
    found = axe_violations(dash_duo.driver)
    assert found == [], f"{state}:\n{describe(found)}"
    set_size(dash_duo.driver, PHONE)
    try:
        settle(dash_duo)
        # The grids lay themselves out again a moment after the window narrows.
        with contextlib.suppress(TimeoutException):  # reported just below, with what is too wide
            WebDriverWait(dash_duo.driver, 3, poll_frequency=0.2).until(
                lambda driver: horizontal_overflow(driver) == 0)
        overflow = horizontal_overflow(dash_duo.driver)
        assert overflow == 0, f"{state}: {overflow} px wider than a phone: {too_wide(dash_duo)}"
        found = axe_violations(dash_duo.driver)
        assert found == [], f"{state} (phone):\n{describe(found)}"
        small = dash_duo.driver.execute_script(SMALL_TARGETS)
        assert small == [], f"{state}: touch targets under 24 px: {small}"
    finally:
        set_size(dash_duo.driver, None)


def too_wide(dash_duo) -> list[str]:
    """The innermost elements reaching past the page's right edge (for the failure message)."""
    return dash_duo.driver.execute_script("""
        const edge = document.documentElement.clientWidth;
        const clipped = el => {
            for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
                if (getComputedStyle(p).overflowX !== 'visible') return true;
            }
            return false;
        };
        const wide = [...document.querySelectorAll('body *')].filter(
            el => el.getBoundingClientRect().right > edge + 1 && !clipped(el));
        return wide.filter(el => !wide.some(o => o !== el && el.contains(o))).slice(0, 8)
                   .map(el => el.tagName + '#' + el.id + '.' + el.className + ' '
                              + Math.round(el.getBoundingClientRect().right));""")


def until(dash_duo, condition, timeout: float = 10) -> None:
    WebDriverWait(dash_duo.driver, timeout, poll_frequency=0.2).until(lambda _d: condition())


def app_address(dash_duo) -> str:
    """The page's address less the test server's host and port (dash_duo numbers its servers'
    ports one after another from 58050, so a port such as 58067 says nothing of the page)."""
    return urlsplit(dash_duo.driver.current_url)._replace(scheme="", netloc="").geturl()


def severe(dash_duo) -> list:
    return [e for e in dash_duo.get_logs() if e.get("level") == "SEVERE"]


def open_pathways(dash_duo, path: str = "/") -> None:
    dash_duo.wait_for_page(f"{dash_duo.server_url}{path}")
    dash_duo.wait_for_contains_text("#pw-message", "can reach", timeout=30)
    settle(dash_duo)


def pick_worker_by_name(dash_duo, worker: dict) -> None:
    """Tab into the link workers and type the start of the name (type-ahead picks it)."""
    focus_first(dash_duo)
    tab_to(dash_duo, "#pw-worker")
    press(dash_duo, worker["name"][:4])
    assert focused_text(dash_duo).startswith(worker["name"])
    dash_duo.wait_for_contains_text("#pw-message", f"{worker['name']} can reach", timeout=20)
    settle(dash_duo)


def focus_first(dash_duo) -> None:
    """Start the Tab walk at the top of the page's content."""
    dash_duo.driver.execute_script("document.getElementById('main').focus()")


def type_into(dash_duo, control_id: str, text: str) -> None:
    """Tab to a text box, type, and press Enter (what a person does in a form)."""
    focus_first(dash_duo)
    tab_to(dash_duo, f"#{control_id}")
    box = dash_duo.find_element(f"#{control_id}")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(text, Keys.ENTER)


def expect_count(dash_duo, store, worker: dict, where: PathwayFilter, hops: int = 4) -> list:
    found = pathways_from(store, worker["id"], where, hops)["activities"]
    count = len(found)
    dash_duo.wait_for_contains_text(
        "#pw-message", f"{worker['name']} can reach {count} matching "
                       f"activit{'y' if count == 1 else 'ies'}", timeout=20)
    settle(dash_duo)
    return found


def select_row(dash_duo, index: int, name: str) -> None:
    """Tab to the table, arrow to row ``index`` and press Enter: its how-to-refer opens."""
    focus_first(dash_duo)
    tab_to(dash_duo, "#pw-table")
    arrow_to_row(dash_duo, index)
    press(dash_duo, Keys.ENTER)
    dash_duo.wait_for_contains_text("#pw-details h3", name, timeout=20)
    settle(dash_duo)


def tick_shortlist(dash_duo, name: str) -> None:
    """Tab from the table to "On the shortlist: NAME" and tick it with Space."""
    dash_duo.wait_for_contains_text("#pw-pick-area", name, timeout=20)
    tab_to(dash_duo, "#pw-pick")
    assert focused_text(dash_duo) == f"On the shortlist: {name}"
    press(dash_duo, Keys.SPACE)
    dash_duo.wait_for_contains_text("#pw-shortlist-view", name, timeout=20)
    settle(dash_duo)


def refer_on_either_day(store, worker_id: str, activity_id: str, since: dt.date) -> list:
    """How to refer as of ``since`` and, if midnight has passed since, as of today too: the
    app judges an entry's freshness on its own today, one of the two."""
    return [how_to_refer(store, worker_id, activity_id, as_of=day)
            for day in sorted({since, dt.date.today()})]


def workers(store) -> list[dict]:
    return store.list_nodes(NodeKind.PERSON, PersonRole.LINK_WORKER.value)


def worker_with_choice(store, least: int = 3) -> dict:
    """The first link worker (after the one shown first) who reaches ``least`` activities."""
    for worker in workers(store)[1:] + workers(store)[:1]:
        if len(pathways_from(store, worker["id"])["activities"]) >= least:
            return worker
    raise AssertionError("the demo should give some link worker a choice of activities")


# --- 1. how to refer ------------------------------------------------------------------------

@browser
def test_how_to_refer_says_who_to_contact_first_what_they_will_find_and_how_fresh(
        dash_duo, demo_app_each_store):
    app, store = demo_app_each_store
    worker = worker_with_choice(store)
    reachable = pathways_from(store, worker["id"])["activities"]
    since = dt.date.today()
    dash_duo.start_server(app)
    open_pathways(dash_duo)
    pick_worker_by_name(dash_duo, worker)

    # The second row, by keyboard: its first step, what the person will find, its freshness.
    chosen = reachable[1]
    select_row(dash_duo, 1, chosen["name"])
    refer = how_to_refer(store, worker["id"], chosen["id"], as_of=since)
    details = dash_duo.find_element("#pw-details").text
    first = refer.first_step
    assert first is not None
    assert refer.summary in details
    assert first.contact.name in details and first.method_words in details
    for heading in ("First step", "What the person will find", "How fresh this entry is",
                    "How to refer (contacts along the route)"):
        assert heading in details
    for value in (refer.offer.schedule, refer.offer.venue, refer.offer.ages):
        if value:
            assert value in details, value
    assert any(r.freshness.message in details
               for r in refer_on_either_day(store, worker["id"], chosen["id"], since)), details
    assert dash_duo.find_element("#pw-route").text == " → ".join(n["name"] for n in chosen["path"])

    # An entry not reviewed for 12 months is flagged, one that was is not.
    judged = [how_to_refer(store, worker["id"], a["id"], as_of=since) for a in reachable]
    stale = next((i for i, r in enumerate(judged) if r.freshness.flagged), None)
    fresh = next((i for i, r in enumerate(judged) if not r.freshness.flagged), None)
    for index in (i for i in (stale, fresh) if i is not None):
        select_row(dash_duo, index, reachable[index]["name"])
        flag = dash_duo.find_element("#pw-details .freshness").text
        assert any(flag.startswith("Check first:") == r.freshness.flagged
                   and r.freshness.message in flag
                   for r in refer_on_either_day(store, worker["id"], reachable[index]["id"],
                                                since)), flag
    check_page(dash_duo, "how to refer open")
    assert severe(dash_duo) == []


# --- 2. the shortlist and the referral sheet --------------------------------------------------

@browser
def test_two_activities_shortlisted_print_as_a_sheet_that_reopens_from_its_address(
        dash_duo, demo_app_each_store):
    app, store = demo_app_each_store
    worker = worker_with_choice(store)
    reachable = pathways_from(store, worker["id"])["activities"]
    since = dt.date.today()
    dash_duo.start_server(app)
    open_pathways(dash_duo)
    pick_worker_by_name(dash_duo, worker)
    # What the link worker knows about the person: it must not reach the sheet or any address.
    type_into(dash_duo, "pw-age", "67")
    settle(dash_duo)
    type_into(dash_duo, "pw-age", "")  # any age again, so the table lists every option
    settle(dash_duo)

    picked = [reachable[0], reachable[2]]
    for index, activity in ((0, picked[0]), (2, picked[1])):
        select_row(dash_duo, index, activity["name"])
        tick_shortlist(dash_duo, activity["name"])
    listed = [e.text for e in dash_duo.find_elements("#pw-shortlist-view .shortlist li span")]
    assert listed == [a["name"] for a in picked]
    check_page(dash_duo, "two on the shortlist")

    # Unticking takes one off; ticking again puts it back (at the end).
    press(dash_duo, Keys.SPACE)
    dash_duo.wait_for_text_to_equal("#pw-shortlist-view .shortlist li span", picked[0]["name"],
                                    timeout=20)
    settle(dash_duo)
    press(dash_duo, Keys.SPACE)
    dash_duo.wait_for_contains_text("#pw-shortlist-view", picked[1]["name"], timeout=20)
    settle(dash_duo)

    link = dash_duo.find_element("#pw-sheet-link")
    href = link.get_attribute("href")
    assert link.get_attribute("target") == "_blank"
    # Its address: the shortlist's token and nothing else, holding ids of things in the graph.
    query = parse_qs(urlsplit(href).query)
    assert list(query) == ["shortlist"] and urlsplit(href).path == "/shortlist"
    assert parse_shortlist(query["shortlist"][0]) == (worker["id"],
                                                      tuple(a["id"] for a in picked), ())

    # The sheet, opened by its address (as a colleague would): each option's how to refer.
    dash_duo.driver.get(href)
    dash_duo.wait_for_contains_text("#sl-sheet", picked[1]["name"], timeout=30)
    settle(dash_duo)
    sheet = dash_duo.find_element("#sl-sheet").text
    headings = [e.text for e in dash_duo.find_elements("#sl-sheet .sheet-option h2")]
    assert headings == [f"{n}. {a['name']}" for n, a in enumerate(picked, 1)]
    for activity in picked:
        refer = how_to_refer(store, worker["id"], activity["id"], as_of=since)
        assert refer.summary in sheet
        assert any(r.freshness.message in sheet
                   for r in refer_on_either_day(store, worker["id"], activity["id"], since))
        if refer.offer.schedule:
            assert refer.offer.schedule in sheet
    assert "67" not in sheet and "67" not in app_address(dash_duo)
    notes = dash_duo.find_element(".referral-sheet .sheet-notes").text
    assert "no information about the person being referred" in notes

    # Printing: A4 print styles are loaded, and "Print" opens the browser's print dialog.
    page_size = dash_duo.driver.execute_script("""
        for (const sheet of document.styleSheets) {
          if (!(sheet.href || '').includes('print.css')) continue;
          for (const rule of sheet.cssRules) {
            if (rule instanceof CSSPageRule) return rule.style.getPropertyValue('size');
          }
        }
        return null;""")
    assert (page_size or "").lower() == "a4"
    dash_duo.driver.execute_script("window.print = () => { window.printed = true; };")
    dash_duo.find_element("#sl-print").click()
    dash_duo.wait_for_contains_text("#sl-sheet", picked[0]["name"])
    # a clientside callback calls print, after the click's event has gone round Dash's loop
    until(dash_duo, lambda: dash_duo.driver.execute_script("return window.printed === true"))
    check_page(dash_duo, "referral sheet")

    # Reopened later from its address: the same sheet.
    dash_duo.driver.get(f"{dash_duo.server_url}/")
    dash_duo.wait_for_contains_text("#pw-message", "can reach", timeout=30)
    dash_duo.driver.get(href)
    dash_duo.wait_for_contains_text("#sl-sheet", picked[1]["name"], timeout=30)
    assert dash_duo.find_element("#sl-sheet").text == sheet
    assert severe(dash_duo) == []


# --- 3. search ------------------------------------------------------------------------------

@browser
def test_search_by_words_finds_walks_and_shows_a_chosen_one_or_why_not(dash_duo, demo_app_each_store):
    app, store = demo_app_each_store
    worker = worker_with_choice(store)
    reachable = {a["id"]: a for a in pathways_from(store, worker["id"])["activities"]}
    dash_duo.start_server(app)
    open_pathways(dash_duo)
    pick_worker_by_name(dash_duo, worker)

    type_into(dash_duo, "pw-search", "walk")
    hits = search(store, "walk", limit=8)
    assert hits, "the demo has walks"
    dash_duo.wait_for_contains_text("#pw-search-results", f"{len(hits)} found for 'walk'",
                                    timeout=20)
    shown = [e.text for e in dash_duo.find_elements("#pw-search-results .hits button")]
    assert shown == [f"{h.name} ({h.kind.lower()})" for h in hits]
    check_page(dash_duo, "search hits")

    # A hit the worker reaches: chosen by keyboard, it is selected and its how-to-refer shown.
    inside = next((h for h in hits if h.id in reachable), None)
    outside = next((h for h in hits if h.kind == "Activity" and h.id not in reachable), None)
    assert inside is not None or outside is not None
    if inside is not None:
        tab_to(dash_duo, f"#pw-search-results .hits li:nth-child({hits.index(inside) + 1}) button")
        press(dash_duo, Keys.ENTER)
        dash_duo.wait_for_contains_text("#pw-details h3", inside.name, timeout=20)
        dash_duo.wait_for_contains_text("#pw-search-message", "selected in the table", timeout=20)
        assert "First step" in dash_duo.find_element("#pw-details").text
    if outside is not None:
        focus_first(dash_duo)
        tab_to(dash_duo, f"#pw-search-results .hits li:nth-child({hits.index(outside) + 1}) button")
        press(dash_duo, Keys.ENTER)
        dash_duo.wait_for_contains_text(
            "#pw-search-message", f"{worker['name']} cannot reach {outside.name}", timeout=20)

    # A typo still finds what was meant (the same hits the analysis gives).
    typo = search(store, "exersice", limit=8)
    type_into(dash_duo, "pw-search", "exersice")
    if typo:
        dash_duo.wait_for_contains_text("#pw-search-results", typo[0].name, timeout=20)
    else:
        dash_duo.wait_for_contains_text("#pw-search-message", "Nothing found", timeout=20)
    type_into(dash_duo, "pw-search", "zzqxv")
    dash_duo.wait_for_contains_text("#pw-search-message", "Nothing found for 'zzqxv'",
                                    timeout=20)
    assert severe(dash_duo) == []


# --- 5. filters that fit the person ---------------------------------------------------------

@browser
def test_age_and_self_referral_narrow_and_whole_area_activities_stay_in_every_locality(
        dash_duo, demo_app_each_store):
    app, store = demo_app_each_store
    all_workers = workers(store)
    worker = max(all_workers, key=lambda w: len(pathways_from(store, w["id"])["activities"]))
    dash_duo.start_server(app)
    open_pathways(dash_duo)
    if worker["id"] != all_workers[0]["id"]:
        pick_worker_by_name(dash_duo, worker)

    # Age: the activities whose age range admits a 15-year-old.
    type_into(dash_duo, "pw-age", "15")
    young = expect_count(dash_duo, store, worker, PathwayFilter(age=15))
    everyone = pathways_from(store, worker["id"])["activities"]
    assert len(young) < len(everyone), "the demo should have adult-only activities"
    type_into(dash_duo, "pw-age", "")
    expect_count(dash_duo, store, worker, PathwayFilter())

    # Self-referral only: Tab to it, Space.
    focus_first(dash_duo)
    tab_to(dash_duo, "#pw-self")
    press(dash_duo, Keys.SPACE)
    expect_count(dash_duo, store, worker, PathwayFilter(self_referral_only=True))
    press(dash_duo, Keys.SPACE)
    expect_count(dash_duo, store, worker, PathwayFilter())

    # A locality keeps the whole-area activities (online, borough-wide).
    whole = [a for a in everyone
             if serves_whole_area(store.get_node(a["id"])[1])]
    assert whole, "the demo worker should reach a whole-area activity"
    for place in store.list_nodes(NodeKind.LOCALITY)[:3]:
        option = next(e for e in dash_duo.find_elements("#pw-locality label")
                      if e.text.strip() == place["name"])
        dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", option)
        option.click()
        found = expect_count(dash_duo, store, worker, PathwayFilter(locality=place["id"]))
        assert {a["id"] for a in whole} <= {a["id"] for a in found}
        names = dash_duo.driver.execute_script(
            "return [...document.querySelectorAll('#pw-table .ag-center-cols-container "
            "[col-id=activity]')].map(c => c.innerText)")
        assert {a["name"] for a in whole} <= set(names) or len(found) > 15
    check_page(dash_duo, "filters set")
    assert severe(dash_duo) == []


# --- 4. the person's postcode ---------------------------------------------------------------

def checked_locality(dash_duo) -> str:
    return dash_duo.driver.execute_script(
        "const c = document.querySelector('#pw-locality input:checked');"
        " return c ? c.closest('label').innerText.trim() : null")


@browser
def test_postcode_sets_the_persons_locality_and_an_unknown_one_says_so(dash_duo, demo_app_each_store):
    app, store = demo_app_each_store
    worker = worker_with_choice(store)
    places = store.list_nodes(NodeKind.LOCALITY)
    # A postcode inside a sector a locality lists, where another lists the whole district
    # (the longest prefix must win), else any listed district.
    listed = [(p, prefix) for p in places for prefix in p.get("postcodes") or ()]
    assert listed, "the demo localities list postcodes"
    place, prefix = next(((p, x) for p, x in listed if " " in x), listed[0])
    postcode = (prefix + "AB") if " " in prefix else (prefix + " 1AB")
    expected = locality_for_postcode(store, postcode)
    assert expected.found and expected.locality["id"] == place["id"]

    dash_duo.start_server(app)
    open_pathways(dash_duo)
    pick_worker_by_name(dash_duo, worker)
    type_into(dash_duo, "pw-postcode", postcode.lower())
    dash_duo.wait_for_contains_text("#pw-postcode-problem", f"{place['name']}", timeout=20)
    assert "locality set" in dash_duo.find_element("#pw-postcode-problem").text
    assert checked_locality(dash_duo) == place["name"]
    expect_count(dash_duo, store, worker, PathwayFilter(locality=place["id"]))
    check_page(dash_duo, "postcode found")

    # The button does the same as Enter.
    other = next((p for p in places if p["id"] != place["id"] and p.get("postcodes")), None)
    if other is not None:
        second = other["postcodes"][0]
        second = second + ("AB" if " " in second else " 2CD")
        box = dash_duo.find_element("#pw-postcode")
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(Keys.DELETE)
        box.send_keys(second)
        tab_to(dash_duo, "#pw-postcode-button")
        press(dash_duo, Keys.ENTER)
        dash_duo.wait_for_contains_text("#pw-postcode-problem", other["name"], timeout=20)
        assert checked_locality(dash_duo) == other["name"]
        place = other

    # An unknown postcode and a mistyped one: plain messages; the locality stays as it was.
    for typed in ("ZZ9 9ZZ", "12345"):
        type_into(dash_duo, "pw-postcode", typed)
        message = locality_for_postcode(store, typed).message
        dash_duo.wait_for_contains_text("#pw-postcode-problem", message[1:30], timeout=20)
        assert checked_locality(dash_duo) == place["name"]
    check_page(dash_duo, "postcode unknown")
    assert "ZZ9" not in dash_duo.driver.current_url and "AB" not in dash_duo.driver.current_url
    assert severe(dash_duo) == []


# --- 5b. days and times ---------------------------------------------------------------------

@browser
def test_days_and_times_narrow_the_list_and_unreadable_ones_are_explained(dash_duo, demo_app_each_store):
    app, store = demo_app_each_store
    worker = worker_with_choice(store)
    dash_duo.start_server(app)
    open_pathways(dash_duo)
    pick_worker_by_name(dash_duo, worker)

    typed = "Tuesday mornings; Thu 1-3pm"
    type_into(dash_duo, "pw-times", typed)
    slots = parse_times(typed)
    dash_duo.wait_for_contains_text("#pw-times-problem", "Read as: Tuesday 08:00-12:00",
                                    timeout=20)
    found = expect_count(dash_duo, store, worker, PathwayFilter(times=slots))
    assert len(found) < len(pathways_from(store, worker["id"])["activities"])
    check_page(dash_duo, "times read")

    # A misspelt day: said next to the box, in plain English, with the likely day.
    type_into(dash_duo, "pw-times", "Thrusday")
    dash_duo.wait_for_contains_text("#pw-times-problem", "did you mean Thursday", timeout=20)
    dash_duo.wait_for_contains_text("#pw-message", "could not be read", timeout=20)
    check_page(dash_duo, "times not understood")
    assert "Thrusday" not in dash_duo.driver.current_url
    type_into(dash_duo, "pw-times", "")
    expect_count(dash_duo, store, worker, PathwayFilter())
    assert severe(dash_duo) == []


# --- 6. the page's address ------------------------------------------------------------------

@browser
def test_address_keeps_filters_and_shortlist_for_reload_and_back_never_the_person(
        dash_duo, demo_app_each_store):
    app, store = demo_app_each_store
    worker = worker_with_choice(store)
    need = store.list_nodes(NodeKind.NEED)[0]
    dash_duo.start_server(app)
    open_pathways(dash_duo)
    pick_worker_by_name(dash_duo, worker)
    type_into(dash_duo, "pw-age", "44")
    type_into(dash_duo, "pw-times", "weekdays")
    expect_count(dash_duo, store, worker, PathwayFilter(age=44, times=parse_times("weekdays")))
    type_into(dash_duo, "pw-age", "")
    type_into(dash_duo, "pw-times", "")

    focus_first(dash_duo)
    tab_to(dash_duo, "#pw-needs")
    press(dash_duo, need["name"][:4])
    press(dash_duo, Keys.SPACE)
    found = expect_count(dash_duo, store, worker, PathwayFilter(needs=(need["id"],)))
    assert found, "the demo worker should reach something for the first need"
    select_row(dash_duo, 0, found[0]["name"])
    tick_shortlist(dash_duo, found[0]["name"])

    def address() -> dict:
        return parse_qs(urlsplit(dash_duo.driver.current_url).query)

    until(dash_duo, lambda: "shortlist" in address())
    query = address()
    assert query["worker"] == [worker["id"]] and query["needs"] == [need["id"]]
    assert parse_shortlist(query["shortlist"][0])[1] == (found[0]["id"],)
    assert set(query) <= {"worker", "needs", "places", "access", "free", "self_referral",
                          "hops", "shortlist"}, query
    assert "44" not in app_address(dash_duo)

    # Free only, then Back: the address and the form return to the need alone.
    focus_first(dash_duo)
    tab_to(dash_duo, "#pw-free")
    press(dash_duo, Keys.SPACE)
    expect_count(dash_duo, store, worker, PathwayFilter(needs=(need["id"],), free_only=True))
    until(dash_duo, lambda: address().get("free") == ["1"])
    dash_duo.driver.back()
    until(dash_duo, lambda: "free" not in address())
    expect_count(dash_duo, store, worker, PathwayFilter(needs=(need["id"],)))
    assert not dash_duo.find_element("#pw-free input").is_selected()

    # Reopened from the address: the same worker, need and shortlist.
    url = dash_duo.driver.current_url
    dash_duo.driver.get(f"{dash_duo.server_url}/gaps")
    dash_duo.wait_for_contains_text("h1", "Gaps", timeout=20)
    dash_duo.driver.get(url)
    expect_count(dash_duo, store, worker, PathwayFilter(needs=(need["id"],)))
    dash_duo.wait_for_contains_text("#pw-shortlist-view", found[0]["name"], timeout=20)
    ticked = [e.get_attribute("value") for e in
              dash_duo.find_elements("#pw-needs input") if e.is_selected()]
    assert ticked == [need["id"]]
    check_page(dash_duo, "reopened from the address")
    assert severe(dash_duo) == []


# --- the server trusts nothing the browser sends back (forged callback requests) -----------

@pytest.fixture
def web(store):
    """(app, Flask test client, store) on test_app_security's small graph, as a browser would
    reach it; once on each store."""
    from tests.conftest import load_data
    from tests.integration.test_app_security import GRAPH

    load_data(store, GRAPH)
    set_store(store)
    from app import app

    client = app.server.test_client()
    assert client.get("/").status_code == 200  # registers the pages' callbacks
    yield app, client, store
    set_store(None)


def _response(text: str) -> dict:
    import json

    return json.loads(text).get("response", {})


def test_forged_shortlist_ticks_keep_only_the_workers_matching_activities(web):
    """Ticking sends the selected row's id: a person's id, or an activity the worker does not
    reach, never gets onto the shortlist."""
    from tests.integration.test_app_security import PATHWAY_FORM, call

    for forged in ("pl", "walk-does-not-exist"):
        status, text = call(web, "pw-shortlist.data", {
            **PATHWAY_FORM, "pw-pick.value": [forged], "pw-table.selectedRows": [{"id": forged}],
            "pw-shortlist.data": []}, changed=["pw-pick.value"])
        assert status in (200, 204), text
        assert forged not in text
    status, text = call(web, "pw-shortlist.data", {
        **PATHWAY_FORM, "pw-pick.value": ["art"], "pw-table.selectedRows": [{"id": "art"}],
        "pw-shortlist.data": []}, changed=["pw-pick.value"])
    assert status == 200 and _response(text)["pw-shortlist"]["data"] == ["art"]


def test_forged_shortlist_shows_and_links_only_activities(web):
    from tests.integration.test_app_security import OFF_ROUTE_TO_ART, call, links

    status, text = call(web, "pw-shortlist-view.children", {
        "pw-shortlist.data": ["pl", "art", "nope"], "pw-worker.value": "lw",
        "pw-hops.value": 4})
    assert status == 200
    assert "Art Club" in text and "Pat Lead" not in text
    assert not [c for c in OFF_ROUTE_TO_ART if c in text]
    href = next(h for h in links(text) if h.startswith("/shortlist"))
    token = parse_qs(urlsplit(href).query)["shortlist"][0]
    assert parse_shortlist(token) == ("lw", ("art",), ())


def test_forged_search_hit_reveals_nothing_about_a_person(web):
    """Choosing a hit sends its id back: a person's id gets no details, a real activity the
    worker reaches is selected from the server's own rows."""
    import json

    from tests.integration.test_app_security import PATHWAY_FORM

    app, client, _store = web
    key = next(k for k in app.callback_map if "pw-search-message.children" in k
               and "pw-table.selectedRows" in k)
    spec = app.callback_map[key]

    def choose(node_id: str, **form) -> tuple[int, str]:
        hit = {"index": node_id, "type": "pw-hit"}
        body = {
            "output": key,
            "outputs": [{"id": i.split(".")[0], "property": i.split(".")[1].split("@")[0]}
                        for i in key.strip(".").split("...")],
            "inputs": [[{"id": hit, "property": "n_clicks", "value": 1}]],
            "state": [{"id": d["id"], "property": d["property"],
                       "value": {**PATHWAY_FORM, **form}.get(f"{d['id']}.{d['property']}")}
                      for d in spec["state"]],
            "changedPropIds": [json.dumps(hit, separators=(",", ":"), sort_keys=True)
                               + ".n_clicks"],
        }
        response = client.post("/_dash-update-component", json=body)
        return response.status_code, response.get_data(as_text=True)

    status, text = choose("pl")
    assert status in (200, 204), text
    assert "07700 900999" not in text and "secret.lead" not in text and "Traceback" not in text
    status, text = choose("art")
    assert status == 200, text
    answer = _response(text)
    assert [r["id"] for r in answer["pw-table"]["selectedRows"]] == ["art"]
    assert "Art Club" in json.dumps(answer["pw-search-message"])

    # Reached but filtered out: which filter says so; too far: how far it is.
    status, text = choose("walk", **{"pw-locality.value": "loc"})
    assert status == 200 and "it does not meet: where the activity is" in text
    assert "selectedRows" not in text
    status, text = choose("walk", **{"pw-hops.value": 1})
    walk = pathways_from(web[2], "lw", PathwayFilter(), 4)["activities"]
    hops = next(a["hops"] for a in walk if a["id"] == "walk")
    assert "cannot reach" in text and f"it is {hops} hops away" in text


def test_referral_sheet_from_a_tampered_address_drops_what_is_not_an_activity(web):
    """The sheet's address can be edited by anyone: a person's id put among the activities
    is dropped (and said), their contacts never shown; the real option's contacts are."""
    from pathways.analysis.shortlist import encode_shortlist
    from tests.integration.test_app_security import ON_ROUTE_TO_ART, call

    token = encode_shortlist(["pl", "art"], "lw")
    status, text = call(web, "_pages_content.children", {
        "_pages_location.pathname": "/shortlist", "_pages_location.search": f"?shortlist={token}"})
    assert status == 200
    assert "07700 900999" not in text and "secret.lead@example.org" not in text
    assert "Art Club" in text and "no longer in the data" in text
    assert not [c for c in ON_ROUTE_TO_ART if c not in text]
    # A person as the "link worker": refused plainly, no sheet.
    token = encode_shortlist(["art"], "pl")
    status, text = call(web, "_pages_content.children", {
        "_pages_location.pathname": "/shortlist", "_pages_location.search": f"?shortlist={token}"})
    assert status == 200 and "07700 900999" not in text and "Art Club" not in text
