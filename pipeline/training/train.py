"""Train the model: choose hyper-parameters by grouped cross-validation, fit, save.

Training data come from named sources: the labelled passages of the seven articles (one group per
article), the project's documents in the register of real postings and plans (corpus/documents.jsonl,
written for the project and kept apart from every evaluation set), and any files a user adds with
`orient train --data`. The articles' concept lists can be added (`lexicon=True`); the lever study
dropped them. Folds never split a group, so no article's sentences
are both learned from and tested on. A second small model, the gate, learns from the neutral passages
and documents whether a text speaks of orientation at all.

Every choice here (which sources, the hyper-parameters, no department masking, no concept lists) was decided by the
lever study on real postings (research/levers.py, reports/evaluation.md), not on text written for the
project: choices that took written sets up took real postings down.
"""

from __future__ import annotations

import hashlib
import itertools
import platform
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pipeline import __version__, config
from pipeline.errors import OrientError
from pipeline.files import sha256_file
from pipeline.model import FORMAT_VERSION, LinearModel
from pipeline.text import FEATURE_VERSION, tokenize
from pipeline.training import export
from pipeline.training.corpus import read_passages
from pipeline.training.metrics import classification_figures

# One setting, chosen by the lever study on real postings; grouped CV over the project's own texts preferred
# settings that real postings did not (reports/evaluation.md). A grid of several settings is still searched
# by grouped CV when given (the tests do).
GRID: dict[str, list[Any]] = {
    "C": [3.0],
    "ngram_range": [(1, 2)],
    "sublinear_tf": [True],
    "class_weight": ["balanced"],
}
# Department names say who wrote a text, not how it thinks (docs/orientation.md). Masking them was the old
# design; on real postings it costs 0.03-0.05 macro-F1 (销售目标, 销售业绩 lose their meaning), so it is
# off, kept as a lever of the study; the realdev figures on postings whose title and text disagree
# show what the model learned instead.
DEPARTMENT_WORDS = (
    "营销",
    "销售",
    "推销",
    "市场营销",
    "行销",
    "市场部",
    "销售部",
    "营销部",
    "营销中心",
    "销售员",
    "业务员",
    "sales",
    "marketing",
)  # each is a single token of pipeline.text.tokenize (a test checks), as scikit-learn's stop words must be
USER_FOLDS = 5
MODEL_INPUTS = config.PACKAGE_DIR / "training" / "model_inputs.txt"


@dataclass
class TrainingSet:
    """Texts, labels and CV groups, with the sources they came from."""

    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)

    def extend(self, other: TrainingSet) -> TrainingSet:
        """Add another set's records and sources."""
        self.texts += other.texts
        self.labels += other.labels
        self.groups += other.groups
        self.sources += other.sources
        return self

    def subset(self, indices: Sequence[int]) -> TrainingSet:
        """The records at the given indices (sources are not carried)."""
        return TrainingSet([self.texts[i] for i in indices], [self.labels[i] for i in indices], [self.groups[i] for i in indices])


def _source(path: Path, labels: Sequence[str]) -> dict[str, Any]:
    name = str(path.relative_to(config.ROOT)) if path.is_relative_to(config.ROOT) else str(path)
    return {"file": name, "sha256": sha256_file(path), "count": len(labels), "labels": dict(sorted(Counter(labels).items()))}


def corpus_set(passages_path: Path = config.PASSAGES_FILE) -> TrainingSet:
    """The sales and marketing passages of the articles (neutral ones are kept out), grouped by article."""
    chosen = [p for p in read_passages(passages_path) if p.label in config.LABELS]
    labels = [p.label for p in chosen]
    return TrainingSet(
        [p.original for p in chosen], labels, [f"article-{p.article}" for p in chosen], [_source(passages_path, labels)]
    )


def labelled_set(path: Path, group: str, text_field: str = "text", label_field: str = "label") -> TrainingSet:
    """A labelled .jsonl/.csv file (fields text, label) split into folds; any bad record stops training."""
    from pipeline.training.labelled import read_labelled

    # Neutral records are allowed (they are counted and audited) but are not two-class training data.
    docs, bad = read_labelled(path, config.DOCUMENT_LABELS, text_field, label_field)
    docs = [d for d in docs if d.label in config.LABELS]
    if bad:
        listed = "; ".join(f"{b.id} {b.message}" for b in bad[:5])
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        raise OrientError(f"{path} has {len(bad)} unusable record(s): {listed}{more}; fix them and train again.")
    if not docs:
        raise OrientError(f"{path} has no labelled records.")
    labels = [d.label for d in docs]
    groups = [f"{group}-{i % USER_FOLDS}" for i in range(len(docs))]
    return TrainingSet([d.text for d in docs], labels, groups, [_source(path, labels)])


