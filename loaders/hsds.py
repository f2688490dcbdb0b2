"""HSDS 3.0 → format-neutral feed records (:class:`Feed`).

Two forms: the tabular one (a folder with ``datapackage.json`` and one CSV per table,
joined here by their id columns into the same nested shape as the API), and the JSON API
responses (``service_full``, ``service_list``, ``organization_full``, ``organization_list``,
``service_at_location_full``, ``service_at_location_list``, ``taxonomy_term_list``...; pages
use ``contents``/``total_items``).  Each JSON object is recognised by its fields, not its
file name.  Only the fields named here are read: ``assurer_email``, ``metadata`` and other
staff metadata never reach the graph.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

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
from loaders.files import csv_records, read_text
from loaders.quality import QualityReport

CHARITY_SCHEMES = {"GB-CHC", "GB-SC", "GB-NIC"}  # org-id.guide registers of charities
_TRANSPORT = re.compile(r"\b(bus|buses|train|station|tram|metro|underground)\b", re.I)


def kind_of(obj: dict) -> str:
    """``service``, ``organization``, ``service_at_location`` or ``taxonomy_term``."""
    if isinstance(obj.get("location"), dict) or isinstance(obj.get("service"), dict):
        return "service_at_location"
    if any(k in obj for k in ("code", "taxonomy_detail", "term_uri")) and "organization" not in obj:
        return "taxonomy_term"
    org_keys = ("services", "legal_status", "tax_status", "year_incorporated", "website",
                "organization_identifiers", "parent_organization_id")
    if any(k in obj for k in org_keys) and "organization" not in obj:
        return "organization"
    return "service"


class _Collected:
    """Raw services and organisations as found, before duplicates are merged."""

    def __init__(self) -> None:
        self.services: list[Found] = []
        self.orgs: list[Found] = []
        self.ids: dict[str, set[str]] = {}
        self.totals: dict[str, int] = {}
        self.staff_emails: set[str] = set()

    def add(self, kind: str, found: Found) -> None:
        (self.services if kind == "service" else self.orgs).append(found)
        self.ids.setdefault(kind, set()).add(found.id)

    def service(self, data: dict, file: str, row: int, report: QualityReport) -> None:
        sid = record_id(data)
        if not sid:
            report.add(f"{file}#{row}", "id", "dropped", "no-id", "a service has no id", file)
            return
        org = data.get("organization")
        if isinstance(org, dict) and record_id(org) and set(org) - {"id"}:  # not a bare reference
            self.add("organization", Found(record_id(org), {k: v for k, v in org.items()
                                                            if k != "services"}, file, row))
        self.add("service", Found(sid, data, file, row))


def read_hsds(paths: list[Path], report: QualityReport) -> Feed:
    found = _Collected()
    for path in paths:
        if path.name.lower() == "datapackage.json":
            read_tabular(path.parent, found, report)
            continue
        if path.is_dir() and ((path / "datapackage.json").exists() or any(path.glob("*.csv"))):
            read_tabular(path, found, report)
        for file in json_files([path]):
            if file.name.lower() != "datapackage.json":
                read_json(file, found, report)
    return build_feed(found, report)


# --------------------------------------------------------------------------- JSON


def read_json(path: Path, found: _Collected, report: QualityReport) -> None:
    source = f"hsds:{path.name}"
    items, totals = unpage(read_json_documents(path, source, report))
    kinds = set()
    for row, obj in enumerate(items, start=1):
        if not isinstance(obj, dict):
            report.add(f"{source}#{row}", "", "dropped", "not-an-object",
                       f"item {row} is not a JSON object", source)
            continue
        kind = kind_of(obj)
        kinds.add(kind)
        found.ids.setdefault(kind, set()).add(record_id(obj))
        if kind == "service":
            found.service(obj, source, row, report)
        elif kind == "organization":
            if record_id(obj):
                found.add("organization", Found(record_id(obj), {k: v for k, v in obj.items()
                                                                if k != "services"}, source, row))
            for service in dicts(obj.get("services")):
                nested = dict(service)
                if record_id(obj):
                    nested.setdefault("organization", {"id": record_id(obj)})
                found.service(nested, source, row, report)
        elif kind == "service_at_location":
            its_service = obj.get("service")
            if not isinstance(its_service, dict):
                report.add(f"hsds:service_at_location:{record_id(obj)}", "service", "dropped",
                           "no-service", "a service_at_location without its service", source)
                continue
            nested = dict(its_service)
            if is_empty(nested.get("service_at_locations")):
                nested["service_at_locations"] = [{k: v for k, v in obj.items() if k != "service"}]
            found.service(nested, source, row, report)
    if totals and len(kinds) == 1:
        kind = kinds.pop()
        found.totals[kind] = max(found.totals.get(kind, 0), max(totals))


# --------------------------------------------------------------------------- tabular


def _read_table(folder: Path, file_name: str, report: QualityReport) -> list[tuple[int, dict]]:
    path = folder / file_name
    if not path.exists():
        return []
    source = f"hsds:{file_name}"
    text, problems = read_text(path, path.name, "csv", "'CSV UTF-8'")
    records, more = csv_records(text, path.name) if not problems else ([], [])
    for problem in problems + more:
        report.unreadable(problem.file, problem.row, problem.column, problem.reason, source)
    if problems or more:
        return []
    header = [(h or "").strip() for h in records[0][1]] if records else []
    return [(number, {name: (value if value.strip() else None)
                      for name, value in zip(header, values, strict=False)})  # ragged rows
            for number, values in records[1:] if values]


def _group(rows: list[tuple[int, dict]], key: str,
           unless: str | None = None) -> dict[Any, list[dict]]:
    """Rows by the value of ``key`` (leaving out rows that have a value for ``unless``)."""
    groups: dict[Any, list[dict]] = {}
    for _, row in rows:
        if row.get(key) and not (unless and row.get(unless)):
            groups.setdefault(row[key], []).append(row)
    return groups


def _inside(path: object) -> bool:
    """A datapackage resource path that stays inside the package's folder."""
    return (isinstance(path, str) and bool(path.strip()) and not Path(path).is_absolute()
            and ".." not in Path(path).parts)


