"""``pathways funders``: who funds which organisations and services, what the money reaches
along referral routes, and which needs and localities no funded provision covers."""

from __future__ import annotations

import json

import click

from pathways.cli.context import Context, pass_ctx
from pathways.cli.link_work import named_all
from pathways.cli.output import output_options, write_output
from pathways.model import DEFAULT_MAX_HOPS, MAX_MAX_HOPS, NodeKind


@click.command()
@click.option("--need", "needs", multiple=True, help="Need (id or name); repeatable.")
@click.option("--locality", "localities", multiple=True, help="Locality (id or name); repeatable.")
@click.option("--max-hops", "--hops", "max_hops", type=click.IntRange(1, MAX_MAX_HOPS),
              default=DEFAULT_MAX_HOPS, show_default=True)
@click.option("--uncovered", "only_uncovered", is_flag=True,
              help="Only the needs × localities no funded provision covers (table or CSV).")
@output_options(["table", "json", "csv"],
                format_help="json has everything; table both parts; csv one row per funder "
                            "(or per uncovered cell with --uncovered).")
@pass_ctx
def funders(ctx: Context, needs, localities, max_hops, only_uncovered, fmt, output):
    """The funding landscape: each funder's organisations, services and the activities and
    link workers its money reaches; and the needs × localities no funded provision covers."""
    from pathways.analysis.funders import (
        CSV_COLUMNS,
        SUMMARY_COLUMNS,
        UNCOVERED_COLUMNS,
        FunderQuery,
        funding_landscape,
        summary_rows,
        uncovered_rows,
    )
    from pathways.reports.tables import rows_text

    store = ctx.store()

    def read():
        need_ids = named_all(store, NodeKind.NEED, needs, "--need")
        place_ids = named_all(store, NodeKind.LOCALITY, localities, "--locality")
        return funding_landscape(store, FunderQuery(place_ids, need_ids, max_hops))

    report = store.consistent(read)
    if fmt == "json":
        text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    elif only_uncovered:
        text = rows_text(uncovered_rows(report), fmt, UNCOVERED_COLUMNS)
    elif fmt == "csv":
        text = rows_text(summary_rows(report), fmt, CSV_COLUMNS)
    else:
        text = (f"Funders (link workers reach within {report['max_hops']} hops)\n"
                + rows_text(summary_rows(report), fmt, SUMMARY_COLUMNS)
                + "\nNeeds × localities no funded provision covers "
                  "(unfunded_activities 0: nothing there at all)\n"
                + rows_text(uncovered_rows(report), fmt, UNCOVERED_COLUMNS))
    write_output(text, fmt, output)


COMMANDS = (funders,)
