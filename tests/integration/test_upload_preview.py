"""Uploading data from the app (issue 16, items 1 and 3), on both stores: kept files are
validated as ``pathways load`` validates them, previewed (new, changed cell by cell, retired),
applied all-or-nothing, and refused when the store changed after the preview; update-request
workbooks round-trip and change only their organisation's rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from pathways import history
from pathways.analysis.gaps import data_gaps
from pathways.analysis.snapshot import cached_snapshot
from pathways.changes import PreviewOutdated, apply_upload, keep_upload, preview
from pathways.errors import InputError, PathwaysError
from pathways.loading import load_feed, load_paths
from pathways.update_requests import update_request_workbook
from tests.conftest import HSDS_EXAMPLES

ORUK = Path(__file__).parents[1] / "fixtures" / "oruk"
# The day the demo's review dates are judged on, given to the workbook too: not each one's
# own today, which a run crossing midnight would make two different days.
AS_OF = dt.date(2026, 11, 29)
WHEN_AND_WHERE = {"loaded_at", "source"}


@pytest.fixture(autouse=True)
def uploads(tmp_path, monkeypatch):
    monkeypatch.setenv("PATHWAYS_UPLOAD_DIR", str(tmp_path / "uploads"))


def graph_state(store) -> tuple[dict, dict]:
    """Every node's and relationship's properties, without when and from which file they were
    last written (a load records its own file as every written row's source): what a user
    sees."""
    graph = cached_snapshot(store)
    nodes = {n: {k: v for k, v in a["props"].items() if k not in WHEN_AND_WHERE}
             for n, a in graph.nodes(data=True)}
    rels = {(u, k.value, v): {p: x for p, x in d.get("props", {}).items() if p not in WHEN_AND_WHERE}
            for u, v, k, d in graph.edges(keys=True, data=True)}
    return nodes, rels


def demo_rows(demo_dir: Path, table: str) -> tuple[list[str], list[dict]]:
    with (demo_dir / f"{table}.csv").open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def csv_bytes(header: list[str], rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, header)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def changed_activity_upload(demo_dir: Path, venue: str) -> tuple[list[tuple[str, bytes]], dict]:
    """An activities.csv changing one demo activity's venue and adding one new activity,
    offered by that activity's service (relationships.csv)."""
    header, rows = demo_rows(demo_dir, "activities")
    existing = dict(rows[0], venue=venue)
    new = dict(rows[0], id="act-upload-test-new-group", name="Upload Test New Group")
    _, rels = demo_rows(demo_dir, "relationships")
    service = next(r["source_id"] for r in rels
                   if r["type"] == "OFFERS" and r["target_id"] == existing["id"])
    rel_header = ["source_id", "type", "target_id"]
    files = [("activities.csv", csv_bytes(header, [existing, new])),
             ("relationships.csv", csv_bytes(rel_header, [
                 {"source_id": service, "type": "OFFERS", "target_id": new["id"]}]))]
    return files, {"existing": existing, "new": new, "service": service}


def test_preview_shows_new_and_changed_cells_and_apply_writes_them(store, demo_dir):
    load_paths(store, [demo_dir])
    files, facts = changed_activity_upload(demo_dir, "Upload Test Hall, HX1 1AA")
    old_venue = store.get_node(facts["existing"]["id"])[1]["venue"]
    before = graph_state(store)

    token = keep_upload(files)
    shown = preview(store, token)

    assert shown.valid and shown.format == "living-db"
    assert graph_state(store) == before  # a preview writes nothing
    assert {r["id"] for r in shown.new} >= {facts["new"]["id"],
                                            f"{facts['service']} OFFERS {facts['new']['id']}"}
    venue = [c for c in shown.changed if c["item"] == facts["existing"]["id"]]
    assert [(c["column"], c["old"], c["new"]) for c in venue] == [
        ("venue", old_venue, "Upload Test Hall, HX1 1AA")]
    assert shown.retired == []

    result = apply_upload(store, token, actor="editor-ed")

    assert result.summary.nodes_new == 1 and result.summary.nodes_changed == 1
    last = history.records(store)[0]  # newest first: recorded as the signed-in person's upload
    assert (last["actor"], last["action"]) == ("editor-ed", "upload")
    assert sorted(s["name"] for s in last["sources"]) == ["activities.csv", "relationships.csv"]
    assert store.get_node(facts["existing"]["id"])[1]["venue"] == "Upload Test Hall, HX1 1AA"
    assert store.get_node(facts["new"]["id"])[0].value == "Activity"
    with pytest.raises(PathwaysError, match="expired or was already applied"):
        apply_upload(store, token)  # the kept files are gone once applied


def test_bad_upload_shows_each_problem_and_changes_nothing(store, demo_dir):
    load_paths(store, [demo_dir])
    header, rows = demo_rows(demo_dir, "activities")
    bad = [dict(rows[0], age_min="twelve"), dict(rows[1], free="perhaps")]
    before = graph_state(store)

    token = keep_upload([("activities.csv", csv_bytes(header, bad))])
    shown = preview(store, token)

    where = {(p.file, p.row, p.column) for p in shown.problems}
    assert where == {("activities.csv", 2, "age_min"), ("activities.csv", 3, "free")}
    assert not shown.valid
    with pytest.raises(PathwaysError, match="preview the upload before applying it"):
        apply_upload(store, token)
    assert graph_state(store) == before


def test_apply_is_refused_when_the_store_changed_after_the_preview(store, demo_dir, tmp_path):
    load_paths(store, [demo_dir])
    files, facts = changed_activity_upload(demo_dir, "Upload Test Hall, HX1 1AA")
    token = keep_upload(files)
    assert preview(store, token).valid
    # someone else loads a change to the same activity in between
    header, _ = demo_rows(demo_dir, "activities")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "activities.csv").write_bytes(
        csv_bytes(header, [dict(facts["existing"], venue="Somewhere Else, HX7 5AA")]))
    load_paths(store, [tmp_path / "other"])
    after_other = graph_state(store)

    with pytest.raises(PreviewOutdated, match="changed after your preview"):
        apply_upload(store, token)

    assert graph_state(store) == after_other  # nothing of the upload was written
    again = preview(store, token)  # the person looks again: the new preview shows today's value
    venue = [c for c in again.changed if c["item"] == facts["existing"]["id"]]
    assert [(c["old"], c["new"]) for c in venue] == [("Somewhere Else, HX7 5AA",
                                                      "Upload Test Hall, HX1 1AA")]
    apply_upload(store, token)
    assert store.get_node(facts["existing"]["id"])[1]["venue"] == "Upload Test Hall, HX1 1AA"


