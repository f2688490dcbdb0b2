"""The gap report as text, CSV or one self-contained HTML file a lead can e-mail.

Presentation only: the figures come from :func:`pathways.analysis.gaps.gap_report`.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from pathways.analysis.commission import Elsewhere
from pathways.analysis.gaps import GAP_KINDS, CoverageCell, GapReport
from pathways.analysis.recommend import Protection, Recommendations
from pathways.reports.tables import text_table
from pathways.reports.templating import render
from pathways.spreadsheet import to_csv

LEAD_NOTES = {
    "coverage": "For each need and locality: activities that exist there (or serve the whole "
                "area), and how many of them a link worker covering that locality can refer to. "
                "0 existing = nothing is provided; existing but 0 reachable = provision no one "
                "refers to. Next step: commission provision, or add a referral route.",
    "unreached": "Activities no link worker can reach within the hop limit. 'needs hops' is the "
                 "shortest route that would reach it; blank means no route at all. Next step: "
                 "agree a referral route with the provider.",
    "single_points_of_failure": "Organisations and services most routes pass through: 'pairs lost'"
                                " is how many (link worker, activity) options would disappear if "
                                "it stopped. Next step: a second route around it.",
    "thin_options": "Link workers who can offer activities for few needs, and localities with only "
                    "one link worker or one provider.",
    "data_gaps": "Per organisation, services and activities missing a contact route, a schedule, "
                 "accessibility information, a location, a need they address, or a review in the "
                 "last 12 months. Next step: ask that organisation.",
    "commission": "Red cells (nothing provided): the organisations that already provide the need "
                  "in a neighbouring locality or elsewhere, nearest first, and the Consortia "
                  "page's address with the opportunity chosen (add it to the app's address). "
                  "Next step: commission it, from them.",
    "recommendations": "Amber cells (provision exists, no local link worker reaches it): the "
                       "fewest new referral agreements that would make the most of them "
                       "reachable, in order; each says which cells it closes and how many new "
                       "link worker–activity options it opens. Next step: agree the routes, "
                       "after simulating them on the Gaps page.",
    "protection": "For each of the top single points of failure: the one new referral agreement "
                  "that would keep the most of the options it carries if it stopped. Next step: "
                  "agree that second route.",
}


#: what the coverage parts say when there is no need × locality cell to count (no locality
#: or no need in the graph: a directory feed alone often places no activity in a locality)
NO_CELLS = ("No need × locality cells: the graph has no localities or no needs, so coverage "
            "cannot be counted. A directory's activities get a locality from the town or postcode "
            "of their address; the unreached activities below list them all.")


def coverage_grid(
        report: GapReport) -> tuple[list[str], list[str], dict[tuple[str, str], CoverageCell]]:
    """(need ids, locality ids, cell by (need, locality)) in report order."""
    needs: list[str] = []
    places: list[str] = []
    cells = {}
    for cell in report["coverage"]:
        if cell["need"] not in needs:
            needs.append(cell["need"])
        if cell["locality"] not in places:
            places.append(cell["locality"])
        cells[(cell["need"], cell["locality"])] = cell
    return needs, places, cells


def public_json(report: GapReport) -> dict:
    """The report for JSON output: every section, without the internal name lookup."""
    return {k: v for k, v in report.items() if k != "names"}


COVERAGE_TITLE = "Coverage gaps (need × locality with nothing reachable)"


def _sections(report: GapReport) -> Iterable[tuple[str, list[str], list[list]]]:
    names = report["names"]
    yield COVERAGE_TITLE, \
        ["need", "locality", "existing", "reachable"], \
        [[names[c["need"]], names[c["locality"]], c["existing"], c["reachable"]]
         for c in report["coverage"] if c["reachable"] == 0]
    yield "Unreached activities", ["activity", "provider", "needs hops"], \
        [[r["name"], r["provider"], r["needs_hops"] if r["needs_hops"] is not None else "no route"]
         for r in report["unreached"]]
    yield "Organisations with services but no referral route in", ["organisation", "services"], \
        [[r["name"], r["services"]] for r in report["no_inbound_route"]]
    yield "Single points of failure", ["name", "kind", "pairs lost", "articulation point"], \
        [[r["name"], r["kind"], r["pairs_lost"], "yes" if r["articulation_point"] else "no"]
         for r in report["single_points_of_failure"]]
    yield "Link workers by needs covered", ["link worker", "activities", "needs covered", "thin"], \
        [[r["name"], r["activities"], f"{r['needs_covered']}/{r['needs_total']}",
          "yes" if r["thin"] else ""] for r in report["thin_options"]["link_workers"]]
    yield "Localities with one link worker or one provider", \
        ["locality", "link workers", "providers"], \
        [[r["name"], r["link_workers"], r["providers"]] for r in report["thin_options"]["localities"]]
    yield "Data gaps by organisation", \
        ["organisation"] + [k.replace("_", " ") for k in GAP_KINDS], \
        [[r["name"]] + [r[k] for k in GAP_KINDS] for r in report["data_gaps"]]


_SHOWN_PROVIDERS = 5  # per red cell in the text report; JSON and CSV carry them all


def _provider_names(found: Elsewhere, neighbouring: bool) -> list[str]:
    return [p["name"] for p in found["providers"] if p["neighbouring"] == neighbouring]


def _commission_rows(commissions: list[Elsewhere]) -> list[list]:
    rows = []
    for c in commissions:
        near, far = _provider_names(c, True), _provider_names(c, False)
        more = len(far) - _SHOWN_PROVIDERS
        rows.append([c["need_name"], c["locality_name"],
                     ", ".join(n["name"] for n in c["neighbours"]) or "-",
                     ", ".join(near) or "-",
                     ", ".join(far[:_SHOWN_PROVIDERS]) + (f" (+{more} more)" if more > 0 else "")
                     or "-",
                     consortia_link(c)])
    return rows


def consortia_link(found: Elsewhere) -> str:
    """The app's Consortia page address for a red cell's opportunity (append to the app's
    address)."""
    return "/consortia" + ("?" + urlencode([(k, v) for k, vs in found["consortia_query"].items()
                                             for v in vs]))


COMMISSION_TITLE = "Nothing provided: who provides it nearby or elsewhere (to commission it)"
COMMISSION_HEADER = ["need", "locality", "neighbouring localities", "providers in them",
                     "providers elsewhere (nearest first)", "Consortia page"]
RECOMMEND_TITLE = "Provided but not reached: routes that would close these (new referral agreements)"
RECOMMEND_HEADER = ["rank", "new agreement: from", "to", "cells it closes", "new options",
                    "cells closed so far"]
PROTECT_TITLE = "Single points of failure: a second route around each"
PROTECT_HEADER = ["single point of failure", "options it cuts", "new agreement: from", "to",
                  "options kept"]


def _recommend_rows(found: Recommendations) -> list[list]:
    return [[s["rank"], s["source"]["name"], s["target"]["name"],
             f"+{len(s['cells'])}: " + ", ".join(s["cell_names"]), f"+{s['options']}",
             s["cells_so_far"]] for s in found["recommendations"]]


def _recommend_summary(found: Recommendations, cells: bool) -> str:
    """The amber cells' line; ``cells``: whether the report has any need × locality cell."""
    amber = len(found["amber"])
    if not amber and not cells:
        return "No amber cells: there is no need × locality cell to count (see the coverage part)."
    if not amber:
        return "No amber cells: wherever provision exists, a local link worker reaches it."
    if not found["recommendations"]:
        return (f"{amber} amber cell{'s' if amber != 1 else ''}; no single new referral "
                "agreement would make one of them reachable.")
    return (f"{amber} amber cell{'s' if amber != 1 else ''}; these "
            f"{len(found['recommendations'])} agreements would make {found['closed']} of them "
            f"reachable. Method: {found['method']} {found['guarantee']}")


