"""Paths and constants, derived from the package location so every command works from any directory."""

from __future__ import annotations

import os
from pathlib import Path

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
SUPPLEMENT_FILE = CORPUS_DIR / "supplement.jsonl"
# The evaluation sets of corpus/eval/: set name → (file, labels it holds). Never used for fitting.
EVAL_SETS = {
    "postings": "postings.jsonl",
    "plans": "plans.jsonl",
    "hard": "hard.jsonl",
    "neutral": "neutral.jsonl",
}
# Written after the model was frozen, by an author who saw none of the training or evaluation data;
# scored in the report, never used to choose anything.
SEALED_SET = "sealed.jsonl"

MODEL_NAME = "orientation"
LABELS = ("sales", "marketing")
NEUTRAL = "neutral"


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
