"""Sentiment of free text, with TextBlob's bundled lexicon (no corpus downloads)."""

from textblob.en.sentiments import PatternAnalyzer

_analyzer = PatternAnalyzer()


def sentiment_score(text: str) -> float | None:
    """Polarity in [-1, 1], or None for an empty text.

    The lexicon is English; text in Thai, Hebrew or Japanese scores 0.0 (neutral), so
    only the score rules can flag it.
    """
    text = (text or "").strip()
    if not text:
        return None
    polarity = _analyzer.analyze(text).polarity
    return max(-1.0, min(1.0, round(float(polarity), 4)))
