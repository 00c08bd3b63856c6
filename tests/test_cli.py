"""The orient command line, driven through Click's CliRunner: exit codes, parsed output, messages on stderr."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import MARKETING_TEXT, NO_SIGNAL_TEXT, ONE_SETTING_GRID, SALES_TEXT, as_jsonl, read_json

import pipeline
import pipeline.model
import pipeline.training.corpus
import pipeline.training.export
import pipeline.training.train
from pipeline import config
from pipeline.cli import main
from pipeline.result import INSUFFICIENT, VERDICTS

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
RECORD_FIELDS = {"id", "label", "marketing_probability", "verdict", "reason", "signal_terms", "orientation_signal", "evidence"}


def run(args: list[str], **kwargs: Any) -> Result:
    """Invoke the CLI and check it never ends in a traceback."""
    result = CliRunner().invoke(main, args, **kwargs)
    assert "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def stderr_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def library_record(clf: Any, doc_id: str, text: str) -> dict[str, Any]:
    return {"id": doc_id, **clf.score(text).to_dict()}


# --- score: formats -------------------------------------------------------------------------------------------------


def test_score_text_as_json(shipped: Any) -> None:
    result = run(["score", "--text", SALES_TEXT, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    records = json.loads(result.stdout)
    assert isinstance(records, list) and len(records) == 1
    (record,) = records
    assert set(record) == RECORD_FIELDS
    assert record["id"] == "text"
    assert record["label"] == "sales"
    assert record["marketing_probability"] < 0.5
    assert record["verdict"] in (*VERDICTS, INSUFFICIENT)
    assert set(record["evidence"]) == {"sales", "marketing"}
    assert record == library_record(shipped, "text", SALES_TEXT)
    assert result.stderr == ""


def test_json_output_keeps_chinese_readable() -> None:
    result = run(["score", "--text", MARKETING_TEXT, "--format", "json"])
    assert result.exit_code == 0
    assert "\\u" not in result.stdout
    terms = [e["term"] for side in json.loads(result.stdout)[0]["evidence"].values() for e in side]
    assert any(ch >= "\u4e00" for t in terms for ch in t)
    for t in terms:
        assert t in result.stdout


def test_score_several_texts_as_jsonl(shipped: Any) -> None:
    result = run(["score", "--text", SALES_TEXT, "--text", MARKETING_TEXT, "--format", "jsonl"])
    assert result.exit_code == 0
    assert result.stdout.count("\n") == 2
    records = jsonl(result.stdout)
    assert [r["id"] for r in records] == ["text-1", "text-2"]
    assert records == [library_record(shipped, "text-1", SALES_TEXT), library_record(shipped, "text-2", MARKETING_TEXT)]
    assert [r["label"] for r in records] == ["sales", "marketing"]
    assert "\\u" not in result.stdout


def test_default_format_off_a_terminal_is_jsonl() -> None:
    result = run(["score", "--text", MARKETING_TEXT])
    assert result.exit_code == 0
    assert [r["id"] for r in jsonl(result.stdout)] == ["text"]


def test_score_as_csv(shipped: Any) -> None:
    result = run(["score", "--text", SALES_TEXT, "--text", MARKETING_TEXT, "--format", "csv"])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["id"] for r in rows] == ["text-1", "text-2"]
    assert {"id", "label", "marketing_probability", "verdict"} <= set(rows[0])
    for row, text in zip(rows, (SALES_TEXT, MARKETING_TEXT), strict=True):
        lib = shipped.score(text)
        assert row["label"] == lib.label
        assert row["verdict"] == lib.verdict
        assert float(row["marketing_probability"]) == pytest.approx(lib.marketing_probability, abs=1e-4)


def test_score_as_table(shipped: Any) -> None:
    result = run(["score", "--text", SALES_TEXT, "--text", MARKETING_TEXT, "--format", "table"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].split()[:2] == ["id", "verdict"]
    for line, doc_id, text in zip(lines[1:], ("text-1", "text-2"), (SALES_TEXT, MARKETING_TEXT), strict=True):
        lib = shipped.score(text)
        assert line.startswith(doc_id + " ")
        assert lib.verdict in line
        assert f"{lib.marketing_probability:.2f}" in line


def test_score_examples_folder(shipped: Any) -> None:
    result = run(["score", str(EXAMPLES), "--format", "jsonl"])
    assert result.exit_code == 0, result.stderr
    records = jsonl(result.stdout)
    txt_files = sorted(EXAMPLES.glob("*.txt"))
    assert len(txt_files) >= 2
    assert [r["id"] for r in records] == [str(p) for p in txt_files]
    assert not any(Path(r["id"]).name == "README" for r in records)
    for record, path in zip(records, txt_files, strict=True):
        assert record == library_record(shipped, str(path), path.read_text(encoding="utf-8"))


def test_score_jsonl_with_text_and_id_fields(shipped: Any, tmp_path: Path) -> None:
    src = tmp_path / "posts.jsonl"
    src.write_text(as_jsonl({"key": "s", "body": SALES_TEXT}, {"key": "m", "body": MARKETING_TEXT}), encoding="utf-8")
    result = run(["score", str(src), "--text-field", "body", "--id-field", "key", "--format", "jsonl"])
    assert result.exit_code == 0, result.stderr
    assert jsonl(result.stdout) == [library_record(shipped, "s", SALES_TEXT), library_record(shipped, "m", MARKETING_TEXT)]


def test_score_csv_input(shipped: Any, tmp_path: Path) -> None:
    src = tmp_path / "posts.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        w.writerow(["c1", SALES_TEXT])
        w.writerow(["c2", MARKETING_TEXT])
    result = run(["score", str(src), "--format", "jsonl"])
    assert result.exit_code == 0, result.stderr
    assert jsonl(result.stdout) == [library_record(shipped, "c1", SALES_TEXT), library_record(shipped, "c2", MARKETING_TEXT)]


def test_score_stdin_dash(shipped: Any) -> None:
    result = run(["score", "-", "--format", "jsonl"], input=MARKETING_TEXT.encode("utf-8"))
    assert result.exit_code == 0, result.stderr
    assert jsonl(result.stdout) == [library_record(shipped, "<stdin>", MARKETING_TEXT)]


def test_score_reads_piped_stdin_without_arguments(shipped: Any) -> None:
    result = run(["score", "--format", "jsonl"], input=SALES_TEXT.encode("gb18030"))
    assert result.exit_code == 0, result.stderr
    assert jsonl(result.stdout) == [library_record(shipped, "<stdin>", SALES_TEXT)]


def test_score_stdin_as_jsonl(shipped: Any) -> None:
    data = json.dumps({"id": "p1", "text": SALES_TEXT}, ensure_ascii=False) + "\n"
    result = run(["score", "-", "--input-format", "jsonl", "--format", "jsonl"], input=data.encode("utf-8"))
    assert result.exit_code == 0, result.stderr
    assert jsonl(result.stdout) == [library_record(shipped, "p1", SALES_TEXT)]


def test_empty_text_option_is_reported() -> None:
    result = run(["score", "--text", "  ", "--text", SALES_TEXT, "--format", "jsonl"])
    assert result.exit_code == 1
    assert [r["id"] for r in jsonl(result.stdout)] == ["text-2"]
    assert "orient: text-1 is empty; skipped." in stderr_lines(result)


# --- score: output file -----------------------------------------------------------------------------------------------


def test_output_file_is_written_and_stdout_stays_empty(tmp_path: Path) -> None:
    out = tmp_path / "scores.jsonl"
    result = run(["score", str(EXAMPLES), "--format", "jsonl", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert out.is_file()
    plain = run(["score", str(EXAMPLES), "--format", "jsonl"])
    assert out.read_text(encoding="utf-8") == plain.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["scores.jsonl"]  # no temporary file left behind


def test_output_file_defaults_to_jsonl(tmp_path: Path) -> None:
    out = tmp_path / "scores.jsonl"
    result = run(["score", "--text", SALES_TEXT, "-o", str(out)])
    assert result.exit_code == 0
    assert [r["id"] for r in jsonl(out.read_text(encoding="utf-8"))] == ["text"]


def test_output_over_an_input_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "doc.txt"
    src.write_text(SALES_TEXT, encoding="utf-8")
    result = run(["score", str(src), "-o", str(src)])
    assert result.exit_code == 2
    assert f"Refusing to write the output over the input {src}." in result.stderr
    assert src.read_text(encoding="utf-8") == SALES_TEXT
    assert result.stdout == ""


def test_output_over_an_input_named_differently_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "doc.txt"
    src.write_text(SALES_TEXT, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run(["score", "doc.txt", "-o", str(tmp_path / "." / "doc.txt")])
    assert result.exit_code == 2
    assert "Refusing to write the output over the input doc.txt." in result.stderr
    assert src.read_text(encoding="utf-8") == SALES_TEXT


def test_output_into_a_missing_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "no-such-folder" / "out.jsonl"
    result = run(["score", "--text", SALES_TEXT, "-o", str(out)])
    assert result.exit_code == 2
    assert f"Cannot write {out}: folder {out.parent} does not exist." in result.stderr


# --- score: bad inputs ------------------------------------------------------------------------------------------------


def test_every_encoding_scores_like_utf8(tmp_path: Path) -> None:
    text = (EXAMPLES / "marketing_posting.txt").read_text(encoding="utf-8")
    names = []
    for enc in ("utf-8", "utf-8-sig", "gb18030", "gbk"):
        p = tmp_path / f"{enc}.txt"
        p.write_bytes(text.encode(enc))
        names.append(str(p))
    result = run(["score", *names, "--format", "jsonl"])
    assert result.exit_code == 0, result.stderr
    records = jsonl(result.stdout)
    assert [r["id"] for r in records] == names
    first = {k: v for k, v in records[0].items() if k != "id"}
    for r in records[1:]:
        assert {k: v for k, v in r.items() if k != "id"} == first
    assert result.stderr == ""


def test_binary_files_are_refused_and_the_batch_goes_on(tmp_path: Path, shipped: Any) -> None:
    good1, good2 = tmp_path / "a.txt", tmp_path / "z.txt"
    good1.write_text(SALES_TEXT, encoding="utf-8")
    good2.write_text(MARKETING_TEXT, encoding="utf-8")
    nul = tmp_path / "nul.txt"
    nul.write_bytes(b"\x00\x01\x02\x03some bytes\x00")
    png = tmp_path / "picture.txt"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    result = run(["score", str(good1), str(nul), str(png), str(good2), "--format", "jsonl"])
    assert result.exit_code == 1
    assert [r["id"] for r in jsonl(result.stdout)] == [str(good1), str(good2)]
    lines = stderr_lines(result)
    nul_lines = [line for line in lines if str(nul) in line]
    png_lines = [line for line in lines if str(png) in line]
    assert nul_lines == [f"orient: {nul} looks like a binary file (it contains NUL bytes), not text; skipped."]
    assert png_lines == [f"orient: {png} is a PNG image, not text; skipped."]
    assert lines[-1] == "orient: 2 document(s) could not be scored; all others were written."


def test_a_missing_file_is_named_and_the_others_are_written(tmp_path: Path) -> None:
    good = tmp_path / "a.txt"
    good.write_text(SALES_TEXT, encoding="utf-8")
    missing = tmp_path / "missing.txt"
    out = tmp_path / "out.jsonl"
    result = run(["score", str(missing), str(good), "-o", str(out)])
    assert result.exit_code == 1
    assert f"orient: {missing} does not exist; skipped." in stderr_lines(result)
    assert result.stdout == ""
    assert [r["id"] for r in jsonl(out.read_text(encoding="utf-8"))] == [str(good)]


def test_malformed_jsonl_lines_are_reported_with_line_numbers(tmp_path: Path) -> None:
    src = tmp_path / "recs.jsonl"
    src.write_text(
        "\n".join(
            [
                json.dumps({"id": "ok1", "text": SALES_TEXT}, ensure_ascii=False),
                "{not json",
                "[1, 2, 3]",
                json.dumps({"id": "ok4", "text": MARKETING_TEXT}, ensure_ascii=False),
                '{"id": "t5", "text": 5}',
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    result = run(["score", str(src), "--format", "jsonl"])
    assert result.exit_code == 1
    assert [r["id"] for r in jsonl(result.stdout)] == ["ok1", "ok4"]
    lines = stderr_lines(result)
    assert f"orient: {src}:2 line 2 is not valid JSON; skipped." in lines
    assert f"orient: {src}:3 line 3 is not a JSON object; skipped." in lines
    assert any("line 5" in line and "'text'" in line for line in lines)


@pytest.mark.parametrize("content", [b"", b"   \n\t\r\n  ", "\u3000\n".encode()])
def test_empty_and_whitespace_files_are_reported_as_empty(tmp_path: Path, content: bytes) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(content)
    good = tmp_path / "good.txt"
    good.write_text(SALES_TEXT, encoding="utf-8")
    result = run(["score", str(empty), str(good), "--format", "jsonl"])
    assert result.exit_code == 1
    assert f"orient: {empty} is empty; skipped." in stderr_lines(result)
    assert [r["id"] for r in jsonl(result.stdout)] == [str(good)]


def test_empty_stdin_is_reported() -> None:
    result = run(["score", "-"], input=b"")
    assert result.exit_code == 1
    assert "orient: <stdin> is empty; skipped." in stderr_lines(result)


def test_binary_stdin_is_refused() -> None:
    result = run(["score", "-"], input=b"\x89PNG\r\n\x1a\n\x00\x00")
    assert result.exit_code == 1
    assert "orient: <stdin> is a PNG image, not text; skipped." in stderr_lines(result)


def test_explicit_encoding_option(tmp_path: Path, shipped: Any) -> None:
    src = tmp_path / "gbk.txt"
    src.write_bytes(MARKETING_TEXT.encode("gbk"))
    ok = run(["score", str(src), "--encoding", "gbk", "--format", "jsonl"])
    assert ok.exit_code == 0
    assert jsonl(ok.stdout) == [library_record(shipped, str(src), MARKETING_TEXT)]
    bad = run(["score", str(src), "--encoding", "no-such-codec"])
    # An unknown encoding is a usage error, refused once before reading anything (issue 6: exit 2 for usage).
    assert bad.exit_code == 2
    assert "'no-such-codec' is not an encoding Python knows" in bad.stderr


def test_max_bytes_refuses_large_documents(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text(SALES_TEXT * 10, encoding="utf-8")
    result = run(["score", str(big), "--max-bytes", "100"])
    assert result.exit_code == 1
    (line,) = [x for x in stderr_lines(result) if str(big) in x]
    assert "limit" in line and "--max-bytes" in line


# --- model selection and failures ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["score", "--text", SALES_TEXT], ["words"], ["info"]])
def test_missing_model_is_one_sentence(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "nope.joblib"
    result = run([*command, "--model", str(missing)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: No model at {missing}; run `make train` or pass --model PATH.\n"


def test_missing_model_for_evaluate(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"text": SALES_TEXT, "label": "sales"}, ensure_ascii=False) + "\n", encoding="utf-8")
    result = run(["evaluate", str(gold), "--model", str(tmp_path / "nope.joblib")])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: No model at ")


@pytest.mark.slow
def test_damaged_model_is_one_sentence(tiny_model: Path, tmp_path: Path) -> None:
    from conftest import copy_model

    model = copy_model(tiny_model, tmp_path)
    linear = model.with_suffix(".linear.json")
    linear.write_bytes(linear.read_bytes() + b" ")
    result = run(["score", "--text", SALES_TEXT, "--model", str(model)])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"Error: Model file {linear} does not match the SHA-256")


@pytest.mark.slow
def test_orient_model_environment_variable_is_honoured(tiny_model: Path) -> None:
    tiny = pipeline.load(tiny_model)
    text = "月底冲刺销量，开展市场调研。"
    result = run(["score", "--text", text, "--format", "jsonl"], env={"ORIENT_MODEL": str(tiny_model)})
    assert result.exit_code == 0, result.stderr
    assert jsonl(result.stdout) == [library_record(tiny, "text", text)]
    info = run(["info", "--format", "json"], env={"ORIENT_MODEL": str(tiny_model)})
    assert json.loads(info.stdout)["files"]["joblib"]["name"] == "tiny.joblib"
    missing = run(["score", "--text", text], env={"ORIENT_MODEL": "/no/such/model.joblib"})
    assert missing.exit_code == 1
    assert "No model at /no/such/model.joblib" in missing.stderr


@pytest.mark.slow
def test_model_option_beats_the_environment(tiny_model: Path, shipped: Any) -> None:
    result = run(["score", "--text", MARKETING_TEXT, "--model", str(shipped.path)], env={"ORIENT_MODEL": str(tiny_model)})
    assert result.exit_code == 0
    assert jsonl(result.stdout) == [library_record(shipped, "text", MARKETING_TEXT)]


# --- words, info, version, help ---------------------------------------------------------------------------------------


def test_words_as_json(shipped: Any) -> None:
    result = run(["words", "--limit", "7", "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert set(data) == {"sales", "marketing"}
    assert 0 < len(data["sales"]) <= 7 and 0 < len(data["marketing"]) <= 7
    assert all(w["weight"] < 0 for w in data["sales"])
    assert all(w["weight"] > 0 for w in data["marketing"])
    strongest = shipped.strongest_terms(7)
    assert [w["term"] for w in data["sales"]] == [t for t, _ in strongest["sales"]]
    assert [w["term"] for w in data["marketing"]] == [t for t, _ in strongest["marketing"]]
    assert "\\u" not in result.stdout


def test_words_as_table(shipped: Any) -> None:
    result = run(["words", "--limit", "5"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "sales" in lines[0] and "marketing" in lines[0]
    body = "\n".join(lines[1:])
    strongest = shipped.strongest_terms(5)
    assert strongest["sales"] and strongest["marketing"]
    for term, weight in strongest["sales"] + strongest["marketing"]:
        assert f"{term} {weight:+.2f}" in body
    assert len(lines) == 1 + max(len(strongest["sales"]), len(strongest["marketing"]))


def test_words_limit_is_checked() -> None:
    result = run(["words", "--limit", "0"])
    assert result.exit_code == 2
    assert "--limit" in result.stderr


def test_info_as_json_is_the_metadata(shipped: Any) -> None:
    result = run(["info", "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == read_json(shipped.path.with_suffix(".json"))


def test_info_as_text(shipped: Any) -> None:
    result = run(["info"])
    assert result.exit_code == 0
    meta = shipped.metadata
    assert f"model: {shipped.path}" in result.stdout
    assert f"corpus sha256: {meta['corpus']['sha256']}" in result.stdout
    assert f"scikit-learn {meta['versions']['scikit-learn']}" in result.stdout
    assert f"macro-F1 {meta['cv']['macro_f1']:.3f}" in result.stdout


def test_version() -> None:
    result = run(["--version"])
    assert result.exit_code == 0
    assert "orient" in result.stdout and pipeline.__version__ in result.stdout


def _commands() -> list[list[str]]:
    return [[], *([name] for name in sorted(main.commands))]


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c) or "orient")
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    result = run([*command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.stdout
    short = run([*command, "-h"])
    assert short.stdout == result.stdout


def test_the_commands_are_the_documented_set() -> None:
    assert set(main.commands) >= {"score", "train", "evaluate", "words", "corpus", "info"}
    for name, command in main.commands.items():
        assert command.help and command.help.strip(), name


def test_unknown_command_is_a_usage_error() -> None:
    result = run(["scores"])
    assert result.exit_code == 2
    assert "No such command 'scores'" in result.stderr


@pytest.mark.slow
def test_no_input_on_a_terminal_is_a_usage_error() -> None:
    master, slave = os.openpty()
    try:
        out = subprocess.run(
            [sys.executable, "-m", "pipeline", "score"], stdin=slave, capture_output=True, text=True, timeout=120, cwd=ROOT
        )
    finally:
        os.close(master)
        os.close(slave)
    assert out.returncode == 2
    assert out.stdout == ""
    assert "Nothing to score" in out.stderr
    assert "orient score examples/" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.slow
def test_python_dash_m_runs_the_cli(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pipeline", "score", "--text", MARKETING_TEXT, "--format", "jsonl"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    (record,) = jsonl(out.stdout)
    assert record["label"] == "marketing"


# --- evaluate ----------------------------------------------------------------------------------------------------------


@pytest.fixture()
def gold_file(tmp_path: Path) -> Path:
    path = tmp_path / "gold.jsonl"
    rows = [
        {"id": "g1", "text": SALES_TEXT, "label": "sales"},
        {"id": "g2", "text": MARKETING_TEXT, "label": "marketing"},
        {"id": "g3", "text": (EXAMPLES / "sales_posting.txt").read_text(encoding="utf-8"), "label": "sales"},
        {"id": "g4", "text": (EXAMPLES / "marketing_plan.txt").read_text(encoding="utf-8"), "label": "marketing"},
        {"id": "g5", "text": NO_SIGNAL_TEXT, "label": "sales"},
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _set_figures(result: Result, path: Path) -> dict[str, Any]:
    """The figures `evaluate --format json` reports for one labelled file."""
    return json.loads(result.stdout)["sets"][str(path)]


def test_evaluate_file_as_json(gold_file: Path, shipped: Any) -> None:
    result = run(["evaluate", str(gold_file), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    figures = _set_figures(result, gold_file)
    rows = jsonl(gold_file.read_text(encoding="utf-8"))
    # Figures take the side of the threshold, verdict or not; abstaining is counted apart.
    predicted = [shipped.score(r["text"]).side for r in rows]
    correct = sum(p == r["label"] for p, r in zip(predicted, rows, strict=True))
    assert (figures["n"], figures["counted"]) == (len(rows), len(rows))  # no confidence field: every document counts
    o = figures["orientation"]
    assert o["accuracy"] == pytest.approx(correct / len(rows), abs=1e-4)
    assert o["per_class"]["sales"]["support"] == 3
    assert o["per_class"]["marketing"]["support"] == 2
    assert sum(sum(row.values()) for row in o["confusion"].values()) == len(rows)
    assert 0.0 <= o["brier"] <= 1.0
    insufficient = sum(shipped.score(r["text"]).verdict == INSUFFICIENT for r in rows)
    assert o["insufficient_signal"] == pytest.approx(insufficient / len(rows), abs=1e-4)
    assert sum(r["n"] for r in o["reliability"]) == len(rows)
    wrong = {r["id"] for p, r in zip(predicted, rows, strict=True) if p != r["label"]}
    assert {e["id"] for e in figures["worst_errors"]} == wrong


def test_evaluate_file_as_text(gold_file: Path) -> None:
    result = run(["evaluate", str(gold_file)])
    assert result.exit_code == 0
    assert result.stdout.startswith(f"{gold_file}: 5 documents, 5 counted")
    assert "orientation macro-F1" in result.stdout and "confusion" in result.stdout
    assert "insufficient signal on sales/marketing documents" in result.stdout


def test_evaluate_reports_bad_records_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text(
        as_jsonl({"text": SALES_TEXT, "label": "sales"}, "{broken", {"text": MARKETING_TEXT, "label": "maybe"}), encoding="utf-8"
    )
    result = run(["evaluate", str(path), "--format", "json"])
    assert result.exit_code == 1
    assert _set_figures(result, path)["n"] == 1
    lines = stderr_lines(result)
    assert f"orient: {path}:2 line 2 is not valid JSON; skipped." in lines
    (label_line,) = [line for line in lines if "line 3" in line]
    assert label_line == (
        f"orient: {path}:3 line 3 has label 'maybe' in field 'label', expected one of: sales, marketing, mixed, neutral; skipped."
    )


def test_evaluate_with_no_usable_records(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text("{broken\n", encoding="utf-8")
    result = run(["evaluate", str(path)])
    assert result.exit_code == 1
    assert f"{path} has no usable labelled records." in result.stderr


def test_evaluate_csv_without_text_column_names_the_file_once(tmp_path: Path) -> None:
    path = tmp_path / "gold.csv"
    path.write_text("body,label\n销售,sales\n", encoding="utf-8")
    result = run(["evaluate", str(path)])
    assert result.exit_code == 1
    (line,) = [x for x in stderr_lines(result) if "has no column" in x]
    assert line == f"orient: {path} has no column 'text' (columns: body, label); skipped."


def test_evaluate_csv_file(tmp_path: Path, shipped: Any) -> None:
    path = tmp_path / "gold.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "label"])
        w.writerow(["a", SALES_TEXT, "sales"])
        w.writerow(["b", MARKETING_TEXT, "marketing"])
    result = run(["evaluate", str(path), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    figures = _set_figures(result, path)
    assert figures["n"] == 2
    expected = sum(shipped.score(t).side == g for t, g in ((SALES_TEXT, "sales"), (MARKETING_TEXT, "marketing"))) / 2
    assert figures["orientation"]["accuracy"] == pytest.approx(expected)


def test_evaluate_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run(["evaluate", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


# --- train, evaluate on the corpus, corpus ---------------------------------------------------------------------------


def _guard_checkout(mp: pytest.MonkeyPatch, module: Any) -> None:
    """Make `module`'s atomic_write refuse any path inside the checkout, so a test can never overwrite committed files."""
    real = module.atomic_write

    def guarded(path: Path, data: bytes) -> None:
        assert not Path(path).resolve().is_relative_to(ROOT), f"test tried to write {path} inside the checkout"
        real(path, data)

    mp.setattr(module, "atomic_write", guarded)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def cli_training(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Result, Path, dict[str, str]]]:
    """`orient train --model TMP` on the committed corpus with a one-setting grid; the committed model is untouched."""
    committed = {p.name: _sha(p) for p in sorted((ROOT / "models").iterdir()) if p.is_file()}
    model = tmp_path_factory.mktemp("cli-train") / "cli.joblib"
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("ORIENT_MODEL", raising=False)
        _guard_checkout(mp, pipeline.training.export)
        mp.setattr(pipeline.training.train, "GRID", ONE_SETTING_GRID)
        # The articles alone (no documents file) keep this quick; the tiny-corpus tests cover the rest.
        mp.setattr(config, "DOCUMENTS_FILE", model.parent / "no-documents.jsonl", raising=False)
        result = run(["train", "--model", str(model)])
    yield result, model, committed


