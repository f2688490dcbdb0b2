"""Sign-in, roles, CSRF, the sign-in rate limit, the SSO proxy mode and share links (issue 16
items 4 and 5), through HTTP as a browser sends it (Flask's test client, the Dash callback
requests built as the renderer builds them), on both stores.

Each test gets its own ``PATHWAYS_HOME`` with one account per role; the app reads its
accounts, secret and share links from there at every request.
"""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import urlsplit

import pytest

from pages import login as login_page
from pages._access import AccessDenied, Role, require
from pathways.accounts import Accounts
from pathways.config import Settings
from pathways.share_links import ShareLinks
from pathways.webstore import set_store
from tests.conftest import load_data
from tests.integration.test_app_security import (
    GRAPH,
    OFF_ROUTE_TO_ART,
    ON_ROUTE_TO_ART,
    PATHWAY_FORM,
    call,
)

PASSWORD = "a long enough password"
ROLES = {"vic": "viewer", "lin": "link-worker", "eddie": "editor", "ada": "admin"}
CONTACTS = ON_ROUTE_TO_ART + OFF_ROUTE_TO_ART
DETAILS = {**PATHWAY_FORM, "pw-table.selectedRows": [{"id": "art"}],
           "pw-table.rowData": [{"id": "art"}]}


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A PATHWAYS_HOME with one account per role (and the sign-in throttle forgotten)."""
    folder = tmp_path / "home"
    monkeypatch.setenv("PATHWAYS_HOME", str(folder))
    monkeypatch.delenv("PATHWAYS_TRUSTED_HEADERS", raising=False)
    accounts = Accounts(Settings.from_env().accounts_file)
    for name, role in ROLES.items():
        accounts.add(name, role, PASSWORD)
    login_page.THROTTLE.reset()
    yield folder
    login_page.THROTTLE.reset()


def _serve(store):
    load_data(store, GRAPH)
    set_store(store)
    from app import app

    yield app, app.server.test_client(), store
    set_store(None)


@pytest.fixture
def web(embedded_store, home):
    """(app, test client, store) with accounts: the sign-in machinery, which does not depend
    on the store, is tested once, on the embedded store."""
    yield from _serve(embedded_store)


@pytest.fixture
def web_both(store, home):
    """The same on each store: what each role sees depends on the store's answers."""
    yield from _serve(store)


def fresh(web):
    """The same app, a new browser (no cookies)."""
    app, _client, store = web
    return app, app.server.test_client(), store


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def sign_in(web, name: str, password: str = PASSWORD, next_path: str = "/"):
    """Fill in and send the sign-in form; afterwards the client sends the session's CSRF
    token with every request, as dash-renderer does from the _csrf_token cookie."""
    _app, client, _store = web
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"name": name, "password": password,
                                           "next": next_path, "csrf_token": token})
    cookie = client.get_cookie("_csrf_token")
    if cookie is not None:
        client.environ_base["HTTP_X_CSRFTOKEN"] = cookie.value
    return response


def page(web, path: str, search: str = ""):
    """A page's content as Dash's page router sends it (the layout for ``path``)."""
    return call(web, "_pages_content.children", {"_pages_location.pathname": path,
                                                  "_pages_location.search": search})


def shown(text: str, found: list[str]) -> list[str]:
    return [c for c in found if c in text]


# --- without accounts nothing changes; with them, everything needs a sign-in ----------------

def test_without_accounts_the_local_user_is_an_admin_and_needs_no_token(store, tmp_path,
                                                                        monkeypatch):
    """On each store: the local app behaves as before accounts existed."""
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path / "empty-home"))
    load_data(store, GRAPH)
    set_store(store)
    from app import app

    web = (app, app.server.test_client(), store)
    try:
        assert web[1].get("/").status_code == 200
        status, text = call(web, "pw-details.children", DETAILS)  # no CSRF token, no session
        assert status == 200
        assert shown(text, ON_ROUTE_TO_ART) == ON_ROUTE_TO_ART
    finally:
        set_store(None)
    assert not (tmp_path / "empty-home" / "server-secret").exists()  # no session kept


