"""The link worker's commands: ``show``, ``search`` and ``postcode``, and the names every
command accepts where it takes ids (issue 14).

A link worker types ``Pat Example``, ``North Halifax``, ``lonliness`` or ``stepfree``: the
helpers here turn them into ids with :mod:`pathways.analysis.lookup` (an id, a name, the
start of a name's words, or one close spelling) and say on stderr what a name was taken to
mean.  Several matches raise :class:`~pathways.errors.AmbiguousNameError` (the candidates
listed), none :class:`~pathways.errors.UnknownNameError` ("did you mean", the valid choices):
both are :class:`~pathways.errors.PathwaysError`, so ``pathways`` prints one plain line and
exits with status 1, as for every other error of the data (click's own usage errors keep 2).

Contact details of professionals are shown by ``show`` because a link worker needs them to
refer; nothing here reads, keeps or logs anything about the person being referred (their
postcode and the times they can make are only used to filter).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable

import click

from pathways.analysis.lookup import ACCESS, LookupKind, kind_words, resolve_match
from pathways.analysis.pathways import check_link_worker, with_details
from pathways.analysis.places import TimesError, locality_for_postcode, parse_times
from pathways.analysis.referral import (
    REFERRAL_COLUMNS,
    freshness,
    how_to_refer,
    how_to_refer_many,
    referral_columns,
)
from pathways.analysis.search import MAX_LIMIT
from pathways.analysis.search import search as search_words
from pathways.analysis.snapshot import cached_snapshot, sources
from pathways.cli.context import Context, pass_ctx
from pathways.cli.output import output_options, write_output, write_rows
from pathways.errors import PathwaysError
from pathways.model import DEFAULT_MAX_HOPS, MAX_MAX_HOPS, NodeKind, PersonRole, RelType
from pathways.store import GraphStore, PathwayFilter

SEARCH_KINDS = {"activity": NodeKind.ACTIVITY, "service": NodeKind.SERVICE,
                "organisation": NodeKind.ORGANISATION}

# --------------------------------------------------------------------------- names


def named(store: GraphStore, kind: LookupKind, text: str, option: str,
          role: str | None = None) -> str:
    """The id ``text`` means among ``kind``; says on stderr which one when it was taken from
    the start of a name's words or a close spelling."""
    found = resolve_match(store, kind, text, role)
    if found.how in ("words", "spelling"):  # a guess: say which
        what = kind_words(kind, role)[0]
        shown = found.name if found.name == found.id else f"{found.name} ({found.id})"
        click.echo(f"{option} {text!r}: using the {what} {shown}", err=True)
    return found.id


def named_all(store: GraphStore, kind: LookupKind, texts: Iterable[str], option: str) -> tuple[str, ...]:
    """:func:`named` for each, duplicates once, in the order given."""
    return tuple(dict.fromkeys(named(store, kind, t, option) for t in texts))


def worker_named(store: GraphStore, text: str) -> str:
    """The link worker ``text`` names.  An exact id of anything else is passed on as it is,
    so the analysis can say what it is instead ("a partnership lead, not a link worker")."""
    if store.get_node(text) is not None:
        return text
    return named(store, NodeKind.PERSON, text, "--from", PersonRole.LINK_WORKER.value)


def postcode_locality(store: GraphStore, postcode: str) -> str:
    """The id of the locality a person's postcode is in, or a plain error saying why not."""
    found = locality_for_postcode(store, postcode)
    if found.locality is None:
        raise PathwaysError(f"--postcode: unknown postcode: {found.message}")
    click.echo(f"--postcode: {found.message}", err=True)
    return found.locality["id"]


def person_filter(store: GraphStore, *, needs=(), locality=None, postcode=None,
                  free_only=False, access=(), age=None, times=None,
                  self_referral=False) -> PathwayFilter:
    """A :class:`PathwayFilter` from what was typed: names resolved, the postcode placed,
    the times read (:func:`~pathways.analysis.places.parse_times`)."""
    if locality is not None and postcode is not None:
        raise click.UsageError("give --locality or --postcode, not both")
    try:
        slots = parse_times(times) if times else ()
    except TimesError as exc:
        raise TimesError(f"--times: {exc}") from exc
    if postcode is not None:
        place = postcode_locality(store, postcode)
    elif locality is not None:
        place = named(store, NodeKind.LOCALITY, locality, "--locality")
    else:
        place = None
    return PathwayFilter(
        needs=named_all(store, NodeKind.NEED, needs, "--need"),
        locality=place,
        free_only=free_only,
        access=named_all(store, ACCESS, access, "--access"),
        age=age,
        times=tuple(slots),
        self_referral_only=self_referral,
    )


def with_referral(store: GraphStore, worker_id: str, rows: list[dict], max_hops: int,
                  as_of: dt.date | None = None) -> list[dict]:
    """``rows`` (from :func:`with_details`) with the referral columns
    (:data:`~pathways.analysis.referral.REFERRAL_COLUMNS`) added to each."""
    found = how_to_refer_many(store, worker_id, [r["id"] for r in rows], max_hops, as_of)
    return [{**row, **referral_columns(refer)} for row, refer in zip(rows, found, strict=True)]


