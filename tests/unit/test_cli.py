"""The ``pathways`` command line on the embedded store, through CliRunner and ``main``."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from pathways.cli import cli, main
from tests.conftest import write_folder

USING = "Using the embedded store"
GRAPH = {
    "people": [["id", "name", "role", "job_title", "phone", "email"],
               ["lw", "Lee Walker", "link_worker", "Link Worker", "01422 000001", "lee@example.org"],
               ["lw2", "Ann Ash", "Link Worker", "", "", ""],
               ["pl", "Pat Lead", "partnership_lead", "", "01422 000003", "pat@example.org"]],
    "organisations": [["id", "name", "kind"], ["org", "Calder Arts", "cultural"]],
    "services": [["id", "name"], ["svc", "Arts on Prescription"], ["svc2", "Walk Calder"]],
    "activities": [["id", "name", "free", "cost", "schedule"],
                   ["art", "Art Club", "yes", "", "Tuesdays"],
                   ["walk", "Walking Group", "no", "£2", "Fridays"]],
    "needs": [["id", "name"], ["loneliness", "Loneliness"], ["physical_activity", "Physical activity"]],
    "relationships": [["source_id", "type", "target_id"],
                      ["lw", "REFERS_TO", "svc"], ["lw", "REFERS_TO", "org"],
                      ["org", "PROVIDES", "svc"], ["org", "PROVIDES", "svc2"],
                      ["svc", "OFFERS", "art"], ["svc2", "OFFERS", "walk"],
                      ["art", "ADDRESSES", "loneliness"], ["walk", "ADDRESSES", "physical_activity"]],
}


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATHWAYS_STORE", "embedded")
    return tmp_path / "home"


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def run_main(capsys, *args):
    """What a user of the installed ``pathways`` script sees: exit code, stdout, stderr."""
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def loaded(tmp_path):
    result = run("load", write_folder(tmp_path / "data", GRAPH))
    assert result.exit_code == 0, result.output
    assert "nodes: 10 new, 0 changed, 0 unchanged; relationships: 8 new" in result.stdout


def node_counts():
    return json.loads(run("stats", "--format", "json").stdout)["nodes"]


def test_template_writes_a_csv_per_table_and_a_workbook(tmp_path):
    result = run("template", tmp_path / "tpl")
    assert result.exit_code == 0
    names = sorted(p.name for p in (tmp_path / "tpl").iterdir())
    assert names == ["activities.csv", "funders.csv", "living-database.xlsx", "localities.csv",
                     "needs.csv", "networks.csv", "organisations.csv", "people.csv",
                     "relationships.csv", "services.csv"]
    assert result.stdout.count("wrote ") == 10
    header = (tmp_path / "tpl" / "people.csv").read_text(encoding="utf-8-sig").strip()
    assert header == "id,name,role,job_title,phone,email,reviewed_at"


def test_load_with_a_bad_row_exits_1_and_names_the_cell(tmp_path, capsys):
    bad = dict(GRAPH, people=GRAPH["people"][:2] + [["p9", "Sam", "doctor", "", "", ""]])
    code, _out, err = run_main(capsys, "load", write_folder(tmp_path / "bad", bad))
    assert code == 1
    assert "people.csv, row 3, column 'role': 'doctor' is not one of:" in err
    assert "nothing was written" in err
    assert USING in err
    assert sum(node_counts().values()) == 0


def test_load_allow_partial_loads_the_rest_and_writes_the_report(tmp_path, capsys):
    bad = dict(GRAPH, people=GRAPH["people"] + [["p9", "Sam", "doctor", "", "", ""]])
    report = tmp_path / "rejected.csv"
    code, out, err = run_main(capsys, "load", "--allow-partial", "--report", report,
                              write_folder(tmp_path / "bad", bad))
    assert code == 0
    assert "Loaded: nodes: 10 new" in out
    assert f"1 problem(s); rejected rows written to {report}" in err
    assert "p9" in report.read_text(encoding="utf-8-sig")
    assert node_counts()["Person"] == 3


def test_load_allow_partial_says_which_files_gave_no_row(tmp_path, capsys):
    # A cell over Excel's 32,767 characters stops the CSV reader at its row, so the file is
    # refused whole; the report named that row alone, as if the file's other rows had loaded.
    long = dict(GRAPH, activities=[GRAPH["activities"][0], ["art", "x" * 40_000, "yes", "", ""],
                                   *GRAPH["activities"][2:]],
                relationships=[row for row in GRAPH["relationships"]
                               if "art" not in row and "walk" not in row])
    report = tmp_path / "rejected.csv"
    code, out, err = run_main(capsys, "load", "--allow-partial", "--report", report,
                              write_folder(tmp_path / "long", long))
    assert code == 0 and "Loaded: nodes: 8 new" in out  # people, organisation, services, needs
    assert "Not loaded at all (none of its rows): activities.csv" in err
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert lines[1].startswith("activities.csv,0,,\"none of this file's rows was loaded")
    assert lines[2].startswith("activities.csv,2,name,\"the cell holds 40,000 characters")
    assert node_counts()["Activity"] == 0
    # a file with a refused row and loaded rows is not said to be unloaded
    code, out, err = run_main(capsys, "load", "--allow-partial", "--report", report,
                              write_folder(tmp_path / "bad", dict(GRAPH, people=GRAPH["people"] + [
                                  ["p9", "Sam", "doctor", "", "", ""]])))
    assert code == 0 and "Not loaded at all" not in err


def test_gap_reports_say_there_is_no_cell_to_count_without_localities(loaded, tmp_path):
    # GRAPH has needs but no locality (as a directory feed often has): "(none)" under coverage
    # gaps and "no amber cells: wherever provision exists ..." read as if nothing were missing.
    text = run("gaps")
    assert text.exit_code == 0, text.output
    coverage = text.stdout.split("Coverage gaps")[1].split("Unreached activities")[0]
    assert "No need × locality cells: the graph has no localities or no needs" in coverage
    assert "(none)" not in coverage
    assert "No amber cells: there is no need × locality cell to count" in text.stdout
    assert "wherever provision exists" not in text.stdout
    page = tmp_path / "gaps.html"
    assert run("gaps", "--format", "html", "-o", page).exit_code == 0
    html = page.read_text(encoding="utf-8")
    part = html.split("Coverage: reachable / existing activities")[1].split("<h2>")[0]
    assert "No need × locality cells: the graph has no localities" in part
    assert "<table>" not in part  # no empty grid with a lone "Need" header
    assert "No amber cells: there is no need × locality cell to count" in html


def test_stats_json_lists_every_kind_and_type(loaded):
    result = run("stats", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "nodes": {"Person": 3, "Organisation": 1, "Service": 2, "Activity": 2, "Locality": 0,
                  "Need": 2, "Network": 0, "Funder": 0},
        "relationships": {"WORKS_FOR": 0, "PROVIDES": 2, "OFFERS": 2, "ADDRESSES": 2,
                          "DOES_NOT_ADDRESS": 0, "LOCATED_IN": 0, "COVERS": 0, "REFERS_TO": 2, "MEMBER_OF": 0,
                          "PARTNERS_WITH": 0, "FUNDED_BY": 0},
        # Both activities have a schedule and a need, but no access tags, locality, review
        # date or contact (own or via their service); both services lack contact and review.
        "data_gaps": {"no_contact": 4, "no_schedule": 0, "no_accessibility": 2,
                      "no_location": 2, "no_need": 0, "not_reviewed": 4},
    }


def test_list_link_workers_as_csv_hides_contacts_unless_asked(loaded):
    plain = run("list", "people", "--role", "link_worker", "--format", "csv")
    assert plain.exit_code == 0
    assert list(csv.reader(io.StringIO(plain.stdout))) == [
        ["id", "name", "role", "job_title"],
        ["lw2", "Ann Ash", "link_worker", ""],
        ["lw", "Lee Walker", "link_worker", "Link Worker"],
    ]
    assert "01422" not in plain.stdout and "@" not in plain.stdout

    with_contacts = run("list", "people", "--role", "link_worker", "--format", "csv", "--contacts")
    rows = list(csv.reader(io.StringIO(with_contacts.stdout)))
    assert rows[0] == ["id", "name", "role", "job_title", "phone", "email"]
    assert rows[2] == ["lw", "Lee Walker", "link_worker", "Link Worker", "01422 000001",
                       "lee@example.org"]
    assert "pat@example.org" not in with_contacts.stdout  # the partnership lead is not listed


def test_list_json_never_shows_contacts_without_the_flag(loaded):
    people = json.loads(run("list", "people", "--format", "json").stdout)
    assert [p["id"] for p in people] == ["lw2", "lw", "pl"]
    assert all("phone" not in p and "email" not in p and "content_hash" not in p for p in people)


def test_paths_json_has_the_documented_shape(loaded):
    result = run("paths", "--from", "lw", "--format", "json")
    assert result.exit_code == 0
    lee = {"id": "lw", "name": "Lee Walker", "kind": "Person"}
    assert json.loads(result.stdout) == {
        "from": {"id": "lw", "name": "Lee Walker"},
        "activities": [
            {"id": "art", "name": "Art Club", "hops": 2, "path": [
                lee, {"id": "svc", "name": "Arts on Prescription", "kind": "Service"},
                {"id": "art", "name": "Art Club", "kind": "Activity"}]},
            {"id": "walk", "name": "Walking Group", "hops": 3, "path": [
                lee, {"id": "org", "name": "Calder Arts", "kind": "Organisation"},
                {"id": "svc2", "name": "Walk Calder", "kind": "Service"},
                {"id": "walk", "name": "Walking Group", "kind": "Activity"}]},
        ],
    }


def test_paths_filters_by_need_and_hops(loaded):
    by_need = json.loads(run("paths", "--from", "lw", "--need", "physical_activity",
                             "--format", "json").stdout)
    assert [a["id"] for a in by_need["activities"]] == ["walk"]
    short = json.loads(run("paths", "--from", "lw", "--max-hops", "2", "--format", "json").stdout)
    assert [a["id"] for a in short["activities"]] == ["art"]


def test_paths_from_unknown_worker_exits_1_with_a_clear_message(loaded, capsys):
    code, out, err = run_main(capsys, "paths", "--from", "ghost")
    assert code == 1
    # Names are accepted too now, so the message offers the link workers by name and id.
    assert ("Error: no link worker called 'ghost'. Choose one of: Ann Ash (lw2), Lee Walker (lw)."
            in err)
    assert out == ""


def test_paths_from_someone_who_is_not_a_link_worker(loaded, capsys):
    code, _out, err = run_main(capsys, "paths", "--from", "pl")
    assert code == 1
    assert "Error: 'pl' (Pat Lead) is a partnership lead, not a link worker" in err


def test_paths_from_an_activity_is_not_a_link_worker(loaded, capsys):
    code, _, err = run_main(capsys, "paths", "--from", "art")
    assert code == 1
    assert "Error: 'art' (Art Club) is a" in err and "not a link worker" in err


def test_unknown_need_lists_the_known_needs(loaded, capsys):
    code, _, err = run_main(capsys, "paths", "--from", "lw", "--need", "boredom")
    assert code == 1
    assert "'boredom'" in err
    assert "Choose one of: Loneliness (loneliness), Physical activity (physical_activity)." in err


@pytest.mark.parametrize("hops", ["0", "11"])
def test_max_hops_outside_1_to_10_is_rejected(loaded, capsys, hops):
    code, out, err = run_main(capsys, "paths", "--from", "lw", "--max-hops", hops)
    assert code == 2
    assert "--max-hops" in err and f"{hops} is not in the range 1<=x<=10" in err
    assert out == ""


def test_reset_asks_first_and_deletes_nothing_on_no(loaded):
    result = run("reset", input="n\n")
    assert result.exit_code == 1
    assert "Delete everything in the embedded store" in result.output
    assert node_counts()["Person"] == 3


def test_reset_via_main_on_no_says_aborted(loaded, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    code, _, err = run_main(capsys, "reset")
    assert code == 1
    assert "Aborted." in err
    assert node_counts()["Person"] == 3


def test_reset_yes_empties_the_store(loaded):
    result = run("reset", "--yes")
    assert result.exit_code == 0
    assert "The store is empty." in result.stdout
    assert sum(node_counts().values()) == 0


def test_paths_csv_to_file_has_a_bom_for_excel(loaded, tmp_path):
    out = tmp_path / "pathways.csv"
    result = run("paths", "--from", "lw", "--format", "csv", "-o", out)
    assert result.exit_code == 0
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [(r["id"], r["cost"], r["hops"]) for r in rows] == [("art", "free", "2"),
                                                              ("walk", "£2", "3")]
    assert rows[0]["route"] == "Lee Walker → Arts on Prescription → Art Club"
    assert rows[1]["provider"] == "Calder Arts"


@pytest.mark.parametrize("args", [
    ["stats"], ["list", "people"], ["paths", "--from", "lw"], ["reset", "--yes"],
])
def test_every_store_command_says_which_store_on_stderr(loaded, args, home):
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert f"{USING} ({home / 'graph.json'})" in result.stderr
    assert USING not in result.stdout


def test_load_says_which_store_on_stderr(tmp_path):
    result = run("load", write_folder(tmp_path / "d", {"needs": GRAPH["needs"]}))
    assert result.exit_code == 0
    assert USING in result.stderr and USING not in result.stdout


def test_main_succeeds_without_exiting(loaded, capsys):
    code, out, err = run_main(capsys, "stats", "--format", "json")
    assert code == 0
    assert json.loads(out)["nodes"]["Person"] == 3
    assert USING in err


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.org"])
def test_serve_refuses_debug_off_loopback(host, monkeypatch):
    import app as web

    started = []
    monkeypatch.setattr(web.app, "run", lambda **kw: started.append(kw))
    result = run("serve", "--host", host, "--debug")
    assert result.exit_code != 0
    assert started == []  # the Werkzeug debugger (remote code execution) never starts
    assert "--debug" in result.output and "127.0.0.1" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_serve_allows_debug_on_loopback(host, monkeypatch):
    import app as web

    started = []
    monkeypatch.setattr(web.app, "run", lambda **kw: started.append(kw))
    try:
        result = run("serve", "--host", host, "--debug")
    finally:
        import pages._access

        pages._access.configure(None)  # serve pinned its settings; later tests read their own
    assert result.exit_code == 0, result.output
    assert started == [{"host": host, "port": 8050, "debug": True}]


def test_a_load_says_which_activities_it_could_not_place(tmp_path, capsys):
    places = write_folder(tmp_path / "places", {"localities": [
        ["id", "name", "postcodes"], ["loc-uv", "Upper Valley", "HX7"]]})
    assert run_main(capsys, "load", places)[0] == 0
    acts = write_folder(tmp_path / "acts", {"activities": [
        ["id", "name", "venue"], ["a-hall", "Choir", "Town Hall, Hebden Bridge HX7 8AB"],
        ["a-leeds", "Tea", "Leeds LS1 4AP"]]})
    code, out, _err = run_main(capsys, "load", acts)
    assert code == 0
    assert "Places: 1 activity could not be placed in a locality" in out
    assert "a-leeds (" in out and "a-hall" not in out.split("Places:")[1]

