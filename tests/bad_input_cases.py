"""The bad-input corpus: every kind of malformed input a partnership has sent us, or could.

Each :class:`Case` writes its files into a temporary folder and says what a load must
report: the file, the row (as Excel shows it; the line for JSON; 0 for a whole file), the
column (the field) and a key phrase of the reason.  The tests (``tests/unit/
test_bad_input_corpus.py`` on the embedded store and through the CLI, ``tests/integration/
test_bad_input_stores.py`` on both stores) load each case on top of the demo data, strict
and with ``allow_partial``, and check that it is refused with exactly those problems, that
no other exception escapes, and that the store's whole graph is unchanged.

Everything here is made up.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from pathways.errors import InputError, Problem
from pathways.loading import detect, load_feed, load_paths
from pathways.store.base import GraphStore

ORUK_FIXTURE = Path(__file__).parent / "fixtures" / "oruk" / "service_full.json"
DEMO_PERSON = "person-lw-pat-example"  # a link worker in the demo data
DEMO_ORG = "org-artworks"
DEMO_SERVICE = "svc-artworks-open-studio"
DEMO_ACTIVITY = "act-artworks-tuesday-open-studio"
PEOPLE_HEADER = ["id", "name", "role"]


@dataclass(frozen=True)
class Expect:
    """A problem the load must report: ``file`` is the file's name (a problem may give its
    whole path), ``None`` row or column means "any"."""

    file: str
    row: int | None
    column: str | None
    phrase: str

    def matches(self, problem: Problem) -> bool:
        return (self.file in {problem.file, Path(problem.file).name}
                and (self.row is None or problem.row == self.row)
                and (self.column is None or problem.column == self.column)
                and self.phrase.lower() in problem.reason.lower())


@dataclass
class Case:
    """One kind of bad input.

    ``build(folder)`` writes the files and returns the paths to load.  With
    ``allow_partial`` the ids in ``partial_loads`` (valid rows beside the bad ones) are
    written and nothing else changes; ``absent`` ids must never be written.  ``setup``
    loads something first (after the demo data); ``remove_missing`` marks a feed case whose
    strict run uses ``--remove-missing`` (a feed has no other strict mode).
    """

    name: str
    build: Callable[[Path], list[Path]]
    expect: list[Expect]
    partial_loads: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    setup: Callable[[GraphStore, Path], None] | None = None

    def __str__(self) -> str:
        return self.name


# --------------------------------------------------------------------------- writing files


def csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def write_bytes(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def write_csv(folder: Path, name: str, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    return write_bytes(folder, name, csv_text(rows).encode(encoding))


def people(*rows: list[str], header: list[str] = PEOPLE_HEADER) -> Callable[[Path], list[Path]]:
    """A builder writing one people.csv."""
    return lambda folder: [write_csv(folder, "people.csv", [header, *rows])]


def activities(column: str, value: str, **more: str) -> Callable[[Path], list[Path]]:
    """A builder writing activities.csv with one row whose ``column`` holds ``value``."""
    header = ["id", "name", column, *more]
    row = ["act-bad-1", "Bad Activity", value, *more.values()]
    return lambda folder: [write_csv(folder, "activities.csv", [header, row])]


# A square around Hebden Bridge, longitude first as GeoJSON gives it.
SQUARE = [[-2.03, 53.73], [-1.99, 53.73], [-1.99, 53.75], [-2.03, 53.75], [-2.03, 53.73]]


def with_boundary(geojson: str | None, cell: str = "hx7.geojson",
                  centre: tuple[str, str] = ("", "")) -> Callable[[Path], list[Path]]:
    """A builder writing localities.csv with one locality whose boundary names ``cell``,
    and (unless ``geojson`` is None) that file beside it holding ``geojson``."""
    def build(folder: Path) -> list[Path]:
        if geojson is not None:
            write_bytes(folder, cell, geojson.encode())
        return [write_csv(folder, "localities.csv", [
            ["id", "name", "latitude", "longitude", "boundary"],
            ["loc-bad-1", "Bad Place", *centre, cell]])]
    return build


def polygon(ring: list) -> str:
    return json.dumps({"type": "Feature", "properties": {},
                       "geometry": {"type": "Polygon", "coordinates": [ring]}})


def relationships(*rows: list[str], header=("source_id", "type", "target_id")):
    return lambda folder: [write_csv(folder, "relationships.csv", [list(header), *rows])]


def workbook(folder: Path, sheets: dict[str, list[list]], name: str = "book.xlsx") -> Path:
    from openpyxl import Workbook

    folder.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    book.remove(book.worksheets[0])  # the default sheet
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = folder / name
    book.save(path)
    return path


def rewrite_member(path: Path, member: str, change: Callable[[str], str]) -> None:
    """Rewrite one XML member of a workbook (a zip), keeping the others."""
    with zipfile.ZipFile(path) as old:
        items = [(info, old.read(info)) for info in old.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for info, data in items:
            if info.filename == member:
                data = change(data.decode("utf-8")).encode("utf-8")
            new.writestr(info.filename, data)


def xlsx_with_far_cell(folder: Path, ref: str, row: int) -> Path:
    """A 5 KB workbook declaring ``A1:XFD1048576`` with one cell at ``ref``: reading every
    declared cell would take hours."""
    path = workbook(folder, {"people": [PEOPLE_HEADER, ["lw-x1", "Pat", "volunteer"]]})
    far = f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>far</t></is></c></row>'
    rewrite_member(path, "xl/worksheets/sheet1.xml", lambda xml: re.sub(
        r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', xml
    ).replace("</sheetData>", far + "</sheetData>"))
    return path


def xlsx_with_long_cell(folder: Path) -> list[Path]:
    """A cell over 32,767 characters, which Excel and openpyxl would not write."""
    path = workbook(folder, {"activities": [["id", "name", "description"],
                                            ["act-x5", "Art", "SHORT"]]})
    rewrite_member(path, "xl/worksheets/sheet1.xml",
                   lambda xml: xml.replace(">SHORT<", f">{OVER_EXCEL}<"))
    return [path]


def xlsx_bomb(folder: Path, inflated_mb: int, member: str = "xl/worksheets/sheet1.xml") -> Path:
    """A workbook whose sheet XML is padded with ``inflated_mb`` MB of spaces (compressing
    about 1000:1), written in chunks so the test never holds it in memory."""
    path = workbook(folder, {"people": [PEOPLE_HEADER, ["lw-b1", "Pat", "volunteer"]]})
    with zipfile.ZipFile(path) as old:
        items = [(info.filename, old.read(info)) for info in old.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for name, data in items:
            if name != member:
                new.writestr(name, data)
                continue
            head, tail = data.split(b"</worksheet>")
            with new.open(name, "w", force_zip64=True) as out:
                out.write(head)
                chunk = b" " * (1 << 20)
                for _ in range(inflated_mb):
                    out.write(chunk)
                out.write(b"</worksheet>" + tail)
    return path


def oruk_services() -> list[dict]:
    return json.loads(ORUK_FIXTURE.read_text(encoding="utf-8"))


def truncated_json() -> tuple[str, int]:
    """An ORUK file cut off at the end of a line, and the line where it ends."""
    text = json.dumps(oruk_services(), indent=2)
    cut = text.rindex("\n", 0, len(text) // 2) + 1
    truncated = text[:cut]
    return truncated, truncated.count("\n") + 1


def json_file(name: str, text: str | bytes):
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    return lambda folder: [write_bytes(folder, name, data)]


def two_page_feed(folder: Path, cut_second: bool) -> Path:
    """services.json as two concatenated pages; ``cut_second`` cuts the second in half."""
    services = oruk_services()
    first = json.dumps(services[:2], indent=2)
    second = json.dumps(services[2:], indent=2)
    if cut_second:
        second = second[: second.rindex("\n", 0, len(second) // 2) + 1]
    return write_bytes(folder, "services.json", (first + "\n" + second).encode("utf-8"))


def make_empty_folder(folder: Path) -> list[Path]:
    """An empty folder called empty."""
    (folder / "empty").mkdir(parents=True)
    return [folder / "empty"]


def make_pipe(folder: Path) -> list[Path]:
    """A named pipe called people.csv: reading it would wait forever."""
    folder.mkdir(parents=True, exist_ok=True)
    os.mkfifo(folder / P)
    return [folder / P]


def hsds_folder_with_huge_cell(folder: Path) -> list[Path]:
    tables = folder / "hsds"
    write_bytes(tables, "datapackage.json", b'{"resources": []}')
    write_csv(tables, "services.csv", [["id", "name", "description"], ["s1", "Art", LONG]])
    return [tables]


def load_whole_feed_first(store: GraphStore, folder: Path) -> None:
    load_feed(store, [two_page_feed(folder / "earlier", cut_second=False)], "oruk")


# --------------------------------------------------------------------------- the cases

TRUNCATED, TRUNCATED_LINE = truncated_json()
LONG = "x" * 200_000  # over csv's own 128 KiB field limit
OVER_EXCEL = "y" * 40_000  # over Excel's 32,767 characters, under csv's limit
P = "people.csv"
A = "activities.csv"
L = "localities.csv"
R = "relationships.csv"
BOOK = "book.xlsx [people]"


def _cases() -> list[Case]:
    utf16_rows = csv_text([PEOPLE_HEADER, ["lw-u1", "Zoë", "volunteer"]])
    mixed = ("id,name,role\nlw-m1,Zoë,volunteer\n".encode()
             + "lw-m2,Chloë,volunteer\n".encode("cp1252"))
    many_columns = PEOPLE_HEADER + [f"extra_{i}" for i in range(150)]
    unterminated = b'id,name,role\nlw-q1,"Unclosed name,volunteer\nlw-q2,Sam,volunteer\n'
    unterminated_big = unterminated + b"".join(
        f"lw-q{i},Name {i},volunteer\n".encode() for i in range(3, 20_000))
    deep = '{"content": ' + "[" * 1000 + "]" * 1000 + "}"
    return [
        # ---- encodings
        Case("utf16-with-bom", lambda f: [write_bytes(f, P, utf16_rows.encode("utf-16"))],
             [Expect(P, 0, "", "UTF-16")]),
        Case("utf16-without-bom", lambda f: [write_bytes(f, P, utf16_rows.encode("utf-16-le"))],
             [Expect(P, 0, "", "UTF-16")]),
        Case("invalid-bytes", lambda f: [write_bytes(
            f, P, b"id,name,role\nlw-i1,Bad \x81\x8d Byte,volunteer\n")],
             [Expect(P, 2, "", "neither UTF-8 nor Windows-1252")]),
        Case("mixed-encodings", lambda f: [write_bytes(f, P, mixed)],
             [Expect(P, 3, "", "mixes UTF-8")]),
        Case("nul-in-name", people(["lw-n1", "Art\x00Club", "volunteer"],
                                   ["lw-n2", "Good Name", "volunteer"]),
             [Expect(P, 2, "name", "control character")], partial_loads=("lw-n2",),
             absent=("lw-n1",)),
        Case("bell-in-name", people(["lw-n3", "Ring\x07", "volunteer"]),
             [Expect(P, 2, "name", "control character")]),
        # ---- columns
        Case("unknown-column", people(["lw-c1", "Pat", "volunteer", "red"],
                                      header=PEOPLE_HEADER + ["colour"]),
             [Expect(P, 1, "colour", "unknown column")]),
        Case("missing-required-column", people(["lw-c2", "Pat"], header=["id", "name"]),
             [Expect(P, 1, "role", "required column is missing")]),
        Case("duplicate-column", people(["lw-c3", "Pat", "Pat", "volunteer"],
                                        header=["id", "name", "name", "role"]),
             [Expect(P, 1, "name", "appears twice")]),
        Case("blank-header", people(["lw-c4", "Pat", "x", "volunteer"],
                                    header=["id", "name", "", "role"]),
             [Expect(P, 1, "", "has no name")]),
        Case("too-many-columns", people(["lw-c5", "Pat", "volunteer"] + [""] * 150,
                                        header=many_columns),
             [Expect(P, 1, "", "at most 100 columns")]),
        Case("bad-header-beside-a-good-file", lambda f: [
            write_csv(f, P, [PEOPLE_HEADER + ["colour"], ["lw-c6", "Pat", "volunteer", "red"]]),
            write_csv(f, "needs.csv", [["id", "name"], ["need-good-1", "Gardening"]])],
             [Expect(P, 1, "colour", "unknown column")], partial_loads=("need-good-1",),
             absent=("lw-c6",)),
        # ---- ids
        Case("blank-id", people(["", "Pat", "volunteer"]),
             [Expect(P, 2, "id", "required value is blank")]),
        Case("id-with-space", people(["lw x", "Pat", "volunteer"]),
             [Expect(P, 2, "id", "must not contain spaces")]),
        Case("id-with-nul", people(["lw\x00x", "Pat", "volunteer"]),
             [Expect(P, 2, "id", "invisible")]),
        Case("id-with-zero-width-space", people(["lw\u200bx", "Pat", "volunteer"]),
             [Expect(P, 2, "id", "invisible")]),
        Case("id-with-word-joiner", people(["lw\u2060x", "Pat", "volunteer"]),
             [Expect(P, 2, "id", "invisible")]),
        Case("id-with-right-to-left-override", people(["lw\u202ex", "Pat", "volunteer"]),
             [Expect(P, 2, "id", "invisible")]),
        Case("id-too-long", people(["p" * 300, "Pat", "volunteer"]),
             [Expect(P, 2, "id", "longer than 256")]),
        Case("id-over-neo4j-index-key-limit", people(["p" * 9000, "Pat", "volunteer"]),
             [Expect(P, 2, "id", "longer than 256")]),
        Case("duplicate-id-in-a-file", people(["lw-d1", "Pat", "volunteer"],
                                              ["lw-d1", "Sam", "volunteer"]),
             [Expect(P, 3, "id", "duplicate id")], partial_loads=("lw-d1",)),
        Case("duplicate-id-across-files", lambda f: [
            write_csv(f, P, [PEOPLE_HEADER, ["dup-1", "Pat", "volunteer"]]),
            write_csv(f, "services.csv", [["id", "name"], ["dup-1", "Art Service"]])],
             [Expect("services.csv", 2, "id", "duplicate id")], partial_loads=("dup-1",)),
        Case("duplicate-id-of-the-demo-data", people([DEMO_PERSON, "Pat Example", "link_worker"],
                                                     [DEMO_PERSON, "Other", "volunteer"]),
             [Expect(P, 3, "id", "duplicate id")], partial_loads=(DEMO_PERSON,)),
        Case("id-changes-kind", lambda f: [write_csv(f, "organisations.csv", [
            ["id", "name", "kind"], [DEMO_PERSON, "Pat Org", "other"]])],
             [Expect("organisations.csv", 2, "id", "already a Person")]),
        # ---- relationships
        Case("dangling-relationship", relationships([DEMO_PERSON, "REFERS_TO", "svc-nowhere"]),
             [Expect(R, 2, "target_id", "no node with id")]),
        Case("dangling-invisible-id", relationships([DEMO_PERSON, "REFERS_TO",
                                                     DEMO_SERVICE + "\u200b"]),
             [Expect(R, 2, "target_id", "invisible")]),
        Case("wrong-kind-endpoint", relationships([DEMO_PERSON, "OFFERS", DEMO_ACTIVITY]),
             [Expect(R, 2, "source_id", "must start from")]),
        Case("self-loop", relationships([DEMO_ORG, "PARTNERS_WITH", DEMO_ORG]),
             [Expect(R, 2, "target_id", "itself")]),
        Case("duplicate-relationship", relationships([DEMO_ORG, "PROVIDES", DEMO_SERVICE],
                                                     [DEMO_ORG, "PROVIDES", DEMO_SERVICE]),
             [Expect(R, 3, "", "duplicate relationship")]),
        Case("property-not-allowed", relationships(
            [DEMO_SERVICE, "OFFERS", DEMO_ACTIVITY, "phone"],
            header=("source_id", "type", "target_id", "method")),
             [Expect(R, 2, "method", "only applies to REFERS_TO")]),
        Case("unknown-relationship-type", relationships([DEMO_PERSON, "LIKES", DEMO_SERVICE]),
             [Expect(R, 2, "type", "is not one of")]),
        # ---- values
        Case("bad-enum", people(["lw-v1", "Pat", "doctor"], ["lw-v2", "Sam", "volunteer"]),
             [Expect(P, 2, "role", "is not one of")], partial_loads=("lw-v2",),
             absent=("lw-v1",)),
        Case("bad-bool", activities("free", "maybe"), [Expect(A, 2, "free", "is not yes or no")]),
        Case("bad-int", activities("age_min", "ten"), [Expect(A, 2, "age_min", "whole number")]),
        Case("negative-int", activities("age_min", "-5"),
             [Expect(A, 2, "age_min", "must not be negative")]),
        Case("underscore-int", activities("capacity", "1_000"),
             [Expect(A, 2, "capacity", "whole number")]),
        Case("arabic-indic-digits", activities("capacity", "\u0661\u0662"),
             [Expect(A, 2, "capacity", "whole number")]),
        Case("int-2-to-the-63", activities("capacity", str(2**63)),
             [Expect(A, 2, "capacity", "too large")]),
        Case("int-5000-digits", activities("capacity", "9" * 5000),
             [Expect(A, 2, "capacity", "too large")]),
        Case("rel-int-2-to-the-64", relationships(
            [DEMO_PERSON, "REFERS_TO", DEMO_SERVICE, str(2**64)],
            header=("source_id", "type", "target_id", "typical_wait_days")),
             [Expect(R, 2, "typical_wait_days", "too large")]),
        Case("bad-date", activities("reviewed_at", "31/02/2026"),
             [Expect(A, 2, "reviewed_at", "is not a date")]),
        Case("age-min-above-age-max", activities("age_min", "70", age_max="18"),
             [Expect(A, 2, "age_max", "below age_min")]),
        # ---- cells, quotes, shapes
        Case("huge-cell", activities("description", LONG),
             [Expect(A, 2, "description", "32,767")]),
        Case("cell-over-excel-limit", activities("description", OVER_EXCEL),
             [Expect(A, 2, "description", "32,767")]),
        Case("unterminated-quote", lambda f: [write_bytes(f, P, unterminated)],
             [Expect(P, 2, "name", "quote")]),
        Case("unterminated-quote-in-a-big-file", lambda f: [write_bytes(f, P, unterminated_big)],
             [Expect(P, 2, "name", "quote")]),
        Case("too-many-cells", people(["lw-s1", "Pat", "volunteer", "extra", "more"]),
             [Expect(P, 2, "", "has 5 cells but the header has 3 columns")]),
        Case("empty-file", lambda f: [write_bytes(f, P, b"")], [Expect(P, 0, "", "empty")]),
        Case("blank-lines-only", lambda f: [write_bytes(f, P, b"\r\n \r\n\r\n")],
             [Expect(P, 0, "", "empty")]),
        Case("header-only", people(), [Expect(P, 0, "", "no rows")]),
        # ---- files
        Case("same-file-twice", lambda f: 2 * people(["lw-t1", "Pat", "volunteer"])(f),
             [Expect(P, 0, "", "given twice")]),
        Case("file-and-its-folder", lambda f: [f, *people(["lw-t2", "Pat", "volunteer"])(f)],
             [Expect(P, 0, "", "given twice")]),
        Case("csv-too-large", people(*[[f"lw-l{i}", "Pat", "volunteer"] for i in range(200)]),
             [Expect(P, 0, "", "larger than")], env={"PATHWAYS_MAX_CSV_MB": "0.001"}),
        Case("unknown-file-name", lambda f: [write_csv(f, "peoples.csv", [PEOPLE_HEADER])],
             [Expect("peoples.csv", 0, "", "unknown file name")]),
        Case("not-a-data-file", lambda f: [write_bytes(f, "notes.txt", b"hello")],
             [Expect("notes.txt", 0, "", "not a .json, .csv or .xlsx")]),
        Case("missing-path", lambda f: [f / "nowhere.csv"],
             [Expect("nowhere.csv", 0, "", "no such file")]),
        Case("pipe-named-like-a-csv", make_pipe,
             [Expect(P, 0, "", "not a file or a folder")]),
        Case("empty-folder", make_empty_folder,
             [Expect("empty", 0, "", "folder has no")]),
        # ---- workbooks
        Case("xlsx-not-a-zip", lambda f: [write_bytes(f, "book.xlsx", b"id,name\n")],
             [Expect("book.xlsx", 0, "", "not an XLSX workbook")]),
        Case("xlsx-zip-bomb", lambda f: [xlsx_bomb(f, 300)],
             [Expect("book.xlsx", 0, "", "unpacks to")]),
        Case("xlsx-compression-ratio", lambda f: [xlsx_bomb(f, 30)],
             [Expect("book.xlsx", 0, "", "compression ratio")]),
        Case("xlsx-huge-dimension", lambda f: [xlsx_with_far_cell(f, "XFD1048576", 1048576)],
             [Expect(BOOK, None, "", "200,000 rows")]),
        Case("xlsx-far-column", lambda f: [xlsx_with_far_cell(f, "XFD3", 3)],
             [Expect(BOOK, 3, "", "100 columns")]),
        Case("xlsx-too-many-columns", lambda f: [workbook(f, {"people": [
            many_columns, ["lw-x2", "Pat", "volunteer"]]})],
             [Expect(BOOK, 1, "", "100 columns")]),
        Case("xlsx-formula-without-value", lambda f: [workbook(f, {"people": [
            PEOPLE_HEADER, ["lw-x3", '=UPPER("pat")', "volunteer"]]})],
             [Expect(BOOK, 2, "name", "formula")]),
        Case("xlsx-error-cell", lambda f: [workbook(f, {"people": [
            PEOPLE_HEADER, ["lw-x4", "#N/A", "volunteer"]]})],
             [Expect(BOOK, 2, "name", "Excel error")]),
        Case("xlsx-cell-over-excel-limit", xlsx_with_long_cell,
             [Expect("book.xlsx [activities]", 2, "description", "32,767")]),
        Case("xlsx-unknown-sheet", lambda f: [workbook(f, {"staff": [PEOPLE_HEADER]})],
             [Expect("book.xlsx [staff]", 0, "", "unknown sheet")]),
        Case("xlsx-too-large", lambda f: [workbook(f, {"people": [
            PEOPLE_HEADER, *[[f"lw-y{i}", "Pat", "volunteer"] for i in range(300)]]})],
             [Expect("book.xlsx", 0, "", "larger than")], env={"PATHWAYS_MAX_XLSX_MB": "0.001"}),
        # ---- JSON feeds
        Case("json-truncated", json_file("services.json", TRUNCATED),
             [Expect("services.json", TRUNCATED_LINE, "", "ends before the JSON is complete")]),
        Case("json-nested-1000-deep", json_file("services.json", deep),
             [Expect("services.json", 1, "", "nested")]),
        Case("json-nan", json_file("services.json", '[{"id": "1", "name": "A",\n'
                                                    ' "eligibilitys": [{"minimum_age": NaN}]}]'),
             [Expect("services.json", 2, "", "NaN")]),
        Case("json-infinity", json_file("services.json", '[{"id": "1", "name": "A",'
                                                         ' "minimum_age": -Infinity}]'),
             [Expect("services.json", 1, "", "Infinity")]),
        Case("json-number-with-5000-digits", json_file(
            "services.json", '[{"id": ' + "7" * 5000 + ', "name": "A"}]'),
             [Expect("services.json", 1, "", "digits")]),
        Case("json-top-level-string", json_file("services.json", '"hello"'),
             [Expect("services.json", 0, "", "not a JSON object")]),
        Case("json-top-level-number", json_file("services.json", "42"),
             [Expect("services.json", 0, "", "not a JSON object")]),
        Case("json-empty-object", json_file("services.json", "{}"),
             [Expect("services.json", 0, "id", "has no id")]),
        Case("json-empty-list", json_file("services.json", "[]"),
             [Expect("services.json", 0, "", "no records")]),
        Case("json-empty-file", json_file("services.json", ""),
             [Expect("services.json", 0, "", "empty")]),
        Case("json-utf16", json_file("services.json", json.dumps(oruk_services()).encode("utf-16")),
             [Expect("services.json", 0, "", "UTF-16")]),
        Case("json-invalid-bytes", json_file("services.json", b'[{"id": "1", "name": "\x81"}]'),
             [Expect("services.json", 1, "", "neither UTF-8 nor Windows-1252")]),
        Case("json-too-large", json_file("services.json", json.dumps(oruk_services())),
             [Expect("services.json", 0, "", "larger than")],
             env={"PATHWAYS_MAX_JSON_MB": "0.001"}),
        Case("json-given-twice", lambda f: 2 * json_file("services.json", "[]")(f),
             [Expect("services.json", 0, "", "given twice")]),
        Case("json-id-too-long", json_file("services.json", json.dumps([
            {"id": "s" * 9000, "name": "Art", "organization": {"id": "o" * 9000, "name": "Org"}}])),
             [Expect("services.json", 0, "id", "longer than 256")]),
        Case("json-invisible-id", json_file("services.json", json.dumps([
            {"id": "1\u0000\u200b", "name": "Art"}])),
             [Expect("services.json", 0, "id", "invisible")]),
        Case("hsds-tabular-huge-cell", hsds_folder_with_huge_cell,
             [Expect("services.csv", 2, "description", "32,767")]),
        Case("truncated-feed-with-remove-missing", lambda f: [two_page_feed(f, cut_second=True)],
             [Expect("services.json", None, "", "ends before the JSON is complete")],
             setup=load_whole_feed_first),
        # ---- coordinates (issue 17; the demo's localities have centres in Calderdale)
        Case("latitude-out-of-range", activities("latitude", "153.72", longitude="-1.86"),
             [Expect(A, 2, "latitude", "out of range")], absent=("act-bad-1",)),
        Case("longitude-not-a-number", activities("latitude", "53.72", longitude="1°51'W"),
             [Expect(A, 2, "longitude", "not a number of degrees")]),
        Case("latitude-without-longitude", activities("latitude", "53.72"),
             [Expect(A, 2, "longitude", "give both or neither")]),
        Case("latitude-longitude-swapped", activities("latitude", "-1.86", longitude="53.72"),
             [Expect(A, 2, "latitude", "look swapped")], absent=("act-bad-1",)),
        Case("point-far-outside-the-area", activities("latitude", "51.5072", longitude="-0.1276"),
             [Expect(A, 2, "latitude", "far outside the partnership's area")]),
        Case("far-point-beside-a-good-row", lambda f: [write_csv(f, A, [
            ["id", "name", "latitude", "longitude"], ["act-far-1", "Far Away", "40.4168", "-3.7038"],
            ["act-near-1", "Near Enough", "53.7235", "-1.8610"]])],
             [Expect(A, 2, "latitude", "far outside")], partial_loads=("act-near-1",),
             absent=("act-far-1",)),
        # ---- locality boundaries (GeoJSON files named in localities.csv)
        Case("boundary-file-missing", with_boundary(None),
             [Expect(L, 2, "boundary", "no such file")], absent=("loc-bad-1",)),
        Case("boundary-outside-the-folder", with_boundary(None, cell="../../etc/passwd"),
             [Expect(L, 2, "boundary", "relative to the Living Database's folder")],
             absent=("loc-bad-1",)),
        Case("boundary-not-json", with_boundary("<kml>not geojson</kml>"),
             [Expect(L, 2, "boundary", "not valid JSON")], absent=("loc-bad-1",)),
        Case("boundary-a-point", with_boundary(
            json.dumps({"type": "Point", "coordinates": [-1.86, 53.72]})),
             [Expect(L, 2, "boundary", "not a Polygon or MultiPolygon")], absent=("loc-bad-1",)),
        Case("boundary-two-features", with_boundary(json.dumps(
            {"type": "FeatureCollection", "features": [json.loads(polygon(SQUARE))] * 2})),
             [Expect(L, 2, "boundary", "has 2 features")], absent=("loc-bad-1",)),
        Case("boundary-ring-not-closed", with_boundary(polygon(SQUARE[:4] + [[-2.0, 53.74]])),
             [Expect(L, 2, "boundary", "not closed")], absent=("loc-bad-1",)),
        Case("boundary-out-of-range", with_boundary(polygon(
            [[-2.03, 253.73], [-1.99, 53.73], [-1.99, 53.75], [-2.03, 253.73]])),
             [Expect(L, 2, "boundary", "out of range")], absent=("loc-bad-1",)),
        Case("boundary-latitude-first", with_boundary(
            polygon([[lat, lon] for lon, lat in SQUARE]), centre=("53.74", "-2.01")),
             [Expect(L, 2, "boundary", "look swapped")], absent=("loc-bad-1",)),
        Case("boundary-far-from-its-centre", with_boundary(polygon(SQUARE),
                                                           centre=("51.5072", "-0.1276")),
             [Expect(L, 2, "boundary", "from the locality's centre")], absent=("loc-bad-1",)),
        Case("boundary-too-many-positions", with_boundary(polygon(
            [[-2.03 + i * 1e-6, 53.73] for i in range(20_001)] + [[-2.0, 53.76], [-2.03, 53.73]])),
             [Expect(L, 2, "boundary", "more than 20,000 positions")], absent=("loc-bad-1",)),
        Case("boundary-bad-beside-a-good-row", lambda f: [
            write_bytes(f, "good.geojson", polygon(SQUARE).encode()) and
            write_csv(f, L, [["id", "name", "boundary"], ["loc-bad-1", "Bad", "gone.geojson"],
                             ["loc-good-1", "Good", "good.geojson"]])],
             [Expect(L, 2, "boundary", "no such file")], partial_loads=("loc-good-1",),
             absent=("loc-bad-1",)),
    ]


CASES = _cases()
CASE_IDS = [case.name for case in CASES]
FEED_SUFFIXES = (".json",)


def is_feed_case(paths: list[Path]) -> bool:
    return any(p.suffix.lower() in FEED_SUFFIXES or p.name == "hsds" for p in paths)


# --------------------------------------------------------------------------- running them


def graph_hash(store: GraphStore) -> str:
    """A digest of the whole graph: every node and relationship with all its properties."""
    graph = store.snapshot()
    nodes = sorted((str(n), attrs) for n, attrs in graph.nodes(data=True))
    edges = sorted(((str(u), str(v), attrs) for u, v, attrs in graph.edges(data=True)),
                   key=lambda e: orjson.dumps(e, option=orjson.OPT_SORT_KEYS, default=str))
    dump = orjson.dumps({"nodes": nodes, "edges": edges}, option=orjson.OPT_SORT_KEYS,
                        default=str)
    return hashlib.sha256(dump).hexdigest()


def load_case(store: GraphStore, paths: list[Path], *, partial: bool, report: Path):
    """Load as ``pathways load`` does: strict, or ``--allow-partial`` (for a feed, strict
    means ``--remove-missing``, the mode that deletes)."""
    fmt = detect(paths, None)
    if fmt == "living-db":
        return load_paths(store, paths, allow_partial=partial, report=report)
    return load_feed(store, paths, fmt, remove_missing=not partial, report=report)


def problems_of(result) -> list[Problem]:
    quality = getattr(result, "quality", None)
    return list(result.rejected) + (list(quality.read_problems) if quality else [])


def missing(expect: list[Expect], problems: list[Problem]) -> list[Expect]:
    return [e for e in expect if not any(e.matches(p) for p in problems)]




def check_case(store: GraphStore, case: Case, *, partial: bool, folder: Path, setenv) -> None:
    """Load ``case`` on top of whatever ``store`` holds (the demo data) and check that it is
    refused as it should be: the expected problems, no other exception, the graph unchanged
    (with ``partial``, only the valid rows of ``partial_loads`` written)."""
    for name, value in case.env.items():
        setenv(name, value)
    if case.setup is not None:
        case.setup(store, folder)
    before = graph_hash(store)
    paths = case.build(folder / "input")
    try:
        result = load_case(store, paths, partial=partial, report=folder / "rejected.csv")
    except InputError as exc:  # anything else escapes and fails the test, traceback and all
        refused, problems = True, exc.problems
    else:
        refused, problems = False, problems_of(result)
    assert not missing(case.expect, problems), (
        f"{case}: expected {missing(case.expect, problems)}; got {problems}")
    if not partial:
        assert refused, f"{case}: loaded instead of refused"
    if not (partial and case.partial_loads):
        assert graph_hash(store) == before, f"{case}: the refused load changed the store"
    else:
        assert not refused, f"{case}: refused although valid rows could load: {problems}"
        for node_id in case.partial_loads:
            assert store.get_node(node_id) is not None, f"{case}: {node_id} was not loaded"
    for node_id in case.absent:
        assert store.get_node(node_id) is None, f"{case}: {node_id} was written"
