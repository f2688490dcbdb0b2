"""Open Referral UK 1.0 JSON → format-neutral feed records (:class:`Feed`).

Accepts what the ORUK ``/services`` endpoint returns: a list of services, one page
(``{"content": [...], "totalElements": n}``, or ``contents``/``total_items``), several pages
concatenated in one file or a list of pages, one page per file, and single ``/services/{id}``
objects.  Both shapes: the list shape (service with a nested ``organization``) and the full
shape (``service_at_locations`` → ``location`` → ``physical_addresses`` and
``accessibility_for_disabilities``, ``regular_schedules``, ``service_taxonomys``,
``contacts`` → ``phones``, ``cost_options``, ``eligibilitys``).

Only the fields named here are read, so anything else in a record (``pc_metadata``,
``assured_by`` and other staff metadata included) never reaches the graph.
"""

from __future__ import annotations

from pathlib import Path

from loaders.feed_records import (
    Feed,
    Found,
    OrgRecord,
    ServiceRecord,
    SiteRecord,
    dicts,
    first_phone,
    is_empty,
    json_files,
    merge_duplicates,
    read_json_documents,
    record_id,
    unpage,
    withhold_staff_metadata,
)
from loaders.feed_text import text_of
from loaders.quality import QualityReport

# ORUK ``attending_access`` → the model's ``referral_info``
ACCESS_WORDS = {
    "referral": "Referral needed.",
    "appointment": "By appointment.",
    "membership": "Membership needed.",
    "drop-in": "Drop in: no referral needed.",
}


def read_oruk(paths: list[Path], report: QualityReport) -> Feed:
    """Every service in the files, duplicates merged, organisations gathered from them."""
    feed = Feed("oruk")
    found: list[Found] = []
    totals: list[int] = []
    for path in json_files(paths):
        source = f"oruk:{path.name}"
        items, claimed = unpage(read_json_documents(path, source, report))
        totals += claimed
        for row, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                report.add(f"{source}#{row}", "", "dropped", "not-an-object",
                           f"item {row} is not a JSON object", source)
            elif not record_id(item):
                report.add(f"{source}#{row}", "id", "dropped", "no-id",
                           f"item {row} has no id; it cannot be kept up to date", source)
            else:
                found.append(Found(record_id(item), item, source, row))
    services = merge_duplicates(found, "oruk:service", report)
    if totals and len(services) < max(totals):
        feed.complete = False
        report.add("oruk:services", "totalElements", "incomplete", "missing-pages",
                   f"the feed says it has {max(totals)} services but the files hold"
                   f" {len(services)}; pages may be missing, so none is reported as disappeared")

    orgs: list[Found] = []
    for item in services:
        node_id = f"oruk:service:{item.id}"
        withhold_staff_metadata(item.data, node_id, item.file, report, feed.staff_emails)
        org = item.data.get("organization")
        org_id = record_id(org) if isinstance(org, dict) else ""
        if org_id and isinstance(org, dict):
            orgs.append(Found(org_id, org, item.file, item.row))
        elif not is_empty(org):
            report.add(node_id, "organization.id", "dropped", "organisation-without-id",
                       "its organisation has no id; the service is loaded without a provider",
                       item.file)
        feed.services.append(service_record(item, org_id or None, report))
    for org in merge_duplicates(orgs, "oruk:organization", report):
        data = org.data
        feed.orgs[org.id] = OrgRecord(
            org.id, data.get("name"), data.get("description"),
            data.get("url") or data.get("website"), data.get("email"),
            first_phone(data), file=org.file, row=org.row,
        )
    return feed


def service_record(item: Found, org_id: str | None, report: QualityReport) -> ServiceRecord:
    data = item.data
    record = ServiceRecord(
        item.id, data.get("name"), org_id, item.file, item.row,
        description=data.get("description"),
        website=data.get("url"),
        email=data.get("email"),
        phone=first_phone(data.get("contacts"), data),
        referral_info=ACCESS_WORDS.get(text_of(data.get("attending_access")).lower(), ""),
        reviewed_at=data.get("assured_date"),
        status=data.get("status"),
        attending_type=data.get("attending_type"),
        fees=data.get("fees"),
        costs=dicts(data.get("cost_options")),
    )
    lows, highs = [], []
    for rule in dicts(data.get("eligibilitys")) + dicts(data.get("eligibilities")):
        lows += [rule["minimum_age"]] if not is_empty(rule.get("minimum_age")) else []
        highs += [rule["maximum_age"]] if not is_empty(rule.get("maximum_age")) else []
        if not is_empty(rule.get("eligibility")):
            record.terms.append((rule["eligibility"], "eligibilitys.eligibility"))
        for term in dicts(rule.get("taxonomys")):
            record.terms.append((term.get("name"), "eligibilitys.taxonomys.name"))
    record.age_min = min(lows, key=_number, default=None)
    record.age_max = max(highs, key=_number, default=None)
    for link in dicts(data.get("service_taxonomys")):
        if isinstance(link.get("taxonomy"), dict):
            record.terms.append((link["taxonomy"].get("name"), "service_taxonomys.taxonomy.name"))
    if not is_empty(data.get("deliverable_type")):
        record.terms.append((data["deliverable_type"], "deliverable_type"))

    sites = [site_record(sal, item, index, report)
             for index, sal in enumerate(dicts(data.get("service_at_locations")), start=1)]
    by_id = {site.id: site for site in sites}
    for schedule in dicts(data.get("regular_schedules")):
        at = schedule.get("service_at_location")
        at_id = (record_id(at) if isinstance(at, dict)
                 else text_of(schedule.get("service_at_location_id")))
        (by_id[at_id].schedules if at_id in by_id else record.schedules).append(schedule)
    record.sites = sites
    return record


def site_record(sal: dict, item: Found, index: int, report: QualityReport) -> SiteRecord:
    location = sal.get("location")
    if not isinstance(location, dict):
        location = {}
    site_id = record_id(sal)
    if not site_id:
        site_id = f"{item.id}-{record_id(location) or index}"
        report.add(f"oruk:service:{item.id}", "service_at_locations.id", "repaired", "no-id",
                   f"a service_at_location had no id; gave it {site_id!r} from the service and"
                   " location ids", item.file)
    addresses = dicts(location.get("physical_addresses"))
    address = addresses[0] if addresses else {}
    return SiteRecord(
        site_id,
        location_name=location.get("name"),
        address_1=address.get("address_1"),
        city=address.get("city"),
        postcode=address.get("postal_code"),
        latitude=location.get("latitude"),
        longitude=location.get("longitude"),
        access=[a.get("accessibility")
                for a in dicts(location.get("accessibility_for_disabilities"))],
        schedules=dicts(sal.get("regular_schedules")) + dicts(sal.get("regular_schedule")),
        has_location=bool(location),
    )


def _number(value: object) -> float:
    try:
        return float(str(value).strip())
    except ValueError:
        return 0.0
