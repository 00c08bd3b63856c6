"""The model's files and their checks: the scikit-learn pipeline, its linear export, the metadata; what scores is LinearModel.

Three files sit side by side: `NAME.joblib` (the fitted scikit-learn Pipeline, a pickle, so code;
or `NAME.skops`, the same pipeline in skops' format, which loads only allow-listed types),
`NAME.linear.json` (vocabulary, IDF, weights: plain data, enough to score without scikit-learn) and
`NAME.json` (metadata, holding the SHA-256 of both). Nothing is unpickled before its hash matches,
unless the user says they trust the file (`--trust-model`, `pipeline.load(path, trust=True)`).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import chain, islice
from pathlib import Path
from typing import Any

from pipeline.errors import OrientError
from pipeline.text import FEATURE_VERSION

FORMAT_VERSION = 1


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

    @cached_property
    def terms(self) -> list[str]:
        """The feature names, by feature index."""
        names = [""] * len(self.vocabulary)
        for term, i in self.vocabulary.items():
            names[i] = term
        return names

    @cached_property
    def _lookups(self) -> list[dict[Any, int]]:
        """Per n-gram length n, at index n - 1: the n-gram (a token, or a tuple of tokens) -> its feature index."""
        lookups: list[dict[Any, int]] = [{} for _ in range(self.ngram_range[1])]
        for term, i in self.vocabulary.items():
            # scikit-learn joins an n-gram's tokens with one space; interned, as pipeline.text interns terms
            parts = [sys.intern(part) for part in term.split(" ")]
            lookups[len(parts) - 1][parts[0] if len(parts) == 1 else tuple(parts)] = i
        return lookups

    def __getstate__(self) -> dict[str, Any]:
        # The caches (names, lookups) are rebuilt where they are needed; a worker need not receive them.
        return {k: v for k, v in self.__dict__.items() if k not in ("terms", "_lookups")}

    def features(self, tokens: Sequence[str]) -> Counter[int]:
        """Count the in-vocabulary n-grams of a token list by feature index, in order of n, then first occurrence."""
        stop = self.stop_words
        if stop and not stop.isdisjoint(tokens):
            tokens = [t for t in tokens if t not in stop]
        lo, hi = self.ngram_range
        lookups = self._lookups
        # Every n-gram is looked up with map() and counted by Counter, both in C, with no n-gram strings
        # built: a miss counts as None and is dropped at the end. Far cheaper than a loop over positions.
        grams = chain.from_iterable(
            map(lookups[n - 1].get, tokens if n == 1 else zip(*(islice(tokens, i, None) for i in range(n)), strict=False))
            for n in range(lo, hi + 1)
        )
        counts: Counter[Any] = Counter(grams)
        counts.pop(None, None)
        return counts

    def positions(self, tokens: Sequence[str]) -> dict[int, list[tuple[int, int]]]:
        """Where each in-vocabulary n-gram occurs, by feature index: (index of first token, number of tokens).

        The walk of `features`, over the same lookups, keeping places instead of counts (tokens without stop words).
        """
        lo, hi = self.ngram_range
        lookups = self._lookups
        found: dict[int, list[tuple[int, int]]] = {}
        for n in range(lo, min(hi, len(tokens)) + 1):
            grams = tokens if n == 1 else zip(*(islice(tokens, i, None) for i in range(n)), strict=False)
            for i, j in enumerate(map(lookups[n - 1].get, grams)):
                if j is not None:
                    found.setdefault(j, []).append((i, n))
        return found

    def pulls(self, counts: Counter[int]) -> tuple[float, list[int], list[float], float]:
        """The logit; the counted features in index (that is, term) order; each one's TF-IDF value times its weight; the norm.

        A feature's share of the logit is its product divided by the L2 norm. The sums run in feature order,
        one addition after another, as pipeline.batch sums with numpy: both give the same bits.
        """
        idf, weights = self.idf, self.weights
        rows = sorted(counts)
        tfs = [sublinear_tf(counts[i]) for i in rows] if self.sublinear_tf else [counts[i] for i in rows]
        products: list[float] = []
        add = products.append
        dot = square = 0.0
        # One plain loop: here about twice as fast as building values, norm and dot product with comprehensions.
        for i, tf in zip(rows, tfs, strict=True):
            v = tf * idf[i]
            p = v * weights[i]
            add(p)
            dot += p
            square += v * v
        if not square:
            return self.intercept, rows, products, 0.0
        norm = math.sqrt(square)
        return self.intercept + dot / norm, rows, products, norm

    def logit(self, counts: Counter[int]) -> float:
        """The decision function for counted features: intercept plus the normalised TF-IDF vector times the weights."""
        return self.pulls(counts)[0]

    def probability(self, tokens: Sequence[str]) -> float:
        """P(positive class) for a token list."""
        return sigmoid(self.logit(self.features(tokens)))


def sublinear_tf(count: int) -> float:
    """scikit-learn's sublinear term frequency, 1 + ln(count)."""
    return 1.0 + math.log(count)


