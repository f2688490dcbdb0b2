"""Write a seeded, synthetic Living Database of about N nodes (CSV files in a folder).

The shape follows a real partnership, scaled up: localities each with a few link workers,
organisations providing services that offer activities, referral routes from link workers
to local organisations and services and onward between organisations, a few hubs.

    .venv/bin/python benchmarks/generate.py 10000 /tmp/synthetic-10k [--seed 7]

Everything is made up; ids and names say so ("synthetic").
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

from loaders.files import iter_template_headers
from pathways.model import COMMON_ACCESS_TAGS, COMMON_NEEDS

DAYS = ["Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays"]


def generate(total: int, seed: int = 7) -> dict[str, list[dict]]:
    rng = random.Random(seed)
    n_places = max(3, total // 400)
    n_orgs = max(4, total * 8 // 100)
    n_services = max(6, total * 15 // 100)
    n_workers = max(2, total * 2 // 100)
    n_extra = 2 * max(1, total // 2000)  # funders and networks
    n_activities = max(10, total - n_places - n_orgs - n_services - n_workers - len(COMMON_NEEDS) - n_extra)
    tables: dict[str, list[dict]] = {t: [] for t, _ in iter_template_headers()}
    rels = tables["relationships"]

    def rel(source, kind, target, **props):
        rels.append({"source_id": source, "type": kind, "target_id": target, **props})

    places = [f"loc-{i}" for i in range(n_places)]
    for i, place in enumerate(places):
        tables["localities"].append({"id": place, "name": f"Synthetic locality {i}", "area_type": "ward"})
    for need in COMMON_NEEDS:
        tables["needs"].append({"id": need, "name": need.replace("_", " ").capitalize()})
    funders = [f"fund-{i}" for i in range(max(1, total // 2000))]
    for i, funder in enumerate(funders):
        tables["funders"].append({"id": funder, "name": f"Synthetic funder {i}"})
    networks = [f"net-{i}" for i in range(max(1, total // 2000))]
    for i, network in enumerate(networks):
        tables["networks"].append({"id": network, "name": f"Synthetic network {i}"})
    org_place = {}
    orgs = [f"org-{i}" for i in range(n_orgs)]
    hubs = orgs[: max(1, n_orgs // 50)]
    for i, org in enumerate(orgs):
        org_place[org] = rng.choice(places)
        tables["organisations"].append({
            "id": org, "name": f"Synthetic organisation {i}",
            "kind": rng.choice(["voluntary_community", "cultural", "council", "social_enterprise"]),
            "phone": f"01000 {i:06d}" if rng.random() < 0.7 else "",
        })
    services = []
    for i in range(n_services):
        service, org = f"svc-{i}", orgs[i % n_orgs] if i < n_orgs else rng.choice(orgs)
        services.append(service)
        tables["services"].append({"id": service, "name": f"Synthetic service {i}",
                                   "email": f"svc{i}@example.org" if rng.random() < 0.6 else ""})
        rel(org, "PROVIDES", service)
    service_org = {r["target_id"]: r["source_id"] for r in rels if r["type"] == "PROVIDES"}
    for i in range(n_activities):
        activity, service = f"act-{i}", services[i % len(services)] if i < len(services) else rng.choice(services)
        free = rng.random() < 0.7
        tables["activities"].append({
            "id": activity, "name": f"Synthetic activity {i}",
            "schedule": f"{rng.choice(DAYS)} {rng.randint(9, 18)}:00" if rng.random() < 0.85 else "",
            "free": "yes" if free else "no", "cost": "" if free else f"£{rng.randint(1, 8)} per session",
            "accessibility": ";".join(rng.sample(COMMON_ACCESS_TAGS, rng.randint(0, 3))),
            "serves_whole_area": "yes" if rng.random() < 0.03 else "",
            "reviewed_at": f"20{rng.randint(23, 26)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            if rng.random() < 0.8 else "",
            "illustrative": "yes",
        })
        rel(service, "OFFERS", activity)
        for need in rng.sample(COMMON_NEEDS, rng.randint(2, 4)):
            rel(activity, "ADDRESSES", need)
        if rng.random() < 0.3:
            rel(activity, "FUNDED_BY", rng.choice(funders))
        place = org_place[service_org[service]] if rng.random() < 0.8 else rng.choice(places)
        rel(activity, "LOCATED_IN", place)
    by_place: dict[str, list[str]] = {p: [] for p in places}
    for org, place in org_place.items():
        by_place[place].append(org)
    for i in range(n_workers):
        worker = f"person-lw-{i}"
        tables["people"].append({"id": worker, "name": f"Synthetic link worker {i}",
                                 "role": "link_worker", "job_title": "Link Worker"})
        covered = rng.sample(places, min(len(places), rng.randint(1, 3)))
        for place in covered:
            rel(worker, "COVERS", place)
        targets = set(rng.sample(hubs, min(len(hubs), 2)))
        for place in covered:
            local = by_place[place]
            targets.update(rng.sample(local, min(len(local), rng.randint(1, 4))))
        targets.update(rng.sample(services, rng.randint(0, 3)))
        for target in sorted(targets):
            rel(worker, "REFERS_TO", target, method=rng.choice(["phone", "email", "online_form"]))
    seen = {(r["source_id"], r["type"], r["target_id"]) for r in rels}
    signpost_to = orgs + services  # once: concatenating per organisation was quadratic
    for org in orgs:
        if rng.random() < 0.6:
            rel(org, "MEMBER_OF", rng.choice(networks))
        for other in rng.sample(orgs, 2):
            if other != org and (org, "PARTNERS_WITH", other) not in seen:
                seen.add((org, "PARTNERS_WITH", other))
                rel(org, "PARTNERS_WITH", other)
        for target in rng.sample(signpost_to, rng.randint(0, 3)):
            key = (org, "REFERS_TO", target)
            if target != org and key not in seen:
                seen.add(key)
                rel(org, "REFERS_TO", target, method="signpost")
    return tables


def write(tables: dict[str, list[dict]], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for table, header in iter_template_headers():
        with (folder / f"{table}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=header, restval="")
            writer.writeheader()
            writer.writerows(tables.get(table, []))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("nodes", type=int)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    tables = generate(args.nodes, args.seed)
    write(tables, args.folder)
    nodes = sum(len(rows) for table, rows in tables.items() if table != "relationships")
    print(f"wrote {nodes} nodes and {len(tables['relationships'])} relationships to {args.folder}")


if __name__ == "__main__":
    main()
