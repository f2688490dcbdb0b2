"""Schedules read into weekly sessions: demo text, awkward text, real feed records."""

from __future__ import annotations

import csv
import json

import pytest

from loaders.schedule import parse_schedule, sessions_from_record, time_range
from pathways.analysis.places import TimesError, describe_times, parse_times
from pathways.loading import load_feed, load_paths
from pathways.model import NodeKind, TimeSlot, sessions_of
from pathways.store.embedded import EmbeddedStore
from tests.conftest import HSDS_EXAMPLES, SHARED


def texts(text: str) -> list[str]:
    return parse_schedule(text).texts()


WEEKDAYS_9_TO_5 = ["MO 09:00-17:00", "TU 09:00-17:00", "WE 09:00-17:00", "TH 09:00-17:00",
                   "FR 09:00-17:00"]


@pytest.mark.parametrize("text, sessions", [
    ("Tuesdays 10am–12 noon", ["TU 10:00-12:00"]),
    ("Mon-Fri 9-5", WEEKDAYS_9_TO_5),
    ("Monday to Friday, 9am to 5pm", WEEKDAYS_9_TO_5),
    ("weekdays 9.00 - 17.00", WEEKDAYS_9_TO_5),
    ("Mondays, Wednesdays and Fridays 09:00–12:00 (book a slot)",
     ["MO 09:00-12:00", "WE 09:00-12:00", "FR 09:00-12:00"]),
    ("Tuesdays and Thursdays 10:00–15:00", ["TU 10:00-15:00", "TH 10:00-15:00"]),
    ("Mon 10-12, Wed 2-4pm", ["MO 10:00-12:00", "WE 14:00-16:00"]),
    ("Thurs 6.30pm-8pm; Sat 10.30am - 12.30pm", ["TH 18:30-20:00", "SA 10:30-12:30"]),
    ("Weds 11-1", ["WE 11:00-13:00"]),
    ("between 1 and 3pm on Fridays", ["FR 13:00-15:00"]),
    ("First Monday of the month 10:00–13:00", ["MO 10:00-13:00"]),
    ("Every day 8am-8pm", [f"{d} 08:00-20:00" for d in ("MO", "TU", "WE", "TH", "FR", "SA", "SU")]),
    ("Saturdays from 18:30", ["SA 18:30-24:00"]),  # open-ended: to the end of the day
    ("every other Thursday", ["TH"]),  # a day without times: the whole day
    ("term time only", []),
    ("Library opening hours", []),
    ("By appointment", []),
    ("", []),
])
def test_schedule_text_becomes_weekly_sessions(text, sessions):
    assert texts(text) == sessions


@pytest.mark.parametrize("text, note", [
    ("every other Thursday", "every other week"),
    ("Alternate Saturdays 10:30–12:30", "every other week"),
    ("Fortnightly on Mondays", "every other week"),
    ("Last Friday of the month 14:00–15:30", "monthly"),
    ("Sat 10am - 12.30pm (term time only)", "term time only"),
    ("By appointment", "by appointment"),
])
def test_qualifiers_are_kept_as_notes_and_the_text_as_written(text, note):
    schedule = parse_schedule(text)
    assert note in schedule.notes
    assert schedule.text == text


@pytest.mark.parametrize("first, second", [("5", "3"), ("25", "26"), ("10:75", "11"),
                                           ("13pm", "2pm")])
def test_impossible_times_are_refused(first, second):
    with pytest.raises(ValueError):
        time_range(first, second)


def test_impossible_times_in_text_give_no_session_rather_than_a_wrong_one():
    assert texts("Mondays 25:00-26:00") == ["MO"]


def test_every_demo_schedule_with_a_day_gives_sessions_that_say_the_same(demo_dir):
    """Each demo schedule naming a day gives sessions; each session's hours are written in
    the text (HH:MM), so nothing was guessed."""
    with open(demo_dir / "activities.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    named = [r for r in rows if any(d in r["schedule"] for d in
                                    ("day", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))]
    assert len(named) >= 50
    for row in named:
        sessions = parse_schedule(row["schedule"]).sessions
        assert sessions, row["schedule"]
        for session in sessions:
            assert session.start in row["schedule"] and session.end in row["schedule"]


def test_loaded_demo_activities_carry_sessions_and_keep_their_text(tmp_path, demo_dir):
    store = EmbeddedStore(tmp_path / "graph.json")
    load_paths(store, [demo_dir])
    acts = {a["name"]: a for a in store.list_nodes(NodeKind.ACTIVITY)}
    chair = acts["Chair Exercise Online"]
    assert chair["schedule"] == "Tuesdays 11:00–11:45"
    assert sessions_of(chair) == [TimeSlot("TU", "11:00", "11:45")]
    unknown = [a for a in acts.values() if a.get("schedule") and not sessions_of(a)]
    assert [a["schedule"] for a in unknown] == ["Library opening hours"]


# --------------------------------------------------------------------------- feed records


