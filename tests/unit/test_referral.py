"""How to refer (issue 14 item 1): the first step with its method, self-referral, wait and
notes, the contacts on the worker's own best route, what the person will find, and how fresh
the entry is; recomputed from the store for any worker and activity."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re

import pytest

from pathways.analysis.pathways import pathways_from
from pathways.analysis.referral import (
    REFERRAL_COLUMNS,
    how_to_refer,
    how_to_refer_many,
    referral_columns,
)
from pathways.analysis.shortlist import (
    MAX_SHORTLIST,
    Shortlist,
    decode_shortlist,
    encode_shortlist,
    referral_sheet,
)
from pathways.errors import PathwaysError, UnknownIdError
from pathways.loading import load_paths
from pathways.model import ReferralMethod
from pathways.store.base import PathwayFilter
from pathways.store.embedded import EmbeddedStore
from tests.conftest import load_data

TODAY = dt.date(2026, 11, 30)

# A link worker refers to a trust by online form; the trust provides a service offering two
# activities; a second worker reaches nothing.  Reviews: one recent, one old, one missing.
TRUST = {
    "people": [
        {"id": "lw", "name": "Lee Worker", "role": "link_worker", "phone": "0100 000 000"},
        {"id": "lw-far", "name": "Far Worker", "role": "link_worker"},
        {"id": "pr", "name": "Pat Practitioner", "role": "practitioner"},
    ],
    "organisations": [
        {"id": "org-trust", "name": "Valley Trust", "kind": "voluntary_community",
         "phone": "01422 111 111", "website": "https://valley.example/refer"},
    ],
    "services": [
        {"id": "svc-arts", "name": "Arts on Prescription", "email": "arts@valley.example",
         "referral_info": "Send the short form; we call the person within a week.",
         "reviewed_at": "2026-10-01"},
    ],
    "activities": [
        {"id": "act-paint", "name": "Painting Group", "schedule": "Tuesdays 10:00-12:00",
         "venue": "Mill Studio", "free": "no", "cost": "£2 per session",
         "accessibility": "step_free;hearing_loop", "age_min": "18", "age_max": "65",
         "capacity": "12", "reviewed_at": "2025-06-01"},
        {"id": "act-draw", "name": "Drawing Online", "free": "yes", "serves_whole_area": "yes"},
    ],
    "localities": [{"id": "loc-a", "name": "Aville"}],
    "needs": [{"id": "creativity", "name": "Creativity"}],
    "relationships": [
        {"source_id": "lw", "type": "REFERS_TO", "target_id": "org-trust",
         "method": "online_form", "self_referral": "no", "typical_wait_days": "10",
         "notes": "Mention the Arts on Prescription programme"},
        {"source_id": "org-trust", "type": "PROVIDES", "target_id": "svc-arts"},
        {"source_id": "svc-arts", "type": "OFFERS", "target_id": "act-paint"},
        {"source_id": "svc-arts", "type": "OFFERS", "target_id": "act-draw"},
        {"source_id": "act-paint", "type": "LOCATED_IN", "target_id": "loc-a"},
        {"source_id": "act-paint", "type": "ADDRESSES", "target_id": "creativity"},
    ],
}


@pytest.fixture
def trust(tmp_path) -> EmbeddedStore:
    store = EmbeddedStore(tmp_path / "graph.json")
    load_data(store, TRUST)
    return store


def test_first_step_is_the_workers_own_referral_with_its_method_wait_and_notes(trust):
    found = how_to_refer(trust, "lw", "act-paint", as_of=TODAY)
    first = found.first_step
    assert first is not None and found.reachable and found.hops == 3
    assert (first.contact.id, first.contact.name) == ("org-trust", "Valley Trust")
    assert (first.method, first.method_words) == (ReferralMethod.ONLINE_FORM.value, "online form")
    assert first.self_referral is False and first.typical_wait_days == 10
    assert first.notes == "Mention the Arts on Prescription programme"
    assert first.form_link == "https://valley.example/refer"  # an online form: its address
    assert found.summary == ("Contact Valley Trust first (online form); no self-referral;"
                             " typical wait 10 days.")


def test_contacts_follow_the_route_and_never_include_the_link_worker(trust):
    found = how_to_refer(trust, "lw", "act-paint", as_of=TODAY)
    assert [n.id for n in found.route] == ["lw", "org-trust", "svc-arts", "act-paint"]
    assert [c.id for c in found.contacts] == ["org-trust", "svc-arts"]  # the activity has none
    service = found.contacts[1]
    assert service.email == "arts@valley.example"
    assert service.referral_info.startswith("Send the short form")
    assert "0100 000 000" not in repr(found)  # the worker's own phone is not a contact
    assert [(s.rel, s.method) for s in found.steps] == [
        ("REFERS_TO", "online_form"), ("PROVIDES", None), ("OFFERS", None)]
    assert found.route_wait_days == 10


def test_what_the_person_will_find(trust):
    offer = how_to_refer(trust, "lw", "act-paint", as_of=TODAY).offer
    assert offer.schedule == "Tuesdays 10:00-12:00" and offer.venue == "Mill Studio"
    assert (offer.cost, offer.free) == ("£2 per session", False)
    assert offer.access == ("hearing_loop", "step_free")
    assert (offer.age_min, offer.age_max, offer.ages) == (18, 65, "18–65")
    assert offer.localities == ("Aville",) and offer.needs == ("Creativity",)
    assert offer.providers == ("Valley Trust",) and offer.capacity == 12
    online = how_to_refer(trust, "lw", "act-draw", as_of=TODAY).offer
    assert (online.cost, online.serves_whole_area, online.ages) == ("free", True, "not recorded")


def test_an_entry_not_reviewed_for_a_year_is_flagged_with_the_date_used(trust):
    old = how_to_refer(trust, "lw", "act-paint", as_of=TODAY).freshness
    assert (old.status, old.date, old.date_from) == ("stale", "2025-06-01", "activity")
    assert old.flagged and "1 June 2025" in old.message and old.age_days == 547
    fresh_then = how_to_refer(trust, "lw", "act-paint", as_of=dt.date(2026, 5, 31)).freshness
    assert fresh_then.status == "current" and not fresh_then.flagged
    # no date of its own: its service's review date is used, and says so
    borrowed = how_to_refer(trust, "lw", "act-draw", as_of=TODAY).freshness
    assert (borrowed.status, borrowed.date, borrowed.date_from) == ("current", "2026-10-01",
                                                                   "service")


def test_an_entry_with_no_review_date_anywhere_is_flagged_unknown(tmp_path):
    store = EmbeddedStore(tmp_path / "graph.json")
    data = {**TRUST, "services": [{"id": "svc-arts", "name": "Arts on Prescription"}]}
    load_data(store, data)
    found = how_to_refer(store, "lw", "act-draw", as_of=TODAY).freshness
    assert (found.status, found.date, found.flagged) == ("unknown", None, True)


def test_an_activity_off_the_workers_routes_says_so_and_gives_its_providers(trust):
    found = how_to_refer(trust, "lw-far", "act-paint", as_of=TODAY)
    assert not found.reachable and found.first_step is None and found.route == ()
    assert [c.id for c in found.contacts] == ["svc-arts", "org-trust"]
    assert "not on Far Worker's referral routes" in found.summary
    assert referral_columns(found)["first_contact"] == ""


def test_a_route_longer_than_max_hops_is_not_used(trust):
    assert not how_to_refer(trust, "lw", "act-paint", max_hops=2, as_of=TODAY).reachable
    with pytest.raises(PathwaysError, match="max hops"):
        how_to_refer(trust, "lw", "act-paint", max_hops=0)


def test_unknown_worker_or_activity_and_wrong_role_are_refused(trust):
    with pytest.raises(UnknownIdError, match="link worker"):
        how_to_refer(trust, "nobody", "act-paint")
    with pytest.raises(UnknownIdError, match="activity"):
        how_to_refer(trust, "lw", "svc-arts")  # a service, not an activity
    with pytest.raises(UnknownIdError, match="activity"):
        how_to_refer_many(trust, "lw", ["act-paint", "gone"])
    with pytest.raises(PathwaysError, match="practitioner, not a link worker"):
        how_to_refer(trust, "pr", "act-paint")


def test_csv_columns_carry_the_first_step_and_freshness(trust):
    row = referral_columns(how_to_refer(trust, "lw", "act-paint", as_of=TODAY))
    assert tuple(row) == REFERRAL_COLUMNS
    assert row["first_contact"] == "Valley Trust" and row["method"] == "online form"
    assert (row["self_referral"], row["typical_wait_days"]) == ("no", "10")
    assert row["review_status"] == "stale" and row["reviewed_at"] == "2025-06-01"
    assert row["ages"] == "18–65" and row["venue"] == "Mill Studio"


def test_the_route_is_the_one_the_pathways_list_shows_for_every_demo_activity(tmp_path,
                                                                                demo_dir):
    store = EmbeddedStore(tmp_path / "graph.json")
    load_paths(store, [demo_dir])
    for worker in ("person-lw-pat-example", "person-lw-morgan-testcase"):
        listed = pathways_from(store, worker, PathwayFilter())["activities"]
        assert listed
        found = how_to_refer_many(store, worker, [a["id"] for a in listed], as_of=TODAY)
        for activity, referral in zip(listed, found, strict=True):
            assert [n.id for n in referral.route] == [n["id"] for n in activity["path"]]
            assert referral.first_step is not None
            step = referral.steps[0]
            assert step.rel == "REFERS_TO" and step.source.id == worker
            assert referral.first_step.contact.id == activity["path"][1]["id"]


def test_every_activity_the_self_referral_filter_keeps_says_where_the_person_may_self_refer(
        tmp_path, demo_dir):
    # The filter asks whether a provider takes self-referrals; the route's own first step may
    # not (104 of 259 demo pairs differ): the panel must then still say where the person can go.
    store = EmbeddedStore(tmp_path / "graph.json")
    load_paths(store, [demo_dir])
    dropped = 0
    for worker in ("person-lw-pat-example", "person-lw-morgan-testcase"):
        every = {a["id"] for a in pathways_from(store, worker, PathwayFilter())["activities"]}
        kept = {a["id"] for a in pathways_from(
            store, worker, PathwayFilter(self_referral_only=True))["activities"]}
        assert kept
        dropped += len(every - kept)
        for referral in how_to_refer_many(store, worker, sorted(every), as_of=TODAY):
            assert bool(referral.self_referral_to) == (referral.activity.id in kept)
            if referral.activity.id in kept:
                assert "refer themselves" in referral.summary
                first = referral.first_step
                if first is None or first.self_referral is not True:
                    names = [n.name for n in referral.self_referral_to]
                    assert all(name in referral.summary for name in names)
    assert dropped  # the demo has activities the filter drops, so both answers are tested


# ---- the shortlist and its referral sheet ---------------------------------------------------

def test_a_shortlist_link_holds_only_the_ids_and_reopens_the_same_list(trust):
    token = encode_shortlist(["act-draw", "act-paint", "act-draw"], "lw")
    body = token.split(".", 1)[1]
    assert json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))) == [
        "lw", "act-draw", "act-paint"]  # nothing else travels in the URL
    assert re.fullmatch(r"[A-Za-z0-9._-]+", token)  # safe in a URL query as it is
    shortlist = decode_shortlist(trust, token)
    assert shortlist == Shortlist("lw", ("act-draw", "act-paint"), ())
    assert shortlist.encode() == token


def test_ids_with_any_characters_survive_the_link(tmp_path):
    store = EmbeddedStore(tmp_path / "graph.json")
    odd = "oruk:service_at_location:sal/101-a?&=é"
    load_data(store, {"people": [{"id": "lw", "name": "L", "role": "link_worker"}],
                      "activities": [{"id": odd, "name": "Odd"}]})
    assert decode_shortlist(store, encode_shortlist([odd], "lw")).activity_ids == (odd,)


def test_unknown_or_tampered_ids_are_dropped_with_a_message(trust):
    shortlist = decode_shortlist(trust, encode_shortlist(["act-paint", "act-gone", "svc-arts"],
                                                         "pr"))
    assert shortlist.activity_ids == ("act-paint",)  # a service is not an activity
    assert shortlist.worker_id is None  # a practitioner is not a link worker
    text = " ".join(shortlist.problems)
    assert "2 activities are no longer in the data" in text and "'act-gone'" in text
    assert "link worker in this link ('pr')" in text
    for broken in ("1.@@@", "2.WyJsdyJd", "1." + "A" * 9000, "1.bm90IGpzb24",
                   "1." + base64.urlsafe_b64encode(b'{"lw": 1}').decode()):
        opened = decode_shortlist(trust, broken)
        assert (opened.worker_id, opened.activity_ids) == (None, ())
        assert "could not be read" in opened.problems[0]
    assert decode_shortlist(trust, "") == Shortlist(None, (), ())


def test_a_link_with_too_many_activities_keeps_the_first_ones(trust):
    raw = json.dumps(["lw"] + ["act-paint"] + [f"x{n}" for n in range(MAX_SHORTLIST + 3)])
    token = "1." + base64.urlsafe_b64encode(raw.encode()).decode()
    opened = decode_shortlist(trust, token)
    assert opened.activity_ids == ("act-paint",)
    assert any(f"only the first {MAX_SHORTLIST}" in p for p in opened.problems)
    with pytest.raises(PathwaysError, match="at most"):
        encode_shortlist([f"x{n}" for n in range(MAX_SHORTLIST + 1)])


def test_the_referral_sheet_gives_each_option_how_to_refer_and_nothing_about_the_person(trust):
    sheet = referral_sheet(trust, "lw", ["act-paint", "act-draw"], as_of=TODAY)
    assert [o.activity.id for o in sheet.options] == ["act-paint", "act-draw"]
    assert sheet.options[0] == how_to_refer(trust, "lw", "act-paint", as_of=TODAY)
    assert sheet.worker.name == "Lee Worker" and sheet.prepared_on == "2026-11-30"
    assert decode_shortlist(trust, sheet.shortlist).activity_ids == ("act-paint", "act-draw")
    assert any("no information about the person" in n for n in sheet.notes)
    assert any("not been reviewed for over a year" in n for n in sheet.notes)  # act-paint
    assert json.dumps(sheet.to_dict(), ensure_ascii=False)  # printable as JSON too
    with pytest.raises(UnknownIdError):
        referral_sheet(trust, "lw", ["act-paint", "act-gone"])
    with pytest.raises(UnknownIdError):
        referral_sheet(trust, "nobody", [])
    empty = referral_sheet(trust, "lw", [], as_of=TODAY)
    assert empty.options == () and empty.worker.name == "Lee Worker"


def test_a_referral_without_recorded_details_says_only_who_to_contact(tmp_path):
    store = EmbeddedStore(tmp_path / "graph.json")
    data = {**TRUST, "relationships": [{"source_id": "lw", "type": "REFERS_TO",
                                        "target_id": "svc-arts"},
                                       *TRUST["relationships"][1:]]}
    load_data(store, data)
    found = how_to_refer(store, "lw", "act-paint", as_of=TODAY)
    first = found.first_step
    assert first is not None and found.hops == 2 and first.contact.id == "svc-arts"
    assert (first.method, first.method_words, first.self_referral) == (None, "not recorded", None)
    assert first.typical_wait_days is None and found.route_wait_days is None
    assert first.referral_info.startswith("Send the short form")  # the service's own words
    assert found.summary == "Contact Arts on Prescription first."
    row = referral_columns(found)
    assert (row["method"], row["self_referral"], row["typical_wait_days"]) == ("", "", "")
