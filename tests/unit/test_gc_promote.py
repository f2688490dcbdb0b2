"""gc_paused hands a pause's many new objects to the oldest generation when it ends
(pathways/gcpause.py): no young collection re-scans them, nothing stays frozen, objects
frozen by someone else (``pathways serve --workers``' master) stay frozen, and cyclic
garbage made during the pause is still freed by a full collection."""

from __future__ import annotations

import gc
import weakref

import pytest

from pathways import gcpause


def generation_of(obj: object) -> int | None:
    for generation in range(3):
        if any(x is obj for x in gc.get_objects(generation=generation)):
            return generation
    return None


@pytest.fixture(autouse=True)
def collector_on():
    assert gc.isenabled() and gc.get_freeze_count() == 0
    yield
    gc.unfreeze()
    gc.enable()


def test_many_objects_made_in_a_pause_go_to_the_oldest_generation():
    with gcpause.gc_paused():
        made = [[] for _ in range(gcpause.PROMOTE_AT + 10)]
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0  # nothing left frozen
    assert generation_of(made) == 2 and generation_of(made[-1]) == 2
    assert gc.get_count()[0] < 1000  # no young backlog left for the next allocation


def test_a_few_objects_are_left_to_the_usual_collections():
    gc.collect()
    with gcpause.gc_paused():
        made = [[] for _ in range(100)]
    assert generation_of(made) == 0


def test_objects_frozen_by_someone_else_stay_frozen():
    gc.collect()
    kept = [{"shared": [1]} for _ in range(10)]
    gc.freeze()
    frozen = gc.get_freeze_count()
    with gcpause.gc_paused():
        made = [[] for _ in range(gcpause.PROMOTE_AT + 10)]
    assert gc.get_freeze_count() == frozen
    assert generation_of(kept[0]) is None  # still in the permanent generation
    assert generation_of(made) in (0, 1)  # left to the usual collections
    gc.unfreeze()


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cycle collector frees it


def test_cyclic_garbage_made_in_a_pause_is_freed_by_a_full_collection():
    with gcpause.gc_paused():
        cycle = Node()
        gone = weakref.ref(cycle)
        made = [[] for _ in range(gcpause.PROMOTE_AT + 10)]
        del cycle
    assert gone() is not None and generation_of(made) == 2
    gc.collect()
    assert gone() is None


def a_big_cyclic_snapshot() -> Node:
    snapshot = Node()  # cyclic, like a networkx graph holding views of itself
    snapshot.rows = [[] for _ in range(gcpause.PROMOTE_AT + 10)]  # type: ignore[attr-defined]
    return snapshot


class VersionedStore:
    """Only what the snapshot cache asks of a store: its data version and a snapshot."""

    def __init__(self) -> None:
        self.data_version = 1

    def version(self) -> int:
        return self.data_version

    def analysis_snapshot(self) -> Node:
        return a_big_cyclic_snapshot()


@pytest.mark.parametrize("computed_on_it", [False, True])
def test_a_replaced_snapshot_is_freed_without_waiting_for_a_full_collection(computed_on_it):
    """After a load the previous version's snapshot is dropped; its objects were handed to
    the oldest generation, which Python's own trigger for a full collection does not count,
    so without dropped_snapshot it stays in memory until some unrelated full collection."""
    from pathways.analysis.snapshot import cached_analysis, cached_snapshot

    gc.collect()
    store = VersionedStore()
    first = cached_snapshot(store)
    gone = weakref.ref(first)
    del first
    assert generation_of(gone()) == 2  # handed over, not scanned

    store.data_version = 2
    if computed_on_it:  # an analysis on the new snapshot: collected when its pause ends
        cached_analysis(store, "report", lambda snapshot: len(snapshot.rows))
    else:  # the new snapshot alone
        cached_snapshot(store)
    assert gone() is None
