"""The language of a text answer, from the script its letters are written in.

Chorus speaks English, Thai, Hebrew and Japanese; each of the last three has a script
of its own, so counting letters per Unicode block is exact enough and costs microseconds
— no statistical language model, nothing to load. Mixed text goes to the script with
the most letters (a Thai complaint that names an English brand is still Thai).
"""

import re

EN, TH, HE, JA = "en", "th", "he", "ja"
LANGUAGES = (EN, TH, HE, JA)
_ASCII_LETTER = re.compile(r"[A-Za-z]")


def _script(code: int) -> str | None:
    if 0x0E00 <= code <= 0x0E7F:
        return TH
    if 0x0590 <= code <= 0x05FF or 0xFB1D <= code <= 0xFB4F:
        return HE
    # Hiragana, katakana (and the half-width forms), CJK ideographs.
    if (
        0x3040 <= code <= 0x30FF
        or 0x31F0 <= code <= 0x31FF
        or 0xFF66 <= code <= 0xFF9F
        or 0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
    ):
        return JA
    if (0x41 <= code <= 0x5A) or (0x61 <= code <= 0x7A) or (0xC0 <= code <= 0x24F):
        return EN
    return None


def language_detect(text: str) -> str | None:
    """ "en", "th", "he" or "ja" by the dominant script; None when the text has no letters."""
    if text.isascii():
        # Most answers: only English's letters can be there, and one is enough to know.
        return EN if _ASCII_LETTER.search(text) else None
    counts = dict.fromkeys(LANGUAGES, 0)
    for char in text:
        script = _script(ord(char))
        if script is not None:
            counts[script] += 1
    best = max(LANGUAGES, key=lambda lang: counts[lang])
    return best if counts[best] else None
