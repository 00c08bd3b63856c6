"""Batch speed of two versions of orient, interleaved: `orient score FILE --jobs N` run by each in turn.

    git worktree add /tmp/orient-before e7752d3
    .venv/bin/python bench/versions.py /tmp/orient-before . --documents 24000 --rounds 5

The documents are corpus/documents.jsonl repeated (about 0.8 KB each). Prints each round's seconds and
the median of the per-round ratios (new / old), the figure to quote on a noisy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--documents", type=int, default=24_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--jobs", default="1", help="orient score --jobs for both versions")
    args = parser.parse_args()
    texts = [json.loads(line)["text"] for line in (args.new / "corpus" / "documents.jsonl").open(encoding="utf-8")]
    work = Path(tempfile.mkdtemp())
    batch = work / "batch.jsonl"
    with batch.open("w", encoding="utf-8") as fh:
        for i in range(args.documents):
            fh.write(json.dumps({"id": f"d{i}", "text": texts[i % len(texts)]}, ensure_ascii=False) + "\n")
    mb = batch.stat().st_size / 1e6
    ratios = []
    for r in range(1, args.rounds + 1):
        seconds = {}
        for name, root in (("old", args.old), ("new", args.new)):
            env = {**os.environ, "PYTHONPATH": str(root.resolve())}
            out = str(work / f"{name}.jsonl")
            command = [sys.executable, "-m", "pipeline", "score", str(batch), "--jobs", args.jobs, "-o", out]
            start = time.perf_counter()
            done = subprocess.run(command, env=env, check=False, capture_output=True, text=True)
            seconds[name] = time.perf_counter() - start
            lines = sum(1 for _ in (work / f"{name}.jsonl").open(encoding="utf-8"))
            if done.returncode or lines != args.documents:
                sys.exit(f"{name} ({root}) wrote {lines} records, exit {done.returncode}: {done.stderr.strip()[-300:]}")
        ratios.append(seconds["new"] / seconds["old"])
        print(f"round {r}: old {seconds['old']:.2f} s, new {seconds['new']:.2f} s, new/old {ratios[-1]:.2f}")
    print(f"{args.documents} documents, {mb:.1f} MB, --jobs {args.jobs}: median new/old {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
