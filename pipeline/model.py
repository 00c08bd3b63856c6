"""The model's shape and its files: the scikit-learn pipeline, its linear export, and their checks.

Three files sit side by side: `NAME.joblib` (the fitted scikit-learn Pipeline, a pickle, so code),
`NAME.linear.json` (vocabulary, IDF, weights: plain data, enough to score without scikit-learn) and
`NAME.json` (metadata, holding the SHA-256 of both). Nothing is unpickled before its hash matches.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.files import atomic_write, sha256_file
from pipeline.errors import OrientError

FORMAT_VERSION = 1


def build_pipeline(params: dict[str, Any]) -> Any:
    """Return an unfitted TF-IDF + logistic-regression pipeline for the given hyper-parameters."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from pipeline.text import tokenize

    return Pipeline(
        [
            (
                "tfidf",
                TfidfVectorizer(
                    tokenizer=params.get("tokenizer", tokenize),
                    token_pattern=None,
                    lowercase=False,
                    ngram_range=tuple(params["ngram_range"]),
                    sublinear_tf=params["sublinear_tf"],
                    stop_words=params.get("stop_words"),
                    min_df=1,
                    dtype=np.float64,
                ),
            ),
            (
                "clf",
                LogisticRegression(
                    C=params["C"],
                    class_weight=params["class_weight"],
                    solver="lbfgs",
                    max_iter=5000,
                ),
            ),
        ]
    )


@dataclass(frozen=True)
class LinearModel:
    """A fitted TF-IDF + logistic regression as plain numbers: scores a text without scikit-learn."""

    vocabulary: dict[str, int]
    idf: list[float]
    weights: list[float]  # positive pushes towards "marketing"
    intercept: float
    ngram_range: tuple[int, int]
    sublinear_tf: bool
    stop_words: frozenset[str] = frozenset()  # terms removed before n-grams are formed, as scikit-learn does
    # The orientation gate: a second linear model, positive when a text speaks of orientation at all.
    gate: LinearModel | None = None

    @classmethod
    def from_pipeline(cls, pipe: Any, positive: str = "marketing", gate: LinearModel | None = None) -> LinearModel:
        """Export a fitted pipeline's vocabulary, IDF and weights, oriented towards the `positive` class."""
        vec, clf = pipe.named_steps["tfidf"], pipe.named_steps["clf"]
        sign = 1.0 if list(clf.classes_).index(positive) == 1 else -1.0
        terms = vec.get_feature_names_out()
        return cls(
            vocabulary={str(t): i for i, t in enumerate(terms)},
            idf=[float(x) for x in vec.idf_],
            weights=[sign * float(x) for x in clf.coef_[0]],
            intercept=sign * float(clf.intercept_[0]),
            ngram_range=(int(vec.ngram_range[0]), int(vec.ngram_range[1])),
            sublinear_tf=bool(vec.sublinear_tf),
            stop_words=frozenset(vec.stop_words or ()),
            gate=gate,
        )

    def to_dict(self) -> dict[str, Any]:
        """The export as plain data."""
        return {
                "format": FORMAT_VERSION,
                "ngram_range": list(self.ngram_range),
                "sublinear_tf": self.sublinear_tf,
                "stop_words": sorted(self.stop_words),
                "intercept": self.intercept,
                "terms": list(self.vocabulary),
                "idf": self.idf,
                "weights": self.weights,
                **({"gate": self.gate.to_dict()} if self.gate is not None else {}),
            }

    def to_json(self) -> str:
        """Serialise to JSON with exact float round-trips."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=0)

    @classmethod
    def from_json(cls, data: str) -> LinearModel:
        """Parse the JSON export."""
        return cls.from_dict(json.loads(data))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LinearModel:
        """Build from plain data."""
        return cls(
            vocabulary={t: i for i, t in enumerate(d["terms"])},
            idf=d["idf"],
            weights=d["weights"],
            intercept=d["intercept"],
            ngram_range=(d["ngram_range"][0], d["ngram_range"][1]),
            sublinear_tf=d["sublinear_tf"],
            stop_words=frozenset(d["stop_words"]),
            gate=cls.from_dict(d["gate"]) if "gate" in d else None,
        )

    def features(self, tokens: Sequence[str]) -> Counter[str]:
        """Count the n-grams of a token list that are in the vocabulary (as scikit-learn forms them)."""
        if self.stop_words:
            tokens = [t for t in tokens if t not in self.stop_words]
        lo, hi = self.ngram_range
        counts: Counter[str] = Counter()
        vocab = self.vocabulary
        n_tok = len(tokens)
        for n in range(lo, min(hi, n_tok) + 1):
            for i in range(n_tok - n + 1):
                gram = tokens[i] if n == 1 else " ".join(tokens[i : i + n])
                if gram in vocab:
                    counts[gram] += 1
        return counts

    def positions(self, tokens: Sequence[str]) -> dict[str, list[tuple[int, int]]]:
        """Where each in-vocabulary n-gram occurs: (index of first token, number of tokens)."""
        lo, hi = self.ngram_range
        found: dict[str, list[tuple[int, int]]] = {}
        n_tok = len(tokens)
        for n in range(lo, min(hi, n_tok) + 1):
            for i in range(n_tok - n + 1):
                gram = tokens[i] if n == 1 else " ".join(tokens[i : i + n])
                if gram in self.vocabulary:
                    found.setdefault(gram, []).append((i, n))
        return found

    def contributions(self, counts: Counter[str]) -> tuple[float, dict[str, float]]:
        """Return the logit and each feature's share of it (TF-IDF value times weight)."""
        values = {}
        for gram, c in counts.items():
            tf = 1.0 + math.log(c) if self.sublinear_tf else float(c)
            values[gram] = tf * self.idf[self.vocabulary[gram]]
        norm = math.sqrt(sum(v * v for v in values.values()))
        shares = {}
        if norm > 0:
            for gram, v in values.items():
                shares[gram] = v / norm * self.weights[self.vocabulary[gram]]
        return self.intercept + math.fsum(shares.values()), shares

    def probability(self, tokens: Sequence[str]) -> float:
        """P(positive class) for a token list."""
        logit, _ = self.contributions(self.features(tokens))
        return sigmoid(logit)


