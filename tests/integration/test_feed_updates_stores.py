"""Newer feeds on both stores: links a feed no longer gives are removed (only its own), a
partnership's vetoes and given needs survive re-imports, needs.csv keywords infer needs."""

from __future__ import annotations

import json
from pathlib import Path

from pathways.analysis.pathways import pathways_from
from pathways.loading import load_feed, load_paths
from pathways.model import RelType
from pathways.store import GraphStore, PathwayFilter
from tests.conftest import write_folder

SERVICE = "oruk:service:1"
AT_HALIFAX = "oruk:service_at_location:sal-1-0"
AT_HEBDEN = "oruk:service_at_location:sal-1-1"
HALIFAX = ("Square Chapel", "HALIFAX", "HX1 1QG")
HEBDEN = ("Town Hall", "Hebden Bridge", "HX7 7BU")


def _service(sid: str, terms=(), sites=(), description: str = "") -> dict:
    return {
        "id": sid, "name": f"Service {sid}", "description": description,
        "organization": {"id": "org-1", "name": "Calder Trust"},
        "service_at_locations": [
            {"id": f"sal-{sid}-{n}", "location": {
                "id": f"loc-{sid}-{n}", "name": name,
                "physical_addresses": [{"address_1": "1 High Street", "city": city,
                                        "postal_code": postcode}]}}
            for n, (name, city, postcode) in enumerate(sites)],
        "service_taxonomys": [{"id": f"st-{sid}-{n}", "taxonomy": {"id": f"t-{n}", "name": term}}
                              for n, term in enumerate(terms)],
    }


