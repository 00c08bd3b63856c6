"""Score a stream of documents on every core: worker processes and this one score chunks, results come back in input order.

With N jobs, N - 1 worker processes receive the model this process loaded and checked, with the segmenter and
the batch tables: inherited when workers fork (built here once, first), sent once per worker where they spawn
(the worker then builds its own segmenter). This process reads, hands out chunks, scores a chunk itself
whenever every worker has its fill, and writes the records in order; its own chunks never cross a pipe.
Given a JSONL file's records in blocks of `Lines`, it does not parse the workers' blocks: they do, so that
reading keeps up with every core; and with score_runs, a chunk's records come back together, a few objects
a chunk instead of several a document. At most a few chunks per job are in flight, so memory stays flat however
long the input is. A document that fails to score becomes a `Failure` in its place; it never stops the batch.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from itertools import chain
from typing import Any, NamedTuple, TypeVar, cast

from pipeline.errors import OrientError
from pipeline.readers import Document, Failure, Lines, parsed
from pipeline.result import Result, Scorer
from pipeline.text import segment_many

CHUNK_SIZE = 64  # the first chunks with more than one job; later ones hold about CHUNK_SECONDS of work, up to POOLED_CHUNK_MAX
# Long enough that handing a chunk over and switching between segmenting and scoring cost little; short
# enough that a batch of a few thousand documents still ends evenly on every process.
CHUNK_SECONDS = 0.1
# Each process holds a chunk's tokens and arrays, and a few chunks wait for each: scoring 100 MB with
# rjieba, chunks of up to 1,024 documents took the process tree to 260-274 MB, of 256 to 228 MB, as fast.
POOLED_CHUNK_MAX = 256
# In this process: each switch from segmenting to scoring and back evicts jieba's dictionary from the CPU
# caches, which then costs milliseconds to refill; 1,024 documents a chunk instead of 64 made a whole
# `--jobs 1` run about 10% faster (paired runs; target 1 of `make bench` measures the result).
LOCAL_CHUNK_SIZE = 1024
CHUNK_CHARS = 1 << 19  # a chunk also ends at this many characters of text, so long documents keep memory flat
PIPE_BYTES = 1 << 20  # what the pipes to and from workers may hold: see _widen_pipes
IN_FLIGHT_PER_JOB = 4  # chunks scored or being scored but not yet written, per job: memory stays flat
# Chunks handed to the workers and not yet done, per worker: the one being scored and the next, ready to
# start, so that no worker waits while this process scores a chunk of its own; few, so that none is left
# with a backlog at the end of a batch.
QUEUED_PER_WORKER = 2
MIN_BATCH = 8  # chunks this big are scored together with numpy (pipeline.batch); smaller ones text by text

# Blocks of JSONL lines (readers.Lines) a batch reads: with more than one job, some 60 documents of 1 KB, so
# that the first chunks are small (every process starts at once) and later ones can be sized to the work they
# hold; with one, fewer and larger blocks (callgrind: 70k fewer instructions a document, most of them in the
# allocator, than with blocks of 64 KiB).
POOLED_BLOCK_BYTES = 1 << 16
LOCAL_BLOCK_BYTES = 1 << 20

Item = Document | Failure
Outcome = dict[str, Any] | Result | Failure
Read = Item | Lines  # what a batch reads: Documents, Failures, and blocks of JSONL lines for the scoring process to parse
_R = TypeVar("_R", bound=Read)


class Run(NamedTuple):
    """The encoded records, in order, of documents in a row that scored with nothing to report (no note, no failure)."""

    # A list, not the records joined: for the usual chunk, the scorer's own list, handed over without a copy.
    records: list[bytes]


Piece = tuple[Item, Outcome] | Run  # what score_runs yields


def default_jobs() -> int:
    """The number of cores this process may run on (its CPU affinity, not just the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def block_bytes(jobs: int) -> int:
    """The size of the blocks of JSONL lines (read_inputs' `lines`) that suits a batch on `jobs` processes."""
    return LOCAL_BLOCK_BYTES if jobs <= 1 else POOLED_BLOCK_BYTES


def score_chunk(
    clf: Scorer, items: list[Item], method: str = "score", encode: Callable[[dict[str, Any]], Any] | None = None
) -> list[Outcome]:
    """Score a chunk with a loaded classifier: one record {"id", ...} or one Failure per item, in order.

    `method` is "score" or "explain" (records), or "result" (each document's Result, as `clf.score` gives it).
    With `encode` (e.g. a writer's), each record comes back as what encode makes of it: the workers then
    do that work too, and the process writing the output only writes.
    """
    docs = [item for item in items if isinstance(item, Document)]
    numbers = _term_numbers(clf) if method in ("score", "result") and len(docs) >= MIN_BATCH else None
    if numbers is not None:
        # Plain scoring segments the whole chunk before it scores any of it: interleaved, jieba's dictionary
        # and the model's tables evict each other from the CPU caches at every document (see segment_many).
        prepared: list[Any] = segment_many([doc.text for doc in docs], numbers)
        numbered = [(doc.id, p) for doc, p in zip(docs, prepared, strict=True) if not isinstance(p, Exception)]
        together = _score_together(clf, numbered, encode, method == "result")
    else:
        prepared, together = [None] * len(docs), None
    # text by text: a small chunk, or a chunk the batch scorer failed on
    finish = clf.explain if method == "explain" else clf.score
    out: list[Outcome] = []
    ready_for = iter(prepared)
    for item in items:
        if isinstance(item, Failure):
            out.append(item)
            continue
        ready = next(ready_for)
        try:
            if isinstance(ready, Exception):
                raise ready
            if together is not None:
                out.append(next(together))
                continue
            result = finish(item.text)
            if method == "result":
                out.append(result)
                continue
            record = {"id": item.id, **result.to_dict()}
            out.append(record if encode is None else encode(record))
        except Exception as exc:  # one bad document is reported, the batch goes on
            out.append(Failure(item.id, f"could not be scored ({exc.__class__.__name__}: {exc})"))
    return out


def _term_numbers(clf: Scorer) -> Callable[[list[str]], bytes] | None:
    """What the chunk scorer (pipeline.batch) reads of a text's tokens; None if this model's n-grams do not fit it."""
    from pipeline import batch

    try:
        return batch.term_numbers(clf) if batch.usable(clf.linear) else None
    except Exception as exc:  # building the chunk scorer's tables failed: every chunk goes text by text, and says so
        _fell_back(f"the chunk scorer could not be built ({exc.__class__.__name__}: {exc}); texts are scored one by one")
        return None


def _fell_back(message: str) -> None:
    import warnings

    warnings.warn(message, FallbackWarning, stacklevel=3)


class FallbackWarning(RuntimeWarning):
    """The chunk scorer failed on a chunk, which was then scored text by text: the same records, more slowly."""


def _score_together(
    clf: Scorer, numbered: list[tuple[str, bytes]], encode: Callable[[dict[str, Any]], Any] | None, results: bool = False
) -> Iterator[Any] | None:
    """What score_chunk makes of each (id, term numbers of a text), scored together by pipeline.batch; None: one by one."""
    from pipeline import batch
    from pipeline.writers import jsonl_encoded, utf8_line

    ids, numbers = [i for i, _ in numbered], [n for _, n in numbered]
    try:
        if results:
            return iter(batch.score_results(clf, numbers))
        if encode is jsonl_encoded:  # JSON lines, the batch format, come straight from the chunk's arrays
            return map(utf8_line, batch.json_lines(clf, ids, numbers))
        records = ({"id": i, **r} for i, r in zip(ids, batch.score_numbered(clf, numbers), strict=True))
        return records if encode is None else map(encode, records)
    except Exception as exc:  # the text-by-text path then reports any bad document by name; the slowdown is said
        _fell_back(
            f"the chunk scorer failed ({exc.__class__.__name__}: {exc}) on the {len(ids)} documents "
            f"from {ids[0] if ids else '-'}; they were scored text by text"
        )
        return None


# --- worker side: one classifier per worker process, loaded by the pool's initializer -----------------------
_worker_clf: Scorer | None = None


def _init_worker(clf: Scorer) -> None:
    global _worker_clf
    import signal

    from pipeline.text import segmenter

    # Ctrl-C is the parent's to handle: it stops handing out work and shuts the workers down.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _watch_parent(os.getppid())
    _worker_clf = clf
    segmenter()  # build the segmenter now, not inside the first chunk


def _watch_parent(parent: int) -> None:
    """End this worker when its parent is gone (killed with SIGKILL, say), instead of waiting forever for work.

    Forked siblings hold the work queue open, so a worker would never see it close.
    """
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="orient-parent-watch", daemon=True).start()


