"""A large CSV file read in byte ranges, one per worker process, each split at a line end.

A worker reads its own range of the file (no rows are sent to it): the range starts just
after a newline and is read exactly as :mod:`loaders.living_stream` reads a whole file (the
same CSV dialect, field limit, blank-row rule and row numbers), so the rows each range gives
are the rows the whole file gives, in order.  That holds when no record spans lines (a
quoted cell with a line break in it) and no lone carriage return ends a line: the row
number a range starts at is counted from the newlines before it, and the reader of the
range before it says where its rows ended (:attr:`CsvRange.next_row`); when the two differ
(or a range ends inside a quoted cell: the reader fails) the caller checks the file in one
process instead.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from loaders.files import RawRows, _looks_utf16
from loaders.limits import MAX_CELL_CHARS, SUSPICIOUS

_BLOCK = 1 << 22
# printable ASCII, tab and line breaks: a block of only these needs no character check
_PLAIN_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n\r"


@dataclass
class CsvRange:
    """Bytes ``start`` to ``end`` of a CSV file, whose first record is row ``first_row``
    (1: the header, at the start of the file)."""

    path: Path
    table: str
    file: str
    start: int
    end: int
    first_row: int
    #: the row after the range's last, once :meth:`chunks` has been read to its end
    next_row: int = 0

    def chunks(self, chunk_rows: int, suspicious: bool | None = None) -> Iterator[RawRows]:
        """The range's rows, up to ``chunk_rows`` at a time (blank rows are left out), each
        chunk with the file's header.  Raises ``ValueError`` (not UTF-8) or ``csv.Error``
        (unreadable) for the caller to check the file in one process.  ``suspicious``:
        what :meth:`_suspicious` says, when the caller knows it already."""
        if suspicious is None:
            suspicious = self._suspicious()
        header = _header(self.path) if self.start else []
        number = self.first_row - 1
        yielded = False
        previous = csv.field_size_limit(MAX_CELL_CHARS)
        try:
            numbered = enumerate(csv.reader(self._lines(), strict=True), start=self.first_row)
            if self.first_row == 1 and (first := next(numbered, None)) is not None:
                number, header = 1, [h.strip() for h in first[1]]
            # records a chunk at a time (C-level slicing), blank rows left out of each
            while block := list(itertools.islice(numbered, chunk_rows)):
                number = block[-1][0]
                rows = [row for row in block  # not blank: a cell with more than white space
                        if (cells := row[1]) and (cells[0].strip() or any(map(str.strip, cells)))]
                if rows:
                    csv.field_size_limit(previous)
                    yield RawRows(self.table, self.file, header, rows, check_chars=suspicious)
                    yielded = True
                    previous = csv.field_size_limit(MAX_CELL_CHARS)
        finally:
            csv.field_size_limit(previous)
        self.next_row = number + 1
        if number and not yielded and not self.start:  # a header, blank rows at most
            yield RawRows(self.table, self.file, header, [], check_chars=suspicious)

    def _blocks(self) -> Iterator[bytes]:
        with self.path.open("rb") as handle:
            handle.seek(self.start)
            left = self.end - self.start
            while left > 0 and (block := handle.read(min(_BLOCK, left))):
                left -= len(block)
                yield block

    def _decoder(self) -> codecs.IncrementalDecoder:
        return codecs.getincrementaldecoder("utf-8-sig" if self.start == 0 else "utf-8")()

    def _suspicious(self) -> bool:
        """Whether the range holds characters validation must look at (as
        :func:`loaders.living_stream._scan` says of a whole file)."""
        decoder = self._decoder()
        for block in self._blocks():
            if block.isascii():
                if block.translate(None, _PLAIN_ASCII):
                    return True
            elif SUSPICIOUS.search(decoder.decode(block)) is not None:
                return True
        return False

    def _lines(self) -> Iterator[str]:
        """The range's text line by line (line ends as the csv module splits them), each
        block's lines iterated in C (no Python frame per line)."""
        return itertools.chain.from_iterable(self._texts())

    def _texts(self) -> Iterator[io.StringIO]:
        """The range's text in blocks that end at a line end (the last: where it ends)."""
        decoder = self._decoder()
        tail = ""
        for block in self._blocks():
            text = tail + decoder.decode(block)
            cut = text.rfind("\n") + 1
            tail = text[cut:]
            yield io.StringIO(text[:cut], newline="")
        text = tail + decoder.decode(b"", final=True)
        if text:
            yield io.StringIO(text, newline="")


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        previous = csv.field_size_limit(MAX_CELL_CHARS)
        try:
            return [h.strip() for h in next(csv.reader(handle, strict=True), [])]
        finally:
            csv.field_size_limit(previous)


def split_lines(path: Path, table: str, file: str, parts: int) -> list[CsvRange] | None:
    """``path`` in ``parts`` ranges of about the same size, each starting after a newline,
    or ``None`` when the file must be read whole (blank, or UTF-16)."""
    size = path.stat().st_size
    targets = [size * k // parts for k in range(1, parts)]
    cuts: list[tuple[int, int]] = [(0, 1)]  # (byte, row)
    lines = 0
    offset = 0
    blank = True
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            if offset == 0 and _looks_utf16(block):
                return None
            blank = blank and not block.strip()
            while targets and targets[0] < offset + len(block):
                at = block.find(b"\n", max(targets[0] - offset, 0))
                if at < 0:
                    break  # the line goes on in the next block
                targets.pop(0)
                cut = offset + at + 1
                if cut > cuts[-1][0]:
                    cuts.append((cut, lines + block.count(b"\n", 0, at + 1) + 1))
            lines += block.count(b"\n")
            offset += len(block)
    if blank:
        return None
    ends = [c for c, _row in cuts[1:]] + [offset]
    return [CsvRange(path, table, file, start, end, row)
            for (start, row), end in zip(cuts, ends, strict=True)]
