"""The HTML report, read back with the standard library's HTML parser."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from _html_outline import Outline
from click.testing import CliRunner
from conftest import as_jsonl

from pipeline.cli import main
from pipeline.explain import explain_document
from pipeline.report import build_report, histogram_svg

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if p.suffix in (".txt", ".md"))
SALES = "负责公司现有产品的销售，完成每月个人销售任务。"
HOSTILE = '<script>alert("x")</script>完成本月销售指标。"><img src=x onerror=alert(1)>&amp; <!-- 市场调研 -->'


@pytest.fixture(scope="module")
def clf() -> Any:
    import pipeline

    return pipeline.load()


@pytest.fixture(scope="module")
def examples_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Outline]:
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = CliRunner().invoke(main, ["report", *map(str, EXAMPLES), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out, Outline(out.read_text(encoding="utf-8"))


def test_examples_report_has_one_section_per_document(examples_report: tuple[Path, Outline]) -> None:
    _, page = examples_report
    sections = page.find("article", "document")
    assert len(EXAMPLES) == 6
    assert len(sections) == len(EXAMPLES)
    headings = [page.text_of(h) for h in page.find("h3") if h.inside("article", "document")]
    assert headings == [f"{n}. {p}" for n, p in enumerate(EXAMPLES, start=1)]
    rows = [e for e in page.find("tr") if e.inside("table") and "data-score" in e.attrs]
    assert len(rows) == len(EXAMPLES)
    for el in sections:
        assert el.attrs["data-verdict"]
        assert 0.0 <= float(el.attrs["data-p"]) <= 1.0


def test_examples_report_histogram(examples_report: tuple[Path, Outline]) -> None:
    _, page = examples_report
    svgs = page.find("svg", "histogram")
    assert len(svgs) == 1
    bins = page.find("rect", "bin")
    assert len(bins) == 10
    assert sum(int(b.attrs["data-count"]) for b in bins) == len(EXAMPLES)
    probabilities = [float(s.attrs["data-p"]) for s in page.find("article", "document")]
    for b in bins:
        lo, hi = float(b.attrs["data-from"]), float(b.attrs["data-to"])
        inside = [p for p in probabilities if lo <= p < hi or (hi == 1.0 and p == 1.0)]
        assert int(b.attrs["data-count"]) == len(inside)


def test_examples_report_highlights_sentences_and_terms(examples_report: tuple[Path, Outline], clf: Any) -> None:
    _, page = examples_report
    marks = [m for m in page.find("mark", "term") if m.inside("div", "doc-text")]
    expected = sum(len(explain_document(clf, str(p), p.read_text(encoding="utf-8")).marks) for p in EXAMPLES)
    assert len(marks) == expected > 0
    assert {m.classes & {"sales", "marketing"} for m in marks} == {frozenset({"sales"}), frozenset({"marketing"})}
    sentences = [s for s in page.find("span", "s") if s.inside("div", "doc-text")]
    assert any("o-sales" in s.classes for s in sentences) and any("o-marketing" in s.classes for s in sentences)


def test_examples_report_shows_text_verdicts_evidence_and_model_card(examples_report: tuple[Path, Outline]) -> None:
    out, page = examples_report
    raw = out.read_text(encoding="utf-8")
    # The documents' own text is in the page (as text, whatever markup splits it).
    for p, el in zip(EXAMPLES, page.find("div", "doc-text"), strict=True):
        assert page.text_of(el) == p.read_text(encoding="utf-8").replace("\r\n", "\n")
    # Each posting section is labelled where it starts; scoring leaves out the introduction and benefits, and says so.
    labels = {e.attrs["data-section"]: e.attrs["data-label"] for e in page.find("span", "section-label")}
    assert labels["duties"] == "duties"
    assert labels["benefits"] == "pay and benefits (left out of scoring)"
    explanations = page.find("span", "explanation")
    assert len(explanations) == len(EXAMPLES)
    assert page.find("div", "terms")
    card = [e for e in page.elements if e.attrs.get("id") == "model-card"]
    assert card and "accuracy" in page.text_of(card[0])
    assert len(page.find("ul", "limits")) == 1 and page.text_of(page.find("ul", "limits")[0])
    assert 'meta charset="utf-8"' in raw[:200]
    assert "Noto Sans CJK SC" in raw and "Microsoft YaHei" in raw


def test_internal_links_point_at_elements_of_the_page(examples_report: tuple[Path, Outline]) -> None:
    _, page = examples_report
    ids = {e.attrs["id"] for e in page.elements if "id" in e.attrs}
    links = [e.attrs["href"] for e in page.find("a")]
    assert any("-s" in h for h in links)  # hints link to their sentences
    assert all(h.startswith("#") and h[1:] in ids for h in links)


def test_report_is_self_contained(examples_report: tuple[Path, Outline]) -> None:
    out, page = examples_report
    raw = out.read_text(encoding="utf-8")
    assert not page.find("link") and not page.find("img") and not page.find("iframe")
    for el in page.elements:
        assert "src" not in el.attrs, el
        href = el.attrs.get("href", "#")
        assert href.startswith("#"), href
    assert "@import" not in raw and "url(" not in raw
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", raw)
    # The Content Security Policy allows exactly the page's one style and one script, by hash.
    csp = next(e.attrs["content"] for e in page.find("meta") if e.attrs.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp
    for tag in ("style", "script"):
        (el,) = page.find(tag)
        digest = base64.b64encode(hashlib.sha256("".join(el.text).encode("utf-8")).digest()).decode()
        assert f"'sha256-{digest}'" in csp


def test_hostile_text_is_shown_as_text(tmp_path: Path) -> None:
    records = tmp_path / "docs.jsonl"
    records.write_text(as_jsonl({"id": '<b id="x">bold</b>', "text": HOSTILE}, {"id": "plain", "text": SALES}), encoding="utf-8")
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["report", str(records), "--text", "</textarea><script>1</script>", "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = Outline(out.read_text(encoding="utf-8"))
    assert len(page.find("script")) == 1  # ours only
    assert not page.find("img") and not page.find("b") and not page.find("textarea")
    texts = [page.text_of(el) for el in page.find("div", "doc-text")]
    assert HOSTILE in texts and "</textarea><script>1</script>" in texts
    assert any(page.text_of(h) == '2. <b id="x">bold</b>' for h in page.find("h3"))


def test_unsafe_characters_become_replacement_characters(clf: Any) -> None:
    text = "销售\x00指标\ud800完成\x1b[31m。"
    ex = explain_document(clf, "bad\x07id", text)
    page = build_report([ex], clf.metadata)
    page.encode("utf-8")  # no lone surrogate survives
    outline = Outline(page)
    shown = outline.text_of(outline.find("div", "doc-text")[0])
    assert len(shown) == len(text) and "\x00" not in shown and "\ufffd" in shown


def test_report_names_bad_inputs_and_keeps_the_rest(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text(SALES, encoding="utf-8")
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["report", str(good), str(binary), str(tmp_path / "missing.txt"), "-o", str(out)])
    assert result.exit_code == 1
    assert "image.txt" in result.stderr and "missing.txt" in result.stderr
    page = Outline(out.read_text(encoding="utf-8"))
    assert len(page.find("article", "document")) == 1
    skipped = page.text_of(page.find("div", "skipped")[0])
    assert "image.txt" in skipped and "missing.txt" in skipped


def test_report_with_nothing_readable_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["report", str(tmp_path / "missing.txt"), "-o", str(out)])
    assert result.exit_code == 1
    assert "missing.txt" in result.stderr
    assert not out.exists() and not list(tmp_path.iterdir())


def test_report_refuses_to_overwrite_its_input(tmp_path: Path) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_text(SALES, encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(doc), "-o", str(doc)])
    assert result.exit_code == 2 and doc.read_text(encoding="utf-8") == SALES


def test_report_to_standard_output_when_it_is_not_a_terminal() -> None:
    result = CliRunner().invoke(main, ["report", "--text", SALES])
    assert result.exit_code == 0
    assert result.stdout.startswith("<!DOCTYPE html>")
    assert len(Outline(result.stdout).find("article", "document")) == 1


def test_histogram_edges() -> None:
    page = Outline(histogram_svg([0.0, 0.05, 0.5, 0.99, 1.0], [0.2, 0.4, 0.6, 0.8]))
    counts = [int(b.attrs["data-count"]) for b in page.find("rect", "bin")]
    assert counts == [2, 0, 0, 0, 0, 1, 0, 0, 0, 2]
    assert len(page.find("line", "band")) == 4
    empty = Outline(histogram_svg([], [0.5]))
    assert [int(b.attrs["data-count"]) for b in empty.find("rect", "bin")] == [0] * 10
