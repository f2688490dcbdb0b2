"""One switch for Python's cycle collector around bulk work (loads, whole-graph analyses)."""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_paused = 0  # pauses in progress, in any thread
_was_enabled = False  # the collector's state when the first of them began

# At least this many new container objects when the last pause ends, and they are handed
# to the oldest generation at once (see gc_paused); fewer are left to the usual collections.
PROMOTE_AT = 100_000

# Objects handed to the oldest generation that way do not count towards Python's own trigger
# for a full collection, so a replaced snapshot (cyclic: networkx graphs hold views of
# themselves) would wait for one long after it is dropped.  ``_promoted``: a hand-over
# happened and no full collection has run for it; ``_dropped``: a snapshot was dropped during
# a pause and is collected when the last pause ends (see dropped_snapshot).
_promoted = False
_dropped = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a load or an analysis makes millions of objects.

    Rows, records and analysis results hold no reference cycles, so nothing is lost by
    waiting; the collector otherwise re-scans the whole heap again and again (measured: 40%
    of reading and validating 564k rows, and up to a third of a 100k-node gap report).
    Reference counting still frees memory as usual.

    The collector is one per process, so pauses are counted across threads (the app runs
    analyses in several): it stays paused until the last overlapping pause ends, then goes
    back to what it was before the first.  Nested use is fine.

    When the last pause ends with many new objects (:data:`PROMOTE_AT`; a 100k-node snapshot
    and its gap report leave about two million), they go straight to the oldest generation
    (:func:`promote_young`): otherwise the very next allocation starts a young collection
    that scans all of them (0.8 s at 100k), and a middle one soon scans them again (0.85 s),
    only to find them alive.  They are looked at by the next full collection instead, which
    would scan them anyway; cyclic garbage made during the pause (rare: see above) is freed
    there too, not at once.
    """
    global _paused, _was_enabled, _promoted, _dropped
    with _lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        collect = False
        with _lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                if gc.get_count()[0] >= PROMOTE_AT and promote_young():
                    _promoted = True
                if _promoted and _dropped:  # a replaced snapshot waits (dropped_snapshot)
                    collect, _promoted = True, False
                _dropped = False
                gc.enable()
        if collect:  # (outside the lock: finalizers run during a collection)
            gc.collect()


def dropped_snapshot() -> None:
    """Say that a cached snapshot (hundreds of MB at 100k nodes, cyclic) was just dropped for
    a newer data version.  If objects were handed to the oldest generation since the last
    full collection, Python would not start one for a long time, so one runs now, or when
    the last pause in progress ends (the one computing on the new snapshot): the old
    snapshot's memory comes back after each load, as it did before the hand-over existed.
    Otherwise the usual collections free it and this does nothing."""
    global _promoted, _dropped
    with _lock:
        if not _promoted:
            return
        if _paused:
            _dropped = True
            return
        _promoted = False
    gc.collect()


def promote_young() -> bool:
    """Move every object the collector tracks into its oldest generation, without scanning
    them (:func:`gc.freeze` then :func:`gc.unfreeze`, two list splices); ``False``, doing
    nothing, when objects are frozen already (``pathways serve --workers``: the master
    freezes what the workers inherit, and unfreezing it in a worker would make the
    collector touch those shared pages).

    >>> import gc
    >>> made = [[] for _ in range(3)]
    >>> promote_young(), all(gc.is_tracked(x) for x in made), gc.get_freeze_count()
    (True, True, 0)
    >>> any(x is made[0] for x in gc.get_objects(generation=2))
    True
    """
    if gc.get_freeze_count():
        return False
    gc.freeze()
    gc.unfreeze()
    return True
