"""Route recommendations, remedies for single points of failure and what-if simulation,
checked against brute force (every allowed new agreement tried on a copy of the graph, scored
by an independent breadth-first search) on seeded random graphs, and on the demo."""

from __future__ import annotations

import datetime as dt
import json
from collections import deque

import pytest
from click.testing import CliRunner

from pathways.analysis.gaps import GapQuery, gap_report
from pathways.analysis.recommend import (
    RecommendQuery,
    compute_protection,
    compute_recommendations,
    recommend,
    simulate,
    with_agreements,
)
from pathways.cli import cli
from pathways.errors import PathwaysError, UnknownIdError
from pathways.loading import load_paths
from pathways.model import NodeKind, RelType, serves_whole_area
from pathways.store.embedded import EmbeddedStore
from tests.conftest import load_data
from tests.unit.test_gaps import random_tables

AS_OF = dt.date(2026, 11, 29)
FOLLOW = {"REFERS_TO", "PROVIDES", "OFFERS"}
SEEDS = range(40)


# ------------------------------------------------------------------ an independent oracle


def hops_from(graph, start, max_hops, without=None) -> dict[str, int]:
    out: dict[str, list[str]] = {}
    for u, v, key in graph.edges(keys=True):
        if key.value in FOLLOW:
            out.setdefault(u, []).append(v)
    if start == without:
        return {}
    seen, queue = {start: 0}, deque([start])
    while queue:
        node = queue.popleft()
        if seen[node] == max_hops:
            continue
        for nxt in out.get(node, ()):
            if nxt not in seen and nxt != without:
                seen[nxt] = seen[node] + 1
                queue.append(nxt)
    return seen


def kind(graph, node):
    return graph.nodes[node]["kind"]


def workers(graph):
    return [n for n in graph if kind(graph, n) == NodeKind.PERSON
            and graph.nodes[n]["props"].get("role") == "link_worker"]


def acts(graph, nodes):
    return {n for n in nodes if kind(graph, n) == NodeKind.ACTIVITY}


def options(graph, max_hops) -> set[tuple[str, str]]:
    return {(w, a) for w in workers(graph) for a in acts(graph, hops_from(graph, w, max_hops))}


def reachable_cells(graph, max_hops) -> set[tuple[str, str]]:
    """(need, locality) cells with an activity a local link worker reaches."""
    report = gap_report_of(graph, max_hops)
    return {(c["need"], c["locality"]) for c in report if c["reachable"] > 0}


def gap_report_of(graph, max_hops):
    # cells rebuilt here from the oracle's reach, not from the analysis under test
    needs = [n for n in graph if kind(graph, n) == NodeKind.NEED]
    places = [n for n in graph if kind(graph, n) == NodeKind.LOCALITY]
    reach = {w: hops_from(graph, w, max_hops) for w in workers(graph)}
    rows = []
    for need in needs:
        for place in places:
            cell = set()
            for a in acts(graph, graph):
                addresses = any(k.value == "ADDRESSES" and v == need for _, v, k in graph.out_edges(a, keys=True))
                whole = serves_whole_area(graph.nodes[a]["props"])
                here = whole or any(k.value == "LOCATED_IN" and v == place
                                    for _, v, k in graph.out_edges(a, keys=True))
                if addresses and here:
                    cell.add(a)
            local = [w for w in reach if graph.has_edge(w, place)
                     and any(k.value == "COVERS" for k in graph[w][place])]
            reached = {a for w in local for a in reach[w]} & cell
            rows.append({"need": need, "locality": place, "existing": len(cell), "reachable": len(reached)})
    return rows


def allowed_edges(graph, avoid=None):
    froms = [n for n in graph if n != avoid and (
        kind(graph, n) in (NodeKind.ORGANISATION, NodeKind.SERVICE) or n in workers(graph))]
    tos = [n for n in graph if n != avoid and kind(graph, n) in (NodeKind.ORGANISATION, NodeKind.SERVICE)]
    return [(u, v) for u in froms for v in tos if u != v]