def _score_in_worker(
    items: list[Read], method: str, encode: Callable[[dict[str, Any]], Any] | None, join: bool
) -> tuple[list[Piece] | tuple[list[list[Item] | None], list[Outcome]], int, float, list[str]]:
    """_score_timed with the classifier this worker process was given, and the fallbacks it had to say.

    A warning here would reach only this process's standard error: the parent says them (_collect). Results
    go back without their model, which the parent has (Pulls.bind).
    """
    import warnings

    assert _worker_clf is not None, "a worker scores only after its initializer ran"
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always", FallbackWarning)
        scored, count, seconds = _score_timed(_worker_clf, items, method, encode, join)
    if method == "result" and not join:
        for outcome in scored[1]:
            if isinstance(outcome, Result):
                outcome.pulls.detach()
    return scored, count, seconds, [str(w.message) for w in said if issubclass(w.category, FallbackWarning)]


def _score_timed(
    clf: Scorer, items: list[Read], method: str, encode: Callable[[dict[str, Any]], Any] | None, join: bool
) -> tuple[list[Piece] | tuple[list[list[Item] | None], list[Outcome]], int, float]:
    """The chunk scored, as _collect takes it back; its number of documents, and their CPU seconds.

    With `join`, the chunk's pieces (see score_runs). Otherwise what the parent learns of each block of Lines
    (None for other items) and the chunk's outcomes: a block comes back as its lines' Failures, and Documents
    without their text; the parent reports ids and notes and has no use for the text it sent. The parent
    sizes later chunks by the seconds: this thread's, since the parent's own threads feed the workers meanwhile.
    """
    start = time.thread_time()
    blocks = [item.parse() if isinstance(item, Lines) else None for item in items]
    docs = _spread(items, blocks)
    outcomes = score_chunk(clf, docs, method, encode)
    if join:
        return _joined(docs, outcomes), len(docs), time.thread_time() - start
    heads = [None if block is None else [_head(doc) for doc in block] for block in blocks]
    return (heads, outcomes), len(docs), time.thread_time() - start


