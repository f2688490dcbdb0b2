"""Signing in and sharing in a real browser (headless Chromium), on the demo data: the sign-in
page done with the keyboard, WCAG 2.2 AA (axe) and no sideways scroll at 390 px; each role
sees contacts or not; an editor makes a share link, a visitor opens it without an account,
and it stops working when revoked.  Screenshots are saved under the test's tmp dir."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from pathways.accounts import Accounts
from pathways.config import Settings
from tests.integration.a11y import axe_violations, describe, horizontal_overflow
from tests.integration.test_accessibility import PHONE, set_size, settle

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password"
ROLES = {"vic": "viewer", "lin": "link-worker", "eddie": "editor"}


@pytest.fixture
def accounts(tmp_path, monkeypatch):
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PATHWAYS_TRUSTED_HEADERS", raising=False)
    found = Accounts(Settings.from_env().accounts_file)
    for name, role in ROLES.items():
        found.add(name, role, PASSWORD)
    from pages import login

    login.THROTTLE.reset()
    return found


def start(dash_duo, app) -> str:
    """Start the app and open it: with accounts, its address sends you to sign in (a page
    without Dash on it, so dash_duo's own wait for Dash would time out)."""
    dash_duo.start_server(app, navigate=False)
    url = dash_duo.server.url.rstrip("/")
    dash_duo.driver.get(url + "/")
    return url


def press(dash_duo, *keys) -> None:
    ActionChains(dash_duo.driver).send_keys(*keys).perform()


def sign_in_with_keyboard(dash_duo, name: str) -> None:
    """From the sign-in page: Tab to the name, type it, Tab, the password, Enter."""
    dash_duo.wait_for_element("#sign-in-form")
    for _ in range(10):
        press(dash_duo, Keys.TAB)
        if dash_duo.driver.switch_to.active_element.get_attribute("id") == "sign-in-name":
            break
    else:
        raise AssertionError("Tab never reached the account name")
    press(dash_duo, name, Keys.TAB, PASSWORD, Keys.ENTER)


def details_after_picking_an_activity(dash_duo) -> str:
    dash_duo.wait_for_contains_text("#pw-message", "can reach", timeout=30)
    cell = dash_duo.wait_for_element(
        "#pw-table .ag-center-cols-container .ag-row[row-index='0'] .ag-cell", timeout=30)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
    cell.click()
    dash_duo.wait_for_contains_text("#pw-details", "Route", timeout=30)
    settle(dash_duo)
    return dash_duo.find_element("#pw-details").text


def check_page(dash_duo, tmp_path, label: str) -> list[str]:
    """axe (serious and critical) and, at 390 px, no sideways scroll; a screenshot of each."""
    problems = []
    found = axe_violations(dash_duo.driver)
    if found:
        problems.append(f"{label}: {describe(found)}")
    dash_duo.driver.save_screenshot(str(tmp_path / f"{label}-desktop.png"))
    set_size(dash_duo.driver, PHONE)  # the page as a phone opens it
    dash_duo.driver.refresh()
    dash_duo.wait_for_element(".top-bar", timeout=20)
    if not dash_duo.find_elements("#sign-in-form"):
        dash_duo.wait_for_element("#main h1", timeout=20)
        settle(dash_duo)
        if dash_duo.find_elements("#share-control"):  # the share panel open, a link made
            dash_duo.find_element("#share-control summary").click()
            dash_duo.find_element("#share-make").click()
            dash_duo.wait_for_element("#share-link", timeout=20)
    overflow = horizontal_overflow(dash_duo.driver)
    if overflow:
        problems.append(f"{label}: {overflow} px wider than a phone")
    found = axe_violations(dash_duo.driver)
    if found:
        problems.append(f"{label} (phone): {describe(found)}")
    dash_duo.driver.execute_script("window.scrollTo(0, 0)")
    dash_duo.driver.save_screenshot(str(tmp_path / f"{label}-phone.png"))
    dash_duo.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return problems


def test_sign_in_page_is_accessible_and_works_with_the_keyboard(dash_duo, demo_app, accounts,
                                                                 tmp_path):
    app, _store = demo_app
    start(dash_duo, app)
    dash_duo.wait_for_element("#sign-in-form")  # the app's address sends you to sign in
    problems = check_page(dash_duo, tmp_path, "sign-in")
    sign_in_with_keyboard(dash_duo, "lin")
    dash_duo.wait_for_text_to_equal("#account-name", "Signed in as lin (link worker)", timeout=20)
    assert "@example.org" in details_after_picking_an_activity(dash_duo)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("name", ["vic", "lin"])
def test_each_role_sees_contacts_or_not(dash_duo, demo_app, accounts, name):
    app, _store = demo_app
    start(dash_duo, app)
    sign_in_with_keyboard(dash_duo, name)
    details = details_after_picking_an_activity(dash_duo)
    if ROLES[name] == "viewer":
        assert "@example.org" not in details
        assert "Contact details are shown to link workers" in details
    else:
        assert "@example.org" in details


def test_an_editor_shares_a_view_a_visitor_opens_it_until_it_is_revoked(dash_duo, demo_app,
                                                                          accounts, tmp_path):
    app, _store = demo_app
    url = start(dash_duo, app)
    sign_in_with_keyboard(dash_duo, "eddie")
    dash_duo.wait_for_text_to_equal("#account-name", "Signed in as eddie (editor)", timeout=20)
    dash_duo.wait_for_contains_text("#pw-message", "can reach", timeout=30)
    dash_duo.find_element("#share-control summary").click()
    dash_duo.find_element("#share-make").click()
    link = dash_duo.wait_for_element("#share-link", timeout=20).get_attribute("value")
    assert "/s/" in link
    settle(dash_duo)
    problems = check_page(dash_duo, tmp_path, "share-panel")

    dash_duo.find_element("#sign-out").click()  # now a visitor without an account
    dash_duo.wait_for_element("#sign-in-form")
    dash_duo.driver.get(link)
    dash_duo.wait_for_contains_text(".account-bar", "Viewing a shared link", timeout=20)
    assert "@example.org" not in details_after_picking_an_activity(dash_duo)
    problems += check_page(dash_duo, tmp_path, "shared-view")
    dash_duo.find_element(".top-bar nav a[href^='/gaps']").click()  # another page: sign in
    dash_duo.wait_for_element("#sign-in-form", timeout=20)
    assert "next=%2Fgaps" in dash_duo.driver.current_url
    dash_duo.driver.get(url + "/gaps")
    dash_duo.wait_for_element("#sign-in-form")

    from pages._access import share_links

    links = share_links(Settings.from_env())
    [made] = [m for m in links.list() if links.token(m) in link]
    links.revoke(made.id)
    dash_duo.driver.get(link)
    dash_duo.wait_for_contains_text("#sign-in-problem", "was revoked", timeout=20)
    assert problems == [], "\n".join(problems)
