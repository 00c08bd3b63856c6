"""Labelled files for training and evaluation: each record's text with its gold label, every bad record named.

The records are read by pipeline.readers (any .jsonl, .csv, .tsv or .xlsx); what a label may be is
pipeline.labels'. This is code a trained model depends on (pipeline/training/model_inputs.txt).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.labels import canonical_label
from pipeline.readers import Failure, labelled_records


@dataclass(frozen=True)
class Labelled:
    """A document with its gold label, from an evaluation or training file."""

    id: str
    text: str
    label: str


def read_labelled(
    path: Path, labels: Sequence[str], text_field: str = "text", label_field: str = "label"
) -> tuple[list[Labelled], list[Failure]]:
    """Read a labelled .jsonl or .csv file; every bad record is reported by its line or row number."""
    good: list[Labelled] = []
    bad: list[Failure] = []
    for where, what, doc, record in labelled_records(path, text_field):
        if isinstance(doc, Failure):
            bad.append(doc)
            continue
        written = record.get(label_field)
        label = canonical_label(written) or str(written if written is not None else "").strip()
        if label not in labels:
            bad.append(Failure(where, f"{what} has label {label!r}, expected one of: {', '.join(labels)}"))
            continue
        good.append(Labelled(doc.id, doc.text, label))
    return good, bad
