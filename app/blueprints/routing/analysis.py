"""Text analysis shared by the index, the query and training: one function, so all three agree.

A text becomes weighted terms: jieba words (search mode, so 天然气管道 also yields 天然气
and 管道) and character bigrams of every Chinese run, which still match when a caller's
wording or a misspelling splits jieba's words differently. Change anything that alters
the terms and bump ANALYZER_VERSION: stored models of another version are ignored.
"""
from __future__ import annotations

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from app.blueprints.routing import lexicon

ANALYZER_VERSION = 3  # 2: grammar-fragment bigrams dropped, 打不通/不通 stopwords, homophones; 3: 么 for 没, round-3 concepts

WORD_WEIGHT = 1.0
BIGRAM_WEIGHT = 0.5     # a bigram alone is weaker evidence than a word
EXPANSION_WEIGHT = 0.7  # a term the lexicon added is weaker than the caller's own words

_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_SPACES = re.compile(r"\s+")
# Clause boundaries: punctuation, and the words callers use to start another matter.
_CLAUSE_SPLIT = re.compile(r"[。！？!?；;，,、\n]+|还有|另外|而且|顺便|再一个|再就是|同时")
_KEEP = re.compile(r"[\u3400-\u9fffa-z0-9]")

# Call-taking filler: present in almost every call and in no category.
STOPWORDS = frozenset("""
我们 你们 他们 她们 我家 你家 他家 咱们 这个 那个 这里 那里 这边 那边 现在 已经 一直 一下 一个 一点
什么 怎么 怎么办 为什么 没有 不是 就是 还是 可以 能不能 是不是 有没有 有人 有个 一些 这么 那么 然后
还有 而且 但是 因为 所以 如果 的话 麻烦 师傅 同志 警察 警官 你好 您好 谢谢 赶紧 赶快 快点 帮忙 帮帮
报警 打电话 电话里 我要 我想 请问 我是 这是 那是 一下子 好几 半天 时候 今天 昨天 刚才 刚刚 早上 晚上
了一 了个 的人 是个 在我 到我 我的 你的 他的 的时 时候了
起来 下来 上来 出来 进来 过来 回来 过去 出去 进去 下去 上去 一直 好像 看着 感觉 觉得 知道 不知道
地上 上面 下面 里面 外面 旁边 附近 不对 不了 不行 厉害 特别 非常 真的 一样 这样 那样 怎样 多少
几个 好多 很多 大家 人家 别人 自己 东西 事情 情况 地方 这种 那种 马上 立刻 到底 还在 正在 都是
也是 不要 需要 应该 可能 能够 得了 天天 每天 一次 一会 老是 总是 根本 肯定 结果 要是 只有 只是
打不通 不通 不接 没人接 关机 关机了
""".split())
# A character pair that is not one of the caller's words and holds one of these is a fragment of grammar
# (说不, 打不, 停了, 口有), not evidence: it is dropped from the query.
_GRAMMAR_CHARS = frozenset("不了的着过吗呢吧啊呀么就都也还又很得地把被让给在是有个这那我你他她它们")


@dataclass
class Analysis:
    """A text as the suggester sees it."""

    text: str                                   # normalized, misspellings fixed
    terms: dict[str, float]                     # term -> query weight
    via: dict[str, str] = field(default_factory=dict)            # expanded term -> the caller's words
    expansions: list[str] = field(default_factory=list)          # canonical terms the lexicon added
    concept_of: dict[str, int] = field(default_factory=dict)     # expanded term -> its concept number
    fixes: list[tuple[str, str]] = field(default_factory=list)   # (misspelling, correction)
    threat: str | None = None                   # the caller's words that say a life is at risk now
    company: tuple[str, str] | None = None      # (unit short name, the caller's words) of the one company named


_tokenizer = None
_tokenizer_lock = threading.Lock()


def tokenizer():
    """A private jieba tokenizer: loading its dictionary takes ~1 s, so once per process."""
    global _tokenizer
    if _tokenizer is None:
        with _tokenizer_lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                instance = jieba.Tokenizer()
                instance.initialize()
                _tokenizer = instance
    return _tokenizer


