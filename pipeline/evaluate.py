"""Evaluate a model on labelled documents, and give a trained model its verdict settings.

The evaluation sets (corpus/eval/) are never used to fit weights or to choose settings: the verdict
settings were chosen on real postings (config.VERDICT, the lever study), so figures on the written
sets are sanity checks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipeline import config
from pipeline.config import LABELS
from pipeline.metrics import brier, classification_figures
from pipeline.model import LinearModel
from pipeline.text import tokenize

NONE_LABEL = "none"
DEFAULT_VERDICT = {**config.VERDICT, "signal_weight": 0.0, "gate": 0.0}


@dataclass(frozen=True)
class Scored:
    """One evaluation document with its gold label and the model's raw outputs."""

    id: str
    gold: str
    probability: float
    weights: tuple[float, ...]  # |weight| of each in-vocabulary term occurrence
    gate: float = 1.0  # P(the text speaks of orientation at all)


def read_eval_set(name: str) -> list[tuple[str, str, str]]:
    """Read one evaluation set as (id, text, label) triples."""
    path = config.EVAL_DIR / config.EVAL_FILES.get(name, name)
    with path.open(encoding="utf-8") as fh:
        return [(r["id"], r["text"], r["label"]) for r in map(json.loads, fh)]


def score_raw(linear: LinearModel, docs: Sequence[tuple[str, str, str]]) -> list[Scored]:
    """Score documents with the linear model alone (no verdict settings needed)."""
    from pipeline.model import sigmoid

    out = []
    for doc_id, text, label in docs:
        tokens = tokenize(text)
        counts = linear.features(tokens)
        logit = linear.logit(counts)
        weights = tuple(abs(linear.weights[i]) for i, c in counts.items() for _ in range(c))
        gate = linear.gate.probability(tokens) if linear.gate is not None else 1.0
        out.append(Scored(doc_id, label, sigmoid(logit), weights, gate))
    return out


def _signal(s: Scored, weight: float) -> int:
    return sum(1 for w in s.weights if w >= weight)


def abstains(s: Scored, verdict: dict[str, Any]) -> bool:
    """Whether the verdict settings say `insufficient signal` for this document."""
    return s.gate < verdict["gate"] or _signal(s, verdict["signal_weight"]) < verdict["min_signal_terms"]


def verdict_settings(linear: LinearModel) -> tuple[dict[str, Any], dict[str, Any]]:
    """The verdict settings (config.VERDICT, with the model's own strong-term weight) and the figures on the written sets."""
    ranked = sorted(abs(w) for w in linear.weights)
    # A signal term is among the stronger half of the vocabulary, so evidence shown is evidence.
    verdict = {**config.VERDICT, "signal_weight": round(ranked[len(ranked) // 2], 6) if ranked else 0.0}
    names = [n for n in config.EVAL_SETS if (config.EVAL_DIR / config.EVAL_SETS[n]).exists()]
    scored = {name: score_raw(linear, read_eval_set(name)) for name in names}
    return verdict, headline(scored, verdict)


def headline(scored: dict[str, list[Scored]], verdict: dict[str, Any]) -> dict[str, Any]:
    """Per-set macro-F1 and insufficient-signal rate under the chosen verdict settings."""
    out: dict[str, Any] = {}
    for name, docs in scored.items():
        abstain = sum(abstains(s, verdict) for s in docs) / len(docs)
        entry: dict[str, Any] = {"n": len(docs), "insufficient_signal_rate": round(abstain, 4)}
        if name != "neutral":
            pred = ["marketing" if s.probability >= verdict["threshold"] else "sales" for s in docs]
            figures = classification_figures([s.gold for s in docs], pred)
            entry.update(accuracy=figures["accuracy"], macro_f1=figures["macro_f1"])
        out[name] = entry
    return out


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


def evaluate(clf: Any, docs: Sequence[Any]) -> dict[str, Any]:
    """Score labelled documents (`.id`, `.text`, `.label`) and return the full figures of one set."""
    from pipeline.predict import INSUFFICIENT

    results = [clf.score(d.text) for d in docs]
    gold = [d.label for d in docs]
    probs = [r.marketing_probability for r in results]
    n = len(docs)
    figures: dict[str, Any] = {"n": n}
    figures["insufficient_signal_rate"] = round(sum(r.verdict == INSUFFICIENT for r in results) / n, 4) if n else 0.0
    figures["verdicts"] = {v: sum(r.verdict == v for r in results) for v in sorted({r.verdict for r in results})}
    if not any(g in LABELS for g in gold):
        return figures
    figures.update(classification_figures(gold, [r.label for r in results]))
    figures["sentence_agreement"] = sentence_agreement(clf, [d.text for d in docs])
    truth = [1.0 if g == "marketing" else 0.0 for g in gold]
    figures["brier"] = brier(gold, probs)
    figures["reliability"] = reliability(gold, probs)
    errors = [
        (abs(r.marketing_probability - t), d, r) for d, r, t in zip(docs, results, truth, strict=True) if r.label != d.label
    ]
    errors.sort(key=lambda e: (-e[0], e[1].id))
    figures["worst_errors"] = [
        {
            "id": d.id,
            "gold": d.label,
            "marketing_probability": round(r.marketing_probability, 4),
            "evidence": {side: [f"{e.term}({e.contribution:+.2f})" for e in r.terms(side, 5)] for side in LABELS},
        }
        for _, d, r in errors[:10]
    ]
    return figures


def sentence_agreement(clf: Any, texts: Sequence[str]) -> float:
    """Share of documents whose label matches the side most of their own weighted sentences take."""
    agree = counted = 0
    for text in texts:
        r = clf.explain(text)
        sides = [s.label for s in r.sentences if s.signal_terms]
        if not sides or sides.count("sales") == sides.count("marketing"):
            continue
        counted += 1
        agree += max(("sales", "marketing"), key=sides.count) == r.label
    return round(agree / counted, 4) if counted else 1.0


def eval_set_docs(name: str) -> list[Any]:
    """An evaluation set as Labelled records."""
    from pipeline.readers import Labelled

    return [Labelled(i, t, label) for i, t, label in read_eval_set(name)]
