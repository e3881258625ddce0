"""Sentiment accuracy and throughput per language: `make bench-sentiment`.

Reads the labelled held-out sets in tests/data/sentiment/ (sources and licences in
tests/data/sentiment/README.md), scores each text with surveys.sentiment, and prints per
language: n, accuracy of the follow-up rule's decision "negative" (score < threshold),
precision and recall of "negative", and texts scored per second — beside bare TextBlob
on the English set in the same run. Offline: nothing is fetched.
"""

import argparse
import csv
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SETS = ROOT / "tests" / "data" / "sentiment"
LANGUAGES = ("en", "th", "he", "ja")
# The follow-up rule's default: a comment's polarity below −0.3 opens a case.
THRESHOLD = -0.3


def labelled(language: str) -> list[tuple[bool, str]]:
    with (SETS / f"{language}.tsv").open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [(row["label"] == "neg", row["text"]) for row in rows]


def measure(rows: list[tuple[bool, str]], score, *, threshold: float = THRESHOLD) -> dict:
    """Accuracy, precision and recall of "negative", and texts per second."""
    for _, text in rows[:5]:
        score(text)  # load the lexicon before the clock starts
    started = time.perf_counter()
    predicted = [(score(text) or 0.0) < threshold for _, text in rows]
    elapsed = time.perf_counter() - started
    truth = [negative for negative, _ in rows]
    tp = sum(p and t for p, t in zip(predicted, truth, strict=True))
    fp = sum(p and not t for p, t in zip(predicted, truth, strict=True))
    fn = sum(t and not p for p, t in zip(predicted, truth, strict=True))
    correct = sum(p == t for p, t in zip(predicted, truth, strict=True))
    return {
        "n": len(rows),
        "accuracy": correct / len(rows),
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "majority": max(sum(truth), len(truth) - sum(truth)) / len(truth),
        "per_second": len(rows) / elapsed if elapsed else float("inf"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    args = parser.parse_args()

    from textblob.en.sentiments import PatternAnalyzer

    from surveys.sentiment import sentiment_score

    bare = PatternAnalyzer()
    lines = [
        (
            "textblob-bare",
            "en",
            measure(labelled("en"), lambda t: bare.analyze(t).polarity, threshold=args.threshold),
        )
    ]
    lines += [
        ("chorus", lang, measure(labelled(lang), sentiment_score, threshold=args.threshold))
        for lang in LANGUAGES
    ]
    print(f"negative = score < {args.threshold}")
    columns = ("n", "acc", "major", "prec", "rec")
    print(f"{'method':<14} {'lang':<4} " + " ".join(f"{c:>6}" for c in columns) + " texts/s")
    for method, lang, m in lines:
        print(
            f"{method:<14} {lang:<4} {m['n']:>4} {m['accuracy']:>6.3f} {m['majority']:>6.3f} "
            f"{m['precision']:>6.3f} {m['recall']:>6.3f} {m['per_second']:>9.0f}"
        )


if __name__ == "__main__":
    main()
