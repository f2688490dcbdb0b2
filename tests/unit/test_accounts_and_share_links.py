"""Accounts (argon2 hashes, 0600 files), share links (signed, expiring, revocable), the
``pathways users`` and ``pathways share`` commands, and where ``pathways serve`` may listen."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from pathways.accounts import Accounts, LoginThrottle, server_secret
from pathways.cli import cli, serving
from pathways.errors import PathwaysError
from pathways.share_links import ShareLinks

PASSWORD = "correct horse battery"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path))
    for name in ("PATHWAYS_TRUSTED_HEADERS", "PATHWAYS_STORE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def run(*args, stdin: str | None = None):
    return CliRunner().invoke(cli, list(args), input=stdin)


def test_accounts_keep_a_salted_hash_never_the_password(home):
    accounts = Accounts(home / "accounts.json")
    accounts.add("ann", "editor", PASSWORD)
    accounts.add("bob", "editor", PASSWORD)
    text = (home / "accounts.json").read_text()
    assert PASSWORD not in text
    assert (home / "accounts.json").stat().st_mode & 0o777 == 0o600
    hashes = [line for line in text.splitlines() if "$argon2id$" in line]
    assert len(set(hashes)) == 2  # the same password, two different salts
    assert accounts.verify("ann", PASSWORD).role == "editor"
    assert accounts.verify("ann", PASSWORD + "!") is None
    assert accounts.verify("nobody", PASSWORD) is None


@pytest.mark.parametrize(("name", "role", "password", "words"), [
    ("ann", "superuser", PASSWORD, "unknown role"),
    ("ann smith", "viewer", PASSWORD, "not allowed"),
    ("ann", "viewer", "short", "too short"),
])
def test_bad_accounts_are_refused_in_plain_words(home, name, role, password, words):
    accounts = Accounts(home / "accounts.json")
    with pytest.raises(PathwaysError, match=words):
        accounts.add(name, role, password)
    assert not accounts.configured()


def test_a_damaged_accounts_file_is_a_plain_error(home):
    (home / "accounts.json").write_text("{not json")
    with pytest.raises(PathwaysError, match="damaged"):
        Accounts(home / "accounts.json").configured()


def test_the_server_secret_is_made_once_and_kept_private(home):
    first = server_secret(home / "server-secret")
    assert server_secret(home / "server-secret") == first and len(first) >= 64
    assert (home / "server-secret").stat().st_mode & 0o777 == 0o600


def test_the_throttle_locks_after_the_limit_until_the_window_passes():
    throttle = LoginThrottle(limit=3, window=100)
    keys = ["account:ann", "address:1.2.3.4"]
    for second in (0, 10, 20):
        assert throttle.wait(keys, now=second) == 0
        throttle.failed(keys, now=second)
    assert throttle.wait(["address:1.2.3.4"], now=30) == 70
    assert throttle.wait(["account:other"], now=30) == 0
    assert throttle.wait(keys, now=99) == 1
    assert throttle.wait(keys, now=100) == 0  # the first failure is 100 seconds old


def test_share_links_are_signed_expire_and_can_be_revoked(home):
    links = ShareLinks(home / "share-links.json", server_secret(home / "server-secret"))
    link, token = links.create("/gaps?hops=3", 2, "eddie")
    assert links.open(token).view == "/gaps?hops=3"
    forged = ShareLinks(home / "share-links.json", b"another secret" * 8).token(link)
    with pytest.raises(PathwaysError, match="not valid"):
        links.open(forged)
    with pytest.raises(PathwaysError, match="expired"):
        links.open(token, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=3))
    links.revoke(link.id)
    with pytest.raises(PathwaysError, match="revoked"):
        links.open(token)
    with pytest.raises(PathwaysError, match="not a page of this app"):
        links.create("https://evil.example/x", 2, "eddie")
    with pytest.raises(PathwaysError, match="1 to 90 days"):
        links.create("/gaps", 0, "eddie")


def test_users_commands_add_list_change_and_remove(home):
    added = run("users", "add", "ann", "--role", "link-worker", "--password-stdin",
                stdin=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert "first account" in added.stderr
    assert Accounts(home / "accounts.json").verify("ann", PASSWORD) is not None
    prompted = run("users", "add", "bob", "--role", "viewer", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    listed = run("users", "list")
    assert [line.split() for line in listed.stdout.splitlines()[2:]] == [
        ["ann", "link-worker"], ["bob", "viewer"]]
    assert PASSWORD not in listed.output
    assert run("users", "set-role", "bob", "editor").exit_code == 0
    assert Accounts(home / "accounts.json").get("bob").role == "editor"
    again = run("users", "add", "bob", "--role", "viewer", "--password-stdin", stdin=PASSWORD)
    assert again.exit_code != 0 and "already an account" in str(again.exception)
    assert run("users", "remove", "ann").exit_code == 0
    last = run("users", "remove", "bob")
    assert "last account" in last.stderr
    assert not Accounts(home / "accounts.json").configured()


def test_users_add_asks_twice_and_refuses_a_mismatch(home):
    result = run("users", "add", "ann", "--role", "admin",
                 stdin=f"{PASSWORD}\n{PASSWORD}x\n")
    assert result.exit_code != 0
    assert "do not match" in result.output
    assert not Accounts(home / "accounts.json").configured()


def test_share_commands_list_and_revoke(home):
    links = ShareLinks(home / "share-links.json", server_secret(home / "server-secret"))
    link, token = links.create("/consortia", 5, "eddie")
    listed = run("share", "list")
    assert link.id in listed.stdout and "/consortia" in listed.stdout and "active" in listed.stdout
    assert run("share", "revoke", link.id).exit_code == 0
    assert "revoked" in run("share", "list").stdout
    with pytest.raises(PathwaysError):
        links.open(token)
    missing = run("share", "revoke", "nope")
    assert missing.exit_code != 0 and "no share link" in str(missing.exception)


class _App:
    """Stands in for the Dash app so serve's checks run without starting a server (its Flask
    server answers the request serve makes to ready Dash before real requests arrive)."""

    def __init__(self):
        import flask

        self.ran: dict = {}
        self.server = flask.Flask("stand-in")

    def run(self, **options):
        self.ran = options


@pytest.fixture
def served(home, monkeypatch):
    from pathways.analysis import warm

    app = _App()
    monkeypatch.setattr(serving, "web_app", lambda: app)
    monkeypatch.setattr(warm.Warmer, "start", lambda self: None)
    yield app
    import pages._access

    pages._access.configure(None)  # serve pinned its settings for the app's sign-in layer


def test_serve_without_accounts_binds_to_this_computer_and_says_everyone_is_admin(served):
    refused = run("serve", "--host", "0.0.0.0")
    assert refused.exit_code == 2
    assert "no accounts" in refused.output and "pathways users add" in refused.output
    assert served.ran == {}
    local = run("serve")
    assert local.exit_code == 0, local.output
    assert served.ran["host"] == "127.0.0.1"
    assert "everyone using it is an admin" in local.stderr


def test_serve_on_another_address_needs_accounts_or_the_proxy_mode(served, home, monkeypatch):
    Accounts(home / "accounts.json").add("ann", "admin", PASSWORD)
    with_accounts = run("serve", "--host", "0.0.0.0")
    assert with_accounts.exit_code == 0, with_accounts.output
    assert served.ran["host"] == "0.0.0.0" and "everyone signs in" in with_accounts.stderr
    Accounts(home / "accounts.json").remove("ann")
    monkeypatch.setenv("PATHWAYS_TRUSTED_HEADERS", "1")
    proxied = run("serve", "--host", "0.0.0.0")
    assert proxied.exit_code == 0, proxied.output
    assert "only that proxy can reach" in proxied.stderr
