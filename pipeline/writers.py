"""Output formats for scored records: table, JSON lines, JSON, CSV, TSV, Excel. Chinese is written as Chinese.

Tabular formats (CSV, TSV, Excel) give a spreadsheet's rows back with their own columns and the scores
appended, so the output can be joined to (or replace) the sheet it came from.
"""

from __future__ import annotations

import codecs
import csv
import json
import os
import unicodedata
from collections.abc import Sequence
from typing import Any, BinaryIO, TextIO

FORMATS = ("table", "jsonl", "json", "csv", "tsv", "xlsx")
# The format an output file's suffix asks for (--format overrides it).
SUFFIX_FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".xlsx": "xlsx"}
TABULAR = ("csv", "tsv", "xlsx")
SCORE_COLUMNS = ("label", "marketing_probability", "verdict", "reason", "signal_terms", "sales_terms", "marketing_terms")
CSV_COLUMNS = ("id", *SCORE_COLUMNS)


def display_width(text: str) -> int:
    """Terminal columns a string takes (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def phrase(term: str) -> str:
    """A term as a reader writes it: a word pair of Chinese as one phrase (开发客户), of other words with a space."""
    words = term.split(" ")
    joined = words[0]
    for word in words[1:]:
        joined += " " + word if joined[-1].isascii() and word[0].isascii() else word
    return joined


def _terms(record: dict[str, Any], side: str, limit: int = 3) -> str:
    return "、".join(phrase(e["term"]) for e in record["evidence"][side][:limit])


class Writer:
    """Writes records one at a time to a text stream; `close` finishes the format."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def write(self, record: dict[str, Any], columns: Sequence[tuple[str, str]] = ()) -> None:
        """Write one record (with the input row's own cells, which only tabular formats keep)."""
        raise NotImplementedError

    # A writer whose output per record does not depend on the records before it can have that output
    # made elsewhere (by the worker processes that scored the record): `encode` there, `write_encoded` here.
    encode: Any = None

    def write_encoded(self, encoded: Any, columns: Sequence[tuple[str, str]] = ()) -> None:
        """Write what `encode` made of a record (the record itself for writers without `encode`)."""
        self.write(encoded, columns)

    def write_all(self, encoded: list[Any]) -> None:
        """write_encoded each of a list, in order."""
        for one in encoded:
            self.write_encoded(one)

    def close(self) -> None:
        """Finish the output (closing brackets, flushing)."""
        self.out.flush()


# One encoder for every line: json.dumps with options would build a new one per record.
json_text = json.JSONEncoder(ensure_ascii=False).encode


def jsonl_line(record: dict[str, Any]) -> str:
    """One record as a line of JSON, Chinese kept as Chinese; a scored document's by score_line, whichever path scored it."""
    if tuple(record) == SCORE_FIELDS:
        evidence = record["evidence"]
        items = [e for side in evidence.values() for e in side]
        if tuple(evidence) == ("sales", "marketing") and all(tuple(e) == EVIDENCE_FIELDS for e in items):
            sales, marketing = (
                ", ".join([evidence_item(evidence_head(e["term"]), e["count"], json_round4(e["contribution"])) for e in side])
                for side in (evidence["sales"], evidence["marketing"])
            )
            p, gate = json_round4(record["marketing_probability"]), json_round4(record["orientation_signal"])
            label, verdict, reason, signal = record["label"], record["verdict"], record["reason"], record["signal_terms"]
            return score_line(record["id"], label, verdict, reason, p, signal, gate, sales, marketing)
    return json_text(record) + "\n"


# A scored document's record, and each of its evidence terms, as Result.to_dict makes them (with an id first).
SCORE_FIELDS = ("id", "label", "marketing_probability", "verdict", "reason", "signal_terms", "orientation_signal", "evidence")
EVIDENCE_FIELDS = ("term", "count", "contribution")


def score_line(
    doc_id: str,
    label: str | None,
    verdict: str,
    reason: str | None,
    probability: str,
    signal_terms: int,
    gate: str,
    sales: str,
    marketing: str,
) -> str:
    """The line of JSON of a scored document: the one serializer of scores, for a single text and a chunk alike.

    Numbers come as their JSON text (json_round4: the rounding of records), the evidence as its items joined
    (evidence_item). The label is null when a `reason` says why there is none.
    """
    shown = "null" if reason or label is None else json_text(label)
    return (
        f'{{"id": {json_text(doc_id)}, "label": {shown}, "marketing_probability": {probability}, '
        f'"verdict": {json_text(verdict)}, "reason": {json_text(reason) if reason else "null"}, "signal_terms": {signal_terms}, '
        f'"orientation_signal": {gate}, "evidence": {{"sales": [{sales}], "marketing": [{marketing}]}}}}\n'
    )


