"""Needs inferred from a service's own words, when its directory gives no usable taxonomy.

The rules are a table a partnership lead can review: ``loaders/need_rules.csv``, one row per
phrase, with columns

- ``need``: the need code (:data:`loaders.need_terms.NEED_NAMES`);
- ``rule``: ``counts`` (the phrase is evidence of the need) or ``blocks`` (a wider phrase that
  cancels a ``counts`` phrase it overlaps: "carers welcome" blocks "carers");
- ``phrase``: lower-case words; a ``*`` at the end of a word matches any ending
  (``befriend*`` → befriending, befrienders);
- ``why``: a note for the reviewer.

Text is matched after :func:`normalise`: lower case, "&" → "and", every other sign a space
(so "well-being" reads "well being" and "M.E./CFS" reads "m e cfs"); sentences are kept apart,
so a phrase never spans a full stop. The rules are deliberately narrow: "wellbeing" alone is
not mental health, a concert is not creativity, a carer "welcome to attend" is not support for
carers (see ``docs/feeds.md``).

>>> [(f.need, f.evidence) for f in infer_needs([("description", "A befriending service.")])]
[('loneliness', 'befriending')]
>>> infer_needs([("description", "Carers welcome. A wellbeing hub with live music.")])
[]
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

RULES_FILE = Path(__file__).with_name("need_rules.csv")
COUNTS, BLOCKS = "counts", "blocks"
_BREAK = " | "  # sentence break kept by normalise(); no phrase can match across it
#: only the first words of each text are read: what a service is for is said first, while
#: the rest of a long description lists everything it touches ("... people with dementia,
#: mental health conditions, ..."). Measured on the Bristol dev sample (benchmarks/RESULTS.md).
LEAD_WORDS = 40


@dataclass(frozen=True)
class Rule:
    need: str
    rule: str
    phrase: str
    pattern: re.Pattern


@dataclass(frozen=True)
class InferredNeed:
    """A need found in the text: ``evidence`` is the words that matched, ``field`` where."""

    need: str
    evidence: str
    field: str


def normalise(text: str) -> str:
    """The form rules are matched in.

    >>> print(normalise("Well-being & M.E./CFS. Carer’s café!"))
    well being and m e cfs | carer's café |
    """
    text = text.lower().replace("’", "'").replace("‘", "'").replace("&", " and ")
    text = re.sub(r"[.!?;:\n\r]+(\s|$)", _BREAK, text + " ")
    text = re.sub(r"[^\w'|]+", " ", text.replace("_", " "))
    return re.sub(r"\s+", " ", text).strip()


def _compile(phrase: str) -> re.Pattern:
    words = phrase.split()
    parts = [re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w) + r"(?![\w'])"
             for w in words]
    return re.compile(r"(?<![\w'])" + r"\s+".join(parts))


def parse_rules(rows) -> tuple[Rule, ...]:
    """Rules from rows of the CSV (dicts with need, rule, phrase); bad rows raise ValueError."""
    rules = []
    for number, row in enumerate(rows, start=2):
        need, rule = (row.get("need") or "").strip(), (row.get("rule") or "").strip().lower()
        phrase = " ".join((row.get("phrase") or "").lower().split())
        if not need or not phrase or rule not in (COUNTS, BLOCKS):
            raise ValueError(f"need rules line {number}: needs a need, a phrase and a rule "
                             f"'{COUNTS}' or '{BLOCKS}'")
        rules.append(Rule(need, rule, phrase, _compile(phrase)))
    return tuple(rules)


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_FILE) -> tuple[Rule, ...]:
    with open(path, newline="", encoding="utf-8") as handle:
        return parse_rules(csv.DictReader(handle))


def partnership_rules(needs) -> tuple[Rule, ...]:
    """Rules from the ``keywords`` of a partnership's needs (``needs.csv``): each
    ``;``-separated phrase counts for its need, one starting with ``not`` blocks any
    match of that need it overlaps (``"debt advice; money worr*; not debt collection"``).  Phrases are matched as the
    shipped table's are (``*`` ends a word with any ending); empty ones are skipped.

    >>> [(r.need, r.rule, r.phrase) for r in partnership_rules(
    ...     [{"id": "debt", "keywords": "Debt advice; not debt collection"}, {"id": "x"}])]
    [('debt', 'counts', 'debt advice'), ('debt', 'blocks', 'debt collection')]
    """
    rows = []
    for need in needs:
        for raw in str(need.get("keywords") or "").split(";"):
            words = [normalise(w.rstrip("*")).replace("|", " ").strip()
                     + ("*" if w.endswith("*") else "") for w in raw.split()]
            phrase = " ".join(" ".join(words).split())
            rule = COUNTS
            if phrase.startswith("not "):
                rule, phrase = BLOCKS, phrase[4:].strip()
            if phrase:
                rows.append({"need": str(need["id"]), "rule": rule, "phrase": phrase})
    return parse_rules(rows)


def _spans(rule: Rule, text: str) -> list[tuple[int, int]]:
    return [m.span() for m in rule.pattern.finditer(text)]


def infer_needs(texts, rules: tuple[Rule, ...] | None = None,
                needs: set[str] | None = None) -> list[InferredNeed]:
    """The needs the texts give evidence of, in the rules' order, each with the earliest
    phrase that shows it (the longest, when two start together) as its evidence.

    ``texts`` is a sequence of ``(field, text)``, searched in order (name, description,
    organisation description), each only in its first :data:`LEAD_WORDS` words; ``needs``
    limits the result to those codes.
    """
    rules = load_rules() if rules is None else rules
    found: dict[str, InferredNeed] = {}
    for field, raw in texts:
        text = normalise(" ".join((raw or "").split()[:LEAD_WORDS]))
        if not text:
            continue
        blocked: dict[str, list[tuple[int, int]]] = {}
        for rule in rules:
            if rule.rule == BLOCKS:
                blocked.setdefault(rule.need, []).extend(_spans(rule, text))
        best: dict[str, tuple[int, int]] = {}  # need → earliest (then longest) match
        for rule in rules:
            if rule.rule != COUNTS or rule.need in found or (needs and rule.need not in needs):
                continue
            for start, end in _spans(rule, text):
                if any(s < end and start < e for s, e in blocked.get(rule.need, ())):
                    continue
                old = best.get(rule.need)
                if old is None or (start, -end) < (old[0], -old[1]):
                    best[rule.need] = (start, end)
                break
        for need, (start, end) in best.items():
            found[need] = InferredNeed(need, text[start:end], field)
    order = list(dict.fromkeys(r.need for r in rules))
    return sorted(found.values(), key=lambda f: order.index(f.need))
