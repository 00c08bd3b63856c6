"""No output lost: a closed pipe ends quietly, Ctrl-C leaves valid partial output, -o is atomic, --resume finishes the job.

These tests start real processes (`python -m pipeline score …`) where a signal or a pipe is the point,
and use CliRunner for the runs they are compared with.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pipeline import config
from pipeline.cli import main
from pipeline.errors import OrientError
from pipeline.readers import Document, Failure
from pipeline.resume import ResumableOutput, completed_records, partial_path, skip_done

N_DOCS = 2500


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JSONL batch of about 1 KB documents, with a duplicated id and one bad line, that takes seconds to score."""
    passages = [json.loads(line)["original"] for line in config.PASSAGES_FILE.read_text(encoding="utf-8").splitlines()]
    path = tmp_path_factory.mktemp("batch") / "big.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(N_DOCS):
            text = "".join(passages[(i * 7 + k) % len(passages)] for k in range(12))
            doc_id = "twin" if i in (3, 1500) else f"doc-{i}"  # the same id twice: each must be scored once
            fh.write(json.dumps({"id": doc_id, "text": text}, ensure_ascii=False) + "\n")
            if i == 10:
                fh.write("{this line is broken\n")
    return path


@pytest.fixture(scope="module")
def reference(batch: Path, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The records of an uninterrupted run, line by line."""
    out = tmp_path_factory.mktemp("ref") / "ref.jsonl"
    result = CliRunner().invoke(main, ["score", str(batch), "-o", str(out)])
    assert result.exit_code == 1  # the broken line
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == N_DOCS
    return lines


def _start(args: list[str], stdout: Any = subprocess.DEVNULL, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    # A shell without job control starts background jobs with SIGINT ignored; restore the default so Python handles it.
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "score", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        cwd=cwd,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for_lines(path: Path, n: int, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= n:
            return
        assert proc.poll() is None, "the batch finished before it could be interrupted"
        time.sleep(0.05)
    raise AssertionError(f"no {n} lines in {path} after {timeout} s")


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.slow
def test_a_closed_pipe_ends_quietly(batch: Path) -> None:
    """`orient score big.jsonl | head -1`: one record, nothing on stderr (not even at Python's exit flush), exit 0."""
    for fmt in ("jsonl", "csv", "table", "json"):
        script = f'"{sys.executable}" -m pipeline score "{batch}" --format {fmt} | head -1; echo "status ${{PIPESTATUS[0]}}" >&2'
        done = subprocess.run(["bash", "-c", script], capture_output=True, timeout=300)
        assert (
            done.stderr.decode() == f"orient: {batch}:12 line 12 is not valid JSON; skipped.\nstatus 0\n"
            or done.stderr.decode() == "status 0\n"
        ), (fmt, done.stderr.decode())
        assert len(done.stdout.splitlines()) == 1, fmt


@pytest.mark.slow
def test_sigint_to_stdout_leaves_complete_records(batch: Path, reference: list[str], tmp_path: Path) -> None:
    out = tmp_path / "stdout.jsonl"
    with out.open("wb") as fh:
        proc = _start([str(batch)], stdout=fh)
        _wait_for_lines(out, 20, proc)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    assert 20 <= len(lines) < N_DOCS
    assert all(line.endswith("\n") for line in lines)  # complete up to the last written record
    assert [line.rstrip("\n") for line in lines] == reference[: len(lines)]
    message = err.decode().strip().splitlines()
    assert message[-1] == f"orient: interrupted after {len(lines)} document(s)."
    assert "Traceback" not in err.decode()


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGINT", "SIGKILL"])
def test_interrupt_then_resume_equals_an_uninterrupted_run(how: str, batch: Path, reference: list[str], tmp_path: Path) -> None:
    out = tmp_path / "scores.jsonl"
    out.write_text("a good file from yesterday\n", encoding="utf-8")
    partial = partial_path(out)
    proc = _start([str(batch), "-o", str(out)])
    _wait_for_lines(partial, 30, proc)
    proc.send_signal(signal.SIGINT if how == "SIGINT" else signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    # The good file that stood at -o is untouched: nothing half-written replaced it.
    assert out.read_text(encoding="utf-8") == "a good file from yesterday\n"
    assert partial.exists()
    written = partial.read_bytes()
    if how == "SIGINT":
        assert proc.returncode == 130
        assert written.endswith(b"\n")
        n = written.count(b"\n")
        assert err.decode().strip().splitlines()[-1] == (
            f"orient: interrupted after {n} document(s); the records so far are in {partial}; "
            "run the same command with --resume to finish."
        )
    else:
        assert proc.returncode == -signal.SIGKILL
        # A kill can cut a line short; simulate the worst case on top of whatever the kill left.
        with partial.open("ab") as fh:
            fh.write(b'{"id": "doc-99999", "label": "sal')
    kept = [line for line in partial.read_text(encoding="utf-8").split("\n") if line.endswith("}")]
    assert kept == reference[: len(kept)]

    result = CliRunner().invoke(main, ["score", str(batch), "-o", str(out), "--resume"])
    assert result.exit_code == 1  # the broken line is reported again, and scored by no run
    assert "Traceback" not in result.stderr
    assert not partial.exists()
    resumed = out.read_text(encoding="utf-8").splitlines()
    assert resumed == reference  # record by record: none twice, none lost, same order
    ids = Counter(json.loads(line)["id"] for line in resumed)
    assert ids["twin"] == 2 and sum(ids.values()) == N_DOCS


@pytest.mark.slow
def test_resume_of_a_finished_output_scores_nothing_again(
    batch: Path, reference: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "done.jsonl"
    out.write_text("\n".join(reference) + "\n", encoding="utf-8")
    import pipeline.predict

    monkeypatch.setattr(pipeline.predict.Classifier, "score_tokens", lambda self, tokens: pytest.fail("scored again"))
    result = CliRunner().invoke(main, ["score", str(batch), "-o", str(out), "--resume"])
    assert result.exit_code == 1
    assert out.read_text(encoding="utf-8").splitlines() == reference


def test_resume_refuses_a_file_it_did_not_write(batch: Path, tmp_path: Path) -> None:
    out = tmp_path / "notes.jsonl"
    out.write_text('{"id": "a"}\nmy shopping list\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["score", str(batch), "-o", str(out), "--resume"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: {out.resolve()} line 2 is not a record written by orient; cannot resume from it."
    )
    assert out.read_text(encoding="utf-8") == '{"id": "a"}\nmy shopping list\n'


def test_two_runs_cannot_write_the_same_output(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    first = ResumableOutput(out)
    try:
        with pytest.raises(OrientError, match="Another orient run is writing"):
            ResumableOutput(out)
        result = CliRunner().invoke(main, ["score", "--text", "营销", "-o", str(out)])
        assert result.exit_code == 2 and "Another orient run is writing" in result.stderr
    finally:
        first.discard()


def test_skip_done_counts_ids() -> None:
    items: list[Document | Failure] = [Document("a", "x"), Document("a", "y"), Failure("a", "is empty"), Document("b", "z")]
    assert list(skip_done(items, Counter({"a": 1}))) == items[1:]


def test_completed_records_drops_only_an_unfinished_last_line(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(b'{"id": "a"}\n{"id": "b"}\n{"id": "c", "lab')
    done, good = completed_records(path)
    assert done == Counter({"a": 1, "b": 1}) and good == len(b'{"id": "a"}\n{"id": "b"}\n')


@pytest.mark.slow
def test_other_formats_are_atomic_on_interrupt(batch: Path, tmp_path: Path) -> None:
    """CSV (not resumable) goes through a temporary file that an interrupted run removes."""
    out = tmp_path / "scores.csv"
    out.write_text("old,good\n", encoding="utf-8")
    proc = _start([str(batch), "-o", str(out), "--format", "csv"])
    deadline = time.monotonic() + 120
    while not any(p.name.endswith(".tmp") and p.stat().st_size > 2000 for p in tmp_path.iterdir()):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert out.read_text(encoding="utf-8") == "old,good\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.csv"]


def test_output_over_an_input_is_refused_in_any_spelling(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("负责市场调研", encoding="utf-8")
    os.symlink(src, tmp_path / "alias.txt")
    for spelled in (str(src), str(tmp_path / "." / "in.txt"), str(tmp_path / "alias.txt")):
        result = CliRunner().invoke(main, ["score", str(src), "-o", spelled, "--format", "csv"])
        assert result.exit_code == 2, spelled
        assert f"Refusing to write the output over the input {src}." in result.stderr
    assert src.read_text(encoding="utf-8") == "负责市场调研"


def test_ctrl_c_while_a_record_is_written_waits_until_it_is_counted() -> None:
    from pipeline.cli import _HeldInterrupts

    held, written = _HeldInterrupts(), []
    with pytest.raises(KeyboardInterrupt), held:
        written.append("line")
        held.handler(signal.SIGINT, None)  # Ctrl-C between writing the line and counting it
        written.append("counted")
    assert written == ["line", "counted"]
    with pytest.raises(KeyboardInterrupt):
        held.handler(signal.SIGINT, None)  # between records: at once