def test_feed_upload_previews_what_it_would_retire(store):
    load_feed(store, [ORUK / "service_full.json"], "oruk")
    newer = (ORUK / "newer" / "service_full.json").read_bytes()
    before = graph_state(store)

    token = keep_upload([("service_full.json", newer)])
    shown = preview(store, token)

    assert shown.valid and shown.format == "oruk"
    assert graph_state(store) == before
    retired = {r["id"] for r in shown.retired}
    assert retired and all(i.startswith("oruk:") for i in retired)
    assert any("106" in i for i in retired)  # the service the newer file no longer has
    assert any("105" in c["item"] for c in shown.changed)  # its price changed

    apply_upload(store, token)
    for node_id in retired:
        assert store.get_node(node_id)[1].get("missing_from_feed")


# --- update requests ------------------------------------------------------------------------

def _org_with_gaps(store) -> tuple[str, dict[str, list[str]]]:
    """The organisation the Gaps report lists first, and its items' missing things."""
    first = data_gaps(cached_snapshot(store), AS_OF)[0]
    return first["id"], {i["id"]: list(i["missing"]) for i in first["items"]}


def _rows(sheet) -> list[dict]:
    header = [c.value for c in sheet[1]]
    return [dict(zip(header, (c.value for c in row), strict=False))
            for row in sheet.iter_rows(min_row=2) if any(c.value is not None for c in row)]


