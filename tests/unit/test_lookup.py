"""Names wherever ids are accepted (issue 14 item 3): ids, names, word starts and close
spellings resolve; several matches or none give a message a link worker can act on."""

from __future__ import annotations

import pytest

from pathways.analysis.lookup import (
    ACCESS,
    LIST_CHOICES_UP_TO,
    normalise,
    resolve,
    resolve_filter,
    resolve_link_worker,
    resolve_match,
)
from pathways.analysis.search import SNIPPET_CHARS, search
from pathways.errors import (
    AmbiguousNameError,
    PathwaysError,
    UnknownIdError,
    UnknownNameError,
)
from pathways.loading import load_paths
from pathways.model import COMMON_ACCESS_TAGS, NodeKind
from pathways.store.base import PathwayFilter
from pathways.store.embedded import EmbeddedStore
from tests.conftest import load_data

PLACES = {
    "localities": [
        {"id": "loc-nh", "name": "North Halifax"},
        {"id": "loc-ch", "name": "Central Halifax"},
        {"id": "loc-tod", "name": "Todmorden"},
        {"id": "loc-elland", "name": "Elland"},
    ],
    "needs": [
        {"id": "loneliness", "name": "Loneliness and isolation"},
        {"id": "mental_health", "name": "Mental health and wellbeing"},
        {"id": "practical_financial", "name": "Money and practical help"},
    ],
    "people": [
        {"id": "lw-pat", "name": "Pat Example", "role": "link_worker"},
        {"id": "lw-sam", "name": "Sam Jones", "role": "link_worker"},
        {"id": "pr-pat", "name": "Pat Example", "role": "practitioner"},
    ],
    "activities": [
        {"id": "act-1", "name": "Choir", "accessibility": "step_free;induction_loop"},
        {"id": "act-2", "name": "Chair Yoga"},
    ],
}


@pytest.fixture
def places(tmp_path) -> EmbeddedStore:
    store = EmbeddedStore(tmp_path / "graph.json")
    load_data(store, PLACES)
    return store


def test_exact_id_and_name_ignoring_case_spacing_and_underscores(places):
    assert resolve(places, NodeKind.LOCALITY, "loc-nh") == "loc-nh"
    assert resolve(places, NodeKind.LOCALITY, "  north   HALIFAX ") == "loc-nh"
    assert resolve(places, NodeKind.NEED, "Mental Health") == "mental_health"  # its id in words
    assert resolve_match(places, NodeKind.LOCALITY, "Todmorden").how == "name"


def test_the_start_of_each_word_of_one_name_is_enough(places):
    assert resolve(places, NodeKind.LOCALITY, "north hal") == "loc-nh"
    assert resolve(places, NodeKind.NEED, "money") == "practical_financial"
    assert resolve_match(places, NodeKind.LOCALITY, "tod").how == "words"


def test_a_name_shared_by_several_lists_every_candidate(places):
    with pytest.raises(AmbiguousNameError) as caught:
        resolve(places, NodeKind.LOCALITY, "Halifax")
    assert {c.id for c in caught.value.candidates} == {"loc-nh", "loc-ch"}
    message = str(caught.value)
    assert "'Halifax' matches 2 localities" in message
    assert "North Halifax (loc-nh)" in message and "Central Halifax (loc-ch)" in message


def test_one_close_spelling_is_taken_and_says_so(places):
    found = resolve_match(places, NodeKind.NEED, "lonliness")
    assert (found.id, found.how) == ("loneliness", "spelling")
    assert resolve(places, NodeKind.LOCALITY, "Todmordon") == "loc-tod"
    assert resolve(places, NodeKind.LOCALITY, "Ellend") == "loc-elland"


def test_unknown_name_says_did_you_mean_and_lists_the_choices_when_few(places):
    with pytest.raises(UnknownNameError) as caught:
        resolve(places, NodeKind.NEED, "lonely people")
    error = caught.value
    assert isinstance(error, UnknownIdError)  # handled wherever unknown ids are
    assert error.suggestions and error.suggestions[0].id == "loneliness"
    assert {c.id for c in error.choices} == {"loneliness", "mental_health", "practical_financial"}
    assert "did you mean Loneliness and isolation (loneliness)?" in str(error)
    with pytest.raises(UnknownNameError, match="no locality called 'Leeds'"):
        resolve(places, NodeKind.LOCALITY, "Leeds")


