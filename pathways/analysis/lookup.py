"""Names wherever ids are accepted: turn what a person typed into the id it means.

A link worker types ``Pat Example``, ``North Halifax``, ``lonliness`` or ``stepfree``, not
``person-lw-pat-example``.  :func:`resolve` accepts, in this order:

1. an exact id of the kind asked for;
2. an exact name or id, ignoring case, accents, spaces, ``-`` and ``_``
   (``step free``, ``stepfree`` and ``Step-Free`` all mean ``step_free``);
3. the start of every word of one name (``pat`` → Pat Example, ``north hal`` → North Halifax);
4. one close spelling (``lonliness`` → loneliness), by RapidFuzz's edit-distance ratio.

Several matches at the first step that finds any raise :class:`AmbiguousNameError` listing
them; none raise :class:`UnknownNameError` with "did you mean" and, when there are few, every
valid choice.  Nothing is guessed between several close spellings.

The names of a kind are indexed once per store and data version (a page asks on every
keystroke; at 100k nodes the index takes a fraction of a second to build and a lookup a few
milliseconds).  Both stores list the same nodes, so both give the same answers.

>>> normalise("  Step-Free_access ") , compact("Step-Free")
('step free access', 'stepfree')
"""

from __future__ import annotations

import bisect
import dataclasses
import heapq
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler

from pathways.analysis.snapshot import cached_already, cached_per_version
from pathways.errors import AmbiguousNameError, Candidate, UnknownNameError
from pathways.model import COMMON_ACCESS_TAGS, NodeKind, PersonRole
from pathways.store.base import GraphStore, PathwayFilter

ACCESS: Literal["access"] = "access"
"""The 'kind' of accessibility tags, which are values on activities, not nodes."""
LookupKind = NodeKind | Literal["access"]

ACCEPT_SCORE = 80.0
"""A close spelling is taken when it alone scores this much (RapidFuzz ratio, 0-100)."""
SUGGEST_SCORE = 60.0
"""Names scoring this much (RapidFuzz WRatio) are offered as "did you mean"."""
SUGGEST_WORD_SCORE = 85.0
"""Names with a word this close to a typed word (Jaro-Winkler, which favours a shared start:
``lonely`` ~ ``loneliness``, not ``money``) are offered too."""
MAX_CANDIDATES = 50
"""At most this many candidates are kept in an :class:`AmbiguousNameError` (it says how many
matched in all); a close spelling is looked for among this many per field."""
LIST_CHOICES_UP_TO = 30
"""Every valid choice is listed in the error when a kind has at most this many."""

_SINGULAR = {
    NodeKind.PERSON: "person", NodeKind.ORGANISATION: "organisation",
    NodeKind.SERVICE: "service", NodeKind.ACTIVITY: "activity", NodeKind.LOCALITY: "locality",
    NodeKind.NEED: "need", NodeKind.NETWORK: "network", NodeKind.FUNDER: "funder",
}
_WORD = re.compile(r"[^\W_]+")  # a run of letters and digits
_ACCENTS = re.compile("[\u0300-\u036f]+")  # combining diacritical marks, once decomposed


def split_words(text: str) -> list[str]:
    """The words of ``text``, lower case, accents dropped: letters and digits only."""
    if not text.isascii():  # accents: only when there can be any (a long text's fast path)
        text = _ACCENTS.sub("", unicodedata.normalize("NFKD", text))
    return _WORD.findall(text.casefold())


def normalise(text: str) -> str:
    """Lower case, accents dropped, anything but letters and digits one space."""
    return " ".join(split_words(text))


def compact(text: str) -> str:
    """:func:`normalise` without spaces: ``stepfree`` is ``step free``."""
    return normalise(text).replace(" ", "")


def kind_words(kind: LookupKind, role: str | None = None) -> tuple[str, str]:
    """(singular, plural) words for messages: ``('link worker', 'link workers')``."""
    if kind == ACCESS:
        return "access tag", "access tags"
    if role:
        word = role.replace("_", " ")
        return word, word + "s"
    assert isinstance(kind, NodeKind)
    return _SINGULAR[kind], kind.table


@dataclass(frozen=True)
class Match:
    """What a typed text was taken to mean, and how (for "using X" messages).

    ``how`` is ``id``, ``name`` (exact, ignoring case and spacing), ``words`` (the start of
    every word) or ``spelling`` (one close spelling; ``score`` says how close, 0-100).
    """

    id: str
    name: str
    how: Literal["id", "name", "words", "spelling"]
    score: float = 100.0


