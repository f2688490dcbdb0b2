"""``pathways users unlock``: an admin lifts the sign-in wait of an account they have checked.

The app counts failed sign-ins in ``$PATHWAYS_HOME/sign-in-failures.sqlite3`` (shared by its
workers, kept across restarts), so a restart no longer unlocks anyone; this is the way."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pathways.accounts import LoginThrottle
from pathways.cli import cli
from pathways.config import Settings


@pytest.fixture
def throttle(tmp_path, monkeypatch):
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path))
    # the app's own record: the file its sign-in page counts into (pages/login.py)
    return LoginThrottle(limit=5, window=15 * 60, path=Settings.from_env().throttle_file)


def locked_out(throttle, keys):
    for _ in range(5):
        throttle.failed(keys)
    assert throttle.wait(keys) > 0


def test_unlock_forgets_the_accounts_failures_and_only_those(throttle):
    ann, bob = ["account:ann", "address:10.0.0.7"], ["account:bob"]
    locked_out(throttle, ann)
    locked_out(throttle, bob)
    result = CliRunner().invoke(cli, ["users", "unlock", "Ann"])
    assert result.exit_code == 0, result.output
    assert "ann" in result.output
    assert throttle.wait(["account:ann"]) == 0
    assert throttle.wait(["address:10.0.0.7"]) > 0, "the address keeps its count"
    assert throttle.wait(bob) > 0, "another account stays locked"
    result = CliRunner().invoke(cli, ["users", "unlock", "--address", "10.0.0.7"])
    assert result.exit_code == 0, result.output
    assert throttle.wait(ann) == 0


def test_unlock_needs_something_to_unlock(throttle):
    result = CliRunner().invoke(cli, ["users", "unlock"])
    assert result.exit_code != 0
    assert "give an account name" in str(result.exception)
