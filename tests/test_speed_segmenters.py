"""The accelerated segmenter and the fast normaliser change nothing: tokens, spans and predictions stay jieba's."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import segmenters, text
from pipeline.errors import OrientError
from pipeline.sections import scored_text

ROOT = Path(__file__).resolve().parent.parent


def _corpus_texts() -> list[str]:
    """Every text the project has: passages (original and normalised) and all evaluation sets."""
    texts: list[str] = []
    for line in (ROOT / "corpus" / "passages.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        texts += [rec["original"], rec["text"]]
    for path in sorted((ROOT / "corpus" / "eval").glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return texts


CORPUS = _corpus_texts()


@pytest.fixture(scope="module")
def reference() -> Any:
    """jieba with the project's settings, built directly: the reference every other path must equal."""
    return segmenters.JiebaSegmenter(text.user_words(), text.config.cache_dir())


@pytest.fixture(scope="module")
def fast() -> Any:
    """rjieba with the project's user dictionary (the test is skipped where the fast extra is not installed)."""
    pytest.importorskip("rjieba")
    return segmenters.RjiebaSegmenter(text.user_words())


@pytest.fixture
def use(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make pipeline.text use a given segmenter for the rest of one test."""

    def _use(seg: Any) -> None:
        monkeypatch.setattr(text, "_segmenter_instance", seg)

    return _use


def _reference_terms(ref: Any, raw: str) -> list[str]:
    terms = (text.term(w) for w in ref.cut(text.normalise(scored_text(raw))))
    return [t for t in terms if t is not None]


def test_the_corpus_is_all_there() -> None:
    assert len(CORPUS) > 900


@pytest.mark.slow
def test_rjieba_gives_jiebas_tokens_and_spans_on_every_corpus_and_evaluation_text(reference: Any, fast: Any) -> None:
    count = 0
    for raw in CORPUS:
        norm = text.normalise(raw)
        expected = reference.tokenize(norm)
        assert fast.cut(norm) == [w for w, _, _ in expected], raw[:40]
        assert [tuple(t) for t in fast.tokenize(norm)] == expected, raw[:40]
        count += len(expected)
    assert count > 50_000


@pytest.mark.slow
@pytest.mark.parametrize("name", ["reference", "fast"])
def test_tokenize_equals_the_plain_reference_pipeline(name: str, reference: Any, use: Any, request: Any) -> None:
    use(request.getfixturevalue(name))
    for raw in CORPUS:
        assert text.tokenize(raw) == _reference_terms(reference, raw), raw[:40]


@pytest.mark.slow
def test_predictions_are_identical_whichever_segmenter_ran(reference: Any, fast: Any, use: Any) -> None:
    import pipeline

    clf = pipeline.load()
    use(reference)
    with_jieba = [clf.score(raw).to_dict() for raw in CORPUS]
    use(fast)
    with_rjieba = [clf.score(raw).to_dict() for raw in CORPUS]
    assert with_rjieba == with_jieba


def test_spans_are_identical_whichever_segmenter_ran(reference: Any, fast: Any, use: Any) -> None:
    use(reference)
    with_jieba = [text.terms_with_spans(raw) for raw in CORPUS[::7]]
    use(fast)
    assert [text.terms_with_spans(raw) for raw in CORPUS[::7]] == with_jieba


@pytest.mark.parametrize("raw", ["\ud800", "市场\udfff营销 a\ud83d", "\udc00\udc00客户需求"])
def test_lone_surrogates_segment_as_jieba_does(raw: str, reference: Any, fast: Any) -> None:
    # Rust strings cannot hold them, so rjieba hands such texts to jieba.
    assert fast.cut(raw) == reference.cut(raw)
    assert fast.tokenize(raw) == reference.tokenize(raw)


def test_the_probe_sentences_hold_jiebas_current_tokens(reference: Any) -> None:
    for sentence, expected in segmenters.PROBES:
        assert tuple(reference.cut(sentence)) == expected
    assert segmenters.self_check(reference) is None


# --- choosing the segmenter ----------------------------------------------------------------------------------
def _build(monkeypatch: pytest.MonkeyPatch, value: str | None) -> Any:
    if value is None:
        monkeypatch.delenv(segmenters.ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(segmenters.ENV_VAR, value)
    return segmenters.build(segmenters.requested(), text.user_words(), text.config.cache_dir())


def test_auto_is_the_default_and_picks_verified_rjieba(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("rjieba")
    assert _build(monkeypatch, None).name == "rjieba"
    assert _build(monkeypatch, "auto").name == "rjieba"


def test_jieba_can_be_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _build(monkeypatch, "jieba").name == "jieba"
    assert _build(monkeypatch, " JIEBA ").name == "jieba"


def test_an_unknown_segmenter_is_refused_in_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(segmenters.ENV_VAR, "pkuseg")
    with pytest.raises(OrientError, match=r"ORIENT_SEGMENTER='pkuseg' is not a segmenter; use one of: auto, jieba, rjieba\."):
        segmenters.requested()


def test_auto_falls_back_to_jieba_when_rjieba_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(segmenters, "rjieba_installed", lambda: False)
    assert _build(monkeypatch, "auto").name == "jieba"
    with pytest.raises(OrientError, match=r"rjieba is not installed; install it with: pip install 'orient-zh\[fast\]'"):
        _build(monkeypatch, "rjieba")


def test_auto_falls_back_to_jieba_for_an_unverified_rjieba_version(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("rjieba")
    monkeypatch.setattr(segmenters, "VERIFIED_RJIEBA", frozenset())
    assert _build(monkeypatch, "auto").name == "jieba"


def test_a_failed_self_check_means_jieba_or_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("rjieba")
    monkeypatch.setattr(segmenters, "PROBES", (("市场营销", ("市场", "营销")),))
    assert _build(monkeypatch, "auto").name == "jieba"
    with pytest.raises(OrientError, match="segments '市场营销' differently from jieba"):
        _build(monkeypatch, "rjieba")


def test_the_segmenter_in_use_is_named(reference: Any, use: Any) -> None:
    use(reference)
    assert text.segmenter_name().startswith("jieba 0.42")


# --- the fast normaliser -------------------------------------------------------------------------------------
def test_fast_normalise_equals_normalise_on_every_corpus_text() -> None:
    for raw in CORPUS:
        assert text.normalise_fast(raw) == text.normalise(raw), raw[:40]


_TRICKY = (
    "&mdash;",
    "mdash;",
    "&nbsp;",
    "&",
    "m",
    "単戶説",
    "\ufeff",
    "ＡＢＣ１２３",
    "，。：；（）！？",
    "ﾊﾝｶｸ",
    "①②",
    "ﬁ",
    "㍿",
    "e\u0301",
    "\u0301",
    "\u3099",
    "か\u3099",
    "\u1100\u1161\u11a8",
    "\u1161",
    "한국",
    "Å",
    "ｍｄａｓｈ；",
    "市场营销",
    " \t\r\n",
    "\U0001f600",
    "é",
    "\u0345",
    "ᄀ",
    "ㄱ",
    "⁰",
    "𝐀",
    "\ud800",
    "\udfff",
    "",
)


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_TRICKY) | st.text(max_size=6), max_size=12).map("".join))
def test_fast_normalise_equals_normalise_on_generated_text(raw: str) -> None:
    assert text.normalise_fast(raw) == text.normalise(raw)


def _all_cjk_sample() -> Iterator[str]:
    # Every 97th code point of the BMP: a spread of scripts, compatibility forms and combining marks.
    for cp in range(0x20, 0xFFFF, 97):
        ch = chr(cp)
        if unicodedata.category(ch) != "Cs":
            yield ch


def test_fast_normalise_equals_normalise_character_by_character_across_the_bmp() -> None:
    chars = list(_all_cjk_sample())
    for ch in chars:
        assert text.normalise_fast(ch) == text.normalise(ch), hex(ord(ch))
    joined = "".join(chars)
    assert text.normalise_fast(joined) == text.normalise(joined)


def test_fast_normalise_is_safe_to_share_between_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    # Start from empty memos so the threads race to fill them.
    monkeypatch.setattr(text, "_plain_chars", set())
    monkeypatch.setattr(text, "_unit_chars", set())
    monkeypatch.setattr(text, "_changed", {})
    monkeypatch.setattr(text, "_known_re", None)
    monkeypatch.setattr(text, "_stale_calls", 0)
    expected = [text.normalise(raw) for raw in CORPUS]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(text.normalise_fast, CORPUS))
    assert got == expected
