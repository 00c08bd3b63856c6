"""Write reports/evaluation.md (`make evaluate`): real postings, the written sets, the lever study, the learning curve.

python -m research.evaluation                      # the whole report, lever study included (minutes)
python -m research.evaluation --no-levers -o FILE  # the figures only
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pipeline
from pipeline import config
from pipeline.training import realeval
from research.evalreport import write_report


def main(argv: list[str] | None = None) -> int:
    """Evaluate the model on every labelled set there is and write the Markdown report."""
    parser = argparse.ArgumentParser(prog="python -m research.evaluation", description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=config.ROOT / "reports" / "evaluation.md")
    parser.add_argument("--no-levers", action="store_true", help="skip the lever study and the learning curve")
    parser.add_argument("--model", type=Path, default=None, help="model file (default: the shipped model)")
    args = parser.parse_args(argv)
    clf = pipeline.load(args.model)
    per_set = {}
    realdev = config.realdev_file()
    if realdev.exists():
        docs, _ = realeval.read_documents(realdev, label_field="orientation")
        per_set[str(realdev)] = realeval.figures(clf, docs)
    else:
        print(f"no real postings at {realdev}; only the written sets are evaluated", file=sys.stderr)
    per_set.update(realeval.written_figures(clf))
    write_report(args.output, clf, per_set, not args.no_levers, progress=lambda msg: print(msg, file=sys.stderr))
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
