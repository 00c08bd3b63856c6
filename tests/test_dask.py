"""Scoring on Dask: a LocalCluster with two worker processes gives exactly the records of local scoring."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("distributed", reason="the dask extra is not installed (pip install '.[dask]')")

from click.testing import CliRunner
from conftest import eval_documents, outcomes

import pipeline
from pipeline import distributed, parallel
from pipeline.cli import main
from pipeline.errors import OrientError
from pipeline.readers import Document, Failure

pytestmark = pytest.mark.dask

ROOT = Path(__file__).resolve().parent.parent


DOCS = eval_documents()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A local Dask cluster of two worker processes, one thread each, started and stopped by this module."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as lc, Client(lc) as client:
        yield client


@pytest.fixture(scope="module")
def clf() -> Any:
    """The shipped model."""
    return pipeline.load()


@pytest.fixture(scope="module")
def local_records(clf: Any) -> list[Any]:
    """What scoring in this process gives: the reference for every Dask path."""
    return outcomes(parallel.score_stream(DOCS, clf, jobs=1))


def test_the_cluster_has_two_worker_processes(cluster: Any) -> None:
    assert len(cluster.scheduler_info()["workers"]) == 2


def test_a_stream_scored_on_the_cluster_equals_local_scoring(cluster: Any, clf: Any, local_records: list[Any]) -> None:
    items: list[Document | Failure] = [*DOCS[:3], Failure("bad.txt", "is not text"), *DOCS[3:]]
    out = outcomes(distributed.score_stream_on(cluster.scheduler.address, items, clf, chunk_size=9))
    assert out[3] == Failure("bad.txt", "is not text")
    assert out[:3] + out[4:] == local_records


def test_each_worker_loaded_the_model_once_after_checking_its_hash(cluster: Any, clf: Any) -> None:
    outcomes(distributed.score_stream_on(cluster, DOCS, clf, chunk_size=5))
    loaded = cluster.run(lambda: list(distributed._loaded))
    assert len(loaded) == 2
    assert all(v == [clf.metadata["files"]["linear"]["sha256"]] for v in loaded.values())


def test_a_dataframe_column_scored_on_the_cluster_equals_local_scoring(cluster: Any, local_records: list[Any]) -> None:
    import dask.dataframe as dd
    import pandas as pd

    frame = pd.DataFrame({"id": [d.id for d in DOCS], "text": [d.text for d in DOCS]})
    scored = distributed.score_dataframe(dd.from_pandas(frame, npartitions=5), "text").compute()
    assert list(scored["id"]) == [d.id for d in DOCS]
    for col in ("label", "marketing_probability", "verdict", "signal_terms"):
        assert list(scored[col]) == [r[col] for r in local_records], col
    assert [json.loads(e) for e in scored["evidence"]] == [r["evidence"] for r in local_records]


def test_a_bag_of_records_scored_on_the_cluster_equals_local_scoring(cluster: Any, local_records: list[Any]) -> None:
    import dask.bag as db

    bag = db.from_sequence([{"id": d.id, "text": d.text} for d in DOCS] + [{"id": "empty", "text": ""}], npartitions=4)
    out = distributed.score_bag(bag).compute()
    assert out[:-1] == local_records
    assert out[-1] == {"id": "empty", "error": "is empty or not text"}


def test_a_model_whose_bytes_do_not_match_its_hash_is_refused_on_the_worker(cluster: Any, clf: Any) -> None:
    payload = distributed.ModelPayload.from_classifier(clf)
    forged = dataclasses.replace(payload, linear=payload.linear.replace(b'"weights"', b'"weights" '), sha256="0" * 64)
    future = cluster.submit(distributed.score_chunk_remote, forged, DOCS[:2], pure=False)
    with pytest.raises(OrientError, match="does not match its metadata; refusing to score with it"):
        future.result()


def test_the_command_line_sends_a_batch_to_a_scheduler(cluster: Any, tmp_path: Path) -> None:
    src = tmp_path / "batch.jsonl"
    src.write_text("".join(json.dumps({"id": d.id, "text": d.text}, ensure_ascii=False) + "\n" for d in DOCS), encoding="utf-8")
    local = CliRunner().invoke(main, ["score", str(src), "--format", "jsonl", "--jobs", "1"])
    remote = CliRunner().invoke(main, ["score", str(src), "--format", "jsonl", "--scheduler", cluster.scheduler.address])
    assert remote.exit_code == 0, remote.output
    assert remote.stdout == local.stdout


def test_an_unreachable_scheduler_is_one_sentence(clf: Any) -> None:
    with pytest.raises(OrientError, match=r"^Cannot reach the Dask scheduler at tcp://127.0.0.1:9 \(\w+\)\.$"):
        list(distributed.score_stream_on("tcp://127.0.0.1:9", DOCS[:1], clf, timeout="1s"))