def sigmoid(x: float) -> float:
    """The logistic function, without overflow for large |x|."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def paths(model_path: Path) -> tuple[Path, Path, Path]:
    """Return the joblib, linear-export and metadata paths of a model."""
    base = model_path.with_suffix("")
    return base.with_suffix(".joblib"), base.with_suffix(".linear.json"), base.with_suffix(".json")


def save(pipe: Any, metadata: dict[str, Any], model_path: Path, gate: LinearModel | None = None) -> dict[str, Any]:
    """Write the pipeline, its linear export and the metadata (last, so it only ever names whole files)."""
    import io

    import joblib

    joblib_path, linear_path, meta_path = paths(model_path)
    joblib_path.parent.mkdir(parents=True, exist_ok=True)
    # scikit-learn records id(stop_words), a memory address, only to skip a warning; it would make
    # two identical trainings pickle to different bytes.
    pipe.named_steps["tfidf"].__dict__.pop("_stop_words_id", None)
    buf = io.BytesIO()
    joblib.dump(pipe, buf, compress=3)
    atomic_write(joblib_path, buf.getvalue())
    atomic_write(linear_path, LinearModel.from_pipeline(pipe, gate=gate).to_json().encode("utf-8"))
    metadata = dict(metadata)
    metadata["files"] = {
        "joblib": {"name": joblib_path.name, "sha256": sha256_file(joblib_path)},
        "linear": {"name": linear_path.name, "sha256": sha256_file(linear_path)},
    }
    atomic_write(meta_path, (json.dumps(metadata, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    return metadata


def read_metadata(model_path: Path) -> dict[str, Any]:
    """Read a model's metadata, with one clear sentence if it is missing or unreadable."""
    joblib_path, _, meta_path = paths(model_path)
    if not joblib_path.exists() and not meta_path.exists():
        raise OrientError(f"No model at {joblib_path}; run `make train` or pass --model PATH.")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OrientError(
            f"Model {joblib_path.name} has no metadata file {meta_path.name}, so its integrity cannot be checked; "
            "retrain it with `make train`."
        ) from None
    except (OSError, ValueError) as exc:
        raise OrientError(f"Model metadata {meta_path} is unreadable ({exc.__class__.__name__}); retrain with `make train`.") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION or "files" not in meta:
        raise OrientError(f"Model metadata {meta_path} is not in this version's format; retrain with `make train`.")
    return meta


def _verified_bytes(path: Path, expected: str) -> bytes:
    """Read a model file and return its bytes only if their SHA-256 matches the metadata."""
    import hashlib

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise OrientError(f"Cannot read model file {path} ({exc.strerror}); retrain with `make train`.") from None
    if hashlib.sha256(data).hexdigest() != expected:
        raise OrientError(
            f"Model file {path} does not match the SHA-256 recorded in its metadata (damaged or replaced); "
            "refusing to load it: retrain with `make train` or restore the original file."
        )
    return data


def load_linear(model_path: Path, meta: dict[str, Any]) -> LinearModel:
    """Load the linear export after checking its SHA-256."""
    _, linear_path, _ = paths(model_path)
    data = _verified_bytes(linear_path, meta["files"]["linear"]["sha256"])
    return LinearModel.from_json(data.decode("utf-8"))


def load_pipeline(model_path: Path, meta: dict[str, Any]) -> Any:
    """Unpickle the scikit-learn pipeline, only after its SHA-256 and library version check out."""
    import io

    import joblib
    import sklearn

    joblib_path, _, _ = paths(model_path)
    data = _verified_bytes(joblib_path, meta["files"]["joblib"]["sha256"])
    recorded = meta.get("versions", {}).get("scikit-learn")
    if recorded != sklearn.__version__:
        raise OrientError(
            f"Model {joblib_path.name} was trained with scikit-learn {recorded}, but {sklearn.__version__} is installed; "
            "retrain it with `make train` (or `orient train`), or install the pinned versions with `make install`."
        )
    return joblib.load(io.BytesIO(data))
