"""The check of a Living Database runs the cyclic garbage collector less often (issue 18
item 4): every row makes short-lived dicts and records that reference counting frees, yet
Python's default starts a collection every 700 of them (15-20 % of the check's CPU at 100k).
While rows are checked, in this process and in the workers, the first threshold is
``YOUNG_COLLECTION``; the collector stays on (cycles are still freed); afterwards the
process's own setting is back, also when the check fails.
"""

from __future__ import annotations

import gc

import pytest

import loaders.living_stream as stream
from benchmarks.generate import generate, write
from loaders.living_stream import YOUNG_COLLECTION, check_first_load_in_workers, check_paths


@pytest.fixture
def partnership(tmp_path):
    folder = tmp_path / "synthetic"
    write(generate(300), folder)
    return folder


@pytest.fixture(autouse=True)
def default_threshold():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_the_check_collects_less_often_and_puts_the_setting_back(partnership):
    seen = []

    def sink():
        return (lambda _node: seen.append((gc.get_threshold()[0], gc.isenabled())),
                lambda _rel: None)

    checked = check_paths([partnership], lambda ids: {}, sink=sink, keep_rejected=False)
    assert not checked.problems and checked.nodes == len(seen) >= 300
    assert set(seen) == {(YOUNG_COLLECTION, True)}
    assert gc.get_threshold() == (700, 10, 10)


def test_the_setting_comes_back_when_the_check_fails(partnership):
    def sink():
        def refuse(_node):
            raise RuntimeError("a sink that fails")
        return refuse, lambda _rel: None

    with pytest.raises(RuntimeError):
        check_paths([partnership], lambda ids: {}, sink=sink, keep_rejected=False)
    assert gc.get_threshold() == (700, 10, 10)


@pytest.mark.skipif(not stream.can_fork(), reason="workers are forked (Linux)")
def test_each_worker_collects_less_often(partnership, monkeypatch):
    monkeypatch.setattr(stream, "STREAM_FROM_BYTES", 0)

    class Recording:
        def __init__(self, _index):
            self.thresholds = set()

        def node(self, _record):
            self.thresholds.add((gc.get_threshold()[0], gc.isenabled()))

        def rel(self, _record):
            self.thresholds.add((gc.get_threshold()[0], gc.isenabled()))

        def close(self):
            return sorted(self.thresholds)

    found = check_first_load_in_workers([partnership], lambda _rel: None, Recording, workers=2)
    assert found is not None
    _checked, parts = found
    assert parts == [[(YOUNG_COLLECTION, True)], [(YOUNG_COLLECTION, True)]]
    assert gc.get_threshold() == (700, 10, 10)
