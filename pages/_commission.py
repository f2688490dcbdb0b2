"""The Gaps page's "from a red cell to a commission" part: for a need × locality with nothing
provided, a link to the Consortia page with that opportunity chosen, and the organisations that
provide the need in neighbouring localities or elsewhere (:mod:`pathways.analysis.commission`).

Only names of organisations, localities and activities: no contact details here.
Dash's page registry skips modules whose name starts with an underscore: this is not a page.
"""

from __future__ import annotations

from dash import dcc, html

from pages._state import encode
from pathways.analysis.commission import Elsewhere, providers_elsewhere

SHOWN = 12  # providers listed; the Consortia page has them all


def _count(n: int) -> str:
    return f"{n} activity" if n == 1 else f"{n} activities"


def consortia_href(found: Elsewhere) -> str:
    """The Consortia page's address for the cell (and neighbouring localities with providers)."""
    return "/consortia" + encode(found["consortia_query"])


def commission_part(store, need: str, locality: str) -> html.Div | None:
    """The part for a red cell (ids checked by the caller against the server's report), or
    None when the need is provided there."""
    found = providers_elsewhere(store, need, locality)
    if found["provided_here"]:
        return None
    near = found["neighbours"]
    if near:
        near_text = "Neighbouring localities: " + "; ".join(
            n["name"] + (f" (shared by {', '.join(n['shared_by'])})" if n["shared_by"] else "")
            + (f", {n['distance_km']} km" if n["distance_km"] is not None else "")
            for n in near) + "."
    else:
        near_text = ("No neighbouring locality (none shares a link worker or an organisation's "
                     f"cover, or lies within {found['radius_km']:g} km).")
    providers = found["providers"]
    items = [html.Li([html.Strong(p["name"]),
                      (" (neighbouring)" if p["neighbouring"] else ""),
                      f": {_count(len(p['activities']))} in {', '.join(p['localities'])}"
                      + (f"; nearest {p['nearest_km']} km away" if p["nearest_km"] is not None
                         else "")])
             for p in providers[:SHOWN]]
    more = len(providers) - SHOWN
    return html.Div([
        html.H4(f"Commissioning {found['need_name']} in {found['locality_name']}"),
        html.P(dcc.Link("Find partners for this on the Consortia page",
                        href=consortia_href(found), id="gp-commission-link")),
        html.P(near_text, className="hint"),
        html.P("Organisations that provide this need elsewhere, nearest first:"
               if providers else "No organisation provides this need anywhere yet."),
        html.Ul(items, id="gp-commission-providers"),
        html.P(f"and {more} more." if more > 0 else ""),
    ], className="commission")
