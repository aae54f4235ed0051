"""Chinese substring search and text similarity from character grams (design.md section 3: no pg_trgm).

Runs of Han characters give their unigrams and bigrams; runs of Latin letters and digits give
lower-cased words. The same grams feed the stored `search_vector` and every query, so a query's
grams are all in the vector of any text that contains the query. The vector is built from an
array of lexemes (the `simple` configuration's lower-case, unstemmed lexemes) rather than
through the text parser, whose idea of a letter depends on the server's locale.
"""
from __future__ import annotations

import re

from sqlalchemy import Text, cast, func, literal
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"[{_HAN}]+|[0-9A-Za-z]+")
_IS_HAN = re.compile(rf"[{_HAN}]")


def _runs(text: str) -> list[str]:
    return _RUNS.findall(text or "")


def grams(text: str) -> set[str]:
    """Unigrams and bigrams of the Han runs, lower-cased words of the rest."""
    out: set[str] = set()
    for run in _runs(text):
        if _IS_HAN.match(run):
            out.update(run)
            out.update(run[i:i + 2] for i in range(len(run) - 1))
        else:
            out.add(run.lower())
    return out


def bigrams(text: str) -> set[str]:
    """What similarity compares: the Han bigrams, and the words."""
    out: set[str] = set()
    for run in _runs(text):
        if _IS_HAN.match(run):
            if len(run) == 1:
                out.add(run)
            out.update(run[i:i + 2] for i in range(len(run) - 1))
        else:
            out.add(run.lower())
    return out


def query_grams(text: str) -> list[str]:
    """The fewest grams that a containing text must have: bigrams, or the unigram of a lone character."""
    return sorted(bigrams(text))


def search_vector(*parts: str):
    """SQL expression for the stored tsvector of these texts."""
    lexemes = sorted(set().union(*(grams(part) for part in parts)))
    return func.array_to_tsvector(cast(literal(lexemes, ARRAY(Text)), ARRAY(Text)))


def search_query(text: str):
    """SQL tsquery that every text containing `text` matches; None when `text` has no searchable characters."""
    lexemes = query_grams(text)
    if not lexemes:
        return None
    # Lexemes hold only letters and digits (see _RUNS), so quoting them is all the escaping needed.
    return cast(literal(" & ".join(f"'{lexeme}'" for lexeme in lexemes)), TSQUERY)


def similarity(a: str, b: str) -> float:
    """Dice coefficient of the two texts' bigrams: 1.0 for the same words, 0.0 for nothing shared."""
    left, right = bigrams(a), bigrams(b)
    if not left or not right:
        return 0.0
    return 2 * len(left & right) / (len(left) + len(right))
