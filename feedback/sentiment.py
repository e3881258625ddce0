"""Sentiment scoring lives in surveys.sentiment: answers are scored as they are stored."""

from surveys.sentiment import sentiment_score

__all__ = ["sentiment_score"]
