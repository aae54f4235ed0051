"""The suggester: an in-memory index of one tenant's level-2 categories, and its ranking.

Pure computation, no database: `service` builds an `Index` from catalogue rows (and the
tenant's learned weights) and keeps it per process. Three kinds of evidence add up:
- phrases: a category's keywords and name found in the call, whole (or with the caller's
  words in between: 电梯里困了人 for 电梯困人); the strongest signal, weighted by how few
  categories share the phrase;
- terms: BM25 over the words and bigrams of keywords, name, description and the unit
  responsibilities the category serves; this is what still finds a category when the
  caller uses no keyword at all;
- learned: term→category weights trained from calls the desk confirmed;
- model: a statistical second opinion (textmodel), the probability that the category's lead unit
  is the one the call needs, learned from labelled calls, times MODEL_WEIGHT.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from app.blueprints.routing import analysis, homophones, lexicon, textmodel

# Field weights for term matching: where a word appears says how much it means.
FIELD_WEIGHTS = {"keyword": 2.0, "name": 2.0, "parent": 0.5, "description": 1.0, "responsibility": 0.5}
# Which field an explanation names when a term appears in several: the most telling one.
FIELD_PRIORITY = ("keyword", "name", "description", "responsibility", "parent")
BM25_K1 = 1.2
BM25_B = 0.3  # long descriptions should not drown a category: mild length normalization

PHRASE_WEIGHT = 3.0
PARENT_PHRASE = 0.4    # a level-1 name found in the call says less than the category's own name
CONCEPT_MATCH = 0.8    # a phrase found among the lexicon's expansions, not in the caller's words
INSIDE_MATCH = 0.6     # a lexicon term found inside a keyword or name (not the whole phrase)
FUZZY_MATCH = 0.5      # a phrase's characters in order, with the caller's words in between
# Raised from 2 with the text model (round 4): the district's own confirmed calls must be able to outweigh
# the generic model (MODEL_WEIGHT * p), not drown under it. No desk data exists to cross-validate it on:
# set so that three confirmations win (tests/test_routing_learning.py).
LEARNED_BLEND = 8.0
CONFIDENT = 4.0        # a score below this is a guess: the result says it fell back
KEEP_FRACTION = 0.05
REPEAT_UNIT_FACTOR = 0.7  # see _diversify   # drop suggestions scoring under this share of the best one
# A life at risk (analysis.Analysis.threat): the categories the police attend count more when the
# call names them (phrases and concepts, not loose words, worth at least THREAT_EVIDENCE): the
# police's own (route "police") THREAT_FACTOR times, those where the police go first and a unit
# leads (route "police_first") THREAT_FACTOR_FIRST times.
THREAT_FACTOR = 2.5
THREAT_FACTOR_FIRST = 1.5
THREAT_EVIDENCE = 3.0
# The caller named one company of a trade (lexicon.COMPANIES): a category another of them leads keeps this
# share of its score (the difference shown as a negative "other_company" line), and the named company's own
# categories count NAMED_COMPANY_FACTOR times (a "named_company" line).
OTHER_COMPANY_FACTOR = 0.4
NAMED_COMPANY_FACTOR = 1.5
# The text model's unit probability p adds MODEL_WEIGHT * p to each category the unit leads (a sure model
# is worth about two whole keyword phrases). A unit the model gives at least MODEL_BRINGS_IN, among its
# MODEL_BRINGS_IN_UNITS likeliest, that no evidence found, is brought in with its closest category. Both
# chosen by leave-one-set-out cross-validation (bench/routing/accuracy.py, docs/routing-accuracy.md).
MODEL_WEIGHT = 32.0
MODEL_BRINGS_IN = 0.15
MODEL_BRINGS_IN_UNITS = 3


@dataclass
class CategoryDoc:
    """One level-2 category as the index needs it (built from rows by the service, or by tests)."""

    id: int
    code: str
    name: str
    route: str
    severity: str
    description: str = ""
    keywords: list[str] = field(default_factory=list)
    parent: dict | None = None                          # {"id", "code", "name"}
    lead_unit: dict | None = None                       # {"id", "name", "short_name"}
    assisting_units: list[dict] = field(default_factory=list)
    responsibilities: list[str] = field(default_factory=list)


@dataclass
class Match:
    term: str
    source: str      # keyword | name | description | responsibility | parent | learned | model | ...
    weight: float
    kind: str = "term"   # phrase | fuzzy | concept | term | learned | model | ...
    via: str | None = None


@dataclass
class Scored:
    doc: CategoryDoc
    score: float
    matches: list[Match]


@dataclass
class Suggestion:
    results: list[Scored]
    problems: list[dict]
    fallback: str | None
    analysis: analysis.Analysis


def _length_factor(phrase: str) -> float:
    return 1.0 if len(phrase) <= 2 else 1.2 if len(phrase) == 3 else 1.4


def _in_order(phrase: str, text: str) -> bool:
    """The phrase's characters appear in order within a window twice its length."""
    window = 2 * len(phrase)
    start = text.find(phrase[0])
    while start != -1:
        position, ok = start, True
        for char in phrase[1:]:
            position = text.find(char, position + 1)
            if position == -1 or position - start >= window:
                ok = False
                break
        if ok:
            return True
        start = text.find(phrase[0], start + 1)
    return False


