"""Normalising and segmenting: the tokenizer stored inside the model, and the spans shown as evidence."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pipeline.text
from pipeline import config
from pipeline.text import normalise, stop_words, terms_with_spans, tokenize, user_words

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("word", ["市场调研", "客户需求", "以客户为中心", "目标市场", "市场细分", "满意度"])
def test_domain_words_are_single_tokens(word: str) -> None:
    assert word in {w for w, _ in user_words()}
    text = f"我们坚持{word}的原则，每年做一次。"
    assert word in tokenize(text)
    # ... and are not also split into their parts.
    for token in tokenize(text):
        assert token == word or token not in word


def test_every_user_dictionary_word_survives_as_one_term() -> None:
    for word, _ in user_words():
        if word in stop_words():
            continue
        assert tokenize(word) == [word.lower()], word


def test_punctuation_numbers_and_stop_words_are_dropped() -> None:
    tokens = tokenize("2023年，我们的销售额增长了30%！！（约100万元）……")
    assert "销售额" in tokens
    for dropped in ("2023", "30", "100", "%", "，", "！", "（", "）", "…", "的", "了", "我们的"):
        assert dropped not in tokens
    assert all(any(ch.isalpha() for ch in t) for t in tokens)
    assert not set(tokens) & stop_words()


def test_only_punctuation_and_numbers_give_no_terms() -> None:
    assert tokenize("123，456。！？ 7.5% —— ……") == []
    assert tokenize("") == []


def test_english_is_lower_cased_and_kept_in_mixed_text() -> None:
    tokens = tokenize("负责CRM系统和KPI考核，提升Brand Awareness")
    assert tokens == ["crm", "系统", "kpi", "考核", "提升", "brand", "awareness"]  # 负责 is a stop word


def test_single_ascii_letters_are_dropped() -> None:
    assert "a" not in tokenize("a 营销 b")
    assert "营销" in tokenize("a 营销 b")


def test_full_width_letters_and_variants_are_normalised() -> None:
    assert tokenize("ＫＰＩ考核") == tokenize("KPI考核")
    assert "kpi" in tokenize("ＫＰＩ考核")
    assert tokenize("拿到定単") == tokenize("拿到定单")
    assert tokenize("用戶满意度") == tokenize("用户满意度")
    assert tokenize("\ufeff市场调研") == tokenize("市场调研")


def test_normalise_repairs_broken_entities() -> None:
    assert normalise("政治部mdash;mdash;市场定位") == "政治部——市场定位"
    assert normalise("a&mdash;b&nbsp;c") == "a—b c"
    assert normalise("ＡＢＣ１２３") == "ABC123"


def test_tokenize_returns_a_list() -> None:
    result = tokenize("市场调研")
    assert type(result) is list
    assert all(type(t) is str for t in result)


def test_tokenize_pickles_by_reference() -> None:
    data = pickle.dumps(tokenize)
    assert b"pipeline.text" in data and b"tokenize" in data
    assert len(data) < 200  # a reference, not code
    assert pickle.loads(data) is tokenize
    assert tokenize.__module__ == "pipeline.text"
    assert pipeline.text.tokenize is tokenize


@pytest.mark.slow
def test_jieba_cache_goes_under_xdg_cache_home(tmp_path: Path) -> None:
    cache_home = tmp_path / "xdg"
    # jieba keeps a dictionary cache; rjieba (the default when installed) needs none.
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home), "HOME": str(tmp_path / "home"), "ORIENT_SEGMENTER": "jieba"}
    code = "from pipeline.text import tokenize; print(tokenize('负责市场调研'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['市场调研']"  # 负责 is a stop word
    cache = cache_home / "orient" / "jieba.cache"
    assert cache.is_file() and cache.stat().st_size > 0
    assert (cache_home / "orient").stat().st_mode & 0o077 == 0, "the cache folder is private"
    assert not (tmp_path / "home").exists(), "nothing written under $HOME when XDG_CACHE_HOME is set"
    # A second process reads the cache and segments the same way.
    again = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout == out.stdout


def test_cache_dir_respects_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert config.cache_dir() == tmp_path / "orient"
    assert (tmp_path / "orient").is_dir()


def _check_spans(text: str) -> None:
    terms = terms_with_spans(text)
    assert [t.term for t in terms] == tokenize(text)
    previous_end = 0
    for t in terms:
        assert 0 <= t.start < t.end <= len(text)
        assert t.start >= previous_end
        previous_end = t.end
        assert normalise(text[t.start : t.end]).lower() == t.term, (text, t)


@pytest.mark.parametrize(
    "text",
    [
        "负责市场调研，洞察目标客户需求。",
        "ＫＰＩ考核与定単管理",
        "\ufeff拿到定単，用戶满意度很高",
        "政治部mdash;mdash;市场定位",
        "负责CRM系统和ＢｒａｎｄＡｗａｒｅｎｅｓｓ",
        "营销&nbsp;战略和&mdash;推销",
    ],
)
def test_term_spans_slice_the_original_text(text: str) -> None:
    _check_spans(text)


def test_full_width_span_covers_the_full_width_letters() -> None:
    text = "完成ＫＰＩ"
    (kpi,) = [t for t in terms_with_spans(text) if t.term == "kpi"]
    assert text[kpi.start : kpi.end] == "ＫＰＩ"


def test_span_after_a_bom_points_into_the_original() -> None:
    text = "\ufeff拿到定単"
    terms = terms_with_spans(text)
    assert [(t.term, text[t.start : t.end]) for t in terms] == [("拿到", "拿到"), ("定单", "定単")]


_PIECES = [
    "市场调研",
    "客户需求",
    "销售",
    "推销",
    "目标市场",
    "满意度",
    "ＫＰＩ",
    "KPI",
    "定単",
    "用戶",
    "\ufeff",
    "mdash;",
    "&nbsp;",
    "，",
    "。",
    " ",
    "100",
    "Brand",
    "ｂｒａｎｄ",
    "的",
    "和",
    "e\u0301",
    "ﬁ",
    "营销战略",
    "回款",
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=14))
def test_spans_always_slice_the_original(pieces: list[str]) -> None:
    _check_spans("".join(pieces))