def random_store(tmp_path, seed) -> EmbeddedStore:
    store = EmbeddedStore(tmp_path / f"graph-{seed}.json")
    load_data(store, random_tables(seed))
    return store


# ------------------------------------------------------------------ recommend vs brute force


def test_each_greedy_step_is_the_best_single_agreement_and_does_what_it_says(tmp_path):
    steps_checked = multi_cell_steps = 0
    for seed in SEEDS:
        graph = random_store(tmp_path, seed).snapshot()
        for max_hops in (2, 3, 4):
            result = compute_recommendations(graph, RecommendQuery(max_hops=max_hops, max_new=3))
            cells = gap_report_of(graph, max_hops)
            amber = {(c["need"], c["locality"]) for c in cells if c["existing"] and not c["reachable"]}
            assert {tuple(c) for c in result["amber"]} == amber, seed
            picks: list[tuple[str, str]] = []
            current = graph
            for step in result["recommendations"]:
                before = reachable_cells(current, max_hops)
                gains = {}
                for edge in allowed_edges(graph):
                    trial = with_agreements(current, [edge])
                    gains[edge] = (reachable_cells(trial, max_hops) - before) & amber
                best = max(len(g) for g in gains.values())
                edge = (step["source"]["id"], step["target"]["id"])
                assert len(step["cells"]) == best > 0, (seed, max_hops, step)
                assert {tuple(c) for c in step["cells"]} == gains[edge], (seed, max_hops)
                after = with_agreements(current, [edge])
                assert step["options"] == len(options(after, max_hops) - options(current, max_hops))
                picks.append(edge)
                current = after
                steps_checked += 1
                multi_cell_steps += best > 1
            # stops only when nothing more can be closed or the limit is reached
            if len(picks) < 3:
                before = reachable_cells(current, max_hops)
                assert all(not ((reachable_cells(with_agreements(current, [e]), max_hops) - before) & amber)
                           for e in allowed_edges(graph)), seed
            assert result["closed"] == len(reachable_cells(current, max_hops) & amber)
    assert steps_checked > 20 and multi_cell_steps > 5  # the seeds exercise the method


def test_greedy_first_pick_is_optimal_and_two_picks_near_optimal(tmp_path):
    """One agreement: greedy is exact.  Two: compared with every pair of agreements."""
    compared = 0
    for seed in range(12):
        graph = random_store(tmp_path, seed).snapshot()
        max_hops = 3
        result = compute_recommendations(graph, RecommendQuery(max_hops=max_hops, max_new=2))
        amber = {tuple(c) for c in result["amber"]}
        if not amber:
            continue
        edges = allowed_edges(graph)
        before = reachable_cells(graph, max_hops)
        singles = {e: (reachable_cells(with_agreements(graph, [e]), max_hops) - before) & amber for e in edges}
        useful = [e for e, g in singles.items() if g]
        best_two = max((len((reachable_cells(with_agreements(graph, [a, b]), max_hops) - before) & amber)
                        for i, a in enumerate(useful) for b in useful[i + 1:]), default=0)
        best_one = max((len(g) for g in singles.values()), default=0)
        steps = result["recommendations"]
        assert (len(steps[0]["cells"]) if steps else 0) == best_one
        got = steps[-1]["cells_so_far"] if steps else 0
        assert got <= max(best_two, best_one)
        assert got >= (1 - 1 / 2.718281828) * max(best_two, best_one) - 1e-9, seed
        compared += 1
    assert compared >= 5


def test_needs_and_localities_limit_the_cells_worked_on(tmp_path, demo_dir):
    store = EmbeddedStore(tmp_path / "demo.json")
    load_paths(store, [demo_dir])
    every = recommend(store)
    carers = recommend(store, RecommendQuery(needs=("carers",)))
    assert every["amber"] and all(need == "carers" for need, _ in carers["amber"])
    assert {tuple(c) for c in carers["amber"]} == {tuple(c) for c in every["amber"] if c[0] == "carers"}
    assert all(c[0] == "carers" for r in carers["recommendations"] for c in r["cells"])
    with pytest.raises(UnknownIdError):
        recommend(store, RecommendQuery(needs=("no-such-need",)))
    with pytest.raises(PathwaysError, match="between 1 and"):
        recommend(store, RecommendQuery(max_new=0))


