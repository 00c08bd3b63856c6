"""What the shipped model says of examples/ and the evaluation sets stays what tests/golden/ holds, on every path.

tests/golden/ is written by `make golden` from the shipped model; a change to the code that scores must leave
these outputs as they are (the single-text library path, the batch path on one process and on two, explain,
CSV), and a change meant to alter them rewrites the files with `make golden`, so that the diff shows it.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT

import pipeline

GOLDEN = ROOT / "tests" / "golden"
EVAL_SETS = sorted((ROOT / "corpus" / "eval").glob("*.jsonl"))
SCORE_INPUTS = ["examples/", *(str(p.relative_to(ROOT)) for p in EVAL_SETS)]
EXPLAIN_INPUTS = ["examples/", "corpus/eval/hard.jsonl", "corpus/eval/realistic.jsonl"]

pytestmark = pytest.mark.slow


def _orient(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", *args], cwd=ROOT, capture_output=True, text=True, encoding="utf-8", check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _texts() -> dict[str, str]:
    """Every golden input's text by the id orient gives it."""
    texts = {f"examples/{p.name}": p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples").glob("*.txt"))}
    for path in EVAL_SETS:
        with path.open(encoding="utf-8") as fh:
            texts.update((r["id"], r["text"]) for r in map(json.loads, fh))
    return texts


def _golden(name: str) -> str:
    return (GOLDEN / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_batch_scoring_gives_the_golden_records(jobs: str) -> None:
    assert _orient("score", *SCORE_INPUTS, "--jobs", jobs, "--format", "jsonl") == _golden("score.jsonl")


def test_explained_batch_gives_the_golden_records() -> None:
    assert _orient("score", *EXPLAIN_INPUTS, "--jobs", "1", "--explain", "--format", "jsonl") == _golden("explain.jsonl")


def test_csv_of_the_examples_is_the_golden_table() -> None:
    assert _orient("score", "examples/", "--jobs", "1", "--format", "csv", "--no-bom") == _golden("examples.csv")


def test_the_library_gives_the_golden_records_text_by_text_and_as_a_stream() -> None:
    clf = pipeline.load()
    texts = _texts()
    golden = [json.loads(line) for line in _golden("score.jsonl").splitlines()]
    assert len(golden) == len(texts) == 342
    for record in golden:
        assert {"id": record["id"], **clf.score(texts[record["id"]]).to_dict()} == record
    ids = [r["id"] for r in golden]
    streamed = [r.to_dict() for r in clf.score_many([texts[i] for i in ids])]
    assert [{"id": i, **r} for i, r in zip(ids, streamed, strict=True)] == golden


def test_the_library_explains_as_the_golden_records() -> None:
    clf = pipeline.load()
    texts = _texts()
    for line in _golden("explain.jsonl").splitlines():
        record = json.loads(line)
        assert {"id": record["id"], **clf.explain(texts[record["id"]]).to_dict()} == record