def sigmoid(x: float) -> float:
    """The logistic function, without overflow for large |x|."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


# skops loads exactly these types and refuses a file that names any other, even one skops itself would
# trust. Add a class here when training.export.build_pipeline starts to use it (tests/test_trust.py saves the built
# pipeline with skops and loads it back, so a missing entry fails there first).
SKOPS_ALLOWED_TYPES = frozenset(
    {
        "pipeline.text.tokenize",
        "sklearn.pipeline.Pipeline",
        "sklearn.feature_extraction.text.TfidfVectorizer",
        "sklearn.feature_extraction.text.TfidfTransformer",
        "sklearn.linear_model._logistic.LogisticRegression",
        "numpy.ndarray",
        "numpy.dtype",
        "numpy.float64",
        "numpy.int64",
        "numpy.int32",
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.str",
        "builtins.int",
        "builtins.float",
        "builtins.bool",
        "builtins.NoneType",
    }
)
MODEL_SUFFIXES = (".joblib", ".skops")
_RETRAIN = "retrain with `make train` (or `orient train`)"


def paths(model_path: Path) -> tuple[Path, Path, Path]:
    """Return the model-file (.joblib or .skops), linear-export and metadata paths of a model."""
    base = model_path.with_suffix("") if model_path.suffix in (*MODEL_SUFFIXES, ".json") else model_path
    if base.suffix == ".linear":
        base = base.with_suffix("")
    model_suffix = model_path.suffix if model_path.suffix in MODEL_SUFFIXES else ".joblib"
    return base.with_suffix(model_suffix), base.with_suffix(".linear.json"), base.with_suffix(".json")


def model_format(model_path: Path) -> str:
    """Return "skops" or "joblib", from the model file's suffix."""
    return "skops" if paths(model_path)[0].suffix == ".skops" else "joblib"


def read_metadata(model_path: Path) -> dict[str, Any]:
    """Read a model's metadata, with one clear sentence if it is missing or unreadable."""
    model_file, _, meta_path = paths(model_path)
    if not model_file.exists() and not meta_path.exists():
        raise OrientError(f"No model at {model_file}; run `make train` or pass --model PATH.")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OrientError(
            f"Model {model_file.name} has no metadata file {meta_path.name}, so its integrity cannot be checked; "
            f"{_RETRAIN}, or pass --trust-model if you know where this file came from."
        ) from None
    except (OSError, ValueError) as exc:
        raise OrientError(f"Model metadata {meta_path} is unreadable ({exc.__class__.__name__}); {_RETRAIN}.") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION or not isinstance(meta.get("files"), dict):
        raise OrientError(f"Model metadata {meta_path} is not in this version's format; {_RETRAIN}.")
    features = meta.get("features", {}).get("version")
    if features != FEATURE_VERSION:
        made = f"tokens of version {features}" if features is not None else "tokens of no recorded version"
        raise OrientError(
            f"Model {model_file.name} was trained on {made}, but this orient makes version {FEATURE_VERSION}; {_RETRAIN}."
        )
    fmt = model_format(model_path)
    if fmt not in meta["files"]:
        other = next((k for k in MODEL_SUFFIXES if k[1:] in meta["files"]), None)
        named = str(model_file.with_name(meta["files"][other[1:]]["name"])) if other else "no model file"
        raise OrientError(
            f"Model metadata {meta_path.name} describes {named}, not {model_file.name}; pass --model {named} or {_RETRAIN}."
        )
    return meta


def _verified_bytes(path: Path, expected: str) -> bytes:
    """Read a model file and return its bytes only if their SHA-256 matches the metadata."""
    import hashlib

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise OrientError(f"Cannot read model file {path} ({exc.strerror or exc.__class__.__name__}); {_RETRAIN}.") from None
    if hashlib.sha256(data).hexdigest() != expected:
        raise OrientError(
            f"Model file {path} does not match the SHA-256 recorded in its metadata (truncated, altered or replaced); "
            f"refusing to load it: {_RETRAIN} or restore the original file."
        )
    return data


def load_linear(model_path: Path, meta: dict[str, Any]) -> LinearModel:
    """Load the linear export after checking its SHA-256 (the model file is checked when it is first used)."""
    _, linear_path, _ = paths(model_path)
    data = _verified_bytes(linear_path, meta["files"]["linear"]["sha256"])
    try:
        return LinearModel.from_json(data.decode("utf-8"))
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        why = exc.__class__.__name__
        raise OrientError(f"Linear export {linear_path} is not in this version's format ({why}); {_RETRAIN}.") from None