def _protect_rows(found: Protection) -> list[list]:
    return [[r["name"], r["pairs_lost"],
             r["source"]["name"] if r["source"] else "(no single agreement keeps any)",
             r["target"]["name"] if r["target"] else "", r["kept"]]
            for r in found["remedies"]]


def as_text(report: GapReport, commissions: list[Elsewhere] | None = None,
            recommendations: Recommendations | None = None,
            protection: Protection | None = None) -> str:
    """The report as plain-text tables; with ``commissions`` (red cells),
    ``recommendations`` (amber cells) and ``protection`` (single points of failure), the step
    from each diagnosis to an action."""
    parts = [f"Gap report (routes of at most {report['max_hops']} hops, as of {report['as_of']})"]
    for title, header, rows in _sections(report):
        parts.append(f"\n{title}\n{'=' * len(title)}")
        parts.append(text_table(rows, header) if rows
                     else NO_CELLS if title == COVERAGE_TITLE and not report["coverage"]
                     else "(none)")
    if commissions is not None:
        parts.append(f"\n{COMMISSION_TITLE}\n{'=' * len(COMMISSION_TITLE)}")
        parts.append(text_table(_commission_rows(commissions), COMMISSION_HEADER)
                     if commissions else "(none)")
    if recommendations is not None:
        parts.append(f"\n{RECOMMEND_TITLE}\n{'=' * len(RECOMMEND_TITLE)}")
        parts.append(_recommend_summary(recommendations, bool(report["coverage"])))
        if recommendations["recommendations"]:
            parts.append(text_table(_recommend_rows(recommendations), RECOMMEND_HEADER))
    if protection is not None:
        parts.append(f"\n{PROTECT_TITLE}\n{'=' * len(PROTECT_TITLE)}")
        parts.append(text_table(_protect_rows(protection), PROTECT_HEADER)
                     if protection["remedies"] else "(none)")
        parts.append(f"Method: {protection['method']}")
    return "\n".join(parts) + "\n"