PATHS_CSV_COLUMNS = ("id", "activity", "provider", "locality", "needs", "cost", "schedule",
                     "access", "hops", "route", *REFERRAL_COLUMNS)
"""``paths --format csv``: the activity, its route and how to refer."""

# --------------------------------------------------------------------------- show


def _directory_entry(store: GraphStore, activity_id: str, max_hops: int, day: dt.date) -> dict:
    """What ``show`` gives without ``--from``: what the person will find and how fresh the
    entry is, as :func:`how_to_refer` does, and the services and organisations that run it
    to contact directly (no route, so no first step)."""
    graph = cached_snapshot(store)
    props = graph.nodes[activity_id]["props"]
    row = with_details(store, {"activities": [
        {"id": activity_id, "name": props["name"], "hops": None, "path": []}]})[0]
    services = sorted(sources(graph, activity_id, RelType.OFFERS),
                      key=lambda s: (graph.nodes[s]["props"]["name"], s))
    orgs = sorted({o for s in services for o in sources(graph, s, RelType.PROVIDES)},
                  key=lambda o: (graph.nodes[o]["props"]["name"], o))
    contacts = []
    for node in [*services, *orgs, activity_id]:
        p = graph.nodes[node]["props"]
        contact = {"id": node, "name": p["name"], "kind": graph.nodes[node]["kind"].value,
                   **{k: "" if p.get(k) is None else str(p[k])
                      for k in ("phone", "email", "website", "referral_info")}}
        if any(contact[k] for k in ("phone", "email", "website", "referral_info")):
            contacts.append(contact)
    low, high = props.get("age_min"), props.get("age_max")
    fresh = freshness(graph, activity_id, services[0] if services else None, day)
    return {
        "worker": None,
        "activity": {"id": activity_id, "name": props["name"], "kind": NodeKind.ACTIVITY.value},
        "reachable": None, "hops": None, "max_hops": max_hops, "route": [], "steps": [],
        "first_step": None, "route_wait_days": None, "contacts": contacts,
        "offer": {
            "description": props.get("description") or "", "schedule": row["schedule"] or "",
            "venue": props.get("venue") or "", "cost": row["cost"], "free": props.get("free"),
            "access": list(props.get("accessibility") or ()),
            "age_min": low, "age_max": high,
            "ages": "not recorded" if low is None and high is None
            else f"{low if low is not None else 0}–{high if high is not None else 'any'}",
            "localities": _split(row["locality"]),
            "serves_whole_area": props.get("serves_whole_area") is True,
            "needs": _split(row["needs"]), "providers": _split(row["provider"]),
            "capacity": props.get("capacity"),
        },
        "freshness": dataclasses.asdict(fresh),
        "summary": "No link worker given (--from): contact its provider directly, or give"
                   " --from to see the route and the first step.",
        "illustrative": props.get("illustrative") is True,
    }


def _split(cell: str) -> list[str]:
    return [part for part in cell.split("; ") if part] if cell else []


def _yes_no(value) -> str:
    return {True: "yes", False: "no"}.get(value, "not recorded")


def _days(value) -> str:
    if value is None:
        return "not recorded"
    return f"{value} day{'s' if value != 1 else ''}"


def _contact_line(c: dict) -> str:
    parts = [f"phone {c['phone']}" if c["phone"] else "", f"e-mail {c['email']}" if c["email"] else "",
             c["website"]]
    line = f"{c['name']} ({c['kind'].lower()})"
    reach = ", ".join(p for p in parts if p)
    if reach:
        line += ": " + reach
    if c["referral_info"]:
        line += f"\n      how to refer: {c['referral_info']}"
    return line


def show_text(entry: dict) -> str:
    """``show``'s table: how to refer, what the person will find, how fresh it is."""
    act, offer, fresh = entry["activity"], entry["offer"], entry["freshness"]
    out = [f"{act['name']} ({act['id']})"]
    if entry["illustrative"]:
        out.append("Illustrative demo entry: not a real service.")
    worker = entry["worker"]
    out.append("")
    out.append(f"How to refer (from {worker['name']})" if worker else "How to refer")
    out.append(f"  {entry['summary']}")
    first = entry["first_step"]
    if first:
        contact = first["contact"]
        out += [
            f"  First step:     contact {contact['name']} ({contact['kind'].lower()})",
            f"  Method:         {first['method_words']}",
            f"  Self-referral:  {_yes_no(first['self_referral'])}",
            f"  Typical wait:   {_days(first['typical_wait_days'])}",
        ]
        referrals = [s for s in entry["steps"] if s["rel"] == RelType.REFERS_TO.value]
        if entry["route_wait_days"] is not None and len(referrals) > 1:
            out.append(f"  Whole route:    {_days(entry['route_wait_days'])} of waits in all")
        if first["notes"]:
            out.append(f"  Notes:          {first['notes']}")
        if first["referral_info"]:
            out.append(f"  Their words:    {first['referral_info']}")
        if first["form_link"]:
            out.append(f"  Form:           {first['form_link']}")
    if entry["route"]:
        route = " → ".join(n["name"] for n in entry["route"])
        out.append(f"  Route:          {route} ({entry['hops']} hops)")
    if entry["contacts"]:
        out.append("  Contacts:")
        out += [f"    {_contact_line(c)}" for c in entry["contacts"]]
    out += ["", "What the person will find"]
    where = "; ".join(offer["localities"]) or "not recorded"
    if offer["serves_whole_area"]:
        where += " (serves the whole area)"
    fields = [
        ("About", offer["description"]), ("When", offer["schedule"] or "not recorded"),
        ("Venue", offer["venue"] or "not recorded"), ("Cost", offer["cost"] or "not recorded"),
        ("Access", ", ".join(a.replace("_", " ") for a in offer["access"]) or "not recorded"),
        ("Ages", offer["ages"]), ("Where", where),
        ("Helps with", "; ".join(offer["needs"]) or "not recorded"),
        ("Run by", "; ".join(offer["providers"]) or "not recorded"),
    ]
    out += [f"  {label + ':':<15} {value}" for label, value in fields if value]
    out += ["", "Freshness"]
    flagged = fresh["status"] != "current" or fresh["missing_from_feed"]
    out.append(f"  {'CHECK: ' if flagged else ''}{fresh['message']}")
    return "\n".join(out) + "\n"


