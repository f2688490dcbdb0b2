"""Pathway answers whose paths come back from Neo4j as node ids, with each node's name and
kind once per answer (issue 18 item 2): run on both stores, the answers must be the same."""

from __future__ import annotations

from pathways.analysis.pathways import pathways_from
from pathways.store.base import PathwayFilter
from tests.conftest import load_data
from tests.integration.test_pathways import lw, named, rels


def test_worker_who_reaches_no_activity_gets_an_empty_list_not_an_error(store):
    load_data(store, {
        "people": [lw(), lw("lw2", "Lou Other")],
        "services": named("svc=Arts"), "activities": named("act=Choir"),
        "relationships": rels("lw2 REFERS_TO svc", "svc OFFERS act"),
    })
    assert pathways_from(store, "lw", PathwayFilter())["activities"] == []
    assert [a["id"] for a in pathways_from(store, "lw2")["activities"]] == ["act"]


def test_nodes_sharing_a_name_keep_their_own_id_and_kind_on_every_route(store):
    # Two services and an activity all called "Hub", reached along routes that share nodes:
    # names and kinds looked up once per answer must stay with the node they belong to.
    load_data(store, {
        "people": [lw()], "organisations": named("org=Hub", kind="other"),
        "services": named("s1=Hub", "s2=Hub"),
        "activities": named("a1=Hub", "a2=Art", "a3=Art"),
        "relationships": rels("lw REFERS_TO org", "org PROVIDES s1", "org PROVIDES s2",
                              "s1 OFFERS a1", "s2 OFFERS a2", "s1 OFFERS a3", "s2 OFFERS a3"),
    })
    rows = pathways_from(store, "lw")["activities"]
    got = {row["id"]: [(n["id"], n["name"], n["kind"]) for n in row["path"]] for row in rows}
    start = [("lw", "Lee Worker", "Person"), ("org", "Hub", "Organisation")]
    assert got == {
        "a2": start + [("s2", "Hub", "Service"), ("a2", "Art", "Activity")],
        "a3": start + [("s1", "Hub", "Service"), ("a3", "Art", "Activity")],  # tie: s1 < s2
        "a1": start + [("s1", "Hub", "Service"), ("a1", "Hub", "Activity")],
    }
    assert [row["id"] for row in rows] == ["a2", "a3", "a1"]  # hops, then name, then id