class Index:
    def __init__(self, docs: list[CategoryDoc], *, learned: dict | None = None,
                 catalogue_version: str | None = None, model_version: int | None = None,
                 text_model: textmodel.UnitModel | None = None):
        self.docs = {doc.id: doc for doc in docs}
        self.catalogue_version = catalogue_version
        self.model_version = model_version
        self._build_phrases(docs)
        self._build_terms(docs)
        # What a misspelling of the same sound may have meant: the catalogue's phrases and their words,
        # and the lexicon's vocabulary (the only source of two-character words).
        self.homophones = homophones.for_phrases(self._phrase_docs)
        learned = learned or {}
        # Learned weights of categories no longer in the catalogue (deleted, deactivated) are dropped.
        self.learned = {term: {int(c): w for c, w in weights.items() if int(c) in self.docs}
                        for term, weights in learned.get("terms", {}).items()}
        self.prior = {int(c): w for c, w in learned.get("prior", {}).items() if int(c) in self.docs}
        self.text_model = textmodel.TenantModel.bind(text_model, docs, weight=MODEL_WEIGHT,
                                                     brings_in=MODEL_BRINGS_IN)

    # -- building

    def _build_phrases(self, docs: list[CategoryDoc]) -> None:
        postings: dict[str, dict[int, tuple[str, float]]] = defaultdict(dict)

        def add(phrase: str, doc_id: int, source: str, weight: float) -> None:
            phrase = analysis.normalize(phrase)
            if len(phrase) < 2:
                return
            if postings[phrase].get(doc_id, ("", 0.0))[1] < weight:
                postings[phrase][doc_id] = (source, weight)

        for doc in docs:
            for keyword in doc.keywords:
                add(keyword, doc.id, "keyword", 1.0)
            add(doc.name, doc.id, "name", 1.0)
            if doc.parent:
                add(doc.parent["name"], doc.id, "parent", PARENT_PHRASE)
        total = max(len(docs), 1)
        self._phrase_docs = {phrase: [(doc_id, source, weight) for doc_id, (source, weight) in by_doc.items()]
                             for phrase, by_doc in postings.items()}
        self._total = total
        self._inside: dict[str, list[tuple]] = {}
        # Keyed by first character: a query only looks at phrases that could start in its text.
        self.phrases: dict[str, list[tuple]] = defaultdict(list)
        for phrase, by_doc in postings.items():
            self.phrases[phrase[0]].append(
                (phrase, frozenset(phrase), math.log(1 + total / len(by_doc)) * _length_factor(phrase),
                 [(doc_id, source, weight) for doc_id, (source, weight) in by_doc.items()]))

    def _build_terms(self, docs: list[CategoryDoc]) -> None:
        per_doc: dict[int, dict[str, tuple[float, str]]] = {}
        lengths: dict[int, float] = {}
        for doc in docs:
            fields = {
                "keyword": set().union(*(analysis.field_terms(k) for k in doc.keywords)) if doc.keywords else set(),
                "name": analysis.field_terms(doc.name),
                "parent": analysis.field_terms(doc.parent["name"]) if doc.parent else set(),
                "description": analysis.field_terms(doc.description or ""),
                "responsibility": set().union(*(analysis.field_terms(r) for r in doc.responsibilities))
                if doc.responsibilities else set(),
            }
            weights: dict[str, tuple[float, str]] = {}
            for source in FIELD_PRIORITY:
                for term in fields[source]:
                    tf, best = weights.get(term, (0.0, source))
                    weights[term] = (tf + FIELD_WEIGHTS[source], best)
            per_doc[doc.id] = weights
            lengths[doc.id] = sum(FIELD_WEIGHTS[s] * len(t) for s, t in fields.items())
        average = (sum(lengths.values()) / len(lengths)) if lengths else 1.0
        document_frequency: dict[str, int] = defaultdict(int)
        for weights in per_doc.values():
            for term in weights:
                document_frequency[term] += 1
        total = len(per_doc)
        self.postings: dict[str, list[tuple[int, float, str]]] = defaultdict(list)
        for doc_id, weights in per_doc.items():
            norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths[doc_id] / (average or 1.0))
            for term, (tf, source) in weights.items():
                df = document_frequency[term]
                idf = math.log(1 + (total - df + 0.5) / (df + 0.5))
                self.postings[term].append((doc_id, idf * tf * (BM25_K1 + 1) / (tf + norm), source))

    # -- ranking

    def score(self, query: analysis.Analysis) -> dict[int, Scored]:
        """Every category with any evidence, its score and the matches behind it."""
        found: dict[int, Scored] = {}
        # The terms of one lexicon concept are synonyms: per category only the best one counts.
        by_concept: dict[tuple[int, int], Match] = {}
        # A phrase found whole already says what its words and bigrams would: don't count them again.
        whole: dict[int, list[str]] = defaultdict(list)

        def credit(doc_id: int, match: Match, concept: int | None = None) -> None:
            if concept is not None:
                best = by_concept.get((doc_id, concept))
                if best is None or best.weight < match.weight:
                    by_concept[(doc_id, concept)] = match
                return
            entry = found.get(doc_id)
            if entry is None:
                entry = found[doc_id] = Scored(self.docs[doc_id], 0.0, [])
            entry.score += match.weight
            entry.matches.append(match)

        text, text_chars = query.text, set(query.text)
        starts = text_chars.union(*query.expansions)
        candidates = [entry for char in starts for entry in self.phrases.get(char, ())]
        for phrase, chars, idf, postings in candidates:
            concept = None
            if phrase in text:
                if _unsaid(phrase, text):
                    continue
                kind, factor, via = "phrase", 1.0, query.via.get(phrase)
            else:
                expansion = next((e for e in query.expansions if phrase in e), None) if query.expansions else None
                if expansion is not None:
                    kind, factor, via = "concept", CONCEPT_MATCH, query.via.get(expansion)
                    concept = query.concept_of.get(expansion)
                elif len(phrase) >= 3 and chars <= text_chars and _in_order(phrase, text):
                    kind, factor, via = "fuzzy", FUZZY_MATCH, None
                else:
                    continue
            for doc_id, source, weight in postings:
                credit(doc_id, Match(phrase, source, PHRASE_WEIGHT * weight * idf * factor, kind, via), concept)
                if kind == "phrase":
                    whole[doc_id].append(phrase)

        # A lexicon term is the rules' vocabulary: found inside a category's keyword or name
        # (市政设施 in 道路塌陷与市政设施险情), it is evidence for that category too.
        for expansion in query.expansions:
            concept = query.concept_of.get(expansion)
            for doc_id, source, weight, idf in self._containing(expansion):
                credit(doc_id, Match(expansion, source, PHRASE_WEIGHT * weight * idf * INSIDE_MATCH, "concept",
                                     query.via.get(expansion)), concept)

        for term, query_weight in query.terms.items():
            concept = query.concept_of.get(term)
            for doc_id, contribution, source in self.postings.get(term, ()):
                if any(term in phrase for phrase in whole.get(doc_id, ())):
                    continue
                credit(doc_id, Match(term, source, query_weight * contribution, "term", query.via.get(term)),
                       concept)
            for doc_id, weight in self.learned.get(term, {}).items():
                credit(doc_id, Match(term, "learned", LEARNED_BLEND * query_weight * weight, "learned",
                                     query.via.get(term)))
        for (doc_id, _), match in by_concept.items():
            credit(doc_id, match)
        if query.threat:
            for entry in found.values():
                named = sum(m.weight for m in entry.matches if m.kind in ("phrase", "concept", "fuzzy"))
                factor = {"police": THREAT_FACTOR, "police_first": THREAT_FACTOR_FIRST}.get(entry.doc.route, 1.0)
                if factor > 1.0 and named >= THREAT_EVIDENCE:
                    credit(entry.doc.id, Match(query.threat, "urgent", entry.score * (factor - 1), "priority"))
        if query.company:
            named, said = query.company
            others = {name for name, _ in lexicon.COMPANIES} - {named}
            for entry in list(found.values()):
                lead = entry.doc.lead_unit["short_name"] if entry.doc.lead_unit else None
                if entry.score <= 0:
                    continue
                if lead in others:
                    credit(entry.doc.id, Match(said, "other_company", -entry.score * (1 - OTHER_COMPANY_FACTOR),
                                               "priority"))
                elif lead == named:
                    credit(entry.doc.id, Match(said, "named_company", entry.score * (NAMED_COMPANY_FACTOR - 1),
                                               "priority"))
        return found

    def _containing(self, term: str) -> list[tuple]:
        """(doc id, source, weight, idf) of the categories with a keyword or name that contains `term`."""
        cached = self._inside.get(term)
        if cached is None:
            by_doc: dict[int, tuple[str, float]] = {}
            if len(term) >= 2:
                for phrase, postings in self._phrase_docs.items():
                    # 着火 inside 打不着火 is its opposite: a term right after a negation does not count
                    if term in phrase and term != phrase and not _negated(term, phrase):
                        for doc_id, source, weight in postings:
                            if by_doc.get(doc_id, ("", 0.0))[1] < weight:
                                by_doc[doc_id] = (source, weight)
            idf = math.log(1 + self._total / len(by_doc)) * _length_factor(term) if by_doc else 0.0
            cached = [(doc_id, source, weight, idf) for doc_id, (source, weight) in by_doc.items()]
            if len(self._inside) < 4096:
                self._inside[term] = cached
        return cached

    def suggest(self, text: str, *, limit: int = 5, use_lexicon: bool = True, use_model: bool = True) -> Suggestion:
        query = analysis.analyze(text, use_lexicon=use_lexicon, homophones=self.homophones)
        scored = self.score(query)
        if use_model and self.text_model is not None:
            self._blend(query.text, scored)
        ranked = _diversify(sorted(scored.values(), key=lambda s: (-s.score, s.doc.code)))
        problems = self._problems(text, use_lexicon=use_lexicon)
        ranked = _promote(ranked, [p["category_id"] for p in problems], limit)
        ranked, fallback = self._fallback(ranked, limit)
        if ranked:
            floor = ranked[0].score * KEEP_FRACTION
            ranked = [s for s in ranked if s.score >= floor or s.doc.id in {p["category_id"] for p in problems}]
        return Suggestion(ranked[:limit], problems, fallback, query)

    def _blend(self, text: str, found: dict[int, Scored]) -> None:
        """The text model's second opinion: each category gains its lead unit's probability times the
        weight (a `model` line saying the probability); a likely unit nothing found comes in with its
        closest category."""
        model = self.text_model
        reading = model.read(text)

        def line(unit: str, p: float) -> Match:
            return Match(f"P({unit})={p:.2f}", "model", model.weight * p, "model")

        present = set()
        for entry in found.values():
            unit = entry.doc.lead_unit["short_name"] if entry.doc.lead_unit else None
            p = reading.probabilities.get(unit, 0.0)
            present.add(unit)
            if p > 0:
                entry.score += model.weight * p
                entry.matches.append(line(unit, p))
        likeliest = sorted(reading.probabilities.items(), key=lambda item: (-item[1], item[0]))
        for unit, p in likeliest[:MODEL_BRINGS_IN_UNITS]:
            if p >= model.brings_in and unit not in present:
                doc = model.closest(unit, reading)
                found[doc.id] = Scored(doc, model.weight * p, [line(unit, p)])

    def _problems(self, text: str, *, use_lexicon: bool) -> list[dict]:
        """The confident best category of each clause, when a call holds more than one problem."""
        parts = analysis.clauses(text)[:8]
        if len(parts) < 2:
            return []
        problems: list[dict] = []
        for part in parts:
            scored = self.score(analysis.analyze(part, use_lexicon=use_lexicon, homophones=self.homophones))
            if not scored:
                continue
            best = max(scored.values(), key=lambda s: (s.score, s.doc.code))
            # A clause is a problem of its own only when it names one: a phrase or a concept, not loose words.
            named = any(m.kind in ("phrase", "concept", "fuzzy") for m in best.matches)
            if best.score >= CONFIDENT and named and best.doc.id not in {p["category_id"] for p in problems}:
                problems.append({"text": part, "category_id": best.doc.id})
        # One problem found in several clauses is still one problem.
        return problems if len({self.docs[p["category_id"]].lead_unit and
                                self.docs[p["category_id"]].lead_unit["id"] for p in problems}) > 1 else []

    def _fallback(self, ranked: list[Scored], limit: int) -> tuple[list[Scored], str | None]:
        """Say what the best guess rests on when it is not the catalogue's keywords and names;
        with no evidence at all, offer what the desk chooses most."""
        if ranked:
            top = ranked[0]
            by_source = defaultdict(float)
            for match in top.matches:
                by_source[match.source] += match.weight
            lexical = top.score - by_source["model"]   # the model's share does not make the words match better
            if by_source["keyword"] + by_source["name"] >= lexical / 2 and lexical >= CONFIDENT:
                return ranked, None
            for source in ("learned", "model"):
                if by_source[source] >= top.score / 2:
                    return ranked, source
            return ranked, "description"
        if self.prior:
            top = sorted(self.prior.items(), key=lambda item: -item[1])[:limit]
            return [Scored(self.docs[doc_id], share, [Match("", "prior", share, "prior")])
                    for doc_id, share in top], "prior"
        return [], "none"


