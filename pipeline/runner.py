"""Score a batch: read the inputs, score every document (here, on worker processes or on a Dask cluster), write the records.

This is `orient score` without its options: the command line parses, opens the output and reports; this module
decides how the work is done. How it is made fast stays here and below: blocks of JSONL lines parsed where
they are scored, records encoded by whoever scored them, runs of clean records written at once.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from itertools import chain
from typing import Any

from pipeline.parallel import Run, block_bytes, score_runs
from pipeline.predict import Classifier
from pipeline.readers import DEFAULT_MAX_BYTES, Document, Failure, parsed, read_blocks, read_inputs
from pipeline.writers import TabularWriter, Writer


@dataclass(frozen=True)
class Reading:
    """How inputs are read: the fields of records, the encoding of text files, the format, the size limit."""

    text_field: str = "text"
    id_field: str = "id"
    encoding: str | None = None
    fmt: str = "auto"
    max_bytes: int = DEFAULT_MAX_BYTES
    delimiter: str | None = None
    sheet: str | None = None

    def options(self) -> dict[str, Any]:
        """As keyword arguments of readers.read_inputs."""
        return asdict(self)


def documents(texts: Sequence[str], inputs: Sequence[str], reading: Reading = Reading()) -> Iterator[Document | Failure]:
    """The given texts (ids `text`, or `text-1`, `text-2` …), then every document the inputs name ("-": standard input)."""
    yield from _texts(texts)
    if inputs:
        yield from read_inputs(inputs, stdin=sys.stdin.buffer, **reading.options())


def _texts(texts: Sequence[str]) -> Iterator[Document | Failure]:
    for i, text in enumerate(texts, start=1):
        doc_id = "text" if len(texts) == 1 else f"text-{i}"
        yield Document(doc_id, text) if text.strip() else Failure(doc_id, "is empty")


@dataclass
class Batch:
    """What a batch reads and how it scores: the texts and inputs, and where the work is done."""

    texts: Sequence[str] = ()
    inputs: Sequence[str] = ()
    reading: Reading = Reading()
    jobs: int = 1
    scheduler: str | None = None  # a Dask scheduler's address: score there
    explain: bool = False
    done: Counter[str] | None = None  # ids already written, with their counts (a resumed batch): skipped

    def run(
        self,
        clf: Classifier,
        writer: Writer,
        say: Callable[[str, str], None],
        tick: Callable[[int], None] = lambda n: None,
        guard: Callable[[], AbstractContextManager[Any]] = nullcontext,
    ) -> int:
        """Score every document into `writer`, in input order; return how many could not be read or scored.

        `say(id, message)` hears of each document skipped or scored in part, `tick(n)` of n documents written;
        every write happens inside `guard()` (the command line holds Ctrl-C back there).
        """
        failed = 0
        for piece in self._pieces(clf, writer.encode):
            if isinstance(piece, Run):
                with guard():
                    writer.write_all(piece.records)
                    tick(len(piece.records))
                continue
            doc, out = piece
            if isinstance(doc, Failure):
                failed += 1
                say(doc.id, f"{doc.message}; skipped.")
                if doc.columns and isinstance(writer, TabularWriter):
                    with guard():
                        writer.write_failure(doc.id, f"not scored: {doc.message}", doc.columns)
                continue
            if doc.note:
                say(doc.id, f"{doc.note}; scored the rest.")
            if isinstance(out, Failure):  # the document could not be scored; the batch goes on
                failed += 1
                say(out.id, f"{out.message}; skipped.")
                continue
            with guard():
                writer.write_encoded(out, doc.columns)
                tick(1)
        return failed

    def _pieces(self, clf: Classifier, encode: Any) -> Iterator[tuple[Document | Failure, Any] | Run]:
        """Each document with its encoded record (or Failure), in order; locally, clean runs of JSON lines as one Run."""
        method = "explain" if self.explain else "score"
        if self.done is not None:
            from pipeline.resume import skip_done

            items: Iterator[Any] = skip_done(documents(self.texts, self.inputs, self.reading), self.done)
        elif self.scheduler is None:
            # JSONL records are parsed where they are scored (with jobs, mostly by worker processes): reading
            # here then keeps up with every core.
            blocks = read_blocks(self.inputs, block_bytes(self.jobs), stdin=sys.stdin.buffer, **self.reading.options())
            items = chain(_texts(self.texts), blocks if self.inputs else ())
        else:
            items = documents(self.texts, self.inputs, self.reading)
        if self.scheduler:
            from pipeline.distributed import score_stream_on

            yield from score_stream_on(self.scheduler, parsed(items), clf, method=method, encode=encode)
            return
        yield from score_runs(items, clf, self.jobs, method=method, encode=encode)
