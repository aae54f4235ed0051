"""Homophone tolerance: a caller's (or a typist's) wrong character read as the word it sounds like.

Pinyin input and speech-to-text put a character of the same sound in place of the right one:
滩贩 for 摊贩, 电悌 for 电梯, 托欠 for 拖欠. `lexicon.TYPOS` lists the frequent ones by hand;
this catches the rest, against a vocabulary (the catalogue's keywords and names, their words,
and the lexicon's `VOCABULARY`), by comparing toneless pinyin (pypinyin).

A window of the text is read as a vocabulary word when
- both have the same syllables and the same length (2 to 4 characters); a two-character word
  only from the short list (`short`, the lexicon's hand-picked words): the catalogue's many
  two-character words sound like too much everyday speech (上访 and 台阶上放, 人事 and 人是),
- they share at least one character, and differ in at most one (two for four characters),
- the window is not itself an ordinary word (世故 is not a misspelled 事故), and
- no character of the window belongs to an ordinary word reaching outside it (突然气温: 然 is
  part of 突然, so 然气 is not read as 燃气; 一车货 is not 车祸), and none to be replaced is a particle or
  pronoun (也, 是, 了, 谁...), which people do not mistype for a content word.
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from app.blueprints.routing import analysis, lexicon

MIN_LENGTH, MAX_LENGTH = 2, 4
# jieba's dictionary frequency from which a character pair or triple counts as an ordinary word
ORDINARY_WORD = 30
FUNCTION_CHARS = frozenset("不了的着过吗呢吧啊呀么就都也还又很得地把被让给在是有个这那我你他她它们一谁上下要没")


@lru_cache(maxsize=16384)
def syllable(char: str) -> str:
    """The toneless pinyin of one character; the character itself when it has none."""
    from pypinyin import Style, lazy_pinyin

    if not "\u3400" <= char <= "\u9fff":
        return char
    return lazy_pinyin(char, style=Style.NORMAL)[0]


def _cjk(word: str) -> bool:
    return all("\u3400" <= char <= "\u9fff" for char in word)


class Homophones:
    def __init__(self, vocabulary: Iterable[str], *, short: Iterable[str] = ()):
        self.by_sound: dict[tuple[str, ...], list[str]] = {}
        short = set(short)
        for word in set(vocabulary) | short:
            if len(word) == MIN_LENGTH and word not in short:
                continue
            if MIN_LENGTH <= len(word) <= MAX_LENGTH and _cjk(word):
                self.by_sound.setdefault(tuple(syllable(c) for c in word), []).append(word)
        self._frequencies = analysis.tokenizer().FREQ

    def _ordinary(self, word: str) -> bool:
        return self._frequencies.get(word, 0) >= ORDINARY_WORD

    def _inside_other_word(self, text: str, position: int, start: int, end: int) -> bool:
        """Whether the character at `position` is part of an ordinary word that reaches outside [start, end)."""
        for first in range(max(position - 2, 0), position + 1):
            for last in range(max(first + 2, position + 1), min(first + 3, len(text)) + 1):
                if (first < start or last > end) and self._ordinary(text[first:last]):
                    return True
        return False

    def correct(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """The text with homophone misspellings of vocabulary words replaced, and (wrong, right) for each."""
        if not self.by_sound:
            return text, []
        sounds = [syllable(c) for c in text]
        fixes: list[tuple[str, str]] = []
        replaced = list(text)
        taken = [False] * len(text)
        for length in range(MAX_LENGTH, MIN_LENGTH - 1, -1):
            allowed = 1 if length <= 3 else 2
            for start in range(len(text) - length + 1):
                end = start + length
                if any(taken[start:end]):
                    continue
                candidates = self.by_sound.get(tuple(sounds[start:end]))
                if not candidates:
                    continue
                window = text[start:end]
                if window in candidates or not _cjk(window) or self._ordinary(window):
                    continue
                best, best_shared, tied = None, 0, False
                for word in candidates:
                    shared = sum(a == b for a, b in zip(word, window))
                    if shared > best_shared:
                        best, best_shared, tied = word, shared, False
                    elif shared == best_shared:
                        tied = True
                if best is None or tied or length - best_shared > allowed:
                    continue
                changed = [start + i for i, (a, b) in enumerate(zip(best, window)) if a != b]
                if any(text[p] in FUNCTION_CHARS for p in changed) or \
                        any(self._inside_other_word(text, p, start, end) for p in range(start, end)):
                    continue
                replaced[start:end] = best
                taken[start:end] = [True] * length
                fixes.append((window, best))
        return ("".join(replaced), fixes) if fixes else (text, [])


def for_phrases(phrases: Iterable[str]) -> Homophones:
    """Homophones of a catalogue: its phrases (keywords and names, normalized) and their words, and
    the lexicon's hand-picked short words."""
    phrases = set(phrases)
    vocabulary = phrases | {word for phrase in phrases for word in analysis.words(phrase)}
    return Homophones(vocabulary, short=lexicon.VOCABULARY)