_UNREACHED = ("打不", "拨不", "都打不", "都拨不", "也打不", "也拨不")


def _unsaid(phrase: str, text: str) -> bool:
    """Every occurrence of the phrase is negated (点不着火 is no fire) or a number not got through to
    (打120都打不出去 is about the phone, not an ambulance)."""
    at = text.find(phrase)
    while at != -1:
        end = at + len(phrase)
        if not ((at > 0 and text[at - 1] in "不没未") or text.startswith(_UNREACHED, end)):
            return False
        at = text.find(phrase, at + 1)
    return True


def _negated(term: str, phrase: str) -> bool:
    at = phrase.find(term)
    return at > 0 and phrase[at - 1] in "不没未无"


def _diversify(ranked: list[Scored]) -> list[Scored]:
    """Order so that a unit's second category must beat other units by a margin to come next.

    The desk's short list is most useful when it offers different units: two near-identical
    categories of one unit above a plausible other unit hide the alternative.
    """
    if REPEAT_UNIT_FACTOR >= 1.0 or len(ranked) < 3:
        return ranked
    remaining, ordered, seen = list(ranked), [], defaultdict(int)

    def unit(s: Scored):
        return s.doc.lead_unit["id"] if s.doc.lead_unit else None

    while remaining and len(ordered) < 20:
        # `remaining` is in score order and a repeat only lowers a score: once a raw score is no better
        # than the best adjusted one found so far, nothing after it can win (ties go to the earlier one).
        best, best_value = None, -math.inf
        for s in remaining:
            if s.score <= best_value:
                break
            value = s.score * REPEAT_UNIT_FACTOR ** seen[unit(s)]
            if value > best_value:
                best, best_value = s, value
        ordered.append(best)
        remaining.remove(best)
        seen[unit(best)] += 1
    return ordered + remaining


