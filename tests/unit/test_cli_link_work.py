"""The link worker's command line (issue 14) on the embedded demo store: names wherever ids
are taken, "did you mean", ``show``, ``search``, ``postcode``, the person's filters on
``paths`` and its referral columns.

Expected answers are worked out from the store's own data by the rule each option states,
never typed in: the demo data can change and these tests still say whether the CLI is right.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil

import pytest
from click.testing import CliRunner

from pathways.analysis.gaps import REVIEW_DAYS
from pathways.analysis.lookup import normalise
from pathways.analysis.places import parse_times
from pathways.analysis.referral import how_to_refer
from pathways.analysis.snapshot import sources
from pathways.cli import cli, main
from pathways.loading import demo_data_dir, load_paths
from pathways.model import NodeKind, PersonRole, RelType, TimeSlot, sessions_of
from pathways.store.embedded import EmbeddedStore
from tests.conftest import write_folder

AS_OF = "2026-11-30"


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory):
    """A data directory holding the demo, loaded once for the module (the commands only read)."""
    home = tmp_path_factory.mktemp("demo-home")
    load_paths(EmbeddedStore(home / "graph.json"), [demo_data_dir()])
    return home


@pytest.fixture
def home(demo_home, tmp_path, monkeypatch):
    """Each test gets its own copy of the demo store."""
    mine = tmp_path / "home"
    shutil.copytree(demo_home, mine)
    monkeypatch.setenv("PATHWAYS_HOME", str(mine))
    monkeypatch.setenv("PATHWAYS_STORE", "embedded")
    return mine


@pytest.fixture
def store(home):
    return EmbeddedStore(home / "graph.json")


def run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def run_main(capsys, *args):
    """What a user of the installed ``pathways`` script sees: exit code, stdout, stderr."""
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def paths_json(*args) -> dict:
    return json.loads(run("paths", *args, "--format", "json").stdout)


def ids(result: dict) -> list[str]:
    return [a["id"] for a in result["activities"]]


def workers(store) -> list[dict]:
    return store.list_nodes(NodeKind.PERSON, PersonRole.LINK_WORKER.value)


def activity_props(store) -> dict[str, dict]:
    return {a["id"]: a for a in store.list_nodes(NodeKind.ACTIVITY)}


# --------------------------------------------------------------------------- names


def test_names_give_the_same_paths_as_ids_and_say_what_a_guess_was_taken_to_mean(store):
    worker = workers(store)[0]
    need = store.list_nodes(NodeKind.NEED)[0]
    place = store.list_nodes(NodeKind.LOCALITY)[0]
    by_ids = paths_json("--from", worker["id"], "--need", need["id"], "--locality", place["id"],
                        "--max-hops", 4)
    first_name = worker["name"].split()[0].lower()  # the start of the name, lower case
    result = run("paths", "--from", first_name, "--need", need["name"].upper(),
                 "--locality", place["name"].lower(), "--max-hops", 4, "--format", "json")
    assert json.loads(result.stdout) == by_ids
    assert f"using the link worker {worker['name']} ({worker['id']})" in result.stderr
    # a close spelling of a need's name (a letter doubled) is a guess that is reported
    longest = max(store.list_nodes(NodeKind.NEED), key=lambda n: len(n["name"]))
    misspelt = longest["name"][:3] + longest["name"][2:]
    spelt = run("paths", "--from", worker["id"], "--need", misspelt, "--format", "json")
    assert f"--need {misspelt!r}: using the need {longest['name']} ({longest['id']})" in spelt.stderr
    assert json.loads(spelt.stdout) == paths_json("--from", worker["id"], "--need", longest["id"])


def test_an_access_tag_typed_without_its_underscore_filters_like_the_tag(store):
    worker = workers(store)[0]["id"]
    tag = next(t for a in store.list_nodes(NodeKind.ACTIVITY)
               for t in a.get("accessibility") or () if "_" in t)
    by_tag = paths_json("--from", worker, "--access", tag)
    typed = tag.replace("_", "")  # "stepfree": refused before, or silently nothing
    assert paths_json("--from", worker, "--access", typed) == by_tag
    assert by_tag["activities"], "the tag is on some activity the worker reaches"


def test_an_ambiguous_name_lists_every_candidate_and_exits_1(store, capsys):
    # a word shared by the names of several localities ("Halifax" in the demo)
    places = store.list_nodes(NodeKind.LOCALITY)
    counts: dict[str, list[dict]] = {}
    for place in places:
        for word in normalise(place["name"]).split():
            counts.setdefault(word, []).append(place)
    word, sharing = max(counts.items(), key=lambda kv: len(kv[1]))
    assert len(sharing) > 1, "the demo has localities sharing a word"
    code, out, err = run_main(capsys, "paths", "--from", workers(store)[0]["id"],
                              "--locality", word)
    assert code == 1 and out == ""
    assert f"{word!r} matches {len(sharing)} localities" in err
    for place in sharing:
        assert f"{place['name']} ({place['id']})" in err
    assert "Give the id, or more of the name" in err


def test_show_with_an_ambiguous_activity_name_lists_the_candidates(store, capsys):
    words: dict[str, list[dict]] = {}
    for activity in store.list_nodes(NodeKind.ACTIVITY):
        for word in set(normalise(activity["name"]).split()):
            words.setdefault(word, []).append(activity)
    word, sharing = max(words.items(), key=lambda kv: (len(kv[1]), kv[0]))
    code, _, err = run_main(capsys, "show", word)
    assert code == 1
    assert f"matches {len(sharing)} activities" in err
    assert all(a["id"] in err for a in sharing[:10])


@pytest.mark.parametrize("option, kind, typed, expected_word", [
    ("--need", NodeKind.NEED, "lonely", "Loneliness"),
    ("--locality", NodeKind.LOCALITY, "Hallifacks", "Halifax"),
    ("--access", "access", "wheelchar", "wheelchair accessible"),
])
def test_unknown_names_say_did_you_mean_and_list_the_choices(store, capsys, option, kind, typed,
                                                             expected_word):
    code, out, err = run_main(capsys, "paths", "--from", workers(store)[0]["id"], option, typed)
    assert code == 1 and out == ""
    assert f"{typed!r}" in err and "did you mean" in err
    suggestion = err.split("did you mean", 1)[1].split("?", 1)[0]
    assert expected_word in suggestion
    choices = err.split("Choose one of:", 1)[1]
    if kind == "access":
        every = {t for a in store.list_nodes(NodeKind.ACTIVITY) for t in a.get("accessibility") or ()}
        assert all(t in choices for t in every)
    else:
        assert all(n["id"] in choices for n in store.list_nodes(kind))


def test_an_exact_id_of_someone_else_still_says_what_they_are(store, capsys):
    lead = store.list_nodes(NodeKind.PERSON, PersonRole.PARTNERSHIP_LEAD.value)[0]
    code, _, err = run_main(capsys, "paths", "--from", lead["id"])
    assert code == 1
    assert f"({lead['name']}) is a partnership lead, not a link worker" in err


def test_gaps_and_consortia_take_names_too(store):
    place = store.list_nodes(NodeKind.LOCALITY)[-1]
    need = store.list_nodes(NodeKind.NEED)[-1]
    args = ("--as-of", AS_OF, "--format", "json")
    assert (run("gaps", "--locality", place["name"].upper(), "--need", need["name"], *args).stdout
            == run("gaps", "--locality", place["id"], "--need", need["id"], *args).stdout)
    assert (run("consortia", "--need", need["name"], "--locality", place["name"],
                "--format", "json").stdout
            == run("consortia", "--need", need["id"], "--locality", place["id"],
                   "--format", "json").stdout)


# --------------------------------------------------------------------------- show


def reachable_activity(store, worker_id: str) -> str:
    """An activity the worker reaches whose first referral step records a method."""
    found = paths_json("--from", worker_id)
    for activity in found["activities"]:
        refer = how_to_refer(store, worker_id, activity["id"], as_of=dt.date.fromisoformat(AS_OF))
        if refer.first_step and refer.first_step.method:
            return activity["id"]
    raise AssertionError("no reachable activity with a referral method")


def test_show_json_is_how_to_refer_for_that_worker_and_activity(store):
    worker = workers(store)[0]
    activity = reachable_activity(store, worker["id"])
    name = activity_props(store)[activity]["name"]
    result = run("show", name, "--from", worker["name"], "--as-of", AS_OF, "--format", "json")
    shown = json.loads(result.stdout)
    expected = how_to_refer(store, worker["id"], activity, as_of=dt.date.fromisoformat(AS_OF))
    assert shown == json.loads(json.dumps(expected.to_dict()))
    assert shown["first_step"]["contact"]["id"] == shown["route"][1]["id"]


def test_show_table_says_who_to_contact_first_how_and_what_the_person_will_find(store):
    worker = workers(store)[0]
    activity = reachable_activity(store, worker["id"])
    refer = how_to_refer(store, worker["id"], activity, as_of=dt.date.fromisoformat(AS_OF))
    text = run("show", activity, "--from", worker["id"], "--as-of", AS_OF).stdout
    first = refer.first_step
    assert f"First step:     contact {first.contact.name}" in text
    assert f"Method:         {first.method_words}" in text
    expected_self = {True: "yes", False: "no", None: "not recorded"}[first.self_referral]
    assert f"Self-referral:  {expected_self}" in text
    if first.typical_wait_days is not None:
        assert f"Typical wait:   {first.typical_wait_days} day" in text
    for contact in refer.contacts:  # professionals' contacts on the route
        if contact.phone:
            assert contact.phone in text
    assert "What the person will find" in text
    assert refer.offer.venue in text and refer.offer.ages in text
    assert refer.freshness.message in text


def test_show_flags_an_entry_not_reviewed_for_12_months_and_not_a_fresh_one(store):
    as_of = dt.date.fromisoformat(AS_OF)
    cutoff = (as_of - dt.timedelta(days=REVIEW_DAYS)).isoformat()
    dated = {a["id"]: str(a["reviewed_at"]) for a in store.list_nodes(NodeKind.ACTIVITY)
             if a.get("reviewed_at")}
    stale = min(dated, key=dated.get)
    fresh = max(dated, key=dated.get)
    assert dated[stale][:10] < cutoff <= dated[fresh][:10], "the demo has both kinds"
    old = run("show", stale, "--as-of", AS_OF).stdout
    new = run("show", fresh, "--as-of", AS_OF).stdout
    assert "CHECK: Not reviewed for over 12 months" in old
    assert "CHECK:" not in new and "Reviewed " in new
    as_json = json.loads(run("show", stale, "--as-of", AS_OF, "--format", "json").stdout)
    assert as_json["freshness"]["status"] == "stale"
    assert as_json["freshness"]["date"] == dated[stale]


def test_show_without_a_worker_lists_the_providers_to_contact_directly(store):
    graph = store.snapshot()
    activity = next(a for a in activity_props(store)
                    if sources(graph, a, RelType.OFFERS))
    shown = json.loads(run("show", activity, "--as-of", AS_OF, "--format", "json").stdout)
    assert shown["worker"] is None and shown["first_step"] is None
    contact_ids = {c["id"] for c in shown["contacts"]}
    services = set(sources(graph, activity, RelType.OFFERS))
    reachable = {s for s in services
                 if any(graph.nodes[s]["props"].get(k) for k in ("phone", "email", "website",
                                                                   "referral_info"))}
    assert reachable <= contact_ids
    assert shown["offer"]["schedule"] == (activity_props(store)[activity].get("schedule") or "")


def test_show_of_an_unknown_activity_says_so(store, capsys):
    code, out, err = run_main(capsys, "show", "Zzyxq Quorble")
    assert code == 1 and out == ""
    assert "no activity called 'Zzyxq Quorble'" in err


# --------------------------------------------------------------------------- search


def test_search_finds_by_words_and_respects_kind_and_limit(store):
    hits = json.loads(run("search", "walk", "--format", "json", "--limit", 50).stdout)
    assert hits
    for hit in hits:  # every hit says the word, or a longer form of it
        node = store.get_node(hit["id"])[1]
        text = normalise(f"{node['name']} {node.get('description') or ''}")
        assert any(w.startswith("walk") for w in text.split()), hit
    every = {a["id"] for a in store.list_nodes(NodeKind.ACTIVITY)
             if "walk" in normalise(a["name"]).split()}
    assert every <= {h["id"] for h in hits}
    only = json.loads(run("search", "walk", "--kind", "activity", "--format", "json").stdout)
    assert only and {h["kind"] for h in only} == {"activity"}
    assert len(json.loads(run("search", "walk", "--limit", 2, "--format", "json").stdout)) == 2


def test_search_forgives_a_typo_and_writes_csv(store):
    hits = json.loads(run("search", "lonliness", "--format", "json").stdout)
    assert hits and all("loneliness" in h["matched"] for h in hits)
    rows = list(csv.DictReader(io.StringIO(run("search", "art", "group", "--format", "csv").stdout)))
    assert rows and list(rows[0]) == ["name", "kind", "id", "snippet", "matched"]


def test_search_with_no_hits_says_so(store):
    result = run("search", "zzqqxx")
    assert result.stdout == "" and "Nothing found for 'zzqqxx'" in result.stderr


# --------------------------------------------------------------------------- postcode


def listed_postcodes(store) -> list[tuple[str, dict]]:
    """(prefix, locality) for every prefix listed by exactly one locality."""
    seen: dict[str, list[dict]] = {}
    for place in store.list_nodes(NodeKind.LOCALITY):
        for prefix in place.get("postcodes") or ():
            seen.setdefault(prefix, []).append(place)
    return [(p, places[0]) for p, places in seen.items() if len(places) == 1]


def test_postcode_gives_the_locality_of_its_longest_listed_prefix(store):
    listed = listed_postcodes(store)
    assert listed, "the demo localities list postcodes"
    prefixes = {p for p, _ in listed}
    for prefix, place in listed:
        # a whole postcode under this prefix; a longer listed prefix would win instead
        whole = f"{prefix} 1AB" if " " not in prefix else f"{prefix}AB"
        if any(p != prefix and p.startswith(prefix + " ") and whole.startswith(p)
               for p in prefixes):
            continue
        out = run("postcode", whole.lower()).stdout
        assert out.strip() == f"{whole} is in {place['name']} (listed under {prefix})"
        as_json = json.loads(run("postcode", whole, "--format", "json").stdout)
        assert as_json["locality"] == {"id": place["id"], "name": place["name"]}


def test_an_unknown_postcode_says_so_and_exits_1(store, capsys):
    listed = {p.split()[0] for p, _ in listed_postcodes(store)}
    district = next(f"ZZ{n}" for n in range(1, 99) if f"ZZ{n}" not in listed)
    code, out, err = run_main(capsys, "postcode", f"{district} 9XX")
    assert code == 1 and out == ""
    assert "unknown postcode" in err and f"{district} 9XX" in err
    code, _, err = run_main(capsys, "postcode", "banana")
    assert code == 1 and "is not a UK postcode" in err


def test_paths_postcode_sets_the_locality(store, capsys):
    prefix, place = next((p, loc) for p, loc in listed_postcodes(store) if " " not in p)
    worker = workers(store)[0]["id"]
    by_postcode = run("paths", "--from", worker, "--postcode", f"{prefix} 1AB", "--format", "json")
    assert json.loads(by_postcode.stdout) == paths_json("--from", worker, "--locality", place["id"])
    assert place["name"] in by_postcode.stderr
    code, _, err = run_main(capsys, "paths", "--from", worker, "--postcode", "ZZ99 9ZZ")
    assert code == 1 and "unknown postcode" in err
    code, _, err = run_main(capsys, "paths", "--from", worker, "--postcode", f"{prefix} 1AB",
                            "--locality", place["id"])
    assert code == 2 and "not both" in err


# --------------------------------------------------------------------------- person's filters


def widest(store) -> tuple[str, list[str]]:
    """The worker reaching most activities, and those activities (no filter)."""
    best = max(workers(store), key=lambda w: len(ids(paths_json("--from", w["id"]))))
    return best["id"], ids(paths_json("--from", best["id"]))


@pytest.mark.parametrize("age", [8, 14, 30, 70])
def test_age_keeps_exactly_the_activities_whose_range_admits_it(store, age):
    worker, everything = widest(store)
    props = activity_props(store)

    def admits(p):
        low, high = p.get("age_min"), p.get("age_max")
        return (low is None or low <= age) and (high is None or age <= high)

    expected = [a for a in everything if admits(props[a])]
    assert ids(paths_json("--from", worker, "--age", age)) == expected


def test_age_narrows_for_a_child(store):
    worker, everything = widest(store)
    assert 0 < len(ids(paths_json("--from", worker, "--age", 8))) < len(everything)


@pytest.mark.parametrize("times", ["Mon morning; Thu 13:00-15:00", "weekends", "Tue after 5pm"])
def test_times_keep_activities_with_an_overlapping_session_or_an_unknown_schedule(store, times):
    worker, everything = widest(store)
    props = activity_props(store)
    wanted: list[TimeSlot] = list(parse_times(times))
    expected, unknown = [], set()
    for a in everything:
        sessions = sessions_of(props[a])
        if not sessions:
            expected.append(a)
            unknown.add(a)
        elif any(s.overlaps(w) for s in sessions for w in wanted):
            expected.append(a)
    found = paths_json("--from", worker, "--times", times)
    assert ids(found) == expected
    assert {a["id"] for a in found["activities"] if a["schedule_unknown"]} == unknown
    assert len(expected) < len(everything)
    table = run("paths", "--from", worker, "--times", times).stdout
    assert table.count("not known: check") == len(unknown)


def test_times_that_cannot_be_read_get_a_plain_message(store, capsys):
    code, out, err = run_main(capsys, "paths", "--from", workers(store)[0]["id"],
                              "--times", "Thrusday afternoon")
    assert code == 1 and out == ""
    assert "--times: 'Thrusday' is not a day; did you mean Thursday?" in err


def test_self_referral_keeps_activities_someone_may_refer_themselves_to(store):
    graph = store.snapshot()
    self_targets = {v for u, v, k, d in graph.edges(keys=True, data=True)
                    if k == RelType.REFERS_TO and d.get("props", {}).get("self_referral") is True}

    def allowed(activity: str) -> bool:
        for service in sources(graph, activity, RelType.OFFERS):
            if service in self_targets:
                return True
            if any(org in self_targets for org in sources(graph, service, RelType.PROVIDES)):
                return True
        return False

    narrowed = False
    for worker in workers(store):
        everything = ids(paths_json("--from", worker["id"]))
        found = ids(paths_json("--from", worker["id"], "--self-referral"))
        assert found == [a for a in everything if allowed(a)]
        narrowed |= len(found) < len(everything)
    assert narrowed, "some worker reaches an activity nobody may refer themselves to"


# --------------------------------------------------------------------------- csv


def test_paths_csv_has_the_referral_columns_as_show_gives_them(store):
    worker, everything = widest(store)
    text = run("paths", "--from", worker, "--format", "csv", "--as-of", AS_OF).stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    for column in ("first_contact", "method", "self_referral", "typical_wait_days",
                   "reviewed_at", "review_status"):
        assert column in rows[0]
    assert [r["id"] for r in rows] == everything
    for row in rows[:8]:
        refer = how_to_refer(store, worker, row["id"], as_of=dt.date.fromisoformat(AS_OF))
        first = refer.first_step
        assert row["first_contact"] == first.contact.name
        assert row["method"] == (first.method_words if first.method else "")
        assert row["self_referral"] == {True: "yes", False: "no", None: ""}[first.self_referral]
        assert row["reviewed_at"] == (refer.freshness.date or "")
        assert row["review_status"] == refer.freshness.status


def test_paths_csv_judges_reviews_as_of_the_date_given(store):
    worker, _ = widest(store)

    def reviews(day: dt.date) -> dict[str, tuple[str, str]]:
        text = run("paths", "--from", worker, "--format", "csv", "--as-of", day).stdout
        return {r["id"]: (r["reviewed_at"], r["review_status"])
                for r in csv.DictReader(io.StringIO(text))}

    dated = sorted({d[:10] for d, _ in reviews(dt.date.fromisoformat(AS_OF)).values() if d})
    oldest, newest = dt.date.fromisoformat(dated[0]), dt.date.fromisoformat(dated[-1])
    assert oldest < newest, "the worker's options have reviews of different dates"
    year = dt.timedelta(days=REVIEW_DAYS)
    seen = {}
    for day in (oldest, oldest + year + dt.timedelta(days=1), newest + year + dt.timedelta(days=1)):
        cutoff = (day - year).isoformat()
        found = reviews(day)
        for reviewed, status in found.values():
            assert status == ("unknown" if not reviewed else
                              "stale" if reviewed[:10] < cutoff else "current"), (day, reviewed)
        seen[day] = {status for reviewed, status in found.values() if reviewed}
    assert list(seen.values()) == [{"current"}, {"current", "stale"}, {"stale"}]


EVIL = '=HYPERLINK("http://evil.example","click")'


def test_paths_csv_neutralises_formula_leading_referral_cells(tmp_path, monkeypatch):
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path / "evil-home"))
    monkeypatch.setenv("PATHWAYS_STORE", "embedded")
    folder = write_folder(tmp_path / "evil", {
        "people": [["id", "name", "role"], ["lw", "Lee Walker", "link_worker"]],
        "organisations": [["id", "name", "kind", "phone"], ["org", "Calder Arts", "cultural", "+44 1422"]],
        "services": [["id", "name", "referral_info"], ["svc", "Arts on Prescription", "@SUM(A1)"]],
        "activities": [["id", "name", "free", "venue"], ["art", "Art Club", "yes", "-1+1 hall"]],
        "relationships": [["source_id", "type", "target_id", "method", "notes"],
                          ["lw", "REFERS_TO", "svc", "email", EVIL],
                          ["org", "PROVIDES", "svc", "", ""], ["svc", "OFFERS", "art", "", ""]],
    })
    run("load", folder)
    rows = list(csv.DictReader(io.StringIO(run("paths", "--from", "Lee", "--format", "csv").stdout)))
    assert len(rows) == 1
    assert rows[0]["referral_notes"] == "'" + EVIL + "; @SUM(A1)"
    assert rows[0]["venue"] == "'-1+1 hall"
    assert rows[0]["first_contact"] == "Arts on Prescription"
    assert rows[0]["method"] == "e-mail"
