"""The consortium report as text, CSV (Excel-ready) or a one-page printable HTML summary.

Presentation only: the figures come from :func:`pathways.analysis.consortia.consortia`.
"""

from __future__ import annotations

from tabulate import tabulate

from pathways.analysis.consortia import ConsortiumReport
from pathways.reports.templating import render
from pathways.spreadsheet import to_csv


def public_json(report: ConsortiumReport) -> dict:
    return {k: v for k, v in report.items() if k != "names"}


def _cell_name(report: ConsortiumReport, cell) -> str:
    need, place = cell
    return f"{report['names'][need]} in {report['names'][place]}"


def as_text(report: ConsortiumReport) -> str:
    names = report["names"]
    grid = [[names[c["need"]], names[c["locality"]],
             ", ".join(o["name"] for o in c["organisations"]) or "— nobody —"]
            for c in report["cells"]]
    parts = ["Opportunity cells and who covers them",
             tabulate(grid, headers=["need", "locality", "organisations"], maxcolwidths=[None, None, 70]), ""]
    for rank, s in enumerate(report["suggestions"], 1):
        parts.append(f"Suggestion {rank}: " + ", ".join(m["name"] for m in s["members"]))
        parts += [f"  - {reason}" for reason in s["reasons"]]
        if s["uncovered"]:
            parts.append("  uncovered: " + "; ".join(_cell_name(report, c) for c in s["uncovered"]))
        parts.append("")
    if report.get("landscape"):
        parts.append("Natural groupings (communities of existing ties)")
        for group in report["landscape"]:
            parts.append("  - " + ", ".join(m["name"] for m in group["members"]))
    return "\n".join(parts) + "\n"


def as_csv(report: ConsortiumReport) -> str:
    """One row per suggestion and member: rank, member, the cells it brings, ties, reasons."""
    rows = []
    for rank, s in enumerate(report["suggestions"], 1):
        for m in s["members"]:
            brings = [c for c in report["cells"] if any(o["id"] == m["id"] for o in c["organisations"])]
            rows.append({
                "suggestion": rank, "member_id": m["id"], "member": m["name"],
                "cells": "; ".join(_cell_name(report, (c["need"], c["locality"])) for c in brings),
                "covered_by_consortium": len(s["covered"]), "uncovered": len(s["uncovered"]),
                "existing_ties": s["existing_ties"],
                "reachable_by_link_workers": s["reachable_by_link_workers"],
                "reasons": " | ".join(s["reasons"]),
            })
    return to_csv(rows, ["suggestion", "member_id", "member", "cells", "covered_by_consortium",
                         "uncovered", "existing_ties", "reachable_by_link_workers", "reasons"])


def as_html_summary(report: ConsortiumReport, index: int = 0) -> str:
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
                  filters=filters, reasons=s["reasons"], cells=cells)
