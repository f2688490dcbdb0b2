"""Benchmark: importing a synthetic ORUK 1.0 feed (full service shape) into each store.

Prints services/s for reading + mapping and for the whole import.  Asserts nothing.

    cd benchmarks && ../.venv/bin/python feeds.py [--services 5000]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path

from _common import neo4j_store, timed
from loaders.feeds import plan_feed
from pathways.loading import load_feed
from pathways.store.embedded import EmbeddedStore

TOWNS = ["Halifax", "Brighouse", "Todmorden", "Elland", "Sowerby Bridge", "Hebden Bridge"]
TERMS = ["Mental Health", "Loneliness", "Physical Activity", "Arts and Crafts",
         "Long Term Health Conditions", "Debt Advice", "Carers", "Gardening"]


def synthetic_feed(services: int, seed: int = 11) -> list[dict]:
    rng = random.Random(seed)
    feed = []
    for i in range(services):
        org = rng.randrange(max(1, services // 5))
        sites = []
        for j in range(rng.randint(0, 3)):
            town = rng.choice(TOWNS)
            sites.append({"id": f"sal-{i}-{j}", "location": {
                "id": f"loc-{i}-{j}", "name": f"Venue {i}-{j}",
                "physical_addresses": [{"id": f"a-{i}-{j}", "address_1": f"{j} High Street",
                                        "city": town, "postal_code": f"HX{rng.randint(1, 7)} 1AA"}],
                "accessibility_for_disabilities": [{"id": f"acc-{i}-{j}", "accessibility": "Wheelchair accessible"}]
                if rng.random() < 0.5 else []}})
        feed.append({
            "id": str(i), "name": f"Synthetic service {i}",
            "description": f"<p>Service {i} &amp; friends. <a href='https://example.org/{i}'>More</a></p>",
            "url": f"https://example.org/{i}", "email": f"svc{i}@example.org", "status": "active",
            "assured_date": "2025-06-01",
            "organization": {"id": f"org-{org}", "name": f"Synthetic organisation {org}"},
            "pc_metadata": {"assured_by": f"reviewer{i % 7}@council.example.gov.uk"},
            "service_at_locations": sites,
            "regular_schedules": [{"id": f"rs-{i}", "weekday": rng.choice(["MO", "TU", "WE"]),
                                   "opens_at": "10:00", "closes_at": "12:00", "freq": 1}],
            "service_taxonomys": [{"id": f"st-{i}-{k}", "taxonomy": {"id": f"t-{k}", "name": term,
                                                                    "vocabulary": "demo"}}
                                  for k, term in enumerate(rng.sample(TERMS, 2))],
            "cost_options": [{"id": f"c-{i}", "amount": 0 if rng.random() < 0.7 else 3,
                              "amount_description": ""}],
        })
    return feed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "services.json"
        path.write_text(json.dumps(synthetic_feed(args.services)), encoding="utf-8")
        seconds, (plan, _report) = timed(plan_feed, [path], "oruk", {})
        print(f"read + map      {args.services} services: {seconds:.2f} s,"
              f" {args.services / seconds:,.0f} services/s"
              f" ({len(plan.nodes)} nodes, {len(plan.rels)} relationships)")
        embedded = EmbeddedStore(Path(tmp) / "graph.json")
        seconds, _ = timed(load_feed, embedded, [path], "oruk")
        print(f"embedded import {args.services} services: {seconds:.2f} s,"
              f" {args.services / seconds:,.0f} services/s")
        with neo4j_store() as store:
            store.reset()
            seconds, _ = timed(load_feed, store, [path], "oruk")
            print(f"neo4j import    {args.services} services: {seconds:.2f} s,"
                  f" {args.services / seconds:,.0f} services/s")
            seconds, again = timed(load_feed, store, [path], "oruk")
            print(f"neo4j re-import (unchanged): {seconds:.2f} s ({again.summary})")


if __name__ == "__main__":
    main()