def test_choices_are_not_listed_when_there_are_too_many(tmp_path):
    store = EmbeddedStore(tmp_path / "graph.json")
    many = LIST_CHOICES_UP_TO + 1
    load_data(store, {"localities": [{"id": f"loc-{n}", "name": f"Ward {n}"} for n in range(many)]})
    with pytest.raises(UnknownNameError) as caught:
        resolve(store, NodeKind.LOCALITY, "Leeds")
    assert caught.value.choices == ()
    assert "Choose one of" not in str(caught.value)


def test_a_link_worker_is_named_among_link_workers_only(places):
    assert resolve_link_worker(places, "Pat Example") == "lw-pat"  # not the practitioner
    assert resolve_link_worker(places, "sam") == "lw-sam"
    with pytest.raises(UnknownNameError, match="no link worker called"):
        resolve_link_worker(places, "pr-pat")
    with pytest.raises(AmbiguousNameError):  # a person of any role: two Pat Examples
        resolve(places, NodeKind.PERSON, "Pat Example")


def test_access_tags_accept_spellings_and_tags_found_only_in_the_data(places):
    assert resolve(places, ACCESS, "stepfree") == "step_free"
    assert resolve(places, ACCESS, "Step-Free") == "step_free"
    assert resolve(places, ACCESS, "induction loop") == "induction_loop"  # not a suggested tag
    assert resolve(places, ACCESS, "wheelchair") == "wheelchair_accessible"
    with pytest.raises(UnknownNameError) as caught:
        resolve(places, ACCESS, "lift")
    assert {c.id for c in caught.value.choices} == set(COMMON_ACCESS_TAGS) | {"induction_loop"}


def test_two_close_spellings_are_not_guessed_between(tmp_path):
    store = EmbeddedStore(tmp_path / "graph.json")
    load_data(store, {"localities": [{"id": "a", "name": "Brighouse"},
                                     {"id": "b", "name": "Brighoose"}]})
    with pytest.raises(AmbiguousNameError) as caught:
        resolve(store, NodeKind.LOCALITY, "Brighuse")
    assert {c.id for c in caught.value.candidates} == {"a", "b"}


def test_an_empty_name_is_refused_with_the_choices(places):
    with pytest.raises(UnknownNameError) as caught:
        resolve(places, NodeKind.LOCALITY, "   ")
    assert len(caught.value.choices) == 4


def test_a_filter_of_names_becomes_a_filter_of_ids(places):
    where = PathwayFilter(needs=("lonliness", "money"), locality="north halifax",
                          free_only=True, access=("stepfree",))
    assert resolve_filter(places, where) == PathwayFilter(
        needs=("loneliness", "practical_financial"), locality="loc-nh", free_only=True,
        access=("step_free",))
    with pytest.raises(UnknownNameError, match="no need called 'gardening'"):
        resolve_filter(places, PathwayFilter(needs=("gardening",)))


def test_names_loaded_later_are_found_at_once(places):
    with pytest.raises(UnknownNameError):
        resolve(places, NodeKind.LOCALITY, "Brighouse")
    load_data(places, {"localities": [{"id": "loc-brig", "name": "Brighouse"}]})
    assert resolve(places, NodeKind.LOCALITY, "Brighouse") == "loc-brig"


def test_normalise_drops_accents_case_and_punctuation():
    assert normalise("Café  Crème—Club_x") == "cafe creme club x"


# ---- search by words -----------------------------------------------------------------------

