"""Search by words: find activities, services and organisations by what their names and
descriptions say, forgiving typos ("art group", "walk", "lonliness").

Each typed word (common words such as "the" or "and" left out, unless nothing else is left)
matches a word of the data:

=============  ======  ====================================================================
match          weight  example
=============  ======  ====================================================================
the same word  1.0     ``walk`` → walk
a longer word  0.9     ``walk`` → walking, walks: a usual ending (:data:`ENDINGS`); other
               0.5     longer words ``art`` → arthritis (typed words of 3 letters or more);
                       never rarer than the typed word itself when that is a data word
a shorter one  0.8     ``walking`` → walk (the data word at least 4 letters, at most 3 fewer)
a spelling     ≤ 0.7   ``lonliness`` → loneliness, ``exersice`` → exercise: typed words of 5
                       letters or more that are not in the data and begin no data word;
                       RapidFuzz's OSA similarity (one edit in 7 letters) or Jaro-Winkler
                       similarity high enough (:data:`SPELLING_EDITS`, :data:`SPELLING_CLOSE`)
=============  ======  ====================================================================

A hit scores, for each typed word, its best match's weight times the rarity of the data word
(inverse document frequency) times 2 in the name or 1 in the description; the sum is
multiplied by the share of typed words found, so hits with every word come first.  Ties go
by name, then id.  Scores compare hits of one search only.

The words are indexed once per store, data version and set of kinds (a search box asks on
every keystroke); both stores list the same nodes, so both give the same answers.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA, JaroWinkler

from pathways.analysis.lookup import normalise, split_words
from pathways.analysis.snapshot import by_kind, cached_per_version, cached_snapshot
from pathways.errors import PathwaysError
from pathways.model import NodeKind
from pathways.store.base import GraphStore

DEFAULT_KINDS = (NodeKind.ACTIVITY, NodeKind.SERVICE, NodeKind.ORGANISATION)
MAX_LIMIT = 200
SPELLING_EDITS = 0.85  # OSA similarity: 1 - edits / length (a transposition is one edit)
SPELLING_CLOSE = 0.93  # Jaro-Winkler similarity (letters swapped a little further apart)
NAME_WEIGHT, DESCRIPTION_WEIGHT = 2.0, 1.0
SNIPPET_CHARS = 160
DESCRIPTION_CHARS = 2_000
"""Words of a description after its first this many characters are not searched (keeps the
index quick to build at 100k nodes with long directory descriptions)."""
MAX_WORDS = 12  # words of one search that are used (a pasted paragraph is cut short)
ENDINGS = frozenset({
    "s", "es", "ed", "d", "er", "ers", "r", "rs", "ing", "ings", "ist", "ists", "y", "ies",
    "ly", "ness", "ful", "ment", "ments", "al", "ion", "ions", "ive", "ity", "ic", "ics",
    "ish", "able", "ance", "ence",
})
"""Endings that make a longer word of the same meaning (walk → walks, walking, walkers)."""
STOP_WORDS = frozenset({
    "a", "about", "all", "an", "and", "any", "are", "as", "at", "be", "by", "can", "do",
    "for", "from", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "me",
    "my", "no", "not", "of", "on", "or", "our", "so", "than", "that", "the", "their",
    "them", "they", "this", "to", "up", "us", "was", "we", "were", "what", "when", "where",
    "which", "who", "will", "with", "you", "your",
})


@dataclass(frozen=True)
class SearchHit:
    """One node found: its id, kind (the NodeKind value), name, a snippet of its description
    around the first word found (or its start), the score (higher first) and the data's
    words that matched (``('loneliness',)`` for ``lonliness``)."""

    id: str
    kind: str
    name: str
    snippet: str
    score: float
    matched: tuple[str, ...]


@dataclass(frozen=True)
class SearchIndex:
    """The words of the nodes of some kinds, built by :func:`search_index`; shared, never
    modify it.  Postings are sorted numpy arrays of positions in ``ids``."""

    kinds: tuple[NodeKind, ...]
    ids: tuple[str, ...]
    node_kinds: tuple[str, ...]
    names: tuple[str, ...]
    descriptions: tuple[str, ...]
    words: tuple[str, ...]  # sorted vocabulary
    in_names: dict[str, np.ndarray]
    in_descriptions: dict[str, np.ndarray]
    rarity: dict[str, float]  # inverse document frequency
    rank: np.ndarray  # each position's place in name, then id, order (ties in score)


def words_of(text: str) -> set[str]:
    """The indexable words of a text: normalised, common words and single letters left out.

    >>> sorted(words_of("The Walking Group, for all ages!"))
    ['ages', 'group', 'walking']
    """
    return {w for w in set(split_words(text)) if len(w) > 1} - STOP_WORDS


def _build(kinds: tuple[NodeKind, ...], nodes: list[tuple[NodeKind, dict]]) -> SearchIndex:
    in_names: dict[str, list[int]] = {}
    in_descriptions: dict[str, list[int]] = {}
    seen: dict[str, int] = {}
    ids, node_kinds, names, descriptions = [], [], [], []
    for position, (kind, props) in enumerate(nodes):
        name = str(props.get("name") or "")
        description = str(props.get("description") or "")
        ids.append(props["id"])
        node_kinds.append(kind.value)
        names.append(name)
        descriptions.append(description)
        name_words = words_of(name)
        for word in name_words:
            in_names.setdefault(word, []).append(position)
        for word in words_of(description[:DESCRIPTION_CHARS]) - name_words:
            in_descriptions.setdefault(word, []).append(position)
        for word in name_words:
            seen[word] = seen.get(word, 0) + 1
    for word, found in in_descriptions.items():
        seen[word] = seen.get(word, 0) + len(found)
    total = len(ids)
    return SearchIndex(
        kinds=kinds, ids=tuple(ids), node_kinds=tuple(node_kinds), names=tuple(names),
        descriptions=tuple(descriptions), words=tuple(sorted(seen)),
        in_names={w: np.array(p, dtype=np.int32) for w, p in in_names.items()},
        in_descriptions={w: np.array(p, dtype=np.int32) for w, p in in_descriptions.items()},
        rarity={w: math.log(1 + total / n) for w, n in seen.items()},
        rank=_ranks(names, ids),
    )


def _ranks(names: list[str], ids: list[str]) -> np.ndarray:
    rank = np.empty(len(ids), dtype=np.int64)
    rank[sorted(range(len(ids)), key=lambda p: (names[p], ids[p]))] = np.arange(len(ids))
    return rank


def search_index(store: GraphStore, kinds: Sequence[NodeKind] = DEFAULT_KINDS) -> SearchIndex:
    """The :class:`SearchIndex` of ``kinds``, built once per store and data version."""
    wanted = tuple(sorted(set(kinds), key=lambda k: k.value))

    def compute() -> SearchIndex:
        # From the analyses' snapshot (read once per version, the Warmer's first step), not
        # the store again: on Neo4j at 100k, listing the three kinds' 95k nodes sorted by the
        # server cost more wall time than the whole search index (benchmarks/warm.py).  Its
        # nodes' properties are the store's; each kind sorted by name, then id, as
        # GraphStore.list_nodes sorts them.
        graph = cached_snapshot(store)
        attrs = graph._node  # type: ignore[attr-defined]  # networkx's own dict
        sorted_ids = by_kind(graph)
        return _build(wanted, [(kind, attrs[node]["props"])
                               for kind in wanted for node in sorted_ids[kind]])

    return cached_per_version(store, ("search_index", wanted), compute)


def _matches(index: SearchIndex, typed: str) -> dict[str, float]:
    """Data words a typed word matches, with the weight of each match (see the module)."""
    found: dict[str, float] = {}
    if typed in index.rarity:
        found[typed] = 1.0
    if len(typed) >= 3:
        start = bisect.bisect_left(index.words, typed)
        for word in index.words[start:]:
            if not word.startswith(typed):
                break
            if word != typed:
                weight = 0.9 if word[len(typed):] in ENDINGS else 0.5
                found[word] = max(found.get(word, 0.0), weight)
    known = bool(found)  # the word itself, or words it begins: no spellings needed
    for cut in range(max(4, len(typed) - 3), len(typed)):
        stem = typed[:cut]
        if stem in index.rarity:
            found[stem] = max(found.get(stem, 0.0), 0.8)
    if len(typed) >= 5 and not known:
        for word, close, _ in process.extract(typed, index.words,
                                              scorer=JaroWinkler.normalized_similarity,
                                              score_cutoff=0.8, limit=20):
            edits = OSA.normalized_similarity(typed, word)
            if (edits >= SPELLING_EDITS or close >= SPELLING_CLOSE) and word not in found:
                found[word] = 0.7 * max(edits, close)
    return found


def _snippet(description: str, matched: set[str]) -> str:
    text = " ".join(description.split())
    if not text:
        return ""
    start = 0
    for word in re.finditer(r"\w+", text):
        if normalise(word.group()) in matched:
            start = word.start()
            break
    if len(text) <= SNIPPET_CHARS:
        return text
    begin = max(0, start - SNIPPET_CHARS // 3)
    if begin:
        space = text.find(" ", begin)
        begin = space + 1 if 0 <= space < start else begin
    end = min(len(text), begin + SNIPPET_CHARS)
    if end < len(text):
        space = text.rfind(" ", begin, end)
        end = space if space > start else end
    return ("…" if begin else "") + text[begin:end] + ("…" if end < len(text) else "")


def search(
    store: GraphStore,
    words: str,
    kinds: Sequence[NodeKind] = DEFAULT_KINDS,
    limit: int = 20,
) -> list[SearchHit]:
    """Nodes of ``kinds`` whose names and descriptions match ``words``, best first.

    Parameters
    ----------
    store : GraphStore
        Either store; both give the same answer.
    words : str
        What a person typed ("art group", "lonliness").  Blank gives no hits.
    kinds : sequence of NodeKind
        Which kinds to search (default activities, services and organisations).
    limit : int
        At most this many hits, 1 to :data:`MAX_LIMIT`.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise PathwaysError(f"the number of results must be between 1 and {MAX_LIMIT}, not {limit}")
    if not kinds:
        raise PathwaysError("choose at least one kind of thing to search")
    typed = normalise(words or "").split()
    wanted = [w for w in typed if w not in STOP_WORDS and len(w) > 1] or typed
    wanted = list(dict.fromkeys(wanted))[:MAX_WORDS]
    if not wanted:
        return []
    index = search_index(store, kinds)
    count = len(index.ids)
    totals = np.zeros(count)
    found = np.zeros(count, dtype=np.int32)
    per_word: list[list[tuple[float, str, np.ndarray]]] = []
    for word in wanted:
        best = np.zeros(count)
        entries = []
        own = index.rarity.get(word)
        for data_word, weight in _matches(index, word).items():
            # a longer word is never worth more than the typed word itself: 'art' finds
            # 'arthritis', but a rare word must not outrank the common one asked for
            rarity = index.rarity[data_word] if own is None else min(own, index.rarity[data_word])
            for postings, field in ((index.in_names.get(data_word), NAME_WEIGHT),
                                    (index.in_descriptions.get(data_word), DESCRIPTION_WEIGHT)):
                if postings is not None:
                    value = weight * rarity * field
                    entries.append((value, data_word, postings))
                    best[postings] = np.maximum(best[postings], value)  # positions are unique
        per_word.append(entries)
        totals += best
        found += best > 0
    hit = np.flatnonzero(found)
    scores = np.round(totals[hit] * found[hit] / len(wanted), 6)
    if hit.size > limit:  # only the best (and those tied with the last) are sorted
        floor = np.partition(scores, hit.size - limit)[hit.size - limit]
        keep = scores >= floor
        hit, scores = hit[keep], scores[keep]
    order = np.lexsort((index.rank[hit], -scores))[:limit]  # score, then name, then id
    return [SearchHit(index.ids[p], index.node_kinds[p], index.names[p],
                      _snippet(index.descriptions[p], matched), score, tuple(sorted(matched)))
            for p, score in zip(hit[order].tolist(), scores[order].tolist(), strict=True)
            for matched in [_matched_words(per_word, p)]]


def _matched_words(per_word: list[list[tuple[float, str, np.ndarray]]], position: int) -> set[str]:
    """For each typed word, the data word that gave ``position`` its best value."""
    matched = set()
    for entries in per_word:
        best_value, best_word = 0.0, None
        for value, data_word, postings in entries:  # postings are sorted positions
            at = int(np.searchsorted(postings, position))
            if value > best_value and at < postings.size and postings[at] == position:
                best_value, best_word = value, data_word
        if best_word is not None:
            matched.add(best_word)
    return matched
