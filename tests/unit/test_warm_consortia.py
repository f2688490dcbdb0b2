"""The Warmer also prepares what a consortium report starts from (the tie graph's Louvain
communities, the slow part of a first ``consortia`` call at 100k), so the first report after
a load does not compute them, and the next data version gets its own."""

from __future__ import annotations

import pathways.analysis.consortia as consortia_module
from pathways.analysis.consortia import Opportunity, consortia
from pathways.analysis.snapshot import cached_snapshot, of_kind
from pathways.analysis.warm import Warmer
from pathways.model import NodeKind
from tests.conftest import load_data


def test_the_warmer_computes_the_communities_a_consortium_report_shows(demo_store, monkeypatch):
    calls: list[int] = []
    real = consortia_module.louvain_communities

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(consortia_module, "louvain_communities", counted)
    assert Warmer(lambda: demo_store).warm_once() is True
    assert len(calls) == 1
    graph = cached_snapshot(demo_store)
    opp = Opportunity(needs=tuple(of_kind(graph, NodeKind.NEED)[:2]),
                      localities=tuple(of_kind(graph, NodeKind.LOCALITY)[:2]))
    report = consortia(demo_store, opp)
    assert len(calls) == 1  # the report found the warmed communities
    members = {m["id"] for group in report["landscape"] for m in group["members"]}
    assert members == set(of_kind(graph, NodeKind.ORGANISATION))
    load_data(demo_store, {"organisations": [{"id": "org-warm-new", "name": "New group",
                                                "kind": "voluntary_community"}]})
    assert Warmer(lambda: demo_store).warm_once() is True
    assert len(calls) == 2
    after = consortia(demo_store, opp)
    assert len(calls) == 2
    assert "org-warm-new" in {m["id"] for g in after["landscape"] for m in g["members"]}


def test_the_warmer_indexes_each_needs_activities_before_a_consortium_report(demo_store,
                                                                             monkeypatch):
    """The index of each need's activities by place (seconds at 100k) is built by the warm,
    so a report after it reads no activity's places."""
    looked: list[int] = []
    real = consortia_module.serves_whole_area

    def counted(props):
        looked.append(1)
        return real(props)

    monkeypatch.setattr(consortia_module, "serves_whole_area", counted)
    assert Warmer(lambda: demo_store).warm_once() is True
    assert looked  # the warm built it
    looked.clear()
    graph = cached_snapshot(demo_store)
    opp = Opportunity(needs=tuple(of_kind(graph, NodeKind.NEED)[:2]),
                      localities=tuple(of_kind(graph, NodeKind.LOCALITY)[:2]))
    assert consortia(demo_store, opp)["suggestions"] is not None
    assert looked == []
