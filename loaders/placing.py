"""Placing activities in the partnership's localities (see ``docs/feeds.md``, "Placing
activities").

An activity from a feed or the Living Database is placed IN a locality by the first rule
that gives exactly one locality:

1. **postcode in the address**: the locality whose ``postcodes`` list holds the longest
   prefix (sector, then district) of the address's postcode.  A fact: not inferred.
2. **town in the address**: the address's town or area equals a locality's name (case and
   spacing aside).  Inferred, with the town as evidence.
3. **postcode in the text** (location name, street, description): as rule 1.  Inferred,
   with the postcode as evidence.
4. **place name in the text**: one locality's name appears in the text as whole words.
   Inferred, with the name as evidence.

Two localities that list the same longest prefix, or two names in one text, place nothing:
the activity is reported as not placed, with why.  Pure: no files, no store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from loaders.postcodes import postcode_prefixes

#: a whole UK postcode inside free text, in capitals as printed (``HX7 8AB``, ``HX78AB``):
#: not any case, or "Room B2 1st floor" would be postcode B2 1ST
_POSTCODE_IN_TEXT = re.compile(
    r"\b(?:[A-Z]{1,2}[0-9][A-Z0-9]?|[A-Z]{2}[0-9]) ?[0-9][A-Z]{2}\b")
# names too common as words to place anything by themselves
_TOO_COMMON = frozenset({"central", "north", "south", "east", "west", "online", "home", "the",
                         "centre", "town", "city", "village", "area", "borough"})


def postcode_in_text(text: str) -> str:
    """The first whole postcode in a text, as written; ``''`` when there is none.

    >>> postcode_in_text("Artworks studio, 4 Mill St, Halifax HX1 2AB")
    'HX1 2AB'
    """
    match = _POSTCODE_IN_TEXT.search(text)
    return match.group() if match else ""


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


@dataclass(frozen=True)
class Placement:
    """Where an activity goes: ``locality`` (an id), or ``None`` with ``reason`` saying why.

    ``inferred`` and ``evidence`` go on the ``LOCATED_IN`` relationship when inferred, as on
    an inferred ``ADDRESSES``; ``rule`` is ``postcode``, ``town``, ``postcode-in-text`` or
    ``name-in-text``.
    """

    locality: str | None
    rule: str = ""
    evidence: str = ""
    reason: str = ""

    @property
    def inferred(self) -> bool:
        return self.locality is not None and self.rule != "postcode"

    def rel_props(self) -> dict:
        """The ``LOCATED_IN`` properties: none for a postcode in the address."""
        return {"inferred": True, "evidence": self.evidence} if self.inferred else {}


@dataclass
class Placer:
    """The partnership's localities, indexed by postcode prefix and by name.

    ``localities`` are dicts with ``id``, ``name`` and ``postcodes`` (a list, or a
    ``;``-separated text); localities without postcodes are still placed into by name.
    """

    localities: Iterable[Mapping] = ()
    by_prefix: dict[str, list[str]] = field(default_factory=dict, init=False)
    by_name: dict[str, list[str]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for place in self.localities:
            node_id, name = str(place.get("id") or ""), str(place.get("name") or "")
            if not node_id:
                continue
            listed = place.get("postcodes") or []
            if isinstance(listed, str):
                listed = listed.split(";")
            for prefix in listed:
                value = re.sub(r"\s+", " ", str(prefix).strip().upper())
                if value and node_id not in self.by_prefix.get(value, []):
                    self.by_prefix.setdefault(value, []).append(node_id)
            key = _key(name)
            if key and key not in _TOO_COMMON and node_id not in self.by_name.get(key, []):
                self.by_name.setdefault(key, []).append(node_id)
        self._names = (re.compile(r"\b(" + "|".join(
            re.escape(k).replace(r"\ ", r"[^a-z0-9]+")
            for k in sorted(self.by_name, key=len, reverse=True)) + r")\b")
            if self.by_name else None)

    @property
    def has_postcodes(self) -> bool:
        """Whether any locality lists postcodes (then no town locality is made up)."""
        return bool(self.by_prefix)

    def by_postcode(self, postcode: str) -> tuple[str | None, str, str]:
        """``(locality, prefix, why not)`` for a postcode, longest listed prefix first."""
        for prefix in postcode_prefixes(postcode):
            found = self.by_prefix.get(prefix, [])
            if len(found) == 1:
                return found[0], prefix, ""
            if len(found) > 1:
                return None, prefix, (f"{len(found)} localities list {prefix}"
                                      f" ({', '.join(sorted(found))})")
        return None, "", ""

    def by_town(self, town: str) -> str | None:
        found = self.by_name.get(_key(town), [])
        return found[0] if len(found) == 1 else None

    def place(self, postcode: str = "", town: str = "", texts: Iterable[str] = ()
              ) -> Placement:
        """The first rule (module docstring) that gives exactly one locality."""
        why: list[str] = []
        if postcode.strip():
            locality, _prefix, trouble = self.by_postcode(postcode)
            if locality:
                return Placement(locality, "postcode", f"postcode {postcode.strip().upper()}")
            why.append(trouble or f"no locality lists postcode {postcode.strip().upper()}")
        if town.strip():
            locality = self.by_town(town)
            if locality:
                return Placement(locality, "town", f"town in the address: {town.strip()!r}")
            why.append(f"no locality is called {town.strip()!r}")
        text = " \n ".join(t for t in texts if t)
        for match in _POSTCODE_IN_TEXT.finditer(text):
            locality, _prefix, trouble = self.by_postcode(match.group())
            if locality:
                return Placement(locality, "postcode-in-text",
                                 f"postcode in the text: {match.group().upper()!r}")
            if trouble:
                why.append(trouble)
        if self._names is not None:
            names = {m.group(1) for m in self._names.finditer(text.lower())}
            ids = {i for n in names for i in self.by_name.get(_key(n), [])}
            if len(ids) == 1:
                shown = next(iter(sorted(names)))
                start = text.lower().find(shown)
                phrase = text[start:start + len(shown)] if start >= 0 else shown
                return Placement(ids.pop(), "name-in-text",
                                 f"place name in the text: {phrase!r}")
            if len(ids) > 1:
                why.append("the text names several localities ("
                           + ", ".join(sorted(names)) + ")")
        if not why:
            why.append("no postcode, town or locality name in the address or text")
        return Placement(None, reason="; ".join(why))
