"""The analysis commands of ``pathways``: ``paths``, ``gaps`` and ``consortia``.

Thin like the rest of the CLI: parse options, call the analysis, format the report.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import click

from pathways.analysis.lookup import ACCESS
from pathways.analysis.pathways import pathways_from, with_details
from pathways.cli.context import Context, pass_ctx
from pathways.cli.link_work import (
    PATHS_CSV_COLUMNS,
    named,
    named_all,
    person_filter,
    with_referral,
    worker_named,
)
from pathways.cli.output import output_options, write_output, write_rows
from pathways.errors import PathwaysError
from pathways.model import DEFAULT_MAX_HOPS, MAX_MAX_HOPS, NodeKind


@click.command()
@click.option("--from", "worker", required=True, help="The link worker (id or name).")
@click.option("--need", "needs", multiple=True, help="Need (id or name; any of them); repeatable.")
@click.option("--locality", default=None,
              help="Locality (id or name) the activity is in; whole-area activities always match.")
@click.option("--postcode", default=None, help="The person's postcode: sets the locality.")
@click.option("--free", "free_only", is_flag=True, help="Only free activities.")
@click.option("--access", multiple=True, help="Accessibility tag (all of them); repeatable.")
@click.option("--age", type=click.IntRange(0), default=None,
              help="The person's age: only activities whose age range admits it.")
@click.option("--times", default=None, metavar="TEXT",
              help="When the person can come, e.g. 'Mon morning; Thu 13:00-15:00'.")
@click.option("--self-referral", is_flag=True,
              help="Only activities a person may refer themselves to.")
@click.option("--max-hops", type=click.IntRange(1, MAX_MAX_HOPS), default=DEFAULT_MAX_HOPS,
              show_default=True)
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="csv: judge 'not reviewed for 12 months' as of this date [today].")
@output_options(["table", "json", "csv"],
                format_help="csv adds how to refer (contacts: personal data of professionals).")
@pass_ctx
def paths(ctx: Context, worker, needs, locality, postcode, free_only, access, age, times,
          self_referral, max_hops, as_of, fmt, output):
    """Activities a link worker can reach along referral routes, shortest route first."""
    store = ctx.store()

    def read():  # names, paths and details from one version of the graph
        worker_id = worker_named(store, worker)
        where = person_filter(
            store, needs=needs, locality=locality, postcode=postcode, free_only=free_only,
            access=access, age=age, times=times, self_referral=self_referral)
        found = pathways_from(store, worker_id, where, max_hops)
        if fmt == "json":
            return found, []
        rows = with_details(store, found)
        for row, activity in zip(rows, found["activities"], strict=True):
            row["times"] = "not known: check" if activity.get("schedule_unknown") else ""
        if fmt == "csv":
            rows = with_referral(store, worker_id, rows, max_hops,
                                 as_of.date() if as_of else None)  # None: today
        return found, rows

    result, rows = store.consistent(read)
    if fmt == "json":
        write_output(json.dumps(result, indent=2, ensure_ascii=False) + "\n", fmt, output)
        return
    if not rows:
        click.echo(f"{result['from']['name']} reaches no matching activity within {max_hops} hops.",
                   err=True)
    columns = ["activity", "provider", "locality", "cost", "schedule", "hops"]
    if times:
        columns.append("times")
    if fmt == "csv":
        columns = list(PATHS_CSV_COLUMNS)
    write_rows(rows, fmt, columns, output=output)


@click.command()
@click.option("--locality", "localities", multiple=True,
              help="Locality (id or name); repeatable [all].")
@click.option("--need", "needs", multiple=True, help="Need (id or name); repeatable [all].")
@click.option("--max-hops", type=click.IntRange(1, MAX_MAX_HOPS), default=DEFAULT_MAX_HOPS,
              show_default=True)
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Judge 'not reviewed for 12 months' as of this date [today].")
@click.option("--actions/--no-actions", default=True, show_default=True,
              help="Add the step to action (providers for red cells, new routes for amber "
                   "cells, second routes around failure points); at 100k nodes it takes tens "
                   "of seconds on its first run after a load.")
@output_options(["table", "json", "csv", "html"],
                output_help="Write to a file (the HTML report is one self-contained file).")
@pass_ctx
def gaps(ctx: Context, localities, needs, max_hops, as_of, actions, fmt, output):
    """Where the network fails people: coverage, unreached provision, single points of
    failure, thin options and data gaps; and the step to action: who could provide each red
    cell, the routes that would close the amber cells, a second route around each top single
    point of failure."""
    import datetime as dt

    from pathways.analysis.commission import red_cells
    from pathways.analysis.gaps import GapQuery, gap_report
    from pathways.analysis.recommend import RecommendQuery, protection, recommend
    from pathways.reports import render_gaps as fmt_report

    store = ctx.store()
    query = GapQuery(named_all(store, NodeKind.LOCALITY, localities, "--locality"),
                     named_all(store, NodeKind.NEED, needs, "--need"), max_hops,
                     as_of.date() if as_of else dt.date.today())
    report = gap_report(store, query)
    # From each diagnosis to an action (issue 19): red cells (nothing provided): who provides
    # the need nearby or elsewhere; amber cells: the new referral agreements that would close
    # them; single points of failure: a second route around each.
    commissions = red_cells(store, report["coverage"]) if actions else None
    found = (recommend(store, RecommendQuery(query.localities, query.needs, max_hops))
             if actions else None)
    kept = protection(store, max_hops) if actions else None
    if fmt == "json":
        data = dict(fmt_report.public_json(report))
        if actions:
            data |= {"commission": [{**c, "consortia_page": fmt_report.consortia_link(c)}
                                    for c in commissions or []],
                     "recommendations": {k: v for k, v in (found or {}).items() if k != "names"},
                     "protection": kept}
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    elif fmt == "csv":
        text = fmt_report.as_csv(report, commissions, found, kept)
    elif fmt == "html":
        text = fmt_report.as_html(report, commissions, found, kept)
    else:
        text = fmt_report.as_text(report, commissions, found, kept)
    write_output(text, fmt, output)


@click.command()
@click.option("--need", "needs", multiple=True, help="Need (id or name); repeatable.")
@click.option("--locality", "localities", multiple=True, help="Locality (id or name); repeatable.")
@click.option("--opportunity", "opportunity_file", type=click.Path(dir_okay=False, path_type=Path),
              help='A JSON file: {"needs": [...], "localities": [...], "free_only": false, ...}.')
@click.option("--free", "free_only", is_flag=True, help="Only free activities count.")
@click.option("--access", multiple=True, help="Accessibility tag every activity must have.")
@click.option("--age-min", type=click.IntRange(0), default=None, help="Youngest person to serve.")
@click.option("--age-max", type=click.IntRange(0), default=None, help="Oldest person to serve.")
@click.option("--max-size", type=click.IntRange(1, 20), default=4, show_default=True,
              help="Most organisations in a consortium.")
@click.option("--between", nargs=2, default=None, metavar="ORG ORG",
              help="Also show the shortest chain of relationships between two organisations.")
@click.option("--with-contacts", is_flag=True,
              help="Add each member's named contact in their work role (phone, e-mail): "
                   "personal data of professionals, for whoever may see it.")
@output_options(["table", "json", "csv", "html", "xlsx"],
                format_help="html: a one-page printable summary of the best suggestion; xlsx: "
                            "the brief as a workbook, one sheet per part (needs -o FILE).",
                output_help=None)
@pass_ctx
def consortia(ctx: Context, needs, localities, opportunity_file, free_only, access, age_min,
              age_max, max_size, between, with_contacts, fmt, output):
    """Which organisations could respond together to a commissioning opportunity.

    Each suggestion says which method found it and the evidence for every cell it covers
    (the members' activities and the services offering them)."""
    from pathways.analysis import consortia as analysis
    from pathways.reports import render_consortia as fmt_report

    opp = _opportunity(opportunity_file, needs, localities, free_only, access, age_min, age_max)
    store = ctx.store()
    opp = dataclasses.replace(
        opp, needs=named_all(store, NodeKind.NEED, opp.needs, "--need"),
        localities=named_all(store, NodeKind.LOCALITY, opp.localities, "--locality"),
        access=named_all(store, ACCESS, opp.access, "--access"))
    if between:
        between = tuple(named(store, NodeKind.ORGANISATION, org, "--between") for org in between)

    if fmt == "xlsx" and output is None:
        raise PathwaysError("--format xlsx writes a workbook: give a file with -o, e.g. "
                            "-o brief.xlsx")

    def read():  # the report, chain and contacts from one version of the graph
        found = analysis.consortia(store, opp, max_size=max_size)
        if between:
            found["chain"] = analysis.chain_between(analysis.cached_snapshot(store), *between)
        return found, analysis.report_contacts(store, found) if with_contacts else None

    report, contacts = store.consistent(read)
    if fmt == "xlsx":
        from pathways.reports.consortium_workbook import workbook_bytes

        output.write_bytes(workbook_bytes(report, contacts))
        click.echo(f"wrote {output}", err=True)
        return
    if fmt == "json":
        text = json.dumps(fmt_report.public_json(report, contacts), indent=2,
                          ensure_ascii=False) + "\n"
    elif fmt == "csv":
        text = fmt_report.as_csv(report, contacts)
    elif fmt == "html":
        if not report["suggestions"]:
            raise PathwaysError("no organisation covers any cell of this opportunity")
        text = fmt_report.as_html_summary(report, 0, contacts)
    else:
        text = fmt_report.as_text(report, contacts)
        if between:
            chain = report["chain"]
            text += ("\nChain: " + " ".join(
                (f"-[{s['via']}]- " if s["via"] else "") + s["name"] for s in chain)
                if chain else "\nNo chain of relationships joins them.") + "\n"
    write_output(text, fmt, output)


def _opportunity(path, needs, localities, free_only, access, age_min, age_max):
    from pathways.analysis.consortia import Opportunity

    data: dict = {}
    if path is not None:
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError) as exc:
            raise PathwaysError(f"cannot read the opportunity file {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise PathwaysError(f"{path}: expected a JSON object with needs and localities")
    try:
        return Opportunity(
            needs=tuple(needs) or tuple(data.get("needs", ())),
            localities=tuple(localities) or tuple(data.get("localities", ())),
            free_only=free_only or bool(data.get("free_only", False)),
            access=tuple(access) or tuple(data.get("access", ())),
            age_min=age_min if age_min is not None else data.get("age_min"),
            age_max=age_max if age_max is not None else data.get("age_max"),
        )
    except TypeError as exc:
        raise PathwaysError(f"the opportunity is not valid: {exc}") from exc


COMMANDS = (paths, gaps, consortia)
