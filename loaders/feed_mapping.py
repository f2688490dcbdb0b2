"""Mapping a read directory feed onto the Thriving Pathways model (see ``docs/feeds.md``).

:class:`Mapper` turns a :class:`~loaders.feed_records.Feed` into validated node and
relationship records, noting in the quality report every repair and every term or place it
could not map.  Used by :func:`loaders.feeds.plan_feed`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import replace

from loaders.feed_records import (
    Feed,
    OrgRecord,
    ServiceRecord,
    SiteRecord,
)
from loaders.feed_text import EMAIL_RE, clean_text, iso_date, text_of
from loaders.limits import MAX_WHOLE_NUMBER, id_problem
from loaders.living_db import LoadPlan, content_hash
from loaders.need_rules import Rule, infer_needs, load_rules
from loaders.need_terms import NEED_NAMES, need_for_term
from loaders.placing import Placer
from loaders.quality import QualityReport
from loaders.schedule import sessions_from_records
from pathways.model import (
    ALLOWED_ENDPOINTS,
    CONTENT_HASH,
    DERIVED_PROPERTIES,
    NODE_COLUMNS,
    SESSIONS,
    NodeKind,
    NodeRecord,
    RelRecord,
    RelType,
)

_ACCESS = tuple((re.compile(p, re.I), tag) for p, tag in (
    (r"wheel ?chair", "wheelchair_accessible"),
    (r"step[ -]?free|level access|\bramps?\b|\blifts?\b", "step_free"),
    (r"(hearing|induction) loop", "hearing_loop"),
    (r"(accessible|disabled) (toilet|loo|wc)", "accessible_toilet"),
    (r"\bbsl\b|sign language", "bsl"),
    (r"large print", "large_print"),
    (r"\bonline\b|\bvirtual\b|video call", "online"),
    (r"\bquiet\b", "quiet_space"),
    (r"public transport|\bbus(es)?\b|\btrain\b|\bstation\b|\btram\b", "public_transport"),
    (r"\bparking\b|car park", "parking"),
    (r"carers? (are )?welcome", "carer_welcome"),
))
_DAYS = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday",
         "FR": "Friday", "SA": "Saturday", "SU": "Sunday"}
_ORDINALS = {"1": "1st", "2": "2nd", "3": "3rd", "4": "4th", "5": "5th", "-1": "last"}
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)(\s*[0-9][A-Z]{2})?$")
_FREE = re.compile(r"^\W*(free|no charge|no cost|no fee|none|nil|£ ?0(\.00)?)\b", re.I)
_PAID = re.compile(r"£\s*[1-9]|\b[1-9]\d*(\.\d\d)?\s*(pounds?|p)\b", re.I)
_ONLINE_ATTENDANCE = {"online", "phone", "telephone"}
_COLUMNS = {kind: {c.name for c in columns} | DERIVED_PROPERTIES[kind]
            for kind, columns in NODE_COLUMNS.items()}
MAX_AGE = 150


def postcode_district(postcode: str) -> str:
    """The outward code of a UK postcode: ``'hx1 2ab'`` → ``'HX1'``; ``''`` if not one.

    >>> postcode_district("hx1 2ab"), postcode_district("ABC 1234")
    ('HX1', '')
    """
    match = _POSTCODE.match(re.sub(r"\s+", " ", postcode.strip().upper()))
    return match.group(1) if match else ""


def slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


def schedule_text(schedule: dict) -> str:
    """``{'byday': 'TU,TH', 'opens_at': '10:00:00', 'closes_at': '12:00'}`` →
    ``'Tuesdays and Thursdays 10:00–12:00'``; the schedule's description when it has no days.

    >>> schedule_text({"freq": "MONTHLY", "byday": "2MO", "opens_at": "18:30"})
    '2nd Monday of the month from 18:30'
    """
    days = []
    tokens = [t.strip().upper() for t in text_of(schedule.get("byday")).split(",") if t.strip()]
    if not tokens and text_of(schedule.get("weekday")):
        tokens = [text_of(schedule["weekday"])[:2].upper()]
    for token in tokens:
        match = re.match(r"^([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)$", token)
        if not match:
            continue
        ordinal, day = match.groups()
        if ordinal:
            days.append(f"{_ORDINALS.get(ordinal.lstrip('+'), ordinal)} {_DAYS[day]} of the month")
        else:
            days.append(_DAYS[day] + "s")
    when = " and ".join([", ".join(days[:-1]), days[-1]]) if len(days) > 1 else "".join(days)
    fortnightly = text_of(schedule.get("interval")) == "2"
    if when and fortnightly and text_of(schedule.get("freq")).upper() == "WEEKLY":
        when += " (every other week)"
    opens, closes = (_clock(schedule.get(k)) for k in ("opens_at", "closes_at"))
    hours = f"{opens}–{closes}" if opens and closes else (f"from {opens}" if opens else "")
    text = " ".join(part for part in (when, hours) if part)
    return text if when else clean_text(schedule.get("description"))[0] or text


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def _clock(value: object) -> str:
    match = re.search(r"(\d{1,2}):(\d{2})", text_of(value))
    return f"{int(match.group(1)):02d}:{match.group(2)}" if match else ""


def _money(amount: float, currency: str) -> str:
    shown = f"{amount:.0f}" if amount == int(amount) else f"{amount:.2f}"
    code = currency.strip().upper()
    return f"£{shown}" if code in {"", "GBP", "£"} else f"{shown} {code}"


def _amount(value: object) -> float | None:
    """A number from a number or text; ``None`` when there is none, or it is not finite
    (``1e400`` in JSON is infinity) or beyond any sum or age a directory holds."""
    number: float | None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value) if abs(value) < 1e300 else math.inf
    else:
        match = re.search(r"\d+(\.\d+)?", text_of(value).replace(",", ""))
        number = float(match.group()) if match else None
    if number is None or not math.isfinite(number) or abs(number) > MAX_WHOLE_NUMBER:
        return None
    return number


def _degrees(value: object) -> float | None:
    """A coordinate from a number or text (``"-2.58"``); ``None`` when it is not one."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value if isinstance(value, (int, float)) else text_of(value).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def candidate_ids(feed: Feed, need_codes: Iterable[str] = NEED_NAMES) -> set[str]:
    """Every id mapping ``feed`` may write or link to (its organisations, services,
    activities, the needs and the town or postcode-district localities of its addresses),
    read from the records without mapping them, so that a load asks the store about them
    once and maps the feed once (a superset: some may be dropped while mapping)."""
    ns = feed.namespace
    ids = {f"{ns}:organization:{org.id}" for org in feed.orgs.values()} | set(need_codes)
    for service in feed.services:
        ids.add(f"{ns}:service:{service.id}")
        if not service.sites:
            ids.add(f"{ns}:service:{service.id}:activity")
        for site in service.sites:
            ids.add(f"{ns}:service_at_location:{site.id}")
            city = slug(clean_text(site.city)[0])
            district = postcode_district(clean_text(site.postcode)[0])
            ids |= {f"locality:{key}" for key in (city, slug(district)) if key}
    return ids


