"""Score texts with a trained model: the verdict, the probability and the terms that moved it.

Scoring uses the model's linear export (vocabulary, IDF, weights) and needs no scikit-learn, so a
single text scores in a fresh process in about the time jieba takes to load its dictionary. The
fitted scikit-learn pipeline stays reachable through `Classifier.pipeline`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

from pipeline import config
from pipeline.errors import OrientError
from pipeline.model import LinearModel, load_linear, load_pipeline, read_metadata, sigmoid
from pipeline.readers import Failure
from pipeline.sections import sections
from pipeline.text import sentence_spans, terms_with_spans, tokenize

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


class Classifier:
    """A loaded model: `score(text)` for one text, `score_many(texts)` for a stream."""

    def __init__(self, linear: LinearModel, metadata: dict[str, Any], path: Path) -> None:
        self.linear = linear
        self.metadata = metadata
        self.path = path
        v = metadata["verdict"]
        self._threshold: float = v["threshold"]
        self._bands: list[float] = v["bands"]
        self._signal_weight: float = v["signal_weight"]
        self._min_signal: int = v["min_signal_terms"]
        self._gate: float = v.get("gate", 0.0)
        self._floor_reason = f"fewer than {self._min_signal} terms that carry orientation weight"
        self._gate_reason = f"the orientation gate finds too little orientation language (below {self._gate})"
        # per feature index: does this term count towards the signal floor
        self._strong = [abs(w) >= self._signal_weight for w in linear.weights]
        self._pipeline: Any = None

    @property
    def pipeline(self) -> Any:
        """The fitted scikit-learn Pipeline (loaded on first use, after its SHA-256 is checked)."""
        if self._pipeline is None:
            if "linear" in self.metadata.get("files", {}) and len(self.metadata["files"]) == 1:
                raise OrientError(f"Model {self.path.name} is a linear export alone: it has no scikit-learn pipeline.")
            self._pipeline = load_pipeline(self.path, self.metadata)
        return self._pipeline

    def abstention(self, signal_terms: int, orientation_signal: float = 1.0) -> str | None:
        """The check that makes the verdict `insufficient signal`, as a sentence; None when the text gets a verdict."""
        if signal_terms < self._min_signal:
            return self._floor_reason
        if orientation_signal < self._gate:
            return self._gate_reason
        return None

    def verdict(self, probability: float, signal_terms: int, orientation_signal: float = 1.0) -> str:
        """Map a marketing probability and the amount of signal to a verdict."""
        if self.abstention(signal_terms, orientation_signal):
            return INSUFFICIENT
        for bound, name in zip(self._bands, VERDICTS, strict=False):
            if probability < bound:
                return name
        return VERDICTS[-1]

    def _score(self, tokens: list[str], spans: list[tuple[int, int]] | None = None) -> tuple[float, int, Pulls]:
        """Probability, signal-term count and pulls for a token list (with character spans if given)."""
        model = self.linear
        counts = model.features(tokens)
        strong = self._strong
        signal = sum([c for i, c in counts.items() if strong[i]])
        where: dict[int, tuple[tuple[int, int], ...]] | None = None
        if spans is not None:
            kept = [i for i, t in enumerate(tokens) if t not in model.stop_words]
            where = {
                j: tuple((spans[kept[i]][0], spans[kept[i + n - 1]][1]) for i, n in places)
                for j, places in model.positions([tokens[i] for i in kept]).items()
            }
        pulls = model.pulls(counts)
        return sigmoid(pulls[0]), signal, Pulls(model, counts, pulls, where)

    def _label(self, p: float) -> str:
        return "marketing" if p >= self._threshold else "sales"

    def _gate_probability(self, tokens: list[str]) -> float:
        gate = self.linear.gate
        return gate.probability(tokens) if gate is not None else 1.0

    def score_tokens(self, tokens: list[str]) -> Result:
        """Score an already-tokenized text."""
        p, signal, pulls = self._score(tokens)
        g = self._gate_probability(tokens)
        return Result(self._label(p), p, self.verdict(p, signal, g), signal, pulls, (), g, self.abstention(signal, g))

    def explain(self, text: str) -> Result:
        """Score a text and each of its sentences, with every evidence term's spans in the original text."""
        terms = terms_with_spans(text)
        tokens = [t.term for t in terms]
        spans = [(t.start, t.end) for t in terms]
        p, signal, pulls = self._score(tokens, spans)
        sentences = []
        parts = sections(text)
        k = 0
        for start, end in sentence_spans(text):
            first = k
            while k < len(terms) and terms[k].start < end:
                k += 1
            sp, ss, se = self._score(tokens[first:k], spans[first:k])
            kind = next((p.kind for p in parts if p.start <= start < p.end), "body")
            sentences.append(SentenceScore(start, end, text[start:end], self._label(sp), sp, ss, se.evidence(), kind))
        g = self._gate_probability(tokens)
        return Result(
            self._label(p), p, self.verdict(p, signal, g), signal, pulls, tuple(sentences), g, self.abstention(signal, g)
        )

    def score(self, text: str) -> Result:
        """Score one text."""
        if not isinstance(text, str):
            raise TypeError(_not_text("score() takes one text as a str", text))
        return self.score_tokens(tokenize(text))

    def score_many(self, texts: Iterable[Any]) -> Iterator[Result | Failure]:
        """Score texts one after another, yielding each result as soon as it is ready.

        A missing text (None, or a NaN from a spreadsheet column) or one that is not a str yields a Failure
        naming its position (`text 3`), and the rest are still scored.
        """
        if isinstance(texts, str | bytes):
            raise TypeError("score_many() takes an iterable of texts, not one str or bytes; use score(text) for one text.")
        for n, text in enumerate(texts, start=1):
            if isinstance(text, str):
                yield self.score(text)
            elif text is None or (isinstance(text, float) and text != text):
                yield Failure(f"text {n}", "is missing (None or NaN); skipped")
            else:
                yield Failure(f"text {n}", f"is a {type(text).__name__}, not a str; skipped")

    def strongest_terms(self, limit: int = 20) -> dict[str, list[tuple[str, float]]]:
        """The published vocabulary: the terms with the largest weights on each side."""
        pairs = sorted(zip(self.linear.vocabulary, self.linear.weights, strict=True), key=lambda p: (p[1], p[0]))
        return {
            "sales": [(t, w) for t, w in pairs[:limit] if w < 0],
            "marketing": [(t, w) for t, w in reversed(pairs[-limit:]) if w > 0],
        }


def _not_text(what: str, value: Any) -> str:
    hint = " (decode bytes first, e.g. data.decode('utf-8'))" if isinstance(value, bytes | bytearray) else ""
    return f"{what}, not {type(value).__name__}{hint}."


def load(path: str | Path | None = None, *, trust: bool = False) -> Classifier:
    """Load a model (default: the shipped one), checking its files against their recorded SHA-256.

    With trust=True a model file without matching metadata is loaded as it is: only for files you vouch for.
    """
    model_path = Path(path) if path is not None else config.default_model_path()
    if trust:
        from pipeline.model import load_trusted

        linear, meta, pipe = load_trusted(model_path)
        clf = Classifier(linear, meta, model_path)
        clf._pipeline = pipe
        return clf
    meta = read_metadata(model_path)
    return Classifier(load_linear(model_path, meta), meta, model_path)
