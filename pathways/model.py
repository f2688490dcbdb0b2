"""The vocabulary everyone shares: node kinds, relationship kinds, enums and columns.

Everything that may become a Neo4j label or relationship type is defined here and only
here.  Stores and queries take labels and types from these enums (a whitelist), never
from user input.

The model maps onto Open Referral UK / HSDS 3.0 as follows:

==============  ==========================================================
Thriving Pathways  HSDS 3.0
==============  ==========================================================
Organisation    ``organization``
Service         ``service`` (``organization_id`` gives PROVIDES)
Activity        ``service_at_location`` with its ``schedule``/``cost_option``
Locality        ``location`` / ``service_area``
Need            ``taxonomy_term``
==============  ==========================================================
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum


class NodeKind(str, Enum):
    """A kind of node; the value is the Neo4j label."""

    PERSON = "Person"
    ORGANISATION = "Organisation"
    SERVICE = "Service"
    ACTIVITY = "Activity"
    LOCALITY = "Locality"
    NEED = "Need"
    NETWORK = "Network"
    FUNDER = "Funder"

    @property
    def label(self) -> str:
        return self.value

    @property
    def table(self) -> str:
        """The Living Database file (CSV name without ``.csv``, or XLSX sheet)."""
        return TABLE_OF_KIND[self]

    @classmethod
    def parse(cls, text: str) -> NodeKind:
        """Accept ``Person``, ``person``, ``people`` or ``persons``; raise ``ValueError``."""
        wanted = text.strip().lower()
        for kind in cls:
            if wanted in {kind.value.lower(), kind.table, kind.value.lower() + "s"}:
                return kind
        choices = ", ".join(k.table for k in cls)
        raise ValueError(f"unknown kind {text!r}; choose one of {choices}")


#: The Neo4j label of a load's record (pathways.history): not a node kind, never graph data
#: (it lacks the ``Pathways`` label every graph node has, so graph queries pass it by)
HISTORY_LABEL = "PathwaysLoad"


class RelType(str, Enum):
    """A kind of relationship; the value is the Neo4j relationship type."""

    WORKS_FOR = "WORKS_FOR"
    PROVIDES = "PROVIDES"
    OFFERS = "OFFERS"
    ADDRESSES = "ADDRESSES"
    #: a partnership's veto of a need inferred from a directory's text (docs/feeds.md)
    DOES_NOT_ADDRESS = "DOES_NOT_ADDRESS"
    LOCATED_IN = "LOCATED_IN"
    COVERS = "COVERS"
    REFERS_TO = "REFERS_TO"
    MEMBER_OF = "MEMBER_OF"
    PARTNERS_WITH = "PARTNERS_WITH"
    FUNDED_BY = "FUNDED_BY"


class PersonRole(str, Enum):
    LINK_WORKER = "link_worker"
    PARTNERSHIP_LEAD = "partnership_lead"
    COMMISSIONER = "commissioner"
    PRACTITIONER = "practitioner"
    VOLUNTEER = "volunteer"


class OrganisationKind(str, Enum):
    GP_PRACTICE = "gp_practice"
    PRIMARY_CARE_NETWORK = "primary_care_network"
    NHS_TRUST = "nhs_trust"
    COUNCIL = "council"
    VOLUNTARY_COMMUNITY = "voluntary_community"
    CULTURAL = "cultural"
    SOCIAL_ENTERPRISE = "social_enterprise"
    EDUCATION = "education"
    FAITH = "faith"
    BUSINESS = "business"
    OTHER = "other"


class ReferralMethod(str, Enum):
    PHONE = "phone"
    EMAIL = "email"
    ONLINE_FORM = "online_form"
    E_REFERRAL = "e_referral"
    IN_PERSON = "in_person"
    LETTER = "letter"
    SIGNPOST = "signpost"


# Needs are nodes (a partnership may add its own), but these are the ones everyone knows.
COMMON_NEEDS = (
    "loneliness",
    "mental_health",
    "physical_activity",
    "creativity",
    "long_term_conditions",
    "practical_financial",
    "carers",
    "housing",
)

# Accessibility tags a link worker can filter on (free text is allowed, these are suggested).
COMMON_ACCESS_TAGS = (
    "wheelchair_accessible",
    "step_free",
    "hearing_loop",
    "accessible_toilet",
    "bsl",
    "large_print",
    "online",
    "quiet_space",
    "public_transport",
    "parking",
    "carer_welcome",
)

# The property that says an activity serves the whole area (online or borough-wide).
WHOLE_AREA = "serves_whole_area"


def serves_whole_area(props: Mapping) -> bool:
    """The one rule for "serves the whole area": ``serves_whole_area`` is yes.

    Such an activity (online, borough-wide) counts in every locality: the Gaps heatmap,
    consortium cells and the Pathways locality filter all use this rule (the Neo4j
    pathway query tests the same property, ``a.serves_whole_area = true``).  A locality it
    is LOCATED_IN is only its base.

    >>> serves_whole_area({"serves_whole_area": True}), serves_whole_area({"accessibility": ["online"]})
    (True, False)
    """
    return props.get(WHOLE_AREA) is True


# Days of the week as iCalendar (and HSDS ``byday``) writes them, Monday first.
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday",
             "FR": "Friday", "SA": "Saturday", "SU": "Sunday"}
# Activity property holding its weekly sessions as text, e.g. ["TU 10:00-12:00", "TH"],
# parsed from the free-text ``schedule`` (kept as it was) by :mod:`loaders.schedule`.
SESSIONS = "sessions"
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")


@dataclass(frozen=True, order=True)
class TimeSlot:
    """A weekly window: a day (``MO``..``SU``) from ``start`` to ``end`` ("HH:MM", 24-hour).

    The same type is an activity's session and a time a person can make.  A slot without
    times (``"TH"``) is the whole day: for an activity, "on Thursdays, times not given".
    Two slots overlap when they share a day and some minutes (touching ends do not).

    >>> TimeSlot.parse("TU 10:00-12:00").overlaps(TimeSlot("TU", "11:30", "13:00"))
    True
    >>> str(TimeSlot("TH")), TimeSlot("TU", "12:00", "13:00").overlaps(TimeSlot.parse("TU 10:00-12:00"))
    ('TH', False)
    """

    day: str
    start: str = "00:00"
    end: str = "24:00"

    def __post_init__(self) -> None:
        if self.day not in DAY_CODES:
            raise ValueError(f"{self.day!r} is not a day code ({', '.join(DAY_CODES)})")
        for clock in (self.start, self.end):
            if not _CLOCK.match(clock):
                raise ValueError(f"{clock!r} is not a time of day (HH:MM, 24-hour)")
        if not self.start < self.end:
            raise ValueError(f"{self.start}-{self.end} ends before it starts")

    @property
    def whole_day(self) -> bool:
        return (self.start, self.end) == ("00:00", "24:00")

    def overlaps(self, other: TimeSlot) -> bool:
        return self.day == other.day and self.start < other.end and other.start < self.end

    def __str__(self) -> str:
        return self.day if self.whole_day else f"{self.day} {self.start}-{self.end}"

    def describe(self) -> str:
        """``'Tuesday 10:00-12:00'``, ``'Thursday'``: for people."""
        day = DAY_NAMES[self.day]
        return day if self.whole_day else f"{day} {self.start}-{self.end}"

    @classmethod
    def parse(cls, text: str) -> TimeSlot:
        """``'TU 10:00-12:00'`` or ``'TH'`` (the stored form); raise ``ValueError``."""
        parts = text.strip().split()
        if len(parts) == 1:
            return cls(parts[0].upper())
        if len(parts) == 2 and parts[1].count("-") == 1:
            start, end = parts[1].split("-")
            return cls(parts[0].upper(), start, end)
        raise ValueError(f"{text!r} is not a session like 'TU 10:00-12:00'")


def sessions_of(props: Mapping) -> list[TimeSlot]:
    """An activity's stored sessions (those that do not read as sessions are left out)."""
    found = []
    for text in props.get(SESSIONS) or ():
        slot = _stored_slot(text)
        if slot is not None:
            found.append(slot)
    return found


