"""Sentiment per language: script detection, offline scoring, and accuracy floors.

The floors are the figures `make bench-sentiment` measured on the held-out sets in
tests/data/sentiment/ (threshold −0.3) minus a margin of 0.03, so a regression fails.
"""

import time

import pytest

from bench.sentiment_accuracy import labelled, measure
from feedback.sentiment import sentiment_score as feedback_sentiment_score
from surveys.sentiment import language_detect, sentiment_analyse, sentiment_score


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("The staff were rude", "en"),
        ("พนักงานพูดจาไม่ดี", "th"),
        ("השירות היה גרוע", "he"),
        ("店員の対応が悪かった", "ja"),
        ("ร้าน Starbucks สาขานี้บริการแย่มาก", "th"),
        ("12345 !!!", None),
        # Not ASCII: Latin letters with accents still count as English's script…
        ("Très bien, crème brûlée", "en"),
        # …and symbols outside ASCII are no letters at all.
        ("— 😀 10/10 —", None),
        ("Great שירות מעולה", "he"),
    ],
)
def test_the_language_is_the_dominant_script(text, language):
    # given a text answer / when its language is detected / then the majority script wins
    assert language_detect(text) == language


def test_an_empty_text_has_no_language_and_no_score():
    assert sentiment_analyse("  ") == (None, None)
    assert sentiment_score("") is None


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("อาหารไม่อร่อย บริการแย่มาก ผิดหวัง", "th"),
        ("店員の態度が悪い。料理もまずい。", "ja"),
        ("美味しくない。", "ja"),
        ("The food was terrible and the staff were rude.", "en"),
    ],
)
def test_a_complaint_in_each_language_scores_below_the_follow_up_threshold(text, language):
    # given a complaint / when it is analysed / then its own language's method flags it
    detected, score = sentiment_analyse(text)
    assert detected == language
    assert score < -0.3


def test_a_thai_negation_flips_a_positive_word():
    # given "delicious" and "not delicious" / then the negated one scores lower
    assert sentiment_score("อาหารอร่อย") > 0
    assert sentiment_score("อาหารไม่อร่อย") < 0


def test_feedback_reexports_the_same_scorer():
    assert feedback_sentiment_score is sentiment_score


@pytest.mark.parametrize(
    ("language", "floor"),
    [("en", 0.56), ("th", 0.67), ("he", 0.74), ("ja", 0.58)],
)
def test_accuracy_on_the_held_out_set_stays_at_its_measured_level(language, floor):
    # given ≥ 200 labelled real sentences / when each is scored / then accuracy holds
    rows = labelled(language)
    assert len(rows) >= 200
    assert measure(rows, sentiment_score)["accuracy"] >= floor


def test_scoring_a_short_text_costs_well_under_a_millisecond():
    # given the lexicons loaded once / when short answers are scored / then each is cheap
    texts = ["บริการแย่มาก", "店員が失礼だった。", "השירות היה גרוע", "Rude staff."]
    for text in texts:
        sentiment_score(text)
    started = time.perf_counter()
    for _ in range(50):
        for text in texts:
            sentiment_score(text)
    per_text = (time.perf_counter() - started) / (50 * len(texts))
    assert per_text < 0.001
