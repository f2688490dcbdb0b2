"""How to refer to one activity, drawn once for the Pathways page and the referral sheet.

Everything here renders a :class:`~pathways.analysis.referral.HowToRefer` the server
computed from the store; nothing comes from the browser.  Web addresses become links only
when they are plain http(s) addresses (``web_link``); anything else is shown as text.
Dash's page registry skips modules whose name starts with an underscore: this is not a page.
"""

from __future__ import annotations

from typing import Any

from dash import html

from pages._access import Role, allowed
from pages._components import aria as aria  # one helper; the pages import it here too
from pages._state import encode
from pathways.analysis.referral import Contact, HowToRefer
from pathways.analysis.shortlist import encode_shortlist
from pathways.model import DEFAULT_MAX_HOPS
from pathways.reports.network_views import web_link


def web(address: str, label: str | None = None):
    """A web address: a link only for http and https, else plain text saying what it is."""
    href = web_link(address)
    if href:
        return html.A(label or address, href=href, target="_blank", rel="noopener noreferrer")
    return html.Span(f"web address (not a web link): {address}")


def contact_item(contact: Contact) -> html.Li:
    """How to reach one organisation, service or activity on the route."""
    parts: list = []
    spoken = " · ".join(v for v in (contact.phone, contact.email) if v)
    if spoken:
        parts.append(spoken)
    if contact.website:
        parts.append(web(contact.website))
    if contact.referral_info:
        parts.append(f"How to refer: {contact.referral_info}")
    joined: list = [f"{contact.name}: "]
    for index, part in enumerate(parts):
        joined += ([" · "] if index else []) + [part]
    return html.Li(joined)


def _yes_no(value: bool | None) -> str:
    return {True: "yes", False: "no"}.get(value, "not recorded")  # type: ignore[arg-type]


def _days(days: int | None) -> str:
    return "not recorded" if days is None else f"{days} day{'' if days == 1 else 's'}"


def pairs(rows: list[tuple[str, Any]]) -> html.Dl:
    """A definition list of (term, value); an empty value reads "not recorded"."""
    items: list = []
    for term, value in rows:
        items += [html.Dt(term), html.Dd(value if value not in ("", None) else "not recorded")]
    return html.Dl(items)


CONTACTS_HIDDEN = ("Contact details are shown to link workers and above: sign in with a link "
                   "worker's account to see them.")


def first_step(found: HowToRefer) -> list:
    """Who to contact first, how, self-referral, wait and notes (shared with the sheet).
    The phone and e-mail only for link workers and above (checked here, on the server)."""
    first = found.first_step
    if first is None:
        return [html.P(found.summary)]
    reach = " · ".join(v for v in (first.contact.phone, first.contact.email) if v) \
        if allowed(Role.LINK_WORKER) else ""
    rows: list[tuple[str, Any]] = [
        ("Contact", f"{first.contact.name}" + (f" ({reach})" if reach else "")),
        ("Method", first.method_words),
        ("Self-referral", _yes_no(first.self_referral)),
        ("Typical wait", _days(first.typical_wait_days)),
    ]
    if first.notes:
        rows.append(("Route notes", first.notes))
    if first.referral_info and allowed(Role.LINK_WORKER):
        rows.append(("Their referral notes", first.referral_info))
    if first.form_link and allowed(Role.LINK_WORKER):
        rows.append(("Referral form", web(first.form_link)))
    return [html.P(found.summary), pairs(rows)]


def what_they_find(found: HowToRefer) -> html.Dl:
    offer = found.offer
    where = "the whole area (any locality)" if offer.serves_whole_area else "; ".join(offer.localities)
    return pairs([
        ("When", offer.schedule), ("Venue", offer.venue), ("Cost", offer.cost),
        ("Where", where),
        ("Access", "; ".join(a.replace("_", " ") for a in offer.access)),
        ("Ages", offer.ages), ("Needs", "; ".join(offer.needs)),
    ])


def freshness(found: HowToRefer) -> html.P:
    flagged = found.freshness.flagged
    return html.P(("Check first: " if flagged else "") + found.freshness.message,
                  className="freshness stale" if flagged else "freshness")


def contacts(found: HowToRefer) -> html.Ul | html.P:
    """Every contact on the route (or, when unreachable, the activity's own providers)."""
    if not allowed(Role.LINK_WORKER):  # viewers: none at all (checked on the server)
        return html.P(CONTACTS_HIDDEN, className="hint contacts-hidden")
    if not found.contacts:
        return html.P("No contact details recorded.")
    return html.Ul([contact_item(c) for c in found.contacts])


# --- the referral sheet's address -----------------------------------------------------------

SHEET_PATH = "/shortlist"
SHORTLIST_KEY = "shortlist"


def sheet_address(worker: str, items: list[str], hops: int = DEFAULT_MAX_HOPS) -> str:
    """The referral sheet's address: the shortlist's token (the link worker's and the
    activities' ids, :func:`~pathways.analysis.shortlist.encode_shortlist`) and the longest
    route when it is not the usual one; never anything about the person being referred.

    >>> sheet_address("lw", ["a", "b"])
    '/shortlist?shortlist=1.WyJsdyIsImEiLCJiIl0'
    """
    return SHEET_PATH + encode({SHORTLIST_KEY: encode_shortlist(items, worker),
                                "hops": hops if hops != DEFAULT_MAX_HOPS else None})
