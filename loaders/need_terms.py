"""Directory taxonomy terms and target audiences → the model's Need codes.

A feed's service types, categories (``service_taxonomys`` in ORUK 1.0, ``attributes`` →
``taxonomy_term`` in HSDS 3.0) and audiences (ORUK ``eligibilitys``) are free text chosen by
each directory.  :func:`need_for_term` maps the common ones onto
:data:`pathways.model.COMMON_NEEDS`; a term it cannot map is listed in the quality report and
kept in the service's description (see ``docs/feeds.md``).

Matching is on a normalised form of the term (trimmed, lower case, ``&`` → ``and``, hyphens
and repeated spaces collapsed): first an exact look-up in :data:`TERM_TO_NEED`, then the
word patterns in :data:`KEYWORDS`.

>>> need_for_term("Long Term Health Conditions ")
'long_term_conditions'
>>> need_for_term("Arts & Crafts")
'creativity'
>>> need_for_term("Gardening") is None
True
"""

from __future__ import annotations

import re

# Plain English names for the Need nodes an import creates when the store has none yet
# (the same wording as the demo data's needs.csv); the keys are pathways.model.COMMON_NEEDS.
NEED_NAMES: dict[str, str] = {
    "loneliness": "Loneliness and isolation",
    "mental_health": "Mental health and wellbeing",
    "physical_activity": "Being more active",
    "creativity": "Creativity",
    "long_term_conditions": "Living with a long-term condition",
    "practical_financial": "Money and practical help",
    "carers": "Support for carers",
    "housing": "Housing",
}

_TERMS: dict[str, tuple[str, ...]] = {
    "loneliness": (
        "loneliness", "lonely", "isolation", "social isolation", "loneliness and isolation",
        "befriending", "social activities", "social groups", "friendship", "meeting people",
        "social clubs", "lunch clubs", "community groups",
    ),
    "mental_health": (
        "mental health", "mental health and wellbeing", "mental wellbeing", "wellbeing",
        "emotional wellbeing", "emotional support", "mental health support", "anxiety",
        "depression", "stress", "counselling", "talking therapies", "bereavement",
        "peer support", "mental health services",
    ),
    "physical_activity": (
        "physical activity", "physical activities", "exercise", "fitness", "sport", "sports",
        "sport and leisure", "leisure", "walking", "walking groups", "health walks",
        "keeping active", "active lifestyles", "dance", "swimming", "yoga",
    ),
    "creativity": (
        "arts", "art", "the arts", "arts and crafts", "crafts", "creative", "creativity",
        "creative activities", "arts and culture", "culture", "music", "singing", "drama",
        "theatre", "heritage", "museums", "creative writing", "writing", "photography",
    ),
    "long_term_conditions": (
        "long term health conditions", "long term conditions", "long term condition",
        "long term illness", "chronic conditions", "chronic illness", "chronic pain",
        "physical health", "diabetes", "copd", "heart health", "stroke", "arthritis",
        "dementia", "cancer support",
    ),
    "practical_financial": (
        "money", "money advice", "debt", "debt advice", "benefits", "benefits advice",
        "welfare rights", "financial support", "financial help", "cost of living",
        "employment", "employment and training", "jobs", "digital skills",
        "digital inclusion", "food", "food bank", "food banks", "energy", "fuel poverty",
        "legal advice", "advice and guidance",
    ),
    "carers": (
        "carers", "carer", "carers support", "support for carers", "young carers",
        "caring", "unpaid carers",
    ),
    "housing": (
        "housing", "housing advice", "housing support", "homelessness", "homeless",
        "accommodation", "tenancy support",
    ),
}

#: normalised term → need code
TERM_TO_NEED: dict[str, str] = {term: need for need, terms in _TERMS.items() for term in terms}

#: word patterns tried when there is no exact match, in order
KEYWORDS: tuple[tuple[re.Pattern, str], ...] = tuple(
    (re.compile(pattern), need)
    for pattern, need in (
        (r"\bmental health\b|\bwell ?being\b|\bcounsell", "mental_health"),
        (r"\blonel|\bisolation\b|\bbefriend", "loneliness"),
        (r"\bcarers?\b", "carers"),
        (r"\blong term (health )?condition|\bchronic\b", "long_term_conditions"),
        (r"\bdebt\b|\bbenefits?\b|\bwelfare\b|\bmoney\b|\bfinancial\b", "practical_financial"),
        (r"\bhousing\b|\bhomeless", "housing"),
        (r"\bexercise\b|\bphysical activit|\bsports?\b|\bfitness\b", "physical_activity"),
        (r"\barts?\b|\bcrafts?\b|\bcreativ|\bmusic\b", "creativity"),
    )
)

def normalise_term(term: str) -> str:
    """The form terms are matched in: ``' Arts & Crafts '`` → ``'arts and crafts'``."""
    text = term.strip().lower().replace("&", " and ").replace("-", " ").replace("_", " ")
    text = re.sub(r"[^\w\s']", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def need_for_term(term: str) -> str | None:
    """The need code a directory term stands for, or ``None`` when it is not in the table."""
    key = normalise_term(term)
    if not key:
        return None
    if key in TERM_TO_NEED:
        return TERM_TO_NEED[key]
    for pattern, need in KEYWORDS:
        if pattern.search(key):
            return need
    return None
