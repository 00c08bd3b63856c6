"""Output formats: valid JSON/CSV, Chinese kept readable, tables aligned by display width."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from pipeline.writers import FORMATS, display_width, make_writer

RECORD: dict[str, Any] = {
    "id": "文档-1",
    "label": "marketing",
    "marketing_probability": 0.8123,
    "verdict": "strongly marketing-oriented",
    "signal_terms": 3,
    "evidence": {
        "sales": [{"term": "回款", "count": 1, "contribution": -0.2}],
        "marketing": [
            {"term": "市场调研", "count": 2, "contribution": 0.9},
            {"term": "品牌定位", "count": 1, "contribution": 0.4},
        ],
    },
}


def _write(fmt: str, records: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = make_writer(fmt, out)
    for r in records:
        writer.write(r)
    writer.close()
    return out.getvalue()


def test_formats() -> None:
    assert set(FORMATS) == {"table", "jsonl", "json", "csv", "tsv", "xlsx"}


@pytest.mark.parametrize("n", [0, 1, 3])
def test_json_is_one_valid_array(n: int) -> None:
    text = _write("json", [RECORD] * n)
    assert json.loads(text) == [RECORD] * n
    assert text.endswith("\n")


def test_jsonl_is_one_object_per_line_with_readable_chinese() -> None:
    text = _write("jsonl", [RECORD, RECORD])
    lines = text.splitlines()
    assert [json.loads(line) for line in lines] == [RECORD, RECORD]
    assert "市场调研" in text and "\\u" not in text


def test_csv_has_a_header_and_top_terms() -> None:
    rows = list(csv.DictReader(io.StringIO(_write("csv", [RECORD]))))
    assert len(rows) == 1
    row = rows[0]
    assert row["id"] == "文档-1"
    assert row["label"] == "marketing"
    assert float(row["marketing_probability"]) == 0.8123
    assert row["verdict"] == "strongly marketing-oriented"
    assert row["marketing_terms"] == "市场调研、品牌定位"
    assert row["sales_terms"] == "回款"


def test_csv_without_records_is_just_the_header() -> None:
    rows = list(csv.reader(io.StringIO(_write("csv", []))))
    assert len(rows) == 1 and "id" in rows[0]


def test_display_width_counts_cjk_as_two() -> None:
    assert display_width("abc") == 3
    assert display_width("市场") == 4
    assert display_width("ＫＰＩ") == 6


def test_table_columns_line_up_with_chinese_ids() -> None:
    records = [dict(RECORD, id="a"), dict(RECORD, id="中文文件名.txt")]
    lines = _write("table", records).splitlines()
    assert len(lines) == 3
    # The verdict column starts at the same display column on every row.
    columns = {
        display_width(line[: line.index(word)])
        for line, word in zip(lines, ["verdict", RECORD["verdict"], RECORD["verdict"]], strict=True)
    }
    assert len(columns) == 1


def test_table_shortens_very_long_ids() -> None:
    long_id = "/very/long/path/" + "x" * 80 + "/end.txt"
    (_, row) = _write("table", [dict(RECORD, id=long_id)]).splitlines()
    assert "…" in row
    assert "end.txt" in row
    assert long_id not in row


def _text_stream(line_buffering: bool) -> tuple[io.BytesIO, io.TextIOWrapper]:
    raw = io.BytesIO()
    return raw, io.TextIOWrapper(raw, encoding="utf-8", newline="", line_buffering=line_buffering)


@pytest.mark.parametrize("line_buffering", [False, True])
def test_jsonl_lines_made_elsewhere_go_to_the_bytes_beneath_unless_each_must_reach_the_stream(line_buffering: bool) -> None:
    from pipeline.writers import JsonlWriter, bytes_under, jsonl_encoded, jsonl_line

    raw, out = _text_stream(line_buffering)
    under = bytes_under(out)
    assert under is (None if line_buffering else raw)
    writer = JsonlWriter(out, under)
    writer.write_encoded(jsonl_encoded(RECORD))
    if line_buffering:
        assert raw.getvalue() == jsonl_line(RECORD).encode()  # there already, as -o FILE needs against a kill
    writer.write({**RECORD, "id": "2"})
    writer.write_encoded(jsonl_line({**RECORD, "id": "3"}))  # a line made as text is taken too
    writer.write_all([jsonl_encoded({**RECORD, "id": "4"}), jsonl_line({**RECORD, "id": "5"})])  # a run of them, in order
    writer.close()
    ids = (RECORD["id"], "2", "3", "4", "5")
    assert raw.getvalue() == "".join(jsonl_line({**RECORD, "id": i}) for i in ids).encode()


def test_only_a_plain_utf8_stream_has_bytes_json_lines_may_go_to() -> None:
    from pipeline.writers import bytes_under

    assert bytes_under(io.StringIO()) is None
    assert bytes_under(io.TextIOWrapper(io.BytesIO(), encoding="gb18030")) is None
    assert bytes_under(io.TextIOWrapper(io.BytesIO(), encoding="utf-8")) is not None


def test_a_lone_surrogate_is_written_as_its_json_escape_and_reads_back_the_same() -> None:
    from pipeline.writers import jsonl_encoded

    line = jsonl_encoded({**RECORD, "id": "a\ud800b"})
    assert b'"id": "a\\ud800b"' in line
    assert json.loads(line.decode("utf-8")) == {**RECORD, "id": "a\ud800b"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_writes_an_id_with_a_lone_surrogate(fmt: str) -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", newline="")
    writer = make_writer(fmt, out)
    writer.write({**RECORD, "id": "a\ud800b"})
    writer.close()
    if fmt == "xlsx":
        import openpyxl

        text = next(openpyxl.load_workbook(io.BytesIO(raw.getvalue())).active.iter_rows(min_row=2, values_only=True))[0]
    else:
        text = raw.getvalue().decode("utf-8")
    assert "a\\ud800b" in text
    if fmt in ("json", "jsonl"):  # a JSON escape: the id reads back as it was
        parsed = json.loads(text)
        assert (parsed[0] if fmt == "json" else parsed)["id"] == "a\ud800b"


def test_a_jsonl_line_made_as_text_with_a_lone_surrogate_is_written_as_its_escape() -> None:
    from pipeline.writers import JsonlWriter, jsonl_line

    out = io.StringIO()
    JsonlWriter(out).write_encoded(jsonl_line({"id": "a\ud800b"}))
    assert out.getvalue() == '{"id": "a\\ud800b"}\n'
    assert json.loads(out.getvalue()) == {"id": "a\ud800b"}


@pytest.mark.parametrize(
    ("term", "shown"),
    [("开发 客户", "开发客户"), ("brand awareness", "brand awareness"), ("crm 系统", "crm系统"), ("市场调研", "市场调研")],
)
def test_a_word_pair_reads_as_one_phrase(term: str, shown: str) -> None:
    from pipeline.writers import phrase

    assert phrase(term) == shown


def test_a_row_that_could_not_be_scored_keeps_its_cells() -> None:
    from pipeline.writers import CsvWriter

    out = io.StringIO()
    writer = CsvWriter(out)
    writer.write(RECORD, [("职位", "销售"), ("label", "gold")])
    writer.write_failure("jobs.csv:row 3", "not scored: is empty", [("职位", "行政"), ("label", "")])
    writer.close()
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    # The sheet's own "label" column keeps its name; orient's is written orient_label.
    scores = ["marketing_probability", "verdict", "reason", "signal_terms", "sales_terms", "marketing_terms", "id"]
    assert rows[0] == ["职位", "label", "orient_label", *scores]
    assert rows[1][:4] == ["销售", "gold", "marketing", "0.8123"]
    assert rows[2] == ["行政", "", "", "", "", "not scored: is empty", "", "", "", "jobs.csv:row 3"]
