"""One consortium suggestion as a card a commissioner can use (issue 19 item 4): how it was
found, why this group, the evidence for every covered cell, the members' existing ties as a
small network with the same ties as a list (for keyboards and screen readers), and each
member's named contact, only when the reader may see contacts.

Everything here comes from the report the server computed (pages/consortia.py recomputes it
from the checked query); the caller decides whether ``contacts`` may be shown (link workers
and above: :func:`pages._access.allowed`), and passes None otherwise.

Dash's page registry skips modules whose name starts with an underscore: this is not a page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dash_cytoscape as cyto
from dash import html

from pages._components import aria, hint
from pages._referral import CONTACTS_HIDDEN
from pathways.analysis.consortia import MemberContacts, Suggestion, Suggestions, ties_network
from pathways.reports.network_views import network_elements, stylesheet, web_link
from pathways.reports.render_consortia import evidence_by_cell

TIES_LAYOUT = {"name": "cose", "animate": False, "randomize": False}
TIES_GRAPH = "co-ties-graph"  # + the suggestion's rank


def evidence_section(report: Suggestions, s: Suggestion, rank: int) -> html.Details:
    """Each covered cell with the members' activities there and the services offering them
    (a disclosure: open it with Enter or Space)."""
    found = evidence_by_cell(report, s)
    return html.Details([
        html.Summary(f"Evidence for the {len(found)} covered "
                     f"cell{'' if len(found) == 1 else 's'}"),
        html.Ul([html.Li([html.Strong(cell), html.Ul([html.Li(line) for line in lines])])
                 for cell, lines in found], className="evidence-list"),
    ], id=f"co-evidence-{rank}", className="card-part evidence")


def ties_section(s: Suggestion, rank: int) -> html.Div:
    """The members' existing ties: a list (every tie in words) and the same as a small graph."""
    title = html.H4(f"Existing ties between members ({s['existing_ties']})")
    if len(s["members"]) < 2:
        return html.Div([title, hint("One organisation alone: no ties to show.")],
                        className="card-part ties")
    if not s["ties"]:
        return html.Div([title, hint("The members have no existing ties yet.")],
                        className="card-part ties")
    network = ties_network(s)
    elements, _trimmed = network_elements(network, set(network["members"]))
    for element in elements:  # what joins the members is part of the picture: none dimmed
        element["classes"] = " ".join(c for c in element.get("classes", "").split() if c != "dim")
    graph = cyto.Cytoscape(
        id=f"{TIES_GRAPH}-{rank}", elements=elements, layout=TIES_LAYOUT, stylesheet=stylesheet(),
        autoRefreshLayout=False, className="ties-graph", minZoom=0.3, maxZoom=2,
        userZoomingEnabled=False, style={"width": "100%", "height": "220px"})
    return html.Div([
        title,
        html.Ul([html.Li(t["text"]) for t in s["ties"]], id=f"co-ties-{rank}"),
        html.Div(graph, className="ties-graph-box", **aria({
            "role": "img", "aria-label": "The same ties drawn as a network: members outlined"})),
    ], className="card-part ties")


def _contact_item(member: str, c: MemberContacts) -> html.Li:
    parts: list[Any] = [html.Strong(member)]
    if c["people"]:
        p = c["people"][0]
        role = ", ".join(x for x in (p["job_title"], p["role"]) if x)
        reach = [x for x in (p["phone"], p["email"]) if x]
        parts.append(f": {p['name']}" + (f" ({role})" if role else ""))
        if reach:
            parts += [html.Br(), " · ".join(reach)]
        return html.Li(parts)
    reach = [x for x in (c["phone"], c["email"]) if x]
    site = web_link(c["website"]) if c["website"] else None
    parts += [": no named contact; the organisation: ",
              " · ".join(reach) or ("" if site else "no details recorded")]
    if site:
        parts += [" · ", html.A(c["website"], href=site, target="_blank", rel="noopener noreferrer")]
    return html.Li(parts)


def contacts_section(s: Suggestion, contacts: Mapping[str, MemberContacts] | None) -> html.Div:
    """Who to contact at each member, in their work role; for readers who may not see contact
    details, a note saying who may (nothing else is sent to the browser)."""
    title = html.H4("Who to contact")
    if contacts is None:
        return html.Div([title, html.P(CONTACTS_HIDDEN, className="hint contacts-hidden")],
                        className="card-part contacts")
    return html.Div([title, html.Ul([_contact_item(m["name"], contacts[m["id"]])
                                      for m in s["members"] if m["id"] in contacts])],
                    className="card-part contacts")


def consortium_card(report: Suggestions, rank: int, s: Suggestion,
                    contacts: Mapping[str, MemberContacts] | None) -> html.Article:
    names = report["names"]
    return html.Article([
        html.H3(f"{rank}. " + ", ".join(m["name"] for m in s["members"])),
        html.P([html.Strong("How it was found: "), s["strategy"]], className="strategy"),
        html.Ul([html.Li(r) for r in s["reasons"]]),
        html.P("Uncovered: " + "; ".join(f"{names[n]} in {names[p]}" for n, p in s["uncovered"]))
        if s["uncovered"] else html.P("Covers every cell."),
        evidence_section(report, s, rank),
        ties_section(s, rank),
        contacts_section(s, contacts),
    ], id=f"co-card-{rank}", className="card")
