"""The text model's corpus: an exact copy of the five spent sets, and nothing of the set kept for the exam.

The fifth held-out set is read here for one check only (no shared text) and its contents are never
shown: the failure message gives a count, not the calls.
"""
from __future__ import annotations

import tomllib

import pytest

from app.blueprints.routing import analysis, textmodel
from bench.routing import accuracy


def test_each_corpus_set_equals_its_source_in_bench():
    assert set(textmodel.CORPUS_SETS) == set(accuracy.CORPUS_SOURCES)
    for name, source in accuracy.CORPUS_SOURCES.items():
        shipped = tomllib.loads((textmodel.CORPUS / f"{name}.toml").read_text(encoding="utf-8"))["call"]
        assert shipped == accuracy.corpus_calls(source), name


def test_the_corpus_holds_only_the_spent_sets_and_the_catalogue():
    files = {path.stem for path in textmodel.CORPUS.glob("*")}
    assert files == set(textmodel.CORPUS_SETS)
    sources = {example.source for example in textmodel.corpus()}
    assert sources == {*textmodel.CORPUS_SETS, textmodel.CATALOGUE}


def _shared_with_corpus(path) -> int:
    """How many calls of the set at `path` the corpus also holds (a count: the calls stay in here)."""
    exam = {analysis.normalize(call.text) for call in accuracy.load(path)[0]}
    return len(exam & {analysis.normalize(example.text) for example in textmodel.corpus()})


def test_no_call_of_the_fifth_held_out_set_is_in_the_corpus():
    path = accuracy.FIFTH.path
    if not path.exists():
        pytest.skip("the fifth held-out set is not written yet")
    shared = _shared_with_corpus(path)
    assert shared == 0, "calls of the fifth held-out set are in the text model's corpus"
