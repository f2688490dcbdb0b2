"""The pure Living Database loader: every validation rule names file, Excel row, column, reason."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from loaders.files import RawRows, read_sources, write_templates
from loaders.living_db import plan_load
from pathways.errors import Problem
from pathways.model import NODE_COLUMNS, RELATIONSHIP_COLUMNS, NodeKind
from tests.conftest import tables_from

LW = {"id": "lw", "name": "Lee Walker", "role": "link_worker"}
ORG = {"id": "org", "name": "Calder Arts", "kind": "cultural"}
SVC = {"id": "svc", "name": "Arts on Prescription"}
ACT = {"id": "art", "name": "Art Club"}


def plan(data, existing=None):
    return plan_load(tables_from(data), existing or {})


def where(problems):
    return [(p.file, p.row, p.column) for p in problems]


def only_problem(result) -> Problem:
    assert len(result.problems) == 1, result.problems
    return result.problems[0]


# --------------------------------------------------------------------------- headers


def test_unknown_column_refuses_the_whole_file():
    result = plan({"people": [dict(LW, colour="red"), {"id": "p2", "name": "Pat", "role": "volunteer"}]})
    problem = only_problem(result)
    assert where([problem]) == [("people.csv", 1, "colour")]
    assert problem.reason.startswith("unknown column; expected: id, name, role, job_title")
    assert result.nodes == []
    assert set(result.rejected) == {("people.csv", 2), ("people.csv", 3)}


def test_duplicate_header_column_is_reported_on_row_1():
    raw = RawRows("people", "people.csv", ["id", "name", "name", "role"],
                  [(2, ["lw", "Lee", "Lee", "link_worker"])])
    result = plan_load([raw], {})
    assert only_problem(result) == Problem("people.csv", 1, "name", "column appears twice in the header")
    assert result.nodes == []


def test_missing_required_column_is_reported_on_row_1():
    result = plan({"people": [{"id": "lw", "name": "Lee"}]})
    assert only_problem(result) == Problem("people.csv", 1, "role", "required column is missing")


# --------------------------------------------------------------------------- rows and ids


def test_blank_required_value_rejects_only_that_row():
    result = plan({"people": [LW, {"id": "p2", "name": "", "role": "volunteer"}]})
    assert only_problem(result) == Problem("people.csv", 3, "name", "required value is blank")
    assert [n.id for n in result.nodes] == ["lw"]


def test_id_with_a_space_is_rejected():
    result = plan({"needs": [{"id": "social isolation", "name": "Isolation"}]})
    assert only_problem(result) == Problem("needs.csv", 2, "id", "an id must not contain spaces")


def test_duplicate_id_within_a_file_keeps_the_first():
    result = plan({"people": [LW, dict(LW, name="Lee Again")]})
    assert only_problem(result) == Problem(
        "people.csv", 3, "id", "duplicate id 'lw', first at people.csv, row 2")
    assert [(n.id, n.props["name"]) for n in result.nodes] == [("lw", "Lee Walker")]


def test_duplicate_id_across_files_names_the_first_file():
    result = plan({"people": [LW], "services": [{"id": "lw", "name": "Link Service"}]})
    assert only_problem(result) == Problem(
        "services.csv", 2, "id", "duplicate id 'lw', first at people.csv, row 2")


def test_csv_row_numbers_are_excel_rows_even_after_a_blank_line(tmp_path):
    (tmp_path / "needs.csv").write_text("id,name\nok,Fine\n\nbad id,Broken\n", encoding="utf-8")
    tables, problems = read_sources([tmp_path])
    assert problems == []
    assert where(plan_load(tables, {}).problems) == [("needs.csv", 4, "id")]


# --------------------------------------------------------------------------- relationships


def test_relationship_to_unknown_id_is_rejected():
    result = plan({"people": [LW], "relationships": [
        {"source_id": "lw", "type": "REFERS_TO", "target_id": "ghost"}]})
    assert only_problem(result) == Problem(
        "relationships.csv", 2, "target_id", "no node with id 'ghost' in this load or in the store")
    assert result.rels == []


def test_relationship_to_id_already_in_store_is_accepted():
    result = plan({"services": [SVC], "relationships": [
        {"source_id": "lw", "type": "REFERS_TO", "target_id": "svc"}]},
        existing={"lw": NodeKind.PERSON})
    assert result.problems == []
    assert [(r.source_id, r.type.value, r.target_id) for r in result.rels] == [
        ("lw", "REFERS_TO", "svc")]


def test_id_already_in_store_as_another_kind_is_rejected():
    result = plan({"services": [dict(SVC, id="lw")]}, existing={"lw": NodeKind.PERSON})
    assert only_problem(result) == Problem(
        "services.csv", 2, "id", "id 'lw' is already a Person in the store")
    assert result.nodes == []


@pytest.mark.parametrize("rel, column, reason", [
    (("org", "OFFERS", "art"), "source_id", "OFFERS must start from Service, not Organisation 'org'"),
    (("lw", "WORKS_FOR", "svc"), "target_id", "WORKS_FOR must point to Organisation, not Service 'svc'"),
    (("svc", "REFERS_TO", "art"), "target_id",
     "REFERS_TO must point to Organisation or Service, not Activity 'art'"),
])
def test_relationship_type_not_allowed_between_these_kinds(rel, column, reason):
    source, rel_type, target = rel
    result = plan({"people": [LW], "organisations": [ORG], "services": [SVC], "activities": [ACT],
                   "relationships": [{"source_id": source, "type": rel_type, "target_id": target}]})
    assert only_problem(result) == Problem("relationships.csv", 2, column, reason)


def test_refers_to_property_on_another_type_is_rejected_but_notes_are_fine():
    result = plan({"services": [SVC], "activities": [ACT], "relationships": [
        {"source_id": "svc", "type": "OFFERS", "target_id": "art", "method": "phone", "notes": ""},
        {"source_id": "svc", "type": "OFFERS", "target_id": "art", "method": "", "notes": "weekly"}]})
    assert only_problem(result) == Problem(
        "relationships.csv", 2, "method", "only applies to REFERS_TO, not OFFERS")
    assert [r.props["notes"] for r in result.rels] == ["weekly"]


def test_refers_to_properties_are_typed():
    result = plan({"people": [LW], "services": [SVC], "relationships": [
        {"source_id": "lw", "type": "REFERS_TO", "target_id": "svc", "method": "Online form",
         "self_referral": "Yes", "typical_wait_days": "14"}]})
    assert result.problems == []
    props = result.rels[0].props
    assert (props["method"], props["self_referral"], props["typical_wait_days"]) == (
        "online_form", True, 14)


def test_self_relationship_is_rejected():
    result = plan({"organisations": [ORG], "relationships": [
        {"source_id": "org", "type": "PARTNERS_WITH", "target_id": "org"}]})
    assert only_problem(result) == Problem(
        "relationships.csv", 2, "target_id", "a node cannot have a relationship with itself")


def test_duplicate_relationship_is_rejected():
    rel = {"source_id": "lw", "type": "REFERS_TO", "target_id": "svc"}
    result = plan({"people": [LW], "services": [SVC], "relationships": [rel, rel]})
    assert only_problem(result) == Problem(
        "relationships.csv", 3, "", "duplicate relationship, first at relationships.csv, row 2")
    assert len(result.rels) == 1


def test_relationship_to_a_rejected_row_says_the_row_was_rejected():
    result = plan({"people": [dict(LW, role="doctor")], "services": [SVC], "relationships": [
        {"source_id": "lw", "type": "REFERS_TO", "target_id": "svc"}]})
    assert where(result.problems) == [("people.csv", 2, "role"), ("relationships.csv", 2, "source_id")]
    assert result.problems[1].reason == "'lw' is on a row that was rejected"
    assert result.rels == []


def test_relationship_to_a_file_refused_for_its_header_says_the_row_was_rejected():
    result = plan({"people": [LW], "services": [dict(SVC, colour="red")], "relationships": [
        {"source_id": "lw", "type": "REFERS_TO", "target_id": "svc"}]})
    assert result.problems[-1] == Problem(
        "relationships.csv", 2, "target_id", "'svc' is on a row that was rejected")


def test_relationship_to_a_row_rejected_for_kind_clash_is_rejected():
    result = plan({"organisations": [dict(ORG, id="lw")], "services": [SVC], "relationships": [
        {"source_id": "lw", "type": "REFERS_TO", "target_id": "svc"}]},
        existing={"lw": NodeKind.PERSON})
    assert result.rels == []
    assert result.problems[-1] == Problem(
        "relationships.csv", 2, "source_id", "'lw' is on a row that was rejected")


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize("table, row, column, value", [
    ("people", LW, "role", "doctor"),
    ("organisations", ORG, "kind", "charity"),
    ("relationships", {"source_id": "a", "target_id": "b"}, "type", "LIKES"),
    ("relationships", {"source_id": "a", "type": "REFERS_TO", "target_id": "b"}, "method", "fax"),
])
def test_bad_enum_value_lists_the_choices(table, row, column, value):
    result = plan({table: [dict(row, **{column: value})]})
    problem = only_problem(result)
    assert where([problem]) == [(f"{table}.csv", 2, column)]
    assert problem.reason.startswith(f"{value!r} is not one of: ")


@pytest.mark.parametrize("given", ["Link Worker", "LINK-WORKER", " link_worker "])
def test_enum_tolerates_case_spaces_and_hyphens(given):
    result = plan({"people": [dict(LW, role=given)]})
    assert result.problems == []
    assert result.nodes[0].props["role"] == "link_worker"


def test_relationship_type_tolerates_case_and_spaces():
    result = plan({"people": [LW], "services": [SVC], "relationships": [
        {"source_id": "lw", "type": "Refers to", "target_id": "svc"}]})
    assert result.problems == []


@pytest.mark.parametrize("column, value, reason", [
    ("free", "maybe", "'maybe' is not yes or no"),
    ("age_min", "3.5", "'3.5' is not a whole number"),
    ("capacity", "ten", "'ten' is not a whole number"),
    ("capacity", "-2", "'-2' must not be negative"),
    ("reviewed_at", "31/02/2026", "'31/02/2026' is not a date (use YYYY-MM-DD, e.g. 2026-03-31)"),
    ("reviewed_at", "03/31/2026", "'03/31/2026' is not a date (use YYYY-MM-DD, e.g. 2026-03-31)"),
    ("reviewed_at", "March 2026", "'March 2026' is not a date (use YYYY-MM-DD, e.g. 2026-03-31)"),
])
def test_bad_typed_value_names_the_cell(column, value, reason):
    result = plan({"activities": [ACT, dict(ACT, id="a2", **{column: value})]})
    assert only_problem(result) == Problem("activities.csv", 3, column, reason)
    assert [n.id for n in result.nodes] == ["art"]


def test_good_typed_values_are_converted():
    row = dict(ACT, free="Yes", serves_whole_area="n", illustrative="TRUE", age_min="18",
               age_max="18", capacity="0", reviewed_at="31/03/2026",
               accessibility="Step Free; hearing_loop;;HEARING_LOOP ")
    result = plan({"activities": [row, dict(ACT, id="a2", reviewed_at="2026-04-01")]})
    assert result.problems == []
    props = result.nodes[0].props
    assert (props["free"], props["serves_whole_area"], props["illustrative"]) == (True, False, True)
    assert (props["age_min"], props["age_max"], props["capacity"]) == (18, 18, 0)
    assert props["reviewed_at"] == "2026-03-31"
    assert props["accessibility"] == ["hearing_loop", "step_free"]
    assert result.nodes[1].props["reviewed_at"] == "2026-04-01"


def test_age_min_above_age_max_is_rejected():
    result = plan({"activities": [dict(ACT, age_min="65", age_max="18")]})
    assert only_problem(result) == Problem("activities.csv", 2, "age_max", "is below age_min")


# --------------------------------------------------------------------------- encodings


def _load_folder(folder):
    tables, problems = read_sources([folder])
    result = plan_load(tables, {})
    return problems + result.problems, {n.id: n.props for n in result.nodes}


@pytest.mark.parametrize("prefix", [b"", b"\xef\xbb\xbf"], ids=["utf8", "utf8-bom"])
def test_utf8_with_or_without_bom_reads_the_id_column(tmp_path, prefix):
    text = "id,name,description\r\ns1,Café Zoë,£3 a session\r\n"
    (tmp_path / "services.csv").write_bytes(prefix + text.encode("utf-8"))
    problems, nodes = _load_folder(tmp_path)
    assert problems == []
    assert nodes["s1"]["name"] == "Café Zoë"
    assert nodes["s1"]["description"] == "£3 a session"


def test_windows_1252_is_read_as_excel_wrote_it(tmp_path):
    text = "id,name,description\r\ns1,Café club,£3 a session\r\n"
    (tmp_path / "services.csv").write_bytes(text.encode("cp1252"))
    problems, nodes = _load_folder(tmp_path)
    assert problems == []
    assert (nodes["s1"]["name"], nodes["s1"]["description"]) == ("Café club", "£3 a session")


def test_bytes_invalid_in_both_encodings_name_the_line(tmp_path):
    (tmp_path / "needs.csv").write_bytes(b"id,name\r\nn1,Need\r\n\x81\x8d\r\n")
    tables, problems = read_sources([tmp_path])
    assert tables == []
    assert where(problems) == [("needs.csv", 3, "")]
    assert "byte 0x81 on line 3" in problems[0].reason
    assert "CSV UTF-8" in problems[0].reason


# --------------------------------------------------------------------------- files and workbooks


def _write_csv(path, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def test_workbook_gives_the_same_records_as_csv_files(tmp_path):
    from openpyxl import Workbook

    sheets = {
        "people": [["id", "name", "role"], ["lw", "Lee Walker", "link_worker"]],
        "services": [["id", "name", "reviewed_at"], ["svc", "Arts", dt.datetime(2026, 3, 31)]],
        "activities": [["id", "name", "age_min", "capacity"], ["art", "Art Club", 18.0, 12]],
        "relationships": [["source_id", "type", "target_id"], ["lw", "REFERS_TO", "svc"],
                          ["svc", "OFFERS", "art"]],
    }
    book = Workbook()
    book.active.title = "README"
    book["README"].append(["anything here is ignored"])
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.create_sheet("Scratch").append(["id", "name"])
    (tmp_path / "xlsx").mkdir()
    book.save(tmp_path / "xlsx" / "book.xlsx")

    (tmp_path / "csv").mkdir()
    as_text = {"people": ["lw", "Lee Walker", "link_worker"], "services": ["svc", "Arts", "2026-03-31"],
               "activities": ["art", "Art Club", "18", "12"]}
    for name, rows in sheets.items():
        data = [rows[0]] + ([as_text[name]] if name in as_text else rows[1:])
        _write_csv(tmp_path / "csv" / f"{name}.csv", data)

    def records(folder):
        tables, problems = read_sources([folder])
        result = plan_load(tables, {})
        nodes = sorted((n.kind.value, n.id, n.row, {k: v for k, v in n.props.items() if k != "source"})
                       for n in result.nodes)
        rels = [(r.type, r.source_id, r.target_id, r.row, r.props["content_hash"]) for r in result.rels]
        return problems + result.problems, nodes, rels

    xlsx_problems, xlsx_nodes, xlsx_rels = records(tmp_path / "xlsx")
    csv_problems, csv_nodes, csv_rels = records(tmp_path / "csv")
    assert csv_problems == []
    assert where(xlsx_problems) == [("book.xlsx [Scratch]", 0, "")]
    assert xlsx_problems[0].reason.startswith("unknown sheet; sheets are named people")
    assert (xlsx_nodes, xlsx_rels) == (csv_nodes, csv_rels)
    by_id = {n[1]: n[3] for n in xlsx_nodes}
    assert by_id["svc"]["reviewed_at"] == "2026-03-31"
    assert (by_id["art"]["age_min"], by_id["art"]["capacity"]) == (18, 12)


def test_unknown_csv_file_name_is_reported(tmp_path):
    _write_csv(tmp_path / "clients.csv", [["id", "name"], ["c1", "Someone"]])
    tables, problems = read_sources([tmp_path / "clients.csv"])
    assert tables == []
    assert where(problems) == [("clients.csv", 0, "")]
    assert problems[0].reason.startswith("unknown file name; CSV files are named people.csv")


def test_folder_without_csv_files_is_reported(tmp_path):
    (tmp_path / "notes.txt").write_text("not data")
    tables, problems = read_sources([tmp_path])
    assert (tables, problems) == ([], [Problem(str(tmp_path), 0, "", "folder has no .csv or .xlsx files")])


def test_templates_have_the_model_columns_and_load_as_empty(tmp_path):
    from openpyxl import load_workbook

    written = write_templates(tmp_path / "t")
    expected = {k.table: [c.name for c in cols] for k, cols in NODE_COLUMNS.items()}
    expected["relationships"] = [c.name for c in RELATIONSHIP_COLUMNS]
    assert sorted(p.name for p in written) == sorted([f"{t}.csv" for t in expected]
                                                     + ["living-database.xlsx"])
    for table, header in expected.items():
        with (tmp_path / "t" / f"{table}.csv").open(encoding="utf-8-sig", newline="") as handle:
            assert list(csv.reader(handle)) == [header]
    book = load_workbook(tmp_path / "t" / "living-database.xlsx")
    assert {s.title: [c.value for c in s[1]] for s in book.worksheets} == expected

    tables, problems = read_sources([tmp_path / "t"])
    result = plan_load(tables, {})
    assert len(tables) == 2 * len(expected)
    assert (problems, result.problems, result.nodes, result.rels) == ([], [], [], [])


# --------------------------------------------------------------------------- bad input (issue 11)


def test_zero_width_spaces_are_removed_from_text_but_refused_in_ids():
    result = plan({"people": [dict(LW, name="Lee\u200b Walker\u2060", job_title="\ufeffLink worker"),
                              dict(LW, id="lw\u200b2")]})
    assert where(result.problems) == [("people.csv", 3, "id")]
    assert "invisible or control characters (found U+200B)" in result.problems[0].reason
    assert result.nodes[0].props["name"] == "Lee Walker"
    assert result.nodes[0].props["job_title"] == "Link worker"


def test_emoji_joiners_are_kept_in_text():
    family = "Family \U0001f468\u200d\U0001f469\u200d\U0001f467 day"
    result = plan({"activities": [dict(ACT, description=family)]})
    assert result.problems == []
    assert result.nodes[0].props["description"] == family


@pytest.mark.parametrize("value", ["Art\x00Club", "Ring\x07", "Tab\x1bEscape", "C1\x85control"])
def test_control_characters_in_text_refuse_the_row(value):
    result = plan({"people": [dict(LW, name=value)]})
    assert where(result.problems) == [("people.csv", 2, "name")]
    assert "invisible control character" in result.problems[0].reason
    assert result.nodes == []


@pytest.mark.parametrize("value, reason", [
    ("1_000", "'1_000' is not a whole number"),
    ("\u0661\u0662", "'\u0661\u0662' is not a whole number"),
    ("+5", "'+5' is not a whole number"),
    ("1e3", "'1e3' is not a whole number"),
    (str(2**63), "'9223372036854775808' is too large (at most 1,000,000,000)"),
    ("9" * 5000, "'" + "9" * 40 + "'… (5,000 characters) is too large (at most 1,000,000,000)"),
])
def test_whole_numbers_are_ascii_digits_within_a_limit(value, reason):
    result = plan({"activities": [dict(ACT, capacity=value)]})
    assert result.problems == [Problem("activities.csv", 2, "capacity", reason)]


def test_whole_number_at_the_limit_and_with_spaces_is_accepted():
    result = plan({"activities": [dict(ACT, capacity=" 1000000000 ", age_min="007")]})
    assert result.problems == []
    assert (result.nodes[0].props["capacity"], result.nodes[0].props["age_min"]) == (10**9, 7)


def test_an_id_over_256_characters_is_refused_and_so_is_a_relationship_to_it():
    long_id = "p" * 257
    result = plan({"people": [dict(LW, id=long_id), dict(LW, id="p" * 256)],
                   "relationships": [{"source_id": long_id, "type": "WORKS_FOR", "target_id": "x"}]})
    assert [(p.row, p.column, p.reason) for p in result.problems] == [
        (2, "id", "the id is 257 characters long, longer than 256 characters; use a shorter id"),
        (2, "source_id", "the id is 257 characters long, longer than 256 characters; use a shorter id"),
    ]
    assert [len(n.id) for n in result.nodes] == [256]


def test_utf16_and_mixed_encodings_say_what_to_do(tmp_path):
    text = "id,name\nloneliness,Loneliness\n"
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "needs.csv").write_bytes(text.encode("utf-16"))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "needs.csv").write_bytes("id,name\nn1,Café\n".encode() + b"n2,Caf\xe9\n")
    _, utf16 = read_sources([tmp_path / "a"])
    _, mixed = read_sources([tmp_path / "b"])
    assert utf16 == [Problem("needs.csv", 0, "", "the file is UTF-16 text, which is not read"
                             " here; save it as 'CSV UTF-8' from Excel")]
    assert mixed == [Problem("needs.csv", 3, "", "the file mixes UTF-8 with another encoding"
                             " (byte 0xe9 on line 3 is not UTF-8); save it as 'CSV UTF-8' from Excel")]


def test_a_quote_closing_mid_cell_is_refused_with_its_line(tmp_path):
    (tmp_path / "needs.csv").write_text('id,name\nn1,"Art" club\n', encoding="utf-8")
    tables, problems = read_sources([tmp_path])
    assert tables == []
    assert problems == [Problem("needs.csv", 2, "", 'a quote (") closes in the middle of a cell'
                                ' (line 2); if the cell holds a quote, put the whole cell in quotes'
                                ' and write the quote twice ("")')]


def test_quotes_inside_an_unquoted_cell_and_multiline_cells_still_read(tmp_path):
    (tmp_path / "needs.csv").write_text('id,name,description\nn1,5" tall,"two\nlines"\n',
                                        encoding="utf-8")
    tables, problems = read_sources([tmp_path])
    assert problems == []
    assert tables[0].rows == [(2, ["n1", '5" tall', "two\nlines"])]


def test_same_file_names_in_two_folders_are_told_apart_by_path(tmp_path):
    for area in ("north", "south"):
        (tmp_path / area).mkdir()
        (tmp_path / area / "needs.csv").write_text("id,name\nsame,Same\n", encoding="utf-8")
    result = plan_load(read_sources([tmp_path / "north", tmp_path / "south"])[0], {})
    north, south = str(tmp_path / "north" / "needs.csv"), str(tmp_path / "south" / "needs.csv")
    assert result.problems == [Problem(south, 2, "id", f"duplicate id 'same', first at {north}, row 2")]
