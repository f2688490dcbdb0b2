"""Benchmark: needs inferred from the text of real council directory records (issue 15).

Imports each file of ``../shared/fixtures/oruk-council-sample/`` through the ORUK loader
(``plan_feed``: the same code ``pathways load`` runs) and compares the needs its activities
ADDRESS with the hand labels in ``tests/data/needs_dev_labels.csv``, over (service, need)
pairs. Prints precision and recall per directory, overall, and per need. Asserts nothing.

All 200 records were read while labelling, before the rules were drafted; the tuning after
the first measurement looked at the Bristol errors only, so North Lincolnshire is "not tuned
on" rather than unseen. Report both, as ``benchmarks/RESULTS.md`` does.

    cd benchmarks && ../.venv/bin/python needs_inference.py [--errors]
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loaders.feeds import plan_feed  # noqa: E402
from pathways.model import RelType  # noqa: E402

FIXTURES = ROOT.parent / "shared" / "fixtures" / "oruk-council-sample"
LABELS = ROOT / "tests" / "data" / "needs_dev_labels.csv"
FILES = {"bristol-services-sample.json": "Bristol (tuned on)",
         "north-lincolnshire-services-sample.json": "North Lincolnshire (not tuned on)"}


def labelled(path: Path = LABELS) -> dict[str, dict[str, set[str]]]:
    """file → service id → the needs a person labelled."""
    out: dict[str, dict[str, set[str]]] = defaultdict(dict)
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            out[row["file"]][row["service_id"]] = {n for n in row["needs"].split(";") if n}
    return out


def predicted(path: Path) -> tuple[dict[str, set[str]], dict[tuple[str, str], str]]:
    """service id → needs the import gives it; (service id, need) → evidence."""
    plan, _report = plan_feed([path], "oruk", {})
    service_of = {r.target_id: r.source_id for r in plan.rels if r.type == RelType.OFFERS}
    needs: dict[str, set[str]] = defaultdict(set)
    evidence: dict[tuple[str, str], str] = {}
    for rel in plan.rels:
        if rel.type == RelType.ADDRESSES:
            service = service_of.get(rel.source_id, rel.source_id).split(":", 2)[-1]
            needs[service].add(rel.target_id)
            evidence[service, rel.target_id] = rel.props.get("evidence", "(taxonomy)")
    return needs, evidence


def score(truth: dict[str, set[str]], guess: dict[str, set[str]]) -> tuple[int, int, int]:
    tp = fp = fn = 0
    for service, wanted in truth.items():
        got = guess.get(service, set())
        tp, fp, fn = tp + len(wanted & got), fp + len(got - wanted), fn + len(wanted - got)
    return tp, fp, fn


def line(name: str, tp: int, fp: int, fn: int) -> str:
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    return (f"{name:34} precision {precision:5.2f}  recall {recall:5.2f}"
            f"   (correct {tp}, wrong {fp}, missed {fn})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list every wrong and missed pair")
    args = parser.parse_args()
    labels = labelled()
    totals = [0, 0, 0]
    per_need: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for file, title in FILES.items():
        truth = labels[file]
        guess, evidence = predicted(FIXTURES / file)
        counts = score(truth, guess)
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        print(line(title, *counts))
        for service, wanted in truth.items():
            got = guess.get(service, set())
            for need in wanted | got:
                cell = per_need[need]
                cell[0 if need in wanted & got else 1 if need in got else 2] += 1
                if args.errors and need not in wanted & got:
                    what = (f"WRONG  {need} from {evidence[service, need]!r}" if need in got
                            else f"MISSED {need}")
                    print(f"    {what}  [{service[:8]}]")
    print(line("both directories", *totals))
    print()
    for need in sorted(per_need):
        print(line(f"  {need}", *per_need[need]))


if __name__ == "__main__":
    main()
