"""Sentiment of what customers write, offline, in en/zh/ro/th (docs/sentiment.md).

classify(text) -> Verdict(language, sentiment, score): sentiment is positive, neutral, negative or
unclassified (no opinion word found, or a language this cannot read: never guessed); score is a
compound in [-1, 1] (None when unclassified).

- en: VADER (nltk-vader-sentiment, its lexicon ships in the wheel).
- ro, zh, th: the project's word lists (sentiment_lexicons/*.tsv) with negators, intensifiers and
  contrast words. ro is matched on tokens with diacritics folded (ș/ş/s, ț/ţ/t, ă/â/a, î/i); zh by
  the longest lexicon entry at each character; th on pythainlp's newmm tokens, each scanned the
  same way as zh (a token may hold several words).
"""
from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path

LEXICONS = Path(__file__).parent / "sentiment_lexicons"
LANGUAGES = ("en", "zh", "ro", "th")
SENTIMENTS = ("positive", "neutral", "negative", "unclassified")
CODE_VERSION = "1"
THRESHOLD = 0.05  # |compound| below it is neutral (VADER's convention)
NEGATION = -0.74  # VADER's N_SCALAR: a negated opinion word flips and weakens
BOOST = 1.3
ALPHA = 15.0  # VADER's normalisation: x / sqrt(x^2 + alpha)
# how far before an opinion word a negator still applies: tokens (ro, th) or characters (zh)
NEG_REACH = {"ro": 3, "th": 3, "zh": 3}

RO_MARKS = set("ăâîșțşţ")
THAI = re.compile("[\u0e00-\u0e7f]")
CJK = re.compile("[\u4e00-\u9fff\u3400-\u4dbf]")
RO_MARK = re.compile("[ăâîșțşţĂÂÎȘȚŞŢ]")
LATIN = re.compile("[A-Za-zăâîșțşţĂÂÎȘȚŞŢ]")
EN_WORDS = frozenset("the and is was i you to of it not my for with this very but have are be on no your me "
                     "they we an at that what please thanks thank can would could did does".split())
RO_WORDS = frozenset("si nu este e sunt am a fost de la cu pe un o mai foarte care ca pentru din sau dar imi "
                     "mi ma va voi ati inca deja acum dupa fara nici ce cand cum multumesc".split())


@dataclass(frozen=True)
class Verdict:
    language: str
    sentiment: str
    score: float | None


def fold_ro(text: str) -> str:
    """Lower case without diacritics; cedilla and comma forms (ş ș, ţ ț) fold alike."""
    text = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in text if unicodedata.category(c) != "Mn")


def detect(text: str) -> str:
    """en, zh, ro, th by script, then en vs ro by diacritics and function words; else unclassified."""
    thai = len(THAI.findall(text))
    cjk = len(CJK.findall(text))
    latin = len(LATIN.findall(text))
    if not thai and not cjk and not latin:
        return "unclassified"
    if thai >= cjk and thai * 2 >= latin:  # a Thai or Chinese letter carries more than a Latin one
        return "th"
    if cjk > thai and cjk * 3 >= latin:
        return "zh"
    if RO_MARK.search(text):
        return "ro"
    words = re.findall(r"[a-z]+", fold_ro(text))
    en = sum(w in EN_WORDS for w in words)
    ro = sum(w in RO_WORDS for w in words)
    enough = min(2, len(words))  # one stray "mi" or "a" does not make Spanish Romanian
    if en > ro and en >= enough:
        return "en"
    if ro > en and ro >= enough:
        return "ro"
    # too few function words ("Great service!"): the opinion words of each language decide, if any
    en_lex = sum(1 for w in words if _vader().lexicon.get(w))
    ro_lex = sum(1 for k, _, _ in _ro_hits(" ".join(words), lexicon("ro")) if k == "w")
    if en_lex or ro_lex:
        if en + en_lex > ro + ro_lex:
            return "en"
        if ro + ro_lex > en + en_lex:
            return "ro"
    return "unclassified"


@dataclass(frozen=True)
class Lexicon:
    words: dict[str, float]  # opinion word -> valence (-4..4)
    stems: dict[str, float]  # ro: word prefixes (entries ending in *)
    negators: frozenset[str]
    boosters: frozenset[str]
    contrast: frozenset[str]  # "but": what follows it weighs more
    terms: dict[str, tuple[str, float]]  # every entry -> (kind, valence): one lookup
    sizes: tuple[int, ...]  # the entries' lengths, longest first
    stem_order: tuple[str, ...]  # stems, longest first