# ------------------------------------------------------------------ protect vs brute force


def test_remedy_keeps_the_most_options_any_single_agreement_can(tmp_path):
    checked = kept_some = 0
    for seed in range(25):
        graph = random_store(tmp_path, seed).snapshot()
        for max_hops in (3, 4):
            result = compute_protection(graph, max_hops, top=3)
            now = options(graph, max_hops)
            for remedy in result["remedies"]:
                node = remedy["id"]
                lost = now - {(w, a) for w in workers(graph)
                              for a in acts(graph, hops_from(graph, w, max_hops, without=node))}
                assert len(lost) == remedy["pairs_lost"], (seed, node)
                best = 0
                for edge in allowed_edges(graph, avoid=node):
                    trial = with_agreements(graph, [edge])
                    kept = {(w, a) for w in workers(trial)
                            for a in acts(trial, hops_from(trial, w, max_hops, without=node))} & lost
                    best = max(best, len(kept))
                    if remedy["source"] and edge == (remedy["source"]["id"], remedy["target"]["id"]):
                        assert len(kept) == remedy["kept"], (seed, node)
                assert remedy["kept"] == best, (seed, max_hops, node)
                assert (remedy["source"] is None) == (best == 0)
                checked += 1
                kept_some += best > 0
    assert checked > 20 and kept_some > 10


# ------------------------------------------------------------------ simulate


def test_simulation_closes_the_recommended_cells_and_writes_nothing(tmp_path, demo_dir):
    store = EmbeddedStore(tmp_path / "demo.json")
    load_paths(store, [demo_dir])
    version, size = store.version(), (tmp_path / "demo.json").stat().st_size
    edges_before = store.snapshot().number_of_edges()
    first = recommend(store)["recommendations"][0]
    edge = (first["source"]["id"], first["target"]["id"])
    report = simulate(store, [edge], GapQuery(as_of=AS_OF))
    reached = {(c["need"], c["locality"]) for c in report["coverage"] if c["reachable"]}
    assert {tuple(c) for c in first["cells"]} <= reached
    base = gap_report(store, GapQuery(as_of=AS_OF))
    assert not {tuple(c) for c in first["cells"]} & {
        (c["need"], c["locality"]) for c in base["coverage"] if c["reachable"]}
    assert store.version() == version
    assert (tmp_path / "demo.json").stat().st_size == size
    assert store.snapshot().number_of_edges() == edges_before
    assert not store.snapshot().has_edge(*edge)


@pytest.mark.parametrize(("edge", "problem"), [
    (("svc-does-not-exist", "org-halifax-opportunities-trust"), UnknownIdError),
    (("loneliness", "org-halifax-opportunities-trust"), PathwaysError),  # a need cannot refer
    (("org-halifax-opportunities-trust", "act-makers-shed-repair-cafe"), PathwaysError),  # to an activity
    (("org-halifax-opportunities-trust", "org-halifax-opportunities-trust"), PathwaysError),
    (("org-halifax-opportunities-trust",), PathwaysError),
])
def test_simulation_refuses_agreements_that_cannot_exist(tmp_path, demo_dir, edge, problem):
    store = EmbeddedStore(tmp_path / "demo.json")
    load_paths(store, [demo_dir])
    with pytest.raises(problem):
        simulate(store, [edge])


# ------------------------------------------------------------------ the command


@pytest.fixture
def demo_cli(tmp_path, monkeypatch):
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path))
    monkeypatch.setenv("PATHWAYS_STORE", "embedded")
    assert CliRunner().invoke(cli, ["demo"]).exit_code == 0
    return tmp_path