def skops_types(data: bytes) -> set[str]:
    """Every type a skops file names (module.name), read from its schema without loading anything."""
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        schema = json.loads(zf.read("schema.json"))
    found: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__class__" in node and "__module__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _load_skops(data: bytes, name: str) -> Any:
    """Load a skops file only if every type it names is in SKOPS_ALLOWED_TYPES."""
    import skops.io

    try:
        named = skops_types(data)
    except Exception as exc:  # not a zip, no schema, bad JSON: all mean the file is not what it claims
        raise OrientError(f"Model file {name} is not a readable skops file ({exc.__class__.__name__}); {_RETRAIN}.") from None
    extra = sorted(named - SKOPS_ALLOWED_TYPES)
    if extra:
        raise OrientError(
            f"Model file {name} contains types outside orient's allow-list ({', '.join(extra)}); refusing to load it: {_RETRAIN}."
        )
    try:
        untrusted = skops.io.get_untrusted_types(data=data)
        return skops.io.loads(data, trusted=[t for t in untrusted if t in SKOPS_ALLOWED_TYPES])
    except Exception as exc:  # skops raises many kinds; any of them means the same thing to the user
        raise OrientError(f"Model file {name} could not be loaded by skops ({exc.__class__.__name__}); {_RETRAIN}.") from None


def _deserialize(data: bytes, fmt: str, name: str) -> Any:
    if fmt == "skops":
        return _load_skops(data, name)
    import joblib

    try:
        return joblib.load(io.BytesIO(data))
    except Exception as exc:  # a damaged pickle can raise almost anything
        raise OrientError(f"Model file {name} could not be unpickled ({exc.__class__.__name__}); {_RETRAIN}.") from None


def load_pipeline(model_path: Path, meta: dict[str, Any]) -> Any:
    """Load the scikit-learn pipeline, only after its SHA-256 and library version check out."""
    import sklearn

    model_file, _, _ = paths(model_path)
    fmt = model_format(model_path)
    data = _verified_bytes(model_file, meta["files"][fmt]["sha256"])
    recorded = meta.get("versions", {}).get("scikit-learn")
    if recorded != sklearn.__version__:
        raise OrientError(
            f"Model {model_file.name} was trained with scikit-learn {recorded}, but {sklearn.__version__} is installed; "
            f"{_RETRAIN}, or install the pinned versions with `make install`."
        )
    return _deserialize(data, fmt, model_file.name)


def _check_shape(pipe: Any, name: str) -> None:
    """Refuse an object that is not an orient pipeline, in one sentence."""
    steps: Any = getattr(pipe, "named_steps", None)
    ok = steps is not None and "tfidf" in steps and "clf" in steps
    classes = [str(c) for c in getattr(steps["clf"], "classes_", [])] if ok else []
    if not ok or sorted(classes) != ["marketing", "sales"]:
        raise OrientError(
            f"Model file {name} does not hold an orient model (a fitted Pipeline with tfidf and clf steps "
            f"for sales and marketing); {_RETRAIN}."
        )


def load_trusted(model_path: Path) -> tuple[LinearModel, dict[str, Any], Any]:
    """Load a model the user vouches for: checked as usual when its metadata matches, else the named file alone.

    Returns the linear model, the metadata and the pipeline (None when it is loaded later, after its check, or
    when there is none). Without matching metadata only the file named is read, and nothing beside it, since
    nothing checked those: a pipeline file (.joblib, .skops) is deserialised at once (a pickle is code: that is
    what trusting it means) and its linear export derived from it, without the orientation gate, which lives only
    in the export; a linear export (.linear.json) is read as it is, gate included, and has no pipeline. The verdict
    settings, normally chosen at training time and kept in the metadata, fall back to the defaults.
    """
    from pipeline.config import DEFAULT_VERDICT

    try:
        meta = read_metadata(model_path)
        return load_linear(model_path, meta), meta, None
    except OrientError:
        pass
    export_named = model_path.name.endswith(".linear.json")
    if model_path.suffix == ".json" and not export_named:
        raise OrientError(
            f"{model_path.name} is a model's metadata, which --trust-model does not vouch for; "
            "name the model file (.joblib, .skops) or its .linear.json."
        )
    named = model_path if export_named else paths(model_path)[0]
    if not named.exists():
        raise OrientError(f"No model at {named}; run `make train` or pass --model PATH.")
    try:
        data = named.read_bytes()
    except OSError as exc:
        raise OrientError(f"Cannot read model file {named} ({exc.strerror or exc.__class__.__name__}).") from None
    if export_named:
        kind, pipe = "linear", None
        try:
            linear = LinearModel.from_json(data.decode("utf-8"))
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            why = exc.__class__.__name__
            raise OrientError(f"Linear export {named.name} is not in this version's format ({why}); {_RETRAIN}.") from None
    else:
        kind = model_format(model_path)
        pipe = _deserialize(data, kind, named.name)
        _check_shape(pipe, named.name)
        try:
            linear = LinearModel.from_pipeline(pipe)
        except Exception as exc:  # an unfitted or odd pipeline
            why = exc.__class__.__name__
            raise OrientError(f"Model file {named.name} holds an unfitted or unusual pipeline ({why}); {_RETRAIN}.") from None
    meta = {
        "format": FORMAT_VERSION,
        "name": named.name.removesuffix(".linear.json") if export_named else named.stem,
        "trusted_without_metadata": True,
        "files": {kind: {"name": named.name, "sha256": hashlib.sha256(data).hexdigest()}},
        "verdict": dict(DEFAULT_VERDICT),
        "vocabulary_size": len(linear.vocabulary),
    }
    return linear, meta, pipe