WORDS = {
    "organisations": [{"id": "org-walk", "name": "Valley Walkers", "kind": "voluntary_community",
                       "description": "Volunteers who lead walking groups."}],
    "services": [
        {"id": "svc-friends", "name": "Befriending",
         "description": "Volunteers visit people who feel lonely; we tackle loneliness together."},
        {"id": "svc-talk", "name": "Talking Cafe", "description": "A cafe for a chat."},
    ],
    "activities": [
        {"id": "act-art-group", "name": "Art Group", "description": "Painting together."},
        {"id": "act-art-alone", "name": "Art at Home", "description": "Art packs posted out."},
        {"id": "act-group", "name": "Knitting Group", "description": "Bring your needles."},
        {"id": "act-health-walk", "name": "Health Walk",
         "description": "A gentle hour on the flat; an art group meets after the walk."},
        {"id": "act-walking", "name": "Nordic Walking", "description": "Poles lent."},
        {"id": "act-chair", "name": "Chair Exercise", "description": "Seated exercise class."},
        {"id": "act-long", "name": "Reading Circle",
         "description": "A monthly circle. " + "Books are lent and tea is served. " * 12
                        + "Everyone is welcome, including people who feel lonely."},
    ],
}


@pytest.fixture
def words(tmp_path) -> EmbeddedStore:
    store = EmbeddedStore(tmp_path / "graph.json")
    load_data(store, WORDS)
    return store


def ids_of(hits) -> list[str]:
    return [h.id for h in hits]


def test_search_puts_hits_with_every_word_first_and_names_before_descriptions(words):
    hits = search(words, "art group")
    assert ids_of(hits)[:2] == ["act-art-group", "act-health-walk"]  # both words; name first
    assert set(ids_of(hits)) >= {"act-art-alone", "act-group"}  # one word each, after
    assert hits[0].matched == ("art", "group") and hits[0].kind == "Activity"
    assert hits[0].score > hits[1].score > hits[2].score


def test_search_finds_longer_forms_of_a_word_and_shorter_ones(words):
    assert set(ids_of(search(words, "walk"))) == {"act-health-walk", "act-walking", "org-walk"}
    walking = search(words, "walking")
    assert ids_of(walking)[0] in {"act-walking", "org-walk"}
    assert "act-health-walk" in ids_of(walking)  # 'walk' is the same word, shorter
    assert "svc-talk" not in ids_of(walking)  # a word in the data is not taken for a typo


def test_search_forgives_typos_but_only_for_words_not_in_the_data(words):
    lonely = search(words, "lonliness")
    assert ids_of(lonely) == ["svc-friends"] and lonely[0].matched == ("loneliness",)
    assert ids_of(search(words, "chair exersice"))[0] == "act-chair"
    assert search(words, "zebra") == []


def test_search_snippet_shows_the_words_found(words):
    (hit,) = [h for h in search(words, "lonely") if h.id == "act-long"]
    assert "lonely" in hit.snippet and hit.snippet.startswith("…")
    assert len(hit.snippet) <= SNIPPET_CHARS + 2
    assert search(words, "knitting")[0].snippet == "Bring your needles."


def test_search_by_kind_and_limit(words):
    assert {h.kind for h in search(words, "walk", kinds=(NodeKind.ORGANISATION,))} == {
        "Organisation"}
    assert len(search(words, "group", limit=2)) == 2
    with pytest.raises(PathwaysError, match="between 1 and"):
        search(words, "group", limit=0)
    assert search(words, "   ") == []


def test_search_sees_data_loaded_later(words):
    assert search(words, "ukulele") == []
    load_data(words, {"activities": [{"id": "act-ukulele", "name": "Ukulele Club"}]})
    assert ids_of(search(words, "ukulele")) == ["act-ukulele"]


def test_search_on_the_demo_data_finds_what_a_link_worker_types(tmp_path, demo_dir):
    store = EmbeddedStore(tmp_path / "graph.json")
    load_paths(store, [demo_dir])
    for typed, stem in (("walk", "walk"), ("art group", "art"), ("lonliness", "lonel"),
                        ("singing", "sing"), ("money advice", "money")):
        hits = search(store, typed)
        assert hits, typed
        top = hits[0]
        props = store.get_node(top.id)[1]
        assert stem in normalise(f"{props['name']} {props.get('description', '')}"), typed