def test_recommend_command_lists_agreements_with_method_in_every_format(demo_cli):
    runner = CliRunner()
    table = runner.invoke(cli, ["recommend", "--max-new", "2"])
    assert table.exit_code == 0, table.output
    assert "Greedy" in table.output and "+" in table.output and "×" in table.output
    data = json.loads(runner.invoke(cli, ["recommend", "--format", "json", "--max-new", "2"]).stdout)
    assert data["method"].startswith("Greedy") and len(data["recommendations"]) == 2
    first = data["recommendations"][0]
    assert first["source"]["name"] in table.output and first["target"]["name"] in table.output
    rows = runner.invoke(cli, ["recommend", "--format", "csv", "--need", "carers"]).stdout
    assert rows.splitlines()[0].lstrip("\ufeff").startswith("rank,")
    assert "Support for carers" in rows


def test_recommend_protect_gives_each_failure_point_a_route(demo_cli):
    result = CliRunner().invoke(cli, ["recommend", "--protect", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    top = data["remedies"][0]
    assert top["pairs_lost"] > top["kept"] > 0
    text = CliRunner().invoke(cli, ["recommend", "--protect"]).stdout
    assert f"cuts {top['pairs_lost']} options" in text and f"keeps {top['kept']}" in text


def test_recommend_simulate_shows_the_cells_it_would_close(demo_cli):
    data = json.loads(CliRunner().invoke(cli, ["recommend", "--format", "json", "--max-new", "1"]).stdout)
    first = data["recommendations"][0]
    result = CliRunner().invoke(cli, ["recommend", "--simulate", first["source"]["id"],
                                      first["target"]["name"]])
    assert result.exit_code == 0, result.output
    assert "Simulated: not saved" in result.output
    assert f"{len(data['amber']) - len(first['cells'])} " in result.output
    bad = CliRunner().invoke(cli, ["recommend", "--simulate", "nobody", "Nothing"])
    assert bad.exit_code != 0 and "no link worker, organisation or service" in str(bad.exception)


def test_a_simulated_graph_is_the_snapshot_plus_the_edges_and_leaves_it_untouched(tmp_path):
    for seed in range(10):
        graph = random_store(tmp_path, seed).snapshot()
        before = sorted((u, v, k) for u, v, k in graph.edges(keys=True))
        edges = allowed_edges(graph)[::7][:4]
        simulated = with_agreements(graph, edges)
        expected = graph.copy()
        for u, v in edges:
            expected.add_edge(u, v, key=RelType.REFERS_TO)
        assert sorted(simulated.edges(keys=True)) == sorted(expected.edges(keys=True))
        assert sorted(simulated.in_edges(keys=True)) == sorted(expected.in_edges(keys=True))
        assert sorted((u, v, k) for u, v, k in graph.edges(keys=True)) == before
        assert dict(simulated.nodes(data="kind")) == dict(graph.nodes(data="kind"))
        for u, v in edges:
            assert not graph.has_edge(u, v, RelType.REFERS_TO) or (u, v, RelType.REFERS_TO) in before


def test_the_page_simulates_only_recommendations_it_made_and_whole_agreements(tmp_path, demo_dir):
    from pages._whatif import chosen_edges

    store = EmbeddedStore(tmp_path / "demo.json")
    load_paths(store, [demo_dir])
    first = recommend(store)["recommendations"][0]
    assert chosen_edges(store, 4, ["1", "999"], None, None) == [
        (first["source"]["id"], first["target"]["id"])]
    for picks in (["999"], ["1", {"x": 1}], None):  # unknown ranks, or not a list of ranks
        with pytest.raises(PathwaysError, match="Tick a recommended"):
            chosen_edges(store, 4, picks, None, None)
    with pytest.raises(PathwaysError, match="both ends"):
        chosen_edges(store, 4, [], "org-halifax-opportunities-trust", None)
    with pytest.raises(PathwaysError, match="link worker, organisation or service"):
        chosen_edges(store, 4, "not a list", "act-makers-shed-repair-cafe", "org-halifax-opportunities-trust")
    with pytest.raises(PathwaysError, match="organisation or service called"):
        chosen_edges(store, 4, [], "org-halifax-opportunities-trust", "loneliness")
    assert chosen_edges(store, 4, [], first["source"]["name"], first["target"]["id"]) == [
        (first["source"]["id"], first["target"]["id"])]
