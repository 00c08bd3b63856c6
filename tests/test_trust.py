"""Model files are code: damaged or swapped files are refused before loading; trust is explicit; skops is allow-listed."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import pipeline
from pipeline import config, model
from pipeline.cli import main
from pipeline.config import DEFAULT_VERDICT
from pipeline.errors import OrientError
from pipeline.training import export

TEXT = "负责市场调研，洞察目标客户需求，制定品牌定位。"


@pytest.fixture(scope="module")
def shipped_pipe() -> Any:
    """The shipped pipeline, unpickled once (it is trusted: its hash is checked against the shipped metadata)."""
    path = config.default_model_path()
    return model.load_pipeline(path, model.read_metadata(path))


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """A copy of the shipped model's three files."""
    src = config.default_model_path()
    for f in model.paths(src):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def _path(folder: Path, suffix: str = ".joblib") -> Path:
    return folder / f"{config.MODEL_NAME}{suffix}"


def _no_unpickling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any attempt to deserialise a model fail the test loudly."""
    import joblib
    import skops.io

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a model file was deserialised before it was checked")

    monkeypatch.setattr(joblib, "load", boom)
    monkeypatch.setattr(skops.io, "loads", boom)


def _score_cli(*args: str) -> Any:
    return CliRunner().invoke(main, ["score", "--text", TEXT, "--format", "jsonl", *args])


def _one_sentence_error(result: Any) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_the_shipped_model_loads_and_scores(model_dir: Path) -> None:
    clf = pipeline.load(_path(model_dir))
    assert clf.score(TEXT) == pipeline.load().score(TEXT)


@pytest.mark.parametrize("damage", ["truncated", "altered", "swapped"])
def test_a_damaged_model_file_is_refused_before_unpickling(
    damage: str, model_dir: Path, monkeypatch: pytest.MonkeyPatch, shipped_pipe: Any
) -> None:
    target = _path(model_dir)
    data = target.read_bytes()
    if damage == "truncated":
        target.write_bytes(data[: len(data) // 2])
    elif damage == "altered":
        target.write_bytes(data[:1000] + bytes([data[1000] ^ 1]) + data[1001:])
    else:  # another valid model file put in its place
        import io

        import joblib

        other = export.build_pipeline({"C": 1.0, "ngram_range": [1, 1], "sublinear_tf": False, "class_weight": None})
        other.fit(["营销 品牌 调研", "销售 指标 电话"], ["marketing", "sales"])
        buf = io.BytesIO()
        joblib.dump(other, buf)
        target.write_bytes(buf.getvalue())
    _no_unpickling(monkeypatch)
    clf = pipeline.load(target)  # scoring uses only the (intact) linear export...
    assert clf.score(TEXT).label in ("sales", "marketing")
    with pytest.raises(OrientError) as err:
        _ = clf.pipeline  # ...and the damaged file is refused the moment it would be unpickled
    message = str(err.value)
    assert str(target) in message
    assert "does not match the SHA-256 recorded in its metadata" in message and "retrain with `make train`" in message
    with pytest.raises(OrientError, match="does not match the SHA-256"):
        _ = pipeline.load(target, trust=True).pipeline  # matching metadata exists, so trust changes nothing here


def test_a_swapped_linear_export_is_refused(model_dir: Path) -> None:
    linear = _path(model_dir).with_suffix(".linear.json")
    linear.write_text(linear.read_text(encoding="utf-8").replace('"intercept": ', '"intercept": 1.0e-9 + ', 1), encoding="utf-8")
    with pytest.raises(OrientError, match="does not match the SHA-256"):
        pipeline.load(_path(model_dir))
    line = _one_sentence_error(_score_cli("--model", str(_path(model_dir))))
    assert "does not match the SHA-256" in line and str(linear) in line


@pytest.mark.parametrize("broken", ["missing", "garbage", "old format"])
def test_metadata_problems_are_one_sentence(broken: str, model_dir: Path) -> None:
    meta = _path(model_dir).with_suffix(".json")
    if broken == "missing":
        meta.unlink()
        expected = "has no metadata file orientation.json, so its integrity cannot be checked"
    elif broken == "garbage":
        meta.write_text("{not json", encoding="utf-8")
        expected = "is unreadable (JSONDecodeError)"
    else:
        meta.write_text(json.dumps({"format": 0}), encoding="utf-8")
        expected = "is not in this version's format"
    line = _one_sentence_error(_score_cli("--model", str(_path(model_dir))))
    assert expected in line


def test_the_scikit_learn_version_is_checked_before_unpickling(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    meta_path = _path(model_dir).with_suffix(".json")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["versions"]["scikit-learn"] = "0.0.1"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    clf = pipeline.load(_path(model_dir))  # scoring needs no scikit-learn, so it still loads
    _no_unpickling(monkeypatch)
    with pytest.raises(OrientError, match=r"was trained with scikit-learn 0\.0\.1"):
        _ = clf.pipeline


# --- a model file without matching metadata: only with --trust-model / trust=True -----------------------------


@pytest.mark.parametrize("keep_linear", [True, False])
def test_a_model_without_metadata_loads_only_when_trusted(
    keep_linear: bool, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _path(model_dir)
    target.with_suffix(".json").unlink()
    linear_path = target.with_suffix(".linear.json")
    if keep_linear:
        # An export beside the trusted file that nothing checked: were it read, every text would score 1.0.
        export = json.loads(linear_path.read_text(encoding="utf-8"))
        linear_path.write_text(json.dumps({**export, "intercept": 50.0}), encoding="utf-8")
    else:
        linear_path.unlink()
    monkeypatch.setenv("ORIENT_MODEL", str(target))
    line = _one_sentence_error(_score_cli())
    assert "pass --trust-model if you know where this file came from" in line
    with pytest.raises(OrientError):
        pipeline.load(target)

    trusted = pipeline.load(target, trust=True)
    shipped = pipeline.load()
    assert trusted.metadata["trusted_without_metadata"] is True
    assert trusted.metadata["verdict"] == DEFAULT_VERDICT  # the chosen settings lived in the missing metadata
    assert list(trusted.metadata["files"]) == ["joblib"]
    pipe = trusted.pipeline
    # Only the file named is trusted: the export is derived from its pipeline, which has no gate.
    assert trusted.linear.vocabulary == shipped.linear.vocabulary and trusted.linear.gate is None
    expected = float(pipe.predict_proba([TEXT])[0][list(pipe.classes_).index("marketing")])
    assert expected < 0.99
    assert trusted.score(TEXT).marketing_probability == pytest.approx(expected, abs=1e-9)
    result = _score_cli("--trust-model")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["marketing_probability"] == round(expected, 4)


def test_a_trusted_linear_export_is_read_alone_with_its_gate(model_dir: Path) -> None:
    target = _path(model_dir)
    target.with_suffix(".json").unlink()
    target.write_bytes(b"not a pickle: never read when the export is the file named")
    linear_path = target.with_suffix(".linear.json")
    with pytest.raises(OrientError):
        pipeline.load(linear_path)
    trusted = pipeline.load(linear_path, trust=True)
    shipped = pipeline.load()
    assert trusted.linear == shipped.linear and trusted.linear.gate is not None
    assert list(trusted.metadata["files"]) == ["linear"]
    assert trusted.score(TEXT).marketing_probability == shipped.score(TEXT).marketing_probability
    with pytest.raises(OrientError) as err:
        _ = trusted.pipeline
    assert str(err.value) == "Model orientation.linear.json is a linear export alone: it has no scikit-learn pipeline."
    result = _score_cli("--model", str(linear_path), "--trust-model")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["verdict"] == shipped.score(TEXT).verdict


def test_trust_with_intact_metadata_still_checks(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--trust-model skips nothing when the metadata matches: the pipeline is then loaded lazily, after its check."""
    from pipeline import predict

    loaded: list[Path] = []
    real = predict.load_pipeline

    def counting(path: Path, meta: dict[str, Any]) -> Any:
        loaded.append(path)
        return real(path, meta)

    monkeypatch.setattr(predict, "load_pipeline", counting)
    clf = pipeline.load(_path(model_dir), trust=True)
    assert "trusted_without_metadata" not in clf.metadata
    assert loaded == []  # nothing unpickled yet
    _ = clf.pipeline
    assert loaded == [_path(model_dir)]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"not a pickle at all", "could not be unpickled"),
        ("dict", "does not hold an orient model"),
    ],
)
def test_a_trusted_file_that_is_not_a_model_is_one_sentence(content: Any, expected: str, tmp_path: Path) -> None:
    import io

    import joblib

    target = tmp_path / "thing.joblib"
    if content == "dict":
        buf = io.BytesIO()
        joblib.dump({"a": 1}, buf)
        content = buf.getvalue()
    target.write_bytes(content)
    with pytest.raises(OrientError, match=expected):
        pipeline.load(target, trust=True)
    line = _one_sentence_error(_score_cli("--model", str(target), "--trust-model"))
    assert expected in line