def _feed(folder: Path, services: list[dict], claimed: int | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "services.json"
    body: object = services if claimed is None else {"totalElements": claimed,
                                                      "content": services}
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def _others() -> list[dict]:  # a few more services, so one service's change is a small one
    return [_service(str(n), ["Walking"], [HALIFAX]) for n in range(2, 6)]


def _links(store: GraphStore, node: str, rel: RelType) -> dict[str, dict]:
    return {target: props for _s, r, target, props in store.relationships_from([node])
            if r == rel}


def _routes(tmp_path: Path, *rows: list[str]) -> Path:
    return write_folder(tmp_path / "ours", {
        "people": [["id", "name", "role"], ["lw-sam", "Sam Link", "link_worker"]],
        "needs": [["id", "name"], ["loneliness", "Loneliness and isolation"]],
        "relationships": [["source_id", "type", "target_id"],
                          ["lw-sam", "REFERS_TO", SERVICE], *rows],
    })


def test_a_newer_feed_that_drops_a_term_and_a_location_removes_only_its_own_links(
        store, tmp_path):
    first = _feed(tmp_path / "v1", [_service("1", ["Mental Health", "Arts and Crafts"],
                                             [HALIFAX, HEBDEN]), *_others()])
    load_feed(store, [first], "oruk")
    # the partnership's own rows: a route, and a need it gives one of the imported activities
    load_paths(store, [_routes(tmp_path, ["lw-sam", "COVERS", "locality:halifax"],
                               [AT_HALIFAX, "ADDRESSES", "loneliness"])])
    assert set(_links(store, AT_HALIFAX, RelType.ADDRESSES)) == {
        "mental_health", "creativity", "loneliness"}
    creative = pathways_from(store, "lw-sam", PathwayFilter(needs=("creativity",)))
    assert {a["id"] for a in creative["activities"]} == {AT_HALIFAX, AT_HEBDEN}

    newer = _feed(tmp_path / "v2", [_service("1", ["Mental Health"], [HALIFAX]), *_others()])
    result = load_feed(store, [newer], "oruk")

    assert set(_links(store, AT_HALIFAX, RelType.ADDRESSES)) == {"mental_health", "loneliness"}
    assert AT_HEBDEN not in _links(store, SERVICE, RelType.OFFERS)
    assert (AT_HALIFAX, RelType.ADDRESSES, "creativity") in result.unlinked
    assert (SERVICE, RelType.OFFERS, AT_HEBDEN) in result.unlinked
    assert "Unlinked" in result.quality.summary()
    assert store.get_node(AT_HEBDEN)[1]["missing_from_feed"]  # the node itself: marked
    # the partnership's rows are untouched, and pathways follow the newer feed
    assert "locality:halifax" in _links(store, "lw-sam", RelType.COVERS)
    assert SERVICE in _links(store, "lw-sam", RelType.REFERS_TO)
    assert _links(store, AT_HALIFAX, RelType.ADDRESSES)["loneliness"]["source"] == \
        "relationships.csv"
    assert pathways_from(store, "lw-sam", PathwayFilter(needs=("creativity",)))[
        "activities"] == []
    again = load_feed(store, [newer], "oruk")
    assert again.unlinked == [] and again.summary.rels_new == 0


def test_a_feed_that_looks_cut_short_removes_no_link(store, tmp_path):
    services = [_service("1", ["Mental Health", "Arts and Crafts"], [HALIFAX]), *_others()]
    load_feed(store, [_feed(tmp_path / "v1", services)], "oruk")
    cut = [_service("1", ["Mental Health"], [HALIFAX]), *_others()]
    result = load_feed(store, [_feed(tmp_path / "v2", cut, claimed=40)], "oruk")
    assert result.unlinked == []
    assert "creativity" in _links(store, AT_HALIFAX, RelType.ADDRESSES)


def test_a_made_up_town_locality_gives_way_to_the_partnerships_postcodes(store, tmp_path):
    feed = _feed(tmp_path / "feed", [_service("1", ["Mental Health"], [HALIFAX]), *_others()])
    load_feed(store, [feed], "oruk")
    assert set(_links(store, AT_HALIFAX, RelType.LOCATED_IN)) == {"locality:halifax"}
    load_paths(store, [write_folder(tmp_path / "places", {"localities": [
        ["id", "name", "postcodes"], ["calder-central", "Calder Central", "HX1"]]})])

    result = load_feed(store, [feed], "oruk")

    assert set(_links(store, AT_HALIFAX, RelType.LOCATED_IN)) == {"calder-central"}
    assert (AT_HALIFAX, RelType.LOCATED_IN, "locality:halifax") in result.unlinked
    assert store.activity_details([AT_HALIFAX])[AT_HALIFAX]["localities"] == ["Calder Central"]


def test_a_partnership_veto_removes_an_inferred_need_and_survives_reimports(store, tmp_path):
    befriending = _service("1", [], [HALIFAX], "A befriending service for older people.")
    feed = _feed(tmp_path / "feed", [befriending, *_others()])
    load_feed(store, [feed], "oruk")
    inferred = _links(store, AT_HALIFAX, RelType.ADDRESSES)["loneliness"]
    assert inferred["inferred"] is True and inferred["evidence"] == "befriending"

    vetoed = load_paths(store, [_routes(tmp_path, [SERVICE, "DOES_NOT_ADDRESS", "loneliness"])])
    assert vetoed.unlinked == [(AT_HALIFAX, RelType.ADDRESSES, "loneliness")]
    assert "loneliness" not in _links(store, AT_HALIFAX, RelType.ADDRESSES)

    again = load_feed(store, [feed], "oruk")
    assert "loneliness" not in _links(store, AT_HALIFAX, RelType.ADDRESSES)
    assert any(e.rule == "vetoed-need" and e.record_id == AT_HALIFAX
               for e in again.quality.entries)
    lonely = pathways_from(store, "lw-sam", PathwayFilter(needs=("loneliness",)))
    assert lonely["activities"] == []
    assert "loneliness" not in store.activity_details([AT_HALIFAX])[AT_HALIFAX]["needs"]
    assert "Loneliness and isolation" not in store.activity_details([AT_HALIFAX])[
        AT_HALIFAX]["needs"]


def test_a_need_the_partnership_gives_wins_over_the_same_need_inferred(store, tmp_path):
    befriending = _service("1", [], [HALIFAX], "A befriending service for older people.")
    feed = _feed(tmp_path / "feed", [befriending, *_others()])
    load_paths(store, [write_folder(tmp_path / "needs", {"needs": [
        ["id", "name"], ["loneliness", "Loneliness and isolation"]]})])
    load_feed(store, [feed], "oruk")
    # the partnership gives the need itself, and vetoes it on the service: a given need stays
    load_paths(store, [_routes(tmp_path, [AT_HALIFAX, "ADDRESSES", "loneliness"],
                               [SERVICE, "DOES_NOT_ADDRESS", "loneliness"])])
    load_feed(store, [feed], "oruk")
    given = _links(store, AT_HALIFAX, RelType.ADDRESSES)["loneliness"]
    assert given["source"] == "relationships.csv" and not given.get("inferred")


def test_needs_csv_keywords_infer_the_partnerships_own_needs(store, tmp_path):
    load_paths(store, [write_folder(tmp_path / "needs", {"needs": [
        ["id", "name", "keywords"],
        ["debt", "Debt and money worries", "debt advice; money worr*; not debt collection"]]})])
    services = [_service("1", [], [HALIFAX], "Free debt advice every Monday."),
                _service("7", [], [HEBDEN], "Help with debt collection letters."),
                *_others()]
    load_feed(store, [_feed(tmp_path / "feed", services)], "oruk")
    debt = _links(store, AT_HALIFAX, RelType.ADDRESSES)["debt"]
    assert debt["inferred"] is True and debt["evidence"] == "debt advice"
    assert "debt" not in _links(store, "oruk:service_at_location:sal-7-0", RelType.ADDRESSES)
    assert store.get_node("debt")[1]["name"] == "Debt and money worries"  # not rewritten