@dataclass(frozen=True)
class NameIndex:
    """The names of one kind (people of one role, or access tags), ready to look up.

    Built by :func:`name_index`; shared between requests, so never modify it.
    """

    kind: LookupKind
    role: str | None
    ids: tuple[str, ...]
    names: tuple[str, ...]
    by_id: dict[str, int]
    exact: dict[str, tuple[int, ...]]  # normalised / compact name or id -> positions
    norm_names: tuple[str, ...]
    norm_ids: tuple[str, ...]
    words: tuple[str, ...]  # every distinct word of every name, sorted (for prefixes)
    word_entries: dict[str, frozenset[int]]

    def candidate(self, position: int) -> Candidate:
        return Candidate(self.ids[position], self.names[position])

    def __len__(self) -> int:
        return len(self.ids)


def _build_index(kind: LookupKind, role: str | None, pairs: Iterable[tuple[str, str]]) -> NameIndex:
    ids: list[str] = []
    names: list[str] = []
    for node_id, name in pairs:
        ids.append(node_id)
        names.append(name)
    norm_names = tuple(normalise(n) for n in names)
    norm_ids = tuple(normalise(i) for i in ids)
    exact: dict[str, list[int]] = {}
    word_entries: dict[str, set[int]] = {}
    for position, (name, node_id) in enumerate(zip(norm_names, norm_ids, strict=True)):
        for key in {name, node_id, name.replace(" ", ""), node_id.replace(" ", "")}:
            if key:
                exact.setdefault(key, []).append(position)
        for word in name.split():
            word_entries.setdefault(word, set()).add(position)
    return NameIndex(
        kind=kind, role=role, ids=tuple(ids), names=tuple(names),
        by_id={node_id: position for position, node_id in enumerate(ids)},
        exact={key: tuple(found) for key, found in exact.items()},
        norm_names=norm_names, norm_ids=norm_ids,
        words=tuple(sorted(word_entries)),
        word_entries={word: frozenset(found) for word, found in word_entries.items()},
    )


def access_tags(store: GraphStore) -> tuple[str, ...]:
    """Every accessibility tag a link worker can filter on: the suggested ones and every tag
    found on an activity, sorted.  Once per data version."""
    def compute() -> tuple[str, ...]:
        tags = set(COMMON_ACCESS_TAGS)
        for activity in store.list_nodes(NodeKind.ACTIVITY):
            tags.update(activity.get("accessibility") or [])
        return tuple(sorted(tags))

    return cached_per_version(store, "access_tags", compute)


def name_index(store: GraphStore, kind: LookupKind, role: str | None = None) -> NameIndex:
    """The :class:`NameIndex` of ``kind`` (people of ``role`` only, if given), built once per
    store and data version."""
    def compute() -> NameIndex:
        if kind == ACCESS:
            pairs: Iterable[tuple[str, str]] = ((t, t.replace("_", " ")) for t in access_tags(store))
        else:
            assert isinstance(kind, NodeKind)
            pairs = ((n["id"], n["name"]) for n in store.list_nodes(kind, role))
        return _build_index(kind, role, pairs)

    return cached_per_version(store, ("name_index", kind, role), compute)


def _words_match(index: NameIndex, words: list[str]) -> set[int]:
    """Positions of the names that have, for every typed word, a word starting with it."""
    found: set[int] | None = None
    for word in words:
        start = bisect.bisect_left(index.words, word)
        here: set[int] = set()
        for name_word in index.words[start:]:
            if not name_word.startswith(word):
                break
            here |= index.word_entries[name_word]
        found = here if found is None else found & here
        if not found:
            return set()
    return found or set()


def _spellings(index: NameIndex, typed: str, scorer, cutoff: float, limit: int | None,
               ids: bool = True) -> dict[int, float]:
    """Best score per position over names (and ids) (RapidFuzz, C++: fast at 100k names)."""
    best: dict[int, float] = {}
    for choices in (index.norm_names, index.norm_ids) if ids else (index.norm_names,):
        for _choice, score, position in process.extract(typed, choices, scorer=scorer,
                                                         score_cutoff=cutoff, limit=limit):
            if score > best.get(position, -1.0):
                best[position] = score
    return best


def _close_words(index: NameIndex, words: list[str]) -> dict[int, float]:
    """Names with a word spelt like one of the typed words (``lonely`` ~ ``loneliness``)."""
    best: dict[int, float] = {}
    for word in words:
        if len(word) < 3:
            continue
        for name_word, score, _ in process.extract(
                word, index.words, scorer=JaroWinkler.normalized_similarity,
                score_cutoff=SUGGEST_WORD_SCORE / 100, limit=20):
            for position in index.word_entries[name_word]:
                best[position] = max(score * 100, best.get(position, 0.0))
    return best


def _ordered(index: NameIndex, positions: Iterable[int]) -> tuple[Candidate, ...]:
    """The first :data:`MAX_CANDIDATES` by name, then id."""
    first = heapq.nsmallest(MAX_CANDIDATES, positions, key=lambda p: (index.names[p], index.ids[p]))
    return tuple(index.candidate(p) for p in first)


def _ambiguous(index: NameIndex, typed: str, found: set[int] | dict[int, float],
               at_least: bool = False) -> AmbiguousNameError:
    plural = kind_words(index.kind, index.role)[1]
    return AmbiguousNameError(typed, plural, _ordered(index, found), len(found), at_least)


