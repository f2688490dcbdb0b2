"""Route recommendations, remedies and what-if simulations as text and CSV (``pathways
recommend``) and as the sentences the Gaps page shows."""

from __future__ import annotations

from pathways.analysis.gaps import GapReport
from pathways.analysis.recommend import Protection, Recommendation, Recommendations, Remedy
from pathways.reports.tables import rows_text

CSV_COLUMNS = ["rank", "from", "from_kind", "to", "to_kind", "cells_added", "options_added",
               "cells", "cells_so_far"]
PROTECT_COLUMNS = ["name", "kind", "pairs_lost", "route_from", "route_to", "kept"]


def step_text(step: Recommendation) -> str:
    """"Befriending → Carers' Peer Support: +6 cells: Brighouse × carers, …; +21 options"."""
    return (f"{step['source']['name']} → {step['target']['name']}: "
            f"+{len(step['cells'])} cell{'s' if len(step['cells']) != 1 else ''}: "
            f"{', '.join(step['cell_names'])}; +{step['options']} worker–activity options")


def remedy_text(row: Remedy) -> str:
    """"Halifax Opportunities Trust cuts 187 options; a route from X to Y keeps 18 of them"."""
    head = f"{row['name']} cuts {row['pairs_lost']} options"
    if row["source"] is None or row["target"] is None:
        return head + "; no single new referral agreement keeps any of them"
    return (f"{head}; a route from {row['source']['name']} to {row['target']['name']} "
            f"keeps {row['kept']} of them")


def summary_text(found: Recommendations) -> str:
    amber = len(found["amber"])
    return (f"{amber} cell{'s' if amber != 1 else ''} where provision exists but no local link "
            f"worker reaches it within {found['max_hops']} hops; the agreements below make "
            f"{found['closed']} of them reachable.")


def as_text(found: Recommendations) -> str:
    lines = [summary_text(found), ""]
    lines += [f"{s['rank']}. {step_text(s)}" for s in found["recommendations"]]
    if not found["recommendations"]:
        lines.append("No new referral agreement would make one of these cells reachable.")
    lines += ["", f"Method: {found['method']}", f"Guarantee: {found['guarantee']}"]
    return "\n".join(lines) + "\n"


def csv_rows(found: Recommendations) -> list[dict]:
    return [{"rank": s["rank"], "from": s["source"]["name"], "from_kind": s["source"]["kind"],
             "to": s["target"]["name"], "to_kind": s["target"]["kind"],
             "cells_added": len(s["cells"]), "options_added": s["options"],
             "cells": "; ".join(s["cell_names"]), "cells_so_far": s["cells_so_far"]}
            for s in found["recommendations"]]


def as_csv(found: Recommendations) -> str:
    return rows_text(csv_rows(found), "csv", CSV_COLUMNS)


def protection_rows(found: Protection) -> list[dict]:
    return [{"name": r["name"], "kind": r["kind"], "pairs_lost": r["pairs_lost"],
             "route_from": r["source"]["name"] if r["source"] else "",
             "route_to": r["target"]["name"] if r["target"] else "", "kept": r["kept"]}
            for r in found["remedies"]]


def protection_text(found: Protection) -> str:
    lines = [remedy_text(r) for r in found["remedies"]] or ["No single points of failure."]
    return "\n".join(lines + ["", f"Method: {found['method']}"]) + "\n"


def simulation_text(before: GapReport, after: GapReport, edges: list[tuple[str, str]]) -> str:
    """What the new agreements would change: cells turned reachable, failure points."""
    def counts(report: GapReport) -> tuple[int, int]:
        amber = sum(1 for c in report["coverage"] if c["existing"] and not c["reachable"])
        return amber, sum(1 for c in report["coverage"] if not c["reachable"])

    names = after["names"]
    was = {(c["need"], c["locality"]) for c in before["coverage"] if c["reachable"]}
    now = {(c["need"], c["locality"]) for c in after["coverage"] if c["reachable"]}
    (amber0, empty0), (amber1, empty1) = counts(before), counts(after)
    lines = ["Simulated: not saved. Nothing was written to the store.",
             f"With {len(edges)} new referral agreement{'s' if len(edges) != 1 else ''}:",
             f"  cells where provision exists but no one refers to it: {amber0} → {amber1} ",
             f"  cells with nothing reachable: {empty0} → {empty1}"]
    opened = sorted(now - was, key=lambda k: (names[k[1]], names[k[0]]))
    if opened:
        lines.append("  now reachable: " + ", ".join(f"{names[p]} × {names[n]}" for n, p in opened))
    spof0 = {r["id"]: r["pairs_lost"] for r in before["single_points_of_failure"]}
    lines.append("Single points of failure (options cut, before → after):")
    for row in after["single_points_of_failure"][:5]:
        lines.append(f"  {row['name']}: {spof0.get(row['id'], 0)} → {row['pairs_lost']}")
    return "\n".join(lines) + "\n"
