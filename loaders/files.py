"""Reading Living Database files: CSV (any of the usual encodings), folders, XLSX workbooks.

Thin I/O: each function opens something and hands raw rows on; validation lives in
:mod:`loaders.living_db`.  Also writes the empty templates.  Every file is checked against
the limits of :mod:`loaders.limits` (size, unpacked size, rows, columns, cell length) before
or while it is read, and nothing here raises for a bad file: it becomes a
:class:`~pathways.errors.Problem` naming the file, row and column.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import re
import sys
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from loaders.boundaries import read_boundaries
from loaders.limits import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_SHEET_ROWS,
    MAX_XLSX_RATIO,
    MB,
    SUSPICIOUS,
    XLSX_RATIO_CHECKED_FROM,
    limit_mb,
    mb,
    too_large,
)
from pathways.errors import InputError, Problem
from pathways.model import (
    KIND_OF_TABLE,
    NODE_COLUMNS,
    RELATIONSHIP_COLUMNS,
    RELATIONSHIPS_TABLE,
    Column,
)
from pathways.spreadsheet import CSV_ENCODING

TABLES = tuple(KIND_OF_TABLE) + (RELATIONSHIPS_TABLE,)


@dataclass
class RawRows:
    """The rows of one table as read from one file (or one sheet).

    ``problems`` are row-level problems found while reading (a formula without a value, an
    Excel error, a cell too long); their rows are refused by validation.  ``check_chars`` is
    ``False`` when the file holds no control or invisible character at all, which spares
    validation a look at every cell.
    """

    table: str
    file: str
    header: list[str]
    rows: list[tuple[int, list[str]]]
    problems: list[Problem] = field(default_factory=list)
    check_chars: bool = True


def columns_of(table: str) -> tuple[Column, ...]:
    if table == RELATIONSHIPS_TABLE:
        return RELATIONSHIP_COLUMNS
    return NODE_COLUMNS[KIND_OF_TABLE[table]]


# --------------------------------------------------------------------------- text


_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _looks_utf16(data: bytes) -> bool:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    sample = data[:4096]
    return len(sample) >= 4 and sample.count(0) > len(sample) // 4


def decode_bytes(data: bytes, file: str, save_as: str = "'CSV UTF-8'") -> tuple[str, list[Problem]]:
    """Decode UTF-8 (with or without BOM), else Windows-1252 as Excel writes it.

    UTF-16 (Excel's "Unicode text"), bytes that are neither, and files mixing UTF-8 with
    another encoding are refused with the line of the first bad byte.
    """
    if _looks_utf16(data):
        reason = f"the file is UTF-16 text, which is not read here; save it as {save_as}"
        return "", [Problem(file, 0, "", reason)]
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    line = data[:first_bad].count(b"\n") + 1
    byte = data[first_bad : first_bad + 1].hex()
    if _UTF8_SEQUENCE.search(data):
        reason = (f"the file mixes UTF-8 with another encoding (byte 0x{byte} on line {line} is"
                  f" not UTF-8); save it as {save_as}")
        return "", [Problem(file, line, "", reason)]
    try:
        return data.decode("cp1252"), []
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start : exc.start + 1].hex()
        reason = (
            f"the file is neither UTF-8 nor Windows-1252 text (byte 0x{byte} on line {line});"
            f" save it as {save_as}"
        )
        return "", [Problem(file, line, "", reason)]


def read_text(path: Path, file: str, kind: str, save_as: str) -> tuple[str, list[Problem]]:
    """A text file's contents, refused (with the reason) when too large, unreadable or
    undecodable."""
    try:
        reason = too_large(path.stat().st_size, kind, f"{kind.upper()} files")
        data = b"" if reason else path.read_bytes()
    except OSError as exc:
        return "", [Problem(file, 0, "", f"cannot be read ({exc.strerror or exc})")]
    if reason:
        return "", [Problem(file, 0, "", reason)]
    return decode_bytes(data, file, save_as)


# --------------------------------------------------------------------------- CSV


def csv_records(text: str, file: str, drop_blank: bool = False) -> tuple[
        list[tuple[int, list[str]]], list[Problem]]:
    """Every record of a CSV text, numbered as Excel numbers rows (header = row 1); with
    ``drop_blank``, records after the header whose cells are all blank are left out.

    A cell longer than Excel's 32,767 characters, a quote that is never closed, or one that
    closes in the middle of a cell stops the reading with a problem naming the row (and the
    column where it can be known): the records after it cannot be trusted, so the file is
    refused.
    """
    records: list[tuple[int, list[str]]] = []
    append = records.append
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    number = 0
    previous = csv.field_size_limit(MAX_CELL_CHARS)
    try:
        if drop_blank:
            for number, values in enumerate(reader, start=1):
                if number == 1 or any(v.strip() for v in values):
                    append((number, values))
        else:
            for number, values in enumerate(reader, start=1):
                append((number, values))
    except csv.Error as exc:
        header = records[:1] if records and records[0][0] == 1 else []
        return records, [_csv_problem(text, file, header, number + 1, reader.line_num, exc)]
    finally:
        csv.field_size_limit(previous)
    return records, []


def _start_line(text: str, number: int) -> int:
    """The line on which record ``number`` starts (slow: for errors only)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    previous = csv.field_size_limit(sys.maxsize)
    try:
        for _ in itertools.islice(reader, number - 1):
            pass
    finally:
        csv.field_size_limit(previous)
    return reader.line_num + 1


def _tail(text: str, start_line: int) -> str:
    return "".join(itertools.islice(io.StringIO(text, newline=""), start_line - 1, None))


def _column_name(records: list[tuple[int, list[str]]], index: int) -> str:
    header = records[0][1] if records else []
    return header[index].strip() if 0 <= index < len(header) else ""


def _first_record(text: str, strict: bool = False) -> list[str]:
    previous = csv.field_size_limit(sys.maxsize)
    try:
        return next(csv.reader(io.StringIO(text, newline=""), strict=strict), [])
    finally:
        csv.field_size_limit(previous)


def _csv_problem(text: str, file: str, records, number: int, error_line: int,
                 exc: csv.Error) -> Problem:
    """The problem behind a CSV error in record ``number``."""
    message = str(exc)
    tail = _tail(text, _start_line(text, number))
    if "field larger than field limit" in message:
        try:
            values = _first_record(tail, strict=True)
        except csv.Error as again:
            message = str(again)
        else:
            index = next((i for i, v in enumerate(values) if len(v) > MAX_CELL_CHARS), -1)
            if index >= 0:
                column = _column_name(records, index)
                return Problem(file, number, column, _long_cell(values[index]))
    if "unexpected end of data" in message:
        values = _first_record(tail)
        lines = tail.count("\n") or 1
        reason = (f'a quote (") opens in this cell and is never closed, so the rest of the file'
                  f" ({lines:,} lines) ran into it; close the quote or remove it")
        return Problem(file, number, _column_name(records, len(values) - 1), reason)
    if "expected after" in message:
        reason = (f'a quote (") closes in the middle of a cell (line {error_line:,}); if the cell'
                  ' holds a quote, put the whole cell in quotes and write the quote twice ("")')
        return Problem(file, number, "", reason)
    return Problem(file, number, "", f"cannot be read as CSV ({message})")


def _long_cell(value: str) -> str:
    return (f"the cell holds {len(value):,} characters, more than the {MAX_CELL_CHARS:,} a cell"
            " may hold (Excel's own limit); shorten it")


def parse_csv_text(text: str, table: str, file: str) -> tuple[RawRows | None, list[Problem]]:
    """A Living Database table from CSV text, or the problem that refuses the whole file."""
    if not text.strip():
        reason = "the file is empty; it needs at least a header row (see `pathways template`)"
        return None, [Problem(file, 0, "", reason)]
    records, problems = csv_records(text, file, drop_blank=True)
    if problems:
        return None, problems
    header = [h.strip() for h in records[0][1]] if records else []
    rows = records[1:]
    return RawRows(table, file, header, rows, check_chars=SUSPICIOUS.search(text) is not None), []


def read_csv_file(path: Path, label: str | None = None) -> tuple[list[RawRows], list[Problem]]:
    label = label or path.name
    table = path.stem.strip().lower()
    if table not in TABLES:
        reason = f"unknown file name; CSV files are named {', '.join(t + '.csv' for t in TABLES)}"
        return [], [Problem(label, 0, "", reason)]
    text, problems = read_text(path, label, "csv", "'CSV UTF-8' from Excel")
    if problems:
        return [], problems
    raw, problems = parse_csv_text(text, table, label)
    return ([raw] if raw else []), problems


# --------------------------------------------------------------------------- XLSX


_EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                           "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!",
                           "#CONNECT!", "#UNKNOWN!", "#BUSY!", "#PYTHON!"})
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")


