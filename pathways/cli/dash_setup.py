"""Readying the Dash app in the serving process before requests arrive (``pathways serve``)."""

from __future__ import annotations


def first_request(app) -> None:
    """Answer one request inside this process, so Dash's once-per-process setup (it moves the
    pages' callbacks into the app's callback map on the first request) is done before any
    real request: it is not thread-safe, and a worker's threads answering its first requests
    at once failed with "Callback function not found" (HTTP 500) while another ran it."""
    app.server.test_client().get("/_dash-dependencies")
