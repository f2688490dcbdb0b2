"""``pathways serve``: the web app on this machine, reading the store the root options chose."""

from __future__ import annotations

import importlib

import click

from pathways.accounts import sign_in_mode
from pathways.cli.context import Context, pass_ctx

LOOPBACK_NAMES = ("127.0.0.1", "::1", "localhost")


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost).

    >>> [is_loopback(h) for h in ("127.0.0.1", "[::1]", "localhost", "0.0.0.0", "example.org")]
    [True, True, True, False, False]
    """
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


SIGN_IN_WORDS = {
    "local": "No accounts: this app is open to this computer only, and everyone using it is an "
             "admin. Add accounts with `pathways users add` to let others in.",
    "accounts": "Accounts: everyone signs in (`pathways users list`).",
    "proxy": "Sign-in by your single sign-on proxy's headers (PATHWAYS_TRUSTED_HEADERS): make "
             "sure only that proxy can reach this address.",
}


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on; another than this computer's needs accounts "
                   "(pathways users add) or the single sign-on proxy mode.")
@click.option("--port", default=8050, show_default=True, type=int)
@click.option("--debug", is_flag=True,
              help="Reload on code changes and show the debugger (only with a loopback --host).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Serve with this many worker processes (gunicorn), which share one copy of "
                   "the data read before they start, for many users at once. Without it: one "
                   "process (Flask's own server).")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True,
              help="With --workers: requests each worker handles at once.")
@pass_ctx
def serve(ctx: Context, host, port, debug, workers, threads):
    """Run the web app."""
    if debug and workers:
        raise click.UsageError("--debug runs one process that reloads on code changes; it "
                               "cannot be used with --workers.")
    if debug and not is_loopback(host):
        raise click.UsageError(
            f"--debug starts the Werkzeug debugger, which lets anyone who can open the page "
            f"run commands on this machine; it is refused with --host {host}. Use --debug only "
            f"with --host {', '.join(LOOPBACK_NAMES[:-1])} or {LOOPBACK_NAMES[-1]}.")
    sign_in = sign_in_mode(ctx.settings)
    if sign_in == "local" and not is_loopback(host):
        raise click.UsageError(
            f"--host {host} would let other computers open the app, and it has no accounts: "
            f"everyone who reached it would be an admin, seeing every contact detail. Add "
            f"accounts first (`pathways users add NAME --role admin`), or put it behind your "
            f"organisation's single sign-on proxy (PATHWAYS_TRUSTED_HEADERS=1, see the "
            f"README), then serve on {host}.")
    store = ctx.store()  # fail early, and say which store, before the server starts
    if workers:
        from pathways.cli.workers import serve_with_workers

        click.echo(f"Thriving Pathways on http://{host}:{port}/ ({workers} worker processes,"
                   f" {threads} threads each; reading the data first)", err=True)
        click.echo(SIGN_IN_WORDS[sign_in], err=True)
        serve_with_workers(store, ctx.settings, WEB_APP, host, port, workers, threads)
        return
    from pathways import webstore
    from pathways.analysis.warm import Warmer
    from pathways.cli.dash_setup import first_request

    webstore.set_store(store)  # the app reads this store: no settings passed through os.environ
    app = web_app()
    importlib.import_module("pages._access").configure(ctx.settings)  # sign-in reads these
    first_request(app)  # Dash's first-request setup, before requests can arrive together
    # The Gaps page's report is computed as soon as the data changes, not on the first visit.
    Warmer(webstore.get_store).start()
    click.echo(f"Thriving Pathways on http://{host}:{port}/", err=True)
    click.echo(SIGN_IN_WORDS[sign_in], err=True)
    app.run(host=host, port=port, debug=debug)


# The Dash app, found by its import string as gunicorn finds ``app:server``: the web app sits
# beside the CLI at the top of the layers (docs/architecture.md), and the library never
# imports it.
WEB_APP = "app:app"


def web_app():
    """The Dash app object named by :data:`WEB_APP`."""
    module, _, name = WEB_APP.partition(":")
    return getattr(importlib.import_module(module), name)