def match_in(index: NameIndex, text: str) -> Match:
    """:func:`resolve_match` on an index already built (see the module's rules)."""
    singular = kind_words(index.kind, index.role)[0]
    typed = text.strip() if isinstance(text, str) else ""
    if typed in index.by_id:
        position = index.by_id[typed]
        return Match(typed, index.names[position], "id")
    wanted = normalise(typed)
    if not wanted:
        raise UnknownNameError(typed, singular, (), _choices(index))
    steps: tuple[tuple[Literal["name", "words"], set[int]], ...] = (
        ("name", set(index.exact.get(wanted, ())) | set(index.exact.get(wanted.replace(" ", ""), ()))),
        ("words", _words_match(index, wanted.split())),
    )
    for how, found in steps:
        if len(found) == 1:
            position = next(iter(found))
            return Match(index.ids[position], index.names[position], how)
        if found:
            raise _ambiguous(index, typed, found)
    close = _spellings(index, wanted, fuzz.ratio, ACCEPT_SCORE, MAX_CANDIDATES)
    reordered = _spellings(index, wanted, fuzz.token_sort_ratio, ACCEPT_SCORE, MAX_CANDIDATES,
                           ids=False)  # "Example Pat"
    for position, score in reordered.items():
        close[position] = max(score, close.get(position, 0.0))
    if len(close) == 1:
        position, score = next(iter(close.items()))
        return Match(index.ids[position], index.names[position], "spelling", score)
    if close:  # close spellings are looked for among the best MAX_CANDIDATES only
        raise _ambiguous(index, typed, close, at_least=len(close) >= MAX_CANDIDATES)
    near = _spellings(index, wanted, fuzz.WRatio, SUGGEST_SCORE, 5, ids=False)
    for position, score in _close_words(index, wanted.split()).items():
        near[position] = max(score, near.get(position, 0.0))
    ranked = sorted(near, key=lambda p: (-near[p], index.names[p], index.ids[p]))[:5]
    raise UnknownNameError(typed, singular, tuple(index.candidate(p) for p in ranked),
                           _choices(index))


def _choices(index: NameIndex) -> tuple[Candidate, ...]:
    if len(index) > LIST_CHOICES_UP_TO:
        return ()
    return _ordered(index, range(len(index)))


def resolve_match(store: GraphStore, kind: LookupKind, text: str, role: str | None = None) -> Match:
    """What ``text`` means among the nodes of ``kind`` (or access tags), and how it matched.

    Parameters
    ----------
    store : GraphStore
        Either store; both give the same answer.
    kind : NodeKind or ``"access"``
        What is being named; :data:`ACCESS` for accessibility tags.
    text : str
        An id, a name, the start of a name's words, or a close spelling.
    role : str, optional
        For people: only people of this role (``"link_worker"``).

    Raises
    ------
    AmbiguousNameError
        Several nodes match equally well; the message lists them.
    UnknownNameError
        Nothing matches; the message says "did you mean" and, when few, every choice.

    While the kind's name index is not built yet (1.3 s at 100k activities, a read of every
    one of them on Neo4j), an exact id of ``kind`` (and ``role``) is looked up on its own: the
    index's first rule gives the same answer.  Once it is built, the index answers alone (no
    query per name typed).
    """
    index = cached_already(store, ("name_index", kind, role))
    if index is None:
        typed = text.strip() if isinstance(text, str) else ""
        if typed and isinstance(kind, NodeKind):
            found = store.get_node(typed)
            if (found is not None and found[0] == kind
                    and (role is None or found[1].get("role") == role)):
                return Match(typed, found[1]["name"], "id")
        index = name_index(store, kind, role)
    return match_in(index, text)


def resolve(store: GraphStore, kind: LookupKind, text: str, role: str | None = None) -> str:
    """The id ``text`` means among the nodes of ``kind`` (see :func:`resolve_match`)."""
    return resolve_match(store, kind, text, role).id


def resolve_link_worker(store: GraphStore, text: str) -> str:
    """The id of the link worker ``text`` names (id, name, or the start of the name)."""
    return resolve(store, NodeKind.PERSON, text, PersonRole.LINK_WORKER.value)


def resolve_filter(store: GraphStore, where: PathwayFilter) -> PathwayFilter:
    """``where`` with its needs, locality and access tags turned from names into ids
    (other fields kept as they are).  Raises as :func:`resolve` does, for the first bad one."""
    changes: dict = {
        "needs": tuple(dict.fromkeys(resolve(store, NodeKind.NEED, n) for n in where.needs)),
        "access": tuple(dict.fromkeys(resolve(store, ACCESS, t) for t in where.access)),
    }
    if where.locality is not None:
        changes["locality"] = resolve(store, NodeKind.LOCALITY, where.locality)
    return dataclasses.replace(where, **changes)
