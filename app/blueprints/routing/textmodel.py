"""A statistical second opinion for routing: which unit leads a call (主办单位), learned from labelled calls.

TF-IDF over character 1–3-grams of the call as the suggester reads it (normalized, misspellings and
homophones fixed: `analysis.read`) and a multinomial logistic regression over the lead units' short
names. The engine adds each category's lead-unit probability to its score, shown as a `model` line
of the explanation, and brings in the likeliest units' closest category when the catalogue's words
found none of theirs (engine.Index._blend).

The corpus is data in the repository: `corpus/*.toml`, the five spent labelled call sets copied from
bench/routing by `python -m bench.routing.accuracy --export-corpus` (a test keeps each equal to its
source), and the Liangzhou template's level-2 categories (name, keywords and description, labelled
with their lead unit). Product code reads nothing under bench/.

Trained at first use, once per process (`shared`), not shipped as a built artifact: training takes
about a second (0.7-1.0 s per cross-validation fold, 2.2 s for the first model of a process including
loading the template and its homophones; docs/routing-accuracy.md), it is deterministic (fixed corpus
order, the saga solver with a fixed seed, single-threaded), so every process of every release arrives
at the same model from reviewable text; a pickled artifact would be an unreviewable binary tied to
one scikit-learn and numpy version, and would go stale silently whenever the corpus, the lexicon's
misspellings or the template changed.

A tenant gets the model only when the units that lead its categories are the model's units (by short
name, for at least MIN_COVERAGE of its categories; `TenantModel.bind`): a district that names its
units differently would be told probabilities of names it does not have, so it gets no model at all.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
import tomllib
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.blueprints.routing import analysis, homophones

log = logging.getLogger(__name__)

CORPUS = Path(__file__).with_name("corpus")
CORPUS_SETS = ("labelled", "holdout", "holdout2", "holdout3", "holdout4")
CATALOGUE = "catalogue"  # the template's categories, as one more source of examples
TEMPLATE = Path(__file__).resolve().parents[2] / "tenants" / "templates" / "liangzhou.toml"

NGRAMS = (1, 3)
# Chosen before the blend, by leave-one-set-out cross-validation of the model alone over the five sets:
# with balanced class weights mean top-1 was 93.1-93.3% for every C from 3 to 100 (without them 85.0% at
# C=3, 91.6% at C=30-100: the units with few calls suffer); C=30 converges quickly under saga.
C = 30.0
SEED = 0
MIN_COVERAGE = 0.9


@dataclass(frozen=True)
class Example:
    text: str
    unit: str      # the lead unit's short name
    source: str    # the corpus set, or CATALOGUE


def calls(name: str) -> list[Example]:
    data = tomllib.loads((CORPUS / f"{name}.toml").read_text(encoding="utf-8"))
    return [Example(call["text"], call["unit"], name) for call in data["call"]]


def catalogue_examples() -> list[Example]:
    from app.tenants.templates import loader

    template = loader.load(TEMPLATE)
    return [Example("。".join([c.name, "，".join(c.keywords), c.description]), c.lead, CATALOGUE)
            for group in template.groups for c in group.categories]


def corpus(*, leave_out: Iterable[str] = ()) -> list[Example]:
    """Every example, in a fixed order; `leave_out` names sets to hold back (cross-validation)."""
    leave_out = set(leave_out)
    examples = [e for name in CORPUS_SETS if name not in leave_out for e in calls(name)]
    return examples + (catalogue_examples() if CATALOGUE not in leave_out else [])


def _template_homophones() -> homophones.Homophones:
    """The misspellings-by-sound the Liangzhou catalogue would fix, for reading the training texts as
    a Liangzhou index reads a call."""
    from app.tenants.templates import loader

    template = loader.load(TEMPLATE)
    phrases = {analysis.normalize(p) for group in template.groups
               for p in (group.name, *(x for c in group.categories for x in (c.name, *c.keywords)))}
    return homophones.for_phrases(p for p in phrases if len(p) >= 2)


class UnitModel:
    """The trained model: a call's text (as `analysis.read` gives it) -> probability of each unit."""

    def __init__(self, vectorizer, classifier, *, examples: int, seconds: float, digest: str):
        self.vectorizer = vectorizer
        self.classifier = classifier
        self.units: tuple[str, ...] = tuple(str(unit) for unit in classifier.classes_)
        self.examples = examples
        self.seconds = seconds
        self.digest = digest   # sha256 of the training texts and labels

    def vector(self, text: str):
        return self.vectorizer.transform([text])

    def probabilities(self, vector) -> dict[str, float]:
        return dict(zip(self.units, self.classifier.predict_proba(vector)[0].tolist(), strict=True))


