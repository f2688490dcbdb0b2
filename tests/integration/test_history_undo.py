"""Load history and undo on both stores (issue 16 item 2): every load is recorded, and undo
gives back the whole graph, every node and relationship with every property, as it was."""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import pytest

from pathways import history
from pathways.errors import InputError, UnknownIdError
from pathways.loading import demo_data_dir, load_feed, load_paths
from pathways.model import NodeKind
from tests.conftest import write_folder

ORUK = Path(__file__).parents[1] / "fixtures" / "oruk"


@pytest.fixture
def fresh(store):
    """The store with no history left by earlier tests (a Neo4j database keeps its history
    across the fixture's reset, as it should for users)."""
    for record in store.history_records():
        store.drop_history(record["id"])
    return store


def whole_graph(store) -> tuple[dict, dict]:
    """Every node (kind and properties) and relationship (properties), read consistently."""
    graph = store.snapshot()
    nodes = {n: (a["kind"], a["props"]) for n, a in graph.nodes(data=True)}
    rels = {(u, k, v): a["props"] for u, v, k, a in graph.edges(keys=True, data=True)}
    return nodes, rels


def assert_same_graph(store, expected: tuple[dict, dict]) -> None:
    nodes, rels = whole_graph(store)
    assert set(nodes) == set(expected[0]), "the same nodes"
    for node, state in expected[0].items():
        assert nodes[node] == state, f"node {node} as it was"
    assert set(rels) == set(expected[1]), "the same relationships"
    for key, props in expected[1].items():
        assert rels[key] == props, f"relationship {key} as it was"


def edited_demo(folder: Path) -> Path:
    """The demo data with one service renamed, one activity added and offered."""
    shutil.copytree(demo_data_dir(), folder)
    services = folder / "services.csv"
    with services.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[1][1] = "Artworks Open Studio (renamed)"
    with services.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    with (folder / "activities.csv").open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    new = dict.fromkeys(header, "")
    new.update(id="act-history-test", name="Thursday Drop-in", schedule="Thursdays 14:00-15:00")
    with (folder / "activities.csv").open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerow([new[h] for h in header])
    with (folder / "relationships.csv").open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerow([rows[1][0], "OFFERS", "act-history-test", "", "", "", ""])
    return folder


def test_undo_of_a_living_database_load_gives_back_the_whole_graph(fresh, tmp_path):
    store = fresh
    load_paths(store, [demo_data_dir()], actor="first")
    before = whole_graph(store)
    result = load_paths(store, [edited_demo(tmp_path / "edited")], actor="sam")
    assert (result.summary.nodes_new, result.summary.nodes_changed) == (1, 1)
    assert store.get_node("act-history-test") is not None
    latest = history.records(store)[0]
    assert latest["actor"] == "sam" and latest["action"] == "load"

    done = history.undo(store, latest["id"], actor="admin")

    assert_same_graph(store, before)
    assert done["undoes"] == latest["id"] and done["actor"] == "admin"
    assert done["counts"]["nodes_deleted"] == 1 and done["counts"]["nodes_restored"] == 1
    rows = {r["id"]: r for r in history.records(store)}
    assert rows[latest["id"]]["undone_by"] == done["id"]


def test_undo_of_a_feed_load_with_remove_missing_restores_removed_nodes_and_links(fresh,
                                                                                  tmp_path):
    store = fresh
    load_feed(store, [ORUK / "service_full.json"], "oruk")
    # the partnership's own route into the service the newer feed drops: removing the
    # service deletes this relationship too, and undo must bring it back
    load_paths(store, [write_folder(tmp_path / "routes", {
        "people": [["id", "name", "role"], ["lw-sam", "Sam Link", "link_worker"]],
        "relationships": [["source_id", "type", "target_id", "method"],
                          ["lw-sam", "REFERS_TO", "oruk:service:106", "phone"],
                          ["lw-sam", "REFERS_TO", "oruk:service:101", "phone"]],
    })])
    before = whole_graph(store)
    removed = load_feed(store, [ORUK / "newer" / "service_full.json"], "oruk",
                        remove_missing=True, actor="feed-bot")
    assert "oruk:service:106" in removed.retired
    assert store.get_node("oruk:service:106") is None
    record = history.records(store)[0]
    assert record["action"] == "feed" and record["actor"] == "feed-bot"
    assert record["counts"]["nodes_removed"] >= 1 and record["counts"]["rels_removed"] >= 1

    history.undo(store, record["id"])

    assert_same_graph(store, before)
    assert ("lw-sam", "REFERS_TO", "oruk:service:106") in {
        (u, k.value, v) for u, k, v in whole_graph(store)[1]}


def test_undo_of_a_demo_refresh_gives_back_what_the_store_held(fresh, tmp_path):
    store = fresh
    load_paths(store, [demo_data_dir()])
    load_paths(store, [edited_demo(tmp_path / "edited")])
    before = whole_graph(store)
    refresh = load_paths(store, [demo_data_dir()])  # what `pathways demo` runs
    assert refresh.summary.nodes_changed == 1  # the renamed service is the demo's again
    record = history.records(store)[0]
    assert record["action"] == "demo"

    history.undo(store, record["id"])

    assert_same_graph(store, before)
    assert store.get_node("svc-artworks-open-studio")[1]["name"].endswith("(renamed)")