def _head(item: Item) -> Item:
    """The item without its text, which whoever reads an outcome has no use for."""
    return item if isinstance(item, Failure) else replace(item, text="")


def _joined(items: list[Item], outcomes: list[Outcome]) -> list[Piece]:
    """Each item with its outcome (the item without its text), where documents in a row scored cleanly into bytes, one Run."""
    if all(isinstance(outcome, bytes) for outcome in outcomes) and not any(getattr(item, "note", None) for item in items):
        return [Run(cast(list[bytes], outcomes))]  # the usual chunk: all of it
    pieces: list[Piece] = []
    run: list[bytes] = []
    for item, outcome in zip(items, outcomes, strict=True):
        if isinstance(outcome, bytes) and isinstance(item, Document) and not item.note:
            run.append(outcome)
            continue
        if run:
            pieces.append(Run(run))
            run = []
        pieces.append((_head(item), outcome))
    if run:
        pieces.append(Run(run))
    return pieces


def _context() -> Any:
    # Imported here: a one-sentence run never starts workers and should not pay for multiprocessing.
    import multiprocessing

    # fork starts a worker in milliseconds; elsewhere (macOS, Windows) spawn is the safe default.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def chunked(items: Iterable[_R], size: int | Callable[[], int], chars: int = CHUNK_CHARS) -> Iterator[list[_R]]:
    """Lists of at most `size` documents (a number, or a function giving each next chunk's), cut at `chars` characters of text.

    A block of Lines counts as its lines (one block alone may pass `size`), and its bytes as characters (at
    least as many as its texts have).
    """
    next_size = size if callable(size) else lambda: size
    chunk: list[_R] = []
    count = total = 0
    limit = next_size()
    for item in items:
        if isinstance(item, Lines):
            n, chars_in = item.n_lines, len(item.data)
        else:  # anything but a Document's text fails where it is scored
            n, chars_in = 1, len(item.text) if isinstance(item, Document) and isinstance(item.text, str) else 0
        if chunk and count + n > limit:  # a block that would take the chunk past its size starts the next
            yield chunk
            chunk, count, total = [], 0, 0
            limit = next_size()
        chunk.append(item)
        count += n
        total += chars_in
        if count >= limit or total >= chars:
            yield chunk
            chunk, count, total = [], 0, 0
            limit = next_size()
    if chunk:
        yield chunk


