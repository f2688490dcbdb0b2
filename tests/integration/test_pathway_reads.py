"""A pathways call is one read of one version of the graph, on either store: on Neo4j one
read transaction holds the version, the cache look-up, the pathway query and the checks of the
link worker and the filter's ids (read by that same query).  So a link worker's answer never
mixes two loads, and what the query read for the checks never outlives its transaction."""

from __future__ import annotations

import random
import threading
import time

import pytest

from benchmarks.generate import generate
from pathways.analysis.pathways import pathways_from
from pathways.errors import PathwaysError, UnknownIdError
from pathways.model import COMMON_NEEDS
from pathways.store.base import PathwayFilter
from tests.conftest import load_data


def renamed(tables: dict[str, list[dict]], version: str) -> dict[str, list[dict]]:
    return {table: [{**row, "name": f"{version} {row['name']}"} if row.get("name") else row
                    for row in rows]
            for table, rows in tables.items()}


def test_a_pathways_answer_never_mixes_two_loads(store):
    tables = generate(300, seed=3)
    versions = {v: renamed(tables, v) for v in ("v1", "v2")}
    load_data(store, versions["v1"])
    workers = [p["id"] for p in tables["people"] if p["role"] == "link_worker"]
    done = threading.Event()
    seen: list[set[str]] = []
    failures: list[BaseException] = []

    def reader():
        rng = random.Random(1)
        try:
            while not done.is_set():
                where = rng.choice([PathwayFilter(), PathwayFilter(needs=(COMMON_NEEDS[0],))])
                answer = pathways_from(store, rng.choice(workers), where, 4)
                names = {answer["from"]["name"]}
                names |= {n["name"] for a in answer["activities"] for n in a["path"]}
                seen.append({name.split()[0] for name in names})
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for round_ in range(6):
            load_data(store, versions["v2" if round_ % 2 == 0 else "v1"])
            time.sleep(0.2)
    finally:
        done.set()
        thread.join(60)
    assert not failures, failures
    mixed = [names for names in seen if len(names) > 1]
    assert not mixed, f"{len(mixed)} of {len(seen)} answers mixed old and new names"
    assert {"v1"} in seen and {"v2"} in seen, "no reload landed while reading"


def test_what_a_call_read_for_its_checks_is_not_kept_after_it(store):
    tables = generate(200, seed=4)
    load_data(store, tables)
    worker = next(p for p in tables["people"] if p["role"] == "link_worker")
    first = pathways_from(store, worker["id"])
    assert first["from"]["name"] == worker["name"]
    load_data(store, {"people": [{**worker, "name": "Renamed Link Worker"}]})
    assert store.get_node(worker["id"])[1]["name"] == "Renamed Link Worker"
    assert pathways_from(store, worker["id"])["from"]["name"] == "Renamed Link Worker"
    need = PathwayFilter(needs=(COMMON_NEEDS[0],))
    assert pathways_from(store, worker["id"], need)["from"]["name"] == "Renamed Link Worker"
    # the same ids checked again, now wrong: the errors come from the data as it is now
    load_data(store, {"people": [{**worker, "role": "volunteer"}]})
    with pytest.raises(PathwaysError, match="is a volunteer, not a link worker"):
        pathways_from(store, worker["id"], need)
    other = [p for p in tables["people"] if p["role"] == "link_worker"][1]["id"]
    with pytest.raises(UnknownIdError, match="known needs"):
        pathways_from(store, other, PathwayFilter(needs=("not-a-need",)))


@pytest.mark.neo4j
def test_a_pathways_call_waits_while_a_load_commits_then_answers(neo4j_store, neo4j_settings):
    """Neo4j lets a reader see a commit half applied, so no answer, not even one already
    computed for this version, is given while a load says it is committing."""
    from pathways.store.neo4j import Neo4jStore
    from queries import graph as q

    tables = generate(200, seed=6)
    load_data(neo4j_store, tables)
    worker = next(p["id"] for p in tables["people"] if p["role"] == "link_worker")
    need = PathwayFilter(needs=(COMMON_NEEDS[0],))
    first = pathways_from(neo4j_store, worker)
    loader = Neo4jStore(neo4j_settings)
    answers: list[object] = []
    calls = [threading.Thread(target=lambda w=where: answers.append(pathways_from(
        neo4j_store, worker, w))) for where in (PathwayFilter(), need)]
    try:
        with loader.load_lock("a test load"):
            loader._write(q.announce_commit, loader._lock_token)
            for call in calls:
                call.start()
            time.sleep(1.5)
            assert answers == [] and all(call.is_alive() for call in calls)
            loader._write(q.end_commit, loader._lock_token)
            for call in calls:
                call.join(30)
    finally:
        loader.close()
    assert len(answers) == 2 and first in answers  # same data: the same answer
    assert pathways_from(neo4j_store, worker, need) in answers
