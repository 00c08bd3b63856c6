"""The fast linear scorer (C-level n-gram counting, one arithmetic loop) computes what the plain loops compute."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import pipeline
from pipeline.model import LinearModel
from pipeline.text import tokenize

ROOT = Path(__file__).resolve().parent.parent


def _reference_features(model: LinearModel, tokens: list[str]) -> Counter[str]:
    """The position-by-position loop that LinearModel.features replaced."""
    if model.stop_words:
        tokens = [t for t in tokens if t not in model.stop_words]
    lo, hi = model.ngram_range
    counts: Counter[str] = Counter()
    for n in range(lo, min(hi, len(tokens)) + 1):
        for i in range(len(tokens) - n + 1):
            gram = tokens[i] if n == 1 else " ".join(tokens[i : i + n])
            if gram in model.vocabulary:
                counts[gram] += 1
    return counts


def _reference_contributions(model: LinearModel, counts: Counter[str]) -> tuple[float, dict[str, float]]:
    """The plain loops for the logit and each feature's share of it (TF-IDF value over the norm, times the weight)."""
    values = {}
    for gram, c in counts.items():
        tf = 1.0 + math.log(c) if model.sublinear_tf else float(c)
        values[gram] = tf * model.idf[model.vocabulary[gram]]
    norm = math.sqrt(sum(v * v for v in values.values()))
    shares = {}
    if norm > 0:
        for gram, v in values.items():
            shares[gram] = v / norm * model.weights[model.vocabulary[gram]]
    return model.intercept + math.fsum(shares.values()), shares


def _texts() -> list[str]:
    texts = [
        json.loads(line)["original"] for line in (ROOT / "corpus" / "passages.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    for path in sorted((ROOT / "corpus" / "eval").glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return texts


@pytest.fixture(scope="module")
def models() -> list[Any]:
    """The shipped model's linear export and, if it has one, its gate; plus a variant without sublinear tf."""
    linear = pipeline.load().linear
    found = [linear] + ([linear.gate] if linear.gate is not None else [])
    import dataclasses

    return [*found, dataclasses.replace(linear, sublinear_tf=not linear.sublinear_tf, gate=None)]


def _check(model: LinearModel, tokens: list[str]) -> None:
    counts = model.features(tokens)
    expected = _reference_features(model, tokens)
    assert [(model.terms[i], c) for i, c in counts.items()] == list(expected.items())  # same counts, same order
    ref_logit, ref_shares = _reference_contributions(model, expected)
    assert model.logit(counts) == pytest.approx(ref_logit, abs=1e-12)
    _, rows, products, norm = model.pulls(counts)
    shares = {i: p / norm for i, p in zip(rows, products, strict=True)} if norm else {}
    assert list(shares) == sorted(shares)  # in feature (that is, term) order
    assert {model.terms[i]: share for i, share in shares.items()} == pytest.approx(ref_shares, abs=1e-12)


@pytest.mark.slow
def test_features_logit_and_contributions_equal_the_plain_loops(models: list[Any]) -> None:
    for text in [*_texts(), "", "销售 销售 销售", "市场调研"]:
        tokens = tokenize(text)
        for model in models:
            _check(model, tokens)


def test_trigrams_and_stop_words_are_counted_as_scikit_learn_forms_them() -> None:
    model = LinearModel(
        vocabulary={"a": 0, "b c": 1, "a b c": 2, "c a": 3, "x": 4},
        idf=[1.0, 2.0, 3.0, 1.5, 9.0],
        weights=[0.5, -1.0, 2.0, 0.25, 7.0],
        intercept=0.1,
        ngram_range=(1, 3),
        sublinear_tf=True,
        stop_words=frozenset({"x"}),
    )
    tokens = ["a", "x", "b", "c", "a", "b", "c", "x"]
    # "x" is dropped before n-grams are formed, so "a b c" occurs twice and "c a" once; "x" itself never counts
    assert {model.terms[i]: c for i, c in model.features(tokens).items()} == {"a": 2, "b c": 2, "a b c": 2, "c a": 1}
    _check(model, tokens)
    _check(model, [])