TABLES = (
    ("organization", "organizations.csv"), ("service", "services.csv"),
    ("service_at_location", "service_at_location.csv"), ("location", "locations.csv"),
    ("address", "addresses.csv"), ("accessibility", "accessibility.csv"),
    ("phone", "phones.csv"), ("contact", "contacts.csv"), ("schedule", "schedules.csv"),
    ("cost_option", "cost_options.csv"), ("attribute", "attributes.csv"),
    ("taxonomy_term", "taxonomy_terms.csv"), ("metadata", "metadata.csv"),
    ("organization_identifier", "organization_identifiers.csv"),
)


def read_tabular(folder: Path, found: _Collected, report: QualityReport) -> None:
    """Join the HSDS tables into the nested shape of the JSON API, then collect that."""
    files: dict[str, str] = {}
    if (folder / "datapackage.json").exists():
        text, problems = read_text(folder / "datapackage.json", "datapackage.json", "json",
                                   "UTF-8")
        try:
            if problems:
                raise ValueError(problems[0].reason)
            package = json.loads(text)
            files = {r["name"]: r["path"] for r in package.get("resources", [])
                     if _inside(r.get("path"))}
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            report.add("hsds:datapackage.json", "", "repaired", "bad-datapackage",
                       "datapackage.json could not be read; used the standard table file names")
    files = {name: files.get(name, default) for name, default in TABLES}
    source = {name: f"hsds:{file}" for name, file in files.items()}
    table = {name: _read_table(folder, file, report) for name, file in files.items()}

    terms = {row["id"]: row for _, row in table["taxonomy_term"] if row.get("id")}
    addresses = _group(table["address"], "location_id")
    access = _group(table["accessibility"], "location_id")
    locations = {row["id"]: {**row, "addresses": addresses.get(row["id"], []),
                             "accessibility": access.get(row["id"], [])}
                 for _, row in table["location"] if row.get("id")}
    contact_phones = _group(table["phone"], "contact_id")

    def contacts(rows: list[dict]) -> list[dict]:
        return [{**row, "phones": contact_phones.get(row.get("id"), [])} for row in rows]

    by_sal = {name: _group(table[name], "service_at_location_id")
              for name in ("phone", "contact", "schedule")}
    by_service = {name: _group(table[name], "service_id")
                  for name in ("phone", "contact", "cost_option")}
    service_schedules = _group(table["schedule"], "service_id", unless="service_at_location_id")
    sals = _group(table["service_at_location"], "service_id")
    services = {row["id"] for _, row in table["service"] if row.get("id")}
    orgs = {row["id"] for _, row in table["organization"] if row.get("id")}
    sal_ids = {row["id"] for _, row in table["service_at_location"] if row.get("id")}
    known = services | orgs | set(locations) | sal_ids

    attributes: dict[str, list[dict]] = {}
    for _, row in table["attribute"]:
        if row.get("link_id") in services:
            attributes.setdefault(row["link_id"], []).append(
                {**row, "taxonomy_term": terms.get(row.get("taxonomy_term_id"))})
        elif row.get("link_id") not in known:
            report.add(f"hsds:attribute:{row.get('id')}", "link_id", "dropped", "dangling-link",
                       "the attribute links to a record that is not in this feed",
                       source["attribute"])
    for _, row in table["service_at_location"]:
        if row.get("service_id") not in services:
            report.add(f"hsds:service_at_location:{row.get('id')}", "service_id", "dropped",
                       "no-service", "the service_at_location's service is not in this feed",
                       source["service_at_location"])
    for _, row in table["metadata"]:
        withhold_staff_metadata({"metadata": row}, f"hsds:metadata:{row.get('id')}",
                                source["metadata"], report, found.staff_emails)

    identifiers = _group(table["organization_identifier"], "organization_id")
    org_phones = _group(table["phone"], "organization_id")
    for number, row in table["organization"]:
        if row.get("id"):
            org = {**row, "organization_identifiers": identifiers.get(row["id"], []),
                   "phones": org_phones.get(row["id"], [])}
            found.add("organization", Found(row["id"], org, source["organization"], number))
    for number, row in table["service"]:
        sid = row.get("id") or ""
        service = {
            **row,
            "organization": {"id": row["organization_id"]} if row.get("organization_id") else None,
            "phones": by_service["phone"].get(sid, []),
            "contacts": contacts(by_service["contact"].get(sid, [])),
            "schedules": service_schedules.get(sid, []),
            "cost_options": by_service["cost_option"].get(sid, []),
            "attributes": attributes.get(sid, []),
            "service_at_locations": [
                {**sal, "location": locations.get(sal.get("location_id")),
                 "phones": by_sal["phone"].get(sal.get("id"), []),
                 "contacts": contacts(by_sal["contact"].get(sal.get("id"), [])),
                 "schedules": by_sal["schedule"].get(sal.get("id"), [])}
                for sal in sals.get(sid, [])
            ],
        }
        found.service(service, source["service"], number, report)


