"""Request and response bodies for routing suggestions."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

MAX_TEXT = 2000
MAX_LIMIT = 20


def _has_words(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("The caller's words are empty.")


class SuggestIn(ma.Schema):
    text = ma.fields.String(required=True, validate=[validate.Length(1, MAX_TEXT), _has_words],
                            metadata={"description": "The caller's words, as the desk took them down",
                                      "example": "我家楼道里然气味很大，电悌也不动了"})
    limit = ma.fields.Integer(strict=True, load_default=5, validate=validate.Range(1, MAX_LIMIT),
                              metadata={"description": "How many suggestions, at most"})


class UnitRef(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    short_name = ma.fields.String()


class ParentRef(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()


class CategoryRef(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    parent = ma.fields.Nested(ParentRef, allow_none=True)


class MatchedTerm(ma.Schema):
    term = ma.fields.String()
    source = ma.fields.String(metadata={
        "description": "Where the term matched: keyword, name, parent (the level-1 name), description, "
                       "responsibility (a unit duty the category serves), learned (confirmed calls), "
                       "prior (what the desk chooses most, when nothing matched), urgent (the caller's words say a life is at "
                       "risk now, so a category the police attend comes first), named_company (the caller named this "
                       "category's lead, one telecom company of several), other_company (the caller named another "
                       "company of the same trade: a negative weight), model (the text model's probability that this category's "
                       "lead unit is the one the call needs: the term reads P(<unit>)=<probability>, never the caller's words)"})
    kind = ma.fields.String(metadata={
        "description": "phrase (found whole), fuzzy (in order, words in between), concept (a colloquial "
                       "phrase read as this term), term (a word or character pair), learned, prior, priority (the life-threat "
                       "or named-company signal; the term is the caller's words), model (the text model's opinion)"})
    via = ma.fields.String(allow_none=True, metadata={"description": "The caller's own words, when they differ"})
    weight = ma.fields.Float()


class SuggestionOut(ma.Schema):
    rank = ma.fields.Integer()
    score = ma.fields.Float()
    category = ma.fields.Nested(CategoryRef)
    lead_unit = ma.fields.Nested(UnitRef, allow_none=True)
    assisting_units = ma.fields.List(ma.fields.Nested(UnitRef))
    route = ma.fields.String()
    severity = ma.fields.String()
    matched = ma.fields.List(ma.fields.Nested(MatchedTerm))


class ProblemOut(ma.Schema):
    text = ma.fields.String()
    category_id = ma.fields.Integer()


class CorrectionOut(ma.Schema):
    written = ma.fields.String()
    read_as = ma.fields.String()


class SuggestOut(ma.Schema):
    suggestions = ma.fields.List(ma.fields.Nested(SuggestionOut))
    problems = ma.fields.List(ma.fields.Nested(ProblemOut), metadata={
        "description": "When the call holds several problems: each part and its best category"})
    fallback = ma.fields.String(allow_none=True, metadata={
        "description": "null when the words matched the catalogue well; otherwise what the guess rests on: "
                       "description, learned, model (the text model's opinion weighs most), prior, or none"})
    corrections = ma.fields.List(ma.fields.Nested(CorrectionOut))
    catalogue_version = ma.fields.String(allow_none=True)
    model_version = ma.fields.Integer(allow_none=True)
