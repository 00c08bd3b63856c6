"""Deterministic synthetic documents for the benchmark: sentences of the evaluation sets, recombined."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT / "corpus" / "eval"
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;\n])")


def sentences() -> list[str]:
    """Every non-trivial sentence of corpus/eval/*.jsonl, in file order."""
    out: list[str] = []
    for path in sorted(EVAL_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                text = json.loads(line)["text"]
                out.extend(s.strip() for s in _SENTENCE_END.split(text) if len(s.strip()) >= 4)
    return out


def documents(count: int, size: int = 1000, seed: int = 5) -> Iterator[dict[str, str]]:
    """Yield `count` records {"id", "text"} of about `size` UTF-8 bytes each, the same for the same seed."""
    pool = sentences()
    rng = random.Random(seed)
    for i in range(count):
        parts: list[str] = []
        n = 0
        while n < size:
            s = rng.choice(pool)
            parts.append(s)
            n += len(s.encode("utf-8"))
        yield {"id": f"doc-{i:07d}", "text": "".join(parts)}


def write_jsonl(path: Path, count: int, size: int = 1000, seed: int = 5) -> int:
    """Write `count` synthetic documents to a JSONL file; return its size in bytes."""
    with path.open("w", encoding="utf-8") as fh:
        for rec in documents(count, size, seed):
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path.stat().st_size