def train(examples: list[Example]) -> UnitModel:
    """A model from examples; the same examples always give the same model."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    started = time.perf_counter()
    spelling = _template_homophones()
    texts = [analysis.read(e.text, homophones=spelling)[0] for e in examples]
    units = [e.unit for e in examples]
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=NGRAMS, sublinear_tf=True)
    classifier = LogisticRegression(C=C, class_weight="balanced", solver="saga", tol=1e-3, max_iter=3000,
                                    random_state=SEED)
    classifier.fit(vectorizer.fit_transform(texts), units)
    hasher = hashlib.sha256()
    for text, unit in zip(texts, units, strict=True):
        hasher.update(f"{unit}\t{text}\n".encode())
    return UnitModel(vectorizer, classifier, examples=len(examples), seconds=time.perf_counter() - started,
                     digest=hasher.hexdigest())


_shared: UnitModel | None = None
_shared_lock = threading.Lock()


def shared() -> UnitModel | None:
    """This process's model, trained on the whole corpus at first use; None if it cannot be trained
    (the suggester then answers from the catalogue's words alone, and says so in the log)."""
    global _shared
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                try:
                    _shared = train(corpus())
                except Exception:
                    log.exception("routing text model could not be trained; suggesting without it")
                    return None
                log.info("routing text model trained", extra={"examples": _shared.examples,
                                                               "seconds": round(_shared.seconds, 2)})
    return _shared


@contextmanager
def substituted(model: UnitModel | None):
    """Benchmarks only: this process's model replaced (a cross-validation fold's) while inside.
    Indexes built before keep theirs: clear the service's index cache after entering."""
    global _shared
    with _shared_lock:
        saved, _shared = _shared, model
    try:
        yield model
    finally:
        with _shared_lock:
            _shared = saved


@dataclass
class Reading:
    """The model's view of one call for one tenant."""

    probabilities: dict[str, float]   # the tenant's lead units only
    vector: object


class TenantModel:
    """The model bound to one tenant's catalogue: which of its units it knows, and each unit's
    categories as vectors in the model's space (to pick the closest when the model brings a unit in)."""

    def __init__(self, model: UnitModel, docs: list, *, weight: float, brings_in: float):
        self.model = model
        self.weight = weight          # engine.MODEL_WEIGHT (a benchmark may try others)
        self.brings_in = brings_in    # engine.MODEL_BRINGS_IN
        known = set(model.units)
        self.docs_by_unit: dict[str, list] = {}
        for doc in sorted(docs, key=lambda d: d.code):
            unit = doc.lead_unit["short_name"] if doc.lead_unit else None
            if unit in known:
                self.docs_by_unit.setdefault(unit, []).append(doc)
        self._doc_vectors = {unit: model.vectorizer.transform(
            [analysis.normalize("。".join([d.name, "，".join(d.keywords), d.description])) for d in unit_docs])
            for unit, unit_docs in self.docs_by_unit.items()}

    @classmethod
    def bind(cls, model: UnitModel | None, docs: list, *, weight: float, brings_in: float) -> TenantModel | None:
        """The model for this catalogue, or None when too few of its categories are led by a unit the
        model knows by short name (another district's naming: the probabilities would mean nothing)."""
        if model is None or not docs:
            return None
        known = set(model.units)
        covered = sum(1 for d in docs if d.lead_unit and d.lead_unit["short_name"] in known)
        return cls(model, docs, weight=weight, brings_in=brings_in) if covered >= MIN_COVERAGE * len(docs) else None

    def read(self, text: str) -> Reading:
        vector = self.model.vector(text)
        probabilities = self.model.probabilities(vector)
        return Reading({unit: probabilities[unit] for unit in self.docs_by_unit}, vector)

    def closest(self, unit: str, reading: Reading):
        """The unit's category whose words look most like the call's (first by code on a tie)."""
        similarities = (self._doc_vectors[unit] @ reading.vector.T).toarray().ravel()
        return self.docs_by_unit[unit][int(similarities.argmax())]
