"""What a person reads when a page callback stops: a refusal says what their role allows; a
failure says it could not be shown."""

from __future__ import annotations

from pages._access import AccessDenied, Role, require
from pages._components import error_text
from pathways.errors import StoreUnavailableError


def test_a_refusal_reads_as_what_the_role_allows_not_as_a_failure(monkeypatch):
    monkeypatch.setattr("pages._access.LOCAL_ROLE", Role.LINK_WORKER)
    try:
        require(Role.EDITOR, "upload data")
    except AccessDenied as exc:
        text = error_text(exc)
    assert text.startswith("Only editors and above can upload data")
    assert "could not be shown" not in text


def test_a_failure_still_says_it_could_not_be_shown():
    text = error_text(StoreUnavailableError("The graph database is not reachable"))
    assert text == "Sorry, that could not be shown: The graph database is not reachable"
