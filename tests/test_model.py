"""Training, the three model files, their integrity checks and their determinism."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import MARKETING_TEXT, SALES_TEXT, SMALL_GRID, TINY_ARTICLES, copy_model, read_json, train_tiny

import pipeline
from pipeline import config, model
from pipeline.errors import OrientError
from pipeline.files import sha256_file
from pipeline.model import paths
from pipeline.text import FEATURE_VERSION, tokenize

pytestmark = pytest.mark.slow  # most tests here train the tiny model or the shipped one

ROOT = Path(__file__).resolve().parent.parent

PROBE_TEXTS = [
    SALES_TEXT,
    MARKETING_TEXT,
    "推销推销推销，完成业绩，业绩！",  # repeated terms
    "的了和与在是",  # stop words only
    "今天天气很好。",  # no known term
    "负责CRM系统和KPI考核，开展市场调研，催促客户回款。",  # mixed, with English
    "ＫＰＩ考核与定単管理，用戶满意度",  # full-width and variant characters
    "",
]


def _marketing_column(pipe: Any) -> int:
    return list(pipe.classes_).index("marketing")


def test_training_writes_three_files(tiny_model: Path) -> None:
    joblib_path, linear_path, meta_path = paths(tiny_model)
    assert joblib_path == tiny_model
    assert linear_path.name == "tiny.linear.json"
    assert meta_path.name == "tiny.json"
    for p in (joblib_path, linear_path, meta_path):
        assert p.is_file() and p.stat().st_size > 0
    leftovers = [p.name for p in tiny_model.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_sklearn_pipeline_and_linear_scorer_agree(tiny_model: Path) -> None:
    clf = pipeline.load(tiny_model)
    pipe = clf.pipeline
    col = _marketing_column(pipe)
    for text in PROBE_TEXTS:
        expected = float(pipe.predict_proba([text])[0][col])
        assert clf.score(text).marketing_probability == pytest.approx(expected, abs=1e-9), text


def test_shipped_pipeline_and_linear_scorer_agree(shipped: Any) -> None:
    pipe = shipped.pipeline
    col = _marketing_column(pipe)
    examples = sorted((ROOT / "examples").glob("*.txt"))
    texts = PROBE_TEXTS + [p.read_text(encoding="utf-8") for p in examples]
    for text in texts:
        expected = float(pipe.predict_proba([text])[0][col])
        assert shipped.score(text).marketing_probability == pytest.approx(expected, abs=1e-9), text[:30]


def test_labels_follow_the_sklearn_probability_and_the_stored_threshold(tiny_model: Path) -> None:
    clf = pipeline.load(tiny_model)
    threshold = clf.metadata["verdict"]["threshold"]
    col = _marketing_column(clf.pipeline)
    for text in PROBE_TEXTS:
        p = float(clf.pipeline.predict_proba([text])[0][col])
        assert clf.score(text).side == ("marketing" if p >= threshold else "sales"), text


def test_the_stored_tokenizer_is_the_package_function(tiny_model: Path) -> None:
    pipe = pipeline.load(tiny_model).pipeline
    assert pipe.named_steps["tfidf"].tokenizer is tokenize


def test_the_tiny_model_learns_its_corpus(tiny_model: Path) -> None:
    clf = pipeline.load(tiny_model)
    for rows in TINY_ARTICLES.values():
        for label, text in rows:
            if label != "neutral":
                assert clf.score(text).side == label, text


def _flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_damaged_joblib_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    model = copy_model(tiny_model, tmp_path)
    _flip_one_byte(model)
    clf = pipeline.load(model)  # the linear export is intact, so scoring still works...
    assert clf.score(MARKETING_TEXT).label in ("sales", "marketing")
    with pytest.raises(OrientError) as info:
        _ = clf.pipeline  # ...but the pickle is never loaded
    message = str(info.value)
    assert str(model) in message
    assert "does not match the SHA-256" in message


def test_a_damaged_linear_export_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    model = copy_model(tiny_model, tmp_path)
    _flip_one_byte(paths(model)[1])
    with pytest.raises(OrientError) as info:
        pipeline.load(model)
    message = str(info.value)
    assert str(paths(model)[1]) in message
    assert "does not match the SHA-256" in message


def test_a_missing_metadata_file_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    model = copy_model(tiny_model, tmp_path)
    paths(model)[2].unlink()
    with pytest.raises(OrientError) as info:
        pipeline.load(model)
    message = str(info.value)
    assert "tiny.joblib has no metadata file tiny.json" in message
    assert "make train" in message


def test_a_missing_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OrientError) as info:
        pipeline.load(tmp_path / "nothing.joblib")
    assert str(info.value) == f"No model at {tmp_path / 'nothing.joblib'}; run `make train` or pass --model PATH."


def test_unreadable_metadata_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    model = copy_model(tiny_model, tmp_path)
    paths(model)[2].write_text("{not json", encoding="utf-8")
    with pytest.raises(OrientError, match="is unreadable"):
        pipeline.load(model)
    paths(model)[2].write_text('{"format": 999, "files": {}}', encoding="utf-8")
    with pytest.raises(OrientError, match="not in this version's format"):
        pipeline.load(model)


def test_metadata_from_another_scikit_learn_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    import sklearn

    model = copy_model(tiny_model, tmp_path)
    meta_path = paths(model)[2]
    meta = read_json(meta_path)
    meta["versions"]["scikit-learn"] = "0.0.1"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    clf = pipeline.load(model)
    with pytest.raises(OrientError) as info:
        _ = clf.pipeline
    message = str(info.value)
    assert "scikit-learn 0.0.1" in message
    assert sklearn.__version__ in message
    assert "retrain" in message and "make train" in message


def _walk(value: Any, keys: list[str], strings: list[str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            keys.append(k)
            _walk(v, keys, strings)
    elif isinstance(value, list):
        for v in value:
            _walk(v, keys, strings)
    elif isinstance(value, str):
        strings.append(value)


def test_metadata_contents(tiny_model: Path, tiny_passages: Path) -> None:
    import jieba
    import sklearn

    meta = read_json(paths(tiny_model)[2])
    # No timestamps: no key that names a time, no value that looks like a date or a clock time.
    keys: list[str] = []
    strings: list[str] = []
    _walk(meta, keys, strings)
    assert not [k for k in keys if re.search(r"time|date|created|built|when", k, re.IGNORECASE)]
    assert not [s for s in strings if re.search(r"\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}:\d{2}", s)]
    assert meta["versions"]["python"] == ".".join(str(x) for x in sys.version_info[:3])
    assert meta["versions"]["scikit-learn"] == sklearn.__version__
    assert meta["versions"]["jieba"] == str(jieba.__version__)
    assert meta["corpus"]["sha256"] == hashlib.sha256(tiny_passages.read_bytes()).hexdigest()
    expected_counts = Counter(label for rows in TINY_ARTICLES.values() for label, _ in rows if label != "neutral")
    assert meta["label_counts"] == dict(expected_counts)
    cv = meta["cv"]
    assert cv["n"] == sum(expected_counts.values())
    for key in ("accuracy", "macro_f1"):
        assert 0.0 <= cv[key] <= 1.0
    assert set(cv["per_class"]) == {"sales", "marketing"}
    assert meta["params"]["C"] in SMALL_GRID["C"]
    for key, name in (("joblib", "tiny.joblib"), ("linear", "tiny.linear.json")):
        entry = meta["files"][key]
        assert entry["name"] == name
        assert entry["sha256"] == hashlib.sha256((tiny_model.parent / name).read_bytes()).hexdigest()
    assert meta["vocabulary_size"] == len(pipeline.load(tiny_model).linear.vocabulary)


def test_neutral_passages_are_not_trained_on(tiny_model: Path) -> None:
    vocabulary = pipeline.load(tiny_model).linear.vocabulary
    neutral_only = {"章", "介绍", "两者", "区别", "下面", "三点", "说明", "大家", "知道"}
    assert not neutral_only & set(vocabulary)


def _model_bytes(model_path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in paths(model_path)}


def test_training_is_deterministic(tiny_model: Path, tiny_passages: Path, tmp_path: Path) -> None:
    again = tmp_path / "in-process" / "tiny.joblib"
    _ = pipeline.load().pipeline  # unpickling another model first once changed what joblib.dump wrote
    train_tiny(again, tiny_passages)
    assert _model_bytes(again) == _model_bytes(tiny_model)

    other = tmp_path / "subprocess" / "tiny.joblib"
    script = (
        "import sys, pathlib, pipeline.training.train as t\n"
        f"t.GRID = {SMALL_GRID!r}\n"
        "t.config.DOCUMENTS_FILE = pathlib.Path(sys.argv[2]).parent / 'no-documents.jsonl'\n"
        "t.train(model_path=pathlib.Path(sys.argv[1]), passages_path=pathlib.Path(sys.argv[2]), lexicon=False)\n"
    )
    seed = "12345" if os.environ.get("PYTHONHASHSEED") != "12345" else "54321"
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = subprocess.run(
        [sys.executable, "-c", script, str(other), str(tiny_passages)], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert _model_bytes(other) == _model_bytes(tiny_model)


def test_the_shipped_model_was_made_from_the_committed_inputs(shipped: Any) -> None:
    from pipeline.training import train

    meta = shipped.metadata
    data = [str(p.relative_to(config.ROOT)) for p in train.model_inputs("data")]
    assert list(meta["inputs"]) == data and "corpus/passages.jsonl" in data
    changed = [name for name, digest in meta["inputs"].items() if sha256_file(config.ROOT / name) != digest]
    assert changed == [], f"{changed} changed since the model was trained: run `make train`"


def test_the_tokenizer_still_makes_the_tokens_the_shipped_model_learned_from(shipped: Any) -> None:
    from pipeline.training import train

    features = shipped.metadata["features"]
    assert features["version"] == FEATURE_VERSION
    assert features["tokens_sha256"] == train.tokens_fingerprint(train.learned_texts()), (
        "tokenization changed what the training texts become: raise text.FEATURE_VERSION and run `make train`"
    )


def test_a_model_of_another_token_version_is_refused(tmp_path: Path, tiny_model: Path) -> None:
    copy = copy_model(tiny_model, tmp_path)
    meta_path = model.paths(copy)[2]
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["features"]["version"] = FEATURE_VERSION - 1
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(OrientError) as err:
        pipeline.load(copy)
    assert str(err.value) == (
        f"Model {copy.name} was trained on tokens of version {FEATURE_VERSION - 1}, but this orient makes version "
        f"{FEATURE_VERSION}; retrain with `make train` (or `orient train`)."
    )
    del meta["features"]  # a model from before token versions were recorded
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(
        OrientError, match=f"trained on tokens of no recorded version, but this orient makes version {FEATURE_VERSION};"
    ):
        pipeline.load(copy)


def test_model_stop_words_are_single_tokens(tiny_model: Path, shipped: Any) -> None:
    # scikit-learn drops a stop word only when the tokenizer yields it whole.
    for clf in (pipeline.load(tiny_model), shipped):
        split = {w: tokenize(w) for w in clf.linear.stop_words if tokenize(w) != [w]}
        assert split == {}, f"{clf.path.name}: stop words that are not single tokens: {split}"


def test_make_train_rebuilds_the_shipped_model_byte_for_byte(tmp_path: Path) -> None:
    # As `make train` runs it (the Makefile's SAME_ARITHMETIC), into a folder of its own.
    line = next(x for x in (config.ROOT / "Makefile").read_text(encoding="utf-8").splitlines() if x.startswith("SAME_ARITHMETIC"))
    env = dict(pair.split("=", 1) for pair in line.split(":=", 1)[1].split())
    target = tmp_path / "orientation.joblib"
    command = [sys.executable, "-m", "pipeline", "train", "--model", str(target), "--force"]
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    assert _model_bytes(target) == _model_bytes(config.default_model_path())
