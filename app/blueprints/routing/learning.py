"""Training: term→category weights from the calls the desk confirmed. Pure computation.

For each term of the examples, the share of its examples that went to each category
(smoothed, so one example is a hint and ten are a rule), times how rare the term is
among the examples. The result is JSON, stored in PostgreSQL by the training job.
"""
from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict

from app.blueprints.routing import analysis

SMOOTHING = 0.5          # n(term, category) / (n(term) + SMOOTHING)
MIN_WEIGHT = 0.02
CATEGORIES_PER_TERM = 5  # a term spread over more categories than this tells little
MAX_TERMS = 50_000       # bounds the stored model (and each API process's memory)


def digest(examples: list[tuple[int, str, int]]) -> str:
    """sha256 over (id, text, category id) of every example and the analyzer version."""
    hasher = hashlib.sha256(f"analyzer:{analysis.ANALYZER_VERSION}\n".encode())
    for example_id, text, category_id in sorted(examples):
        hasher.update(f"{example_id}\t{category_id}\t{text}\n".encode())
    return hasher.hexdigest()


def train(examples: list[tuple[str, int]]) -> dict:
    """{"terms": {term: {category id: weight}}, "prior": {category id: share}} from (text, category id)."""
    term_category: dict[str, Counter] = defaultdict(Counter)
    category_count: Counter = Counter()
    for text, category_id in examples:
        category_count[category_id] += 1
        for term in analysis.analyze(text).terms:
            term_category[term][category_id] += 1
    total = len(examples)
    terms: dict[str, dict[str, float]] = {}
    for term, counts in term_category.items():
        seen = sum(counts.values())
        rarity = math.log(1 + (total + 1) / seen)
        weights = {str(c): round(n / (seen + SMOOTHING) * rarity, 4)
                   for c, n in counts.most_common(CATEGORIES_PER_TERM)}
        weights = {c: w for c, w in weights.items() if w >= MIN_WEIGHT}
        if weights:
            terms[term] = weights
    if len(terms) > MAX_TERMS:
        strongest = sorted(terms, key=lambda t: -max(terms[t].values()))[:MAX_TERMS]
        terms = {t: terms[t] for t in strongest}
    prior = {str(c): round(n / total, 4) for c, n in category_count.items()} if total else {}
    return {"terms": terms, "prior": prior}