def as_csv(report: GapReport, commissions: list[Elsewhere] | None = None,
           recommendations: Recommendations | None = None,
           protection: Protection | None = None) -> str:
    """One long table: section, id, name, measure, value — opens in Excel, filters well.

    With ``commissions`` (red cells, :func:`pathways.analysis.commission.red_cells`), section
    ``commission`` has per red cell its neighbouring localities, the providers there, the
    providers elsewhere and the Consortia page's address.  With ``recommendations``, section
    ``recommendation`` has per new agreement (id: its rank) its ends, the cells it closes and
    the options it adds; with ``protection``, section ``remedy`` has per single point of
    failure the new agreement that keeps the most of its options."""
    rows: list[dict[str, object]] = []
    names = report["names"]
    for step in recommendations["recommendations"] if recommendations else []:
        agreement = {"section": "recommendation", "id": step["rank"],
                     "name": f"{step['source']['name']} → {step['target']['name']}"}
        for what, value in (("from", step["source"]["name"]), ("to", step["target"]["name"]),
                            ("cells_added", len(step["cells"])),
                            ("cells", "; ".join(step["cell_names"])),
                            ("options_added", step["options"]),
                            ("cells_so_far", step["cells_so_far"])):
            rows.append({**agreement, "measure": what, "value": value})
    for remedy in protection["remedies"] if protection else []:
        node = {"section": "remedy", "id": remedy["id"], "name": remedy["name"]}
        for what, value in (("pairs_lost", remedy["pairs_lost"]),
                            ("route_from", remedy["source"]["name"] if remedy["source"] else ""),
                            ("route_to", remedy["target"]["name"] if remedy["target"] else ""),
                            ("kept", remedy["kept"])):
            rows.append({**node, "measure": what, "value": value})
    for red in commissions or []:
        cell = {"section": "commission", "id": f"{red['need']}@{red['locality']}",
                "name": f"{red['need_name']} in {red['locality_name']}"}
        for what, text in (
                ("neighbouring_localities", "; ".join(n["name"] for n in red["neighbours"])),
                ("neighbouring_providers", "; ".join(_provider_names(red, True))),
                ("providers_elsewhere", "; ".join(_provider_names(red, False))),
                ("consortia_page", consortia_link(red))):
            rows.append({**cell, "measure": what, "value": text})
    for c in report["coverage"]:
        for measure in ("existing", "reachable"):
            rows.append({"section": "coverage", "id": f"{c['need']}@{c['locality']}",
                         "name": f"{names[c['need']]} in {names[c['locality']]}",
                         "measure": measure, "value": c[measure]})
    for u in report["unreached"]:
        rows.append({"section": "unreached", "id": u["id"], "name": u["name"],
                     "measure": "needs_hops", "value": u["needs_hops"]})
    for f in report["single_points_of_failure"]:
        rows.append({"section": "single_points_of_failure", "id": f["id"], "name": f["name"],
                     "measure": "pairs_lost", "value": f["pairs_lost"]})
    for w in report["thin_options"]["link_workers"]:
        rows.append({"section": "thin_options", "id": w["id"], "name": w["name"],
                     "measure": "needs_covered", "value": w["needs_covered"]})
    for p in report["thin_options"]["localities"]:
        for measure, value in (("link_workers", p["link_workers"]),
                               ("providers", p["providers"])):
            rows.append({"section": "thin_localities", "id": p["id"], "name": p["name"],
                         "measure": measure, "value": value})
    for d in report["data_gaps"]:
        for kind in GAP_KINDS:
            rows.append({"section": "data_gaps", "id": d["id"], "name": d["name"],
                         "measure": kind, "value": d[kind]})
    return to_csv(rows, ["section", "id", "name", "measure", "value"])