# --------------------------------------------------------------------------- records


def build_feed(found: _Collected, report: QualityReport) -> Feed:
    feed = Feed("hsds", staff_emails=set(found.staff_emails))
    services = merge_duplicates(found.services, "hsds:service", report)
    orgs = merge_duplicates(found.orgs, "hsds:organization", report)
    for kind, total in sorted(found.totals.items()):
        held = len(found.ids.get(kind, set()) - {""})
        if held < total:
            feed.complete = False
            report.add(f"hsds:{kind}", "total_items", "incomplete", "missing-pages",
                       f"the feed says it has {total} {kind} records but the files hold {held};"
                       " pages may be missing, so none is reported as disappeared")
    for org in orgs:
        withhold_staff_metadata(org.data, f"hsds:organization:{org.id}", org.file, report,
                                feed.staff_emails)
        data = org.data
        charity = next((text_of(i.get("identifier"))
                        for i in dicts(data.get("organization_identifiers"))
                        if text_of(i.get("identifier_scheme")).upper() in CHARITY_SCHEMES), "")
        feed.orgs[org.id] = OrgRecord(
            org.id, data.get("name"), data.get("description"),
            data.get("website") or data.get("url"), data.get("email"), first_phone(data),
            charity, org.file, org.row,
        )
    for item in services:
        withhold_staff_metadata(item.data, f"hsds:service:{item.id}", item.file, report,
                                feed.staff_emails)
        feed.services.append(service_record(item, feed))
    return feed


def service_record(item: Found, feed: Feed) -> ServiceRecord:
    data = item.data
    org = data.get("organization")
    org_id = record_id(org) if isinstance(org, dict) else text_of(data.get("organization_id"))
    record = ServiceRecord(
        item.id, data.get("name"), org_id or None, item.file, item.row,
        alternate_name=data.get("alternate_name"),
        description=data.get("description"),
        website=data.get("url"),
        email=data.get("email") or first_email(data.get("contacts")),
        phone=first_phone(data, data.get("contacts")),
        referral_info=data.get("application_process"),
        reviewed_at=data.get("assured_date") or data.get("last_modified"),
        status=data.get("status"),
        fees=data.get("fees_description") or data.get("fees"),
        age_min=data.get("minimum_age"),
        age_max=data.get("maximum_age"),
        costs=dicts(data.get("cost_options")),
        schedules=dicts(data.get("schedules")),
    )
    for attribute in dicts(data.get("attributes")):
        term = attribute.get("taxonomy_term")
        if isinstance(term, dict):
            record.terms.append((term.get("name"), "attributes.taxonomy_term.name"))
    record.sites = [site_record(sal, item, index)
                    for index, sal in enumerate(dicts(data.get("service_at_locations")), start=1)]
    return record


def first_email(contacts: object) -> str:
    return next((c["email"] for c in dicts(contacts) if not is_empty(c.get("email"))), "")


def site_record(sal: dict, item: Found, index: int) -> SiteRecord:
    location = sal.get("location")
    if not isinstance(location, dict):
        location = {}
    addresses = dicts(location.get("addresses"))
    address = next((a for a in addresses if text_of(a.get("address_type")).lower() == "physical"),
                   addresses[0] if addresses else {})
    access = [" ".join(text_of(a.get(k)) for k in ("description", "details"))
              for a in dicts(location.get("accessibility"))]
    if _TRANSPORT.search(text_of(location.get("transportation"))):
        access.append("public transport")
    return SiteRecord(
        record_id(sal) or f"{item.id}-{record_id(location) or index}",
        location_name=location.get("name"),
        description=sal.get("description"),
        address_1=address.get("address_1"),
        city=address.get("city"),
        postcode=address.get("postal_code"),
        latitude=location.get("latitude"),
        longitude=location.get("longitude"),
        access=access,
        schedules=dicts(sal.get("schedules")),
        phone=first_phone(sal, sal.get("contacts")),
        email=first_email(sal.get("contacts")),
        virtual=text_of(location.get("location_type")).lower() == "virtual",
        has_location=bool(location),
    )
