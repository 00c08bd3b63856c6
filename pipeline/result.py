"""What scoring a text gives: the verdict rules, the evidence, and the result with its one record shape.

The single-text path (pipeline.predict) and the chunk path (pipeline.batch) both build their results and records
here, so that a record has one shape and one rounding whichever path scored it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple, Protocol

from pipeline.model import LinearModel

VERDICTS = (
    "strongly sales-oriented",
    "sales-oriented",
    "balanced",
    "marketing-oriented",
    "strongly marketing-oriented",
)
INSUFFICIENT = "insufficient signal"
EXPLANATIONS = {
    VERDICTS[0]: "The language is product-centred throughout: selling what exists and hitting this period's number.",
    VERDICTS[1]: "The language leans product-centred: more about selling and targets than about customers' needs.",
    VERDICTS[2]: "The language mixes both orientations, or leans only slightly either way.",
    VERDICTS[3]: "The language leans customer-centred: more about customers' needs, research and positioning than about selling.",
    VERDICTS[4]: "The language is customer-centred throughout: it starts from customers' needs, the market and the long term.",
    INSUFFICIENT: "Too few terms the model knows to give a verdict; the probability is close to the model's prior.",
}


class Evidence(NamedTuple):  # a named tuple: an explained text builds hundreds, far cheaper than dataclasses
    """One term's pull on the score: positive towards marketing, negative towards sales."""

    term: str
    count: int  # type: ignore[assignment]  # the public field name shadows tuple.count, which nothing here uses
    contribution: float
    spans: tuple[tuple[int, int], ...] = ()  # where it occurs in the original text (explain only)

    @property
    def side(self) -> str:
        """Which orientation this term pushes towards."""
        return "marketing" if self.contribution > 0 else "sales"


