"""The library API: pipeline.load(), score(), score_many(), the verdict scale and the evidence."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import MARKETING_TEXT, NO_SIGNAL_TEXT, SALES_TEXT

import pipeline
from pipeline import config, parallel
from pipeline.predict import Classifier
from pipeline.result import INSUFFICIENT, VERDICTS, Result

ROOT = Path(__file__).resolve().parent.parent
SCALE = (*VERDICTS, INSUFFICIENT)


def test_load_default_is_the_shipped_model(shipped: Any) -> None:
    assert isinstance(shipped, Classifier)
    assert shipped.path == config.default_model_path()
    assert shipped.path.name == "orientation.joblib"
    assert shipped.metadata == json.loads(shipped.path.with_suffix(".json").read_text(encoding="utf-8"))


def test_load_accepts_a_string_path(shipped: Any) -> None:
    clf = pipeline.load(str(shipped.path))
    assert clf.score(MARKETING_TEXT) == shipped.score(MARKETING_TEXT)


def test_sales_text_is_sales(shipped: Any) -> None:
    r = shipped.score(SALES_TEXT)
    assert isinstance(r, Result)
    assert r.label == "sales"
    assert r.marketing_probability < 0.5
    assert r.verdict not in ("balanced", "marketing-oriented", "strongly marketing-oriented")
    assert r.terms("sales")


def test_marketing_text_is_marketing(shipped: Any) -> None:
    r = shipped.score(MARKETING_TEXT)
    assert r.label == "marketing"
    assert r.marketing_probability > 0.5
    assert r.verdict not in ("balanced", "sales-oriented", "strongly sales-oriented")
    assert r.terms("marketing")


def test_marketing_text_scores_above_sales_text(shipped: Any) -> None:
    assert shipped.score(MARKETING_TEXT).marketing_probability > shipped.score(SALES_TEXT).marketing_probability


@pytest.mark.parametrize("text", [SALES_TEXT, MARKETING_TEXT, NO_SIGNAL_TEXT, "", "营销", "销售销售销售"])
def test_result_fields(shipped: Any, text: str) -> None:
    r = shipped.score(text)
    assert r.side in ("sales", "marketing")
    assert 0.0 <= r.marketing_probability <= 1.0
    assert r.verdict in SCALE
    threshold = shipped.metadata["verdict"]["threshold"]
    assert r.side == ("marketing" if r.marketing_probability >= threshold else "sales")
    # An abstaining verdict has no label and names its reason; any other verdict has a label and no reason.
    assert (r.label is None) == (r.verdict == "insufficient signal") == (r.reason is not None)
    assert r.label in (None, r.side)
    assert r.explanation
    for e in r.evidence:
        assert e.count >= 1
        assert e.contribution != 0
        assert e.side == ("marketing" if e.contribution > 0 else "sales")
    d = r.to_dict()
    assert set(d) == {"label", "marketing_probability", "verdict", "reason", "signal_terms", "orientation_signal", "evidence"}
    assert (d["label"], d["reason"]) == (r.label, r.reason)
    assert 0.0 <= d["orientation_signal"] <= 1.0
    assert set(d["evidence"]) == {"sales", "marketing"}
    assert all(e["contribution"] < 0 for e in d["evidence"]["sales"])
    assert all(e["contribution"] > 0 for e in d["evidence"]["marketing"])


def test_evidence_terms_are_terms_of_the_text(shipped: Any) -> None:
    r = shipped.score(MARKETING_TEXT)
    tokens = pipeline.text.tokenize(MARKETING_TEXT)
    grams = {" ".join(tokens[i : i + n]) for n in (1, 2, 3) for i in range(len(tokens) - n + 1)}
    assert r.evidence
    for e in r.evidence:
        assert e.term in shipped.linear.vocabulary
        assert e.term in grams  # a token, or adjacent tokens, of this text
        assert e.count == 1
    assert any(e.side == "marketing" for e in r.evidence)


def test_verdict_follows_probability_bands(shipped: Any) -> None:
    bands = shipped.metadata["verdict"]["bands"]
    enough = shipped.metadata["verdict"]["min_signal_terms"]
    probabilities = [0.0, *bands, 1.0, *(b - 1e-6 for b in bands)]
    verdicts = [shipped.verdict(p, enough) for p in sorted(probabilities)]
    # Monotone: going up in probability never goes back towards sales.
    order = [VERDICTS.index(v) for v in verdicts]
    assert order == sorted(order)
    assert verdicts[0] == VERDICTS[0] and verdicts[-1] == VERDICTS[-1]
    assert shipped.verdict(shipped.metadata["verdict"]["threshold"], enough) == "balanced"
    assert shipped.verdict(0.99, enough - 1) == INSUFFICIENT
    gate = shipped.metadata["verdict"]["gate"]
    if gate > 0:
        assert shipped.verdict(0.99, enough, gate - 0.01) == INSUFFICIENT
        assert shipped.verdict(0.99, enough, gate) != INSUFFICIENT


def test_text_without_known_terms_is_insufficient_signal(shipped: Any) -> None:
    r = shipped.score(NO_SIGNAL_TEXT)
    assert r.verdict == INSUFFICIENT
    v = shipped.metadata["verdict"]
    # Abstaining has two causes: too few weighted terms, or the gate finding no orientation language.
    assert r.signal_terms < v["min_signal_terms"] or r.orientation_signal < v["gate"]
    assert shipped.score("").verdict == INSUFFICIENT
    assert shipped.score("。。。123").verdict == INSUFFICIENT


def test_empty_text_scores_the_intercept(shipped: Any) -> None:
    import math

    r = shipped.score("")
    assert r.evidence == ()
    assert r.marketing_probability == pytest.approx(1 / (1 + math.exp(-shipped.linear.intercept)))


def test_score_many_streams_an_endless_input_a_chunk_at_a_time(shipped: Any) -> None:
    texts = itertools.cycle([SALES_TEXT, MARKETING_TEXT, NO_SIGNAL_TEXT])
    pulled = 0

    def generate() -> Iterator[str]:
        nonlocal pulled
        for t in texts:
            pulled += 1
            yield t

    results = shipped.score_many(generate())
    assert isinstance(results, Iterator)
    assert pulled == 0  # nothing read before the first result is asked for
    first = [next(results) for _ in range(3)]
    assert 3 <= pulled <= parallel.LOCAL_CHUNK_SIZE  # an endless input is read a chunk at a time, not to its end
    assert first == [shipped.score(t) for t in (SALES_TEXT, MARKETING_TEXT, NO_SIGNAL_TEXT)]
    assert list(shipped.score_many([])) == []


@pytest.mark.slow
def test_score_many_on_two_processes_gives_what_one_text_at_a_time_gives(shipped: Any) -> None:
    texts = [f"{t}第{i}条。" for i in range(600) for t in (SALES_TEXT, MARKETING_TEXT, NO_SIGNAL_TEXT)] + [None, "", 3]
    results = list(shipped.score_many(texts, jobs=2))
    assert results[:-3] == [shipped.score(t) for t in texts[:-3]]
    assert [r.to_dict() for r in results[:5]] == [shipped.score(t).to_dict() for t in texts[:5]]
    assert [(f.id, f.message) for f in results[-3:-2] + results[-1:]] == [
        ("text 1801", "is missing (None or NaN); skipped"),
        ("text 1803", "is a int, not a str; skipped"),
    ]
    assert results[-2] == shipped.score("")


def test_a_failing_chunk_scorer_is_said_and_the_texts_still_scored(shipped: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline import batch

    def broken(*args: Any) -> Any:
        raise MemoryError("no room")

    monkeypatch.setattr(batch, "score_results", broken)
    texts = [SALES_TEXT, MARKETING_TEXT] * 8
    with pytest.warns(parallel.FallbackWarning) as caught:
        results = list(shipped.score_many(texts))
    assert results == [shipped.score(t) for t in texts]
    assert [str(w.message) for w in caught] == [
        "the chunk scorer failed (MemoryError: no room) on the 16 documents from text 1; they were scored text by text"
    ]


def test_clf_pipeline_is_a_sklearn_pipeline(shipped: Any) -> None:
    from sklearn.pipeline import Pipeline

    assert isinstance(shipped.pipeline, Pipeline)
    assert set(shipped.pipeline.classes_) == {"sales", "marketing"}


def test_strongest_terms_are_signed_and_ordered(shipped: Any) -> None:
    strongest = shipped.strongest_terms(10)
    sales, marketing = strongest["sales"], strongest["marketing"]
    assert sales and marketing
    assert len(sales) <= 10 and len(marketing) <= 10
    assert all(w < 0 for _, w in sales) and all(w > 0 for _, w in marketing)
    assert [w for _, w in sales] == sorted(w for _, w in sales)
    assert [w for _, w in marketing] == sorted((w for _, w in marketing), reverse=True)
    # The strongest terms, scored alone, fall on their own side.
    assert shipped.score(sales[0][0]).marketing_probability < shipped.score(marketing[0][0]).marketing_probability


@pytest.mark.parametrize(
    "name, label",
    [
        ("sales_posting.txt", "sales"),
        ("sales_plan.txt", "sales"),
        ("marketing_posting.txt", "marketing"),
        ("marketing_plan.txt", "marketing"),
    ],
)
def test_clear_examples_get_their_intended_label(shipped: Any, name: str, label: str) -> None:
    r = shipped.score((ROOT / "examples" / name).read_text(encoding="utf-8"))
    assert r.label == label
    assert r.verdict != INSUFFICIENT


@pytest.mark.parametrize(
    "text", [SALES_TEXT, MARKETING_TEXT, "负责ＣＲＭ系统，拿到定単。\n市场部做用戶调研和品牌定位；销售部冲刺业绩。"]
)
def test_explain_agrees_with_score_and_its_spans_point_at_the_terms(shipped: Any, text: str) -> None:
    from pipeline.text import tokenize

    explained = shipped.explain(text)
    scored = shipped.score(text)
    assert explained.label == scored.label
    assert explained.verdict == scored.verdict
    assert explained.marketing_probability == pytest.approx(scored.marketing_probability, abs=1e-12)
    assert {e.term for e in explained.evidence} == {e.term for e in scored.evidence}
    for e in explained.evidence:
        assert len(e.spans) == e.count
        for start, end in e.spans:
            kept = [t for t in tokenize(text[start:end]) if t not in shipped.linear.stop_words]
            assert " ".join(kept) == e.term
    for sentence in explained.sentences:
        assert text[sentence.start : sentence.end] == sentence.text


def test_a_result_survives_pickling_and_copying(shipped: Any) -> None:
    import copy
    import pickle

    result = shipped.score(MARKETING_TEXT)
    for again in (pickle.loads(pickle.dumps(result)), copy.deepcopy(result)):
        assert again.to_dict() == result.to_dict()
        assert again.terms("marketing", 3) == result.terms("marketing", 3)


@pytest.mark.parametrize("jobs", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_score_many_scores_what_a_failing_input_gave_then_raises_its_error(shipped: Any, jobs: int) -> None:
    def texts() -> Iterator[str]:
        yield from [SALES_TEXT, MARKETING_TEXT] * 30
        raise ValueError("the source broke")

    got: list[Any] = []
    with pytest.raises(ValueError, match="the source broke"):
        got.extend(shipped.score_many(texts(), jobs=jobs))
    assert got == [shipped.score(t) for t in [SALES_TEXT, MARKETING_TEXT] * 30]


@pytest.mark.slow
def test_a_fallback_in_a_worker_process_is_said_to_the_caller(shipped: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline import batch

    def broken(*args: Any) -> Any:
        raise MemoryError("no room")

    monkeypatch.setattr(batch, "score_results", broken)  # forked workers inherit the patch
    texts = [f"{t}第{i}条。" for i in range(400) for t in (SALES_TEXT, MARKETING_TEXT)]
    with pytest.warns(parallel.FallbackWarning) as caught:
        results = list(shipped.score_many(texts, jobs=2))
    assert results == [shipped.score(t) for t in texts]
    chunks = [
        re.fullmatch(
            r"the chunk scorer failed \(MemoryError: no room\) on the (\d+) documents from text (\d+); "
            r"they were scored text by text",
            str(w.message),
        )
        for w in caught
    ]
    assert all(chunks) and sum(int(m[1]) for m in chunks if m) == len(texts)  # every chunk said, the workers' too


def test_a_chunk_scorer_that_cannot_be_built_is_said_and_every_text_scored(shipped: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline import batch

    def broken(*args: Any) -> Any:
        raise MemoryError("no room for the tables")

    monkeypatch.setattr(batch, "usable", broken)
    texts = [SALES_TEXT, MARKETING_TEXT] * 8
    with pytest.warns(parallel.FallbackWarning, match=re.escape("the chunk scorer could not be built (MemoryError: no room")):
        assert list(shipped.score_many(texts)) == [shipped.score(t) for t in texts]
