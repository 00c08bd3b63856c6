"""Write a trained model's files: the scikit-learn pipeline, its linear export and the metadata that checks both.

The files are read (and checked) by pipeline.model; this module is training's side of the format.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from pipeline.errors import OrientError
from pipeline.files import atomic_write, sha256_file
from pipeline.model import LinearModel, model_format, paths


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
                    min_df=params.get("min_df", 1),
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


# Fitted numbers are stored to this many significant digits. Training arithmetic is pinned (the Makefile's
# SAME_ARITHMETIC), and what is left of machine-to-machine noise (about 1e-13) then falls away; the scores move
# by a few 1e-9 (reports/reproducibility.md).
SIGNIFICANT_DIGITS = 8


def rounded(pipe: Any) -> Any:
    """The fitted pipeline with its weights, intercept and IDF rounded to SIGNIFICANT_DIGITS (in place)."""
    import numpy as np

    def rounded_array(a: Any) -> Any:
        # Decimal rounding by Python's formatter: correctly rounded, the same on every machine (no libm).
        digits = SIGNIFICANT_DIGITS - 1
        return np.array([float(f"{x:.{digits}e}") for x in np.ravel(a)], dtype=np.float64).reshape(np.shape(a))

    vec, clf = pipe.named_steps["tfidf"], pipe.named_steps["clf"]
    clf.coef_ = rounded_array(clf.coef_)
    clf.intercept_ = rounded_array(clf.intercept_)
    vec.idf_ = rounded_array(vec.idf_)
    return pipe


def save(pipe: Any, metadata: dict[str, Any], model_path: Path, gate: LinearModel | None = None) -> dict[str, Any]:
    """Write the pipeline (.joblib, or .skops by the path's suffix), its linear export and the metadata.

    Each file is written atomically, and the metadata last: it holds the other two files' SHA-256,
    so a run killed in between leaves a set that fails its check (and says to retrain), never a
    model whose metadata describes different files.
    """
    model_file, linear_path, meta_path = paths(model_path)
    fmt = model_format(model_path)
    model_file.parent.mkdir(parents=True, exist_ok=True)
    # scikit-learn records id(stop_words), a memory address, only to skip a warning; it would make
    # two identical trainings pickle to different bytes.
    pipe.named_steps["tfidf"].__dict__.pop("_stop_words_id", None)
    if fmt == "skops":
        import skops.io

        data = skops.io.dumps(pipe)
    else:
        data = joblib_bytes(pipe)
    atomic_write(model_file, data)
    atomic_write(linear_path, LinearModel.from_pipeline(pipe, gate=gate).to_json().encode("utf-8"))
    metadata = dict(metadata)
    metadata["files"] = {
        fmt: {"name": model_file.name, "sha256": sha256_file(model_file)},
        "linear": {"name": linear_path.name, "sha256": sha256_file(linear_path)},
    }
    if fmt == "skops":
        import skops

        metadata.setdefault("versions", {})["skops"] = skops.__version__
    atomic_write(meta_path, (json.dumps(metadata, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    return metadata


def joblib_bytes(obj: Any) -> bytes:
    """What joblib.dump(obj, compress=3) writes, the same bytes in every process.

    A pickle refers back to an equal string it has already written only when it is the same object, and
    whether two equal strings are one object depends on what the process did before (loading another model
    changes it): joblib.dump gave different bytes for the same model after that. Without the memo, every
    object is written out in full, so the bytes depend on the values alone; joblib.load reads them as usual.
    """
    from joblib.compressor import BinaryZlibFile
    from joblib.numpy_pickle import NumpyPickler

    class Unshared(NumpyPickler):
        def __init__(self, fp: Any) -> None:
            super().__init__(fp)
            self.fast = True  # no memo: the model has no cycles, and repeated objects are small

    buf = io.BytesIO()
    try:
        with BinaryZlibFile(buf, "wb", compresslevel=3) as f:
            Unshared(f).dump(obj)
    except RecursionError:  # a cycle, which a pickle without memo cannot write: not a model build_pipeline makes
        raise OrientError("The fitted model refers to itself, so it cannot be written as a .joblib file.") from None
    return buf.getvalue()
