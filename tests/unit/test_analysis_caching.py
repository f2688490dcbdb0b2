"""The app's analyses are computed once per data version and reused: a second click on the
same data does not recompute the gap report, the referral network, a heatmap cell's routes
or a link worker's pathways; a write to the store makes the next call compute afresh.  And
the faster code gives the same answers as the straightforward definitions it replaced."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

import pathways.analysis.gaps as gaps
from benchmarks.generate import generate
from pathways.analysis.gaps import GapQuery, cell_routes, gap_report, referral_network
from pathways.analysis.pathways import pathways_from
from pathways.analysis.snapshot import link_workers, name_of, providers
from pathways.graphs import best_paths, best_paths_to
from pathways.loading import load_paths
from pathways.model import NodeKind, RelType
from pathways.store import PathwayFilter
from pathways.store.embedded import EmbeddedStore
from tests.conftest import load_data

# A gap report is one day's: these queries name their day, as two made either side of
# midnight would be two questions, rightly computed twice.
AS_OF = dt.date(2026, 11, 29)
EXTRA = {  # one more organisation, service and activity: a partner's update
    "organisations": [{"id": "org-new-choir", "name": "New Choir CIC", "kind": "voluntary_community"}],
    "services": [{"id": "svc-new-choir", "name": "New Choir sessions"}],
    "activities": [{"id": "act-new-choir", "name": "Tuesday Choir", "serves_whole_area": "yes"}],
    "relationships": [
        {"source_id": "org-new-choir", "type": "PROVIDES", "target_id": "svc-new-choir"},
        {"source_id": "svc-new-choir", "type": "OFFERS", "target_id": "act-new-choir"},
    ],
}


@pytest.fixture
def demo_store(store, demo_dir):
    load_paths(store, [demo_dir])
    return store


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A seeded synthetic partnership of about 1,500 nodes (benchmarks/generate.py)."""
    store = EmbeddedStore(tmp_path_factory.mktemp("generated") / "graph.json")
    load_data(store, generate(1500, seed=11))
    return store


