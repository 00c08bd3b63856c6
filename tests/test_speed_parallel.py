"""Scoring on worker processes: the same records in the same order as one process, a bad document reported, memory flat."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import eval_documents, outcomes

import pipeline
from pipeline import parallel
from pipeline.cli import main
from pipeline.readers import Document, Failure, Lines

ROOT = Path(__file__).resolve().parent.parent


DOCS = eval_documents()


@pytest.fixture(scope="module")
def clf() -> Any:
    """The shipped model."""
    return pipeline.load()


def _mixed() -> list[Document | Failure]:
    items: list[Document | Failure] = list(DOCS)
    items.insert(5, Failure("unreadable.txt", "is not text"))
    items.insert(40, Document("not-a-string", None))  # type: ignore[arg-type]  # scoring it raises inside the worker
    return items


def _comparable(o: Any) -> Any:
    # How Python words the TypeError for a text that is not a string depends on which check meets it first.
    return (o.id, o.message.split(":")[0]) if isinstance(o, Failure) else o


@pytest.mark.slow
def test_jobs_two_gives_the_records_of_jobs_one_in_input_order(clf: Any) -> None:
    items = _mixed()
    one = outcomes(parallel.score_stream(items, clf, jobs=1, chunk_size=7))
    two = outcomes(parallel.score_stream(items, clf, jobs=2, chunk_size=7))

    assert [_comparable(o) for o in two] == [_comparable(o) for o in one]
    assert [o.id if isinstance(o, Failure) else o["id"] for o in two] == [i.id for i in items]
    expected = [{"id": i.id, **clf.score(i.text).to_dict()} for i in items if isinstance(i, Document) and i.text is not None]
    assert [o for o in one if not isinstance(o, Failure)] == expected


def test_a_document_that_fails_to_score_is_reported_in_its_place(clf: Any) -> None:
    out = outcomes(parallel.score_stream(_mixed(), clf, jobs=2, chunk_size=7))
    assert out[5] == Failure("unreadable.txt", "is not text")
    assert isinstance(out[40], Failure) and out[40].id == "not-a-string"
    assert out[40].message.startswith("could not be scored (TypeError")
    assert sum(isinstance(o, Failure) for o in out) == 2


@pytest.mark.parametrize("jobs", [1, 2])
def test_runs_carry_the_clean_documents_records_and_every_other_document_comes_alone(clf: Any, jobs: int) -> None:
    from pipeline.writers import jsonl_encoded

    items = _mixed()
    items.insert(20, Document("noted", DOCS[0].text, note="had 2 damaged bytes"))
    expected = list(parallel.score_stream(items, clf, jobs=1, encode=jsonl_encoded))
    pieces = list(parallel.score_runs(items, clf, jobs=jobs, encode=jsonl_encoded))

    # What a writer writes from the pieces, in order, is every record score_stream encodes.
    def written(piece: Any) -> bytes:
        if isinstance(piece, parallel.Run):
            return b"".join(piece.records)
        return piece[1] if isinstance(piece[1], bytes) else b""

    assert b"".join(map(written, pieces)) == b"".join(out for _, out in expected if isinstance(out, bytes))
    alone = [p for p in pieces if not isinstance(p, parallel.Run)]
    assert [(item.id, type(out).__name__) for item, out in alone] == [
        ("unreadable.txt", "Failure"),
        ("noted", "bytes"),
        ("not-a-string", "Failure"),
    ]
    assert alone[1][0] == Document("noted", "", "had 2 damaged bytes")  # reported with its note, without its text
    assert sum(len(p.records) for p in pieces if isinstance(p, parallel.Run)) == len(items) - 3
    if jobs == 1:  # one chunk: a run between each two documents that come alone
        assert [type(p).__name__ for p in pieces] == ["Run", "tuple", "Run", "tuple", "Run", "tuple", "Run"]
        clean = list(parallel.score_runs(DOCS, clf, jobs=1, encode=jsonl_encoded))
        assert clean == [parallel.Run([out for _, out in parallel.score_stream(DOCS, clf, encode=jsonl_encoded)])]
    # Records left as dicts (the table, CSV and JSON writers') come one by one, each with its document.
    records = list(parallel.score_runs(items, clf, jobs=jobs))
    assert not any(isinstance(p, parallel.Run) for p in records)
    assert [out for _, out in records] == [out for _, out in parallel.score_stream(items, clf, jobs=1)]


def test_a_small_batch_is_scored_here_without_starting_workers(clf: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any) -> Iterator[Any]:
        raise AssertionError("a pool was started for one chunk")

    monkeypatch.setattr(parallel, "_pooled", refuse)
    assert len(outcomes(parallel.score_stream(DOCS[:10], clf, jobs=2, chunk_size=64))) == 10
    assert outcomes(parallel.score_stream([], clf, jobs=2)) == []


def test_the_input_is_read_only_a_few_chunks_ahead(clf: Any) -> None:
    consumed = 0

    def endless() -> Iterator[Document]:
        nonlocal consumed
        while True:
            consumed += 1
            yield DOCS[consumed % len(DOCS)]

    stream = parallel.score_stream(endless(), clf, jobs=2, chunk_size=5)
    first = [next(stream) for _ in range(60)]
    stream.close()
    assert len(first) == 60
    assert consumed <= (2 * parallel.IN_FLIGHT_PER_JOB + 2) * 5 + 60 + 1


def test_chunks_end_at_their_size_or_once_their_texts_reach_the_character_bound() -> None:
    items: list[Document | Failure] = [Document(f"d{i}", "字" * 10) for i in range(7)]
    items.insert(2, Failure("bad", "is empty"))
    sizes = [[i.id for i in chunk] for chunk in parallel.chunked(items, size=3, chars=1000)]
    assert sizes == [["d0", "d1", "bad"], ["d2", "d3", "d4"], ["d5", "d6"]]
    # 25 characters end a chunk: the third document of ten reaches them; a failure carries no text
    by_chars = [[i.id for i in chunk] for chunk in parallel.chunked(items, size=100, chars=25)]
    assert by_chars == [["d0", "d1", "bad", "d2"], ["d3", "d4", "d5"], ["d6"]]
    huge = [Document("long", "字" * 100), Document("short", "字")]
    assert [[i.id for i in chunk] for chunk in parallel.chunked(huge, size=100, chars=25)] == [["long"], ["short"]]
    assert list(parallel.chunked([], size=3)) == []
    # Blocks of lines count their lines: one that would take a chunk past its size starts the next chunk.
    blocks = [Lines("f", 1 + 10 * i, b"{}\n" * n, n, 100, "text", "id") for i, n in enumerate([2, 2, 5, 1, 9, 1])]
    by_lines = [[b.n_lines for b in chunk] for chunk in parallel.chunked(blocks, size=4, chars=1000)]
    assert by_lines == [[2, 2], [5], [1], [9], [1]]


def test_default_jobs_is_the_available_cores() -> None:
    import os

    assert parallel.default_jobs() == len(os.sched_getaffinity(0))


@pytest.mark.slow
def test_the_command_line_gives_identical_output_with_any_number_of_jobs(tmp_path: Path) -> None:
    src = tmp_path / "batch.jsonl"
    src.write_text(
        "".join(json.dumps({"id": d.id, "text": d.text}, ensure_ascii=False) + "\n" for d in DOCS * 3), encoding="utf-8"
    )
    outputs = {}
    for jobs in ("1", "2", "3"):
        result = CliRunner().invoke(main, ["score", str(src), "--format", "jsonl", "--jobs", jobs])
        assert result.exit_code == 0, result.output
        outputs[jobs] = result.stdout
    assert outputs["2"] == outputs["1"] == outputs["3"]
    assert [json.loads(x)["id"] for x in outputs["2"].splitlines()] == [d.id for d in DOCS * 3]


@pytest.mark.slow
def test_workers_parse_jsonl_lines_as_one_process_does_bad_lines_included(tmp_path: Path) -> None:
    # With --jobs, worker processes parse the JSONL lines; every failure must read as with --jobs 1, in its place.
    import codecs

    good = [json.dumps({"id": f"d{i}", "text": d.text}, ensure_ascii=False).encode() for i, d in enumerate(DOCS * 3)]
    bad = [
        b"not json",
        b"[1, 2]",
        b'{"id": "no-text"}',
        b'{"id": "number", "text": 7}',
        b'{"id": "blank", "text": "  "}',
        json.dumps({"id": "binary", "text": "\x01\x02" * 20}).encode(),
        json.dumps({"id": "gbk", "text": "市场调研"}, ensure_ascii=False).encode("gbk"),
        b'{"id": "long", "text": "' + "长".encode() * 20_000 + b'"}',
        b"",
    ]
    lines = [codecs.BOM_UTF8 + good[0]]
    for i, line in enumerate(good[1:]):
        lines += [line] + ([bad[i // 50]] if i % 50 == 49 and i // 50 < len(bad) else [])
    src = tmp_path / "mixed.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    assert len(lines) > 500 and all(b in lines for b in bad)
    runs = {j: CliRunner().invoke(main, ["score", str(src), "--jobs", j, "--max-bytes", "50000"]) for j in ("1", "2")}
    assert runs["2"].exit_code == runs["1"].exit_code == 1
    assert runs["2"].stdout == runs["1"].stdout
    assert runs["2"].stderr == runs["1"].stderr
    assert "line 2 is not valid JSON" not in runs["2"].stderr  # the BOM line was read as a record
    assert runs["2"].stderr.count("; skipped.") == 8
    assert len(runs["2"].stdout.splitlines()) == len(good)


@pytest.mark.slow
def test_explained_records_are_identical_with_any_number_of_jobs(tmp_path: Path) -> None:
    src = tmp_path / "batch.jsonl"
    src.write_text("".join(json.dumps({"id": d.id, "text": d.text}, ensure_ascii=False) + "\n" for d in DOCS), encoding="utf-8")
    runs = [CliRunner().invoke(main, ["score", str(src), "--explain", "--format", "jsonl", "--jobs", j]) for j in ("1", "2")]
    assert all(r.exit_code == 0 for r in runs), runs[0].output
    assert runs[1].stdout == runs[0].stdout
    assert all("sentences" in json.loads(line) for line in runs[1].stdout.splitlines())


@pytest.mark.slow
def test_a_worker_that_dies_ends_the_batch_with_one_sentence_naming_its_chunk(clf: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from pipeline.errors import OrientError

    here, real = os.getpid(), parallel.score_chunk

    def dies_in_a_worker(clf: Any, items: list[Any], *args: Any) -> Any:
        if os.getpid() != here and any(item.id == DOCS[7].id for item in items):
            os._exit(1)  # as if killed (out of memory, say) while scoring the second chunk, which a worker takes
        return real(clf, items, *args)

    monkeypatch.setattr(parallel, "score_chunk", dies_in_a_worker)  # forked workers inherit the patch
    got: list[Any] = []
    with pytest.raises(OrientError) as failed:
        got.extend(parallel.score_stream(DOCS, clf, jobs=2, chunk_size=7))
    assert str(failed.value) == (
        f"A worker process failed (it could not start, or died) while scoring the chunk that starts at {DOCS[7].id}; "
        "rerun with --jobs 1 to find the document."
    )


def test_jobs_must_be_positive() -> None:
    result = CliRunner().invoke(main, ["score", "--text", "市场调研", "--jobs", "0"])
    assert result.exit_code == 2
    assert "0 is not in the range x>=1" in result.output


@pytest.mark.slow
def test_scoring_imports_nothing_heavy() -> None:
    # The one-sentence path must stay free of scikit-learn, SciPy and NumPy: each costs seconds of start-up.
    code = (
        "import sys\n"
        "from pipeline.cli import main\n"
        "try:\n"
        "    main(['score', '--text', '负责市场调研，洞察目标客户需求。', '--format', 'json'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in ('sklearn', 'scipy', 'numpy', 'pandas', 'joblib', 'dask') if m in sys.modules)\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert "HEAVY []" in done.stderr, done.stderr
    assert json.loads(done.stdout)[0]["label"] == "marketing"


@pytest.mark.slow
def test_workers_end_when_their_parent_is_killed(tmp_path: Path) -> None:
    import os
    import signal

    psutil = pytest.importorskip("psutil")
    src = tmp_path / "batch.jsonl"
    lines = (json.dumps({"id": f"d{i}", "text": d.text}, ensure_ascii=False) + "\n" for i, d in enumerate(DOCS * 40))
    src.write_text("".join(lines), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "score", str(src), "--jobs", "2"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    proc.stdout.readline()  # scoring has started
    workers = psutil.Process(proc.pid).children()
    assert len(workers) == 1  # --jobs 2: one worker process, and this one
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert alive == [], "workers outlived their parent"


@pytest.mark.slow
def test_blocks_of_lines_are_parsed_and_scored_on_two_processes_as_on_one(clf: Any, tmp_path: Path) -> None:
    from pipeline.readers import read_blocks

    good = [json.dumps({"id": f"d{i}", "text": d.text}, ensure_ascii=False).encode() for i, d in enumerate(DOCS)]
    limit = max(map(len, good))  # --max-bytes: every good line fits, the long one does not
    bad = [
        b"not json",
        b'{"id": "no-text"}',
        b'{"id": "blank", "text": "  "}',
        "市场".encode("gbk"),
        b'{"id": "long", "text": "' + b"x" * limit + b'"}',
    ]
    lines = [line for i, g in enumerate(good) for line in ([g, bad[i // 12]] if i % 12 == 11 and i // 12 < len(bad) else [g])]
    src = tmp_path / "mixed.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")

    def read() -> list[Any]:
        return list(read_blocks([str(src)], 4096, max_bytes=limit))

    one = list(parallel.score_stream(read(), clf, jobs=1))
    two = list(parallel.score_stream(read(), clf, jobs=2, chunk_size=9))
    assert [(i.id, getattr(i, "note", None)) for i, _ in two] == [(i.id, getattr(i, "note", None)) for i, _ in one]
    assert [_comparable(o) for _, o in two] == [_comparable(o) for _, o in one]
    assert sum(isinstance(o, Failure) for _, o in two) == len(bad)
