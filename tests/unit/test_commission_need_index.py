"""A red cell's providers elsewhere from the need's index (built once per snapshot and need,
issue 18 item 5) gives the first version's answer for every cell of random graphs, whichever
cell of a need is asked first (the index holds nothing of the cell that built it)."""

from __future__ import annotations

import pytest

from pathways.analysis.commission import elsewhere, red_cells
from pathways.store.embedded import EmbeddedStore
from tests.unit.test_commission_index import elsewhere_before, random_graph


@pytest.mark.parametrize("seed", range(40, 70))
def test_every_cell_matches_the_first_version_in_either_order(seed):
    for order in (1, -1):
        graph, needs, locs = random_graph(seed)  # a fresh snapshot: fresh indexes
        cells = [(n, p) for n in needs for p in locs][::order]
        for need, place in cells:
            assert elsewhere(graph, need, place, 10.0) == elsewhere_before(graph, need, place, 10.0)


def test_cells_with_provision_here_leave_out_only_what_is_here():
    """A provider with activities both in the cell's locality and elsewhere keeps the others
    (the index takes this locality's activities out of it, not the provider)."""
    kept = 0
    for seed in range(40, 70):
        graph, needs, locs = random_graph(seed)
        for need in needs:
            for place in locs:
                answer = elsewhere(graph, need, place, 10.0)
                if answer["provided_here"] and answer["providers"]:
                    kept += 1
                    assert answer == elsewhere_before(graph, need, place, 10.0)
    assert kept >= 20, kept


def test_red_cells_of_every_cell_match_the_first_version(tmp_path):
    for seed in (3, 11, 19):
        graph, needs, locs = random_graph(seed)
        store = EmbeddedStore(tmp_path / f"graph-{seed}.json")
        store._commit(graph)
        coverage = [{"need": n, "locality": p, "existing": 0} for n in needs for p in locs]
        assert red_cells(store, coverage) == [elsewhere_before(graph, n, p, 10.0)
                                              for n in needs for p in locs]
