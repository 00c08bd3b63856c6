"""Train the model: choose hyper-parameters by cross-validation grouped by article, fit, save.

Every figure is computed on folds that hold out whole articles, so no article's sentences are both
learned from and tested on. Reported figures come from nested cross-validation (the choice of
hyper-parameters is itself made inside each outer fold); the plain grouped-CV score of the chosen
setting is reported beside it and is optimistic by construction.
"""

from __future__ import annotations

import itertools
import platform
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline import __version__, config
from pipeline.corpus import read_passages
from pipeline.files import sha256_file
from pipeline.metrics import classification_figures
from pipeline.text import tokenize

GRID: dict[str, list[Any]] = {
    "C": [1.0, 3.0, 10.0, 30.0],
    "ngram_range": [(1, 1), (1, 2)],
    "sublinear_tf": [True, False],
    "class_weight": ["balanced", None],
}
# Files whose content decides what a trained model is; their hash is the model's code version.
_CODE_FILES = ("text.py", "model.py", "train.py", "corpus.py", "data/userdict.txt", "data/stopwords.txt")


@dataclass(frozen=True)
class TrainingSet:
    """Texts, labels and article groups for the two-class training set."""

    texts: list[str]
    labels: list[str]
    groups: list[int]


def training_set(passages_path: Path = config.PASSAGES_FILE) -> TrainingSet:
    """Select the sales and marketing passages of the corpus (neutral ones are kept out)."""
    chosen = [p for p in read_passages(passages_path) if p.label in config.LABELS]
    return TrainingSet([p.original for p in chosen], [p.label for p in chosen], [p.article for p in chosen])


@lru_cache(maxsize=None)
def _cached_tokens(text: str) -> tuple[str, ...]:
    return tuple(tokenize(text))


def _cv_tokenize(text: str) -> list[str]:
    """Tokenize with a cache: cross-validation refits hundreds of times on the same texts."""
    return list(_cached_tokens(text))


def grid() -> list[dict[str, Any]]:
    """Return every hyper-parameter setting, in a fixed order (ties go to the first)."""
    keys = list(GRID)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*(GRID[k] for k in keys))]


def _fit_predict(params: dict[str, Any], train_x: Sequence[str], train_y: Sequence[str], test_x: Sequence[str]) -> list[str]:
    from pipeline.model import build_pipeline

    pipe = build_pipeline({**params, "tokenizer": _cv_tokenize})
    pipe.fit(list(train_x), list(train_y))
    return [str(p) for p in pipe.predict(list(test_x))]


def grouped_cv_predictions(params: dict[str, Any], data: TrainingSet) -> list[str]:
    """Return out-of-fold predictions, leaving one article out per fold."""
    pred = [""] * len(data.texts)
    for g in sorted(set(data.groups)):
        test = [i for i, x in enumerate(data.groups) if x == g]
        train = [i for i, x in enumerate(data.groups) if x != g]
        if len({data.labels[i] for i in train}) < 2:
            continue
        out = _fit_predict(params, [data.texts[i] for i in train], [data.labels[i] for i in train], [data.texts[i] for i in test])
        for i, p in zip(test, out, strict=True):
            pred[i] = p
    return pred


def select(data: TrainingSet) -> tuple[dict[str, Any], float]:
    """Pick the setting with the best grouped-CV macro-F1."""
    best: tuple[dict[str, Any], float] | None = None
    for params in grid():
        score = classification_figures(data.labels, grouped_cv_predictions(params, data))["macro_f1"]
        if best is None or score > best[1]:
            best = (params, score)
    assert best is not None
    return best


def nested_cv(data: TrainingSet) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Outer folds hold out one article; inside each, the setting is chosen on the other articles only."""
    pred = [""] * len(data.texts)
    chosen = []
    for g in sorted(set(data.groups)):
        test = [i for i, x in enumerate(data.groups) if x == g]
        train = [i for i, x in enumerate(data.groups) if x != g]
        inner = TrainingSet([data.texts[i] for i in train], [data.labels[i] for i in train], [data.groups[i] for i in train])
        params, _ = select(inner)
        chosen.append({"held_out_article": g, **_jsonable(params)})
        out = _fit_predict(params, inner.texts, inner.labels, [data.texts[i] for i in test])
        for i, p in zip(test, out, strict=True):
            pred[i] = p
    return classification_figures(data.labels, pred), chosen


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def code_version() -> str:
    """Hash the source files that decide the model, so metadata names the code that made it."""
    import hashlib

    h = hashlib.sha256()
    for name in _CODE_FILES:
        h.update(name.encode())
        h.update((config.PACKAGE_DIR / name).read_bytes())
    return h.hexdigest()


def _versions() -> dict[str, str]:
    import jieba
    import joblib
    import numpy
    import scipy
    import sklearn

    return {
        "python": platform.python_version(),
        "orient": __version__,
        "scikit-learn": sklearn.__version__,
        "jieba": str(jieba.__version__),
        "joblib": joblib.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
    }


def verdict_settings(weights: Sequence[float]) -> dict[str, Any]:
    """Return the verdict thresholds stored with the model (bands on P(marketing), signal floor)."""
    ranked = sorted(abs(w) for w in weights)
    # A "signal term" is one whose weight is in the top 40% by size; below two of them we abstain.
    signal_weight = ranked[int(len(ranked) * 0.6)] if ranked else 0.0
    return {
        "threshold": 0.5,
        "bands": [0.2, 0.4, 0.6, 0.8],
        "signal_weight": round(signal_weight, 6),
        "min_signal_terms": 2,
    }


def train(model_path: Path | None = None, passages_path: Path = config.PASSAGES_FILE) -> dict[str, Any]:
    """Select, evaluate and fit the model on the corpus, write it beside its metadata, return the metadata."""
    from pipeline import model

    model_path = model_path or (config.ROOT / "models" / f"{config.MODEL_NAME}.joblib")
    data = training_set(passages_path)
    params, selected_score = select(data)
    nested, per_fold = nested_cv(data)
    pipe = model.build_pipeline(params)
    pipe.fit(data.texts, data.labels)
    linear = model.LinearModel.from_pipeline(pipe)
    metadata = {
        "format": model.FORMAT_VERSION,
        "name": config.MODEL_NAME,
        "versions": _versions(),
        "code_sha256": code_version(),
        "corpus": {"file": "corpus/passages.jsonl", "sha256": sha256_file(passages_path)},
        "label_counts": dict(sorted(Counter(data.labels).items())),
        "params": _jsonable(params),
        "segmenter": {"engine": "jieba", "hmm": False, "user_dictionary_sha256": sha256_file(config.USER_DICT)},
        "cv": {
            "scheme": "leave-one-article-out, nested (settings chosen inside each outer fold)",
            **nested,
            "selected_setting_grouped_cv_macro_f1": selected_score,
            "per_fold_choice": per_fold,
        },
        "verdict": verdict_settings(linear.weights),
        "vocabulary_size": len(linear.vocabulary),
    }
    return model.save(pipe, metadata, model_path)


if __name__ == "__main__":
    train()