@dataclass(frozen=True)
class SentenceScore:
    """One sentence of an explained text: its span in the original text, its own score and evidence."""

    start: int
    end: int
    text: str
    label: str
    marketing_probability: float
    signal_terms: int
    evidence: tuple[Evidence, ...]
    section: str = "body"  # the posting section it sits in (pipeline.sections): body, intro, duties, requirements, benefits

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record of the sentence."""
        return {
            "span": [self.start, self.end],
            "section": self.section,
            "text": self.text,
            "label": self.label if self.signal_terms else None,
            "marketing_probability": round(self.marketing_probability, 4),
            "signal_terms": self.signal_terms,
            "terms": [term_record(*e) for e in sorted(self.evidence, key=lambda e: e.spans[:1])],
        }


def term_record(term: str, count: int, contribution: float, spans: tuple[tuple[int, int], ...] | None) -> dict[str, Any]:
    """One evidence term as it appears in a record."""
    d: dict[str, Any] = {"term": term, "count": count, "contribution": round(contribution, 4)}
    if spans:
        d["spans"] = [list(sp) for sp in spans]
    return d


def score_record(
    side: str,
    probability: float,
    verdict: str,
    reason: str | None,
    signal_terms: int,
    orientation_signal: float,
    sales: list[dict[str, Any]],
    marketing: list[dict[str, Any]],
) -> dict[str, Any]:
    """A scored text as a JSON-ready record: the one shape of `Result.to_dict` and of pipeline.batch.

    An abstaining verdict has no label (None), so that counting records by label never counts a text
    orient declined to judge; `reason` then names the check that decided.
    """
    return {
        "label": None if reason else side,
        "marketing_probability": round(probability, 4),
        "verdict": verdict,
        "reason": reason,
        "signal_terms": signal_terms,
        "orientation_signal": round(orientation_signal, 4),
        "evidence": {"sales": sales, "marketing": marketing},
    }


class Pulls:
    """The in-vocabulary features of one scored text, made into Evidence only when asked for.

    A batch record shows the ten strongest terms a side out of a hundred or so: building every Evidence
    for every document would cost more than scoring it.
    """

    __slots__ = ("_counts", "_model", "_norm", "_products", "_rows", "_spans")

    def __init__(
        self,
        model: LinearModel,
        counts: Counter[int],
        pulls: tuple[float, list[int], list[float], float],
        spans: dict[int, tuple[tuple[int, int], ...]] | None = None,
    ) -> None:
        self._model = model
        self._counts = counts
        _, self._rows, self._products, self._norm = pulls  # features in term order, TF-IDF times weight, norm
        self._spans = spans or {}

    def detach(self) -> None:
        """Let go of the model (before a worker sends its results back: the receiver has the model, see bind)."""
        self._model = None  # type: ignore[assignment]

    def bind(self, model: LinearModel) -> None:
        """Give pulls that were detached the model they were scored with."""
        if self._model is None:
            self._model = model

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Pulls):
            return NotImplemented
        return (self._model, self._counts, self._spans) == (other._model, other._counts, other._spans)

    def __hash__(self) -> int:
        return hash(tuple(self._counts.items()))

    def evidence(self) -> tuple[Evidence, ...]:
        """Every term with a pull, in term order."""
        terms, counts, norm, spans = self._model.terms, self._counts, self._norm, self._spans
        return tuple(
            [
                Evidence(terms[i], counts[i], p / norm, spans.get(i, ()))
                for i, p in zip(self._rows, self._products, strict=True)
                if p != 0.0
            ]
        )

    def top(self, side: str, limit: int) -> list[tuple[int, float]]:
        """(feature index, share) of the `limit` terms pulling hardest towards one side; equal pulls by term."""
        rows, products, norm = self._rows, self._products, self._norm
        # A sort of positions with a C-level key; the rows are in term order, and the sort (reverse=True too)
        # keeps equal pulls in it. pipeline.batch orders the same way.
        order = sorted(range(len(rows)), key=products.__getitem__, reverse=side == "marketing")[:limit]
        if side == "marketing":
            return [(rows[k], products[k] / norm) for k in order if products[k] > 0]
        return [(rows[k], products[k] / norm) for k in order if products[k] < 0]

    def strongest(self, side: str, limit: int) -> list[Evidence]:
        """The `limit` terms pulling hardest towards one side, as Evidence."""
        terms, counts, spans = self._model.terms, self._counts, self._spans
        return [Evidence(terms[i], counts[i], share, spans.get(i, ())) for i, share in self.top(side, limit)]

    def records(self, side: str, limit: int) -> list[dict[str, Any]]:
        """The `limit` terms pulling hardest towards one side, as JSON-ready records (no Evidence built)."""
        terms, counts = self._model.terms, self._counts
        return [term_record(terms[i], counts[i], share, self._spans.get(i)) for i, share in self.top(side, limit)]


@dataclass(frozen=True)
class Result:
    """The score of one text."""

    side: str  # the side of the decision threshold P(marketing) falls on, even when the verdict abstains
    marketing_probability: float
    verdict: str
    signal_terms: int
    pulls: Pulls = field(repr=False)
    sentences: tuple[SentenceScore, ...] = field(default=())
    orientation_signal: float = 1.0  # the gate's P(the text speaks of orientation at all)
    reason: str | None = None  # why the verdict is `insufficient signal`: the check that decided

    @property
    def label(self) -> str | None:
        """`sales` or `marketing`; None when the verdict is `insufficient signal`."""
        return None if self.reason else self.side

    @cached_property
    def evidence(self) -> tuple[Evidence, ...]:
        """Every term that moved the score: positive contributions towards marketing, negative towards sales."""
        return self.pulls.evidence()

    @property
    def explanation(self) -> str:
        """The fixed sentence that explains the verdict."""
        return EXPLANATIONS[self.verdict]

    def terms(self, side: str, limit: int = 10) -> list[Evidence]:
        """The strongest evidence terms pushing towards one side."""
        return self.pulls.strongest(side, limit)

    def to_dict(self, limit: int = 10) -> dict[str, Any]:
        """A JSON-ready record (Chinese stays Chinese when dumped with ensure_ascii=False)."""
        record = score_record(
            self.side,
            self.marketing_probability,
            self.verdict,
            self.reason,
            self.signal_terms,
            self.orientation_signal,
            self.pulls.records("sales", limit),
            self.pulls.records("marketing", limit),
        )
        if self.sentences:
            record["sentences"] = [s.to_dict() for s in self.sentences]
        return record


@dataclass(frozen=True)
class Rules:
    """A model's verdict settings (its metadata's "verdict"): from a probability and the signal to a verdict."""

    threshold: float  # P(marketing) at or above which a text is on the marketing side
    bands: tuple[float, ...]  # upper bounds of the verdicts below the last, in VERDICTS order
    signal_weight: float  # a term carries orientation weight when |weight| is at least this
    min_signal_terms: int  # fewer such terms (counted with repeats): insufficient signal
    gate: float = 0.0  # the orientation gate's P below which: insufficient signal

    @classmethod
    def from_settings(cls, v: dict[str, Any]) -> Rules:
        """The rules from a model metadata's "verdict" settings."""
        return cls(v["threshold"], tuple(v["bands"]), v["signal_weight"], v["min_signal_terms"], v.get("gate", 0.0))

    @cached_property
    def _reasons(self) -> tuple[str, str]:
        return (
            f"fewer than {self.min_signal_terms} terms that carry orientation weight",
            f"the orientation gate finds too little orientation language (below {self.gate})",
        )

    def side(self, probability: float) -> str:
        """The side of the threshold a probability falls on."""
        return "marketing" if probability >= self.threshold else "sales"

    def abstention(self, signal_terms: int, orientation_signal: float = 1.0) -> str | None:
        """The check that makes the verdict `insufficient signal`, as a sentence; None when the text gets a verdict."""
        if signal_terms < self.min_signal_terms:
            return self._reasons[0]
        if orientation_signal < self.gate:
            return self._reasons[1]
        return None

    def verdict(self, probability: float, signal_terms: int, orientation_signal: float = 1.0) -> str:
        """Map a marketing probability and the amount of signal to a verdict."""
        if self.abstention(signal_terms, orientation_signal):
            return INSUFFICIENT
        for bound, name in zip(self.bands, VERDICTS, strict=False):
            if probability < bound:
                return name
        return VERDICTS[-1]


class Scorer(Protocol):
    """What batch and parallel scoring need of a loaded model (pipeline.predict.Classifier is one)."""

    linear: LinearModel
    rules: Rules

    def score(self, text: str) -> Result:
        """Score one text."""
        ...

    def explain(self, text: str) -> Result:
        """Score one text and each of its sentences."""
        ...
