"""The Living Database fuzzing of tests/unit/test_fuzz_living_db.py, a few examples on Neo4j.

The same mutated demo files are loaded on top of the demo data on a real server and in the
embedded store: Neo4j refuses exactly what the embedded store refuses, with the same
problems, raises nothing but InputError (no driver error), and a refused load leaves its
graph exactly as it was.  Few examples: each resets the server's graph and loads the demo.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from pathways.loading import demo_data_dir, load_paths
from tests.bad_input_cases import graph_hash
from tests.unit.test_fuzz_living_db import (
    FUZZ,
    check_problems,
    demo_store,
    mutated,
    strict_load,
    where,
)

pytestmark = pytest.mark.neo4j


@settings(FUZZ, max_examples=12,
          suppress_health_check=[*FUZZ.suppress_health_check, HealthCheck.function_scoped_fixture])
@given(made=mutated())
def test_neo4j_refuses_a_mutated_living_database_as_the_embedded_store_does(made, neo4j_store):
    store = neo4j_store
    store.reset()
    load_paths(store, [demo_data_dir()])
    before = graph_hash(store)
    with tempfile.TemporaryDirectory() as tmp:
        paths = made.write(Path(tmp) / "input")
        problems = strict_load(store, paths)
        expected = strict_load(demo_store(), paths)
        assert where(problems or []) == where(expected or [])
        if problems is not None:
            check_problems(problems, Path(tmp) / "input")
            assert graph_hash(store) == before, "a refused load changed Neo4j's graph"