# --- training writes atomically; the metadata comes last --------------------------------------------------------


def test_an_interrupted_save_leaves_no_half_files_and_a_set_that_is_refused(
    model_dir: Path, shipped_pipe: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _path(model_dir)
    meta = json.loads(target.with_suffix(".json").read_text(encoding="utf-8"))
    real = export.atomic_write

    def dies_on_metadata(path: Path, data: bytes) -> None:
        if path.suffix == ".json" and not path.name.endswith(".linear.json"):
            raise KeyboardInterrupt
        real(path, data)

    # A different model, so the new files differ from the ones the old metadata names.
    other = export.build_pipeline({"C": 1.0, "ngram_range": [1, 1], "sublinear_tf": False, "class_weight": None})
    other.fit(["营销 品牌 调研", "销售 指标 电话"], ["marketing", "sales"])
    monkeypatch.setattr(export, "atomic_write", dies_on_metadata)
    with pytest.raises(KeyboardInterrupt):
        export.save(other, meta, target)
    monkeypatch.setattr(export, "atomic_write", real)
    assert sorted(p.name for p in model_dir.iterdir()) == ["orientation.joblib", "orientation.json", "orientation.linear.json"]
    with pytest.raises(OrientError, match="does not match the SHA-256"):
        _ = pipeline.load(target).pipeline


def test_a_write_that_fails_midway_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from pipeline.files import atomic_write

    target = tmp_path / "model.bin"
    target.write_bytes(b"old")

    def no_space(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(OSError):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]


@pytest.mark.slow
def test_save_twice_is_byte_identical(shipped_pipe: Any, tmp_path: Path) -> None:
    meta = model.read_metadata(config.default_model_path())
    a, b = tmp_path / "a" / "m.joblib", tmp_path / "b" / "m.joblib"
    gate = pipeline.load().linear.gate
    export.save(shipped_pipe, meta, a, gate=gate)
    export.save(shipped_pipe, meta, b, gate=gate)
    assert a.read_bytes() == b.read_bytes()
    assert pipeline.load(a).score(TEXT) == pipeline.load().score(TEXT)


# --- skops: the safe format, loading exactly the allow-listed types ---------------------------------------------


def _save_skops(pipe: Any, folder: Path) -> Path:
    meta = model.read_metadata(config.default_model_path())
    target = folder / "m.skops"
    export.save(pipe, meta, target, gate=pipeline.load().linear.gate)
    return target


@pytest.mark.slow
def test_skops_round_trip(shipped_pipe: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import joblib

    target = _save_skops(shipped_pipe, tmp_path)
    meta = json.loads(target.with_suffix(".json").read_text(encoding="utf-8"))
    assert set(meta["files"]) == {"skops", "linear"} and meta["versions"]["skops"]
    assert model.skops_types(target.read_bytes()) <= model.SKOPS_ALLOWED_TYPES
    monkeypatch.setattr(joblib, "load", lambda *a, **k: pytest.fail("joblib used for a skops model"))
    clf = pipeline.load(target)
    assert clf.score(TEXT) == pipeline.load().score(TEXT)
    texts = [TEXT, "每天拨打100个电话，完成本月销售指标。"]
    assert list(clf.pipeline.predict_proba(texts).ravel()) == list(shipped_pipe.predict_proba(texts).ravel())
    result = _score_cli("--model", str(target))
    assert result.exit_code == 0 and json.loads(result.stdout)["verdict"] == clf.score(TEXT).verdict


def _rehash(target: Path) -> None:
    """Make the metadata match a doctored file, so the allow-list (not the hash) is what must refuse it."""
    meta_path = target.with_suffix(".json")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["files"]["skops"]["sha256"] = hashlib.sha256(target.read_bytes()).hexdigest()
    meta_path.write_text(json.dumps(meta), encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("extra", ["an extra scikit-learn class", "a function"])
def test_skops_refuses_types_outside_the_allow_list(
    extra: str, shipped_pipe: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, MaxAbsScaler

    step = MaxAbsScaler() if extra.startswith("an extra") else FunctionTransformer(func=print)
    doctored = Pipeline([("tfidf", shipped_pipe.named_steps["tfidf"]), ("extra", step), ("clf", shipped_pipe.named_steps["clf"])])
    target = _save_skops(doctored, tmp_path)
    _rehash(target)
    name = "sklearn.preprocessing._data.MaxAbsScaler" if extra.startswith("an extra") else "builtins.print"
    assert name in model.skops_types(target.read_bytes())
    _no_unpickling(monkeypatch)
    clf = pipeline.load(target)
    with pytest.raises(OrientError, match=f"contains types outside orient's allow-list \\(.*{name}"):
        _ = clf.pipeline
    # Trust vouches for a file's origin, not for its types: without metadata, the allow-list still applies.
    target.with_suffix(".json").unlink()
    with pytest.raises(OrientError, match="allow-list"):
        pipeline.load(target, trust=True)


@pytest.mark.slow
def test_a_damaged_skops_file_is_one_sentence(shipped_pipe: Any, tmp_path: Path) -> None:
    target = _save_skops(shipped_pipe, tmp_path)
    target.write_bytes(b"PK\x03\x04 not really a zip")
    _rehash(target)
    with pytest.raises(OrientError, match="is not a readable skops file"):
        _ = pipeline.load(target).pipeline


@pytest.mark.slow
def test_metadata_for_another_format_is_named(shipped_pipe: Any, tmp_path: Path) -> None:
    _save_skops(shipped_pipe, tmp_path)
    shutil.copy(config.default_model_path(), tmp_path / "m.joblib")
    with pytest.raises(OrientError, match=r"describes .*m\.skops, not m\.joblib"):
        pipeline.load(tmp_path / "m.joblib")


@pytest.mark.slow
def test_train_format_skops_saves_a_skops_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shipped_pipe: Any) -> None:
    """The CLI option picks the format by suffix; the (slow) training itself is replaced by a save of the shipped pipeline."""
    import pipeline.training.train

    seen: list[Path] = []

    def fake_train(model_path: Path | None = None, **kwargs: Any) -> dict[str, Any]:
        assert model_path is not None
        seen.append(model_path)
        meta = model.read_metadata(config.default_model_path())
        return export.save(shipped_pipe, meta, model_path, gate=pipeline.load().linear.gate)

    monkeypatch.setattr(pipeline.training.train, "train", fake_train)
    result = CliRunner().invoke(main, ["train", "--format", "skops", "--model", str(tmp_path / "new.joblib")])
    assert result.exit_code == 0, result.output
    assert seen == [tmp_path / "new.skops"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.json", "new.linear.json", "new.skops"]
    assert pipeline.load(tmp_path / "new.skops").pipeline is not None


def test_trust_does_not_vouch_for_a_metadata_file(model_dir: Path) -> None:
    target = _path(model_dir)
    meta_path = target.with_suffix(".json")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["features"]["version"] = 0  # metadata that does not check out, so trust would take over
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(OrientError) as err:
        pipeline.load(meta_path, trust=True)
    assert str(err.value) == (
        "orientation.json is a model's metadata, which --trust-model does not vouch for; "
        "name the model file (.joblib, .skops) or its .linear.json."
    )


def test_a_copy_of_a_trusted_classifier_keeps_its_pipeline(model_dir: Path) -> None:
    import copy

    target = _path(model_dir)
    target.with_suffix(".json").unlink()
    trusted = pipeline.load(target, trust=True)
    again = copy.copy(trusted)
    assert again.pipeline is trusted.pipeline
    assert again.score(TEXT) == trusted.score(TEXT)


def test_a_model_that_refers_to_itself_cannot_be_written_as_joblib() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(OrientError, match=r"^The fitted model refers to itself, so it cannot be written as a \.joblib file\.$"):
        export.joblib_bytes(loop)
