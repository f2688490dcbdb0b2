"""The app refuses a request body bigger than any upload could be, before reading it."""

from __future__ import annotations

import app
from pathways.changes import MAX_UPLOAD_TOTAL_MB, MB


def _post(size: int) -> int:
    client = app.server.test_client()
    response = client.post("/_dash-update-component", data=b"x" * size,
                           headers={"Content-Type": "application/json"},
                           environ_base={"REMOTE_ADDR": "127.0.0.1"})
    return response.status_code


def test_a_body_over_the_upload_limit_is_refused_unread():
    assert _post(int(MAX_UPLOAD_TOTAL_MB * MB * 1.5)) == 413


def test_a_body_the_size_of_the_largest_upload_gets_through_to_dash():
    # Not JSON, so Dash itself answers (not 413): the limit leaves room for a full upload.
    assert _post(int(MAX_UPLOAD_TOTAL_MB * MB * 4 / 3)) != 413
