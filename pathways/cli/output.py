"""The output options every reporting command shares, and the one writer behind them.

``--format`` picks the rendering, ``-o/--output`` a file instead of stdout.  CSV files get the
byte-order mark (:mod:`pathways.spreadsheet`, shared with the pages' downloads).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import click

from pathways.reports.tables import rows_text
from pathways.spreadsheet import write_text_file

CSV_OUTPUT_HELP = "Write to a file (CSV with a BOM, so Excel opens it right)."


def output_options(formats: Sequence[str], *, format_help: str | None = None,
                   output_help: str | None = CSV_OUTPUT_HELP,
                   with_output: bool = True) -> Callable:
    """``--format`` (one of ``formats``, the first the default) and, unless ``with_output`` is
    false, ``-o/--output FILE``; the command receives them as ``fmt`` and ``output``."""
    def decorate(command: Callable) -> Callable:
        if with_output:
            command = click.option(
                "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
                help=output_help)(command)
        return click.option("--format", "fmt", type=click.Choice(list(formats)),
                            default=formats[0], help=format_help)(command)
    return decorate


def write_output(text: str, fmt: str, output: Path | None) -> None:
    """Print ``text``, or write it to ``output`` (CSV with a byte-order mark) and say so on
    stderr, so stdout stays clean."""
    if output is None:
        click.echo(text, nl=False)
    else:
        write_text_file(output, text, csv_file=fmt == "csv")
        click.echo(f"wrote {output}", err=True)


def write_rows(rows: Sequence[dict], fmt: str, columns: Sequence[str],
               output: Path | None = None) -> None:
    """Rows as a table, JSON or CSV (see :func:`pathways.reports.tables.rows_text`) on stdout
    or in ``output`` (as ``list`` and ``paths`` always have: without a "wrote" line)."""
    text = rows_text(rows, fmt, columns)
    if output is None:
        click.echo(text, nl=False)
    else:
        write_text_file(output, text, csv_file=fmt == "csv")
