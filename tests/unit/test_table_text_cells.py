"""Terminal tables print text cells as they are, never read as numbers.

tabulate reads any text that looks like a number as one: a share link id such as
``940423549e12`` (12 random hex digits) printed as ``9.40424e+20``, and one of only digits lost
its leading zeros, so ``pathways share list`` showed an id ``pathways share revoke`` could not
take (CI failed on it once). Names in the gap and consortium reports (an organisation called
``1e3``, a locality ``007``) went the same way.
"""

from __future__ import annotations

import secrets

from click.testing import CliRunner

from pathways.accounts import Accounts, server_secret
from pathways.cli import cli
from pathways.config import Settings
from pathways.reports.tables import text_table
from pathways.share_links import ShareLinks

LOOK_LIKE_NUMBERS = ["940423549e12", "012345678901", "1e3", "007", "1_000", "  42", "nan", "inf"]


def test_text_cells_are_printed_as_they_are():
    out = text_table([[t, 1] for t in LOOK_LIKE_NUMBERS], ["text", "n"])
    for t in LOOK_LIKE_NUMBERS:
        assert t.strip() in out
    assert "9.40424e+20" not in out and "1000" not in out


def test_number_columns_stay_numbers_aligned_right():
    out = text_table([["a", 5, 1.5], ["b", 123, 22.25]], ["name", "count", "share"])
    _header, _rule, a, b = out.splitlines()
    # tabulate's own number layout: counts right-aligned, decimal points lined up
    assert a.index(" 5 ") + 1 == b.index("123") + 2
    assert a.index("1.5") + 1 == b.index("22.25") + 2


def test_a_column_of_numbers_and_words_is_text():
    out = text_table([["x", 3], ["y", "no route"], ["z", "1e3"]], ["activity", "needs hops"])
    assert "1e3" in out and "no route" in out and "1000" not in out


def test_share_list_prints_every_id_as_issued(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("PATHWAYS_HOME", str(home))
    settings = Settings.from_env()
    links = ShareLinks(settings.share_links_file, server_secret(settings.secret_file))
    ids, real = ["940423549e12", "012345678901"], secrets.token_hex
    # a link's id is token_hex(6); the private file's temporary name draws token_hex(4)
    monkeypatch.setattr(secrets, "token_hex", lambda n: ids.pop(0) if n == 6 else real(n))
    for _ in range(2):
        links.create("/?worker=lw", 7, "eddie")
    listed = CliRunner().invoke(cli, ["share", "list"])
    assert listed.exit_code == 0, listed.output
    assert "940423549e12" in listed.output and "012345678901" in listed.output
    revoked = CliRunner().invoke(cli, ["share", "revoke", "012345678901"])
    assert revoked.exit_code == 0, revoked.output


def test_users_list_prints_names_as_given(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("PATHWAYS_HOME", str(home))
    accounts = Accounts(Settings.from_env().accounts_file)
    accounts.add("1e5", "viewer", "a long enough password")
    accounts.add("007", "editor", "a long enough password")
    listed = CliRunner().invoke(cli, ["users", "list"])
    assert listed.exit_code == 0, listed.output
    assert "1e5" in listed.output and "007" in listed.output and "100000" not in listed.output
