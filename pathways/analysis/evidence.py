"""An activity's needs and localities with the evidence behind each, for the details panel.

A need inferred from a directory's text reads "Loneliness and isolation (inferred from
'befriending')"; a locality placed by a postcode "Halifax (placed by postcode HX1 2AB)";
one inferred from a town or name "Halifax (inferred from town in the address: 'Halifax')";
a need or locality a person gave, just its name.  Read from the store on the server.
"""

from __future__ import annotations

from pathways.model import RelType
from pathways.store.base import GraphStore

_FIELDS = {RelType.ADDRESSES: "needs", RelType.LOCATED_IN: "localities"}
_LABELS = {"needs": "Needs", "localities": "Locality"}


def with_evidence(name: str, props: dict) -> str:
    """``name`` and, in brackets, how the link was made (nothing for a given one).

    >>> with_evidence("Loneliness", {"inferred": True, "evidence": "befriending service"})
    "Loneliness (inferred from 'befriending service')"
    >>> with_evidence("Halifax", {"evidence": "postcode HX1 2AB"})
    'Halifax (placed by postcode HX1 2AB)'
    """
    evidence = str(props.get("evidence") or "").strip()
    if not evidence:
        return name
    if props.get("inferred"):
        shown = evidence if ":" in evidence else repr(evidence)
        return f"{name} (inferred from {shown})"
    return f"{name} (placed by {evidence})"


def linked_with_evidence(store: GraphStore, node_id: str) -> dict[str, list[str]]:
    """``{"needs": [...], "localities": [...]}``: every need the activity (or service)
    ADDRESSES and locality it is LOCATED_IN, as :func:`with_evidence` words, sorted."""
    found: dict[str, list[str]] = {"needs": [], "localities": []}
    for _source, rel, target, props in store.relationships_from([node_id]):
        if rel in _FIELDS:
            node = store.get_node(target)
            name = str(node[1].get("name") or target) if node else target
            found[_FIELDS[rel]].append(with_evidence(name, props))
    return {field: sorted(values) for field, values in found.items()}


def evidence_facts(store: GraphStore, node_id: str) -> list[tuple[str, str]]:
    """``[("Needs", "...; ..."), ("Locality", "...")]`` for the details panel (only those
    it has)."""
    found = linked_with_evidence(store, node_id)
    return [(label, "; ".join(found[field])) for field, label in _LABELS.items()
            if found[field]]
