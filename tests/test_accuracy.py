"""Issue 3's behaviours: long documents, department words, users' own labels, and the model card's targets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import SMALL_GRID, train_tiny

from pipeline import config
from pipeline.cli import main
from pipeline.errors import OrientError
from pipeline.predict import VERDICTS
from pipeline.train import DEPARTMENT_WORDS

QUOTA_LINES = [
    "1. 每月完成个人销售任务不低于30万元；",
    "2. 每天电话外呼不少于100通，邀约客户到店；",
    "3. 熟练运用成交话术，促成客户当场签单；",
    "4. 月底冲刺业绩指标，确保回款及时到账；",
    "5. 执行公司促销政策，推动库存产品出货；",
    "6. 每周拜访客户不少于15家，提交拜访记录；",
    "7. 完成季度签约目标，业绩排名前三有额外奖金；",
    "8. 负责新品推广期间的限时折扣活动，冲刺销量；",
]
RESEARCH_LINE = "9. 参与一次客户需求调研，整理用户画像。"


def test_eight_quota_lines_and_one_research_line_make_a_sales_oriented_posting(shipped: Any) -> None:
    text = "\n".join([*QUOTA_LINES, RESEARCH_LINE])
    r = shipped.explain(text)
    assert r.label == "sales"
    assert r.verdict in VERDICTS[:2]
    sides = [s.label for s in r.sentences if s.signal_terms]
    assert len(sides) == 9
    assert sides.count("sales") >= 8 and sides[-1] == "marketing"
    # The evidence agrees: the sales side carries more of the score than the marketing side.
    pull = {side: sum(abs(e.contribution) for e in r.evidence if e.side == side) for side in ("sales", "marketing")}
    assert pull["sales"] > pull["marketing"]


def test_department_words_never_count(shipped: Any) -> None:
    vocab = shipped.linear.vocabulary
    assert not [t for t in vocab if set(t.split()) & set(DEPARTMENT_WORDS)]
    base = "负责每天电话外呼，完成本月签单指标。"
    assert shipped.score("营销专员：" + base).marketing_probability == pytest.approx(
        shipped.score("销售专员：" + base).marketing_probability
    )


def test_shipped_model_meets_the_issue_targets_on_the_evaluation_sets(shipped: Any) -> None:
    ev = shipped.metadata["evaluation"]
    assert ev["postings"]["macro_f1"] >= 0.90 and ev["plans"]["macro_f1"] >= 0.90 and ev["hard"]["macro_f1"] >= 0.85
    assert ev["neutral"]["insufficient_signal_rate"] >= 0.90
    for name in ("postings", "plans", "hard"):
        assert ev[name]["insufficient_signal_rate"] < 0.05
    # And the figures in the metadata are what scoring the sets gives now.
    from pipeline.evaluate import eval_set_docs, evaluate

    assert evaluate(shipped, eval_set_docs("hard"))["macro_f1"] == ev["hard"]["macro_f1"]


def _user_file(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text(
        "".join(json.dumps({"text": t, "label": lab}, ensure_ascii=False) + "\n" for t, lab in rows), encoding="utf-8"
    )
    return path


def test_train_with_user_data_changes_the_model_as_expected(tmp_path: Path, tiny_passages: Path) -> None:
    # A made-up programme name (one token) the corpus never saw, labelled marketing in the user's file.
    word = "bluewhale"
    rows = [(f"{word}第{i}期：访谈用户，了解他们的需求。", "marketing") for i in range(6)]
    rows += [(f"第{i}周：电话外呼，完成签单。", "sales") for i in range(6)]
    user = _user_file(tmp_path / "mine.jsonl", rows)
    import pipeline.train

    before = train_tiny(tmp_path / "before" / "m.joblib", tiny_passages)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline.train, "GRID", SMALL_GRID)
        mp.setattr(config, "SUPPLEMENT_FILE", tmp_path / "none.jsonl")
        after = pipeline.train.train(
            model_path=tmp_path / "after" / "m.joblib", passages_path=tiny_passages, data=[user], lexicon=False
        )
    import pipeline as lib

    old, new = lib.load(tmp_path / "before" / "m.joblib"), lib.load(tmp_path / "after" / "m.joblib")
    assert word not in old.linear.vocabulary
    assert new.linear.weights[new.linear.vocabulary[word]] > 0
    base = "我们会持续投入。"
    probe = f"{word}：{base}"
    # Unknown before, so it changed nothing; learned after, it pulls towards marketing.
    assert old.score(probe).marketing_probability == pytest.approx(old.score(base).marketing_probability)
    assert new.score(probe).marketing_probability > new.score(base).marketing_probability
    # The metadata lists every source with its hash and count.
    from pipeline.files import sha256_file

    assert after["sources"] == [
        *before["sources"],
        {"file": str(user), "sha256": sha256_file(user), "count": 12, "labels": {"marketing": 6, "sales": 6}},
    ]
    assert after["label_counts"]["marketing"] == before["label_counts"]["marketing"] + 6


def test_bad_user_labels_are_reported_by_line_number(tmp_path: Path, tiny_passages: Path) -> None:
    user = tmp_path / "bad.jsonl"
    user.write_text(
        '{"text": "访谈用户", "label": "marketing"}\n{"text": "打电话", "label": "selling"}\n{"text": "  ", "label": "sales"}\n',
        encoding="utf-8",
    )
    import pipeline.train

    with pytest.raises(OrientError) as err:
        pipeline.train.labelled_set(user, "user1")
    assert str(err.value) == (
        f"{user} has 2 unusable record(s): {user}:2 line 2 has label 'selling', expected one of: sales, marketing, neutral; "
        f"{user}:3 line 3 is empty; fix them and train again."
    )
    result = CliRunner().invoke(main, ["train", "--data", str(user), "--model", str(tmp_path / "m.joblib")])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {err.value}"
    assert not (tmp_path / "m.joblib").exists()