def _promote(ranked: list[Scored], must_show: list[int], limit: int) -> list[Scored]:
    """Keep each problem's best category within the first `limit`, in score order otherwise."""
    if not must_show:
        return ranked
    head = ranked[:limit]
    shown = {s.doc.id for s in head}
    missing = [s for s in ranked[limit:] if s.doc.id in must_show and s.doc.id not in shown]
    if not missing:
        return ranked
    keep = [s for s in head if s.doc.id in must_show]
    others = [s for s in head if s.doc.id not in must_show][:max(limit - len(keep) - len(missing), 0)]
    promoted = sorted(keep + others + missing, key=lambda s: (-s.score, s.doc.code))
    chosen = {s.doc.id for s in promoted}
    return promoted + [s for s in ranked if s.doc.id not in chosen]


def explain(matches: list[Match], *, limit: int = 8) -> list[dict]:
    """The matched terms behind one suggestion, strongest first, one line per term and source."""
    merged: dict[tuple[str, str], dict] = {}
    for match in matches:
        key = (match.term, match.source)
        line = merged.get(key)
        if line is None:
            merged[key] = {"term": match.term, "source": match.source, "kind": match.kind,
                           "via": match.via, "weight": match.weight}
        else:
            line["weight"] += match.weight
            if match.kind in ("phrase", "fuzzy", "concept") and line["kind"] == "term":
                line["kind"] = match.kind
            line["via"] = line["via"] or match.via
    lines = sorted(merged.values(), key=lambda line: -line["weight"])[:limit]
    for line in lines:
        line["weight"] = round(line["weight"], 3)
    return lines