@pytest.mark.slow
def test_train_writes_the_model_it_is_told_to(cli_training: tuple[Result, Path, dict[str, str]]) -> None:
    result, model, committed = cli_training
    assert result.exit_code == 0, result.stderr
    for p in (model, model.with_suffix(".json"), model.with_suffix(".linear.json")):
        assert p.is_file()
    assert {p.name: _sha(p) for p in sorted((ROOT / "models").iterdir()) if p.is_file()} == committed
    meta = read_json(model.with_suffix(".json"))
    assert meta["corpus"]["sha256"] == _sha(config.PASSAGES_FILE)
    # Every sales and marketing passage of the corpus is learned from (the documents file is hidden here).
    counts = Counter(json.loads(line)["label"] for line in config.PASSAGES_FILE.read_text(encoding="utf-8").splitlines())
    assert meta["label_counts"] == {"marketing": counts["marketing"], "sales": counts["sales"]}
    assert [s["file"] for s in meta["sources"]] == ["corpus/passages.jsonl"]
    assert (
        f"marketing {meta['label_counts']['marketing']}, sales {meta['label_counts']['sales']}" in result.stdout.splitlines()[0]
    )
    assert f"accuracy {meta['cv']['accuracy']:.3f}  macro-F1 {meta['cv']['macro_f1']:.3f}" in result.stdout


