"""Share of single-character terms among the evidence records show, on a labelled file (default: the real postings).

Works with any version of orient (it uses only `pipeline.load` and `Result.to_dict`), so the figure before a
change is measured by running it against an older checkout:

    git worktree add /tmp/orient-before e7752d3
    PYTHONPATH=/tmp/orient-before .venv/bin/python bench/evidence_share.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pipeline

DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "realdev" / "postings.jsonl"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    clf = pipeline.load()
    shown = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = clf.score(json.loads(line)["text"]).to_dict()
        shown += [e["term"] for side in ("sales", "marketing") for e in record["evidence"][side]]
    single = sum(len(t) == 1 for t in shown)
    print(f"{pipeline.__file__}: {single} of {len(shown)} evidence terms are single characters ({single / len(shown):.1%})")


if __name__ == "__main__":
    main()
