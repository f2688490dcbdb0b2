"""Where signing in sends you: a path of this app, whatever the ``next`` field holds.

Browsers drop tabs and line breaks from an address, and werkzeug's redirect does the same
when it writes the ``Location`` header, so ``/<tab>/evil.example`` becomes
``//evil.example``: another site.  A line break in the header is refused by werkzeug, which
made the sign-in an internal error.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.integration.test_sign_in import home, sign_in, web  # noqa: F401  (fixtures)

SNEAKY_NEXT = {
    "tab": "/\t/evil.example/phish",
    "line feed": "/\n/evil.example/phish",
    "carriage return and line feed": "/\r\n/evil.example",
}


@pytest.mark.parametrize("sneaky", list(SNEAKY_NEXT))
def test_sign_in_never_sends_you_to_another_site_through_control_characters(
        web, sneaky):  # noqa: F811
    response = sign_in(web, "vic", next_path=SNEAKY_NEXT[sneaky])
    assert response.status_code == 302, response.get_data(as_text=True)[:200]
    location = response.headers["Location"]
    assert urlsplit(location).netloc == "" and not location.startswith(("//", "/\\"))
    assert location == "/"


def test_sign_in_still_goes_back_to_a_page_with_its_filters(web):  # noqa: F811
    response = sign_in(web, "vic", next_path="/gaps?hops=3&needs=loneliness")
    assert response.headers["Location"] == "/gaps?hops=3&needs=loneliness"
