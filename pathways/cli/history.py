"""``pathways history`` (every load, newest first) and ``pathways undo LOAD_ID``."""

from __future__ import annotations

import json

import click

from pathways.cli.context import Context, pass_ctx
from pathways.cli.output import output_options, write_rows
from pathways.history import ROW_COLUMNS, counts_text, describe, records, rows, undo


@click.command()
@output_options(["table", "json", "csv"])
@pass_ctx
def history(ctx: Context, fmt, output):
    """List every load (load, demo, reset, the app's uploads, undo), newest first: its id,
    when, who, source files with their SHA-256, counts, and whether it was undone."""
    store = ctx.store()
    if fmt == "json":
        found = [{k: v for k, v in r.items() if k != "seq"} for r in records(store)]
        text = json.dumps(found, indent=2) + "\n"
        if output is None:
            click.echo(text, nl=False)
        else:
            output.write_text(text, encoding="utf-8")
        return
    found_rows = rows(store)
    if not found_rows and fmt == "table" and output is None:
        click.echo("No loads recorded yet.")
        return
    write_rows(found_rows, fmt, ROW_COLUMNS, output=output)


@click.command(name="undo")
@click.argument("load_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
def undo_(ctx: Context, load_id: str, yes: bool):
    """Restore the graph as it was before load LOAD_ID (see `pathways history`), in one
    all-or-nothing step.  Refused while later loads stand on it: undo those first, newest
    first.  The undo is recorded too; undoing an undo puts its load back."""
    store = ctx.store()
    found = {r["id"]: r for r in records(store)}
    target = found.get(load_id.strip())
    if target is not None and not yes:
        click.confirm(f"Undo load {describe(target)}: {counts_text(target.get('counts', {}))}?"
                      f" The {store.describe()} goes back to how it was before it.", abort=True)
    done = undo(store, load_id)
    click.echo(f"Undid load {done['undoes']} (recorded as load {done['id']}):"
               f" {counts_text(done['counts'])}.")


COMMANDS = (history, undo_)
