"""Evidence in the terminal and in JSON: spans into the original text, sentences, highlights, hints, colour."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.explain import (
    HINTS_FILE,
    explain_document,
    hints_for,
    load_hints,
    marks_for,
    render_terminal,
    sentence_orientation,
    weight_of,
)
from pipeline.text import normalise, terms_with_spans

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;]*m")

SALES = "负责公司现有产品的销售，完成每月个人销售任务。每天电话邀约不少于80通，月底冲刺业绩指标。"
MARKETING = "开展市场调研，深入了解客户需求，制定品牌定位和长期营销战略。"
# Texts whose normalisation changes characters: BOM, full-width Latin and digits, variant characters, an entity.
TRICKY = [
    "\ufeff负责现有产品的销售，完成本月业绩指标。",
    "完成ＫＰＩ与销售指标，开展市场调研。ＡＢＣ公司１２月",
    "完成単月销售任务，了解客戶需求，説明品牌定位。",
    "市场&nbsp;调研与品牌定位；销售&mdash;推销。",
    "\ufeff　全角空格　销售人员推销现有产品，市场营销以客户为中心。",
    SALES + "\n\n" + MARKETING,
]


@pytest.fixture(scope="module")
def clf() -> Any:
    import pipeline

    return pipeline.load()


def _top_sales_term() -> str:
    """The term that pulls SALES hardest towards sales under the shipped model (unigram, so it shows as one mark)."""
    import pipeline

    return next(e.term for e in pipeline.load().score(SALES).terms("sales", 20) if " " not in e.term)


def _marked_sales(out: str, term: str) -> bool:
    """Whether term sits inside a sales mark (adjacent same-side terms merge into one mark)."""
    return re.search(r"\[-[^\]]*" + re.escape(term) + r"[^\]]*\]", out) is not None


def _spans_match(text: str, term: str, start: int, end: int) -> bool:
    """A unigram's span is exactly its characters; a bigram's starts with its first word and ends with its second."""
    got = normalise(text[start:end]).lower()
    words = term.split(" ")
    if len(words) == 1:
        return got == term
    return got.startswith(words[0]) and got.endswith(words[-1])


@pytest.mark.parametrize("text", TRICKY)
def test_term_spans_point_at_their_characters(text: str) -> None:
    terms = terms_with_spans(text)
    assert terms
    for t in terms:
        assert 0 <= t.start < t.end <= len(text)
        assert normalise(text[t.start : t.end]).lower() == t.term, (t, text[t.start : t.end])


def test_normalisation_really_moved_the_spans() -> None:
    # Guard for the test above: the BOM shifts offsets, and the variant and full-width characters differ from their terms.
    bom = {t.term: t for t in terms_with_spans(TRICKY[0])}
    assert bom["销售"].start == TRICKY[0].index("销售") and TRICKY[0][0] == "\ufeff"
    wide = {t.term: t for t in terms_with_spans(TRICKY[1])}
    assert TRICKY[1][wide["kpi"].start : wide["kpi"].end] == "ＫＰＩ"
    variant = {t.term: t for t in terms_with_spans(TRICKY[2])}
    assert TRICKY[2][variant["客户需求"].start : variant["客户需求"].end] == "客戶需求"


@pytest.mark.parametrize("text", TRICKY)
def test_evidence_spans_and_sentences_point_into_the_original(clf: Any, text: str) -> None:
    r = clf.explain(text)
    assert r.evidence
    for e in r.evidence:
        assert e.count == len(e.spans)
        for start, end in e.spans:
            assert _spans_match(text, e.term, start, end), (e.term, text[start:end])
    assert r.sentences
    previous_end = 0
    for s in r.sentences:
        assert s.text == text[s.start : s.end] and s.text.strip() == s.text
        assert s.start >= previous_end
        previous_end = s.end
        for e in s.evidence:
            for start, end in e.spans:
                assert s.start <= start < end <= s.end
                assert _spans_match(text, e.term, start, end)


@pytest.mark.parametrize("text", TRICKY)
def test_marks_cover_strong_terms_and_do_not_overlap(clf: Any, text: str) -> None:
    ex = explain_document(clf, "t", text)
    threshold = clf.metadata["verdict"]["signal_weight"]
    for view in ex.sentences:
        at = view.score.start
        for m in view.marks:
            assert view.score.start <= at <= m.start < m.end <= view.score.end
            at = m.end
            assert m.side in ("sales", "marketing")
            assert all(abs(w) >= threshold for _, w in m.terms)
            covered = normalise(text[m.start : m.end]).lower()
            assert all(word in covered for term, _ in m.terms for word in term.split(" "))
        # Every strong term of the sentence is inside some mark.
        for e in view.score.evidence:
            if abs(weight_of(clf, e.term)) >= threshold:
                for start, end in e.spans:
                    assert any(m.start <= start and end <= m.end for m in view.marks), e.term


def test_marks_merge_a_bigram_with_its_words(clf: Any) -> None:
    from pipeline.result import Evidence

    # A strong bigram and its two words become one run; its side is the sign of the strong terms' summed weights.
    threshold = clf.metadata["verdict"]["signal_weight"]
    bigram = next(t for t in sorted(clf.linear.vocabulary) if " " in t and abs(weight_of(clf, t)) >= threshold)
    a, b = bigram.split(" ")
    ev = [Evidence(a, 1, -1.0, ((0, 2),)), Evidence(b, 1, -1.0, ((2, 4),)), Evidence(bigram, 1, -1.0, ((0, 4),))]
    marks = marks_for(clf, ev)
    assert len(marks) == 1 and (marks[0].start, marks[0].end) == (0, 4)
    total = sum(w for w in (weight_of(clf, t) for t in (a, b, bigram)) if abs(w) >= threshold)
    assert marks[0].side == ("marketing" if total > 0 else "sales")
    assert bigram in dict(marks[0].terms)


def test_sentences_get_their_own_orientation(clf: Any) -> None:
    ex = explain_document(clf, "memo", SALES + "\n" + MARKETING)
    orientations = [v.orientation for v in ex.sentences]
    assert orientations[0] == "sales" and orientations[-1] == "marketing"
    assert sentence_orientation(clf, ex.sentences[0].score) == "sales"


def test_hints_table_is_well_formed() -> None:
    hints = load_hints()
    concepts = [h.concept for h in hints]
    assert len(concepts) == len(set(concepts)) and "general" in concepts and "quota" in concepts
    for h in hints:
        assert h.zh and h.en
        for t in h.triggers:
            assert normalise(t).lower() == t, t  # triggers are matched against normalised, lower-cased text
    assert "written for the orient project" in HINTS_FILE.read_text(encoding="utf-8").lower()


def test_hints_match_on_normalised_text() -> None:
    assert "quota" in {h.concept for h in hints_for("完成本月业绩指标")}
    assert "quota" in {h.concept for h in hints_for("达成ＫＰＩ")}  # full-width letters
    assert "discount" in {h.concept for h in hints_for("年付给予９折")}
    assert hints_for("开展市场调研，深入了解客户需求") == []


def test_hints_go_to_the_most_sales_leaning_sentences_once_per_concept(clf: Any) -> None:
    ex = explain_document(clf, "x", SALES + "\n" + MARKETING, hints=3)
    assert ex.hints
    concepts = [h.concept for _, hs in ex.hints for h in hs]
    assert len(concepts) == len(set(concepts))
    for i, _ in ex.hints:
        assert ex.sentences[i].orientation == "sales"
    assert explain_document(clf, "y", MARKETING).hints == ()


def test_render_without_colour_marks_sides_in_brackets(clf: Any) -> None:
    top = _top_sales_term()
    plain = render_terminal(explain_document(clf, "x", SALES), color=False)
    assert not ANSI.search(plain)
    assert _marked_sales(plain, top) and "verdict:" in plain and "top sales terms" in plain and "→" in plain
    coloured = render_terminal(explain_document(clf, "x", SALES), color=True)
    assert ANSI.search(coloured) and not _marked_sales(coloured, top)
    assert ANSI.sub("", coloured).count(top) == plain.count(top)


# --- command line ----------------------------------------------------------------------------------


def test_explain_text_plain_when_not_a_terminal() -> None:
    result = CliRunner().invoke(main, ["explain", "--text", SALES])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert not ANSI.search(out)
    assert "  1 " in out and "P(marketing)" in out and "top marketing terms" in out
    assert "rewriting hints" in out and _marked_sales(out, _top_sales_term())
    assert "sales-oriented" in out


def test_explain_colour_on_request() -> None:
    result = CliRunner().invoke(main, ["explain", "--text", SALES, "--color"])
    assert result.exit_code == 0
    assert ANSI.search(result.stdout)


def _run_in_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run orient with a pseudo-terminal as standard output, as a person at a terminal would."""
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", *args],
        stdout=secondary,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(primary, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(primary)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.slow
def test_colour_on_a_terminal_unless_no_color() -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    assert ANSI.search(_run_in_terminal(["explain", "--text", SALES], env))
    plain = _run_in_terminal(["explain", "--text", SALES], {**env, "NO_COLOR": "1"})
    assert not ANSI.search(plain) and _marked_sales(plain, _top_sales_term())


def test_explain_files_names_bad_ones_and_goes_on(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text(SALES, encoding="utf-8")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nxxxx")
    result = CliRunner().invoke(main, ["explain", str(good), str(bad), str(tmp_path / "missing.txt")])
    assert result.exit_code == 1
    assert "good.txt" in result.stdout and "verdict:" in result.stdout
    assert "bad.txt" in result.stderr and "missing.txt" in result.stderr


@pytest.mark.slow
def test_explain_every_example() -> None:
    for path in sorted((ROOT / "examples").glob("*.txt")):
        result = CliRunner().invoke(main, ["explain", str(path)])
        assert result.exit_code == 0, (path, result.output)
        assert "verdict:" in result.stdout


def test_score_explain_jsonl_has_sentences_and_spans_into_the_original() -> None:
    texts = [TRICKY[0], TRICKY[1], TRICKY[2]]
    args = ["score", "--explain", "--format", "jsonl"]
    for t in texts:
        args += ["--text", t]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len(texts)
    for text, rec in zip(texts, records, strict=True):
        assert rec["sentences"]
        for s in rec["sentences"]:
            start, end = s["span"]
            assert text[start:end] == s["text"]
            for term in s["terms"]:
                for a, b in term["spans"]:
                    assert _spans_match(text, term["term"], a, b)
        for side in ("sales", "marketing"):
            for term in rec["evidence"][side]:
                assert term["spans"]
                for a, b in term["spans"]:
                    assert _spans_match(text, term["term"], a, b)


def test_score_explain_json_and_default_format() -> None:
    result = CliRunner().invoke(main, ["score", "--explain", "--format", "json", "--text", SALES])
    assert result.exit_code == 0
    assert json.loads(result.stdout)[0]["sentences"]
    default = CliRunner().invoke(main, ["score", "--explain", "--text", SALES])
    assert default.exit_code == 0 and json.loads(default.stdout.splitlines()[0])["sentences"]
    plain = CliRunner().invoke(main, ["score", "--text", SALES, "--format", "jsonl"])
    assert "sentences" not in json.loads(plain.stdout)


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_score_explain_refuses_formats_without_room_for_spans(fmt: str) -> None:
    result = CliRunner().invoke(main, ["score", "--explain", "--format", fmt, "--text", SALES])
    assert result.exit_code == 2
    assert "--explain" in result.stderr and "json" in result.stderr


@pytest.mark.parametrize("command", ["explain", "report"])
def test_evidence_commands_have_help_and_are_documented(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0 and "Example" in result.stdout
    assert main.commands[command].help
    assert f"orient {command}" in (ROOT / "README.md").read_text(encoding="utf-8")
