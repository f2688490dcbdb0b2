"""``pathways``: the command line.  Thin: parse options, call the library, format output.

The root group (store options) lives here; the commands live in one module per group and are
registered with :meth:`click.Group.add_command`.  No command module imports this package, so
there is no import cycle:

- :mod:`~pathways.cli.data`: ``load``, ``demo``, ``template``, ``stats``, ``list``, ``reset``;
- :mod:`~pathways.cli.analyses`: ``paths``, ``gaps``, ``consortia``;
- :mod:`~pathways.cli.recommend`: ``recommend`` (new referral agreements, what-if);
- :mod:`~pathways.cli.funders`: ``funders`` (the funding landscape);
- :mod:`~pathways.cli.link_work`: ``show``, ``search``, ``postcode`` (and the names every
  command accepts where it takes ids);
- :mod:`~pathways.cli.local_neo4j`: ``neo4j start|restart|stop|status``;
- :mod:`~pathways.cli.serving`: ``serve``;
- :mod:`~pathways.cli.accounts`: ``users add|list|set-role|set-password|remove`` and
  ``share list|revoke`` (the web app's accounts and share links);
- :mod:`~pathways.cli.update_requests`: ``update-request``;
- :mod:`~pathways.cli.history`: ``history``, ``undo`` (every load recorded, and taken back);
- :mod:`~pathways.cli.context` (the chosen store) and :mod:`~pathways.cli.output` (the shared
  ``--format``/``--output`` options and writer) serve them all.

Every command says on stderr which store it used, so stdout stays clean for JSON and CSV.
Errors of the project's own kinds become a plain message and exit status 1.
"""

from __future__ import annotations

import sys

import click

from pathways.cli import (
    accounts,
    analyses,
    data,
    funders,
    history,
    keep_open,
    link_work,
    local_neo4j,
    recommend,
    serving,
    update_requests,
)
from pathways.cli.context import Context
from pathways.config import STORE_CHOICES
from pathways.errors import PathwaysError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--store", type=click.Choice(STORE_CHOICES), default=None,
              help="Where the graph lives [env PATHWAYS_STORE; default embedded].")
@click.option("--neo4j-uri", default=None, help="Bolt URI [env NEO4J_URI].")
@click.option("--neo4j-user", default=None, help="[env NEO4J_USER; default neo4j]")
@click.option("--neo4j-password", default=None, help="[env NEO4J_PASSWORD]")
@click.option("--neo4j-database", default=None, help="[env NEO4J_DATABASE; default neo4j]")
@click.version_option(package_name="thriving-pathways")
@click.pass_context
def cli(ctx, store, neo4j_uri, neo4j_user, neo4j_password, neo4j_database):
    """Thriving Pathways: who can refer whom to what, in a social prescribing partnership."""
    ctx.obj = Context(store, neo4j_uri, neo4j_user, neo4j_password, neo4j_database)
    ctx.call_on_close(ctx.obj.close)


for command in (*data.COMMANDS, *analyses.COMMANDS, *recommend.COMMANDS, *funders.COMMANDS,
                *link_work.COMMANDS,
                *update_requests.COMMANDS, *history.COMMANDS,
                serving.serve, keep_open.keep_open, *accounts.COMMANDS,
                local_neo4j.neo4j):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """The ``pathways`` console script: click's own errors as click shows them, the project's
    errors (:class:`~pathways.errors.PathwaysError`, bad input included) as one plain line,
    then a line for each note added to it (e.g. a rollback or lock release that failed too);
    exit status 1 either way."""
    try:
        cli.main(args=argv, prog_name="pathways", standalone_mode=False)
    except click.exceptions.Abort as exc:
        click.echo("Aborted.", err=True)
        for note in getattr(exc.__cause__, "__notes__", ()):  # Ctrl-C: e.g. what had landed
            click.echo(f"Also: {note}", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except PathwaysError as exc:
        click.echo(f"Error: {exc}", err=True)
        for note in getattr(exc, "__notes__", ()):  # what else went wrong while stopping
            click.echo(f"Also: {note}", err=True)
        sys.exit(1)


__all__ = ["cli", "main"]
