"""What a person sees of a verdict: sentences with their own orientation, highlighted terms, hints.

Everything here works on `Classifier.explain` results, whose spans point into the original text, so
the terminal view and the HTML report (pipeline/report.py) highlight exactly the characters the
reader wrote, whatever normalisation did to them on the way to the model.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import click

from pipeline import config
from pipeline.predict import Classifier
from pipeline.result import Evidence, Result, SentenceScore
from pipeline.text import normalise

HINTS_FILE = config.DATA_DIR / "hints.tsv"
SIDES = ("sales", "marketing")
NO_SIGNAL = "no signal"
# Terminal colours: orange-ish and blue-ish, told apart by people with red-green colour blindness.
_COLOURS = {"sales": "yellow", "marketing": "cyan", "balanced": "white"}


@dataclass(frozen=True)
class Mark:
    """A highlighted run of the original text [start, end): one or more strong terms, and the side they pull to."""

    start: int
    end: int
    side: str
    terms: tuple[tuple[str, float], ...]  # (term, model weight), in order of appearance


@dataclass(frozen=True)
class Hint:
    """A customer-centred rewriting hint for one product-centred concept."""

    concept: str
    triggers: tuple[str, ...]
    zh: str
    en: str


@dataclass(frozen=True)
class SentenceView:
    """A sentence of an explained document, with its orientation and the marks inside it."""

    score: SentenceScore
    orientation: str  # "sales", "marketing", "balanced" or NO_SIGNAL
    marks: tuple[Mark, ...]


@dataclass(frozen=True)
class TermRow:
    """One evidence term of a document: its count, its model weight and its pull on this document."""

    term: str
    count: int
    weight: float
    contribution: float


@dataclass(frozen=True)
class Explained:
    """Everything shown for one document, in the terminal or in the report."""

    id: str
    text: str
    result: Result
    sentences: tuple[SentenceView, ...]
    top: dict[str, tuple[TermRow, ...]]
    hints: tuple[tuple[int, tuple[Hint, ...]], ...]  # (index into sentences, hints for it)

    @property
    def marks(self) -> list[Mark]:
        """Every highlighted run of the document, in order."""
        return [m for s in self.sentences for m in s.marks]


SECTION_TITLES = {
    "body": "text",
    "intro": "company introduction (left out of scoring)",
    "duties": "duties",
    "requirements": "requirements",
    "benefits": "pay and benefits (left out of scoring)",
}


def section_title(kind: str) -> str:
    """How a posting section is named to a reader, saying when scoring leaves it out."""
    return SECTION_TITLES.get(kind, kind)


def weight_of(clf: Classifier, term: str) -> float:
    """The model's weight for a term (positive towards marketing); 0.0 for a term it does not know."""
    index = clf.linear.vocabulary.get(term)
    return 0.0 if index is None else float(clf.linear.weights[index])


def signal_weight(clf: Classifier) -> float:
    """The smallest absolute weight that makes a term count as signal (and be highlighted)."""
    return float(clf.metadata["verdict"]["signal_weight"])