@pytest.mark.slow
def test_a_model_trained_by_the_cli_scores(cli_training: tuple[Result, Path, dict[str, str]]) -> None:
    _, model, _ = cli_training
    result = run(["score", "--text", SALES_TEXT, "--text", MARKETING_TEXT, "--model", str(model), "--format", "jsonl"])
    assert result.exit_code == 0, result.stderr
    # Which side of the threshold each text falls on (trained on the essays alone, its gate may abstain on a posting).
    assert [r["marketing_probability"] >= 0.5 for r in jsonl(result.stdout)] == [False, True]


@pytest.mark.slow
def test_evaluate_without_files_uses_the_evaluation_sets(cli_training: tuple[Result, Path, dict[str, str]]) -> None:
    _, model, _ = cli_training
    result = run(["evaluate", "--format", "json", "--model", str(model)])
    assert result.exit_code == 0, result.stderr
    # Without ../shared/realdev/ (the tests hide it), it says so and evaluates the written sets alone.
    assert f"orient: no real postings at {config.realdev_file()}; only the written sets are evaluated." in stderr_lines(result)
    data = json.loads(result.stdout)
    # The grouped CV reported is the one recorded at training.
    assert data["article_cv"] == read_json(model.with_suffix(".json"))["cv"]
    eval_files = sorted(p for p in config.EVAL_DIR.glob("*.jsonl"))
    assert eval_files
    assert set(data["sets"]) == {p.stem for p in eval_files}
    for p in eval_files:
        assert data["sets"][p.stem]["n"] == len(jsonl(p.read_text(encoding="utf-8")))


