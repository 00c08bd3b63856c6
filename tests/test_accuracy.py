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
from pipeline.result import VERDICTS

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


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # A 营销 title over quota work, a 销售 title over understanding clients: the content decides.
        ("营销专员：负责每天电话外呼，完成本月签单指标。", "sales"),
        ("销售顾问：深入了解每位客户的业务痛点，提供长期的解决方案，建立信任关系。", "marketing"),
        ("制定公司整体市场战略，进行市场细分与目标市场选择，明确品牌定位，带领团队做好用户研究和品牌建设。", "marketing"),
    ],
)
def test_the_content_decides_not_the_department_title(shipped: Any, text: str, label: str) -> None:
    r = shipped.score(text)
    assert (r.label, r.reason) == (label, None)


COMPANY = "公司简介：我公司成立于2005年，是一家集研发、生产、销售于一体的现代化企业，秉承客户至上的理念。"
BENEFITS = "福利待遇：五险一金，双休，年终奖，带薪年假。"


@pytest.mark.parametrize("sep", ["\n", ""])
def test_boilerplate_neither_dilutes_nor_vetoes_a_duty(shipped: Any, sep: str) -> None:
    duty = "负责华南区域经销商管理，完成销售任务。"
    alone = shipped.score(duty)
    framed = shipped.score(sep.join([COMPANY, duty, BENEFITS]))
    assert framed.label == alone.label == "sales"
    # The introduction and the benefits are left out of scoring: the framed posting scores as its duty does.
    assert framed.marketing_probability == pytest.approx(alone.marketing_probability)


def test_requirements_and_benefits_alone_get_no_label_and_the_reason_names_the_gate(shipped: Any) -> None:
    r = shipped.score("任职要求：本科及以上学历，3年以上工作经验，年龄25-35岁。\n" + BENEFITS)
    assert r.verdict == "insufficient signal"
    assert r.label is None
    assert r.reason == "the orientation gate finds too little orientation language (below 0.45)"


def test_a_customer_service_posting_is_not_called_marketing(shipped: Any) -> None:
    text = "岗位职责：\n1、接听客户来电，解答产品咨询；\n2、处理客户投诉，记录并反馈问题。\n任职要求：中专以上学历，普通话标准。"
    assert shipped.score(text).label is None


def test_the_metadata_figures_are_what_scoring_the_written_sets_gives_now(shipped: Any) -> None:
    from pipeline.training.evaluate import read_eval_set

    ev = shipped.metadata["evaluation"]
    assert set(ev) == set(config.EVAL_SETS)
    docs = read_eval_set("hard")
    threshold = shipped.metadata["verdict"]["threshold"]
    right = sum((shipped.score(t).marketing_probability >= threshold) == (label == "marketing") for _, t, label in docs)
    assert ev["hard"]["accuracy"] == round(right / len(docs), 4)


def _user_file(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text(
        "".join(json.dumps({"text": t, "label": lab}, ensure_ascii=False) + "\n" for t, lab in rows), encoding="utf-8"
    )
    return path


@pytest.mark.slow
def test_train_with_user_data_changes_the_model_as_expected(tmp_path: Path, tiny_passages: Path) -> None:
    # A made-up programme name (one token) the corpus never saw, labelled marketing in the user's file.
    word = "bluewhale"
    rows = [(f"{word}第{i}期：访谈用户，了解他们的需求。", "marketing") for i in range(6)]
    rows += [(f"第{i}周：电话外呼，完成签单。", "sales") for i in range(6)]
    user = _user_file(tmp_path / "mine.jsonl", rows)
    import pipeline.training.train

    before = train_tiny(tmp_path / "before" / "m.joblib", tiny_passages)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline.training.train, "GRID", SMALL_GRID)
        mp.setattr(config, "DOCUMENTS_FILE", tmp_path / "none.jsonl")
        after = pipeline.training.train.train(
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
    import pipeline.training.train

    with pytest.raises(OrientError) as err:
        pipeline.training.train.labelled_set(user, "user1")
    assert str(err.value) == (
        f"{user} has 2 unusable record(s): {user}:2 line 2 has label 'selling', "
        "expected one of: sales, marketing, mixed, neutral; "
        f"{user}:3 line 3 is empty; fix them and train again."
    )
    result = CliRunner().invoke(main, ["train", "--data", str(user), "--model", str(tmp_path / "m.joblib")])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {err.value}"
    assert not (tmp_path / "m.joblib").exists()
