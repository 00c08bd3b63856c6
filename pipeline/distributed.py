"""Batch scoring on Dask: a dask.dataframe text column or a dask.bag of records, scored partition by partition.

How the model reaches the workers: the client reads the model's linear export (the bytes whose SHA-256 the
metadata records) and sends them with the metadata as one `ModelPayload`, shared by every task
(`client.scatter(..., broadcast=True)` for the command line, one graph node for collections). A worker
verifies the bytes' SHA-256 against that hash and the orient version against its own, builds the
classifier once, and keeps it for every later partition (a per-process cache keyed by the hash). Workers
need orient installed (`pip install 'orient-zh[dask]'`, plus `[fast]` for rjieba), not the model file.
Records are identical to local scoring: the same code runs on the same bytes.

Needs the optional extra: pip install 'orient-zh[dask]'.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import OrientError
from pipeline.predict import Classifier
from pipeline.readers import Document, Failure

CHUNK_SIZE = 256  # documents per task sent from the command line: ~0.1–0.4 s of work, so scheduling costs stay small
IN_FLIGHT_PER_WORKER = 4  # tasks queued per worker: keeps the cluster busy and the client's memory flat
RESULT_COLUMNS = ("label", "marketing_probability", "verdict", "signal_terms", "evidence")


@dataclass(frozen=True)
class ModelPayload:
    """What a worker needs to score: the model's linear export and metadata, as bytes, and their expected hash."""

    name: str
    metadata: bytes
    linear: bytes
    sha256: str  # of `linear`, as recorded in the metadata
    orient_version: str

    @classmethod
    def from_classifier(cls, clf: Classifier) -> ModelPayload:
        """Package a loaded classifier: its export's bytes as recorded in the metadata, else as this process holds it."""
        from pipeline import __version__
        from pipeline.model import paths

        _, linear_path, _ = paths(Path(clf.path))
        recorded = clf.metadata.get("files", {}).get("linear", {}).get("sha256")
        try:
            linear = linear_path.read_bytes()
        except OSError:
            linear = b""
        if recorded is None or hashlib.sha256(linear).hexdigest() != recorded:
            # A model loaded with --trust-model (no matching metadata), or an export replaced on disk since
            # it was loaded: send what this process scores with, under the hash of those bytes.
            linear = clf.linear.to_json().encode("utf-8")
            recorded = hashlib.sha256(linear).hexdigest()
        metadata = json.dumps(clf.metadata, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return cls(Path(clf.path).name, metadata, linear, recorded, __version__)

    @classmethod
    def load(cls, model: str | Path | None = None) -> ModelPayload:
        """Package a model by path (default: the shipped model)."""
        from pipeline.predict import load

        return cls.from_classifier(load(model))


# --- worker side ---------------------------------------------------------------------------------------------
_loaded: dict[str, Classifier] = {}  # per worker process: sha256 -> Classifier, so each worker loads a model once


def worker_classifier(payload: ModelPayload) -> Classifier:
    """Return the payload's classifier, built once per process after its SHA-256 and version check out."""
    clf = _loaded.get(payload.sha256)
    if clf is not None:
        return clf
    from pipeline import __version__
    from pipeline.model import LinearModel

    if payload.orient_version != __version__:
        raise OrientError(
            f"The client runs orient {payload.orient_version} but this worker has {__version__}; "
            "install the same version on every worker."
        )
    if hashlib.sha256(payload.linear).hexdigest() != payload.sha256:
        raise OrientError(
            f"Model {payload.name} arrived on a worker with a SHA-256 that does not match its metadata; "
            "refusing to score with it."
        )
    meta = json.loads(payload.metadata.decode("utf-8"))
    clf = Classifier(LinearModel.from_json(payload.linear.decode("utf-8")), meta, Path(payload.name))
    _loaded[payload.sha256] = clf
    return clf


def score_chunk_remote(
    payload: ModelPayload,
    items: list[Document | Failure],
    method: str = "score",
    encode: Callable[[dict[str, Any]], Any] | None = None,
) -> list[Any]:
    """Task body for the command line: score a chunk on a worker, one record or Failure per item, in order."""
    from pipeline.parallel import score_chunk

    return score_chunk(worker_classifier(payload), items, method, encode)


def _record_or_error(clf: Classifier, doc_id: Any, text: Any) -> dict[str, Any]:
    if not isinstance(text, str) or not text.strip():
        return {"id": doc_id, "error": "is empty or not text"}
    try:
        return {"id": doc_id, **clf.score(text).to_dict()}
    except Exception as exc:  # one bad document is reported in its record, the partition goes on
        return {"id": doc_id, "error": f"could not be scored ({exc.__class__.__name__}: {exc})"}


def score_records_partition(
    records: Iterable[dict[str, Any]], payload: ModelPayload, text_field: str = "text", id_field: str = "id"
) -> list[dict[str, Any]]:
    """Score one partition of records (dicts): one output record per input, with an "error" field on failure."""
    clf = worker_classifier(payload)
    return [_record_or_error(clf, r.get(id_field), r.get(text_field)) for r in records]


def score_frame_partition(df: Any, payload: ModelPayload, column: str) -> Any:
    """Score one pandas partition: the frame with the result columns added (evidence as a JSON string)."""
    clf = worker_classifier(payload)
    rows: dict[str, list[Any]] = {name: [] for name in RESULT_COLUMNS}
    for text in df[column].tolist():
        rec = _record_or_error(clf, None, text)
        rows["label"].append(rec.get("label"))
        rows["marketing_probability"].append(rec.get("marketing_probability", float("nan")))
        rows["verdict"].append(rec.get("verdict", rec.get("error")))
        rows["signal_terms"].append(rec.get("signal_terms", 0))
        rows["evidence"].append(json.dumps(rec.get("evidence", {}), ensure_ascii=False))
    import pandas as pd

    out = df.copy()
    for name in RESULT_COLUMNS:
        dtype = {"marketing_probability": "float64", "signal_terms": "int64"}.get(name, object)
        out[name] = pd.Series(rows[name], index=df.index, dtype=dtype)
    return out


# --- client side ---------------------------------------------------------------------------------------------
def _dask_delayed(payload: ModelPayload) -> Any:
    import dask

    # One graph node holds the bytes; every partition's task depends on it instead of carrying its own copy.
    return dask.delayed(payload, pure=True, name=f"orient-model-{payload.sha256[:16]}")


def score_dataframe(ddf: Any, column: str = "text", model: str | Path | ModelPayload | None = None) -> Any:
    """Score a text column of a dask.dataframe lazily: the frame with label, marketing_probability, verdict,
    signal_terms and evidence (JSON) columns added, computed partition by partition on the workers."""
    payload = model if isinstance(model, ModelPayload) else ModelPayload.load(model)
    meta = score_frame_partition(ddf._meta, payload, column)
    return ddf.map_partitions(score_frame_partition, _dask_delayed(payload), column, meta=meta)


def score_bag(bag: Any, model: str | Path | ModelPayload | None = None, text_field: str = "text", id_field: str = "id") -> Any:
    """Score a dask.bag of records (dicts with id and text fields) lazily: a bag of scored records, in order."""
    payload = model if isinstance(model, ModelPayload) else ModelPayload.load(model)
    return bag.map_partitions(score_records_partition, _dask_delayed(payload), text_field, id_field)


def score_stream_on(
    address: str | Any,
    items: Iterable[Document | Failure],
    clf: Classifier,
    chunk_size: int = CHUNK_SIZE,
    timeout: str = "10s",
    method: str = "score",
    encode: Callable[[dict[str, Any]], Any] | None = None,
) -> Iterator[tuple[Document | Failure, dict[str, Any] | Failure]]:
    """Score documents on a Dask cluster (scheduler address, or a Client): (item, record or Failure), in input order.

    Documents are read here and sent in chunks, with a few chunks per worker in flight, so a file of any
    size streams through with flat memory on both sides.
    """
    try:
        from distributed import Client
    except ImportError:
        raise OrientError("--scheduler needs Dask; install it with: pip install 'orient-zh[dask]'.") from None
    from pipeline.parallel import chunked

    payload = ModelPayload.from_classifier(clf)
    own = not isinstance(address, Client)
    client: Any = address
    if own:
        try:
            client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise OrientError(f"Cannot reach the Dask scheduler at {address} ({exc.__class__.__name__}).") from None
    try:
        [shared] = client.scatter([payload], broadcast=True, hash=True)
        limit = max(1, len(client.scheduler_info().get("workers", {}))) * IN_FLIGHT_PER_WORKER
        pending: deque[tuple[list[Document | Failure], Any]] = deque()
        for chunk in chunked(items, chunk_size):
            pending.append((chunk, client.submit(score_chunk_remote, shared, chunk, method, encode, pure=False)))
            while len(pending) >= limit:
                done, future = pending.popleft()
                yield from zip(done, future.result(), strict=True)
        while pending:
            done, future = pending.popleft()
            yield from zip(done, future.result(), strict=True)
    finally:
        if own:
            client.close()
