"""Evaluate a model on labelled documents: the figures people need to decide whether to trust it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline.config import LABELS
from pipeline.metrics import classification_figures
from pipeline.predict import INSUFFICIENT, Classifier
from pipeline.readers import Labelled


def evaluate(clf: Classifier, docs: Sequence[Labelled]) -> dict[str, Any]:
    """Score labelled documents and return classification figures plus the worst errors."""
    results = [clf.score(d.text) for d in docs]
    gold = [d.label for d in docs]
    pred = [r.label for r in results]
    figures = classification_figures(gold, pred)
    # Brier score: mean squared distance between P(marketing) and the truth (0 best, 0.25 = coin).
    truth = [1.0 if g == "marketing" else 0.0 for g in gold]
    probs = [r.marketing_probability for r in results]
    figures["brier"] = round(sum((p - t) ** 2 for p, t in zip(probs, truth, strict=True)) / len(docs), 4) if docs else 0.0
    figures["insufficient_signal_rate"] = round(sum(r.verdict == INSUFFICIENT for r in results) / len(docs), 4) if docs else 0.0
    errors = [
        (abs(r.marketing_probability - t), d, r)
        for d, r, t in zip(docs, results, truth, strict=True)
        if r.label != d.label
    ]
    errors.sort(key=lambda e: (-e[0], e[1].id))
    figures["worst_errors"] = [
        {
            "id": d.id,
            "gold": d.label,
            "marketing_probability": round(r.marketing_probability, 4),
            "evidence": {side: [e.term for e in r.terms(side, 5)] for side in LABELS},
        }
        for _, d, r in errors[:10]
    ]
    return figures
