"""Sentiment of free text in every language of the product, offline.

`sentiment_score(text)` is the contract the answer writer and the follow-up rules use;
`sentiment_analyse(text)` also says which language's method scored it. The language is
found from the script (surveys.sentiment.detect); each language has its own method
(surveys.sentiment.analysers), loaded once per process on first use. Accuracy per
language: `make bench-sentiment` and the README's Sentiment section.
"""

from surveys.sentiment.analysers import SCORERS
from surveys.sentiment.detect import EN, language_detect


def sentiment_analyse(text: str) -> tuple[str | None, float | None]:
    """(language, polarity in [-1, 1]); (None, None) for an empty text.

    Text without letters (digits, emoji) is scored by the English method, as before.
    """
    text = (text or "").strip()
    if not text:
        return None, None
    language = language_detect(text)
    polarity = SCORERS[language or EN](text)
    return language, max(-1.0, min(1.0, round(float(polarity), 4)))


def sentiment_score(text: str) -> float | None:
    """Polarity in [-1, 1], or None for an empty text."""
    return sentiment_analyse(text)[1]


__all__ = ["language_detect", "sentiment_analyse", "sentiment_score"]
