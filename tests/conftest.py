"""Shared fixtures: the shipped model, a tiny training corpus and a model trained on it (once per session).

Nothing here writes under the checkout: every trained model and rebuilt corpus goes to a temporary folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

SALES_TEXT = "每天拨打100个电话，完成本月销售业绩指标，冲刺签单回款。"
MARKETING_TEXT = "负责市场调研，洞察目标客户需求，制定品牌定位和长期营销战略。"
NO_SIGNAL_TEXT = "今天天气很好。"

# A one-setting grid (plus a second for the tiny corpus) keeps nested cross-validation quick.
ONE_SETTING_GRID: dict[str, list[Any]] = {
    "C": [10.0],
    "ngram_range": [(1, 2)],
    "sublinear_tf": [True],
    "class_weight": ["balanced"],
}
SMALL_GRID: dict[str, list[Any]] = {
    "C": [1.0, 10.0],
    "ngram_range": [(1, 2)],
    "sublinear_tf": [True],
    "class_weight": ["balanced"],
}

# Three "articles", each with clearly sales-oriented, clearly marketing-oriented and neutral passages.
TINY_ARTICLES: dict[int, list[tuple[str, str]]] = {
    1: [
        ("sales", "每天拨打电话推销现有产品，完成本月业绩指标。"),
        ("sales", "用折扣和促销说服客户尽快签单成交。"),
        ("sales", "月底冲刺销量，催促客户按时回款。"),
        ("marketing", "开展市场调研，深入了解客户需求。"),
        ("marketing", "根据市场细分选择目标市场，明确品牌定位。"),
        ("marketing", "持续跟踪客户满意度，制定长期营销战略。"),
        ("neutral", "本章介绍两者的区别。"),
    ],
    2: [
        ("sales", "销售人员要用话术说服顾客购买库存产品。"),
        ("sales", "本季度销售额指标必须完成，拿到定单就有提成。"),
        ("sales", "价格战和折扣促销能让客户马上成交。"),
        ("marketing", "以客户为中心，从客户需求出发设计新产品。"),
        ("marketing", "通过消费者调研进行市场定位和品牌建设。"),
        ("marketing", "营销战略关注长远利益和客户满意度。"),
        ("neutral", "下面分三点说明。"),
    ],
    3: [
        ("sales", "推销员上门推销，想办法把现有的产品卖出去。"),
        ("sales", "完成业绩定额，冲刺签单，催收回款。"),
        ("sales", "销售技巧决定成交率和销量。"),
        ("marketing", "市场调研发现潜在需求，再做产品定义。"),
        ("marketing", "品牌定位要符合目标客户的长期需求。"),
        ("marketing", "用户画像和竞品分析支持营销策划。"),
        ("neutral", "这一点大家都知道。"),
    ],
}


def write_tiny_corpus(path: Path) -> Path:
    """Write the tiny corpus in the format of corpus/passages.jsonl."""
    from pipeline.text import normalise
    from pipeline.training.corpus import Passage, write_passages

    passages = []
    line = 0
    for article, rows in TINY_ARTICLES.items():
        for paragraph, (label, text) in enumerate(rows, start=1):
            line += 2
            passages.append(
                Passage(
                    id=f"a{article}-p{paragraph:03d}-s01-c01",
                    article=article,
                    paragraph=paragraph,
                    sentence=1,
                    clause=1,
                    line=line,
                    span=(0, len(text)),
                    original=text,
                    text=normalise(text),
                    kind="clause",
                    label=label,
                    how="decision",
                    reason="test passage",
                )
            )
    write_passages(passages, path)
    return path


def train_tiny(model_path: Path, passages_path: Path, grid: dict[str, list[Any]] | None = None) -> dict[str, Any]:
    """Train on that corpus alone with a small grid, restoring the real grid afterwards."""
    import pipeline.training.train
    from pipeline import config

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline.training.train, "GRID", grid or SMALL_GRID)
        # Only the given passages: no documents file, whatever the checkout holds.
        mp.setattr(config, "DOCUMENTS_FILE", passages_path.parent / "no-documents.jsonl", raising=False)
        return pipeline.training.train.train(model_path=model_path, passages_path=passages_path, lexicon=False)


@pytest.fixture(autouse=True)
def _no_model_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A user's ORIENT_MODEL must not leak into the tests, nor the real postings beside the checkout (tests pass without them)."""
    monkeypatch.delenv("ORIENT_MODEL", raising=False)
    monkeypatch.setenv("ORIENT_REALDEV", str(tmp_path / "no-realdev.jsonl"))


@pytest.fixture(scope="session")
def shipped() -> Any:
    """The shipped model, loaded once."""
    import pipeline

    return pipeline.load()


@pytest.fixture(scope="session")
def tiny_passages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_corpus(tmp_path_factory.mktemp("tiny-corpus") / "passages.jsonl")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, tiny_passages: Path) -> Path:
    """A model trained on the tiny corpus; returns the .joblib path (its .json and .linear.json sit beside it)."""
    model_path = tmp_path_factory.mktemp("tiny-model") / "tiny.joblib"
    train_tiny(model_path, tiny_passages)
    return model_path


def copy_model(src: Path, dst_dir: Path) -> Path:
    """Copy a model's three files into dst_dir; return the new .joblib path."""
    from pipeline.model import paths

    for f in paths(src):
        (dst_dir / f.name).write_bytes(f.read_bytes())
    return dst_dir / src.name


def as_jsonl(*records: Any) -> str:
    """JSON lines for the given records (a string is written as it is: for malformed lines)."""
    return "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def outcomes(pairs: Iterator[tuple[Any, Any]]) -> list[Any]:
    """The outcomes of (item, outcome) pairs, checking that each outcome belongs to its item."""
    from pipeline.readers import Failure

    out = []
    for item, outcome in pairs:
        assert item.id == (outcome.id if isinstance(outcome, Failure) else outcome["id"])
        out.append(outcome)
    return out


def eval_documents() -> list[Any]:
    """Every text of the evaluation sets, as Documents: a varied batch for equality tests."""
    from pipeline.readers import Document

    docs = []
    for path in sorted((ROOT / "corpus" / "eval").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                docs.append(Document(rec["id"], rec["text"]))
    return docs
