"""Score texts with a trained model: the verdict, the probability and the terms that moved it.

Scoring uses the model's linear export (vocabulary, IDF, weights) and needs no scikit-learn, so a
single text scores in a fresh process in about the time jieba takes to load its dictionary. The
fitted scikit-learn pipeline stays reachable through `Classifier.pipeline`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pipeline import config
from pipeline.errors import OrientError
from pipeline.model import LinearModel, load_linear, load_pipeline, read_metadata, sigmoid
from pipeline.readers import Failure
from pipeline.result import Pulls, Result, Rules, SentenceScore
from pipeline.sections import sections
from pipeline.text import sentence_spans, terms_with_spans, tokenize


class Classifier:
    """A loaded model: `score(text)` for one text, `score_many(texts)` for a stream."""

    def __init__(self, linear: LinearModel, metadata: dict[str, Any], path: Path) -> None:
        self.linear = linear
        self.metadata = metadata
        self.path = path
        self.rules = Rules.from_settings(metadata["verdict"])
        # per feature index: does this term count towards the signal floor
        self._strong = [abs(w) >= self.rules.signal_weight for w in linear.weights]
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
        return self.rules.abstention(signal_terms, orientation_signal)

    def verdict(self, probability: float, signal_terms: int, orientation_signal: float = 1.0) -> str:
        """Map a marketing probability and the amount of signal to a verdict."""
        return self.rules.verdict(probability, signal_terms, orientation_signal)

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

    def _gate_probability(self, tokens: list[str]) -> float:
        gate = self.linear.gate
        return gate.probability(tokens) if gate is not None else 1.0

    def score_tokens(self, tokens: list[str]) -> Result:
        """Score an already-tokenized text."""
        p, signal, pulls = self._score(tokens)
        g = self._gate_probability(tokens)
        return Result(self.rules.side(p), p, self.verdict(p, signal, g), signal, pulls, (), g, self.abstention(signal, g))

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
            sentences.append(SentenceScore(start, end, text[start:end], self.rules.side(sp), sp, ss, se.evidence(), kind))
        g = self._gate_probability(tokens)
        return Result(
            self.rules.side(p), p, self.verdict(p, signal, g), signal, pulls, tuple(sentences), g, self.abstention(signal, g)
        )

    def score(self, text: str) -> Result:
        """Score one text."""
        if not isinstance(text, str):
            raise TypeError(_not_text("score() takes one text as a str", text))
        return self.score_tokens(tokenize(text))

    def score_many(self, texts: Iterable[Any], *, jobs: int = 1) -> Iterator[Result | Failure]:
        """Score texts in order on `jobs` processes, yielding each result when its chunk is done.

        This is `orient score`'s path: chunks of texts are scored together with numpy (pipeline.batch), with the
        same results as `score` gives one text at a time. A missing text (None, or a NaN from a spreadsheet
        column) or one that is not a str yields a Failure naming its position (`text 3`), and the rest are
        still scored.
        """
        from pipeline import parallel
        from pipeline.readers import Document

        if isinstance(texts, str | bytes):
            raise TypeError("score_many() takes an iterable of texts, not one str or bytes; use score(text) for one text.")

        raised: list[BaseException] = []

        def items() -> Iterator[Document | Failure]:
            try:
                for n, text in enumerate(texts, start=1):
                    if isinstance(text, str):
                        yield Document(f"text {n}", text)
                    elif text is None or (isinstance(text, float) and text != text):
                        yield Failure(f"text {n}", "is missing (None or NaN); skipped")
                    else:
                        yield Failure(f"text {n}", f"is a {type(text).__name__}, not a str; skipped")
            except Exception as exc:  # the input failed: what it gave before is still scored, then its error is raised
                raised.append(exc)

        for _, outcome in parallel.score_stream(items(), self, jobs=jobs, method="result"):
            if isinstance(outcome, Result):
                outcome.pulls.bind(self.linear)
            yield outcome  # type: ignore[misc]  # method="result" gives Results and Failures only
        if raised:
            raise raised[0]

    def __getstate__(self) -> dict[str, Any]:
        # Workers score with the linear model; a loaded scikit-learn pipeline stays here, unless it cannot be
        # loaded again from checked files (a trusted one, loaded without metadata).
        if self.metadata.get("trusted_without_metadata"):
            return self.__dict__
        return {**self.__dict__, "_pipeline": None}

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
