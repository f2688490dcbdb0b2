"""WCAG 2.2 AA on every page, in the states a person reaches, on a desktop and on a phone.

axe-core (tests/integration/a11y.py) runs in the page after each step of a page's main task;
any serious or critical finding fails.  At 390 × 844 (a phone) the page must not scroll
sideways, the navigation must be on screen and readable, and every control a finger uses must
be at least 24 × 24 px; a screenshot of each state is saved under the test's tmp dir.
"""

from __future__ import annotations

import pytest

from tests.integration.a11y import axe_violations, describe, horizontal_overflow

pytestmark = pytest.mark.browser

DESKTOP = (1366, 900)
PHONE = (390, 844)
SIZES = {"desktop": DESKTOP, "phone": PHONE}


def set_size(driver, size: tuple[int, int]) -> None:
    """Emulate a screen of ``size`` CSS pixels (a phone is a touch screen with a phone's
    viewport, so the page's viewport meta and media queries apply)."""
    width, height = size
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def settle(dash_duo, timeout: float = 30) -> None:
    """Wait until the page has no callback in flight (a click during an update can be
    overwritten by the update's answer, as it would be for a person)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(dash_duo.driver, timeout, poll_frequency=0.2).until(
        lambda _driver: dash_duo._wait_for_callbacks())


def first_cell(dash_duo, grid: str):
    return dash_duo.wait_for_element(
        f"{grid} .ag-center-cols-container .ag-row[row-index='0'] .ag-cell", timeout=20)


def click_label(dash_duo, group: str, index: int) -> str:
    """Pick option ``index`` of a choice group: focus its control and press Space (a mouse
    click can land on the wrong option while the tables above it are still growing)."""
    from selenium.webdriver.common.keys import Keys

    label = dash_duo.find_elements(f"#{group} label")[index]
    control = label.find_element("css selector", "input")
    dash_duo.driver.execute_script("arguments[0].focus()", control)
    control.send_keys(Keys.SPACE)
    return label.text.strip()


def pathways_states(dash_duo, _store):
    dash_duo.wait_for_page(f"{dash_duo.server_url}/")
    dash_duo.wait_for_contains_text("#pw-message", "can reach", timeout=20)
    first_cell(dash_duo, "#pw-table")
    yield "initial"
    click_label(dash_duo, "pw-worker", 1)
    click_label(dash_duo, "pw-needs", 0)
    dash_duo.wait_for_contains_text("#pw-message", "can reach", timeout=20)
    yield "worker and need chosen"
    click_label(dash_duo, "pw-needs", 0)  # back to any need: the table has rows again
    dash_duo.wait_for_contains_text("#pw-message", "can reach", timeout=20)
    cell = first_cell(dash_duo, "#pw-table")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
    cell.click()
    dash_duo.wait_for_contains_text("#pw-details", "Route", timeout=20)
    yield "row selected"


def gaps_states(dash_duo, _store):
    dash_duo.wait_for_page(f"{dash_duo.server_url}/gaps")
    dash_duo.wait_for_contains_text("#gp-message", "cells with nothing reachable", timeout=30)
    first_cell(dash_duo, "#gp-spof")
    yield "initial"
    heatmap = dash_duo.find_elements("#gp-heatmap .nsewdrag")
    if heatmap and heatmap[0].is_displayed():
        from selenium.webdriver.common.action_chains import ActionChains

        plot = heatmap[0]
        dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", plot)
        ActionChains(dash_duo.driver).move_to_element(plot).pause(0.2).click().perform()
    else:  # on a phone the heatmap gives way to the table of cells
        cell = first_cell(dash_duo, "#gp-coverage")
        dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
        cell.click()
    dash_duo.wait_for_contains_text("#gp-cell", "activities", timeout=20)
    yield "coverage cell picked"
    cell = first_cell(dash_duo, "#gp-spof")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
    cell.click()
    dash_duo.wait_for_contains_text("#gp-highlight-label", "Highlighted:", timeout=20)
    yield "single point of failure selected"


def consortia_states(dash_duo, store):
    from pathways.analysis.consortia import Opportunity, consortia
    from pathways.model import NodeKind

    dash_duo.wait_for_page(f"{dash_duo.server_url}/consortia")
    dash_duo.wait_for_contains_text("#co-message", "cells no organisation covers", timeout=30)
    dash_duo.wait_for_element("#co-suggestions .card", timeout=20)
    yield "initial"
    # A second need (the page starts with the first need in the first two localities).
    needs = tuple(n["id"] for n in store.list_nodes(NodeKind.NEED)[:2])
    places = tuple(p["id"] for p in store.list_nodes(NodeKind.LOCALITY)[:2])
    report = consortia(store, Opportunity(needs, places))
    click_label(dash_duo, "co-needs", 1)
    first = report["suggestions"][0]["members"][-1]["name"]
    dash_duo.wait_for_contains_text("#co-graph-text", first, timeout=20)
    settle(dash_duo)
    last = len(report["suggestions"]) - 1
    click_label(dash_duo, "co-choice", last)
    chosen = report["suggestions"][last]["members"][-1]["name"]
    dash_duo.wait_for_contains_text("#co-graph-text", f"Suggestion {last + 1}", timeout=20)
    assert chosen in dash_duo.find_element("#co-graph-text").text
    yield "consortium chosen"


def data_states(dash_duo, _store):
    dash_duo.wait_for_page(f"{dash_duo.server_url}/data")
    dash_duo.wait_for_contains_text("#data-store", "embedded store", timeout=20)
    first_cell(dash_duo, "#data-nodes")
    yield "initial"


PAGES = {"pathways": pathways_states, "gaps": gaps_states, "consortia": consortia_states,
         "data": data_states}

SMALL_TARGETS = """
const small = [];
for (const el of document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, [role=button], .ag-paging-button')) {
  const box = el.getBoundingClientRect();
  if (!box.width || !box.height || getComputedStyle(el).visibility === 'hidden') continue;
  // A control inside a label counts with its label (the label is what a finger touches).
  const target = el.closest('label') ? el.closest('label').getBoundingClientRect() : box;
  // WCAG 2.5.8: at least 24 x 24, unless inline in a sentence of text.
  const inline = el.tagName === 'A' && getComputedStyle(el).display === 'inline'
                 && !el.classList.contains('nav-link');
  if (!inline && (target.width < 24 || target.height < 24))
    small.push((el.id || el.className || el.tagName) + ' ' + Math.round(target.width) + 'x'
               + Math.round(target.height));
}
return small;
"""

NAV_READABLE = """
return Array.from(document.querySelectorAll('.top-bar .nav-link')).map(a => {
  const box = a.getBoundingClientRect();
  const bar = document.querySelector('.top-bar').getBoundingClientRect();
  return {name: a.innerText, inside: box.left >= 0 && box.right <= window.innerWidth
          && box.top >= bar.top && box.bottom <= bar.bottom, colour: getComputedStyle(a).color};
});
"""


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("page", list(PAGES))
def test_page_has_no_serious_accessibility_findings(dash_duo, demo_app, page, size, tmp_path):
    app, store = demo_app
    dash_duo.start_server(app)
    set_size(dash_duo.driver, SIZES[size])
    findings = []
    for state in PAGES[page](dash_duo, store):
        found = axe_violations(dash_duo.driver)
        if found:
            findings.append(f"{page} ({state}, {size}):\n{describe(found)}")
        dash_duo.driver.save_screenshot(str(tmp_path / f"{page}-{size}-{state}.png"))
    assert findings == [], "\n".join(findings)


@pytest.mark.parametrize("page", list(PAGES))
def test_page_fits_a_phone(dash_duo, demo_app, page, tmp_path):
    """390 × 844: no sideways scrolling in any state, the menu on screen in the header's white
    on dark blue, and no control under 24 × 24 px."""
    app, store = demo_app
    dash_duo.start_server(app)
    set_size(dash_duo.driver, PHONE)
    problems = []
    for state in PAGES[page](dash_duo, store):
        shot = tmp_path / f"{page}-phone-{state}.png"
        dash_duo.driver.save_screenshot(str(shot))
        overflow = horizontal_overflow(dash_duo.driver)
        if overflow:
            problems.append(f"{state}: {overflow} px wider than the phone ({shot})")
        small = dash_duo.driver.execute_script(SMALL_TARGETS)
        if small:
            problems.append(f"{state}: touch targets under 24 px: {small[:6]}")
        nav = dash_duo.driver.execute_script(NAV_READABLE)
        if [n["name"] for n in nav] != ["Pathways", "Gaps", "Consortia", "Map", "Data", "History"]:
            problems.append(f"{state}: menu reads {nav}")
        off = [n for n in nav if not n["inside"] or n["colour"] != "rgb(255, 255, 255)"]
        if off:
            problems.append(f"{state}: menu links off the header or not white on blue: {off}")
    assert problems == [], "\n".join(problems)


FOCUS_RING = """
function rgb(c) {  // "rgb(r, g, b)", "rgba(r, g, b, a)" or "color(srgb r g b / a)" (0-1)
  const m = c.match(/[\\d.]+/g).map(Number);
  return c.startsWith('color(') ? m.map((v, i) => i < 3 ? v * 255 : v) : m;
}
function lum(c) {
  const [r, g, b] = rgb(c).slice(0, 3).map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function background(el) {  // the first opaque background behind el
  for (; el; el = el.parentElement) {
    const c = rgb(getComputedStyle(el).backgroundColor);
    if (c.length < 4 || c[3] > 0) return getComputedStyle(el).backgroundColor;
  }
  return 'rgb(255, 255, 255)';
}
const el = document.activeElement;
const ring = [el, el.closest('label'), el.closest('.ag-cell')].filter(Boolean).find(e => {
  const s = getComputedStyle(e);
  return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
});
const name = (el.id || el.className || el.tagName) + ' ' + (el.innerText || el.value || '').slice(0, 30);
if (!ring) return {name: name, ratio: 0};
const a = lum(getComputedStyle(ring).outlineColor), b = lum(background(ring.parentElement));
return {name: name, ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)};
"""


@pytest.mark.parametrize("path, ready", [("/", "#pw-message"), ("/gaps", "#gp-message"),
                                         ("/consortia", "#co-message")])
def test_every_focus_stop_shows_a_ring_of_three_to_one(dash_duo, demo_app, path, ready):
    """Tab through the page: each control the focus lands on has an outline at least 2 px
    wide whose colour contrasts 3:1 with what is around it (WCAG 2.4.7, 1.4.11)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    app, _store = demo_app
    dash_duo.start_server(app)
    set_size(dash_duo.driver, DESKTOP)
    dash_duo.wait_for_page(f"{dash_duo.server_url}{path}")
    dash_duo.wait_for_element(f"{ready} .summary", timeout=30)
    settle(dash_duo)
    weak, seen = [], set()
    for _ in range(30):
        ActionChains(dash_duo.driver).send_keys(Keys.TAB).perform()
        found = dash_duo.driver.execute_script(FOCUS_RING)
        seen.add(found["name"])
        if found["ratio"] < 3:
            weak.append(found)
    assert len(seen) > 10, seen
    assert weak == [], weak


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours.

    >>> round(contrast("#000000", "#ffffff"), 1)
    21.0
    """
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_heatmap_numbers_are_readable_on_every_colour(demo_app):
    """axe does not read text drawn in SVG, so the heatmap's own colours are checked here: the
    cell numbers are at least 12 px and 4.5:1 on each category's colour."""
    from pages.gaps import _heatmap
    from pathways.analysis.gaps import GapQuery, gap_report

    _app, store = demo_app
    trace = _heatmap(gap_report(store, GapQuery())).data[0]
    assert trace.textfont.size >= 12
    colours = {colour for _stop, colour in trace.colorscale}
    assert len(colours) == 4
    weak = {c: round(contrast(c, trace.textfont.color), 2) for c in colours
            if contrast(c, trace.textfont.color) < 4.5}
    assert weak == {}