class Mapper:
    """Builds nodes and relationships from a :class:`Feed`, reporting as it goes.

    ``vetoed`` holds ``(service or activity id, need)`` pairs a partnership vetoed
    (``DOES_NOT_ADDRESS`` in its Living Database): those needs are never inferred for them
    (for a service: for each of its activities).  ``given`` holds the ``ADDRESSES`` the
    partnership's own rows gave the feed's nodes, which the feed never overwrites.
    ``rules`` are the need rules to infer with (the shipped table plus the keywords of the
    partnership's needs.csv, :func:`loaders.need_rules.partnership_rules`) and
    ``need_names`` the needs they may give (code → name).
    """

    def __init__(self, feed: Feed, existing: dict[str, NodeKind], report: QualityReport,
                 localities: list[dict] | None = None, *,
                 vetoed: Iterable[tuple[str, str]] = (),
                 given: Iterable[tuple[str, str]] = (),
                 rules: tuple[Rule, ...] | None = None,
                 need_names: dict[str, str] | None = None):
        self.feed, self.ns, self.existing, self.report = feed, feed.namespace, existing, report
        self.vetoed, self.given = set(vetoed), set(given)
        self.rules = load_rules() if rules is None else rules
        self.need_names = dict(NEED_NAMES if need_names is None else need_names)
        # the partnership's localities (id, name, postcodes): see loaders/placing.py
        self.placer = Placer(localities or [])
        for place in localities or []:  # what the store holds: linked to, never rewritten
            self.existing.setdefault(str(place.get("id")), NodeKind.LOCALITY)
        self.nodes: dict[str, NodeRecord] = {}
        self.rels: dict[tuple[str, str, str], RelRecord] = {}
        public = {text_of(o.email).lower() for o in feed.orgs.values()}
        for service in feed.services:
            public.add(text_of(service.email).lower())
            public |= {text_of(site.email).lower() for site in service.sites}
        # a reviewer's address is only secret if the feed does not also publish it as a contact
        self.secret = sorted(feed.staff_emails - public)

    # ---- the plan ----------------------------------------------------------------------
    def plan(self) -> LoadPlan:
        for org in self.feed.orgs.values():
            self.organisation(org)
        for service in self.feed.services:
            self.service(service)
        return LoadPlan(nodes=list(self.nodes.values()), rels=list(self.rels.values()))

    def note(self, node_id: str, field: str, action: str, rule: str, reason: str,
             source: str) -> None:
        self.report.add(node_id, field, action, rule, reason, source)

    def text(self, value: object, node_id: str, field: str, source: str, *,
             multiline: bool = False, trim: bool = False) -> str:
        """Clean text (HTML → text, entities decoded), with the repairs reported."""
        text, notes = clean_text(value, multiline=multiline)
        if "html" in notes:
            self.note(node_id, field, "repaired", "html-to-text",
                      "HTML converted to plain text (links kept)", source)
        elif "entities" in notes:
            self.note(node_id, field, "repaired", "html-entities", "HTML entities decoded", source)
        elif "trimmed" in notes and trim and text:
            self.note(node_id, field, "repaired", "whitespace", "stray spaces removed", source)
        if "control" in notes:
            self.note(node_id, field, "repaired", "control-characters",
                      "invisible control characters (NUL, zero-width spaces...) removed", source)
        for secret in self.secret:
            if secret in text.lower():
                text = re.sub(re.escape(secret), "[address removed]", text, flags=re.I)
                self.note(node_id, field, "repaired", "staff-email-removed",
                          "a reviewer/staff e-mail address was removed from the text", source)
        return text

    def add_node(self, kind: NodeKind, node_id: str, props: dict, source_id: str,
                 source: str, row: int) -> bool:
        trouble = id_problem(node_id)
        if trouble:
            shown = node_id if len(node_id) <= 80 else node_id[:80] + "…"
            self.note(shown, "id", "dropped", "bad-id", f"{trouble}; not loaded", source)
            return False
        old = self.existing.get(node_id)
        if old is not None and old != kind:
            self.note(node_id, "id", "dropped", "id-in-use",
                      f"id is already a {old.value} in the store; not overwritten", source)
            return False
        if node_id in self.nodes:
            self.note(node_id, "id", "dropped", "duplicate-id",
                      f"a second {kind.value} with this id; the first was kept", source)
            return False
        values = {k: v for k, v in props.items() if v not in (None, "", [])}
        assert set(values) <= _COLUMNS[kind], set(values) - _COLUMNS[kind]
        values.update(id=node_id, source=source, source_id=source_id)
        values[CONTENT_HASH] = content_hash({k: v for k, v in values.items() if k != "source"})
        self.nodes[node_id] = NodeRecord(kind, node_id, values, source, row)
        return True

    def kind_of(self, node_id: str) -> NodeKind | None:
        return self.nodes[node_id].kind if node_id in self.nodes else self.existing.get(node_id)

    def add_rel(self, rel: RelType, src: str, dst: str, source: str, row: int,
                extra: dict | None = None) -> None:
        sources, targets = ALLOWED_ENDPOINTS[rel]
        if self.kind_of(src) not in sources or self.kind_of(dst) not in targets:
            return  # an endpoint was dropped (and reported) or is of another kind in the store
        key = (src, rel.value, dst)
        if key not in self.rels:
            props = {"source": source, "source_id": "|".join(key), **(extra or {})}
            values = {"source_id": src, "type": rel.value, "target_id": dst, **(extra or {})}
            props[CONTENT_HASH] = content_hash(values)
            self.rels[key] = RelRecord(rel, src, dst, props, source, row)

    # ---- fields ------------------------------------------------------------------------
    def email(self, value: object, node_id: str, field: str, source: str) -> str:
        text = self.text(value, node_id, field, source).removeprefix("mailto:")
        if text and not EMAIL_RE.fullmatch(text):
            self.note(node_id, field, "dropped", "bad-email", "not an e-mail address; left out",
                      source)
            return ""
        return text

    def website(self, value: object, node_id: str, field: str, source: str) -> str:
        text = self.text(value, node_id, field, source)
        if text.lower().startswith("www."):
            self.note(node_id, field, "repaired", "bad-url", "added https:// to a web address",
                      source)
            text = "https://" + text
        if text and not re.fullmatch(r"https?://\S+", text, re.I):
            self.note(node_id, field, "dropped", "bad-url", "not a web address; left out", source)
            return ""
        return text

    def phone(self, value: object, node_id: str, field: str, source: str) -> str:
        raw = self.text(value, node_id, field, source)
        text = raw.strip("\"' ")
        if text != raw:
            self.note(node_id, field, "repaired", "phone-quotes", "stray quotes removed", source)
        if text and len(re.sub(r"\D", "", text)) < 6:
            self.note(node_id, field, "dropped", "bad-phone", "not a phone number; left out",
                      source)
            return ""
        return text

    def date(self, value: object, node_id: str, field: str, source: str) -> str:
        date = iso_date(value)
        if text_of(value) and not date:
            self.note(node_id, field, "dropped", "bad-date", "not a date; left out", source)
        return date

    def age(self, value: object, node_id: str, field: str, source: str) -> int | None:
        amount = _amount(value)
        if value is None or text_of(value) == "":
            return None
        if amount is None or amount != int(amount) or not 0 <= amount <= MAX_AGE:
            self.note(node_id, field, "dropped", "bad-age",
                      "not a whole number of years; left out", source)
            return None
        return int(amount)

    # ---- nodes -------------------------------------------------------------------------
    def organisation(self, org: OrgRecord) -> None:
        node_id, src = f"{self.ns}:organization:{org.id}", org.file
        name = self.text(org.name, node_id, "name", src, trim=True)
        if not name:
            self.note(node_id, "name", "dropped", "empty-name",
                      "organisation has no name; not loaded (its services have no provider)", src)
            return
        self.add_node(NodeKind.ORGANISATION, node_id, {
            "name": name,
            "kind": "other",
            "description": self.text(org.description, node_id, "description", src, multiline=True),
            "website": self.website(org.website, node_id, "url", src),
            "email": self.email(org.email, node_id, "email", src),
            "phone": self.phone(org.phone, node_id, "phones.number", src),
            "charity_number": self.text(org.charity_number, node_id,
                                        "organization_identifiers", src),
        }, org.id, src, org.row)

    def service(self, record: ServiceRecord) -> None:
        node_id, src = f"{self.ns}:service:{record.id}", record.file
        status = text_of(record.status).lower()
        if status in {"inactive", "defunct"}:
            self.note(node_id, "status", "dropped", "inactive-service",
                      f"status is {status!r}: not offered to link workers", src)
            return
        name = self.text(record.name, node_id, "name", src, trim=True)
        if not name and text_of(record.alternate_name):
            name = self.text(record.alternate_name, node_id, "alternate_name", src, trim=True)
            self.note(node_id, "name", "repaired", "empty-name",
                      "empty name; used alternate_name", src)
        if not name:
            self.note(node_id, "name", "dropped", "empty-name",
                      "service has no name; it and its activities were not loaded", src)
            return
        needs, unmapped = self.needs(record, node_id)
        description = self.text(record.description, node_id, "description", src, multiline=True)
        if unmapped:
            listed = "Also listed under: " + "; ".join(unmapped) + "."
            description = f"{description}\n\n{listed}" if description else listed
        added = self.add_node(NodeKind.SERVICE, node_id, {
            "name": name,
            "description": description,
            "website": self.website(record.website, node_id, "url", src),
            "email": self.email(record.email, node_id, "email", src),
            "phone": self.phone(record.phone, node_id, "phones.number", src),
            "referral_info": self.text(record.referral_info, node_id, "referral_info", src,
                                       multiline=True),
            "reviewed_at": self.date(record.reviewed_at, node_id, "assured_date", src),
        }, record.id, src, record.row)
        if not added:
            return
        org_node = f"{self.ns}:organization:{record.org_id}"
        if record.org_id and org_node in self.nodes:
            self.add_rel(RelType.PROVIDES, org_node, node_id, src, record.row)
        elif record.org_id:
            self.note(node_id, "organization", "unmapped", "no-organisation",
                      "its organisation was not loaded: no PROVIDES"
                      " (add one in relationships.csv)", src)
        else:
            self.note(node_id, "organization", "unmapped", "no-organisation",
                      "no organisation in the feed: no PROVIDES"
                      " (add one in relationships.csv)", src)
        self.activities(record, node_id, name, needs)

    def needs(self, record: ServiceRecord, node_id: str
              ) -> tuple[list[tuple[str, dict]], list[str]]:
        """The service's needs, each with the ADDRESSES properties it brings (none for a need
        from a taxonomy term; ``inferred`` and ``evidence`` for one inferred from the text,
        which happens only when no term gives a need: see ``loaders/need_rules.py``)."""
        needs: list[str] = []
        unmapped: list[str] = []
        for term, field in record.terms:
            text = self.text(term, node_id, field, record.file, trim=True)
            need = need_for_term(text) if text else None
            if need and need not in needs:
                needs.append(need)
            elif not need and text and field != "deliverable_type" and text not in unmapped:
                unmapped.append(text)
                self.note(node_id, field, "unmapped", "unmapped-term",
                          f"no need for the term {text!r}; kept in the service description",
                          record.file)
        found: list[tuple[str, dict]] = [(n, {}) for n in needs]
        if not needs:
            org = self.feed.orgs.get(record.org_id) if record.org_id else None
            texts = [("name", clean_text(record.name)[0]),
                     ("description", clean_text(record.description)[0]),
                     ("organization.description",
                      clean_text(org.description)[0] if org else "")]
            found = [(f.need, {"inferred": True, "evidence": f.evidence})
                     for f in infer_needs(texts, self.rules, needs=set(self.need_names))]
        return ([(n, props) for n, props in found if self.need(n, record.file)],
                sorted(unmapped, key=str.lower))

    def need(self, code: str, source: str) -> bool:
        if code in self.existing:
            return self.existing[code] == NodeKind.NEED
        if code not in self.nodes:
            self.add_node(NodeKind.NEED, code, {"name": self.need_names[code]}, code, source, 0)
        return True

    def locality(self, city: str, postcode: str, source: str) -> str | None:
        """``locality:<town>``, else ``locality:<postcode district>``; ``None`` if neither."""
        if city and slug(city):
            name = city.title() if city.isupper() or city.islower() else city
            area_type, key = "town", slug(city)
        elif postcode_district(postcode):
            name = postcode_district(postcode)
            area_type, key = "postcode district", slug(name)
        else:
            return None
        node_id = f"locality:{key}"
        if node_id in self.existing:
            return node_id if self.existing[node_id] == NodeKind.LOCALITY else None
        if node_id not in self.nodes:
            self.add_node(NodeKind.LOCALITY, node_id, {
                "name": name, "area_type": area_type,
                "description": f"From directory addresses ({area_type}).",
            }, name, source, 0)
        return node_id

    def place(self, node_id: str, city: str, postcode: str, texts: list[str],
              site: SiteRecord, whole: bool, src: str, row: int) -> None:
        """``LOCATED_IN`` by the placing rules (``loaders/placing.py``).  While no partnership
        locality lists postcodes, an address whose town names none of them makes its own
        town (or postcode-district) locality, as feeds always did."""
        made_up = None
        if not self.placer.has_postcodes and not (city and self.placer.by_town(city)):
            made_up = self.locality(city, postcode, src)  # from the address, as before
        if made_up:
            self.add_rel(RelType.LOCATED_IN, node_id, made_up, src, row)
            self.report.placed("town or district from the address")
            return
        placement = self.placer.place(postcode, city, texts[:-1])
        if placement.locality is None and texts:
            fallback = self.placer.place(texts=texts[-1:])
            if fallback.locality:
                placement = replace(fallback, evidence=fallback.evidence.replace(
                    " the text", " the organisation's description"))
        if placement.locality and self.kind_of(placement.locality) == NodeKind.LOCALITY:
            self.add_rel(RelType.LOCATED_IN, node_id, placement.locality, src, row,
                         placement.rel_props() or {"evidence": placement.evidence})
            self.report.placed(placement.rule)
            return
        self.report.placed("")
        if self.placer.has_postcodes or self.placer.by_name:
            self.note(node_id, "address", "unmapped", "no-locality",
                      f"not placed in any locality: {placement.reason}", src)
        elif not site.has_location and not whole:
            self.note(node_id, "location", "unmapped", "no-locality",
                      "service_at_location has no location: in no locality", src)
        elif site.has_location:
            self.note(node_id, "address", "unmapped", "no-locality",
                      "no town or postcode in the address: in no locality", src)

    def coordinates(self, site: SiteRecord, node_id: str, src: str) -> dict:
        """``latitude`` and ``longitude`` as the feed gives them, when both are on Earth."""
        lat, lon = _degrees(site.latitude), _degrees(site.longitude)
        if site.latitude in (None, "") and site.longitude in (None, ""):
            return {}
        if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180) \
                or (lat == 0 and lon == 0):
            self.note(node_id, "location.latitude", "dropped", "bad-coordinates",
                      "latitude/longitude missing or off the map; left out", src)
            return {}
        return {"latitude": lat, "longitude": lon}

    def access(self, texts: list, node_id: str, source: str) -> list[str]:
        tags: set[str] = set()
        for value in texts:
            text = self.text(value, node_id, "accessibility", source)
            found = {tag for pattern, tag in _ACCESS if pattern.search(text)}
            if not found and text and len(text.split()) <= 3:
                found = {slug(text).replace("-", "_")}
            elif not found and text:
                self.note(node_id, "accessibility", "unmapped", "unmapped-accessibility",
                          f"no accessibility tag for {_short(text)!r}", source)
            tags |= found
        return sorted(tags)

    def costs(self, record: ServiceRecord, node_id: str) -> tuple[bool | None, str]:
        """(free, cost in words) from cost options, else from the ``fees`` text."""
        amounts: list[float] = []
        words: list[str] = []
        for option in record.costs:
            amount = _amount(option.get("amount"))
            what = self.text(option.get("amount_description"), node_id, "cost_options", record.file)
            who = self.text(option.get("option"), node_id, "cost_options", record.file)
            if amount is None and (_FREE.match(who) or _FREE.match(what)):
                amount = 0.0
            if amount is not None:
                amounts.append(amount)
            if amount != 0.0 and (amount is not None or what or who):
                currency = text_of(option.get("currency"))
                money = _money(amount, currency) if amount is not None else ""
                phrase = " ".join(p for p in (money, what) if p)
                words.append(f"{phrase} ({who})" if who and phrase else phrase or who)
        if any(a > 0 for a in amounts):
            return False, "; ".join(words)
        if amounts and all(a == 0 for a in amounts) and not words:
            return True, ""
        fees = self.text(record.fees, node_id, "fees", record.file, multiline=True)
        if fees and _FREE.match(fees) and not _PAID.search(fees):
            return True, ""
        if fees:
            return (False if _PAID.search(fees) else None), fees
        return None, "; ".join(words)

    def activities(self, record: ServiceRecord, service_id: str, name: str,
                   needs: list[tuple[str, dict]]) -> None:
        src = record.file
        attending = text_of(record.attending_type).lower()
        lo = self.age(record.age_min, service_id, "minimum_age", src)
        hi = self.age(record.age_max, service_id, "maximum_age", src)
        if lo is not None and hi is not None and lo > hi:
            self.note(service_id, "maximum_age", "repaired", "age-range",
                      "minimum age above maximum age; both left out", src)
            lo = hi = None
        free, cost = self.costs(record, service_id)
        sites = record.sites
        whole = not sites
        if whole:
            sites = [SiteRecord(f"{record.id}:activity", has_location=False,
                                virtual=attending in _ONLINE_ATTENDANCE)]
            if attending not in _ONLINE_ATTENDANCE:
                self.note(service_id, "service_at_locations", "repaired", "no-location",
                          "no service_at_locations: one activity for the whole service,"
                          " in no locality", src)
        for site in sites:
            node_id = (f"{self.ns}:service:{site.id}" if whole
                       else f"{self.ns}:service_at_location:{site.id}")
            place = self.text(site.location_name, node_id, "location.name", src)
            city = self.text(site.city, node_id, "address.city", src)
            postcode = self.text(site.postcode, node_id, "address.postal_code", src).upper()
            street = self.text(site.address_1, node_id, "address.address_1", src)
            parts = [place, street, city, postcode]
            records = [s for s in site.schedules or record.schedules if isinstance(s, dict)]
            schedules = [schedule_text(s) for s in site.schedules or record.schedules]
            tags = self.access(site.access, node_id, src)
            online = attending == "online" or (site.virtual and not whole)
            added = self.add_node(NodeKind.ACTIVITY, node_id, {
                "name": f"{name} at {place}" if len(sites) > 1 and place else
                        (f"{name} ({city or postcode or site.id})" if len(sites) > 1 else name),
                "description": self.text(site.description, node_id, "description", src,
                                         multiline=True),
                "schedule": "; ".join(dict.fromkeys(s for s in schedules if s)),
                SESSIONS: sessions_from_records(records),
                "free": free,
                "cost": cost,
                "accessibility": sorted(set(tags) | ({"online"} if online else set())),
                "age_min": lo,
                "age_max": hi,
                "serves_whole_area": True if site.virtual else None,
                "venue": ", ".join(dict.fromkeys(p for p in parts if p)),
                "phone": self.phone(site.phone, node_id, "phones.number", src),
                "email": self.email(site.email, node_id, "contacts.email", src),
                "reviewed_at": self.nodes[service_id].props.get("reviewed_at"),
                **self.coordinates(site, node_id, src),
            }, site.id, src, record.row)
            if not added:
                continue
            self.add_rel(RelType.OFFERS, service_id, node_id, src, record.row)
            for need, props in needs:
                if (node_id, need) in self.given:
                    continue  # the partnership's own row: it wins, untouched
                if props.get("inferred") and {(service_id, need), (node_id, need)} & self.vetoed:
                    self.note(node_id, "needs", "unmapped", "vetoed-need",
                              f"{need} was inferred from {props['evidence']!r} but the"
                              " partnership vetoed it (DOES_NOT_ADDRESS): not linked", src)
                    continue
                self.add_rel(RelType.ADDRESSES, node_id, need, src, record.row, props)
            texts = [] if online or site.virtual else [
                place, street, self.nodes[node_id].props.get("description", ""), name,
                self.nodes[service_id].props.get("description", "")]
            org = self.nodes.get(f"{self.ns}:organization:{record.org_id}")
            if texts:  # the organisation's description (its address?): the last resort
                texts.append(org.props.get("description", "") if org is not None else "")
            self.place(node_id, city, postcode, texts, site, whole, src, record.row)