def test_history_rows_say_who_when_what_and_which_files(fresh, tmp_path):
    store = fresh
    folder = write_folder(tmp_path / "small", {
        "people": [["id", "name", "role"], ["lw-a", "A Link", "link_worker"]],
        "organisations": [["id", "name", "kind"], ["org-a", "Org A", "council"]],
        "relationships": [["source_id", "type", "target_id"], ["lw-a", "WORKS_FOR", "org-a"]],
    })
    load_paths(store, [folder], actor="alex")
    load_paths(store, [folder], actor="alex")  # the same again: recorded, changes nothing
    rows = history.records(store)
    assert [r["id"] for r in rows] == ["2", "1"]  # newest first
    first = rows[1]
    assert first["actor"] == "alex" and first["status"] == "done"
    assert first["counts"] == {"nodes_new": 2, "rels_new": 1}
    expected = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in folder.iterdir()}
    assert {s["name"]: s["sha256"] for s in first["sources"]} == expected
    assert rows[0]["counts"] == {} and rows[0]["changes"] == 0
    flat = history.rows(store)
    assert flat[1]["counts"] == "2 new nodes, 1 new relationship"
    assert flat[1]["undone"] == "no"
    assert "organisations.csv (sha256 " + expected["organisations.csv"][:12] in flat[1]["sources"]


def test_undo_refuses_while_a_later_load_stands_and_changes_nothing(fresh, tmp_path):
    store = fresh
    load_paths(store, [demo_data_dir()])
    load_paths(store, [edited_demo(tmp_path / "edited")])
    after = whole_graph(store)
    with pytest.raises(history.UndoRefused, match=r"later loads stand on it: 2 \(load"):
        history.undo(store, "1")
    assert_same_graph(store, after)
    assert [r["id"] for r in history.records(store)] == ["2", "1"]  # refusal not recorded
    history.undo(store, "2")
    history.undo(store, "1")  # now nothing stands on it
    assert sum(store.stats()["nodes"].values()) == 0
    with pytest.raises(history.UndoRefused, match="already undone by load 4"):
        history.undo(store, "1")
    with pytest.raises(UnknownIdError):
        history.undo(store, "99")


def test_undoing_an_undo_puts_the_load_back(fresh, tmp_path):
    store = fresh
    load_paths(store, [demo_data_dir()])
    loaded = whole_graph(store)
    history.undo(store, "1")
    assert sum(store.stats()["nodes"].values()) == 0
    history.undo(store, "2")
    assert_same_graph(store, loaded)
    rows = {r["id"]: r for r in history.records(store)}
    assert rows["1"]["undone_by"] is None and rows["2"]["undone_by"] == "3"


def test_a_reset_is_recorded_and_undone(fresh):
    store = fresh
    load_paths(store, [demo_data_dir()])
    loaded = whole_graph(store)
    record = history.reset_store(store, actor="pat")
    assert sum(store.stats()["nodes"].values()) == 0
    assert record["action"] == "reset" and record["counts"]["nodes_removed"] == len(loaded[0])
    history.undo(store, record["id"])
    assert_same_graph(store, loaded)


def test_a_refused_load_leaves_no_record_and_history_is_not_graph_data(fresh, tmp_path):
    store = fresh
    load_paths(store, [demo_data_dir()])
    stats = store.stats()
    bad = write_folder(tmp_path / "bad", {"people": [["id", "name", "role"],
                                                     ["p1", "", "astronaut"]]})
    with pytest.raises(InputError):
        load_paths(store, [bad])
    assert [r["id"] for r in history.records(store)] == ["1"]
    # the history is not counted, listed or snapshotted as graph data
    assert store.stats() == stats
    assert sum(stats["nodes"].values()) == store.snapshot().number_of_nodes()
    assert all(n["id"] != "1" for n in store.list_nodes(NodeKind.PERSON))


def test_an_upload_from_the_app_is_recorded_as_its_user_and_undone(fresh, tmp_path,
                                                                     monkeypatch):
    from pathways.changes import apply_upload, keep_upload, preview

    monkeypatch.setenv("PATHWAYS_UPLOAD_DIR", str(tmp_path / "uploads"))
    store = fresh
    load_paths(store, [demo_data_dir()])
    before = whole_graph(store)
    edited = edited_demo(tmp_path / "edited")
    token = keep_upload([(p.name, p.read_bytes()) for p in sorted(edited.iterdir())])
    assert preview(store, token).valid
    apply_upload(store, token, actor="editor@example.org")
    record = history.records(store)[0]
    assert (record["action"], record["actor"]) == ("upload", "editor@example.org")
    assert {s["name"] for s in record["sources"]} == {p.name for p in edited.iterdir()}

    history.undo(store, record["id"], actor="admin@example.org")

    assert_same_graph(store, before)