def test_corpus_command_rebuilds_the_committed_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "passages.jsonl"
    _guard_checkout(monkeypatch, pipeline.training.corpus)
    monkeypatch.setattr(pipeline.training.corpus.write_passages, "__defaults__", (target,))
    monkeypatch.setattr(config, "PASSAGES_FILE", target)
    committed = (ROOT / "corpus" / "passages.jsonl").read_bytes()
    result = run(["corpus"])
    assert result.exit_code == 0, result.stderr
    assert target.read_bytes() == committed
    assert (ROOT / "corpus" / "passages.jsonl").read_bytes() == committed
    labels = Counter(json.loads(line)["label"] for line in committed.decode("utf-8").splitlines())
    n = sum(labels.values())
    assert result.stdout.strip() == (
        f"{n} passages written to {target}: sales {labels['sales']}, marketing {labels['marketing']}, neutral {labels['neutral']}"
    )


@pytest.mark.slow
def test_corpus_rebuild_from_a_copied_checkout(tmp_path: Path) -> None:
    """`python -m pipeline corpus` in a copy of the checkout rebuilds passages.jsonl byte for byte."""
    import shutil

    shutil.copytree(ROOT / "pipeline", tmp_path / "pipeline", ignore=shutil.ignore_patterns("__pycache__", "models"))
    (tmp_path / "corpus" / "raw").mkdir(parents=True)
    shutil.copy(config.RAW_FILE, tmp_path / "corpus" / "raw" / config.RAW_FILE.name)
    shutil.copy(config.DECISIONS_FILE, tmp_path / "corpus" / "decisions.tsv")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "pipeline", "corpus"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert str(tmp_path / "corpus" / "passages.jsonl") in out.stdout
    assert (tmp_path / "corpus" / "passages.jsonl").read_bytes() == config.PASSAGES_FILE.read_bytes()