def get_column_letter(number: int) -> str:
    """Excel's name of a column: 1 → ``A``, 100 → ``CV``, 16384 → ``XFD``."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


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


def check_workbook(path: Path, label: str) -> tuple[list[Problem], bool]:
    """Refuse a workbook too large, not a zip, or unpacking to too much, from its size and
    its zip directory alone (before any XML is parsed); and say whether it has formulas."""
    try:
        reason = too_large(path.stat().st_size, "xlsx", "XLSX workbooks")
    except OSError as exc:
        return [Problem(label, 0, "", f"cannot be read ({exc.strerror or exc})")], False
    if reason:
        return [Problem(label, 0, "", reason)], False
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        reason = ("not an XLSX workbook (it is not a zip file: perhaps an old .xls file or a"
                  " renamed CSV); save it from Excel as 'Excel Workbook (*.xlsx)'")
        return [Problem(label, 0, "", reason)], False
    with archive:
        parts = archive.infolist()
        inflated = sum(part.file_size for part in parts)
        limit = limit_mb("xlsx-inflated")
        if inflated > limit * MB:
            reason = (f"the workbook unpacks to {mb(inflated)}, more than the {limit:g} MB limit;"
                      " save its sheets as CSV files, or set PATHWAYS_MAX_XLSX_INFLATED_MB"
                      " to a higher number of MB")
            return [Problem(label, 0, "", reason)], False
        for part in parts:
            ratio = part.file_size / max(part.compress_size, 1)
            if part.file_size > XLSX_RATIO_CHECKED_FROM and ratio > MAX_XLSX_RATIO:
                reason = (f"part {part.filename} has a compression ratio of {ratio:,.0f}:1, more"
                          f" than the {MAX_XLSX_RATIO}:1 a workbook has; this looks like a zip"
                          " bomb, not a spreadsheet")
                return [Problem(label, 0, "", reason)], False
        sheets = [p for p in parts if p.filename.startswith("xl/worksheets/")
                  and p.filename.endswith(".xml")]
        try:
            formulas = any(_has_formula(archive, part) for part in sheets)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
            return [Problem(label, 0, "", f"the workbook is damaged ({exc})")], False
    return [], formulas


def _has_formula(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> bool:
    tail = b""
    with archive.open(part) as stream:
        while chunk := stream.read(1 << 20):
            if _FORMULA_TAG.search(tail + chunk):
                return True
            tail = chunk[-16:]
    return False


def _is_formula(value) -> bool:
    return (isinstance(value, str) and value.startswith("=")) or hasattr(value, "ref")


def read_workbook(path: Path, label: str | None = None) -> tuple[list[RawRows], list[Problem]]:
    """Read a workbook with a sheet per Living Database file (``people``, ``relationships``...).

    Size, unpacked size and compression are checked from the zip directory first.  Sheets
    are read row by row up to 200,000 rows and 100 columns whatever size they declare; a
    formula without a saved value, an Excel error and a cell over 32,767 characters refuse
    their row.
    """
    from openpyxl import load_workbook  # imported here: only workbook users pay for it

    name = label or path.name
    problems, formulas = check_workbook(path, name)
    if problems:
        return [], problems
    tables: list[RawRows] = []
    books = []
    try:
        book = load_workbook(path, read_only=True, data_only=True)
        books.append(book)
        formula_book = load_workbook(path, read_only=True, data_only=False) if formulas else None
        if formula_book is not None:
            books.append(formula_book)
        for sheet in book.worksheets:
            table = sheet.title.strip().lower()
            sheet_label = f"{name} [{sheet.title}]"
            if table not in TABLES:
                if table.startswith("_") or table in {"readme", "instructions", "notes"}:
                    continue
                reason = f"unknown sheet; sheets are named {', '.join(TABLES)}"
                problems.append(Problem(sheet_label, 0, "", reason))
                continue
            with_formulas = formula_book[sheet.title] if formula_book is not None else None
            raw, trouble = _read_sheet(sheet, with_formulas, table, sheet_label)
            problems.extend(trouble)
            if raw is not None:
                tables.append(raw)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        return [], [Problem(name, 0, "", f"cannot be opened as an XLSX workbook ({exc})")]
    finally:
        for opened in books:
            opened.close()
    return tables, problems


def _read_sheet(sheet, with_formulas, table: str,
                label: str) -> tuple[RawRows | None, list[Problem]]:
    sheet.reset_dimensions()  # the declared size may be a lie: read the rows that are there
    rows_in = sheet.iter_rows(values_only=True)
    formula_rows = None
    if with_formulas is not None:
        with_formulas.reset_dimensions()
        formula_rows = with_formulas.iter_rows(values_only=True)
    header: list[str] = []
    rows: list[tuple[int, list[str]]] = []
    problems: list[Problem] = []
    check_chars = False
    for number, values in enumerate(rows_in, start=1):
        formulas = next(formula_rows, ()) if formula_rows is not None else ()
        if number > MAX_SHEET_ROWS + 1:
            reason = (f"the sheet has more than {MAX_SHEET_ROWS:,} rows (it goes on past row"
                      f" {number - 1:,}); split it, or save it as a CSV file")
            return None, [Problem(label, 0, "", reason)]
        if len(values) > MAX_COLUMNS:
            beyond = next((i for i, v in enumerate(values[MAX_COLUMNS:], MAX_COLUMNS)
                           if v is not None), None)
            if beyond is not None:
                reason = (f"has a value in column {get_column_letter(beyond + 1)}; a sheet has at"
                          f" most {MAX_COLUMNS} columns ({get_column_letter(MAX_COLUMNS)});"
                          " delete the cells beyond")
                return None, [Problem(label, number, "", reason)]
            values = values[:MAX_COLUMNS]
        texts = [_cell_text(v) for v in values]
        if number == 1:
            header = [h.strip() for h in texts]
            while header and not header[-1]:
                header.pop()
            continue
        if not any(t.strip() for t in texts):
            continue
        rows.append((number, texts))
        if not check_chars and SUSPICIOUS.search("\n".join(texts)):
            check_chars = True
        if (formulas and None in values) or not _EXCEL_ERRORS.isdisjoint(texts) \
                or max(map(len, texts)) > MAX_CELL_CHARS:
            problems.extend(_cell_problems(label, number, header, values, texts, formulas))
    return RawRows(table, label, header, rows, problems, check_chars), []


def _cell_problems(label, number, header, values, texts, formulas) -> list[Problem]:
    found = []
    for index, (value, text) in enumerate(zip(values, texts, strict=True)):
        column = header[index] if index < len(header) else get_column_letter(index + 1)
        if value is None and index < len(formulas) and _is_formula(formulas[index]):
            reason = ("the cell holds a formula without a saved value; type the value, or open"
                      " and save the workbook in Excel")
        elif text in _EXCEL_ERRORS:
            reason = f"the cell shows an Excel error ({text}); correct the cell"
        elif len(text) > MAX_CELL_CHARS:
            reason = _long_cell(text)
        else:
            continue
        found.append(Problem(label, number, column, reason))
    return found


# --------------------------------------------------------------------------- many files


def files_of(paths: Iterable[Path | str], suffixes: tuple[str, ...]) -> tuple[
        list[tuple[Path, str]], list[Problem]]:
    """The files to read (folders opened, one level) with the label each is reported by,
    and problems: missing paths and empty folders.

    Raises :class:`InputError` when a file is given twice (itself, or also in a folder
    given): a mistake in the command, refused whatever ``--allow-partial`` says."""
    found: list[Path] = []
    problems: list[Problem] = []
    seen: dict[Path, Path] = {}
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files = sorted(p for p in path.iterdir()
                           if p.suffix.lower() in suffixes and p.is_file())
            if not files:
                shown = " or ".join(suffixes)
                problems.append(Problem(str(path), 0, "", f"folder has no {shown} files"))
        elif path.is_file():
            files = [path]
        elif path.exists():
            problems.append(Problem(str(path), 0, "", "not a file or a folder (a device or pipe?)"))
            continue
        else:
            problems.append(Problem(str(path), 0, "", "no such file or folder"))
            continue
        for file in files:
            key = file.resolve()
            if key in seen:
                reason = (f"given twice (as {seen[key]} and as {file}); each file is read once,"
                          " so give it once")
                problems.append(Problem(file.name, 0, "", reason))
                continue
            seen[key] = file
            found.append(file)
    twice = [p for p in problems if p.reason.startswith("given twice")]
    if twice:
        raise InputError(twice)
    names = [f.name for f in found]
    labelled = [(f, f.name if names.count(f.name) == 1 else str(f)) for f in found]
    return labelled, problems


def read_sources(paths: Iterable[Path | str]) -> tuple[list[RawRows], list[Problem]]:
    """Open CSV files, folders of them, or XLSX workbooks; return their raw tables."""
    tables: list[RawRows] = []
    files, problems = files_of(paths, (".csv", ".xlsx"))
    for file, label in files:
        if file.suffix.lower() == ".xlsx":
            found, trouble = read_workbook(file, label)
        elif file.suffix.lower() == ".csv":
            found, trouble = read_csv_file(file, label)
        else:
            found, trouble = [], [Problem(label, 0, "", "not a .csv or .xlsx file")]
        for raw in found:  # boundary files are named relative to their CSV or workbook
            if raw.table == "localities":
                read_boundaries(raw, file.parent)
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
    book.remove(book.worksheets[0])  # the default sheet
    for table, header in iter_template_headers():
        path = out / f"{table}.csv"
        with path.open("w", encoding=CSV_ENCODING, newline="") as handle:
            csv.writer(handle).writerow(header)
        written.append(path)
        book.create_sheet(table).append(header)
    workbook = out / "living-database.xlsx"
    book.save(workbook)
    written.append(workbook)
    return written
