"""Traditional Chinese scores like its simplified twin, simplified text is untouched, and spans point into the original."""

from __future__ import annotations

import glob
import json
import unicodedata
from pathlib import Path

import pytest

import pipeline
from pipeline import config
from pipeline.text import _VARIANTS, normalise_with_map, terms_with_spans, tokenize
from pipeline.traditional import ALSO_SIMPLIFIED, TABLE_FILE, generate_table, is_traditional, to_simplified

# Parallel texts: Taiwan/Hong Kong style traditional, and the simplified twin.
PAIRS = [
    ("負責市場調研，洞察目標客戶需求，制定品牌定位。", "负责市场调研，洞察目标客户需求，制定品牌定位。"),
    ("每天撥打100個電話，完成本月銷售指標，爭取季度獎金。", "每天拨打100个电话，完成本月销售指标，争取季度奖金。"),
    ("建立長期客戶關係，根據消費者研究規劃產品線與價格策略。", "建立长期客户关系，根据消费者研究规划产品线与价格策略。"),
    (
        "【招聘】區域銷售經理：帶領團隊開發新客戶，負責回款與訂單轉化。",
        "【招聘】区域销售经理：带领团队开发新客户，负责回款与订单转化。",
    ),
]


@pytest.fixture(scope="module")
def clf() -> pipeline.Classifier:
    return pipeline.load()


@pytest.mark.parametrize(("traditional", "simplified"), PAIRS)
def test_traditional_scores_like_its_simplified_twin(traditional: str, simplified: str, clf: pipeline.Classifier) -> None:
    assert is_traditional(traditional) and not is_traditional(simplified)
    assert tokenize(traditional) == tokenize(simplified)
    assert clf.score(traditional) == clf.score(simplified)


@pytest.mark.parametrize(("traditional", "simplified"), PAIRS)
def test_spans_point_into_the_original_traditional_text(traditional: str, simplified: str) -> None:
    trad_terms = terms_with_spans(traditional)
    simp_terms = terms_with_spans(simplified)
    assert [t.term for t in trad_terms] == [t.term for t in simp_terms]
    for term in trad_terms:
        original = traditional[term.start : term.end]
        assert to_simplified(original) == simplified[term.start : term.end]  # same place, same length
        assert len(original) == term.end - term.start


def test_conversion_is_one_character_for_one() -> None:
    text = "發展臺灣業務，頭髮乾燥；後來裡面𠮷👍" + "".join(PAIRS[0])
    assert len(to_simplified(text)) == len(text)
    norm, starts, ends = normalise_with_map(text)
    assert len(norm) == len(starts) == len(ends)


def test_simplified_text_is_returned_untouched() -> None:
    # 乾隆, 於 (a surname), 著名: characters OpenCC may simplify but that belong to simplified text too.
    for text in ["乾隆年间，於先生著名的商号。", "负责市场调研", "", "abc"]:
        assert to_simplified(text) is text


def test_the_corpus_and_examples_are_unchanged_by_conversion() -> None:
    """Simplified input must give exactly the tokens it gave before: no shipped text counts as traditional."""
    texts: list[str] = []
    for name in [str(config.PASSAGES_FILE), *glob.glob(str(config.EVAL_DIR / "*.jsonl"))]:
        for line in Path(name).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            texts.append(record.get("original") or record.get("text") or "")
    texts += [p.read_text(encoding="utf-8") for p in (config.ROOT / "examples").glob("*.txt")]
    assert texts
    # What the converter sees: NFKC text with the normaliser's variant table applied (it already unifies 戶 and 説).
    seen = [unicodedata.normalize("NFKC", t).translate(_VARIANTS) for t in texts]
    assert [t for t in seen if is_traditional(t)] == []


def test_shipped_table_matches_the_installed_opencc() -> None:
    pytest.importorskip("opencc")
    shipped = TABLE_FILE.read_text(encoding="utf-8")
    assert shipped == generate_table(), "regenerate with: python -m pipeline.traditional > pipeline/data/t2s.txt"


def test_also_simplified_characters_are_in_the_table() -> None:
    keys = {line.split("\t")[0] for line in TABLE_FILE.read_text(encoding="utf-8").splitlines() if not line.startswith("#")}
    assert keys >= ALSO_SIMPLIFIED  # each exception names a real table entry