def lexicon_set() -> TrainingSet:
    """The articles' concept lists (docs/orientation.md's cue table, in pipeline/training/corpus.py), one term a document."""
    from pipeline.training.corpus import MARKETING_CUES, SALES_CUES

    cues = [(c, "marketing") for c in MARKETING_CUES] + [(c, "sales") for c in SALES_CUES]
    labels = [label for _, label in cues]
    digest = hashlib.sha256("\n".join(f"{c}\t{label}" for c, label in cues).encode()).hexdigest()
    source = {
        "file": "pipeline/training/corpus.py (MARKETING_CUES, SALES_CUES)",
        "sha256": digest,
        "count": len(cues),
        "labels": dict(sorted(Counter(labels).items())),
    }
    return TrainingSet([c for c, _ in cues], labels, ["lexicon"] * len(cues), [source])


def training_set(
    passages_path: Path = config.PASSAGES_FILE,
    data: Sequence[Path] = (),
    supplement: bool = False,
    lexicon: bool = False,
    documents: bool = True,
    fields: tuple[str, str] = ("text", "label"),
) -> TrainingSet:
    """Everything the model learns from: articles, the documents and concept lists (if wanted), the user's files.

    `fields` names the text and label fields of the user's files.
    """
    out = corpus_set(passages_path)
    if documents and config.DOCUMENTS_FILE.exists():
        out.extend(labelled_set(config.DOCUMENTS_FILE, "documents"))
    if supplement and config.SUPPLEMENT_FILE.exists():
        out.extend(labelled_set(config.SUPPLEMENT_FILE, "supplement"))
    if lexicon:
        out.extend(lexicon_set())
    for i, path in enumerate(data, start=1):
        out.extend(labelled_set(path, f"user{i}", *fields))
    return out


@cache
def _cached_tokens(text: str) -> tuple[str, ...]:
    return tuple(tokenize(text))


def _cv_tokenize(text: str) -> list[str]:
    """Tokenize with a cache: cross-validation refits hundreds of times on the same texts."""
    return list(_cached_tokens(text))


def grid(mask_department: bool = True, searched: dict[str, list[Any]] | None = None) -> list[dict[str, Any]]:
    """Every hyper-parameter setting of a grid (default: GRID), in a fixed order (ties go to the first)."""
    searched = GRID if searched is None else searched
    stop = list(DEPARTMENT_WORDS) if mask_department else None
    return [{**dict(zip(searched, values, strict=True)), "stop_words": stop} for values in itertools.product(*searched.values())]


def fit(params: dict[str, Any], data: TrainingSet, cached: bool = False) -> Any:
    """Fit a pipeline with the given setting (cached tokenization is for cross-validation only)."""
    from pipeline.training.export import build_pipeline

    pipe = build_pipeline({**params, "tokenizer": _cv_tokenize} if cached else params)
    pipe.fit(data.texts, data.labels)
    return pipe


def folds(groups: Sequence[str], held_out: Sequence[str] | None = None) -> Iterator[tuple[list[int], list[int]]]:
    """(train, test) index lists: each group in `held_out` (default: all, sorted) is the test fold once."""
    for g in sorted(set(groups)) if held_out is None else held_out:
        test = [i for i, x in enumerate(groups) if x == g]
        train = [i for i, x in enumerate(groups) if x != g]
        if test:
            yield train, test


def grouped_cv_predictions(params: dict[str, Any], data: TrainingSet, held_out: Sequence[str] | None = None) -> list[str | None]:
    """Out-of-fold predictions: each group in `held_out` (default: all) is predicted by a model trained on the rest."""
    pred: list[str | None] = [None] * len(data.texts)
    for train, test in folds(data.groups, held_out):
        if len({data.labels[i] for i in train}) < 2:
            continue
        out = fit(params, data.subset(train), cached=True).predict([data.texts[i] for i in test])
        for i, p in zip(test, out, strict=True):
            pred[i] = str(p)
    return pred


def out_of_fold_figures(gold: Sequence[str], pred: Sequence[str | None]) -> dict[str, Any]:
    """Classification figures over the documents that got an out-of-fold prediction."""
    pairs = [(g, p) for g, p in zip(gold, pred, strict=True) if p is not None]
    return classification_figures([g for g, _ in pairs], [p for _, p in pairs])


def select(data: TrainingSet, settings: Sequence[dict[str, Any]]) -> tuple[dict[str, Any], float]:
    """The setting with the best grouped-CV macro-F1 over all groups."""
    best: tuple[dict[str, Any], float] | None = None
    for params in settings:
        score = out_of_fold_figures(data.labels, grouped_cv_predictions(params, data))["macro_f1"]
        if best is None or score > best[1]:
            best = (params, score)
    assert best is not None
    return best


def article_cv(params: dict[str, Any], data: TrainingSet) -> dict[str, Any]:
    """Out-of-fold figures on the article passages: each article predicted by a model trained on everything else."""
    articles = sorted(g for g in set(data.groups) if g.startswith("article-"))
    figures = out_of_fold_figures(data.labels, grouped_cv_predictions(params, data, articles))
    return {"scheme": "leave-one-article-out (the rest of the training data stays in)", **figures}