def evidence_head(term: str) -> str:
    """The JSON that opens an evidence term's object, up to its count (a chunk's scorer keeps them by term)."""
    return f'{{"term": {json_text(term)}, "count": '


def evidence_item(head: str, count: int, contribution: str) -> str:
    """One evidence term's JSON object, from its head (evidence_head), its count and its contribution's JSON text."""
    return f'{head}{count}, "contribution": {contribution}}}'


def json_round4(x: float) -> str:
    """The JSON text of round(x, 4), as jsonl_line writes it: one decimal conversion instead of two.

    Formatting with ".4f" rounds x to four places exactly as round(x, 4) does (both are correctly rounded).
    Below 1e11 those digits have at most 15 significant figures, so they are also the shortest repr of the
    rounded float, once trailing zeros go. Other numbers (larger, NaN, infinite) take round and the encoder.
    """
    if -1e11 < x < 1e11:
        digits = f"{x:.4f}".rstrip("0")
        return digits + "0" if digits[-1] == "." else digits
    return json_text(round(x, 4))


def utf8_line(line: str) -> bytes:
    """A line of JSON as UTF-8; a lone surrogate (which UTF-8 has no form for) as its JSON escape, which reads back the same."""
    return line.encode("utf-8", "backslashreplace")


def jsonl_encoded(record: dict[str, Any]) -> bytes:
    """What JsonlWriter.write_encoded takes: the record's line of JSON as UTF-8, made where the record was scored."""
    return utf8_line(jsonl_line(record))


def writable(text: str) -> str:
    """The text with each lone surrogate (a broken "\\ud800" escape, a file name's undecodable byte), which no
    output can encode, as its escape: inside JSON a string escape that reads back the same, elsewhere visible."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return utf8_line(text).decode("utf-8")
    return text


def bytes_under(out: TextIO) -> BinaryIO | None:
    """The bytes beneath a text stream that JSON lines (UTF-8, "\\n") may be written to directly, or None.

    None when every line must reach the stream as it is written (line buffering: a terminal, and -o FILE for
    JSON lines, which a kill must not lose), or when the stream would encode or end lines otherwise. Only
    for a stream nothing else writes to: text written to `out` meanwhile would come out of order.
    """
    buffer = getattr(out, "buffer", None)
    encoding = getattr(out, "encoding", None)
    if buffer is None or not encoding or getattr(out, "line_buffering", True) or os.linesep != "\n":
        return None
    return buffer if codecs.lookup(encoding).name == "utf-8" else None


class JsonlWriter(Writer):
    """One JSON object per line; with `raw` (see bytes_under), written to those bytes beneath the text stream."""

    encode = staticmethod(jsonl_encoded)

    def __init__(self, out: TextIO, raw: BinaryIO | None = None) -> None:
        super().__init__(out)
        # Lines made as UTF-8 where they were scored (by worker processes, say) go to raw as they are, without
        # being decoded and encoded again here.
        self.raw = raw
        if raw is not None:
            out.flush()

    def write(self, record: dict[str, Any], columns: Sequence[tuple[str, str]] = ()) -> None:
        """Write one record as a line of JSON."""
        self.write_encoded(jsonl_encoded(record))

    def write_encoded(self, encoded: bytes | str, columns: Sequence[tuple[str, str]] = ()) -> None:
        """Write a line made by `jsonl_encoded` (or by `jsonl_line`)."""
        if self.raw is None:
            self.out.write(writable(encoded) if isinstance(encoded, str) else encoded.decode("utf-8"))
        else:
            self.raw.write(encoded if isinstance(encoded, bytes) else utf8_line(encoded))

    def write_all(self, encoded: list[Any]) -> None:
        """Write lines made by `jsonl_encoded` (or by `jsonl_line`), in order."""
        if self.raw is None:
            super().write_all(encoded)
        else:
            self.raw.writelines(line if isinstance(line, bytes) else utf8_line(line) for line in encoded)


class JsonWriter(Writer):
    """A JSON array, streamed: records are written as they come."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        self.count = 0

    def write(self, record: dict[str, Any], columns: Sequence[tuple[str, str]] = ()) -> None:
        """Write one element of the array."""
        self.out.write(("[\n" if self.count == 0 else ",\n") + writable(json.dumps(record, ensure_ascii=False, indent=2)))
        self.count += 1

    def close(self) -> None:
        """Close the array."""
        self.out.write("[]\n" if self.count == 0 else "\n]\n")
        super().close()


