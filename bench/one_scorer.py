"""What one text would cost if it were scored by the chunk scorer, as a chunk of one, instead of text by text.

The single-text path (LinearModel.features and pulls, in Python) and the chunk path (pipeline.batch, in numpy)
compute the same numbers, bit for bit. This measures, on the examples, the scoring of one already tokenized
text both ways: why a single text does not go through numpy (docs/architecture.md).

    .venv/bin/python bench/one_scorer.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pipeline
from pipeline import batch
from pipeline.text import tokenize

ROOT = Path(__file__).resolve().parent.parent


def microseconds(f: Callable[[], object], n: int = 400, rounds: int = 7) -> float:
    """The median over rounds of the mean time of one call, in microseconds."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            f()
        times.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(times)


def main() -> None:
    """Print, per example, the single-text path's time and the chunk-of-one path's, and their ratio."""
    clf = pipeline.load()
    numbers = batch.term_numbers(clf)
    print("| example | tokens | text by text (µs) | chunk of one (µs) | ratio |\n|---|---|---|---|---|")
    for path in sorted((ROOT / "examples").glob("*.txt")):
        tokens = tokenize(path.read_text(encoding="utf-8"))
        numbered = [numbers(tokens)]
        single = microseconds(lambda tokens=tokens: clf.score_tokens(tokens))
        chunk = microseconds(lambda numbered=numbered: batch.score_results(clf, numbered))
        print(f"| {path.name} | {len(tokens)} | {single:.0f} | {chunk:.0f} | {chunk / single:.1f}× |")


if __name__ == "__main__":
    main()
