"""The consortium report as text, CSV (Excel-ready) or a one-page printable HTML summary.

Presentation only: the figures come from :func:`pathways.analysis.consortia.consortia`.
"""

from __future__ import annotations

import html

from tabulate import tabulate

from pathways.spreadsheet import to_csv


def public_json(report: dict) -> dict:
    return {k: v for k, v in report.items() if k != "names"}


def _cell_name(report: dict, cell) -> str:
    need, place = cell
    return f"{report['names'][need]} in {report['names'][place]}"


def as_text(report: dict) -> str:
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


def as_csv(report: dict) -> str:
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


def as_html_summary(report: dict, index: int = 0) -> str:
    """One printable page for one suggestion (inline CSS, no scripts)."""
    esc = html.escape
    s = report["suggestions"][index]
    opp = report["opportunity"]
    names = report["names"]
    covered = {tuple(c) for c in s["covered"]}
    member_ids = {m["id"] for m in s["members"]}
    rows = []
    for c in report["cells"]:
        who = [o["name"] for o in c["organisations"] if o["id"] in member_ids]
        state = "covered" if (c["need"], c["locality"]) in covered else "not covered"
        rows.append(f"<tr><td>{esc(names[c['need']])}</td><td>{esc(names[c['locality']])}</td>"
                    f"<td>{esc(', '.join(who) or '—')}</td><td>{state}</td></tr>")
    filters = [f for f, on in (("free activities only", opp["free_only"]),
                               ("access: " + ", ".join(opp["access"]), bool(opp["access"]))) if on]
    return "\n".join([
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Consortium suggestion {index + 1}</title><style>",
        "@page{size:A4;margin:15mm}body{font-family:system-ui,sans-serif;font-size:11pt;margin:0 auto;"
        "max-width:180mm}table{border-collapse:collapse;width:100%}td,th{border:1px solid #bbb;"
        "padding:3px 6px;text-align:left}h1{font-size:16pt}h2{font-size:12pt;margin-top:14px}",
        "</style></head><body>",
        f"<h1>Consortium suggestion {index + 1}: {esc(', '.join(m['name'] for m in s['members']))}</h1>",
        "<p>Opportunity: " + esc(", ".join(names[n] for n in opp["needs"])) + " in "
        + esc(", ".join(names[p] for p in opp["localities"]))
        + (f" ({esc('; '.join(filters))})" if filters else "") + ".</p>",
        "<h2>Why this group</h2><ul>" + "".join(f"<li>{esc(r)}</li>" for r in s["reasons"]) + "</ul>",
        "<h2>Cells</h2><table><tr><th>Need</th><th>Locality</th><th>Members covering it</th>"
        "<th>Status</th></tr>" + "".join(rows) + "</table>",
        "<p>Illustrative analysis from Thriving Pathways; check offers with each organisation.</p>",
        "</body></html>",
    ])
