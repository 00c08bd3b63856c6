"""Issue 16's behaviours: a posting's sections, figures on labelled real-style documents, abstention, clean evidence.

The documents here are written for these tests (no real posting is copied into the repository).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import as_jsonl

from pipeline import config
from pipeline.cli import main
from pipeline.sections import Section, scored_text, sections
from pipeline.training.realeval import canonical_label, read_documents
from research import evaluation, levers

POSTING = (
    "公司简介：我们是一家做办公家具的公司，秉承客户至上的理念。\n"
    "岗位职责：\n1、负责华南区域经销商开发，完成月度销售任务；\n2、收集市场信息。\n"
    "任职要求：大专以上学历，有驾照。\n"
    "【福利】五险一金，双休。\n"
    "工作地点：广州"
)


def test_sections_are_found_by_their_headings() -> None:
    kinds = [(s.kind, POSTING[s.start : s.start + 4]) for s in sections(POSTING)]
    assert kinds == [
        ("intro", "公司简介"),
        ("duties", "岗位职责"),
        ("requirements", "任职要求"),
        ("benefits", "【福利】"),
        ("benefits", "工作地点"),
    ]
    # The sections tile the text.
    spans = sections(POSTING)
    assert spans[0].start == 0 and spans[-1].end == len(POSTING)
    assert all(a.end == b.start for a, b in itertools.pairwise(spans))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("负责销售，福利好。", [Section("body", 0, 9)]),
        ("待遇面议，要求：能吃苦", [Section("body", 0, 11)]),  # neither starts a line: no heading
        ("招聘业务员\n岗位职责/待遇/环境：底薪+提成", [Section("body", 0, 6), Section("duties", 6, 22)]),
        # A duty ends an introduction that has no heading after it.
        ("公司简介：成立于2005年。负责经销商开发。", [Section("intro", 0, 14), Section("body", 14, 22)]),
    ],
)
def test_sections_of_small_texts(text: str, expected: list[Section]) -> None:
    assert sections(text) == expected


def test_scoring_leaves_out_headings_introduction_and_benefits_and_keeps_every_offset() -> None:
    blanked = scored_text(POSTING)
    assert len(blanked) == len(POSTING)
    assert [i for i, ch in enumerate(POSTING) if ch == "\n"] == [i for i, ch in enumerate(blanked) if ch == "\n"]
    kept = " ".join(blanked.split())
    assert kept == "1、负责华南区域经销商开发，完成月度销售任务； 2、收集市场信息。 大专以上学历，有驾照。"
    assert scored_text("没有标题的一段话。") == "没有标题的一段话。"


def test_explain_names_each_sentence_section(shipped: Any) -> None:
    r = shipped.explain(POSTING)
    assert [s.section for s in r.sentences][:3] == ["intro", "duties", "duties"]
    assert r.sentences[-1].section == "benefits"
    assert r.sentences[0].to_dict()["section"] == "intro"
    # What scoring leaves out carries no evidence.
    assert all(not s.evidence for s in r.sentences if s.section in ("intro", "benefits"))


@pytest.mark.parametrize(
    ("raw", "label"),
    [
        ("sales", "sales"),
        (" 销售 ", "sales"),
        ("营销", "marketing"),
        ("Marketing", "marketing"),
        ("中性", "neutral"),
        ("none", "neutral"),
        ("混合", "mixed"),
        ("maybe", None),
        (None, None),
    ],
)
def test_label_aliases(raw: Any, label: str | None) -> None:
    assert canonical_label(raw) == label


SALES = "岗位职责：1、负责区域客户开发，每天电话拜访，完成月度销售任务和回款指标。"
MARKETING = "岗位职责：1、开展市场调研和用户访谈，洞察目标人群需求，制定品牌定位和长期传播策略。"
NEUTRAL = "任职要求：本科及以上学历，年龄25-35岁。福利待遇：五险一金，双休。"


def _realdev_like(path: Path) -> Path:
    rows = [
        {"id": "r1", "text": SALES, "orientation": "sales", "confidence": "high", "role": "sales", "site": "甲 (2016)"},
        {
            "id": "r2",
            "text": MARKETING,
            "orientation": "marketing",
            "confidence": "medium",
            "role": "marketing",
            "site": "甲 (2020)",
        },
        # The title names the other department: the text decides.
        {"id": "r3", "text": SALES, "orientation": "sales", "confidence": "high", "role": "marketing", "site": "乙"},
        {"id": "r4", "text": MARKETING, "orientation": "marketing", "confidence": "low", "role": "marketing", "site": "乙"},
        {"id": "r5", "text": NEUTRAL, "orientation": "neutral", "confidence": "high", "role": "sales", "site": "乙"},
        {"id": "r6", "text": SALES + MARKETING[5:], "orientation": "mixed", "confidence": "low", "role": "other", "site": "乙"},
    ]
    path.write_text(as_jsonl(*rows), encoding="utf-8")
    return path


def test_real_text_figures(tmp_path: Path, shipped: Any) -> None:
    path = _realdev_like(tmp_path / "dev.jsonl")
    result = CliRunner().invoke(main, ["evaluate", str(path), "--label-field", "orientation", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    f = json.loads(result.stdout)["sets"][str(path)]
    # Headline figures count high and medium sales/marketing documents: r1, r2, r3 (r4 is low confidence).
    assert (f["n"], f["counted"]) == (6, 3)
    o = f["orientation"]
    assert (o["macro_f1"], o["insufficient_signal"]) == (1.0, 0.0)
    assert o["confusion"] == {"sales": {"sales": 2, "marketing": 0}, "marketing": {"sales": 0, "marketing": 1}}
    # By title: r1-r5 have sales/marketing titles; r3 is scored against its (wrong) marketing title.
    assert f["by_title"]["n"] == 5
    assert f["title_disagrees"] == {"n": 1, "accuracy": 1.0}
    assert f["neutral"] == {"n": 1, "insufficient_signal": 1.0}
    assert sum(f["mixed"]["verdicts"].values()) == 1
    assert shipped.score(NEUTRAL).label is None
    # Sites: a note in brackets after a site's name does not split it.
    assert sorted(f["by_group"]) == ["乙", "甲"]
    assert f["by_group"]["甲"]["n"] == 2
    assert f["single_character_evidence"] == 0.0
    assert f["worst_errors"] == []


def test_evaluate_finds_the_real_postings_beside_the_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _realdev_like(tmp_path / "dev.jsonl")
    monkeypatch.setenv("ORIENT_REALDEV", str(path))
    result = CliRunner().invoke(main, ["evaluate", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    sets = json.loads(result.stdout)["sets"]
    assert next(iter(sets)) == str(path)
    assert set(sets) == {str(path), *(n for n, f in config.EVAL_FILES.items() if (config.EVAL_DIR / f).exists())}


def test_evaluate_report_leads_with_real_postings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORIENT_REALDEV", str(_realdev_like(tmp_path / "dev.jsonl")))
    report = tmp_path / "evaluation.md"
    assert evaluation.main(["--no-levers", "-o", str(report)]) == 0
    text = report.read_text(encoding="utf-8")
    assert text.index("## Real postings") < text.index("## Written sets (sanity checks)") < text.index("## Lever study")
    assert "| orientation macro-F1 | **1.000** | ≥ 0.88 |" in text
    assert "Not run (run without --no-levers)." in text


def test_a_csv_with_chinese_labels_and_columns(tmp_path: Path) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text(f"职位描述,类别\n{SALES},销售\n{MARKETING},营销\n{NEUTRAL},中性\n", encoding="utf-8")
    docs, bad = read_documents(path, text_field="职位描述", label_field="类别")
    assert bad == []
    assert [d.label for d in docs] == ["sales", "marketing", "neutral"]
    result = CliRunner().invoke(main, ["evaluate", str(path), "--text-field", "职位描述", "--label-field", "类别"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"{path}: 3 documents, 2 counted")
    assert "neutral documents (1): insufficient signal 100.0%" in result.stdout


def test_no_single_character_is_a_term(shipped: Any) -> None:
    assert not [t for t in shipped.linear.vocabulary if any(len(part) == 1 for part in t.split(" "))]
    r = shipped.score("有销售经验者优先，享五险一金，沟通能力强。")
    assert {"者", "优先", "一", "强"}.isdisjoint(e.term for e in r.evidence)


def test_training_takes_labels_as_people_write_them(tmp_path: Path) -> None:
    from pipeline.training.train import labelled_set

    path = tmp_path / "mine.csv"
    path.write_text(f"text,label\n{SALES},销售\n{MARKETING},营销\n{NEUTRAL},中性\n{SALES},Sales\n", encoding="utf-8")
    data = labelled_set(path, "user1")
    assert data.labels == ["sales", "marketing", "sales"]  # neutral documents are not two-class training data


@pytest.mark.slow
def test_the_learning_curve_trains_in_memory_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:

    docs = read_documents(_realdev_like(tmp_path / "dev.jsonl"), label_field="orientation")[0]
    before = {p: p.stat().st_mtime_ns for p in (config.ROOT / "models").iterdir()}
    rows = levers.learning_curve(docs, sizes=(0, 1), folds=2)
    # Every sales/marketing document is scored once per size, in the fold that held it out (r4 is low confidence).
    assert [(r["added"], r["n"]) for r in rows] == [(0, 3), (1, 3)]
    assert all(0.0 <= r["macro_f1"] <= 1.0 for r in rows)
    assert {p: p.stat().st_mtime_ns for p in (config.ROOT / "models").iterdir()} == before
    assert list(tmp_path.iterdir()) == [tmp_path / "dev.jsonl"]


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        # A heading with its content on its line ends with that line: what follows is scored.
        ("工作地点：上海浦东\n每天拜访客户，完成月度销售指标。", "每天拜访客户，完成月度销售指标。"),
        ("公司简介：我们是一家公司。\n主要工作：拜访客户。", "主要工作：拜访客户。"),
        # One alone on its line ends at a blank line.
        ("福利待遇：\n五险一金\n双休\n\n开发客户", "开发客户"),
        # Windows line ends, and a heading that matches only when case is ignored (ſ is a long s).
        ("公司简介\r\n我们是公司\r\n\r\n每天拜访客户", "每天拜访客户"),
        ("Benefitſ:\n负责销售", "负责销售"),
    ],
)
def test_boilerplate_ends_where_its_heading_says(text: str, kept: str) -> None:
    assert " ".join(scored_text(text).split()) == kept


def test_bad_records_of_a_labelled_file_are_named(tmp_path: Path) -> None:
    path = tmp_path / "dev.jsonl"
    path.write_text(
        as_jsonl(
            [1, 2], {"text": SALES, "label": "sales", "confidence": "高"}, {"text": SALES, "label": "sales", "confidence": "5"}
        ),
        encoding="utf-8",
    )
    docs, bad = read_documents(path)
    assert [d.confidence for d in docs] == ["high"]
    assert [(f.id, f.message) for f in bad] == [
        (f"{path}:1", "line 1 is not a JSON object"),
        (f"{path}:3", "line 3 has confidence '5', expected one of: high, medium, low"),
    ]


def test_errors_show_their_own_evidence_when_ids_repeat(tmp_path: Path, shipped: Any) -> None:
    path = tmp_path / "dup.jsonl"
    path.write_text(
        as_jsonl({"id": "7", "text": SALES, "label": "sales"}, {"id": "7", "text": MARKETING, "label": "sales"}), encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["evaluate", str(path), "--format", "json"])
    (error,) = json.loads(result.stdout)["sets"][str(path)]["worst_errors"]
    expected = shipped.score(MARKETING)
    assert error["evidence"]["marketing"] == [f"{e.term}({e.contribution:+.2f})" for e in expected.terms("marketing", 5)]


def test_a_report_on_a_file_with_no_counted_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "neutral.jsonl"
    path.write_text(as_jsonl({"text": NEUTRAL, "orientation": "neutral"}), encoding="utf-8")
    monkeypatch.setenv("ORIENT_REALDEV", str(path))
    report = tmp_path / "r.md"
    assert evaluation.main(["--no-levers", "-o", str(report)]) == 0
    text = report.read_text(encoding="utf-8")
    assert "### `neutral.jsonl`: 1 documents, none of them a sales/marketing document with high or medium confidence" in text