def test_without_accounts_only_this_computer_is_answered(embedded_store, tmp_path, monkeypatch):
    """gunicorn --bind 0.0.0.0 without accounts: another computer gets nothing."""
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path / "empty-home"))
    load_data(embedded_store, GRAPH)
    set_store(embedded_store)
    from app import app

    try:
        client = app.server.test_client()
        assert client.get("/").status_code == 200
        for address in ("10.0.0.9", "192.168.1.20", "2001:db8::1"):
            client.environ_base["REMOTE_ADDR"] = address
            refused = client.get("/")
            assert refused.status_code == 403
            assert "answers only the computer it runs on" in refused.get_data(as_text=True)
            status, text = call((app, client, embedded_store), "pw-details.children", DETAILS)
            assert status == 403 and shown(text, CONTACTS) == []
    finally:
        set_store(None)


def test_with_accounts_pages_and_callbacks_need_a_sign_in(web):
    _app, client, _store = web
    response = client.get("/gaps?hops=3")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/gaps%3Fhops%3D3"
    refused = client.get("/_dash-layout")
    assert refused.status_code == 401
    assert refused.headers["X-Pathways-Sign-In"] == "required"  # the page's script signs in
    client.environ_base["HTTP_X_CSRFTOKEN"] = client.get_cookie("_csrf_token").value
    status, text = call(web, "pw-details.children", DETAILS)
    assert status == 401
    assert shown(text, CONTACTS) == []
    assert client.get("/assets/style.css").status_code == 200  # the sign-in page's styles


def test_sign_in_goes_back_to_the_page_asked_for_and_sign_out_ends_the_session(web):
    _app, client, _store = web
    response = sign_in(web, "eddie", next_path="/gaps?hops=3")
    assert (response.status_code, response.headers["Location"]) == (302, "/gaps?hops=3")
    layout = client.get("/_dash-layout").get_data(as_text=True)
    assert "Signed in as eddie (editor)" in layout
    cookie = client.get_cookie("pathways_session")
    assert cookie.http_only and cookie.same_site == "Lax" and not cookie.secure
    token = client.get_cookie("_csrf_token").value
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302  # signed out: back to the sign-in page


def test_a_wrong_password_or_unknown_name_is_refused_in_the_same_words(web):
    wrong = sign_in(web, "eddie", "not the password")
    unknown = sign_in(fresh(web), "nobody", PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "That account name and password do not match" in response.get_data(as_text=True)
    assert web[1].get("/").status_code == 302


def test_sign_in_never_sends_you_to_another_site(web):
    response = sign_in(web, "vic", next_path="//evil.example/phish")
    assert urlsplit(response.headers["Location"]).netloc == ""
    assert response.headers["Location"] == "/"


def test_secure_cookies_setting_marks_both_cookies_secure(web, monkeypatch):
    monkeypatch.setenv("PATHWAYS_SECURE_COOKIES", "1")
    sign_in(web, "vic")
    client = web[1]
    assert client.get_cookie("pathways_session").secure
    assert client.get_cookie("_csrf_token").secure


def test_an_idle_session_ends(web, monkeypatch):
    sign_in(web, "lin")
    assert web[1].get("/").status_code == 200
    import pages._access as access

    later = access.time.time() + 61 * 60  # the default idle limit is 60 minutes
    monkeypatch.setattr(access, "time", type("Clock", (), {"time": staticmethod(lambda: later)}))
    assert web[1].get("/").status_code == 302


def test_a_new_role_or_a_removed_account_applies_at_the_next_request(web, home):
    sign_in(web, "lin")
    accounts = Accounts(home / "accounts.json")
    accounts.set_role("lin", "viewer")
    assert shown(call(web, "pw-details.children", DETAILS)[1], CONTACTS) == []
    accounts.remove("lin")
    assert web[1].get("/").status_code == 302


# --- CSRF --------------------------------------------------------------------------------------

def test_a_callback_without_the_csrf_token_is_refused(web):
    sign_in(web, "lin")
    client = web[1]
    token = client.environ_base.pop("HTTP_X_CSRFTOKEN")
    status, text = call(web, "pw-details.children", DETAILS)
    assert status == 400 and "security token" in text
    assert shown(text, CONTACTS) == []
    client.environ_base["HTTP_X_CSRFTOKEN"] = "forged" + token
    assert call(web, "pw-details.children", DETAILS)[0] == 400
    client.environ_base["HTTP_X_CSRFTOKEN"] = token
    status, text = call(web, "pw-details.children", DETAILS)
    assert status == 200 and shown(text, ON_ROUTE_TO_ART) == ON_ROUTE_TO_ART


def test_the_sign_in_and_sign_out_forms_need_the_csrf_token(web):
    _app, client, _store = web
    client.get("/login")
    response = client.post("/login", data={"name": "ada", "password": PASSWORD, "next": "/"})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # not signed in
    sign_in(web, "ada")
    client.environ_base.pop("HTTP_X_CSRFTOKEN")
    assert client.post("/logout").status_code == 400  # another site cannot sign you out
    assert client.get("/").status_code == 200


def test_a_state_changing_request_from_another_site_is_refused_even_without_accounts(
        embedded_store, tmp_path, monkeypatch):
    store = embedded_store
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path / "empty-home"))
    load_data(store, GRAPH)
    set_store(store)
    from app import app

    try:
        client = app.server.test_client()
        client.environ_base["HTTP_ORIGIN"] = "https://evil.example"
        status, text = call((app, client, store), "pw-details.children", DETAILS)
        assert status == 403 and shown(text, CONTACTS) == []
    finally:
        set_store(None)


