"""Sheets as people have them (issue 17): a sheet in, the same sheet plus scores out, in CSV, TSV and Excel."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import MARKETING_TEXT, SALES_TEXT

from pipeline.cli import main

SCORES = ["label", "marketing_probability", "verdict", "reason", "signal_terms", "sales_terms", "marketing_terms"]


def _sheet(path: Path, sep: str = ",", encoding: str = "utf-8") -> Path:
    rows = [
        ["职位名称", "城市", "职位描述"],
        ["销售代表", "广州", SALES_TEXT],
        ["市场专员", "上海", MARKETING_TEXT],
        ["行政", "北京", ""],
    ]
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def _xlsx_rows(path: Path) -> list[list[Any]]:
    """The first sheet's rows; an empty cell reads back as None, as Excel leaves it, the others as written."""
    return [[c for c in r] for r in openpyxl.load_workbook(path).active.iter_rows(values_only=True)]


def _score(*args: str) -> Any:
    return CliRunner().invoke(main, ["score", *args])


def _expected(shipped: Any, path: Path, text: str) -> list[Any]:
    r = shipped.score(text).to_dict()
    return [r["label"], r["marketing_probability"], r["verdict"], r["reason"], r["signal_terms"]]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".tsv"])
def test_a_sheet_in_is_the_same_sheet_plus_scores_out(tmp_path: Path, shipped: Any, suffix: str) -> None:
    sheet = _sheet(tmp_path / "jobs.csv")
    out = tmp_path / f"scored{suffix}"
    result = _score(str(sheet), "--text-field", "职位描述", "-o", str(out))
    # The empty row is named (as a spreadsheet numbers it) and kept in the output, with why.
    assert result.exit_code == 1
    assert f"orient: {sheet}:row 4 is empty; skipped." in result.stderr
    if suffix == ".xlsx":
        rows = _xlsx_rows(out)
    else:
        data = out.read_bytes()
        assert data.startswith(b"\xef\xbb\xbf")  # a byte-order mark, so Excel reads the Chinese right
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter="\t" if suffix == ".tsv" else ","))
    assert rows[0] == ["职位名称", "城市", "职位描述", *SCORES, "id"]
    assert [[c or "" for c in r[:3]] for r in rows[1:]] == [
        ["销售代表", "广州", SALES_TEXT],
        ["市场专员", "上海", MARKETING_TEXT],
        ["行政", "北京", ""],
    ]
    assert [r[-1] for r in rows[1:]] == [f"{sheet}:row 2", f"{sheet}:row 3", f"{sheet}:row 4"]
    cells = [[None if c in ("", None) else c for c in r[3:8]] for r in rows[1:3]]
    expected = [_expected(shipped, sheet, t) for t in (SALES_TEXT, MARKETING_TEXT)]
    if suffix != ".xlsx":  # text cells: numbers come back as text
        expected = [[None if v is None else str(v) for v in e] for e in expected]
    assert cells == expected
    assert rows[3][3:8] in ([None, None, None, "not scored: is empty", None], ["", "", "", "not scored: is empty", ""])
    assert "、" in rows[1][8]  # evidence terms joined as a reader lists them


def test_a_tsv_and_a_delimiter(tmp_path: Path) -> None:
    tsv = _sheet(tmp_path / "jobs.tsv", sep="\t")
    semi = _sheet(tmp_path / "jobs.txt", sep=";")
    by_tab = _score(str(tsv), "--text-field", "职位描述", "--format", "jsonl")
    by_semicolon = _score(str(semi), "--input-format", "csv", "--delimiter", ";", "--text-field", "职位描述", "--format", "jsonl")
    assert by_tab.exit_code == by_semicolon.exit_code == 1
    assert len(by_tab.stdout.splitlines()) == len(by_semicolon.stdout.splitlines()) == 2
    assert by_tab.stdout.replace(str(tsv), "X") == by_semicolon.stdout.replace(str(semi), "X")


def test_csv_without_a_bom_on_request_and_on_standard_output(tmp_path: Path) -> None:
    out = tmp_path / "plain.csv"
    assert _score("--text", SALES_TEXT, "-o", str(out), "--no-bom").exit_code == 0
    assert out.read_bytes().startswith(b"id,label,")
    assert _score("--text", SALES_TEXT, "--format", "csv").stdout.startswith("id,label,")


def test_a_gb18030_export_becomes_xlsx_and_csv(tmp_path: Path) -> None:
    sheet = _sheet(tmp_path / "export.csv", encoding="gb18030")
    xlsx, csv_out = tmp_path / "out.xlsx", tmp_path / "out.csv"
    for out in (xlsx, csv_out):
        assert _score(str(sheet), "--text-field", "职位描述", "-o", str(out)).exit_code == 1
    from_xlsx = _xlsx_rows(xlsx)
    with csv_out.open(encoding="utf-8-sig", newline="") as fh:
        from_csv = list(csv.reader(fh))
    assert from_xlsx[0] == from_csv[0] == ["职位名称", "城市", "职位描述", *SCORES, "id"]
    assert [[c or "" for c in r[:3]] for r in from_xlsx[1:]] == [r[:3] for r in from_csv[1:]]
    assert from_csv[2][:2] == ["市场专员", "上海"]