@pytest.mark.parametrize(("given", "seen"), [(None, "1"), ("4", "4")])
def test_the_command_runs_numpys_blas_on_one_thread_unless_told_otherwise(
    given: str | None, seen: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline import cli

    if given is None:
        monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OPENBLAS_NUM_THREADS", given)
    found: list[str | None] = []
    monkeypatch.setattr(cli, "main", lambda: found.append(os.environ.get("OPENBLAS_NUM_THREADS")))
    cli.run()
    assert found == [seen]


def test_explain_shows_a_text_with_a_lone_surrogate_with_it_escaped(tmp_path: Path) -> None:
    src = tmp_path / "s.jsonl"
    src.write_text('{"id": "x", "text": "负责市场调研\\ud800洞察客户需求，制定品牌定位"}\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["explain", str(src)])
    assert result.exit_code == 0, result.output
    assert "[+市场调研]\\ud800[+洞察]" in result.stdout


@pytest.mark.slow
def test_train_never_replaces_a_model_unasked(cli_training: tuple[Result, Path, dict[str, str]]) -> None:
    _, model, _ = cli_training
    before = {p.name: _sha(p) for p in model.parent.iterdir()}
    result = run(["train", "--model", str(model)])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {model} already exists; pass --force to replace it, or --model another path."
    assert {p.name: _sha(p) for p in model.parent.iterdir()} == before


@pytest.mark.slow
def test_train_on_a_sheet_with_its_own_columns_and_chinese_labels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sheet = tmp_path / "jobs.csv"
    rows = [("负责区域客户开发，完成月度销售任务。", "销售"), ("开展用户访谈，洞察目标人群需求。", "营销")]
    rows.append(("五险一金，双休。", "中性"))
    sheet.write_text("职位描述,类别\n" + "".join(f"{t},{label}\n" for t, label in rows * 3), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    _guard_checkout(monkeypatch, pipeline.training.export)
    monkeypatch.setattr(pipeline.training.train, "GRID", ONE_SETTING_GRID)
    monkeypatch.setattr(config, "DOCUMENTS_FILE", tmp_path / "no-documents.jsonl")
    result = run(["train", "--data", str(sheet), "--text-field", "职位描述", "--label-field", "类别"])
    assert result.exit_code == 0, result.stderr
    # Without --model it writes here, under a name it prints, and says how to use it.
    model = Path("orient-model.joblib")
    assert (tmp_path / model).is_file()
    said = f"wrote {model}; score with it: orient score --model {model} … (or ORIENT_MODEL={model})"
    assert result.stdout.splitlines()[-1] == said
    meta = read_json(tmp_path / "orient-model.json")
    (source,) = [s for s in meta["sources"] if s["file"] == str(sheet)]
    assert (source["count"], source["labels"]) == (6, {"marketing": 3, "sales": 3})
    assert meta["gate"]["neutral_documents"] == 3 + sum(1 for line in config.PASSAGES_FILE.open() if '"label": "neutral"' in line)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_count_total_and_rate_but_never_over_records_on_the_same_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipeline.cli import _Progress

    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    progress = _Progress(records_to_terminal=False, total=3)
    progress.last = float("-inf")  # draw at the first tick
    progress.tick(2)
    progress.done()
    lines = err.getvalue().split("\r")[1:]
    assert [line.split(" (")[0] for line in lines] == ["scored 2 of 3 documents"] * 2
    assert all(line.rstrip("\n").endswith("/s)") for line in lines) and err.getvalue().endswith("\n")
    quiet = _Progress(records_to_terminal=True)
    quiet.tick()
    quiet.done()
    assert not quiet.enabled and err.getvalue().count("\r") == 2
