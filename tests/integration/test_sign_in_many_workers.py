"""The sign-in limit with several worker processes, and the app behind a reverse proxy
(issue 18 items 6 and 7, security follow-ups), over real HTTP.

- ``pathways serve --workers 2``: five wrong passwords lock the account whichever workers
  they reach, a restart does not unlock it, and the right password works once the
  15 minutes have passed (the record's times moved back, as the clock would).
- Processes checking at the same moment: no more attempts get through than the limit.
- Without accounts (the local mode, everyone an admin) a request that came through a proxy,
  or that names another host (DNS rebinding), gets nothing.
- ``PATHWAYS_TRUSTED_PROXIES``: 0 ignores ``X-Forwarded-For`` (a client cannot rotate it to
  escape the per-address limit); 1 counts per client, as the proxy wrote the address.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from pages import login as login_page
from pathways.accounts import Accounts, LoginThrottle
from pathways.config import Settings
from pathways.webstore import set_store
from tests.conftest import load_data
from tests.integration.served import WorkersServer
from tests.integration.test_app_security import GRAPH

PASSWORD = "a long enough password"
LOCKED = "Too many failed sign-ins"


def sign_in(base: str, name: str, password: str, headers: dict | None = None) -> requests.Response:
    """A new browser (its own connection) fills in the sign-in form and sends it."""
    with requests.Session() as browser:
        browser.headers.update({"Connection": "close", **(headers or {})})
        form = browser.get(f"{base}/login", timeout=60).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token, form[:500]
        return browser.post(f"{base}/login", timeout=60, allow_redirects=False,
                            data={"name": name, "password": password, "next": "/",
                                  "csrf_token": token[1]})


# --- pathways serve --workers 2 -----------------------------------------------------------------

class Served(WorkersServer):
    """``pathways serve --workers 2`` on an (empty) embedded store with one account."""

    def __init__(self, home: Path, folder: Path) -> None:
        env = dict(os.environ, PATHWAYS_HOME=str(home), PATHWAYS_STORE="embedded")
        for name in ("PATHWAYS_TRUSTED_HEADERS", "PATHWAYS_TRUSTED_PROXIES"):
            env.pop(name, None)
        super().__init__(env, folder)

    def sign_in_workers(self, since: int = 0) -> set[int]:
        """Pids of the workers that answered sign-in forms (from request ``since`` on)."""
        return {pid for pid, method, path, _ in self.log_lines()[since:]
                if method == "POST" and path == "/login"}


@pytest.fixture
def served(tmp_path):
    home = tmp_path / "home"
    Accounts(home / "accounts.json").add("ada", "admin", PASSWORD)
    running = Served(home, tmp_path)
    running.start()
    yield running
    running.stop()


def five_guesses_across_both_workers(served, tries: int = 8) -> None:
    """Five wrong passwords for ada at once, each on its own connection, until both workers
    answered some of the same five.  Which worker accepts a connection is the kernel's and
    gunicorn's choice: on a busy machine one worker can take all five, and then the five
    failures are forgotten (as 15 minutes would) and the five sent again."""
    record = Settings.from_env({"PATHWAYS_HOME": served.env["PATHWAYS_HOME"]}).throttle_file
    for _ in range(tries):
        before = len(served.log_lines())
        with ThreadPoolExecutor(5) as pool:
            wrong = list(pool.map(lambda i: sign_in(served.base, "ada", f"guess number {i}"),
                                  range(5)))
        assert [answer.status_code for answer in wrong] == [401] * 5
        time.sleep(0.5)  # the access log is written after the answer
        if len(served.sign_in_workers(since=before)) == 2:
            return
        with sqlite3.connect(record) as connection:
            connection.execute("DELETE FROM failures")
        connection.close()
    pytest.fail(f"in {tries} tries, each five guesses at once reached only one worker")


def test_five_wrong_passwords_lock_the_account_across_workers_and_restarts(served):
    five_guesses_across_both_workers(served)

    sixth = sign_in(served.base, "ada", "guess number 6")
    assert sixth.status_code == 429 and LOCKED in sixth.text
    right = sign_in(served.base, "ada", PASSWORD)
    assert right.status_code == 429 and re.search(r"Try again at \d\d:\d\d UTC", right.text)

    served.stop()
    served.start()
    after_restart = sign_in(served.base, "ada", PASSWORD)
    assert after_restart.status_code == 429 and LOCKED in after_restart.text

    # 15 minutes later (the recorded failures made 15 minutes older, as the clock would)
    record = Settings.from_env({"PATHWAYS_HOME": served.env["PATHWAYS_HOME"]}).throttle_file
    with sqlite3.connect(record) as connection:
        connection.execute("UPDATE failures SET at = at - ?", (15 * 60 + 1,))
    connection.close()
    with requests.Session() as browser:
        form = browser.get(f"{served.base}/login", timeout=60).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token
        signed_in = browser.post(f"{served.base}/login", allow_redirects=False, timeout=60,
                                 data={"name": "ada", "password": PASSWORD, "next": "/",
                                       "csrf_token": token[1]})
        assert signed_in.status_code == 302
        assert browser.get(f"{served.base}/", allow_redirects=False, timeout=60).status_code == 200
    assert record.stat().st_mode & 0o777 == 0o600  # names and addresses: its owner's only


def _attempt(path: str, start_at: float) -> bool:
    """In another process: wait for the common start, then try once; True if let through."""
    while time.time() < start_at:
        time.sleep(0.001)
    wait, _ticket = LoginThrottle(limit=5, window=900, path=Path(path)).begin(
        ["account:ada", "address:192.0.2.1"])
    return wait == 0


def test_simultaneous_attempts_from_several_processes_get_no_more_than_the_limit(tmp_path):
    record = tmp_path / "sign-in-failures.sqlite3"
    LoginThrottle(path=record).prepare()
    with ProcessPoolExecutor(4) as pool:
        start_at = time.time() + 2  # every process started and waiting
        let_through = list(pool.map(_attempt, [str(record)] * 24, [start_at] * 24))
    assert sum(let_through) == 5
    # another account from another address is not affected
    assert LoginThrottle(path=record).wait(["account:bea", "address:192.0.2.2"]) == 0


# --- the app in this process, behind a real HTTP server -----------------------------------------

@pytest.fixture
def http_app(embedded_store, tmp_path, monkeypatch):
    """The app on the small graph, served over HTTP on a loopback port: ``(base, home)``."""
    home = tmp_path / "home"
    monkeypatch.setenv("PATHWAYS_HOME", str(home))
    for name in ("PATHWAYS_TRUSTED_HEADERS", "PATHWAYS_TRUSTED_PROXIES"):
        monkeypatch.delenv(name, raising=False)
    load_data(embedded_store, GRAPH)
    set_store(embedded_store)
    from app import app

    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", home
    finally:
        server.shutdown()
        thread.join(10)
        set_store(None)


PROXIED = [{"X-Forwarded-For": "203.0.113.5"}, {"Forwarded": "for=203.0.113.5;proto=https"},
           {"X-Real-IP": "203.0.113.5"}, {"X-Forwarded-Host": "pathways.example.org"},
           {"X-Forwarded-Proto": "https"}]


def test_without_accounts_a_request_through_a_proxy_gets_nothing(http_app):
    base, _home = http_app
    assert requests.get(f"{base}/", timeout=60).status_code == 200  # this computer, directly
    assert requests.get(f"{base}/_dash-layout", timeout=60).status_code == 200
    for headers in PROXIED:
        for path in ("/", "/_dash-layout", "/pathways"):
            refused = requests.get(f"{base}{path}", headers=headers, timeout=60)
            assert refused.status_code == 403, (headers, path)
            assert "came through a proxy" in refused.text
            assert "pathways users add" in refused.text and "single sign-on" in refused.text


def test_without_accounts_a_page_under_another_name_gets_nothing(http_app):
    """DNS rebinding: another site's name pointed at 127.0.0.1 reaches the port, but the
    browser sends that name as the Host."""
    base, _home = http_app
    port = base.rsplit(":", 1)[1]
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.nip.io:{port}"):
        refused = requests.get(f"{base}/_dash-layout", headers={"Host": host}, timeout=60)
        assert refused.status_code == 403, host
        assert "opened by that computer's own name" in refused.text
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", f"app.localhost:{port}"):
        assert requests.get(f"{base}/_dash-layout", headers={"Host": host},
                            timeout=60).status_code == 200, host


@pytest.fixture
def with_accounts(http_app):
    base, _home = http_app
    Accounts(Settings.from_env().accounts_file).add("ada", "admin", PASSWORD)
    login_page.THROTTLE.reset()
    return base


def test_forwarded_addresses_are_ignored_unless_proxies_are_trusted(with_accounts):
    """PATHWAYS_TRUSTED_PROXIES unset: a client that writes a new X-Forwarded-For each time
    still counts as the one address it connects from."""
    base = with_accounts
    for i in range(5):
        answer = sign_in(base, f"nobody{i}", "guess", {"X-Forwarded-For": f"198.51.100.{i}"})
        assert answer.status_code == 401
    locked = sign_in(base, "ada", PASSWORD, {"X-Forwarded-For": "198.51.100.99"})
    assert locked.status_code == 429 and LOCKED in locked.text


def test_with_one_trusted_proxy_the_limit_counts_per_client(with_accounts, monkeypatch):
    """Behind one proxy that appends the client's address (nginx's
    $proxy_add_x_forwarded_for): a client is locked out however it fills in the header
    itself, and another client is not."""
    base = with_accounts
    monkeypatch.setenv("PATHWAYS_TRUSTED_PROXIES", "1")
    for i in range(5):
        spoofed = {"X-Forwarded-For": f"10.9.9.{i}, 198.51.100.7"}  # its own value, then nginx's
        assert sign_in(base, f"nobody{i}", "guess", spoofed).status_code == 401
    again = sign_in(base, "ada", PASSWORD, {"X-Forwarded-For": "10.1.1.1, 198.51.100.7"})
    assert again.status_code == 429 and LOCKED in again.text
    other = sign_in(base, "ada", PASSWORD, {"X-Forwarded-For": "198.51.100.8"})
    assert other.status_code == 302  # another client signs in
    # and with the setting back at 0 everyone is the proxy's one address again
    monkeypatch.setenv("PATHWAYS_TRUSTED_PROXIES", "0")
    for i in range(5):
        sign_in(base, f"someone{i}", "guess", {"X-Forwarded-For": f"198.51.100.{20 + i}"})
    assert sign_in(base, "ada", PASSWORD, {"X-Forwarded-For": "198.51.100.8"}).status_code == 429
