"""Coordinates in the Living Database (loaders/coordinates.py, issue 17): the area check
follows the partnership's own locality centres, this load's and the store's."""

from __future__ import annotations

from loaders.files import RawRows
from loaders.living_db import plan_load

ACTIVITY = ["id", "name", "latitude", "longitude"]


def _plan(activities: list[list[str]], localities: list[list[str]] | None = None, stored=()):
    tables = [RawRows("activities", "activities.csv", ACTIVITY,
                      [(i + 2, row) for i, row in enumerate(activities)])]
    if localities:
        tables.append(RawRows("localities", "localities.csv", ["id", "name", "latitude", "longitude"],
                              [(i + 2, row) for i, row in enumerate(localities)]))
    return plan_load(tables, {}, list(stored))


def test_without_locality_centres_any_point_on_earth_loads():
    plan = _plan([["act-1", "Lisbon group", "38.7223", "-9.1393"]])
    assert not plan.problems and plan.nodes[0].props["latitude"] == 38.7223


def test_the_area_is_this_loads_localities_and_the_stores():
    far = [["act-1", "Lisbon group", "38.7223", "-9.1393"], ["act-2", "Near", "38.75", "-9.15"]]
    here = _plan(far, localities=[["loc-lx", "Lisbon", "38.72", "-9.14"]])
    assert not here.problems
    stored = _plan(far, stored=[{"id": "loc-hx", "name": "Halifax", "latitude": 53.72,
                                 "longitude": -1.86}])
    assert [(p.row, p.column) for p in stored.problems] == [(2, "latitude"), (3, "latitude")]
    assert "far outside the partnership's area" in stored.problems[0].reason
    assert {n.id for n in stored.nodes} == set()


def test_a_locality_centre_needs_both_numbers_in_range():
    plan = _plan([], localities=[["loc-a", "A", "53.7", ""], ["loc-b", "B", "91", "-1.8"]])
    assert sorted((p.row, p.column, p.reason.split(":")[0]) for p in plan.problems) == [
        (2, "longitude", "is blank but latitude is given"),
        (3, "latitude", "91 is out of range")]