def normalize(text: str) -> str:
    """Full-width to half-width, lower case, no spaces: the form every comparison uses."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text)).lower()


def words(text: str) -> list[str]:
    return [w for w in tokenizer().cut_for_search(text, HMM=True)
            if len(w) >= 2 and _KEEP.search(w) and w not in STOPWORDS]


@lru_cache(maxsize=4096)
def _term_words(term: str) -> tuple[str, ...]:
    """A lexicon term (a correction, a concept's canonical term) and its words: a small fixed vocabulary,
    so segmented once per process instead of on every query."""
    return tuple(sorted({term, *words(term)}))


def bigrams(text: str) -> list[str]:
    grams = []
    for run in _CJK_RUN.findall(text):
        grams += [run[i:i + 2] for i in range(len(run) - 1)]
    return [g for g in grams if g not in STOPWORDS]


def field_terms(text: str) -> set[str]:
    """Terms of a catalogue field (a name, a description): words and bigrams, unweighted."""
    text = normalize(text)
    return set(words(text)) | set(bigrams(text))


def read(raw: str, *, use_lexicon: bool = True, homophones=None) -> tuple[str, list[tuple[str, str]]]:
    """The text every comparison reads: normalized and, with the lexicon, misspellings fixed (by the
    lexicon's list, then by sound against `homophones`); and the (misspelling, correction) pairs."""
    text = normalize(raw)
    fixes: list[tuple[str, str]] = []
    if use_lexicon:
        text, fixes = lexicon.fix_typos(text)
        if homophones is not None:
            text, heard = homophones.correct(text)
            fixes += heard
    return text, fixes


def analyze(raw: str, *, use_lexicon: bool = True, homophones=None) -> Analysis:
    """A caller's words as weighted terms; with the lexicon, misspellings fixed and concepts added.

    `homophones` (a `homophones.Homophones`, built by the index from its vocabulary) also reads
    misspellings of the same sound as the word meant.
    """
    text, fixes = read(raw, use_lexicon=use_lexicon, homophones=homophones)
    expansions: list[tuple[str, str, int]] = lexicon.expand(text) if use_lexicon else []
    terms: dict[str, float] = {}
    caller_words = words(text)
    spoken = set(caller_words)
    for gram in bigrams(text):
        if gram not in spoken and (gram[0] in _GRAMMAR_CHARS or gram[1] in _GRAMMAR_CHARS):
            continue
        terms[gram] = max(terms.get(gram, 0.0), BIGRAM_WEIGHT)
    for word in caller_words:
        terms[word] = WORD_WEIGHT
    via: dict[str, str] = {}
    for wrong, right in fixes:
        for term in _term_words(right):
            via.setdefault(term, wrong)
    concept_of: dict[str, int] = {}
    for canonical, said, number in expansions:
        concept_of.setdefault(canonical, number)
        if said != canonical:
            via.setdefault(canonical, said)
        for term in _term_words(canonical):
            if term not in terms:
                terms[term] = EXPANSION_WEIGHT
                via.setdefault(term, said)
                concept_of[term] = number
    return Analysis(text=text, terms=terms, via=via, expansions=[c for c, _, _ in expansions],
                    concept_of=concept_of, fixes=fixes, threat=lexicon.life_threat(text) if use_lexicon else None,
                    company=lexicon.named_company(text) if use_lexicon else None)


def clauses(raw: str) -> list[str]:
    """The parts of a call that may each be a problem of their own; short fragments join the next."""
    parts = [p for p in _CLAUSE_SPLIT.split(normalize(raw)) if p]
    merged: list[str] = []
    carry = ""
    for part in parts:
        part = carry + part
        if len(part) < 5:
            carry = part
            continue
        merged.append(part)
        carry = ""
    if carry:
        if merged:
            merged[-1] += carry
        else:
            merged.append(carry)
    return merged
