"""The bad-input corpus (tests/bad_input_cases.py) on both stores, strict and partial.

On Neo4j as on the embedded store, every case is refused with its file, row, column and
reason, nothing else escapes (no driver error for an 8 KB id or a number past 2**63), and the
whole graph hashes the same before and after.  The unit corpus runs the embedded store and
the CLI; this runs the store fixture, so parity is proven on a real server.
"""

from __future__ import annotations

import pytest

from pathways.loading import load_paths
from tests.bad_input_cases import CASE_IDS, CASES, check_case


@pytest.fixture
def demo_loaded(store, demo_dir):
    load_paths(store, [demo_dir])
    return store


@pytest.mark.parametrize("mode", ["strict", "partial"])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_bad_input_is_refused_on_both_stores_and_leaves_the_graph_unchanged(
        case, mode, demo_loaded, tmp_path, monkeypatch):
    check_case(demo_loaded, case, partial=mode == "partial", folder=tmp_path,
               setenv=monkeypatch.setenv)
