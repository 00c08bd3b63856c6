"""Score a chunk of tokenized documents at once: records equal, bit for bit, to `Result.to_dict()` of each.

Text by text, scoring costs a tenth or more of what jieba takes to segment (a Python loop over a
hundred features, twice, and a sort for the evidence). For a chunk, the n-grams of every document are
looked up in one C-level pass per n-gram length, and the arithmetic (TF-IDF, norms, dot products,
signal counts, the evidence ranking) runs in numpy over the whole chunk.

The records are the same as the text-by-text path's, not just close: both sum each document's terms
in feature (term) order, one addition after another (np.bincount adds in input order), take the sublinear
term frequency from the same Python function, and apply the sigmoid and the rounding in Python.
tests/test_batch.py holds the two paths together on every corpus and evaluation text.

numpy is imported only here, and batches use this only for chunks of parallel.MIN_BATCH documents or
more, so scoring one text in a fresh process never loads it.
"""

from __future__ import annotations

from itertools import islice, repeat
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.model import LinearModel, sigmoid, sublinear_tf
from pipeline.predict import score_record, term_record

if TYPE_CHECKING:
    from pipeline.predict import Classifier

_SEPARATOR = "\x00"  # between documents in the joined token stream: no vocabulary holds it, so no n-gram spans two


class _Counted:
    """One model's features over a chunk, sorted by document, then feature: doc, feature index, count."""

    def __init__(self, model: LinearModel, token_lists: list[list[str]]) -> None:
        stop = model.stop_words
        flat: list[str] = []
        lengths = []
        for tokens in token_lists:
            if stop and not stop.isdisjoint(tokens):
                tokens = [t for t in tokens if t not in stop]
            flat.extend(tokens)
            flat.append(_SEPARATOR)
            lengths.append(len(tokens) + 1)
        doc_at = np.repeat(np.arange(len(token_lists)), lengths)  # the document of each position in flat
        lo, hi = model.ngram_range
        size = len(model.vocabulary)
        keys = []
        for n in range(lo, hi + 1):
            grams = flat if n == 1 else zip(*(islice(flat, i, None) for i in range(n)), strict=False)
            found = np.fromiter(map(model._lookups[n - 1].get, grams, repeat(-1)), dtype=np.int64, count=len(flat) - n + 1)
            hit = found >= 0
            keys.append(doc_at[: len(found)][hit] * size + found[hit])
        unique, counts = np.unique(np.concatenate(keys), return_counts=True)
        self.doc, self.feature = np.divmod(unique, size)
        self.count = counts

    def pulls(self, model: LinearModel, n_docs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per feature: TF-IDF value times weight; per document: logit and L2 norm (as LinearModel.pulls)."""
        if model.sublinear_tf:
            table = np.array([0.0] + [sublinear_tf(c) for c in range(1, int(self.count.max(initial=0)) + 1)])
            tf = table[self.count]
        else:
            tf = self.count.astype(np.float64)
        idf, weights = model.arrays
        values = tf * idf[self.feature]
        products = values * weights[self.feature]
        dot = np.bincount(self.doc, weights=products, minlength=n_docs)
        square = np.bincount(self.doc, weights=values * values, minlength=n_docs)
        norm = np.sqrt(square)
        with np.errstate(divide="ignore", invalid="ignore"):
            logit = np.where(square > 0, model.intercept + dot / norm, model.intercept)
        return products, logit, norm


def _top(
    counted: _Counted, products: np.ndarray, norm: np.ndarray, n_docs: int, sign: float, limit: int, terms: list[str]
) -> list[list[dict[str, Any]]]:
    """Per document, the `limit` strongest pulls towards one side (sign -1: sales, +1: marketing), equal pulls by term."""
    order = np.lexsort((counted.feature, -sign * products, counted.doc))
    docs = counted.doc[order]
    starts = np.searchsorted(docs, np.arange(n_docs))
    # Within its document, a feature's place in that order; only the first `limit` pulling this way count.
    chosen = order[(np.arange(len(order)) - starts[docs] < limit) & (sign * products[order] > 0)]
    out: list[list[dict[str, Any]]] = [[] for _ in range(n_docs)]
    for d, f, c, share in zip(
        counted.doc[chosen].tolist(),
        counted.feature[chosen].tolist(),
        counted.count[chosen].tolist(),
        (products[chosen] / norm[counted.doc[chosen]]).tolist(),
        strict=True,
    ):
        out[d].append(term_record(terms[f], c, share, None))
    return out


def score_records(clf: Classifier, token_lists: list[list[str]], limit: int = 10) -> list[dict[str, Any]]:
    """The record `clf.score_tokens(tokens).to_dict(limit)` gives, for every token list of a chunk."""
    model, n_docs = clf.linear, len(token_lists)
    counted = _Counted(model, token_lists)
    products, logits, norm = counted.pulls(model, n_docs)
    strong = np.abs(model.arrays[1][counted.feature]) >= clf._signal_weight  # as Classifier._strong
    signals = np.bincount(counted.doc, weights=np.where(strong, counted.count, 0), minlength=n_docs).astype(np.int64).tolist()
    if model.gate is not None:
        gated = _Counted(model.gate, token_lists)
        gates = [sigmoid(x) for x in gated.pulls(model.gate, n_docs)[1].tolist()]
    else:
        gates = [1.0] * n_docs
    sales = _top(counted, products, norm, n_docs, -1.0, limit, model.terms)
    marketing = _top(counted, products, norm, n_docs, 1.0, limit, model.terms)
    records = []
    for d, logit in enumerate(logits.tolist()):
        p = sigmoid(logit)
        verdict = clf.verdict(p, signals[d], gates[d])
        records.append(score_record(clf._label(p), p, verdict, signals[d], gates[d], sales[d], marketing[d]))
    return records