def _feed_schedules() -> list[dict]:
    """Every schedule record in the real HSDS/ORUK fixtures in ../shared/fixtures."""
    found: list[dict] = []

    def walk(value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key in ("schedules", "regular_schedules") and isinstance(inner, list):
                    found.extend(s for s in inner if isinstance(s, dict))
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    for path in sorted((SHARED / "fixtures").rglob("*.json")):
        walk(json.loads(path.read_text(encoding="utf-8")))
    for path in sorted((SHARED / "fixtures").rglob("schedules.csv")):
        with path.open(encoding="utf-8") as handle:
            found.extend(csv.DictReader(handle))
    return found


def test_real_feed_schedule_records_give_sessions():
    records = _feed_schedules()
    parsed = [r for r in records if sessions_from_record(r).known]
    print(f"feed schedule records: {len(records)}, with sessions: {len(parsed)}")
    assert records and len(parsed) == len(records)
    for record in records:  # the hours are the record's own, on the days it names
        for session in sessions_from_record(record).sessions:
            assert session.day in record["byday"]
            assert record["opens_at"].startswith(session.start)
            assert record["closes_at"].startswith(session.end)


@pytest.mark.parametrize("record, sessions, notes", [
    ({"byday": "TU,TH", "opens_at": "10:00:00", "closes_at": "12:00"},
     ["TU 10:00-12:00", "TH 10:00-12:00"], ()),
    ({"freq": "MONTHLY", "byday": "2MO", "opens_at": "18:30"}, ["MO 18:30-24:00"], ("monthly",)),
    ({"freq": "WEEKLY", "interval": "2", "byday": "FR"}, ["FR"], ("every other week",)),
    ({"weekday": "Wednesday", "opens_at": "09:30", "closes_at": "11:00"}, ["WE 09:30-11:00"], ()),
    ({"freq": "DAILY", "opens_at": "08:00", "closes_at": "08:30"},
     [f"{d} 08:00-08:30" for d in ("MO", "TU", "WE", "TH", "FR", "SA", "SU")], ()),
    ({"description": "Tuesdays 2-4pm in term time"}, ["TU 14:00-16:00"], ("term time only",)),
    ({"description": "Please phone for times"}, [], ()),
    ({"byday": "XX", "opens_at": "nonsense"}, [], ()),
])
def test_feed_schedule_records_become_sessions(record, sessions, notes):
    schedule = sessions_from_record(record)
    assert schedule.texts() == sessions
    assert schedule.notes == notes


def test_hsds_activities_carry_the_sessions_of_their_schedules(tmp_path):
    store = EmbeddedStore(tmp_path / "graph.json")
    load_feed(store, [HSDS_EXAMPLES / "csv"], "hsds")
    with_sessions = [a for a in store.list_nodes(NodeKind.ACTIVITY) if sessions_of(a)]
    assert with_sessions
    for activity in with_sessions:
        assert activity["schedule"]  # the text is kept beside them
        assert {str(s) for s in sessions_of(activity)} == {"TH 10:00-18:00", "FR 10:00-18:00"}


# --------------------------------------------------------------------------- a person's times


@pytest.mark.parametrize("typed, slots", [
    ("Mon morning; Thu 13:00-15:00", ["MO 08:00-12:00", "TH 13:00-15:00"]),
    ("Mon-Fri afternoons", [f"{d} 12:00-17:00" for d in ("MO", "TU", "WE", "TH", "FR")]),
    ("Monday to Wednesday 10am-12", ["MO 10:00-12:00", "TU 10:00-12:00", "WE 10:00-12:00"]),
    ("Tues & Thurs 2-4", ["TU 14:00-16:00", "TH 14:00-16:00"]),
    ("Mon morning Thu afternoon", ["MO 08:00-12:00", "TH 12:00-17:00"]),
    ("weekends after 4pm", ["SA 16:00-24:00", "SU 16:00-24:00"]),
    ("Fridays before 11am", ["FR 00:00-11:00"]),
    ("Saturday", ["SA"]),
    ("Saturday all day; saturday", ["SA"]),
    ("", []),
])
def test_a_persons_times_in_plain_english(typed, slots):
    assert [str(s) for s in parse_times(typed)] == slots


@pytest.mark.parametrize("typed, message", [
    ("Thrusday", "'Thrusday' is not a day; did you mean Thursday?"),
    ("Wendesday afternoon", "'Wendesday' is not a day; did you mean Wednesday?"),
    ("Mon mornin", "'mornin' is not a day or a part of the day; did you mean morning?"),
    ("Mon 15:00-13:00", "'15:00-13:00' is not a time range"),
    ("Mon 25:00-26:00", "'25:00-26:00' is not a time range"),
    ("Mon 10", "'10' is a time without an end"),
    ("Mon @ 3", "'@' cannot be read"),
    ("soon", "'soon' is not a day"),
])
def test_times_that_cannot_be_read_say_what_is_wrong(typed, message):
    with pytest.raises(TimesError) as caught:
        parse_times(typed)
    assert str(caught.value).startswith(message)


def test_parsed_times_match_the_sessions_read_from_schedules():
    """The same words mean the same hours on both sides of the match."""
    tuesday = parse_schedule("Tuesdays 10am–12 noon").sessions[0]
    assert any(tuesday.overlaps(s) for s in parse_times("Tue morning"))
    assert not any(tuesday.overlaps(s) for s in parse_times("Tue afternoon"))
    assert describe_times(parse_times("Tue morning; Sat")) == "Tuesday 08:00-12:00; Saturday"