def counting(monkeypatch, module, name):
    """Replace ``module.name`` by a wrapper that counts its calls; returns the list of calls."""
    calls = []
    real = getattr(module, name)

    def wrapper(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


# ------------------------------------------------------------------ gap report


def test_gap_report_is_computed_once_per_version_and_query(demo_store, monkeypatch):
    computed = counting(monkeypatch, gaps, "compute_gaps")
    first = gap_report(demo_store, GapQuery(max_hops=4, as_of=AS_OF))
    again = gap_report(demo_store, GapQuery(max_hops=4, as_of=AS_OF))
    assert again is first and len(computed) == 1
    other = gap_report(demo_store, GapQuery(max_hops=3, as_of=AS_OF))  # another question
    assert len(computed) == 2 and other["max_hops"] == 3
    assert gap_report(demo_store, GapQuery(max_hops=3, as_of=AS_OF)) is other
    assert len(computed) == 2
    assert gap_report(demo_store, GapQuery(max_hops=3, as_of=AS_OF + dt.timedelta(days=1))) \
        is not other and len(computed) == 3  # another day: its own report


def test_a_write_invalidates_the_gap_report(demo_store, monkeypatch):
    computed = counting(monkeypatch, gaps, "compute_gaps")
    before = gap_report(demo_store, GapQuery(max_hops=4))
    assert "act-new-choir" not in {r["id"] for r in before["unreached"]}
    load_data(demo_store, EXTRA)
    after = gap_report(demo_store, GapQuery(max_hops=4))
    assert len(computed) == 2
    # the new choir has no referral route in: the fresh report lists it, the old one cannot
    assert "act-new-choir" in {r["id"] for r in after["unreached"]}


def test_concurrent_requests_for_one_report_compute_it_once(demo_store, monkeypatch):
    computed = counting(monkeypatch, gaps, "compute_gaps")
    results, start = [], threading.Barrier(4)

    def ask():
        start.wait()
        results.append(gap_report(demo_store, GapQuery(max_hops=4, as_of=AS_OF)))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(computed) == 1
    assert all(r is results[0] for r in results)


# ------------------------------------------------------------------ referral network


def referral_network_by_definition(graph) -> dict:
    """The network as the Gaps page defined it before (a set of link workers per node)."""
    keep = {NodeKind.PERSON, NodeKind.ORGANISATION, NodeKind.SERVICE, NodeKind.ACTIVITY}
    nodes = [{"id": n, "name": name_of(graph, n), "kind": k.value}
             for n, k in graph.nodes(data="kind")
             if k in keep and (k != NodeKind.PERSON or n in set(link_workers(graph)))]
    ids = {n["id"] for n in nodes}
    edges = sorted((u, k.value, v) for u, v, k in graph.edges(keys=True)
                   if k in (RelType.REFERS_TO, RelType.PROVIDES, RelType.OFFERS)
                   and u in ids and v in ids)
    return {"nodes": sorted(nodes, key=lambda n: n["id"]), "edges": edges}


def test_referral_network_is_built_once_per_version(demo_store, monkeypatch):
    built = counting(monkeypatch, gaps, "build_referral_network")
    first = referral_network(demo_store)
    assert referral_network(demo_store) is first and len(built) == 1
    assert "act-new-choir" not in {n["id"] for n in first["nodes"]}
    load_data(demo_store, EXTRA)
    after = referral_network(demo_store)
    assert len(built) == 2
    assert ("svc-new-choir", "OFFERS", "act-new-choir") in after["edges"]


def test_referral_network_is_unchanged_on_demo_and_generated_graphs(embedded_store, demo_dir,
                                                                    generated):
    load_paths(embedded_store, [demo_dir])
    for store in (embedded_store, generated):
        network = referral_network(store)
        assert network == referral_network_by_definition(store.snapshot())
        people = [n for n in network["nodes"] if n["kind"] == "Person"]
        assert people and len(people) == len(link_workers(store.snapshot()))


# ------------------------------------------------------------------ heatmap cells


def cell_routes_by_definition(graph, need, locality, max_hops) -> list[dict]:
    """A cell's routes as computed before: a gap report for that one cell, then the best
    path from each link worker covering the locality."""
    cell = gaps.compute_gaps(graph, GapQuery((locality,), (need,), max_hops))["coverage"][0]
    paths = {w: best_paths(graph, w, max_hops) for w in cell["link_workers"]}
    rows = []
    for activity in cell["activities"]:
        options = [p[activity] for p in paths.values() if activity in p]
        best = min(options, key=lambda s: (len(s), [n for n, _ in s], [i for _, i in s])) \
            if options else None
        rows.append({
            "id": activity, "name": name_of(graph, activity),
            "provider": "; ".join(name_of(graph, o) for o in providers(graph, activity)),
            "route": [i for _, i in best] if best else None,
            "route_names": " → ".join(n for n, _ in best) if best else "no route",
        })
    return rows


def test_cell_clicks_reuse_the_pages_gap_report(demo_store, monkeypatch):
    computed = counting(monkeypatch, gaps, "compute_gaps")
    today = dt.date.today()
    report = gap_report(demo_store, GapQuery(max_hops=4))  # what the page has shown
    for cell in report["coverage"]:
        rows = cell_routes(demo_store, cell["need"], cell["locality"], 4)
        assert [r["id"] for r in rows] == cell["activities"]
        assert cell_routes(demo_store, cell["need"], cell["locality"], 4) is rows
    # not one whole report per click (a click after midnight may ask for the new day's one)
    assert len(computed) <= len({today, dt.date.today()})


def test_cell_routes_are_unchanged_on_demo_and_generated_graphs(embedded_store, demo_dir,
                                                                generated):
    load_paths(embedded_store, [demo_dir])
    checked = 0
    for store in (embedded_store, generated):
        graph = store.snapshot()
        for hops in (2, 4):
            report = gap_report(store, GapQuery(max_hops=hops))
            cells = [c for c in report["coverage"] if c["existing"]]
            for cell in cells[:: max(1, len(cells) // 25)]:
                expected = cell_routes_by_definition(graph, cell["need"], cell["locality"], hops)
                assert cell_routes(store, cell["need"], cell["locality"], hops) == expected
                checked += 1
    assert checked > 50


def test_best_paths_to_wanted_nodes_are_the_best_paths(embedded_store, demo_dir, generated):
    load_paths(embedded_store, [demo_dir])
    compared = 0
    for store in (embedded_store, generated):
        graph = store.snapshot()
        for worker in link_workers(graph)[:40]:
            for hops in (1, 3, 5):
                every = best_paths(graph, worker, hops)
                wanted = sorted(every) + ["not-a-node"]
                assert best_paths_to(graph, worker, hops, wanted) == every
                compared += len(every)
    assert compared > 5000


def test_cell_routes_for_an_unknown_need_still_says_so(demo_store):
    from pathways.errors import UnknownIdError

    with pytest.raises(UnknownIdError, match="not-a-need"):
        cell_routes(demo_store, "not-a-need", "loc-elland", 4)


# ------------------------------------------------------------------ pathways page


def test_pathways_are_computed_once_per_version_and_question(demo_store, monkeypatch):
    worker = demo_store.list_nodes(NodeKind.PERSON, "link_worker")[0]["id"]
    asked = []
    real = demo_store.pathway_candidates
    monkeypatch.setattr(demo_store, "pathway_candidates",
                        lambda *a, **k: asked.append(a) or real(*a, **k))
    first = pathways_from(demo_store, worker, PathwayFilter(), 4)
    assert pathways_from(demo_store, worker, PathwayFilter(), 4) is first
    assert len(asked) == 1  # a row selection asks again: served from the cache
    filtered = pathways_from(demo_store, worker, PathwayFilter(free_only=True), 4)
    assert len(asked) == 2 and len(filtered["activities"]) <= len(first["activities"])
    load_data(demo_store, {"relationships": [
        *EXTRA["relationships"],
        {"source_id": worker, "type": "REFERS_TO", "target_id": "org-new-choir"}],
        **{k: v for k, v in EXTRA.items() if k != "relationships"}})
    after = pathways_from(demo_store, worker, PathwayFilter(), 4)
    assert len(asked) == 3
    assert "act-new-choir" in {a["id"] for a in after["activities"]}
    assert "act-new-choir" not in {a["id"] for a in first["activities"]}


# ------------------------------------------------------------------ warming in the server


def test_the_warmer_prepares_the_gap_page_for_each_new_version(demo_store, monkeypatch):
    from pathways.analysis import search
    from pathways.analysis.warm import Warmer

    computed = counting(monkeypatch, gaps, "compute_gaps")
    built = counting(monkeypatch, gaps, "build_referral_network")
    indexed = counting(monkeypatch, search, "_build")
    # The warmer makes today's report and the page asks for today's: if midnight passes in
    # between, the new day's report is rightly computed again, so those counts hold on one day.
    today = dt.date.today()
    warmer = Warmer(lambda: demo_store)
    assert warmer.warm_once() is True and len(computed) == 1 and len(built) == 1
    assert len(indexed) == 1
    again = warmer.warm_once()  # nothing changed
    # the page's own requests (and the Pathways page's search box) now find them ready
    gap_report(demo_store, GapQuery(max_hops=4))
    referral_network(demo_store)
    assert search.search(demo_store, "walk")
    assert len(built) == 1 and len(indexed) == 1
    if dt.date.today() == today:
        assert again is False and len(computed) == 1
    load_data(demo_store, EXTRA)
    today, before = dt.date.today(), len(computed)
    assert warmer.warm_once() is True and len(computed) == before + 1
    assert "act-new-choir" in {r["id"] for r in gap_report(demo_store, GapQuery())["unreached"]}
    assert len(computed) <= before + len({today, dt.date.today()})  # before + 1 on one day


def test_the_warmer_thread_warms_and_stops(embedded_store, demo_dir, monkeypatch):
    from pathways.analysis.warm import Warmer

    load_paths(embedded_store, [demo_dir])
    computed = counting(monkeypatch, gaps, "compute_gaps")
    today = dt.date.today()  # the warmer makes today's report: a new day's would be another
    warmer = Warmer(lambda: embedded_store, interval=0.01).start()
    try:
        for _ in range(500):
            if computed:
                break
            threading.Event().wait(0.01)
    finally:
        warmer.stop()
    assert computed
    gap_report(embedded_store, GapQuery(max_hops=4))
    assert len(computed) <= len({today, dt.date.today()})  # 1 on one day


def test_store_counts_are_read_once_per_version(demo_store, monkeypatch):
    from pathways.analysis.snapshot import cached_stats

    asked = []
    real = demo_store.stats
    monkeypatch.setattr(demo_store, "stats", lambda: asked.append(1) or real())
    first = cached_stats(demo_store)
    assert cached_stats(demo_store) is first and len(asked) == 1
    load_data(demo_store, EXTRA)
    after = cached_stats(demo_store)
    assert len(asked) == 2
    assert after["nodes"]["Activity"] == first["nodes"]["Activity"] + 1
