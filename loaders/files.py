"""Reading Living Database files: CSV (any of the usual encodings), folders, XLSX workbooks.

Thin I/O: each function opens something and hands raw rows on; validation lives in
:mod:`loaders.living_db`.  Also writes the empty templates.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pathways.errors import Problem
from pathways.model import (
    KIND_OF_TABLE,
    NODE_COLUMNS,
    RELATIONSHIP_COLUMNS,
    RELATIONSHIPS_TABLE,
    Column,
)

TABLES = tuple(KIND_OF_TABLE) + (RELATIONSHIPS_TABLE,)


@dataclass
class RawRows:
    """The rows of one table as read from one file (or one sheet)."""

    table: str
    file: str
    header: list[str]
    rows: list[tuple[int, list[str]]]


def columns_of(table: str) -> tuple[Column, ...]:
    if table == RELATIONSHIPS_TABLE:
        return RELATIONSHIP_COLUMNS
    return NODE_COLUMNS[KIND_OF_TABLE[table]]


def decode_bytes(data: bytes, file: str) -> tuple[str, list[Problem]]:
    """Decode UTF-8 (with or without BOM), else Windows-1252 as Excel writes it."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), []
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start : exc.start + 1].hex()
        reason = (
            f"the file is neither UTF-8 nor Windows-1252 text (byte 0x{byte} on line {line});"
            " save it from Excel as 'CSV UTF-8'"
        )
        return "", [Problem(file, line, "", reason)]


def parse_csv_text(text: str, table: str, file: str) -> RawRows:
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] = []
    rows: list[tuple[int, list[str]]] = []
    for number, values in enumerate(reader, start=1):
        if number == 1:
            header = [h.strip() for h in values]
            continue
        if not any(v.strip() for v in values):
            continue
        rows.append((number, values))
    return RawRows(table, file, header, rows)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_workbook(path: Path) -> tuple[list[RawRows], list[Problem]]:
    """Read a workbook with a sheet per Living Database file (``people``, ``relationships``...)."""
    from openpyxl import load_workbook  # imported here: only workbook users pay for it

    problems: list[Problem] = []
    tables: list[RawRows] = []
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        return [], [Problem(path.name, 0, "", f"cannot be opened as an XLSX workbook ({exc})")]
    try:
        for sheet in book.worksheets:
            table = sheet.title.strip().lower()
            label = f"{path.name} [{sheet.title}]"
            if table not in TABLES:
                if table.startswith("_") or table in {"readme", "instructions", "notes"}:
                    continue
                reason = f"unknown sheet; sheets are named {', '.join(TABLES)}"
                problems.append(Problem(label, 0, "", reason))
                continue
            header: list[str] = []
            rows: list[tuple[int, list[str]]] = []
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                texts = [_cell_text(v) for v in values]
                if number == 1:
                    header = [h.strip() for h in texts]
                    while header and not header[-1]:
                        header.pop()
                    continue
                if any(t.strip() for t in texts):
                    rows.append((number, texts))
            tables.append(RawRows(table, label, header, rows))
    finally:
        book.close()
    return tables, problems


def read_csv_file(path: Path) -> tuple[list[RawRows], list[Problem]]:
    table = path.stem.strip().lower()
    if table not in TABLES:
        reason = f"unknown file name; CSV files are named {', '.join(t + '.csv' for t in TABLES)}"
        return [], [Problem(path.name, 0, "", reason)]
    text, problems = decode_bytes(path.read_bytes(), path.name)
    if problems:
        return [], problems
    return [parse_csv_text(text, table, path.name)], []


def read_sources(paths: Iterable[Path | str]) -> tuple[list[RawRows], list[Problem]]:
    """Open CSV files, folders of them, or XLSX workbooks; return their raw tables."""
    tables: list[RawRows] = []
    problems: list[Problem] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in {".csv", ".xlsx"})
            if not files:
                problems.append(Problem(str(path), 0, "", "folder has no .csv or .xlsx files"))
        elif path.exists():
            files = [path]
        else:
            problems.append(Problem(str(path), 0, "", "no such file or folder"))
            continue
        for file in files:
            if file.suffix.lower() == ".xlsx":
                found, trouble = read_workbook(file)
            elif file.suffix.lower() == ".csv":
                found, trouble = read_csv_file(file)
            else:
                found, trouble = [], [Problem(file.name, 0, "", "not a .csv or .xlsx file")]
            tables.extend(found)
            problems.extend(trouble)
    return tables, problems


def iter_template_headers() -> Iterator[tuple[str, list[str]]]:
    for table in TABLES:
        yield table, [c.name for c in columns_of(table)]


def write_templates(folder: Path | str) -> list[Path]:
    """Write an empty CSV per table and one XLSX workbook with a sheet per table."""
    from openpyxl import Workbook

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    book = Workbook()
    book.remove(book.active)
    for table, header in iter_template_headers():
        path = out / f"{table}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerow(header)
        written.append(path)
        book.create_sheet(table).append(header)
    workbook = out / "living-database.xlsx"
    book.save(workbook)
    written.append(workbook)
    return written