def test_update_request_prefills_highlights_gaps_and_offers_dropdowns(store, demo_dir, tmp_path):
    load_paths(store, [demo_dir])
    organisation, missing = _org_with_gaps(store)

    content, org_id, _name = update_request_workbook(store, organisation, as_of=AS_OF)
    book = openpyxl.load_workbook(io.BytesIO(content))

    assert org_id == organisation
    assert [r["id"] for r in _rows(book["organisations"])] == [organisation]
    graph = cached_snapshot(store)
    services = {t for _, t, k in graph.out_edges(organisation, keys=True) if k.value == "PROVIDES"}
    assert {r["id"] for r in _rows(book["services"])} == services
    activities = {t for s in services for _, t, k in graph.out_edges(s, keys=True)
                  if k.value == "OFFERS"}
    assert {r["id"] for r in _rows(book["activities"])} == activities
    # each gap's cell is highlighted and says what is missing
    for sheet_name in ("services", "activities"):
        sheet = book[sheet_name]
        header = [c.value for c in sheet[1]]
        for row in sheet.iter_rows(min_row=2):
            item = row[0].value
            for gap, column in (("no_schedule", "schedule"), ("no_accessibility", "accessibility"),
                                ("not_reviewed", "reviewed_at")):
                if column not in header:
                    continue
                cell = row[header.index(column)]
                flagged = cell.fill.fgColor.rgb.endswith("FFFF99")
                assert flagged == (gap in missing.get(item, [])), (item, gap)
                if flagged:
                    assert cell.comment is not None and "Missing" in cell.comment.text
    # the instructions list every item with a gap
    text = "\n".join(str(c.value) for c in book["instructions"]["A"] if c.value)
    assert all(item in text for item in missing)
    # dropdowns for the allowed values, e.g. an organisation's kind and yes/no columns
    header = [c.value for c in book["organisations"][1]]
    kind_cells = f"{get_column_letter(header.index('kind') + 1)}2"
    lists = [v for v in book["organisations"].data_validations.dataValidation
             if kind_cells in v.sqref and v.type == "list"]
    assert len(lists) == 1
    assert book["activities"].data_validations.dataValidation
    assert book["_update_request"].sheet_state == "hidden"


def test_update_request_round_trip_changes_only_that_organisation(store, demo_dir, tmp_path):
    load_paths(store, [demo_dir])
    organisation, _ = _org_with_gaps(store)
    content, _, _ = update_request_workbook(store, organisation)
    path = tmp_path / "returned.xlsx"
    path.write_bytes(content)
    before_nodes, before_rels = graph_state(store)

    unchanged = load_paths(store, [path])  # sent back as it was: nothing changes
    assert unchanged.summary.nodes_changed == 0 and unchanged.summary.nodes_new == 0
    assert graph_state(store) == (before_nodes, before_rels)

    book = openpyxl.load_workbook(path)
    sheet = book["activities"]
    header = [c.value for c in sheet[1]]
    edited = sheet.cell(row=2, column=1).value
    sheet.cell(row=2, column=header.index("accessibility") + 1).value = "step_free;hearing_loop"
    sheet.cell(row=2, column=header.index("reviewed_at") + 1).value = dt.date.today().isoformat()
    book.save(path)

    result = load_paths(store, [path])

    assert result.summary.nodes_changed == 1 and result.summary.nodes_new == 0
    after_nodes, after_rels = graph_state(store)
    assert after_rels == before_rels
    assert {n for n in after_nodes if after_nodes[n] != before_nodes.get(n)} == {edited}
    assert after_nodes[edited]["accessibility"] == ["hearing_loop", "step_free"]