# --- the sign-in rate limit --------------------------------------------------------------------

def test_the_sixth_wrong_password_is_refused_and_the_right_one_too_until_the_wait_ends(
        web, monkeypatch):
    import pathways.accounts as accounts_module

    now = [1_000_000.0]
    monkeypatch.setattr(accounts_module, "time", type("Clock", (), {"time": staticmethod(
        lambda: now[0])}))
    for attempt in range(5):
        assert sign_in(fresh(web), "eddie", f"guess {attempt}").status_code == 401
    locked = sign_in(web, "eddie", PASSWORD)
    text = locked.get_data(as_text=True)
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in text and re.search(r"Try again at \d\d:\d\d UTC \(in 15 minutes\)", text)
    assert web[1].get("/").status_code == 302  # the right password did not sign in
    now[0] += 15 * 60 + 1
    assert sign_in(web, "eddie", PASSWORD).status_code == 302
    assert web[1].get("/").status_code == 200


def test_the_rate_limit_counts_per_address_across_account_names(web):
    for name in ("a1", "a2", "a3", "a4", "a5"):
        assert sign_in(fresh(web), name, "guess").status_code == 401
    assert sign_in(web, "ada", PASSWORD).status_code == 429  # same address, another name
    other = fresh(web)
    other[1].environ_base["REMOTE_ADDR"] = "10.0.0.9"
    assert sign_in(other, "ada", PASSWORD).status_code == 302


# --- what each role sees and may do --------------------------------------------------------------

@pytest.mark.parametrize("name", list(ROLES))
def test_contacts_on_the_pathways_page_only_for_link_workers_and_above(web_both, name):
    sign_in(web_both, name)
    status, details = call(web_both, "pw-details.children", DETAILS,
                           changed=["pw-table.selectedRows"])
    assert status == 200
    _status, node = call(web_both, "pw-node.children", {**PATHWAY_FORM,
                                                   "pw-graph.tapNodeData": {"id": "svc"}},
                         changed=["pw-graph.tapNodeData"])
    if ROLES[name] == "viewer":
        assert shown(details, CONTACTS) == [] and shown(node, CONTACTS) == []
        assert "Contact details are shown to link workers" in details
        assert "Arts on Prescription" in node  # the node's details, without its contacts
    else:
        assert shown(details, ON_ROUTE_TO_ART) == ON_ROUTE_TO_ART
        assert "01422 300003" in node and "svc@example.org" in node


def _sheet_search() -> str:
    from pages._referral import sheet_address

    return "?" + sheet_address("lw", ["art"]).split("?", 1)[1]


