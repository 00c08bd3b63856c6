"""Figures on labelled real documents: orientation of the text, by job title, abstention, calibration, per site.

A real document is labelled as docs/labelling.md says: `sales`, `marketing`, `mixed` or `neutral`, with a
confidence. The headline figures count only high- and medium-confidence `sales`/`marketing` documents;
`mixed` and `neutral` ones are reported apart, by the verdicts they get. When a file has a title-based
role field (as ../shared/realdev/ has), macro-F1 against that role is reported beside: it shows how
far the text's orientation and the department's name part.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline import config
from pipeline.config import DOCUMENT_LABELS, LABELS, MIXED, NEUTRAL
from pipeline.labels import canonical_label
from pipeline.training.metrics import brier, classification_figures, reliability

ORIENTATIONS = DOCUMENT_LABELS
CONFIDENCES = ("high", "medium", "low")
COUNTED_CONFIDENCE = ("high", "medium")
_CONFIDENCE_ALIASES = {"高": "high", "中": "medium", "低": "low"}
_NOTE = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")


@dataclass(frozen=True)
class RealDoc:
    """A labelled document with the optional fields of a real-text set."""

    id: str
    text: str
    label: str
    confidence: str = ""
    role: str = ""
    group: str = ""


@dataclass(frozen=True)
class Outcome:
    """What the model said about one document."""

    doc: RealDoc
    probability: float
    side: str  # the side of the threshold P(marketing) falls on, whether or not the verdict abstains
    verdict: str
    abstained: bool
    evidence: tuple[str, ...] = ()  # the terms a record shows (the ten strongest each way)


def confident(doc: RealDoc) -> bool:
    """Whether a document's label is given with high or medium confidence (or with none: then every label counts)."""
    return not doc.confidence or doc.confidence in COUNTED_CONFIDENCE


def counted(doc: RealDoc) -> bool:
    """Whether a document counts in the headline figures: sales/marketing, high or medium confidence (or none given)."""
    return doc.label in LABELS and confident(doc)


def counted_neutral(doc: RealDoc) -> bool:
    """Whether a document counts in the neutral abstention figure."""
    return doc.label == NEUTRAL and confident(doc)


