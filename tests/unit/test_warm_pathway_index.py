"""The Warmer also builds the embedded store's pathway search index (every node as a
PathwayNode: 0.9 s of the first ``pathways paths`` or Pathways page visit at 100k), so the
first pathway question after a load finds it ready, and the next data version gets its own."""

from __future__ import annotations

import pathways.store.pathway_search as pathway_search
from pathways.analysis.pathways import pathways_from
from pathways.analysis.warm import Warmer
from pathways.model import NodeKind, PersonRole
from tests.conftest import load_data


def test_the_warmer_builds_the_pathway_index_the_first_question_uses(demo_store, monkeypatch):
    built: list[str] = []
    real = pathway_search.PathwayNode

    def counted(node_id, *args):
        built.append(node_id)
        return real(node_id, *args)

    monkeypatch.setattr(pathway_search, "PathwayNode", counted)
    workers = [p["id"] for p in demo_store.list_nodes(NodeKind.PERSON, PersonRole.LINK_WORKER.value)]
    nodes = len(demo_store.snapshot())
    assert Warmer(lambda: demo_store).warm_once() is True
    assert len(built) == nodes  # every node once
    answer = pathways_from(demo_store, workers[0])
    assert answer and len(built) == nodes  # the question found the index ready
    load_data(demo_store, {"activities": [{"id": "act-warm-new", "name": "New club"}]})
    assert Warmer(lambda: demo_store).warm_once() is True
    assert len(built) == 2 * nodes + 1  # the new version's index, with the new activity
    pathways_from(demo_store, workers[0])
    assert len(built) == 2 * nodes + 1
