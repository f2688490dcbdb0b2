"""``pathways update-request ORG -o FILE.xlsx``: a workbook for one organisation to correct.

Thin: the workbook is made by :mod:`pathways.update_requests`; loading it back
(``pathways load FILE.xlsx``, or the Data page's upload) changes only that organisation's rows.
"""

from __future__ import annotations

from pathlib import Path

import click

from pathways.cli.context import Context, pass_ctx
from pathways.update_requests import update_request_filename, update_request_workbook


@click.command("update-request")
@click.argument("organisation")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the workbook [default: update-request-ORG_ID.xlsx here].")
@pass_ctx
def update_request(ctx: Context, organisation: str, output: Path | None):
    """Write ORGANISATION's update request (id or name): its services and activities
    pre-filled, its data gaps highlighted, dropdowns for the allowed values and plain-English
    instructions.  Loading the returned workbook changes only that organisation's rows."""
    content, org_id, name = update_request_workbook(ctx.store(), organisation)
    path = output or Path(update_request_filename(org_id))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    click.echo(f"Wrote the update request for {name} ({org_id}) to {path}", err=True)


COMMANDS = (update_request,)