def test_the_output_suffix_chooses_the_format_and_format_overrides_it(tmp_path: Path) -> None:
    out = tmp_path / "scored.csv"
    assert _score("--text", SALES_TEXT, "-o", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8-sig").startswith("id,label,")
    assert _score("--text", SALES_TEXT, "-o", str(out), "--format", "jsonl").exit_code == 0
    assert out.read_text(encoding="utf-8").startswith('{"id": "text"')


def _workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    first = book.active
    first.title = "岗位"
    for row in (["职位名称", "职位描述"], ["销售代表", SALES_TEXT], ["编号", 12345], ["市场专员", MARKETING_TEXT]):
        first.append(row)
    other = book.create_sheet("其他")
    other.append(["职位描述"])
    other.append([MARKETING_TEXT])
    book.save(path)
    return path


def test_an_excel_sheet_in_and_out(tmp_path: Path, shipped: Any) -> None:
    book = _workbook(tmp_path / "jobs.xlsx")
    out = tmp_path / "scored.xlsx"
    result = _score(str(book), "--text-field", "职位描述", "-o", str(out))
    assert result.exit_code == 1
    # A number in the text column is named with its row, and the other rows are scored.
    assert f"orient: {book}:row 3 holds int 12345 in column '职位描述', not text; skipped." in result.stderr
    rows = _xlsx_rows(out)
    assert rows[0] == ["职位名称", "职位描述", *SCORES, "id"]
    assert [r[0] for r in rows[1:]] == ["销售代表", "编号", "市场专员"]
    assert rows[1][2:4] == [shipped.score(SALES_TEXT).label, shipped.score(SALES_TEXT).to_dict()["marketing_probability"]]
    assert rows[2][5] == "not scored: holds int 12345 in column '职位描述', not text"
    # Another sheet by name; a sheet that is not there is named with the ones that are.
    other = _score(str(book), "--sheet", "其他", "--text-field", "职位描述", "--format", "jsonl")
    assert other.exit_code == 0 and len(other.stdout.splitlines()) == 1
    missing = _score(str(book), "--sheet", "无", "--text-field", "职位描述", "--format", "jsonl")
    assert missing.exit_code == 1 and "无" in missing.stderr and "岗位" in missing.stderr


def test_word_and_web_pages_are_read_as_people_see_them(tmp_path: Path, shipped: Any) -> None:
    import docx

    word = tmp_path / "jd.docx"
    document = docx.Document()
    document.add_paragraph("岗位职责：")
    document.add_paragraph(MARKETING_TEXT)
    document.save(word)
    page = tmp_path / "jd.html"
    page.write_text(
        f"<html><head><script>gtag('js', new Date())</script><style>p{{color:red}}</style></head>"
        f"<body><nav>首页 · 招聘 · 登录</nav><main><p>{SALES_TEXT}</p></main></body></html>",
        encoding="utf-8",
    )
    result = _score(str(word), str(page), "--format", "jsonl", "--explain")
    assert result.exit_code == 0, result.stderr
    by_id = {r["id"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert by_id[str(page)]["marketing_probability"] == shipped.score(SALES_TEXT).to_dict()["marketing_probability"]
    assert "gtag" not in result.stdout and "首页" not in result.stdout
    # Spans point into the extracted text, which is what explain shows.
    sentences = by_id[str(word)]["sentences"]
    assert any(s["text"] == MARKETING_TEXT for s in sentences)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("scan.pdf", b"%PDF-1.4 not really", "is damaged or is not a PDF; print it to a new PDF or paste its text"),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "is an old Word .doc file; save it as .docx and try again"),
        ("broken.xlsx", b"PK\x03\x04 not a workbook", None),
    ],
)
def test_a_file_that_cannot_be_read_is_named_and_the_rest_are_scored(
    tmp_path: Path, name: str, data: bytes, message: str | None
) -> None:
    bad = tmp_path / name
    bad.write_bytes(data)
    result = _score(str(bad), "--text", SALES_TEXT, "--format", "jsonl")
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 1
    (line,) = [x for x in result.stderr.splitlines() if str(bad) in x]
    assert line.startswith(f"orient: {bad} ") and line.endswith("; skipped.")
    if message:
        assert line == f"orient: {bad} {message}; skipped."


def test_train_and_evaluate_read_a_workbook_with_its_own_columns(tmp_path: Path) -> None:
    from pipeline.training.realeval import read_documents
    from pipeline.training.train import labelled_set

    path = tmp_path / "labels.xlsx"
    book = openpyxl.Workbook()
    for row in (
        ["描述", "类别", "可信度"],
        [SALES_TEXT, "销售", "高"],
        [MARKETING_TEXT, "营销", "中"],
        [SALES_TEXT, "中性", "低"],
    ):
        book.active.append(row)
    book.save(path)
    assert labelled_set(path, "user1", "描述", "类别").labels == ["sales", "marketing"]
    docs, bad = read_documents(path, text_field="描述", label_field="类别", confidence_field="可信度")
    assert bad == [] and [(d.label, d.confidence) for d in docs] == [
        ("sales", "high"),
        ("marketing", "medium"),
        ("neutral", "low"),
    ]
