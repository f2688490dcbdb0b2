"""The consortium report as text, CSV (Excel-ready) or a one-page printable HTML summary.

Presentation only: the figures come from :func:`pathways.analysis.consortia.consortia`.
"""

from __future__ import annotations

from collections.abc import Mapping

from pathways.analysis.consortia import ConsortiumReport, MemberContacts, Suggestion, Suggestions
from pathways.reports.tables import text_table
from pathways.reports.templating import render
from pathways.spreadsheet import to_csv


def public_json(report: ConsortiumReport,
                contacts: Mapping[str, MemberContacts] | None = None) -> dict:
    """The report for JSON; the members' contacts under ``contacts`` only when given."""
    found = {k: v for k, v in report.items() if k != "names"}
    return found if contacts is None else {**found, "contacts": dict(contacts)}


def evidence_by_cell(report: Suggestions, s: Suggestion) -> list[tuple[str, list[str]]]:
    """Each covered cell in words, with its evidence: "activity (member's service)"."""
    found: dict[tuple[str, str], list[str]] = {}
    for e in s["evidence"]:
        found.setdefault((e["need"], e["locality"]), []).append(
            f"{e['activity_name']} ({e['member_name']}: {e['service_name']})")
    return [(_cell_name(report, cell), lines) for cell, lines in found.items()]


def contact_line(c: MemberContacts) -> str:
    """The named contact in their work role (else the organisation's own details)."""
    if c["people"]:
        p = c["people"][0]
        role = ", ".join(x for x in (p["job_title"], p["role"]) if x)
        reach = " · ".join(x for x in (p["phone"], p["email"]) if x)
        return f"{p['name']}" + (f" ({role})" if role else "") + (f": {reach}" if reach else "")
    reach = " · ".join(x for x in (c["phone"], c["email"], c["website"]) if x)
    return f"no named contact; the organisation: {reach or 'no details recorded'}"


def _cell_name(report: Suggestions, cell) -> str:
    need, place = cell
    return f"{report['names'][need]} in {report['names'][place]}"


def as_text(report: ConsortiumReport,
            contacts: Mapping[str, MemberContacts] | None = None) -> str:
    names = report["names"]
    grid = [[names[c["need"]], names[c["locality"]],
             ", ".join(o["name"] for o in c["organisations"]) or "— nobody —"]
            for c in report["cells"]]
    parts = ["Opportunity cells and who covers them",
             text_table(grid, ["need", "locality", "organisations"], maxcolwidths=[None, None, 70]), ""]
    for rank, s in enumerate(report["suggestions"], 1):
        parts.append(f"Suggestion {rank}: " + ", ".join(m["name"] for m in s["members"]))
        parts.append(f"  found by: {s['strategy']}")
        parts += [f"  - {reason}" for reason in s["reasons"]]
        if s["uncovered"]:
            parts.append("  uncovered: " + "; ".join(_cell_name(report, c) for c in s["uncovered"]))
        parts.append("  evidence:")
        for cell, lines in evidence_by_cell(report, s):
            parts.append(f"    {cell}: " + "; ".join(lines))
        if s["ties"]:
            parts.append("  existing ties:")
            parts += [f"    - {t['text']}" for t in s["ties"]]
        if contacts is not None:
            parts.append("  contacts:")
            parts += [f"    {m['name']}: {contact_line(contacts[m['id']])}" for m in s["members"]
                      if m["id"] in contacts]
        parts.append("")
    if report.get("landscape"):
        parts.append("Natural groupings (communities of existing ties)")
        for group in report["landscape"]:
            parts.append("  - " + ", ".join(m["name"] for m in group["members"]))
    return "\n".join(parts) + "\n"


CSV_COLUMNS = ["suggestion", "member_id", "member", "cells", "covered_by_consortium",
               "uncovered", "existing_ties", "reachable_by_link_workers", "reasons", "strategy",
               "evidence"]
CONTACT_COLUMNS = ["contact", "contact_role", "contact_phone", "contact_email"]


def as_csv(report: Suggestions,
           contacts: Mapping[str, MemberContacts] | None = None) -> str:
    """One row per suggestion and member: rank, member, the cells it brings, ties, reasons,
    the method that found the suggestion and the member's evidence ("need in locality:
    activity (service)"); the member's named contact only when ``contacts`` is given."""
    rows = []
    for rank, s in enumerate(report["suggestions"], 1):
        for m in s["members"]:
            brings = [c for c in report["cells"] if any(o["id"] == m["id"] for o in c["organisations"])]
            row = {
                "suggestion": rank, "member_id": m["id"], "member": m["name"],
                "cells": "; ".join(_cell_name(report, (c["need"], c["locality"])) for c in brings),
                "covered_by_consortium": len(s["covered"]), "uncovered": len(s["uncovered"]),
                "existing_ties": s["existing_ties"],
                "reachable_by_link_workers": s["reachable_by_link_workers"],
                "reasons": " | ".join(s["reasons"]),
                "strategy": s["strategy"],
                "evidence": "; ".join(
                    f"{_cell_name(report, (e['need'], e['locality']))}: {e['activity_name']} "
                    f"({e['service_name']})" for e in s["evidence"] if e["member"] == m["id"]),
            }
            if contacts is not None and m["id"] in contacts:
                people = contacts[m["id"]]["people"]
                first = people[0] if people else None
                row |= {"contact": first["name"] if first else "",
                        "contact_role": ", ".join(x for x in (first["job_title"], first["role"]) if x)
                        if first else "",
                        "contact_phone": first["phone"] if first else contacts[m["id"]]["phone"],
                        "contact_email": first["email"] if first else contacts[m["id"]]["email"]}
            rows.append(row)
    return to_csv(rows, CSV_COLUMNS + (CONTACT_COLUMNS if contacts is not None else []))


def as_html_summary(report: Suggestions, index: int = 0,
                    contacts: Mapping[str, MemberContacts] | None = None) -> str:
    """One printable page for one suggestion (inline CSS, no scripts).

    Rendered from ``templates/consortium_summary.html`` (Jinja2, every value escaped).
    """
    s = report["suggestions"][index]
    opp = report["opportunity"]
    names = report["names"]
    covered = {tuple(c) for c in s["covered"]}
    member_ids = {m["id"] for m in s["members"]}
    cells = [{"need": names[c["need"]], "locality": names[c["locality"]],
              "who": [o["name"] for o in c["organisations"] if o["id"] in member_ids],
              "covered": (c["need"], c["locality"]) in covered}
             for c in report["cells"]]
    filters = [f for f, on in (("free activities only", opp["free_only"]),
                               ("access: " + ", ".join(opp["access"]), bool(opp["access"]))) if on]
    return render("consortium_summary.html", number=index + 1,
                  members=[m["name"] for m in s["members"]],
                  needs=[names[n] for n in opp["needs"]],
                  localities=[names[p] for p in opp["localities"]],
                  filters=filters, reasons=s["reasons"], cells=cells, strategy=s["strategy"],
                  evidence=evidence_by_cell(report, s), ties=[t["text"] for t in s["ties"]],
                  contacts=None if contacts is None else [
                      (m["name"], contact_line(contacts[m["id"]])) for m in s["members"]
                      if m["id"] in contacts])