def _heat_colour(existing: int, reachable: int) -> str:
    if existing == 0:
        return "#d55e00"  # nothing provided
    if reachable == 0:
        return "#e69f00"  # provided, no one refers to it
    share = reachable / existing
    return "#cfe8f3" if share < 0.5 else "#7fbfdf"


def as_html(report: GapReport, commissions: list[Elsewhere] | None = None,
            recommendations: Recommendations | None = None,
            protection: Protection | None = None) -> str:
    """A single HTML file with inline styles and no scripts: safe to e-mail.

    Rendered from ``templates/gap_report.html`` (Jinja2, every value escaped).  With
    ``commissions``, ``recommendations`` and ``protection`` it has a "From gaps to action"
    part: who could provide each red cell, the routes that would close the amber cells, and a
    second route around each top single point of failure.
    """
    names = report["names"]
    needs, places, cells = coverage_grid(report)
    rows = [{"need": names[need],
             "cells": [{"reachable": cells[(need, place)]["reachable"],
                        "existing": cells[(need, place)]["existing"],
                        "colour": _heat_colour(cells[(need, place)]["existing"],
                                               cells[(need, place)]["reachable"])}
                       for place in places]}
            for need in needs]
    notes = {"Unreached activities": "unreached", "Single points of failure": "single_points_of_failure",
             "Link workers by needs covered": "thin_options", "Data gaps by organisation": "data_gaps"}
    sections = [{"title": title, "note": LEAD_NOTES[notes[title]] if title in notes else "",
                 "header": header, "rows": rows}
                for title, header, rows in list(_sections(report))[1:]]
    actions = []
    if commissions is not None:
        actions.append({"title": COMMISSION_TITLE, "note": LEAD_NOTES["commission"], "summary": "",
                        "header": COMMISSION_HEADER, "rows": _commission_rows(commissions)})
    if recommendations is not None:
        actions.append({"title": RECOMMEND_TITLE, "note": LEAD_NOTES["recommendations"],
                        "summary": _recommend_summary(recommendations, bool(report["coverage"])),
                        "header": RECOMMEND_HEADER, "rows": _recommend_rows(recommendations)})
    if protection is not None:
        actions.append({"title": PROTECT_TITLE, "note": LEAD_NOTES["protection"],
                        "summary": f"Method: {protection['method']}",
                        "header": PROTECT_HEADER, "rows": _protect_rows(protection)})
    return render("gap_report.html", max_hops=report["max_hops"], as_of=report["as_of"],
                  notes=LEAD_NOTES, coverage={"places": [names[p] for p in places], "rows": rows,
                            "empty": "" if rows else NO_CELLS},
                  sections=sections, actions=actions)