@functools.lru_cache(maxsize=4096)
def _stored_slot(text: str) -> TimeSlot | None:
    """Cached: the same few session texts recur across thousands of activities."""
    try:
        return TimeSlot.parse(text)
    except (ValueError, AttributeError):
        return None


# Relationships a pathway follows, in their direction, from a link worker to an activity.
PATHWAY_RELS: tuple[RelType, ...] = (RelType.REFERS_TO, RelType.PROVIDES, RelType.OFFERS)
DEFAULT_MAX_HOPS = 4
MAX_MAX_HOPS = 10


@dataclass(frozen=True)
class Column:
    """One column of a Living Database file.

    ``type`` is one of ``str``, ``int``, ``bool``, ``date``, ``tags`` (``;``-separated),
    ``postcodes`` (``;``-separated postcode districts or sectors), ``latitude`` or
    ``longitude`` (WGS84 decimal degrees), ``boundary`` (a GeoJSON file's polygon, kept as
    compact GeoJSON text: loaders/boundaries.py), or ``enum`` (values from ``choices``).
    """

    name: str
    type: str = "str"
    required: bool = False
    choices: tuple[str, ...] = ()
    help: str = ""


_ID = Column("id", required=True, help="stable identifier, unique across all files")
_NAME = Column("name", required=True, help="display name")
_DESC = Column("description", help="free text")
_REVIEWED = Column("reviewed_at", "date", help="when the partner last checked this row (YYYY-MM-DD)")
_WEBSITE = Column("website", help="public web address")
_PHONE = Column("phone", help="contact telephone (shown to link workers only)")
_EMAIL = Column("email", help="contact e-mail (shown to link workers only)")
# Where a venue, office or locality's centre is, for the Map page (docs/map.md).
_LATITUDE = Column("latitude", "latitude", help="WGS84 decimal degrees north, e.g. 53.7248")
_LONGITUDE = Column("longitude", "longitude", help="WGS84 decimal degrees east, e.g. -1.8600")


