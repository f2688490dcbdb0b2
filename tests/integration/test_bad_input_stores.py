"""The bad-input corpus (tests/bad_input_cases.py) on Neo4j, strict and partial.

On Neo4j as on the embedded store (tests/unit/test_bad_input_corpus.py), every case is refused
with its file, row, column and reason, nothing else escapes (no driver error for an 8 KB id or
a number past 2**63), and the whole graph hashes the same before and after.  The unit corpus runs the embedded store and
the CLI; this runs the same cases on a real server, so both stores are held to one standard.
"""

from __future__ import annotations

import pytest

from pathways.loading import load_paths
from tests.bad_input_cases import CASE_IDS, CASES, check_case

# The embedded store runs the same corpus in tests/unit/test_bad_input_corpus.py.
pytestmark = pytest.mark.neo4j


@pytest.fixture
def demo_loaded(neo4j_store, demo_dir):
    load_paths(neo4j_store, [demo_dir])
    return neo4j_store


@pytest.mark.parametrize("mode", ["strict", "partial"])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_bad_input_is_refused_on_neo4j_and_leaves_the_graph_unchanged(
        case, mode, demo_loaded, tmp_path, monkeypatch):
    check_case(demo_loaded, case, partial=mode == "partial", folder=tmp_path,
               setenv=monkeypatch.setenv)
