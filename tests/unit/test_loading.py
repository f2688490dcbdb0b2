"""Loading files into the embedded store: all-or-nothing, partial with a report, idempotent reloads."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import pytest

from pathways.errors import InputError, Problem
from pathways.loading import is_contact_column, load_feed, load_paths
from pathways.store.base import WriteSummary
from pathways.store.embedded import EmbeddedStore
from tests.conftest import write_folder

NODES = {
    "people": [["id", "name", "role"], ["lw", "Lee Walker", "link_worker"],
               ["lw2", "Ann Ash", "link_worker"]],
    "services": [["id", "name"], ["svc", "Arts on Prescription"]],
    "activities": [["id", "name", "free"], ["art", "Art Club", "yes"]],
}
RELS = [["source_id", "type", "target_id"], ["lw", "REFERS_TO", "svc"], ["svc", "OFFERS", "art"]]
BAD_ROLE_REASON = ("'doctor' is not one of: link_worker, partnership_lead, commissioner,"
                   " practitioner, volunteer")


@pytest.fixture
def stamps(monkeypatch):
    """Every write gets a later, distinct ``loaded_at``, so a restamp cannot go unnoticed."""
    counter = itertools.count(1)
    monkeypatch.setattr("pathways.store.embedded.now_iso",
                        lambda: f"2026-01-01T00:00:{next(counter):02d}+00:00")


def loaded_at(store):
    return {n: a["props"]["loaded_at"] for n, a in store.graph.nodes(data=True)}


def test_one_bad_row_raises_and_leaves_the_store_file_unchanged(tmp_path, embedded_store):
    load_paths(embedded_store, [write_folder(tmp_path / "first", {**NODES, "relationships": RELS})])
    graph_file = tmp_path / "graph.json"
    before_bytes, before_stats = graph_file.read_bytes(), embedded_store.stats()

    second = write_folder(tmp_path / "second", {
        "people": [["id", "name", "role"], ["p1", "Pat", "volunteer"], ["p2", "Sam", "doctor"]],
        "needs": [["id", "name"], ["loneliness", "Loneliness"]],
    })
    with pytest.raises(InputError) as caught:
        load_paths(embedded_store, [second])

    assert caught.value.problems == [Problem("people.csv", 3, "role", BAD_ROLE_REASON)]
    assert "people.csv, row 3, column 'role'" in str(caught.value)
    assert "nothing was written" in str(caught.value)
    assert graph_file.read_bytes() == before_bytes
    assert embedded_store.stats() == before_stats
    assert EmbeddedStore(graph_file).get_node("p1") is None


def test_allow_partial_writes_valid_rows_and_reports_rejected_ones(tmp_path, embedded_store):
    folder = write_folder(tmp_path / "in", {
        "people": [["id", "name", "role"], ["lw", "Lee Walker", "link_worker"],
                   ["p2", "Sam Smith", "doctor"]],
        "services": [["id", "name"], ["svc", "Arts on Prescription"]],
        "relationships": [["source_id", "type", "target_id"], ["lw", "REFERS_TO", "svc"],
                          ["p2", "REFERS_TO", "svc"]],
    })
    report = tmp_path / "out" / "rejected.csv"
    result = load_paths(embedded_store, [folder], allow_partial=True, report=report)

    assert result.summary == WriteSummary(2, 0, 0, 1, 0, 0)
    assert result.report == report
    assert result.rejected == [
        Problem("people.csv", 3, "role", BAD_ROLE_REASON),
        Problem("relationships.csv", 3, "source_id", "'p2' is on a row that was rejected"),
    ]
    stats = embedded_store.stats()
    assert (stats["nodes"]["Person"], stats["relationships"]["REFERS_TO"]) == (1, 1)
    assert embedded_store.get_node("p2") is None

    data = report.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(data.decode("utf-8-sig").splitlines()))
    assert rows == [
        ["file", "row", "column", "reason", "values"],
        ["people.csv", "3", "role", BAD_ROLE_REASON, "id=p2; name=Sam Smith; role=doctor"],
        ["relationships.csv", "3", "source_id", "'p2' is on a row that was rejected",
         "source_id=p2; type=REFERS_TO; target_id=svc"],
    ]


def test_without_allow_partial_no_report_is_written(tmp_path, embedded_store):
    folder = write_folder(tmp_path / "in", {"people": [["id", "name", "role"], ["p", "Pat", "x"]]})
    with pytest.raises(InputError):
        load_paths(embedded_store, [folder], report=tmp_path / "rejected.csv")
    assert not (tmp_path / "rejected.csv").exists()


def test_loading_the_same_files_twice_changes_nothing(tmp_path, embedded_store, stamps):
    folder = write_folder(tmp_path / "in", {**NODES, "relationships": RELS})
    first = load_paths(embedded_store, [folder])
    stats, stamped = embedded_store.stats(), loaded_at(embedded_store)
    rel_stamps = [a["props"]["loaded_at"] for *_, a in embedded_store.graph.edges(data=True)]

    second = load_paths(embedded_store, [folder])

    assert first.summary == WriteSummary(4, 0, 0, 2, 0, 0)
    assert second.summary == WriteSummary(0, 0, 4, 0, 0, 2)
    assert str(second.summary).startswith("nodes: 0 new, 0 changed, 4 unchanged")
    assert embedded_store.stats() == stats
    reread = EmbeddedStore(tmp_path / "graph.json")
    assert loaded_at(reread) == stamped
    assert [a["props"]["loaded_at"] for *_, a in reread.graph.edges(data=True)] == rel_stamps


def test_changing_one_name_updates_only_that_node(tmp_path, embedded_store, stamps):
    load_paths(embedded_store, [write_folder(tmp_path / "v1", NODES)])
    before = loaded_at(embedded_store)

    renamed = dict(NODES, people=[NODES["people"][0], ["lw", "Lee Walker-Smith", "link_worker"],
                                  NODES["people"][2]])
    result = load_paths(embedded_store, [write_folder(tmp_path / "v2", renamed)])

    assert result.summary == WriteSummary(0, 1, 3, 0, 0, 0)
    assert embedded_store.get_node("lw")[1]["name"] == "Lee Walker-Smith"
    after = loaded_at(EmbeddedStore(tmp_path / "graph.json"))
    assert after["lw"] > before["lw"]
    assert {k: v for k, v in after.items() if k != "lw"} == {
        k: v for k, v in before.items() if k != "lw"}


def test_relationships_only_load_refers_to_nodes_loaded_before(tmp_path, embedded_store):
    load_paths(embedded_store, [write_folder(tmp_path / "nodes", NODES)])
    rel_file = write_folder(tmp_path / "rels", {"relationships": RELS}) / "relationships.csv"

    result = load_paths(embedded_store, [rel_file])

    assert result.summary == WriteSummary(0, 0, 0, 2, 0, 0)
    assert [(u, t.value, v) for u, t, v in embedded_store.relationships_among(["lw", "svc", "art"])] \
        == [("lw", "REFERS_TO", "svc"), ("svc", "OFFERS", "art")]


def test_relationships_only_load_rejects_an_id_not_in_the_store(tmp_path, embedded_store):
    load_paths(embedded_store, [write_folder(tmp_path / "nodes", NODES)])
    rels = [RELS[0], ["lw", "REFERS_TO", "nowhere"]]
    folder = write_folder(tmp_path / "rels", {"relationships": rels})
    with pytest.raises(InputError) as caught:
        load_paths(embedded_store, [folder])
    assert caught.value.problems == [Problem(
        "relationships.csv", 2, "target_id", "no node with id 'nowhere' in this load or in the store")]


def test_missing_path_is_an_input_error(tmp_path, embedded_store):
    with pytest.raises(InputError) as caught:
        load_paths(embedded_store, [tmp_path / "nope"])
    assert caught.value.problems == [Problem(str(tmp_path / "nope"), 0, "", "no such file or folder")]


# --------------------------------------------------------------------------- bad input (issue 11)


def test_rejected_rows_report_removes_phones_emails_and_contact_columns(tmp_path, embedded_store):
    folder = write_folder(tmp_path / "in", {
        "people": [["id", "name", "role", "phone", "email"],
                   ["lw", "Lee Walker", "link_worker", "01422 000001", "lee@example.org"],
                   ["p2", "Sam Smith", "doctor", "07700 900123", "sam.smith@example.org"]],
    })
    report = tmp_path / "rejected.csv"
    load_paths(embedded_store, [folder], allow_partial=True, report=report)

    text = report.read_text(encoding="utf-8-sig")
    assert "07700 900123" not in text and "sam.smith@example.org" not in text
    rows = list(csv.reader(text.splitlines()[1:]))
    assert rows[0][4] == ("id=p2; name=Sam Smith; role=doctor;"
                          " phone=[removed: personal data]; email=[removed: personal data]")
    assert [is_contact_column(c) for c in ("Mobile", "e-mail", "contact_name", "name", "notes")] \
        == [True, True, True, False, False]


def test_allow_partial_with_no_valid_row_refuses_but_still_reports(tmp_path, embedded_store):
    folder = write_folder(tmp_path / "in", {"people": [["id", "name", "role"], ["p", "Pat", "x"]]})
    report = tmp_path / "rejected.csv"
    with pytest.raises(InputError) as caught:
        load_paths(embedded_store, [folder], allow_partial=True, report=report)
    assert [(p.file, p.row, p.column) for p in caught.value.problems] == [("people.csv", 2, "role")]
    assert "id=p" in report.read_text(encoding="utf-8-sig")
    assert embedded_store.stats()["nodes"]["Person"] == 0


def test_files_with_only_a_header_are_refused_as_nothing_to_load(tmp_path, embedded_store):
    folder = write_folder(tmp_path / "in", {"people": [["id", "name", "role"]],
                                            "needs": [["id", "name"]]})
    with pytest.raises(InputError) as caught:
        load_paths(embedded_store, [folder])
    assert caught.value.problems == [Problem(
        "needs.csv, people.csv", 0, "", "nothing to load: the files have a header but no rows")]


def _feed(services: int, folder) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "services.json"
    path.write_text(json.dumps([{"id": str(i), "name": f"Service {i}",
                                 "organization": {"id": "org", "name": "Org"}}
                                for i in range(services)]), encoding="utf-8")
    return path


def test_remove_missing_after_a_cut_off_download_deletes_nothing(tmp_path, embedded_store):
    whole = _feed(40, tmp_path / "whole")
    load_feed(embedded_store, [whole], "oruk")
    graph_file = tmp_path / "graph.json"
    before_bytes, before_stats = graph_file.read_bytes(), embedded_store.stats()
    text = whole.read_text(encoding="utf-8")
    cut = _feed(0, tmp_path / "cut")  # one page read, then the download stops mid-page
    cut.write_text('[{"id": "1", "name": "Service 1", "organization": {"id": "org", "name": "Org"}}]'
                   "\n" + text[: len(text) // 2], encoding="utf-8")

    with pytest.raises(InputError) as caught:
        load_feed(embedded_store, [cut], "oruk", remove_missing=True)

    reasons = [p.reason for p in caught.value.problems]
    assert any("ends before the JSON is complete" in r for r in reasons)
    assert any(r.startswith("--remove-missing refused: part of the feed could not be read")
               for r in reasons)
    assert graph_file.read_bytes() == before_bytes
    assert embedded_store.stats() == before_stats


def test_a_partly_read_feed_loads_what_it_read_and_retires_nothing(tmp_path, embedded_store):
    whole = _feed(40, tmp_path / "whole")
    load_feed(embedded_store, [whole], "oruk")
    text = whole.read_text(encoding="utf-8")
    cut = _feed(0, tmp_path / "cut")
    cut.write_text('[{"id": "1", "name": "Service 1", "organization": {"id": "org", "name": "Org"}}]'
                   "\n" + text[: len(text) // 2], encoding="utf-8")

    result = load_feed(embedded_store, [cut], "oruk")

    assert result.retired == []
    assert [p.file for p in result.quality.read_problems] == ["services.json"]
    props = [a["props"] for _, a in embedded_store.snapshot().nodes(data=True)]
    assert not any("missing_from_feed" in p for p in props)
    assert embedded_store.stats()["nodes"]["Service"] == 40


def test_remove_missing_refuses_when_the_feed_lost_most_of_its_records(tmp_path, embedded_store):
    load_feed(embedded_store, [_feed(40, tmp_path / "whole")], "oruk")
    small = _feed(5, tmp_path / "small")

    with pytest.raises(InputError) as caught:
        load_feed(embedded_store, [small], "oruk", remove_missing=True)
    assert "no longer has 70 of the 81 records" in caught.value.problems[0].reason
    assert embedded_store.stats()["nodes"]["Service"] == 40

    marked = load_feed(embedded_store, [small], "oruk")  # without: marked, never deleted
    assert len(marked.retired) == 70
    assert embedded_store.stats()["nodes"]["Service"] == 40


def test_a_feed_with_nothing_readable_is_an_input_error(tmp_path, embedded_store):
    bad = tmp_path / "services.json"
    bad.write_text('{"content": [', encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_feed(embedded_store, [bad], "oruk")
    assert any(p.file == "services.json" and p.row == 1 and "was the download cut off?" in p.reason
               for p in caught.value.problems)
    assert embedded_store.stats()["nodes"]["Service"] == 0