@cache
def lexicon(lang: str) -> Lexicon:
    words, stems, neg, boost, contrast = {}, {}, set(), set(), set()
    for n, line in enumerate((LEXICONS / f"{lang}.tsv").read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        term, kind = [x.strip() for x in line.split("\t")[:2]]
        term = fold_ro(term) if lang == "ro" else term
        if kind == "NEG":
            neg.add(term)
        elif kind == "BOOST":
            boost.add(term)
        elif kind == "BUT":
            contrast.add(term)
        elif term.endswith("*"):
            stems[term[:-1]] = float(kind)
        else:
            words[term] = float(kind)
    terms = {**{t: ("but", 0.0) for t in contrast}, **{t: ("boost", 0.0) for t in boost},
             **{t: ("neg", 0.0) for t in neg}, **{t: ("w", v) for t, v in words.items()}}
    return Lexicon(words, stems, frozenset(neg), frozenset(boost), frozenset(contrast), terms,
                   tuple(sorted({len(t) for t in terms}, reverse=True)),
                   tuple(sorted(stems, key=len, reverse=True)))


@cache
def classifier_version() -> str:
    """Changes when the code, a word list or the VADER package changes: stored verdicts are then redone."""
    h = hashlib.sha256(CODE_VERSION.encode())
    for lang in ("en", "ro", "th", "zh"):
        h.update((LEXICONS / f"{lang}.tsv").read_bytes())
    h.update(version("nltk-vader-sentiment").encode())
    h.update(version("pythainlp").encode())
    return f"{CODE_VERSION}-{h.hexdigest()[:12]}"


STOPS = set(",.;:!?，。；：！？、\n")


def _scan(text: str, lex: Lexicon, at=None) -> list[tuple[str, float, int]]:
    """Longest lexicon entries from left to right: (kind, valence, position); punctuation is a
    clause stop. at: inside one Thai token, report that token index and read entries from the
    token's start only (so ช้า "slow" is not found inside เช้า "morning")."""
    out, i = [], 0
    while i < len(text):
        if text[i] in STOPS and at is None:
            out.append(("stop", 0.0, i))
            i += 1
            continue
        for size in lex.sizes:
            kind = lex.terms.get(text[i:i + size]) if i + size <= len(text) else None
            if kind:
                out.append((kind[0], kind[1], at if at is not None else i))
                i += size
                break
        else:
            if at is not None:
                break
            i += 1
    return out


def _ro_kind(tok: str, lex: Lexicon, memo: dict = {}) -> tuple[str, float] | None:
    """A Romanian token's entry: the word itself, else the longest stem it begins with (memoised)."""
    key = (id(lex), tok)
    if key not in memo:
        kind = lex.terms.get(tok)
        if kind is None:
            stem = next((s for s in lex.stem_order if tok.startswith(s)), None)
            kind = ("w", lex.stems[stem]) if stem else None
        if len(memo) > 200_000:
            memo.clear()
        memo[key] = kind
    return memo[key]


def _ro_hits(text: str, lex: Lexicon) -> list[tuple[str, float, int]]:
    out = []
    for i, tok in enumerate(re.findall(r"[a-z]+|[,.;:!?]", fold_ro(text))):
        kind = ("stop", 0.0) if tok in STOPS else _ro_kind(tok, lex)
        if kind:
            out.append((kind[0], kind[1], i))
    return out


@cache
def _thai_tokenizer():
    from pythainlp.tokenize import word_tokenize
    return word_tokenize


def _th_hits(text: str, lex: Lexicon) -> list[tuple[str, float, int]]:
    tokens = _thai_tokenizer()(text, engine="newmm", keep_whitespace=True)
    out = []
    for i, tok in enumerate(tokens):  # a space separates Thai clauses
        out += [("stop", 0.0, i)] if not tok.strip() or tok in STOPS else _scan(tok, lex, at=i)
    return out


def _compound(hits: list[tuple[str, float, int]], reach: int) -> float | None:
    """Sum of valences (negated, boosted, weighed around "but"), normalised; None without an opinion word."""
    if not any(k == "w" for k, _, _ in hits):
        return None
    but = max((p for k, _, p in hits if k == "but"), default=None)
    total = 0.0
    for j, (kind, v, pos) in enumerate(hits):
        if kind != "w":
            continue
        stop = max((i for i, h in enumerate(hits[:j]) if h[0] == "stop"), default=-1)
        before = [h for h in hits[stop + 1:j] if pos - h[2] <= reach]
        if any(h[0] == "boost" for h in before[-2:]):
            v *= BOOST
        if any(h[0] == "neg" for h in before):  # negative concord: nu ... nicio is one negation
            v *= NEGATION
        if but is not None:
            v *= 1.5 if pos > but else 0.5
        total += v
    return total / math.sqrt(total * total + ALPHA)


@cache
def _vader():
    from vader import SentimentIntensityAnalyzer
    extra = {}
    for line in (LEXICONS / "en.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            term, valence = line.split("\t")[:2]
            extra[term.strip()] = float(valence)
    return SentimentIntensityAnalyzer(extra_lexicon=extra)


WOULD_LIKE = re.compile(r"\b(would|'d)\s+like\b", re.I)  # a request, not "I like it"


def _en(text: str) -> float | None:
    s = _vader().polarity_scores(WOULD_LIKE.sub("ask", text))
    if not s["pos"] and not s["neg"]:
        return None  # VADER found no opinion word
    return s["compound"]


def classify(text: str | None, language: str | None = None) -> Verdict:
    """The text's language (detected unless given) and sentiment."""
    if not text or not text.strip():
        return Verdict("unclassified", "unclassified", None)
    lang = language or detect(text)
    if lang == "en":
        score = _en(text)
    elif lang == "ro":
        score = _compound(_ro_hits(text, lexicon("ro")), NEG_REACH["ro"])
    elif lang == "zh":
        score = _compound(_scan(text, lexicon("zh")), NEG_REACH["zh"])
    elif lang == "th":
        score = _compound(_th_hits(text, lexicon("th")), NEG_REACH["th"])
    else:
        return Verdict("unclassified", "unclassified", None)
    if score is None:
        return Verdict(lang, "unclassified", None)
    score = round(score, 4)
    label = "positive" if score >= THRESHOLD else "negative" if score <= -THRESHOLD else "neutral"
    return Verdict(lang, label, score)
