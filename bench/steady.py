"""Target 1 per document, start-up taken out: the whole command in one warm process, beside bare jieba.

In one process, rounds alternate (order swapped every round): `orient score FILE --jobs 1 --format jsonl`
through the CLI's own entry point (reading, normalising, segmenting, scoring, writing to /dev/null, with
its per-run costs: loading and checking the model), the same on the file's first HEAD documents, and a bare
`jieba.lcut` loop (HMM off) over the file's texts. orient's cost per document is the difference of its
two runs over the difference in documents, so loading the model and building tables drop out; jieba's
dictionary is loaded once, before the first round, for both. Unlike bench/stages.py this keeps every
cost a real batch has between the steps (the CPU caches refilled at each switch, the CLI's loop).

Prints JSON: CPU microseconds per document, medians of the rounds, and the median of the paired ratios.

    python bench/steady.py FILE.jsonl [ROUNDS]
"""

import json
import os
import statistics
import sys
import time
from contextlib import redirect_stdout
from itertools import islice
from pathlib import Path
from tempfile import TemporaryDirectory

import jieba

from pipeline.cli import main

HEAD = 64
path = Path(sys.argv[1])
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
with path.open("rb") as fh:
    texts = [json.loads(line)["text"] for line in fh]
jieba.setLogLevel(60)
jieba.initialize()
clock = time.process_time


def orient(file: Path) -> float:
    """CPU seconds of one `orient score FILE` through the CLI, output to /dev/null."""
    with open(os.devnull, "w") as out, redirect_stdout(out):
        start = clock()
        main(["score", str(file), "--jobs", "1", "--format", "jsonl"], standalone_mode=False)
        return clock() - start


def bare() -> float:
    """CPU seconds of jieba.lcut over every text of the file."""
    start = clock()
    for text in texts:
        jieba.lcut(text, HMM=False)
    return clock() - start


with TemporaryDirectory() as tmp:
    head = Path(tmp) / "head.jsonl"
    with path.open("rb") as fh:
        head.write_bytes(b"".join(islice(fh, HEAD)))
    runs: dict[str, list[float]] = {"orient": [], "head": [], "bare": []}
    steps = {"orient": lambda: orient(path), "head": lambda: orient(head), "bare": bare}
    for r in range(rounds + 1):  # the first round warms up (segmenter, model, memos) and is not counted
        for name in list(steps) if r % 2 else list(steps)[::-1]:
            runs[name].append(steps[name]())
    orient_us = [(a - b) / (len(texts) - HEAD) * 1e6 for a, b in zip(runs["orient"][1:], runs["head"][1:], strict=True)]
    bare_us = [b / len(texts) * 1e6 for b in runs["bare"][1:]]
print(
    json.dumps(
        {
            "rounds": rounds,
            "documents": len(texts),
            "orient_us_per_doc": statistics.median(orient_us),
            "bare_us_per_doc": statistics.median(bare_us),
            "ratio": statistics.median([b / o for b, o in zip(bare_us, orient_us, strict=True)]),
            "extra": statistics.median([o / b - 1 for b, o in zip(bare_us, orient_us, strict=True)]),
        }
    )
)