@pytest.mark.parametrize("name", ["vic", "lin"])
def test_the_referral_sheet_opens_for_link_workers_not_viewers(web_both, name):
    sign_in(web_both, name)
    status, text = page(web_both, "/shortlist", _sheet_search())
    assert status == 200
    if name == "vic":
        assert "only link workers and above can open them" in text
        assert shown(text, CONTACTS) == [] and "Art Club" not in text
    else:
        assert "Art Club" in text and shown(text, ON_ROUTE_TO_ART) == ON_ROUTE_TO_ART


def _upload_body() -> dict:
    csv_text = "id,name,kind\norg-new,New Arts Group,cultural\n"
    encoded = base64.b64encode(csv_text.encode()).decode()
    return {"data-upload.contents": [f"data:text/csv;base64,{encoded}"],
            "data-upload.filename": ["organisations.csv"]}


@pytest.mark.parametrize(("name", "refused"), [("vic", True), ("lin", True), ("eddie", False)])
def test_upload_is_refused_for_viewers_and_link_workers(web_both, name, refused):
    _app, _client, store = web_both
    sign_in(web_both, name)
    status, text = call(web_both, "data-upload-result.children", _upload_body(),
                        changed=["data-upload.contents"])
    assert status == 200
    assert ("Only editors and above can upload data" in text) is refused
    assert store.get_node("org-new") is None  # a preview (at most) changes nothing


@pytest.mark.parametrize(("name", "refused"), [("lin", True), ("eddie", True), ("ada", False)])
def test_undo_is_refused_below_admin(web, name, refused):
    sign_in(web, name)
    status, text = call(web, "hist-confirm-text.children",
                        {"hist-table.selectedRows": [{"id": "no-such-load"}]},
                        changed=["hist-undo.n_clicks"])
    assert status == 200
    assert ("Only admins and above can undo a load" in text) is refused
    assert ("Pick a load in the table first" in text) is not refused


def test_require_refuses_below_the_role_in_a_request(web):
    app, _client, _store = web
    from flask import g

    with app.server.test_request_context("/"):
        g.pathways_role = int(Role.LINK_WORKER)
        require(Role.LINK_WORKER, "see contacts")
        for role, what in ((Role.EDITOR, "upload data"), (Role.ADMIN, "undo a load")):
            with pytest.raises(AccessDenied, match=f"Only {role.label}s and above can {what}; "
                                                   "you are signed in as a link worker"):
                require(role, what)


# --- share links -------------------------------------------------------------------------------

def make_link(web, view: str, days: int = 7) -> tuple[int, str]:
    status, text = call(web, "share-result.children", {
        "share-view.data": {"view": view, "clicks": 1}, "share-days.value": days},
        changed=["share-view.data"])
    return status, text


def test_only_editors_and_above_make_share_links(web, home):
    sign_in(web, "lin")
    _status, text = make_link(web, "/gaps?hops=3")
    assert "Only editors and above can share views" in text
    assert ShareLinks(home / "share-links.json", b"x" * 64).list() == []
    layout = web[1].get("/_dash-layout").get_data(as_text=True)
    assert "Share this view" not in layout
    sign_in(web, "eddie")
    assert "Share this view" in web[1].get("/_dash-layout").get_data(as_text=True)


def test_a_share_link_opens_its_view_as_a_viewer_until_it_is_revoked(web_both, home):
    sign_in(web_both, "eddie")
    status, text = make_link(web_both, "/?worker=lw&hops=4")
    assert status == 200
    address = re.search(r"https?://[^\"\s]+/s/[A-Za-z0-9._-]+", text).group(0)
    [link] = ShareLinks(home / "share-links.json", b"unused").list()
    assert (link.path, link.query, link.created_by) == ("/", "worker=lw&hops=4", "eddie")

    visitor = fresh(web_both)
    _app, client, _store = visitor
    opened = client.get(urlsplit(address).path)
    assert (opened.status_code, opened.headers["Location"]) == (302, "/?worker=lw&hops=4")
    assert client.get("/?worker=lw&hops=4").status_code == 200
    assert "Viewing a shared link" in client.get("/_dash-layout").get_data(as_text=True)
    client.environ_base["HTTP_X_CSRFTOKEN"] = client.get_cookie("_csrf_token").value
    status, details = call(visitor, "pw-details.children", DETAILS)
    assert status == 200 and "Art Club" in details and shown(details, CONTACTS) == []
    # Only that view: another page needs a sign-in, as a page and through Dash's router.
    assert client.get("/gaps").headers["Location"].startswith("/login")
    assert page(visitor, "/gaps")[0] == 403
    assert page(visitor, "/")[0] == 200
    # nor another page's callbacks (the Gaps report's download), forged by hand
    assert call(visitor, "gp-download.data", {"gp-download-button.n_clicks": 1,
                                              "gp-hops.value": 4})[0] == 403
    assert "Only editors and above" in make_link(visitor, "/gaps")[1]

    from click.testing import CliRunner

    from pathways.cli import cli

    listed = CliRunner().invoke(cli, ["share", "list"])
    assert link.id in listed.output and "active" in listed.output
    revoked = CliRunner().invoke(cli, ["share", "revoke", link.id])
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/?worker=lw&hops=4").status_code == 302  # closed at once
    again = fresh(web_both)[1].get(urlsplit(address).path)
    assert again.status_code == 404 and "was revoked" in again.get_data(as_text=True)