class TabularWriter(Writer):
    """Rows of a sheet: the input's own columns (when it had any), then the scores.

    The header is fixed by the first row: the first input's columns, then SCORE_COLUMNS (a score column whose
    name the sheet already uses is written `orient_NAME`), then the record id. Rows of later inputs fill the
    columns they share by name.
    """

    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        self.header: list[str] | None = None
        self.own: list[str] = []

    def start(self, header: list[str]) -> None:
        """Begin the table with its header row."""
        raise NotImplementedError

    def row(self, cells: list[Any]) -> None:
        """Write one row."""
        raise NotImplementedError

    def write_failure(self, doc_id: str, message: str, columns: Sequence[tuple[str, str]]) -> None:
        """Keep a row that could not be scored: its own cells, no scores, and why in the reason column."""
        self.write(
            {
                "id": doc_id,
                "label": None,
                "marketing_probability": None,
                "verdict": None,
                "reason": message,
                "signal_terms": None,
                "evidence": {"sales": [], "marketing": []},
            },
            columns,
        )

    def write(self, record: dict[str, Any], columns: Sequence[tuple[str, str]] = ()) -> None:
        """Write one row: the input's cells, then the record's scores."""
        if self.header is None:
            self.own = [name for name, _ in columns]
            named = [f"orient_{c}" if c in self.own else c for c in (*SCORE_COLUMNS, "id")]
            self.header = [*self.own, *named] if self.own else ["id", *SCORE_COLUMNS]
            self.start(self.header)
        cells = dict(columns)
        scores: list[Any] = [
            record["label"],
            record["marketing_probability"],
            record["verdict"],
            record.get("reason"),
            record["signal_terms"],
            _terms(record, "sales", 5),
            _terms(record, "marketing", 5),
        ]
        doc_id = writable(record["id"])
        own = [writable(cells.get(name, "")) for name in self.own]
        self.row([*own, *scores, doc_id] if self.own else [doc_id, *scores])


class CsvWriter(TabularWriter):
    """CSV (or, with a tab delimiter, TSV); with `bom`, UTF-8 with a byte-order mark, as Excel on Windows needs for Chinese."""

    def __init__(self, out: TextIO, delimiter: str = ",", bom: bool = False) -> None:
        super().__init__(out)
        if bom:
            out.write("\ufeff")
        self.csv = csv.writer(out, lineterminator="\n", delimiter=delimiter)

    def start(self, header: list[str]) -> None:
        """Write the header row."""
        self.csv.writerow(header)

    def row(self, cells: list[Any]) -> None:
        """Write one row."""
        self.csv.writerow(["" if c is None else c for c in cells])

    def close(self) -> None:
        """Write the header of an empty table, then flush."""
        if self.header is None:
            self.start(list(CSV_COLUMNS))
        super().close()


class XlsxWriter(TabularWriter):
    """An Excel workbook of one sheet, written to the bytes beneath the output when it is complete."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        from openpyxl import Workbook

        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet("orient")

    def start(self, header: list[str]) -> None:
        """Write the header row."""
        self.sheet.append(header)

    def row(self, cells: list[Any]) -> None:
        """Write one row; text that Excel would take for a formula stays text."""
        self.sheet.append([self._cell(c) for c in cells])

    def _cell(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        from openpyxl.cell import WriteOnlyCell

        # Characters XML cannot hold would make the workbook unreadable.
        cell = WriteOnlyCell(self.sheet, value="".join(ch if ch in "\t\n\r" or ord(ch) >= 32 else " " for ch in value))
        cell.data_type = "s"  # "=…" in a posting is text, not a formula to run
        return cell

    def close(self) -> None:
        """Save the workbook."""
        if self.header is None:
            self.start(list(CSV_COLUMNS))
        self.out.flush()
        self.book.save(self.out.buffer)
        self.out.buffer.flush()


class TableWriter(Writer):
    """An aligned table for people; the id column is as wide as it needs to be (up to 40 columns)."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        self.header = False

    def write(self, record: dict[str, Any], columns: Sequence[tuple[str, str]] = ()) -> None:
        """Write one row (and the header before the first)."""
        if not self.header:
            self.out.write(f"{_pad('id', 36)}  {_pad('verdict', 27)}  P(mkt)  top terms (sales | marketing)\n")
            self.header = True
        doc_id = writable(record["id"])
        if display_width(doc_id) > 36:
            doc_id = "…" + doc_id[-34:]
        terms = f"{_terms(record, 'sales')} | {_terms(record, 'marketing')}"
        self.out.write(f"{_pad(doc_id, 36)}  {_pad(record['verdict'], 27)}  {record['marketing_probability']:.2f}    {terms}\n")


def make_writer(fmt: str, out: TextIO, bom: bool = False) -> Writer:
    """Return the writer for a format name (JSON lines go to the bytes beneath `out` where they can: see bytes_under)."""
    if fmt == "jsonl":
        return JsonlWriter(out, bytes_under(out))
    if fmt in ("csv", "tsv"):
        return CsvWriter(out, "\t" if fmt == "tsv" else ",", bom)
    if fmt == "xlsx":
        return XlsxWriter(out)
    return {"table": TableWriter, "json": JsonWriter}[fmt](out)
