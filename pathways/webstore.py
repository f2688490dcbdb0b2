"""The app's one store per process (read-only use).

Pages ask for it here instead of opening connections per callback.  ``pathways serve`` hands
over the store it opened from its settings (:func:`set_store`); otherwise (``gunicorn
app:server``, ``python app.py``) the first request opens it from the environment, read once
into :class:`pathways.config.Settings`.  The embedded store re-reads its file when a CLI load
has changed it, so the app sees new data without a restart.
"""

from __future__ import annotations

import threading

from pathways.config import Settings
from pathways.store import GraphStore, open_store

_lock = threading.Lock()
_store: GraphStore | None = None


def get_store() -> GraphStore:
    global _store
    with _lock:
        if _store is None:
            _store = open_store(settings=Settings.from_env())
        return _store


def set_store(store: GraphStore | None) -> None:
    """Use a given store (``pathways serve``, tests, or an embedding application)."""
    global _store
    with _lock:
        _store = store