class _ChunkSizes:
    """The size of the next chunk with more than one job: about CHUNK_SECONDS of work, judged from the chunks so far."""

    def __init__(self) -> None:
        self.size = CHUNK_SIZE

    def __call__(self) -> int:
        return self.size

    def took(self, seconds: float, documents: int) -> None:
        """Learn from one chunk's CPU time where it was scored."""
        if seconds > 0:
            self.size = max(CHUNK_SIZE, min(POOLED_CHUNK_MAX, int(documents * CHUNK_SECONDS / seconds)))


def score_stream(
    items: Iterable[Read],
    clf: Scorer,
    jobs: int = 1,
    method: str = "score",
    chunk_size: int | None = None,
    encode: Callable[[dict[str, Any]], Any] | None = None,
) -> Iterator[tuple[Item, Outcome]]:
    """Yield (item, record or Failure) for every item, in input order, scoring on `jobs` processes.

    `method` is "score" or "explain" (records), or "result" (Results, for Classifier.score_many); `encode`, if
    given, is applied to each record where it was scored (see score_chunk). Documents go in chunks of `chunk_size` (default:
    LOCAL_CHUNK_SIZE with one job; with more, about CHUNK_SECONDS of work) and at most CHUNK_CHARS characters.

    `clf` is a loaded classifier: it scores in this process when jobs is 1 or the input fits in one
    chunk (starting workers would cost more than it saves); otherwise jobs - 1 worker processes get this
    classifier once, and this process scores chunks too. A Failure item comes back as its own outcome; a
    block of Lines, as the Documents and Failures it parses into (Documents without their text, where chunks
    were handed out to workers).
    """
    for pieces in _scored_chunks(items, clf, jobs, method, chunk_size, encode, join=False):
        yield from cast(list[tuple[Item, Outcome]], pieces)


def score_runs(
    items: Iterable[Read],
    clf: Scorer,
    jobs: int = 1,
    method: str = "score",
    encode: Callable[[dict[str, Any]], Any] | None = None,
) -> Iterator[Piece]:
    """score_stream, with each run of clean documents whose records `encode` made into bytes coming as one Run.

    Documents in a row that scored with nothing to report, into bytes (JSON lines, say: jsonl_encoded),
    come as a Run of those bytes, to be written together; any other document, as (the item without its
    text, its record or Failure). For a batch of thousands, the process writing the output then handles a
    few objects a chunk, not several a document, and has more of its time for scoring.
    """
    for pieces in _scored_chunks(items, clf, jobs, method, None, encode, join=True):
        yield from pieces


def _scored_chunks(
    items: Iterable[Read],
    clf: Scorer,
    jobs: int,
    method: str,
    chunk_size: int | None,
    encode: Callable[[dict[str, Any]], Any] | None,
    join: bool,
) -> Iterator[list[Piece]]:
    """Each chunk's pieces, in input order: pairs of (item, outcome), and with `join`, Runs (see score_runs)."""
    sizes = _ChunkSizes()
    chunks = chunked(items, chunk_size or (LOCAL_CHUNK_SIZE if jobs <= 1 else sizes))
    if jobs <= 1:
        for chunk in chunks:
            yield _here(clf, chunk, method, encode, join)
        return
    first = next(chunks, None)
    if first is None:
        return
    second = next(chunks, None)
    if second is None:
        yield _here(clf, first, method, encode, join)
        return
    yield from _pooled([first, second], chunks, clf, jobs, method, encode, join, sizes)


def _here(clf: Scorer, chunk: list[Read], method: str, encode: Callable[[dict[str, Any]], Any] | None, join: bool) -> list[Piece]:
    """Score a chunk in this process (blocks of Lines parsed): its pieces."""
    items = list(parsed(chunk))
    outcomes = score_chunk(clf, items, method, encode)
    return _joined(items, outcomes) if join else list(zip(items, outcomes, strict=True))