def _f1(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    return classification_figures([g for g, _ in pairs], [p for _, p in pairs])


def _share(flags: Sequence[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def score_documents(clf: Any, docs: Sequence[RealDoc]) -> list[Outcome]:
    """Score every document once."""
    from pipeline.result import INSUFFICIENT

    out = []
    for doc in docs:
        r = clf.score(doc.text)
        shown = tuple(e.term for side in LABELS for e in r.terms(side, 10))
        out.append(Outcome(doc, r.marketing_probability, r.side, r.verdict, r.verdict == INSUFFICIENT, shown))
    return out


def figures(clf: Any, docs: Sequence[RealDoc]) -> dict[str, Any]:
    """Every real-text figure of one labelled set, scored with a loaded model."""
    outcomes = score_documents(clf, docs)
    out = summarise(outcomes)
    # The errors' evidence, from their own texts (ids may repeat in a user's file).
    for error, o in zip(out["worst_errors"], worst(outcomes), strict=True):
        r = clf.score(o.doc.text)
        error["evidence"] = {side: [f"{e.term}({e.contribution:+.2f})" for e in r.terms(side, 5)] for side in LABELS}
    return out


def worst(outcomes: Sequence[Outcome], limit: int = 10) -> list[Outcome]:
    """The most confident errors among the counted documents."""
    wrong = [o for o in outcomes if counted(o.doc) and o.side != o.doc.label]
    wrong.sort(key=lambda o: (-abs(o.probability - (o.doc.label == "marketing")), o.doc.id))
    return wrong[:limit]


def summarise(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The figures of scored documents (see the module's docstring for which documents count where)."""
    main = [o for o in outcomes if counted(o.doc)]
    out: dict[str, Any] = {"n": len(outcomes), "counted": len(main)}
    if main:
        f = _f1([(o.doc.label, o.side) for o in main])
        answered = [o for o in main if not o.abstained]
        out["orientation"] = {
            "macro_f1": f["macro_f1"],
            "accuracy": f["accuracy"],
            "per_class": f["per_class"],
            "confusion": f["confusion"],
            "predicted_marketing": _share([o.side == "marketing" for o in main]),
            "gold_marketing": _share([o.doc.label == "marketing" for o in main]),
            "insufficient_signal": _share([o.abstained for o in main]),
            "macro_f1_answered": _f1([(o.doc.label, o.side) for o in answered])["macro_f1"] if answered else None,
            "brier": brier([o.doc.label for o in main], [o.probability for o in main]),
            "reliability": reliability([o.doc.label for o in main], [o.probability for o in main]),
        }
    by_role = [o for o in outcomes if o.doc.role in LABELS]
    if by_role:
        out["by_title"] = {
            "n": len(by_role),
            "macro_f1": _f1([(o.doc.role, o.side) for o in by_role])["macro_f1"],
            "insufficient_signal": _share([o.abstained for o in by_role]),
            # What a perfect reader of the text would score against the titles: how far titles and texts part.
            "gold_text_macro_f1": _f1([(o.doc.role, o.doc.label) for o in by_role if o.doc.label in LABELS])["macro_f1"],
        }
        # Titles that name the other department: a model that learned the department gets these wrong.
        flips = [o for o in main if o.doc.role in LABELS and o.doc.role != o.doc.label]
        if flips:
            out["title_disagrees"] = {"n": len(flips), "accuracy": _share([o.side == o.doc.label for o in flips])}
    neutral = [o for o in outcomes if counted_neutral(o.doc)]
    if neutral:
        out["neutral"] = {"n": len(neutral), "insufficient_signal": _share([o.abstained for o in neutral])}
    mixed = [o for o in outcomes if o.doc.label == MIXED]
    if mixed:
        out["mixed"] = {"n": len(mixed), "verdicts": dict(sorted(Counter(o.verdict for o in mixed).items()))}
    out["verdicts_by_label"] = {
        label: dict(sorted(Counter(o.verdict for o in outcomes if o.doc.label == label).items()))
        for label in ORIENTATIONS
        if any(o.doc.label == label for o in outcomes)
    }
    groups = sorted({o.doc.group for o in main if o.doc.group})
    if groups:
        out["by_group"] = {}
        for g in groups:
            part = [o for o in main if o.doc.group == g]
            out["by_group"][g] = {
                "n": len(part),
                "macro_f1": _f1([(o.doc.label, o.side) for o in part])["macro_f1"],
                "accuracy": _f1([(o.doc.label, o.side) for o in part])["accuracy"],
                "insufficient_signal": _share([o.abstained for o in part]),
            }
    shown = [term for o in outcomes for term in o.evidence]
    # Evidence a reader can use: a single character (者, 强, the 一 of 五险一金) is a fragment, not a reason.
    out["single_character_evidence"] = _share([len(term) == 1 for term in shown])
    out["worst_errors"] = [
        {"id": o.doc.id, "gold": o.doc.label, "confidence": o.doc.confidence, "marketing_probability": round(o.probability, 4)}
        for o in worst(outcomes)
    ]
    return out


def _field(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    return str(value).strip() if value is not None else ""


def read_documents(
    path: Path,
    text_field: str = "text",
    label_field: str = "label",
    confidence_field: str = "confidence",
    role_field: str = "role",
    group_field: str = "site",
) -> tuple[list[RealDoc], list[Any]]:
    """Read a labelled .jsonl/.csv file of real documents; bad records come back as Failures."""
    from pipeline.readers import Failure, labelled_records

    docs: list[RealDoc] = []
    bad: list[Failure] = []
    for where, what, doc, record in labelled_records(path, text_field):
        if isinstance(doc, Failure):
            bad.append(doc)
            continue
        label = canonical_label(record.get(label_field))
        if label is None:
            got = record.get(label_field)
            bad.append(
                Failure(where, f"{what} has label {got!r} in field {label_field!r}, expected one of: {', '.join(ORIENTATIONS)}")
            )
            continue
        # "前程无忧 51job.com (crawl 2016-12)": a note in brackets after a site's name would split one site in many.
        group = _NOTE.sub("", _field(record, group_field))
        confidence = _field(record, confidence_field).lower()
        confidence = _CONFIDENCE_ALIASES.get(confidence, confidence)
        if confidence not in ("", *CONFIDENCES):
            bad.append(Failure(where, f"{what} has confidence {confidence!r}, expected one of: {', '.join(CONFIDENCES)}"))
            continue
        docs.append(RealDoc(doc.id, doc.text, label, confidence, canonical_label(_field(record, role_field)) or "", group))
    return docs, bad


def summary(name: str, f: dict[str, Any]) -> str:
    """The figures of one set as a few lines of text."""
    lines = [f"{name}: {f['n']} documents, {f['counted']} counted (sales/marketing, high or medium confidence)"]
    o = f.get("orientation")
    if o:
        lines.append(
            f"  orientation macro-F1 {o['macro_f1']:.3f}  accuracy {o['accuracy']:.3f}  Brier {o['brier']:.3f}  "
            f"predicted marketing {o['predicted_marketing']:.1%} (gold {o['gold_marketing']:.1%})"
        )
        lines.append(f"  insufficient signal on sales/marketing documents: {o['insufficient_signal']:.1%}")
        conf = o["confusion"]
        lines.append(
            "  confusion (rows gold, columns predicted): "
            + "; ".join(f"{g}: " + ", ".join(f"{p} {conf[g][p]}" for p in conf[g]) for g in conf)
        )
    if "by_title" in f:
        t = f["by_title"]
        lines.append(
            f"  by title ({t['n']} sales/marketing titles): macro-F1 {t['macro_f1']:.3f}, "
            f"insufficient signal {t['insufficient_signal']:.1%}"
        )
    if "neutral" in f:
        lines.append(f"  neutral documents ({f['neutral']['n']}): insufficient signal {f['neutral']['insufficient_signal']:.1%}")
    if "mixed" in f:
        lines.append(
            f"  mixed documents ({f['mixed']['n']}): " + ", ".join(f"{v} {n}" for v, n in f["mixed"]["verdicts"].items())
        )
    if f.get("single_character_evidence") is not None:
        lines.append(f"  single-character evidence terms: {f['single_character_evidence']:.1%}")
    for g, part in f.get("by_group", {}).items():
        lines.append(
            f"  {g}: n {part['n']}, macro-F1 {part['macro_f1']:.3f}, insufficient signal {part['insufficient_signal']:.1%}"
        )
    return "\n".join(lines)


def written_figures(clf: Any) -> dict[str, dict[str, Any]]:
    """The real-text figures of every written evaluation set that exists (their labels: sales, marketing, none)."""
    out = {}
    for name, file in config.EVAL_FILES.items():
        if (config.EVAL_DIR / file).exists():
            # By style (posting, plan, memo, self …) where a set records it.
            out[name] = figures(clf, read_documents(config.EVAL_DIR / file, group_field="style")[0])
    return out
