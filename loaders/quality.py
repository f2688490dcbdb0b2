"""The data-quality report of a feed import: every record dropped, repaired, merged,
unmapped or gone, with the record id, field and reason; CSV (Excel) and JSON."""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pathways.errors import Problem
from pathways.spreadsheet import excel_safe

ACTIONS = ("dropped", "repaired", "merged", "unmapped", "incomplete", "disappeared", "unlinked")
READ_RULES = frozenset({"unreadable-file", "invalid-json"})  # whole files, or their rest


# --------------------------------------------------------------------------- quality report


@dataclass(frozen=True, order=True)
class QualityEntry:
    """One record (or one field of it) the import dropped, repaired, merged or could not map.

    ``record_id`` is the node id it would have (``oruk:service:12``) or a file name; ``rule``
    is a short code that groups entries in the summary; ``reason`` says it in plain words.
    Entries never hold the values of staff metadata.
    """

    record_id: str
    field: str
    action: str
    rule: str
    reason: str
    source: str = ""


@dataclass
class QualityReport:
    """Every record dropped, repaired, merged, unmapped or disappeared, and what was loaded."""

    entries: list[QualityEntry] = field(default_factory=list)
    loaded: dict[str, int] = field(default_factory=dict)
    #: activities placed in a locality, per placing rule; ``""`` counts those not placed
    places: Counter = field(default_factory=Counter)
    #: files (or parts of files) that could not be read, each with where and why
    read_problems: list[Problem] = field(default_factory=list)
    #: relationships the previous import of the feed wrote and this one no longer gives
    #: ``(source, type, target)``: the load removes them (entries ``unlinked`` say which)
    unlinked: list[tuple] = field(default_factory=list)
    _seen: set = field(default_factory=set, repr=False, compare=False)

    def add(self, record_id: str, field_name: str, action: str, rule: str, reason: str,
            source: str = "") -> None:
        """Record one entry (an identical entry is kept once)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        entry = QualityEntry(record_id, field_name, action, rule, reason, source)
        if entry not in self._seen:
            self._seen.add(entry)
            self.entries.append(entry)

    def placed(self, rule: str) -> None:
        """Count one activity placed by ``rule`` (``""``: not placed)."""
        self.places[rule] += 1

    @property
    def not_placed(self) -> int:
        """How many activities could not be placed in any locality."""
        return self.places[""]

    def places_summary(self) -> str:
        """``Places: 12 activities placed (postcode 9, town 3); 4 could not be placed.``"""
        placed = {rule: n for rule, n in sorted(self.places.items()) if rule and n}
        if not placed and not self.not_placed:
            return ""
        how = ", ".join(f"{rule.replace('-', ' ')} {n}" for rule, n in placed.items())
        total = sum(placed.values())
        text = f"Places: {total} activities placed" + (f" (by {how})" if how else "")
        return text + f"; {self.not_placed} could not be placed."

    def unreadable(self, file: str, row: int, column: str, reason: str, source: str,
                   rule: str = "unreadable-file") -> None:
        """A file, or the rest of it, could not be read: a dropped entry and a problem."""
        self.add(source, column, "dropped", rule, reason, source)
        self.read_problems.append(Problem(file, row, column, reason))

    @property
    def incomplete(self) -> list[QualityEntry]:
        """Why the feed looks incomplete (pages missing), if it does."""
        return [e for e in self.entries if e.action == "incomplete"]

    def dropped_problems(self) -> list[Problem]:
        """The records dropped, as problems naming their file and field."""
        return [Problem(e.source.split(":", 1)[-1] or e.record_id, 0, e.field, e.reason)
                for e in self.entries if e.action == "dropped" and e.rule not in READ_RULES]

    @property
    def disappeared(self) -> list[str]:
        """Ids that the previous import had and this feed no longer holds."""
        return sorted(e.record_id for e in self.entries if e.action == "disappeared")

    def counts(self) -> dict[str, int]:
        """Entries per action."""
        found = Counter(entry.action for entry in self.entries)
        return {action: found[action] for action in ACTIONS}

    def by_rule(self) -> dict[tuple[str, str], int]:
        """Entries per (action, rule), sorted."""
        return dict(sorted(Counter((e.action, e.rule) for e in self.entries).items()))

    def summary(self) -> str:
        """What was loaded, then each action with its reasons, e.g.
        ``Dropped 3: empty name 2, inactive service 1.``"""
        loaded = ", ".join(f"{kind} {n}" for kind, n in self.loaded.items()) or "nothing"
        lines = [f"Loaded: {loaded}."]
        rules = self.by_rule()
        for action, count in self.counts().items():
            if count:
                reasons = ", ".join(f"{rule.replace('-', ' ')} {n}"
                                    for (a, rule), n in rules.items() if a == action)
                lines.append(f"{action.capitalize()} {count}: {reasons}.")
        if len(lines) == 1:
            lines.append("Nothing dropped, repaired, merged or unmapped.")
        if self.places_summary():
            lines.append(self.places_summary())
        return "\n".join(lines)

    def rows(self) -> list[dict]:
        return [asdict(entry) for entry in sorted(self.entries)]

    def write_csv(self, path: Path | str) -> Path:
        """The entries as a CSV Excel opens (UTF-8 with BOM)."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        names = [f.name for f in QualityEntry.__dataclass_fields__.values()]
        with out.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=names)
            writer.writeheader()
            writer.writerows({k: excel_safe(v) for k, v in row.items()} for row in self.rows())
        return out

    def write_json(self, path: Path | str) -> Path:
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "loaded": self.loaded,
            "counts": self.counts(),
            "places": {"placed": {r: n for r, n in sorted(self.places.items()) if r},
                       "not_placed": self.not_placed},
            "by_rule": [{"action": a, "rule": r, "count": n}
                        for (a, r), n in self.by_rule().items()],
            "entries": self.rows(),
        }
        out.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return out
