"""The labels a document may carry, and the spellings people write them in."""

from __future__ import annotations

from typing import Any

from pipeline.config import DOCUMENT_LABELS, MIXED, NEUTRAL

# Labels as people write them in a sheet; `none` is the older spelling of neutral.
ALIASES = {
    "销售": "sales",
    "销售导向": "sales",
    "营销": "marketing",
    "市场": "marketing",
    "营销导向": "marketing",
    "市场导向": "marketing",
    "混合": MIXED,
    "中性": NEUTRAL,
    "无": NEUTRAL,
    "none": NEUTRAL,
}


def canonical_label(value: Any) -> str | None:
    """A label in its canonical spelling (sales, marketing, mixed, neutral), or None if it is none of them."""
    label = str(value if value is not None else "").strip()
    label = ALIASES.get(label, ALIASES.get(label.lower(), label.lower()))
    return label if label in DOCUMENT_LABELS else None
