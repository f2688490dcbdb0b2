"""``pathways users`` (the web app's accounts) and ``pathways share`` (its share links).

Accounts and share links live under ``PATHWAYS_HOME`` (:mod:`pathways.accounts`,
:mod:`pathways.share_links`); the running app reads them at every request, so these commands
take effect at once, without a restart.  Passwords are asked twice at the prompt, never
taken as an argument (it would be kept in the shell's history); scripts pipe one line to
``--password-stdin``.
"""

from __future__ import annotations

import sys

import click

from pathways.accounts import ROLE_NAMES, Accounts, LoginThrottle, check_password, server_secret
from pathways.cli.context import Context, pass_ctx
from pathways.errors import PathwaysError
from pathways.reports.tables import text_table
from pathways.share_links import ShareLinks

ROLE_HELP = ("viewer: no contact details; link-worker: contacts and referral sheets; editor: "
             "uploads, update requests and share links; admin: accounts and undo")


def _accounts(ctx: Context) -> Accounts:
    return Accounts(ctx.settings.accounts_file)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise PathwaysError("no password on standard input (one line is read)")
        return check_password(line)
    while True:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            return check_password(password)
        except PathwaysError as exc:
            click.echo(f"{str(exc)[0].upper()}{str(exc)[1:]}.", err=True)


@click.group()
def users():
    """The web app's accounts: once one exists, everyone signs in."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLE_NAMES), help=ROLE_HELP)
@click.option("--password-stdin", is_flag=True,
              help="Read the password from one line of standard input (for scripts).")
@pass_ctx
def add(ctx: Context, name, role, password_stdin):
    """Add an account (the password is asked twice)."""
    accounts = _accounts(ctx)
    if accounts.get(name) is not None:  # say so before asking for a password
        raise PathwaysError(f"there is already an account called {name!r}; use "
                            f"`pathways users set-role` to change its role")
    first = not accounts.configured()
    account = accounts.add(name, role, _password(password_stdin))
    click.echo(f"Added {account.name} ({account.role}) to {accounts.path}.", err=True)
    if first:
        click.echo("This is the first account: from now on the app asks everyone to sign in, "
                   "and `pathways serve` may listen on other addresses (--host).", err=True)


@users.command("list")
@pass_ctx
def list_users(ctx: Context):
    """List the accounts and their roles (never passwords)."""
    found = _accounts(ctx).list()
    if not found:
        click.echo("No accounts: the app is for this computer only, and whoever uses it is an "
                   "admin. Add one with `pathways users add NAME --role admin`.", err=True)
        return
    click.echo(text_table([(a.name, a.role) for a in found], ["name", "role"]))


@users.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLE_NAMES))
@pass_ctx
def set_role(ctx: Context, name, role):
    """Change an account's role (applies at its next request)."""
    account = _accounts(ctx).set_role(name, role)
    click.echo(f"{account.name} is now {account.role}.", err=True)


@users.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from one line of standard input (for scripts).")
@pass_ctx
def set_password(ctx: Context, name, password_stdin):
    """Give an account a new password."""
    accounts = _accounts(ctx)
    if accounts.get(name) is None:
        raise PathwaysError(f"there is no account called {name!r}")
    accounts.set_password(name, _password(password_stdin))
    click.echo(f"{name}'s password is changed.", err=True)


@users.command("remove")
@click.argument("name")
@pass_ctx
def remove(ctx: Context, name):
    """Remove an account (it is signed out at its next request)."""
    accounts = _accounts(ctx)
    accounts.remove(name)
    click.echo(f"Removed {name}.", err=True)
    if not accounts.configured():
        click.echo("That was the last account: the app is for this computer only again, and "
                   "whoever uses it is an admin.", err=True)


@users.command("unlock")
@click.argument("name", required=False)
@click.option("--address", "addresses", multiple=True, metavar="IP",
              help="Also forget the failed sign-ins from this address (repeatable).")
@pass_ctx
def unlock(ctx: Context, name, addresses):
    """Forget the failed sign-ins of an account (and addresses), so it can sign in at once.

    After 5 failed sign-ins in 15 minutes an account waits out the 15 minutes, in every worker
    and across restarts; this lifts that wait for someone an admin has checked."""
    if not name and not addresses:
        raise PathwaysError("give an account name, an --address, or both")
    keys = ([f"account:{name.lower()}"] if name else []) + [f"address:{a}" for a in addresses]
    LoginThrottle(path=ctx.settings.throttle_file).succeeded(keys)
    click.echo(f"Forgot the failed sign-ins of {', '.join(k.split(':', 1)[1] for k in keys)}.",
               err=True)


@click.group()
def share():
    """Read-only share links made in the app ("Share this view")."""


def _links(ctx: Context) -> ShareLinks:
    return ShareLinks(ctx.settings.share_links_file, server_secret(ctx.settings.secret_file))


@share.command("list")
@pass_ctx
def list_links(ctx: Context):
    """List the share links issued: id, page, who made it, until when, and whether active."""
    found = _links(ctx).list()
    if not found:
        click.echo("No share links yet.", err=True)
        return
    click.echo(text_table([(link.id, link.view, link.created_by, link.expires_at, link.state())
                           for link in found],
                          ["id", "view", "made by", "expires (UTC)", "state"]))


@share.command("revoke")
@click.argument("link_id", metavar="ID")
@pass_ctx
def revoke(ctx: Context, link_id):
    """Revoke a share link: it stops working at once, for anyone already looking too."""
    link = _links(ctx).revoke(link_id)
    click.echo(f"Revoked share link {link.id} ({link.view}).", err=True)


COMMANDS = (users, share)
