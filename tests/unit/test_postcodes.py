"""Postcodes: a locality's districts and sectors, validated on load; a person's postcode
finds their locality, longest prefix first; an unknown postcode says so."""

from __future__ import annotations

import pytest

from loaders.postcodes import normalise_prefix, parse_prefixes, postcode_prefixes
from pathways.analysis.places import locality_for_postcode
from pathways.errors import InputError
from pathways.loading import load_paths
from pathways.model import NodeKind
from pathways.store.embedded import EmbeddedStore
from tests.conftest import load_data, write_folder


@pytest.fixture
def demo(tmp_path, demo_dir):
    store = EmbeddedStore(tmp_path / "graph.json")
    load_paths(store, [demo_dir])
    return store


def test_every_demo_locality_lists_calderdale_postcodes(demo):
    places = demo.list_nodes(NodeKind.LOCALITY)
    assert places and all(p.get("postcodes") for p in places)
    for place in places:
        for prefix in place["postcodes"]:
            assert prefix.split()[0] in {"HX1", "HX2", "HX3", "HX4", "HX5", "HX6", "HX7",
                                         "HD6", "OL14"}, (place["name"], prefix)


@pytest.mark.parametrize("typed, place, matched", [
    ("OL14 5AB", "Todmorden", "OL14"),
    ("ol145ab", "Todmorden", "OL14"),  # no space, lower case
    ("  hx7   8zz ", "Hebden Bridge", "HX7"),
    ("HD6", "Brighouse", "HD6"),  # a district alone
    ("HX2 8AB", "North Halifax", "HX2 8"),  # the sector beats Central Halifax's HX2
    ("HX2 0AB", "Central Halifax", "HX2"),
    ("HX2 8", "North Halifax", "HX2 8"),  # a sector alone
])
def test_postcode_finds_its_locality_longest_prefix_first(demo, typed, place, matched):
    result = locality_for_postcode(demo, typed)
    assert result.found and result.locality["name"] == place and result.matched == matched
    assert place in result.message


@pytest.mark.parametrize("typed, says", [
    ("LS1 4AP", "no locality lists LS1 4AP"),
    ("HX3 7AA", "no locality lists HX3 7AA"),  # HX3 5 and HX3 6 are listed, not HX3 7
    ("Halifax", "'Halifax' is not a UK postcode"),
    ("", "type a postcode"),
])
def test_unknown_postcode_gives_a_plain_answer_not_an_error(demo, typed, says):
    result = locality_for_postcode(demo, typed)
    assert not result.found and result.locality is None
    assert says in result.message


def test_two_localities_listing_the_same_prefix_are_both_offered(tmp_path):
    store = EmbeddedStore(tmp_path / "graph.json")
    load_data(store, {"localities": [
        {"id": "a", "name": "Upper Town", "postcodes": "HX7"},
        {"id": "b", "name": "Lower Town", "postcodes": "hx7;HD6 1"},
    ]})
    result = locality_for_postcode(store, "HX7 1AA")
    assert not result.found and {c["name"] for c in result.candidates} == {"Upper Town",
                                                                          "Lower Town"}
    assert "could be in" in result.message
    assert locality_for_postcode(store, "HD6 1XY").locality["name"] == "Lower Town"
    assert locality_for_postcode(store, "HD6 2XY").message.startswith("no locality lists")


def test_without_postcodes_on_any_locality_the_answer_says_what_to_add(tmp_path):
    store = EmbeddedStore(tmp_path / "graph.json")
    load_data(store, {"localities": [{"id": "a", "name": "Town"}]})
    assert "add a postcodes column" in locality_for_postcode(store, "HX7 8AB").message


# --------------------------------------------------------------------------- validation


def test_prefixes_are_normalised_and_sorted():
    assert parse_prefixes(" hx7 ; HX6   2;HX7 ") == ["HX6 2", "HX7"]
    assert normalise_prefix("ol14") == "OL14"
    assert postcode_prefixes("OL14 5AB") == ["OL14 5", "OL14"]


@pytest.mark.parametrize("cell, reason", [
    ("HX7;Halifax", "'Halifax' is not a postcode district or sector"),
    ("HX7 8AB", "'HX7 8AB' is a whole postcode; list its sector or district ('HX7 8' or 'HX7')"),
    ("7HX", "'7HX' is not a postcode district or sector"),
    ("HX6 22", "'HX6 22' is not a postcode district or sector"),
])
def test_bad_postcode_prefix_is_refused_with_file_row_and_column(tmp_path, cell, reason):
    folder = write_folder(tmp_path / "data", {"localities": [
        ["id", "name", "postcodes"],
        ["loc-a", "Upper Town", "HX7"],
        ["loc-b", "Lower Town", cell],
    ]})
    store = EmbeddedStore(tmp_path / "graph.json")
    with pytest.raises(InputError) as caught:
        load_paths(store, [folder])
    [problem] = caught.value.problems
    assert (problem.file, problem.row, problem.column) == ("localities.csv", 3, "postcodes")
    assert problem.reason.startswith(reason)
    assert store.list_nodes(NodeKind.LOCALITY) == []  # nothing half-written
