"""Give a trained model its verdict settings, and its figures on the sets written for the project.

The evaluation sets (corpus/eval/) are never used to fit weights or to choose settings: the verdict
settings were chosen on real postings (config.VERDICT, the lever study), so figures on the written
sets are sanity checks. Figures on any labelled file are pipeline.training.realeval's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline import config
from pipeline.config import LABELS
from pipeline.model import LinearModel
from pipeline.training.metrics import classification_figures


def read_eval_set(name: str) -> list[tuple[str, str, str]]:
    """Read one evaluation set as (id, text, label) triples."""
    path = config.EVAL_DIR / config.EVAL_FILES.get(name, name)
    with path.open(encoding="utf-8") as fh:
        return [(r["id"], r["text"], r["label"]) for r in map(json.loads, fh)]


def verdict_settings(linear: LinearModel) -> tuple[dict[str, Any], dict[str, Any]]:
    """The verdict settings (config.VERDICT, with the model's own strong-term weight) and the figures on the written sets."""
    from pipeline.predict import Classifier

    ranked = sorted(abs(w) for w in linear.weights)
    # A signal term is among the stronger half of the vocabulary, so evidence shown is evidence.
    verdict = {**config.VERDICT, "signal_weight": round(ranked[len(ranked) // 2], 6) if ranked else 0.0}
    clf = Classifier(linear, {"verdict": verdict}, Path("unsaved"))
    evaluation: dict[str, Any] = {}
    for name, file in config.EVAL_SETS.items():
        if not (config.EVAL_DIR / file).exists():
            continue
        docs = read_eval_set(name)
        results = [clf.score(text) for _, text, _ in docs]
        entry: dict[str, Any] = {
            "n": len(docs),
            "insufficient_signal_rate": round(sum(r.label is None for r in results) / len(docs), 4),
        }
        pairs = [(label, r.side) for (_, _, label), r in zip(docs, results, strict=True) if label in LABELS]
        if pairs:
            figures = classification_figures([g for g, _ in pairs], [p for _, p in pairs])
            entry.update(accuracy=figures["accuracy"], macro_f1=figures["macro_f1"])
        evaluation[name] = entry
    return verdict, evaluation
