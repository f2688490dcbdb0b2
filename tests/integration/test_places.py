"""Issue 15's "done when" for places: a real council directory (no taxonomy, no locations)
plus a small Living Database gives a non-empty Gaps heatmap and pathways by need, on both
stores.  The localities' postcodes are read from the directory's own text here, so the test
holds for any directory of that shape, not only these records."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pathways.analysis.gaps import gap_report
from pathways.analysis.pathways import pathways_from
from pathways.loading import load_feed, load_paths
from pathways.model import NodeKind, RelType
from pathways.store import PathwayFilter
from tests.conftest import write_folder

COUNCIL = Path("/work/shared/fixtures/oruk-council-sample")
if not COUNCIL.exists():  # the checkout's own copy, when there is one
    COUNCIL = Path(__file__).parents[1] / "fixtures" / "oruk-council-sample"
# a whole postcode as directories print them (upper case, one space or none)
POSTCODE = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?) ?[0-9][A-Z]{2}\b")


def _records() -> list[dict]:
    records: list[dict] = []
    for path in sorted(COUNCIL.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        records += data if isinstance(data, list) else data.get("content", [])
    return records


def _districts(record: dict) -> set[str]:
    org = record.get("organization") or {}
    text = " ".join(str(v or "") for v in (record.get("name"), record.get("description"),
                                            org.get("description")))
    return {m.group(1) for m in POSTCODE.finditer(text)}


def _partnership(tmp_path: Path, districts: set[str]) -> Path:
    """One locality per district the directory mentions (named so no text names it)."""
    return write_folder(tmp_path / "localities", {"localities": [
        ["id", "name", "area_type", "postcodes"],
        *[[f"loc-{d.lower()}", f"Postcode district {d}", "postcode district", d]
          for d in sorted(districts)]]})


def _routes(tmp_path: Path, orgs: set[str], districts: set[str]) -> Path:
    """A link worker covering every locality and referring to every imported organisation."""
    return write_folder(tmp_path / "routes", {
        "people": [["id", "name", "role"], ["lw-ash", "Ash Link", "link_worker"]],
        "relationships": [
            ["source_id", "type", "target_id", "method"],
            *[["lw-ash", "REFERS_TO", org, "email"] for org in sorted(orgs)],
            *[["lw-ash", "COVERS", f"loc-{d.lower()}", ""] for d in sorted(districts)]]})


def test_a_council_directory_plus_localities_and_routes_gives_a_heatmap_and_pathways(
        store, tmp_path):
    records = _records()
    mentioned = {r["id"]: _districts(r) for r in records}
    districts = set().union(*mentioned.values())
    assert districts, "the directory should mention some postcodes"
    load_paths(store, [_partnership(tmp_path, districts)])

    result = load_feed(store, [COUNCIL], "oruk")

    graph = store.snapshot()
    located = {src: (dst, data["props"]) for src, dst, rel, data in graph.edges(keys=True, data=True)
               if rel == RelType.LOCATED_IN.value or rel == RelType.LOCATED_IN}
    # every service whose text gives one district is placed there, marked inferred, with the
    # postcode as evidence; no made-up town locality
    for service_id, found in mentioned.items():
        activity = f"oruk:service:{service_id}:activity"
        if len(found) == 1 and activity in graph:
            district = next(iter(found))
            target, props = located[activity]
            assert target == f"loc-{district.lower()}", activity
            assert props["inferred"] is True and district in props["evidence"]
    assert {kind for node, kind in ((n, graph.nodes[n]["kind"]) for n in graph)
            if node.startswith("locality:")} == set()
    activities = [n for n in graph if graph.nodes[n]["kind"] in (NodeKind.ACTIVITY,
                                                                  NodeKind.ACTIVITY.value)]
    placed = [a for a in activities if a in located]
    assert result.quality.not_placed == len(activities) - len(placed) > 0
    assert f"{len(placed)} activities placed" in result.quality.summary()

    orgs = {f"oruk:organization:{r['organization']['id']}" for r in records
            if (r.get("organization") or {}).get("id")}
    load_paths(store, [_routes(tmp_path, {o for o in orgs if o in graph}, districts)])

    cells = gap_report(store)["coverage"]
    reached = [c for c in cells if c["reachable"] > 0]
    assert reached, "the heatmap should show activities a link worker reaches"
    # not only activities serving the whole area: some are there by their postcode
    assert any(located.get(a, ("",))[0] == c["locality"]
               for c in reached for a in c["reachable_activities"])
    for need in {c["need"] for c in reached}:
        found = pathways_from(store, "lw-ash", PathwayFilter(needs=(need,)))["activities"]
        assert found, need
        assert all((a["id"], need) in {(s, t) for s, t, rel in graph.edges(keys=True)
                                       if rel in (RelType.ADDRESSES, "ADDRESSES")}
                   for a in found)