def neutral_texts(
    passages_path: Path = config.PASSAGES_FILE,
    data: Sequence[Path] = (),
    supplement: bool = False,
    documents: bool = True,
    fields: tuple[str, str] = ("text", "label"),
) -> list[str]:
    """Texts labelled neutral in the corpus, the documents and the user's files: what the gate learns as 'none'."""
    from pipeline.training.labelled import read_labelled

    texts = [p.original for p in read_passages(passages_path) if p.label == config.NEUTRAL]
    files = [
        f for f, wanted in ((config.DOCUMENTS_FILE, documents), (config.SUPPLEMENT_FILE, supplement)) if wanted and f.exists()
    ]
    own = [(f, ("text", "label")) for f in files] + [(f, fields) for f in data]
    for path, (text_field, label_field) in own:
        docs, _ = read_labelled(path, config.DOCUMENT_LABELS, text_field, label_field)
        texts += [d.text for d in docs if d.label == config.NEUTRAL]
    return texts


GATE_PARAMS = {"C": 3.0, "ngram_range": (1, 1), "sublinear_tf": True, "class_weight": "balanced", "stop_words": None}


def fit_gate(oriented: Sequence[str], neutral: Sequence[str]) -> Any:
    """Fit the orientation gate: does a text speak of orientation at all ('oriented') or not ('none')?"""
    gate = TrainingSet(list(oriented) + list(neutral), ["oriented"] * len(oriented) + ["none"] * len(neutral))
    return fit(GATE_PARAMS, gate)


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items() if k != "stop_words"}


def model_inputs(kind: str) -> list[Path]:
    """The files of one kind ("data" or "code") that model_inputs.txt lists: the one list make and training share."""
    lines = MODEL_INPUTS.read_text(encoding="utf-8").splitlines()
    return [
        config.ROOT / path
        for k, path in (line.split(maxsplit=1) for line in lines if line and not line.startswith("#"))
        if k == kind
    ]


def input_hashes() -> dict[str, str]:
    """The SHA-256 of every data file the model is made from, by its path from the checkout's root."""
    return {str(path.relative_to(config.ROOT)): sha256_file(path) for path in model_inputs("data") if path.exists()}


def tokens_fingerprint(texts: Sequence[str]) -> str:
    """The SHA-256 of the tokens of every text the model learns from: all that the tokenizer decided about its data.

    Recorded at training: a change to tokenization that alters what any training text becomes changes it, and a
    change that alters nothing (a comment, a faster segmenter) leaves it, and the model, as they were.
    """
    h = hashlib.sha256()
    for text in texts:
        h.update("\x1f".join(_cached_tokens(text)).encode("utf-8"))
        h.update(b"\x1e")
    return h.hexdigest()


def learned_texts(passages_path: Path = config.PASSAGES_FILE) -> list[str]:
    """Every text the shipped model's two parts learn from: the training set, then the neutral texts of the gate."""
    return training_set(passages_path).texts + neutral_texts(passages_path)


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


def train(
    model_path: Path | None = None,
    passages_path: Path = config.PASSAGES_FILE,
    data: Sequence[Path] = (),
    supplement: bool = False,
    mask_department: bool = False,
    lexicon: bool = False,
    documents: bool = True,
    text_field: str = "text",
    label_field: str = "label",
) -> dict[str, Any]:
    """Select, evaluate and fit the model, write it beside its metadata, and return the metadata."""
    from pipeline.training.evaluate import verdict_settings

    model_path = model_path or (config.ROOT / "models" / f"{config.MODEL_NAME}.joblib")
    fields = (text_field, label_field)
    training = training_set(passages_path, data, supplement, lexicon, documents, fields)
    params, selected_score = select(training, grid(mask_department))
    pipe = export.rounded(fit(params, training))
    neutral = neutral_texts(passages_path, data, supplement, documents, fields)
    gate = LinearModel.from_pipeline(export.rounded(fit_gate(training.texts, neutral)), "oriented")
    linear = LinearModel.from_pipeline(pipe, gate=gate)
    verdict, evaluation = verdict_settings(linear)
    metadata = {
        "format": FORMAT_VERSION,
        "name": config.MODEL_NAME,
        "versions": _versions(),
        "inputs": input_hashes(),
        "features": {"version": FEATURE_VERSION, "tokens_sha256": tokens_fingerprint(training.texts + neutral)},
        "corpus": training.sources[0],
        "sources": training.sources,
        "label_counts": dict(sorted(Counter(training.labels).items())),
        "params": _jsonable(params),
        "department_words_masked": sorted(params["stop_words"] or []),
        "gate": {**_jsonable(GATE_PARAMS), "neutral_documents": len(neutral)},
        "segmenter": {"engine": "jieba", "hmm": False, "user_dictionary_sha256": sha256_file(config.USER_DICT)},
        "cv": {**article_cv(params, training), "selected_setting_grouped_cv_macro_f1_all_groups": selected_score},
        "verdict": verdict,
        "evaluation": evaluation,
        "vocabulary_size": len(linear.vocabulary),
    }
    return export.save(pipe, metadata, model_path, gate=gate)


if __name__ == "__main__":
    train()