def test_a_tampered_or_expired_share_link_opens_nothing(web, home):
    import datetime as dt

    from pages._access import share_links

    links = share_links(Settings.from_env())
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=8)
    _link, expired = links.create("/gaps", 7, "eddie", now=past)
    _link, good = links.create("/gaps", 7, "eddie")
    client = fresh(web)[1]
    assert "was expired" in client.get(f"/s/{expired}").get_data(as_text=True)
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    response = client.get(f"/s/{tampered}")
    assert response.status_code == 404 and "not valid" in response.get_data(as_text=True)
    assert client.get("/gaps").status_code == 302


def test_share_links_refuse_other_sites_and_unknown_pages(web):
    sign_in(web, "ada")
    assert "Only a page of this app can be shared" in make_link(web, "/no-such-page")[1]
    assert "cannot be shared" in make_link(web, "https://evil.example/")[1]
    assert "from 1 to 90" in make_link(web, "/gaps", days=365)[1]


# --- the single sign-on proxy's headers ------------------------------------------------------------

def test_trusted_headers_are_ignored_unless_the_proxy_mode_is_on(web):
    client = web[1]
    client.environ_base.update({"HTTP_X_FORWARDED_USER": "mallory",
                                "HTTP_X_FORWARDED_ROLE": "admin"})
    assert client.get("/").status_code == 302  # accounts mode: the headers mean nothing


def test_proxy_mode_takes_the_user_and_role_from_the_configured_headers(web, monkeypatch):
    monkeypatch.setenv("PATHWAYS_TRUSTED_HEADERS", "1")
    monkeypatch.setenv("PATHWAYS_USER_HEADER", "X-Remote-User")
    monkeypatch.setenv("PATHWAYS_ROLE_HEADER", "X-Remote-Role")
    client = web[1]
    assert client.get("/").status_code == 403  # no headers: not through the proxy
    client.environ_base.update({"HTTP_X_REMOTE_USER": "sam", "HTTP_X_REMOTE_ROLE": "viewer"})
    assert client.get("/").status_code == 200
    assert "Signed in as sam (viewer)" in client.get("/_dash-layout").get_data(as_text=True)
    client.environ_base["HTTP_X_CSRFTOKEN"] = client.get_cookie("_csrf_token").value
    status, text = call(web, "pw-details.children", DETAILS)
    assert status == 200 and shown(text, CONTACTS) == []
    client.environ_base["HTTP_X_REMOTE_ROLE"] = "link-worker"
    assert shown(call(web, "pw-details.children", DETAILS)[1], ON_ROUTE_TO_ART) == ON_ROUTE_TO_ART
    client.environ_base["HTTP_X_REMOTE_ROLE"] = "superuser"
    assert client.get("/").status_code == 403


def test_the_accounts_file_and_secret_are_private_and_hold_no_password(web, home):
    sign_in(web, "vic")
    for name in ("accounts.json", "server-secret"):
        assert (home / name).stat().st_mode & 0o777 == 0o600
    stored = (home / "accounts.json").read_text()
    assert PASSWORD not in stored and "$argon2id$" in stored
    assert json.loads(stored)["accounts"]["vic"]["role"] == "viewer"
