"""Classification figures computed in plain Python, so evaluation needs no scikit-learn import."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline.config import LABELS


def classification_figures(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, Any]:
    """Return accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix."""
    n = len(y_true)
    per_class: dict[str, dict[str, float]] = {}
    for label in LABELS:
        tp = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t == label and p == label)
        fp = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t != label and p == label)
        fn = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": sum(1 for t in y_true if t == label),
        }
    confusion = {t: {p: sum(1 for a, b in zip(y_true, y_pred, strict=True) if a == t and b == p) for p in LABELS} for t in LABELS}
    correct = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t == p)
    return {
        "n": n,
        "accuracy": round(correct / n, 4) if n else 0.0,
        "macro_f1": round(sum(c["f1"] for c in per_class.values()) / len(LABELS), 4),
        "per_class": per_class,
        "confusion": confusion,
    }


def brier(gold: Sequence[str], probabilities: Sequence[float]) -> float:
    """Mean squared distance between P(marketing) and the truth: 0 is perfect, 0.25 a coin toss."""
    if not gold:
        return 0.0
    return round(sum((p - (g == "marketing")) ** 2 for g, p in zip(gold, probabilities, strict=True)) / len(gold), 4)


def reliability(gold: Sequence[str], probs: Sequence[float], bins: int = 5) -> list[dict[str, Any]]:
    """Calibration table: per probability bin, the count, mean P(marketing) and share truly marketing."""
    rows = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, p in enumerate(probs) if lo <= p < hi or (b == bins - 1 and p == 1.0)]
        rows.append(
            {
                "bin": f"{lo:.1f}–{hi:.1f}",
                "n": len(idx),
                "mean_probability": round(sum(probs[i] for i in idx) / len(idx), 3) if idx else None,
                "marketing_share": round(sum(gold[i] == "marketing" for i in idx) / len(idx), 3) if idx else None,
            }
        )
    return rows