@click.command()
@click.argument("activity")
@click.option("--from", "worker", default=None,
              help="The link worker (id or name): adds the route and the first step.")
@click.option("--max-hops", type=click.IntRange(1, MAX_MAX_HOPS), default=DEFAULT_MAX_HOPS,
              show_default=True)
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Judge 'not reviewed for 12 months' as of this date [today].")
@output_options(["table", "json"], output_help="Write to a file.")
@pass_ctx
def show(ctx: Context, activity, worker, max_hops, as_of, fmt, output):
    """How to refer someone to an ACTIVITY (id or name): who to contact first and how, what
    the person will find, and how fresh the entry is.  Shows professionals' contact details
    (a link worker needs them to refer)."""
    store = ctx.store()
    day = as_of.date() if as_of else dt.date.today()

    def read() -> dict:
        activity_id = named(store, NodeKind.ACTIVITY, activity, "activity")
        if worker is None:
            return _directory_entry(store, activity_id, max_hops, day)
        worker_id = worker_named(store, worker)
        check_link_worker(store, worker_id)
        return how_to_refer(store, worker_id, activity_id, max_hops, day).to_dict()

    entry = store.consistent(read)
    text = json.dumps(entry, indent=2, ensure_ascii=False) + "\n" if fmt == "json" else show_text(entry)
    write_output(text, fmt, output)


# --------------------------------------------------------------------------- search


@click.command()
@click.argument("words", nargs=-1, required=True)
@click.option("--kind", "kinds", multiple=True, type=click.Choice(list(SEARCH_KINDS)),
              help="Only this kind; repeatable [activities, services and organisations].")
@click.option("--limit", type=click.IntRange(1, MAX_LIMIT), default=20, show_default=True)
@output_options(["table", "json", "csv"])
@pass_ctx
def search(ctx: Context, words, kinds, limit, fmt, output):
    """Activities, services and organisations whose names and descriptions say WORDS
    (typos forgiven: 'lonliness', 'exersice'), best first."""
    chosen = tuple(SEARCH_KINDS[k] for k in dict.fromkeys(kinds)) or tuple(SEARCH_KINDS.values())
    typed = " ".join(words)
    hits = search_words(ctx.store(), typed, chosen, limit)
    if not hits:
        click.echo(f"Nothing found for {typed!r}.", err=True)
        if fmt == "table":
            return
    rows = [{"name": h.name, "kind": h.kind.lower(), "id": h.id, "snippet": h.snippet,
             "score": h.score, "matched": "; ".join(h.matched)} for h in hits]
    columns = ["name", "kind", "id"] if fmt == "table" else ["name", "kind", "id", "snippet", "matched"]
    write_rows(rows, fmt, columns, output=output)


# --------------------------------------------------------------------------- postcode


@click.command()
@click.argument("postcode", nargs=-1, required=True)
@output_options(["text", "json"], with_output=False)
@pass_ctx
def postcode(ctx: Context, postcode, fmt, output=None):
    """The locality a person's POSTCODE is in (a whole postcode, a sector or a district;
    spacing and case do not matter).  Exit status 1 when no locality lists it."""
    found = locality_for_postcode(ctx.store(), " ".join(postcode))
    if fmt == "json":
        click.echo(json.dumps({"postcode": found.postcode, "locality": found.locality,
                               "matched": found.matched, "message": found.message,
                               "candidates": list(found.candidates)},
                              indent=2, ensure_ascii=False))
        if not found.found:
            raise click.exceptions.Exit(1)
        return
    if not found.found:
        raise PathwaysError(f"unknown postcode: {found.message}")
    click.echo(found.message)


COMMANDS = (show, search, postcode)

__all__ = ["COMMANDS", "PATHS_CSV_COLUMNS", "named", "named_all",
           "person_filter", "postcode_locality", "show", "show_text", "with_referral",
           "worker_named"]