def sentence_orientation(clf: Classifier, sentence: SentenceScore) -> str:
    """A sentence's own orientation: the verdict bands' middle band is balanced; no strong term, no signal."""
    if sentence.signal_terms == 0:
        return NO_SIGNAL
    bands = clf.metadata["verdict"]["bands"]
    # The outer bands (strongly …) are too fine a distinction for a single sentence; use the middle band only.
    low, high = bands[len(bands) // 2 - 1], bands[len(bands) // 2]
    p = sentence.marketing_probability
    return "sales" if p < low else "marketing" if p >= high else "balanced"


def marks_for(clf: Classifier, evidence: Sequence[Evidence]) -> list[Mark]:
    """Merge the spans of strong terms into highlighted runs; overlapping spans (bigrams) become one run."""
    threshold = signal_weight(clf)
    spots: list[tuple[int, int, str, float]] = []
    for e in evidence:
        w = weight_of(clf, e.term)
        if abs(w) >= threshold:
            spots.extend((start, end, e.term, w) for start, end in e.spans)
    spots.sort()
    out: list[Mark] = []
    group: list[tuple[int, int, str, float]] = []
    for spot in spots:
        if group and spot[0] >= max(g[1] for g in group):
            out.append(_mark(group))
            group = []
        group.append(spot)
    if group:
        out.append(_mark(group))
    return out


def _mark(group: list[tuple[int, int, str, float]]) -> Mark:
    terms: dict[str, float] = {}
    for _, _, term, w in group:
        terms.setdefault(term, w)
    # A run's side is the sign of its terms' summed weights: a bigram can outweigh or confirm its words.
    side = "marketing" if sum(w for _, _, _, w in group) > 0 else "sales"
    return Mark(group[0][0], max(g[1] for g in group), side, tuple(terms.items()))


@lru_cache(maxsize=4)
def load_hints(path: Path = HINTS_FILE) -> tuple[Hint, ...]:
    """Read the curated hints table shipped in the package."""
    hints = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or line.startswith("concept\t"):
            continue
        concept, triggers, zh, en = line.split("\t")
        hints.append(Hint(concept, tuple(t for t in triggers.split() if t != "-"), zh, en))
    return tuple(hints)


def hints_for(text: str, hints: Sequence[Hint] | None = None) -> list[Hint]:
    """The hints whose triggers occur in a text (matched on normalised, lower-cased text)."""
    hints = load_hints() if hints is None else hints
    norm = normalise(text).lower()
    return [h for h in hints if any(t in norm for t in h.triggers)]


def choose_hints(sentences: Sequence[SentenceView], limit: int = 3, per_sentence: int = 2) -> list[tuple[int, tuple[Hint, ...]]]:
    """Hints for the most sales-leaning sentences; each concept is offered once per document."""
    table = load_hints()
    general = [h for h in table if not h.triggers]
    order = sorted(
        (i for i, s in enumerate(sentences) if s.orientation == "sales"),
        key=lambda i: (sentences[i].score.marketing_probability, i),
    )
    used: set[str] = set()
    chosen: list[tuple[int, tuple[Hint, ...]]] = []
    for i in order:
        if len(chosen) >= limit:
            break
        matched = hints_for(sentences[i].score.text, table)
        fresh = [h for h in (matched or general) if h.concept not in used][:per_sentence]
        if fresh:
            used.update(h.concept for h in fresh)
            chosen.append((i, tuple(fresh)))
    chosen.sort()
    return chosen


def explain_document(clf: Classifier, doc_id: str, text: str, top: int = 8, hints: int = 3) -> Explained:
    """Explain one document: per-sentence orientation and marks, top terms per side, rewriting hints."""
    result = clf.explain(text)
    views = tuple(SentenceView(s, sentence_orientation(clf, s), tuple(marks_for(clf, s.evidence))) for s in result.sentences)
    rows = {
        side: tuple(TermRow(e.term, e.count, weight_of(clf, e.term), e.contribution) for e in result.terms(side, top))
        for side in SIDES
    }
    return Explained(doc_id, text, result, views, rows, tuple(choose_hints(views, hints)) if hints else ())


def stated_limits(metadata: dict[str, Any]) -> list[str]:
    """The tool's limits in plain sentences, with the model card's own figures."""
    counts = metadata.get("label_counts", {})
    cv = metadata.get("cv", {})
    verdict = metadata.get("verdict", {})
    n = sum(counts.values()) if counts else "a few hundred"
    limits = [
        f"The model learned from {n} labelled texts: passages of Chinese articles that contrast selling (推销/销售) with "
        "marketing (营销), and documents written for the project in the register of real postings, plans and memos. "
        "Its figures on real job postings are in the project's reports/evaluation.md; read a verdict as a prompt to look "
        "at the evidence, not as a judgement.",
        "A posting's company introduction, benefits and headings are left out of its score.",
    ]
    if "accuracy" in cv:
        limits.append(
            f"On passages from essays it had not seen, it was right {cv['accuracy']:.0%} of the time "
            f"(macro-F1 {cv.get('macro_f1', 0):.2f})."
        )
    limits += [
        "It counts words and word pairs; it does not understand negation, irony or who is speaking "
        "(\u201c不是为了完成指标\u201d still counts 指标).",
        "A single sentence has few terms, so sentence scores are rougher than the document's score.",
        f"With fewer than {verdict.get('min_signal_terms', 2)} strong terms the verdict is \u201cinsufficient signal\u201d: "
        "the probability is then close to the model's prior, not a finding.",
        "It is built for Chinese; English words count only where the training texts used them.",
    ]
    return limits


# --- terminal ---------------------------------------------------------------------------------------


def _tag(view: SentenceView) -> str:
    s = view.score
    if view.orientation == NO_SIGNAL:
        return "  —       "
    short = {"sales": "sales", "marketing": "mkt", "balanced": "bal"}[view.orientation]
    return f"{short:>5} {s.marketing_probability:.2f}"


def _styled_sentence(view: SentenceView, color: bool) -> str:
    s = view.score
    pieces = []
    at = s.start
    for m in view.marks:
        pieces.append(s.text[at - s.start : m.start - s.start])
        term = s.text[m.start - s.start : m.end - s.start]
        if color:
            pieces.append(click.style(term, fg="black", bg=_COLOURS[m.side], bold=True))
        else:
            # Without colour the side must still be visible: [-…] pulls to sales, [+…] to marketing.
            pieces.append(f"[{'-' if m.side == 'sales' else '+'}{term}]")
        at = m.end
    pieces.append(s.text[at - s.start :])
    return "".join(pieces)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _term_table(rows: Sequence[TermRow]) -> list[str]:
    if not rows:
        return ["    (none)"]
    width = max(_width(r.term) for r in rows)
    return [
        f"    {r.term}{' ' * (width - _width(r.term))}  ×{r.count:<3} weight {r.weight:+.2f}  pull {r.contribution:+.3f}"
        for r in rows
    ]


def render_terminal(ex: Explained, color: bool) -> str:
    """The explanation as terminal text; with color=False, highlights are marked [-sales] and [+marketing]."""

    def paint(text: str, side: str, **kw: Any) -> str:
        return click.style(text, fg=_COLOURS.get(side), **kw) if color else text

    r = ex.result
    lines = [paint(ex.id, "", bold=True)]
    legend_sales = click.style(" sales ", fg="black", bg=_COLOURS["sales"]) if color else "[-sales]"
    legend_mkt = click.style(" marketing ", fg="black", bg=_COLOURS["marketing"]) if color else "[+marketing]"
    lines.append(f"terms: {legend_sales} {legend_mkt}   each sentence: its own orientation and P(marketing)")
    lines.append("")
    shown = "body"
    for n, view in enumerate(ex.sentences, start=1):
        if view.score.section != shown:
            shown = view.score.section
            lines.append(f"    ── {section_title(shown)} ──")
        tag = _tag(view)
        lines.append(f"{n:>3} {paint(tag, view.orientation)}  {_styled_sentence(view, color)}")
    lines.append("")
    verdict_side = "sales" if "sales" in r.verdict else "marketing" if "marketing" in r.verdict else ""
    lines.append(
        f"verdict: {paint(r.verdict, verdict_side, bold=True)}   P(marketing) {r.marketing_probability:.2f}   "
        f"signal terms {r.signal_terms}"
    )
    lines.append(f"  {r.explanation}")
    if r.reason:
        lines.append(f"  Why: {r.reason}.")
    for side in SIDES:
        lines.append("")
        lines.append(paint(f"top {side} terms", side, bold=True) + "  (count, model weight, pull on this document)")
        lines.extend(_term_table(ex.top[side]))
    if ex.hints:
        lines.append("")
        lines.append(paint("rewriting hints for the most sales-leaning sentences", "sales", bold=True))
        for i, hints in ex.hints:
            view = ex.sentences[i]
            lines.append(f"  sentence {i + 1} (P(marketing) {view.score.marketing_probability:.2f}): {view.score.text}")
            for h in hints:
                lines.append(f"    → {h.zh}")
                lines.append(f"      {h.en}")
    return "\n".join(lines)
