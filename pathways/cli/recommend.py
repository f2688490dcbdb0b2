"""``pathways recommend``: new referral agreements that would close gaps, remedies for single
points of failure (``--protect``) and what-if (``--simulate FROM TO``, nothing written)."""

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
@click.option("--max-new", type=click.IntRange(1, 20), default=5, show_default=True,
              help="Most new referral agreements to suggest.")
@click.option("--max-hops", "--hops", "max_hops", type=click.IntRange(1, MAX_MAX_HOPS),
              default=DEFAULT_MAX_HOPS, show_default=True)
@click.option("--protect", is_flag=True,
              help="Instead: for the top single points of failure, the new agreement that keeps "
                   "the most of the options each carries.")
@click.option("--top", type=click.IntRange(1, 50), default=5, show_default=True,
              help="With --protect: how many single points of failure.")
@click.option("--simulate", "simulated", nargs=2, multiple=True, metavar="FROM TO",
              help="Instead: the gap report as if FROM referred to TO (ids or names; "
                   "repeatable); nothing is written.")
@output_options(["table", "json", "csv"])
@pass_ctx
def recommend(ctx: Context, needs, localities, max_new, max_hops, protect, top, simulated,
              fmt, output):
    """The fewest new referral agreements that make the most amber gap cells reachable."""
    from pathways.analysis import recommend as analysis
    from pathways.analysis.gaps import GapQuery, gap_report
    from pathways.analysis.snapshot import cached_snapshot
    from pathways.reports import render_recommend as fmt_report
    from pathways.reports.render_gaps import public_json

    store = ctx.store()
    need_ids = named_all(store, NodeKind.NEED, needs, "--need")
    place_ids = named_all(store, NodeKind.LOCALITY, localities, "--locality")
    if simulated:
        def read_simulation():
            graph = cached_snapshot(store)
            edges = [(analysis.find_node(graph, u, receiving=False),
                      analysis.find_node(graph, v, receiving=True)) for u, v in simulated]
            query = GapQuery(place_ids, need_ids, max_hops)
            return edges, gap_report(store, query), analysis.simulate(store, edges, query)

        edges, before, after = store.consistent(read_simulation)
        if fmt == "json":
            text = json.dumps({"simulated": True, "saved": False, "new_agreements": edges,
                               "report": public_json(after)}, indent=2, ensure_ascii=False) + "\n"
        elif fmt == "csv":
            from pathways.reports.render_gaps import as_csv
            text = as_csv(after)
        else:
            text = fmt_report.simulation_text(before, after, edges)
    elif protect:
        found = analysis.protection(store, max_hops, top)
        if fmt == "json":
            text = json.dumps(found, indent=2, ensure_ascii=False) + "\n"
        elif fmt == "csv":
            from pathways.reports.tables import rows_text
            text = rows_text(fmt_report.protection_rows(found), "csv", fmt_report.PROTECT_COLUMNS)
        else:
            text = fmt_report.protection_text(found)
    else:
        result = analysis.recommend(store, analysis.RecommendQuery(place_ids, need_ids, max_hops,
                                                                   max_new))
        if fmt == "json":
            text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
        elif fmt == "csv":
            text = fmt_report.as_csv(result)
        else:
            text = fmt_report.as_text(result)
    write_output(text, fmt, output)


COMMANDS = (recommend,)
