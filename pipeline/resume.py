"""JSONL output that survives interruption: written to FILE.partial, renamed to FILE when complete.

How `-o FILE` (JSON lines) and `--resume` fit together:

* Records go to `FILE.partial`, one line each, flushed as soon as written, under an exclusive lock
  (two runs writing the same output would interleave their records).
* When the batch ends, `FILE.partial` is renamed to `FILE` in one step, so `FILE` is either the
  good file that stood there before or the new complete one, never half of one.
* When the batch is interrupted (Ctrl-C, a crash, a kill), `FILE` is untouched and `FILE.partial`
  holds every record written so far. A kill can cut the last line short: a line without its
  newline was never finished, so it is dropped.
* `--resume` reads the ids of the complete records in `FILE.partial` (or, when there is none, in a
  finished `FILE`), keeps those records, and scores only the documents not among them. Ids are
  counted, not just collected, so two documents with the same id are each scored exactly once.
  The inputs must be the same, in the same order, as in the interrupted run.
* Without `--resume`, a run starts `FILE.partial` afresh.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from pipeline.errors import OrientError
from pipeline.files import umask
from pipeline.readers import Document, Failure


def partial_path(path: Path) -> Path:
    """The file an unfinished run writes to, beside its output."""
    return path.with_name(path.name + ".partial")


def completed_records(path: Path) -> tuple[Counter[str], int]:
    """Return the ids of the complete records in a JSONL output and the byte length of that complete part."""
    done: Counter[str] = Counter()
    good = 0
    with path.open("rb") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.endswith(b"\n"):
                break  # cut short by a kill: never finished, so it does not count
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                raise OrientError(f"{path} line {lineno} is not a record written by orient; cannot resume from it.")
            done[record["id"]] += 1
            good += len(line)
    return done, good


class ResumableOutput:
    """A JSONL output written to FILE.partial and renamed into place on commit; see the module docstring."""

    def __init__(self, path: Path, *, resume: bool = False) -> None:
        import fcntl

        self.path = path
        self.partial = partial_path(path)
        self.done: Counter[str] = Counter()
        fd = os.open(self.partial, os.O_RDWR | os.O_CREAT, 0o666 & ~umask())
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise OrientError(f"Another orient run is writing {path} (through {self.partial.name}); let it finish.") from None
        if resume:
            source = self.partial if os.fstat(fd).st_size > 0 else path
            if source.exists():
                self.done, good = completed_records(source)
                if source == self.partial:
                    os.ftruncate(fd, good)  # drop a half-written last line
                else:
                    with path.open("rb") as src:
                        os.ftruncate(fd, 0)
                        os.write(fd, src.read(good))
        else:
            os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_END)
        self.resumed = sum(self.done.values())
        # Line-buffered: every record reaches the file as soon as it is written, so a kill loses none.
        self.stream = os.fdopen(fd, "a", encoding="utf-8", newline="", buffering=1)

    def commit(self) -> None:
        """Flush and rename FILE.partial to FILE (the lock goes with the file descriptor)."""
        self.stream.flush()
        os.fsync(self.stream.fileno())
        os.replace(self.partial, self.path)
        self.stream.close()

    def discard(self) -> None:
        """The run did not finish: keep FILE.partial, complete up to its last record, for --resume."""
        try:
            self.stream.flush()
        finally:
            self.stream.close()

    def hint(self) -> str:
        """One clause telling the user where the records are and how to finish."""
        return f"the records so far are in {self.partial}; run the same command with --resume to finish"


def skip_done(items: Iterable[Document | Failure], done: Counter[str]) -> Iterator[Document | Failure]:
    """Yield the documents not yet scored (each done id used up once) and every failure."""
    for item in items:
        if isinstance(item, Document) and done[item.id] > 0:
            done[item.id] -= 1
            continue
        yield item
