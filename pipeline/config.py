"""Paths and constants, derived from the package location so every command works from any directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = PACKAGE_DIR.parent
DATA_DIR = PACKAGE_DIR / "data"
USER_DICT = DATA_DIR / "userdict.txt"
STOP_WORDS = DATA_DIR / "stopwords.txt"

CORPUS_DIR = ROOT / "corpus"
RAW_FILE = CORPUS_DIR / "raw" / "000_8dea640b3316b8d8.txt"
DECISIONS_FILE = CORPUS_DIR / "decisions.tsv"
PASSAGES_FILE = CORPUS_DIR / "passages.jsonl"
EVAL_DIR = CORPUS_DIR / "eval"
# Documents in the register of real postings, plans and memos, written for the project: training data.
DOCUMENTS_FILE = CORPUS_DIR / "documents.jsonl"
# Short passages in a tidy style, written for the first version; no longer trained on (the lever study).
SUPPLEMENT_FILE = CORPUS_DIR / "supplement.jsonl"
# The evaluation sets of corpus/eval/: set name → (file, labels it holds). Never used for fitting.
EVAL_SETS = {
    "postings": "postings.jsonl",
    "plans": "plans.jsonl",
    "hard": "hard.jsonl",
    "neutral": "neutral.jsonl",
    "realistic": "realistic.jsonl",
}
# Written after the model was frozen, by an author who saw none of the training or evaluation data;
# scored in the report, never used to choose anything.
SEALED_SET = "sealed.jsonl"
EVAL_FILES = {**EVAL_SETS, "sealed": SEALED_SET}

# Real postings for development (outside the repository; never trained on): measured when present.
REALDEV_DEFAULT = ROOT.parent / "shared" / "realdev" / "postings.jsonl"

# The verdict settings, chosen by the lever study on real postings (reports/evaluation.md):
# - threshold: P(marketing) at which the side changes;
# - bands: strongly sales < b0 <= sales < b1 <= balanced < b2 <= marketing < b3 <= strongly marketing;
# - gate: below this P(the text speaks of orientation) the verdict is `insufficient signal`;
# - min_signal_terms: fewer occurrences than this of terms whose |weight| is in the stronger half, likewise.
VERDICT: dict[str, Any] = {"threshold": 0.5, "bands": [0.35, 0.45, 0.55, 0.65], "gate": 0.45, "min_signal_terms": 2}
# What a model loaded without metadata (--trust-model) is given: no gate, any term counts.
DEFAULT_VERDICT: dict[str, Any] = {**VERDICT, "signal_weight": 0.0, "gate": 0.0}


def realdev_file() -> Path:
    """The real-postings development set: ORIENT_REALDEV, or ../shared/realdev/postings.jsonl beside the checkout."""
    return Path(os.environ.get("ORIENT_REALDEV") or REALDEV_DEFAULT)


MODEL_NAME = "orientation"
LABELS = ("sales", "marketing")
NEUTRAL = "neutral"
MIXED = "mixed"
# Every label a labelled document may carry (docs/labelling.md); only LABELS are two-class training data.
DOCUMENT_LABELS = (*LABELS, MIXED, NEUTRAL)


def default_model_path() -> Path:
    """Return the shipped model: inside the installed package (wheel) or in the checkout's models/."""
    bundled = PACKAGE_DIR / "models" / f"{MODEL_NAME}.joblib"
    if bundled.exists():
        return bundled
    return ROOT / "models" / f"{MODEL_NAME}.joblib"


def cache_dir() -> Path:
    """Return the per-user cache directory (XDG_CACHE_HOME respected), created private."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    path = Path(base) / "orient"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path