def _pooled(
    head: list[list[Read]],
    rest: Iterator[list[Read]],
    clf: Scorer,
    jobs: int,
    method: str,
    encode: Callable[[dict[str, Any]], Any] | None,
    join: bool,
    sizes: _ChunkSizes,
) -> Iterator[list[Piece]]:
    """Each chunk's pieces, in input order, scored on jobs - 1 worker processes and in this one."""
    from concurrent.futures import Future, ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    context = _context()
    if context.get_start_method() == "fork":
        _prepare_for_fork(clf, method)
    # This process scores too, between handing out chunks and writing: with a worker per core beside it, it
    # would take turns on a core with one (48,000 documents, rjieba, 6 paired runs: 4% slower than this).
    workers = jobs - 1
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(clf,))
    _widen_pipes(pool)
    pending: deque[tuple[list[Read], Any]] = deque()  # in input order: a worker's Future, or what this process scored
    queued = workers * QUEUED_PER_WORKER
    limit = jobs * IN_FLIGHT_PER_JOB
    chunks = chain(head, rest)
    try:
        chunk: list[Read] | None = next(chunks)
        while chunk is not None:
            following = next(chunks, None)
            busy = sum(isinstance(job, Future) and not job.done() for _, job in pending)
            # Here when the workers have their fill, and the last chunk whenever a worker is still at work:
            # queued behind that worker, it would leave this process idle until both were done.
            if busy >= queued or (following is None and busy > 0):
                pending.append((chunk, (*_score_timed(clf, chunk, method, encode, join), [])))
            else:
                try:
                    pending.append((chunk, pool.submit(_score_in_worker, chunk, method, encode, join)))
                except BrokenProcessPool:  # a worker died between chunks: its chunk, if still held, is named below
                    while pending:
                        yield _collect(pending.popleft(), BrokenProcessPool, sizes)
                    raise _worker_failed("before the chunk", chunk) from None
            while pending and (len(pending) >= limit or not isinstance(pending[0][1], Future) or pending[0][1].done()):
                yield _collect(pending.popleft(), BrokenProcessPool, sizes)
            chunk = following
        while pending:
            yield _collect(pending.popleft(), BrokenProcessPool, sizes)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _widen_pipes(pool: Any) -> None:
    """Let the pool's pipes hold a whole chunk or chunk's records (1 MiB each, where the system allows it).

    A pipe holds 64 KiB; a worker sending back a chunk's records (a few hundred KiB) would wait until this
    process, which shares the cores with the workers, had read them, before starting its next chunk: that
    waiting halved (48,000 documents, rjieba, four runs each way: from about 0.15 s a worker to 0.07 s).
    """
    try:
        import fcntl

        setpipe = fcntl.F_SETPIPE_SZ
    except (ImportError, AttributeError):  # not Linux
        return
    for queue in (getattr(pool, "_call_queue", None), getattr(pool, "_result_queue", None)):
        # Another Python's pool, or a system's limit: the default pipes work, a little slower.
        with contextlib.suppress(AttributeError, OSError):
            fcntl.fcntl(queue._writer.fileno(), setpipe, PIPE_BYTES)  # type: ignore[union-attr]


def _prepare_for_fork(clf: Scorer, method: str) -> None:
    """Build here, once, what every process needs: forked workers inherit it instead of each building its own.

    The segmenter (jieba's dictionary: half a second) and, for plain scoring, numpy and the model's batch
    tables; built in each worker, they would cost that much CPU again per worker, on cores the work needs.
    """
    from pipeline.text import segmenter

    segmenter()
    if method in ("score", "result"):
        from pipeline import batch

        batch.usable(clf.linear)


def _collect(entry: tuple[list[Read], Any], broken: type[BaseException], sizes: _ChunkSizes) -> list[Piece]:
    chunk, job = entry
    try:
        scored, count, seconds, said = job if isinstance(job, tuple) else job.result()
    except broken:
        raise _worker_failed("while scoring the chunk", chunk) from None
    for message in said:
        _fell_back(message)  # said in a worker: said here, where the caller can hear it
    sizes.took(seconds, count)
    if isinstance(scored, list):  # joined: pieces as they are
        return scored
    heads, outcomes = scored
    return list(zip(_spread(chunk, heads), outcomes, strict=True))


def _worker_failed(when: str, chunk: list[Read]) -> OrientError:
    """The error that ends a batch whose worker process could not start or died."""
    return OrientError(
        f"A worker process failed (it could not start, or died) {when} that starts at {_name(chunk[0])}; "
        "rerun with --jobs 1 to find the document."
    )


def _spread(chunk: list[Read], groups: list[list[Item] | None]) -> list[Item]:
    """The chunk's items, each block of Lines replaced by its group (None for an item that is no block)."""
    items: list[Item] = []
    for item, group in zip(chunk, groups, strict=True):
        if group is None:  # every block has its group, so this is a Document or Failure
            items.append(cast(Item, item))
        else:
            items.extend(group)
    return items


def _name(item: Read) -> str:
    """How a message names an item: its id, or for a block of Lines not yet parsed, the place of its first line."""
    return item.where if isinstance(item, Lines) else item.id