def test_update_request_refuses_rows_of_other_organisations(store, demo_dir, tmp_path):
    load_paths(store, [demo_dir])
    organisation, _ = _org_with_gaps(store)
    content, _, _ = update_request_workbook(store, organisation)
    path = tmp_path / "returned.xlsx"
    path.write_bytes(content)
    graph = cached_snapshot(store)
    mine = {organisation} | {t for _, t in graph.out_edges(organisation)}
    mine |= {t for s in list(mine) for _, t in graph.out_edges(s)}
    other_activity = next(n for n, a in graph.nodes(data=True)
                          if a["kind"].value == "Activity" and n not in mine)
    other_org = next(n for n, a in graph.nodes(data=True)
                     if a["kind"].value == "Organisation" and n != organisation)
    book = openpyxl.load_workbook(path)
    activities = book["activities"]
    header = [c.value for c in activities[1]]
    activities.append([{"id": other_activity, "name": "Taken Over"}.get(h) for h in header])
    bad_activity_row = activities.max_row
    orgs = book["organisations"]
    org_header = [c.value for c in orgs[1]]
    orgs.append([{"id": other_org, "name": "Renamed", "kind": "other"}.get(h) for h in org_header])
    book.save(path)
    before = graph_state(store)

    with pytest.raises(InputError) as refused:
        load_paths(store, [path])

    where = {(p.file, p.row, p.column) for p in refused.value.problems}
    assert where == {("returned.xlsx [activities]", bad_activity_row, "id"),
                     ("returned.xlsx [organisations]", 3, "id")}
    assert all(organisation in p.reason for p in refused.value.problems)
    assert graph_state(store) == before


def test_update_request_accepts_a_new_activity_of_its_own_service(store, demo_dir, tmp_path):
    load_paths(store, [demo_dir])
    organisation, _ = _org_with_gaps(store)
    content, _, _ = update_request_workbook(store, organisation)
    path = tmp_path / "returned.xlsx"
    path.write_bytes(content)
    book = openpyxl.load_workbook(path)
    service = _rows(book["services"])[0]["id"]
    header = [c.value for c in book["activities"][1]]
    book["activities"].append([{"id": "act-request-new", "name": "New Coffee Morning",
                                "serves_whole_area": "yes"}.get(h) for h in header])
    rel_header = [c.value for c in book["relationships"][1]]
    book["relationships"].append([{"source_id": service, "type": "OFFERS",
                                   "target_id": "act-request-new"}.get(h) for h in rel_header])
    book.save(path)

    load_paths(store, [path])

    assert store.get_node("act-request-new")[1]["name"] == "New Coffee Morning"
    graph = cached_snapshot(store)
    assert graph.has_edge(service, "act-request-new")


def test_update_request_cells_are_text_never_formulas(store, demo_dir, tmp_path):
    load_paths(store, [demo_dir])
    organisation, _ = _org_with_gaps(store)
    header, rows = demo_rows(demo_dir, "organisations")
    row = next(r for r in rows if r["id"] == organisation)
    (tmp_path / "org").mkdir()
    risky = '=HYPERLINK("http://example.invalid","click")'
    (tmp_path / "org" / "organisations.csv").write_bytes(
        csv_bytes(header, [dict(row, description=risky, phone="+44 1422 000000")]))
    load_paths(store, [tmp_path / "org"])

    content, _, _ = update_request_workbook(store, organisation)
    path = tmp_path / "returned.xlsx"
    path.write_bytes(content)
    sheet = openpyxl.load_workbook(path)["organisations"]
    names = [c.value for c in sheet[1]]
    description = sheet.cell(row=2, column=names.index("description") + 1)
    phone = sheet.cell(row=2, column=names.index("phone") + 1)

    assert description.data_type == "s" and description.quotePrefix  # shown, never run
    assert phone.data_type == "s" and phone.quotePrefix
    before = graph_state(store)
    load_paths(store, [path])  # and it comes back exactly as it was
    assert graph_state(store) == before


@pytest.mark.parametrize("zipped", [False, True], ids=["files", "zip"])
def test_an_hsds_tabular_feed_uploads_as_its_datapackage_and_csv_tables(store, zipped):
    folder = HSDS_EXAMPLES / "csv"
    files = [(p.name, p.read_bytes()) for p in sorted(folder.iterdir()) if p.is_file()]
    if zipped:  # the feed's folder, zipped as a file manager zips it
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in files:
                archive.writestr(f"csv/{name}", data)
        files = [("hsds-feed.zip", out.getvalue())]
    token = keep_upload(files)

    shown = preview(store, token)

    assert shown.valid and shown.format == "hsds"
    assert any(r["kind"] == "Organisation" for r in shown.new)
    assert graph_state(store) == ({}, {})
    apply_upload(store, token)
    assert {r["id"] for r in shown.new if r["kind"] != "relationship"} <= set(graph_state(store)[0])
