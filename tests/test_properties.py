"""Property tests: any Unicode string gives a result (or the project's own error), probabilities in [0, 1], same in, same out."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pipeline
from pipeline.errors import OrientError
from pipeline.text import normalise_with_map, terms_with_spans, tokenize
from pipeline.traditional import to_simplified

# Any code point, surrogates included; plus text built from Chinese, traditional and awkward characters.
ANY_TEXT = st.text(st.characters(codec=None), max_size=200)
CJKISH = st.text(st.sampled_from("负責市場调研销售營銷客户需求品牌定位完成指标。，！\u202e\u200f\x00\x07 \n\t😀ｶﾞ①"), max_size=80)
TEXTS = st.one_of(ANY_TEXT, CJKISH)
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_clf: pipeline.Classifier | None = None


def _model() -> pipeline.Classifier:
    global _clf
    if _clf is None:
        _clf = pipeline.load()
    return _clf


@SETTINGS
@given(TEXTS)
def test_score_returns_a_result_or_the_documented_error(text: str) -> None:
    try:
        result = _model().score(text)
    except OrientError:
        return
    assert 0.0 <= result.marketing_probability <= 1.0
    assert result.side in ("sales", "marketing")
    assert result.label == (None if result.verdict == "insufficient signal" else result.side)
    assert result.signal_terms >= 0
    assert result == _model().score(text)  # same input, same output
    record = result.to_dict()
    assert 0.0 <= record["marketing_probability"] <= 1.0


@SETTINGS
@given(TEXTS)
def test_tokenizer_is_total_and_deterministic(text: str) -> None:
    try:
        tokens = tokenize(text)
    except OrientError:
        return
    assert isinstance(tokens, list) and all(isinstance(t, str) and t for t in tokens)
    assert tokens == tokenize(text)


@SETTINGS
@given(TEXTS)
def test_spans_always_point_into_the_original(text: str) -> None:
    norm, starts, ends = normalise_with_map(text)
    assert len(norm) == len(starts) == len(ends)
    for term in terms_with_spans(text):
        assert 0 <= term.start < term.end <= len(text)


@SETTINGS
@given(TEXTS)
def test_traditional_conversion_keeps_length(text: str) -> None:
    assert len(to_simplified(text)) == len(text)
    assert to_simplified(to_simplified(text)) == to_simplified(text)


@pytest.mark.parametrize("text", ["", " ", "\x00", "\ud800", "\U0010ffff" * 3, "&mdash;" * 5, "ｶﾞ"])
def test_edge_strings(text: str) -> None:
    result = _model().score(text)
    assert 0.0 <= result.marketing_probability <= 1.0


POSTING_PARTS = st.lists(
    st.sampled_from(
        [
            "公司简介：",
            "岗位职责：",
            "任职要求：",
            "【福利】",
            "工作地点：",
            "负责",
            "1、",
            "\n",
            "。",
            "销售",
            "调研",
            "五险一金",
            "Benefits:",
            " ",
        ]
    ),
    max_size=30,
).map("".join)


@SETTINGS
@given(st.one_of(ANY_TEXT, POSTING_PARTS))
def test_scored_text_only_blanks_characters(text: str) -> None:
    from pipeline.sections import scored_text, sections

    blanked = scored_text(text)
    assert len(blanked) == len(text)
    assert all(b == c or (b == " " and c != "\n") for b, c in zip(blanked, text, strict=True))
    parts = sections(text)
    assert not parts or parts[0].start == 0
    assert all(a.end == b.start for a, b in itertools.pairwise(parts))
    assert (parts[-1].end if parts else 0) == len(text)