def _enum_values(enum: type[Enum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


NODE_COLUMNS: dict[NodeKind, tuple[Column, ...]] = {
    NodeKind.PERSON: (
        _ID,
        _NAME,
        Column("role", "enum", True, _enum_values(PersonRole), "their work role"),
        Column("job_title", help="e.g. Social Prescribing Link Worker"),
        _PHONE,
        _EMAIL,
        _REVIEWED,
    ),
    NodeKind.ORGANISATION: (
        _ID,
        _NAME,
        Column("kind", "enum", True, _enum_values(OrganisationKind), "sector"),
        _DESC,
        _WEBSITE,
        _PHONE,
        _EMAIL,
        Column("charity_number", help="registered charity number, if any"),
        _REVIEWED,
        _LATITUDE,
        _LONGITUDE,
    ),
    NodeKind.SERVICE: (
        _ID,
        _NAME,
        _DESC,
        _WEBSITE,
        _PHONE,
        _EMAIL,
        Column("referral_info", help="how to refer, in plain words"),
        _REVIEWED,
    ),
    NodeKind.ACTIVITY: (
        _ID,
        _NAME,
        _DESC,
        Column("schedule", help="when it runs, e.g. 'Tuesdays 10:00-12:00'"),
        Column("free", "bool", help="yes if it costs nothing to take part"),
        Column("cost", help="cost in words when not free, e.g. '£3 per session'"),
        Column("accessibility", "tags", help="';'-separated tags, e.g. step_free;hearing_loop"),
        Column("age_min", "int", help="youngest age welcome"),
        Column("age_max", "int", help="oldest age welcome"),
        Column("capacity", "int", help="places per session"),
        Column("serves_whole_area", "bool", help="yes for online or borough-wide activities"),
        Column("venue", help="where it happens"),
        _PHONE,
        _EMAIL,
        _REVIEWED,
        Column("illustrative", "bool", help="yes for made-up demo rows"),
        _LATITUDE,
        _LONGITUDE,
    ),
    NodeKind.LOCALITY: (
        _ID,
        _NAME,
        _DESC,
        Column("area_type", help="e.g. town, ward, PCN area"),
        Column("postcodes", "postcodes",
               help="';'-separated postcode districts or sectors in it, e.g. HX7;HX6 2"),
        Column("latitude", "latitude", help="its centre, WGS84 decimal degrees north"),
        Column("longitude", "longitude", help="its centre, WGS84 decimal degrees east"),
        Column("boundary", "boundary", help="a GeoJSON file (Polygon or MultiPolygon) beside"
               " this file, e.g. boundaries/hx7.geojson; gives the centre when none is"),
    ),
    NodeKind.NEED: (_ID, _NAME, _DESC,
                    Column("keywords", help="';'-separated phrases that show a directory's"
                           " service meets this need, e.g. 'debt advice; not debt collection'"
                           " ('not' phrases block a match; see docs/feeds.md)")),
    NodeKind.NETWORK: (_ID, _NAME, _DESC, _WEBSITE, _REVIEWED),
    NodeKind.FUNDER: (_ID, _NAME, _DESC, _WEBSITE),
}

# Properties the loaders derive from a row's columns (not columns themselves): an
# activity's weekly sessions, read from its schedule text or its feed's schedule records;
# and the latitude and longitude a feed gives its location (WGS84 degrees).
DERIVED_PROPERTIES: dict[NodeKind, frozenset[str]] = {
    kind: frozenset({SESSIONS, "latitude", "longitude"}) if kind == NodeKind.ACTIVITY
    else frozenset() for kind in NodeKind
}

TABLE_OF_KIND: dict[NodeKind, str] = {
    NodeKind.PERSON: "people",
    NodeKind.ORGANISATION: "organisations",
    NodeKind.SERVICE: "services",
    NodeKind.ACTIVITY: "activities",
    NodeKind.LOCALITY: "localities",
    NodeKind.NEED: "needs",
    NodeKind.NETWORK: "networks",
    NodeKind.FUNDER: "funders",
}
KIND_OF_TABLE: dict[str, NodeKind] = {table: kind for kind, table in TABLE_OF_KIND.items()}
RELATIONSHIPS_TABLE = "relationships"

RELATIONSHIP_COLUMNS: tuple[Column, ...] = (
    Column("source_id", required=True, help="id of the node the relationship starts from"),
    Column("type", "enum", True, _enum_values(RelType), "relationship type"),
    Column("target_id", required=True, help="id of the node it points to"),
    Column("method", "enum", choices=_enum_values(ReferralMethod), help="REFERS_TO: how to refer"),
    Column("self_referral", "bool", help="REFERS_TO: yes if people may refer themselves"),
    Column("typical_wait_days", "int", help="REFERS_TO: typical wait in days"),
    Column("notes", help="free text"),
)

# Which properties each relationship type may carry (others must be blank).
REL_PROPERTIES: dict[RelType, frozenset[str]] = {
    rel: frozenset({"notes"}) for rel in RelType
} | {RelType.REFERS_TO: frozenset({"method", "self_referral", "typical_wait_days", "notes"})}

_P, _O, _S, _A = NodeKind.PERSON, NodeKind.ORGANISATION, NodeKind.SERVICE, NodeKind.ACTIVITY
_L, _N, _NW, _F = NodeKind.LOCALITY, NodeKind.NEED, NodeKind.NETWORK, NodeKind.FUNDER

# (source kinds, target kinds) allowed for each relationship type.
ALLOWED_ENDPOINTS: dict[RelType, tuple[frozenset[NodeKind], frozenset[NodeKind]]] = {
    RelType.WORKS_FOR: (frozenset({_P}), frozenset({_O})),
    RelType.PROVIDES: (frozenset({_O}), frozenset({_S})),
    RelType.OFFERS: (frozenset({_S}), frozenset({_A})),
    RelType.ADDRESSES: (frozenset({_A, _S}), frozenset({_N})),
    RelType.DOES_NOT_ADDRESS: (frozenset({_A, _S}), frozenset({_N})),
    RelType.LOCATED_IN: (frozenset({_A, _S, _O}), frozenset({_L})),
    RelType.COVERS: (frozenset({_P, _O}), frozenset({_L})),
    RelType.REFERS_TO: (frozenset({_P, _O, _S}), frozenset({_O, _S})),
    RelType.MEMBER_OF: (frozenset({_P, _O}), frozenset({_NW})),
    RelType.PARTNERS_WITH: (frozenset({_O}), frozenset({_O})),
    RelType.FUNDED_BY: (frozenset({_O, _S, _A, _NW}), frozenset({_F})),
}

# The longest id either store accepts (Neo4j cannot index a value of ~8 KB; the same limit
# applies to the embedded store, so that a file loads into both or neither).
MAX_ID_LENGTH = 256

# Provenance every node and relationship carries.
PROVENANCE_FIELDS = ("source", "source_id", "loaded_at")
# Property holding a digest of a row's content, so that reloading the same row changes nothing.
CONTENT_HASH = "content_hash"


@dataclass
class NodeRecord:
    """A validated node, ready for a store: ``props`` holds every property to write."""

    kind: NodeKind
    id: str
    props: dict
    file: str
    row: int


@dataclass
class RelRecord:
    """A validated relationship, ready for a store."""

    type: RelType
    source_id: str
    target_id: str
    props: dict
    file: str
    row: int
