"""Turning inputs into documents: decoding, binary files, records, and every problem named, never raised."""

from __future__ import annotations

import codecs
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import MARKETING_TEXT, SALES_TEXT

from pipeline.readers import DecodeError, Document, Failure, decode, read_inputs
from pipeline.training.labelled import read_labelled

ROOT = Path(__file__).resolve().parent.parent
POSTING = (ROOT / "examples" / "marketing_posting.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("text", [SALES_TEXT, MARKETING_TEXT, "负责市场调研", POSTING])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_decode_detects_the_encoding(text: str, encoding: str) -> None:
    assert decode(text.encode(encoding)) == text


def test_decode_with_a_given_encoding() -> None:
    assert decode(MARKETING_TEXT.encode("gbk"), "gbk") == MARKETING_TEXT
    with pytest.raises(DecodeError, match="'no-such-codec' is not an encoding Python knows"):
        decode(b"abc", "no-such-codec")
    with pytest.raises(DecodeError, match=r"is not valid utf-8 \(byte 0\)"):
        decode(MARKETING_TEXT.encode("gbk"), "utf-8")


@pytest.mark.parametrize(
    "data, message",
    [
        (b"abc\x00def", "looks like a binary file (it contains NUL bytes), not text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is a PNG image, not text"),
        (b"%PDF-1.7\n", "is a PDF file, not text"),
        (b"PK\x03\x04\x14\x00", "is a ZIP archive (or .docx/.xlsx), not text"),
    ],
)
def test_binary_data_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode(data)
    assert str(info.value) == message


def _read(names: list[str], **kwargs: object) -> list[Document | Failure]:
    return list(read_inputs(names, **kwargs))  # type: ignore[arg-type]


def test_files_in_every_encoding_read_the_same(tmp_path: Path) -> None:
    names = []
    for enc in ("utf-8", "utf-8-sig", "gb18030", "gbk"):
        p = tmp_path / f"{enc}.txt"
        p.write_bytes(POSTING.encode(enc))
        names.append(str(p))
    docs = _read(names)
    assert [d.id for d in docs] == names
    assert all(isinstance(d, Document) and d.text == POSTING for d in docs)


def test_a_bad_file_becomes_a_failure_and_the_batch_goes_on(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(SALES_TEXT, encoding="utf-8")
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.txt").write_text(" \n\t\n\u3000\n", encoding="utf-8")
    (tmp_path / "z.txt").write_text(MARKETING_TEXT, encoding="utf-8")
    names = [str(tmp_path / n) for n in ("a.txt", "bin.txt", "missing.txt", "empty.txt", "blank.txt", "z.txt")]
    docs = _read(names)
    assert [type(d).__name__ for d in docs] == ["Document", "Failure", "Failure", "Failure", "Failure", "Document"]
    assert [d.id for d in docs] == names
    assert docs[1].message == "looks like a binary file (it contains NUL bytes), not text"
    assert docs[2].message == "does not exist"
    assert docs[3].message == "is empty"
    assert docs[4].message == "is empty"


def test_control_character_soup_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "ctl.txt"
    p.write_bytes(bytes(range(1, 9)) * 20 + "销售".encode())
    (doc,) = _read([str(p)])
    assert isinstance(doc, Failure)
    assert "binary" in doc.message


def test_a_folder_yields_its_text_files_sorted(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text(SALES_TEXT, encoding="utf-8")
    (tmp_path / "a.md").write_text(MARKETING_TEXT, encoding="utf-8")
    (tmp_path / "README").write_text(MARKETING_TEXT, encoding="utf-8")
    (tmp_path / "data.json").write_text("{}", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.txt").write_text(SALES_TEXT, encoding="utf-8")
    docs = _read([str(tmp_path)])
    assert [d.id for d in docs] == [str(tmp_path / "a.md"), str(tmp_path / "b.txt"), str(tmp_path / "sub" / "c.txt")]


def test_jsonl_records_with_fields_and_line_numbers(tmp_path: Path) -> None:
    p = tmp_path / "recs.jsonl"
    lines = [
        json.dumps({"key": "r1", "body": SALES_TEXT}, ensure_ascii=False),
        "not json",
        "",
        "[1, 2]",
        json.dumps({"key": "r5"}),
        json.dumps({"key": "r6", "body": 7}),
        json.dumps({"body": MARKETING_TEXT}, ensure_ascii=False),
    ]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    docs = _read([str(p)], text_field="body", id_field="key")
    assert [(d.id, getattr(d, "text", None) or d.message) for d in docs] == [
        ("r1", SALES_TEXT),
        (f"{p}:2", "line 2 is not valid JSON"),
        (f"{p}:4", "line 4 is not a JSON object"),
        ("r5", "line 5 has no 'body' field"),
        ("r6", "line 6: field 'body' is not a string"),
        (f"{p}:7", MARKETING_TEXT),
    ]


def test_jsonl_with_a_bom_and_bad_utf8(tmp_path: Path) -> None:
    p = tmp_path / "bom.jsonl"
    p.write_bytes(
        codecs.BOM_UTF8
        + json.dumps({"id": "x", "text": SALES_TEXT}, ensure_ascii=False).encode()
        + b"\n"
        + json.dumps({"id": "y", "text": SALES_TEXT}, ensure_ascii=False).encode("gbk")
        + b"\n"
    )
    docs = _read([str(p)])
    assert isinstance(docs[0], Document) and docs[0].id == "x" and docs[0].text == SALES_TEXT
    assert isinstance(docs[1], Failure) and docs[1].message == "line 2 is not valid UTF-8"


def _every_kind_of_jsonl_line() -> bytes:
    """Good records between every way a JSONL line can fail, a BOM first and blank lines between."""
    good = [
        json.dumps({"id": f"g{i}", "text": t}, ensure_ascii=False).encode() for i, t in enumerate([SALES_TEXT, MARKETING_TEXT])
    ]
    return (
        b"\n".join(
            [
                codecs.BOM_UTF8 + good[0],
                b"not json",
                b"",
                b"  ",
                b"[1, 2]",
                json.dumps({"id": "r5"}).encode(),
                json.dumps({"id": "r6", "text": 7}).encode(),
                json.dumps({"id": "r7", "text": "  "}).encode(),
                json.dumps({"id": "r8", "text": "\x01\x02" * 20}).encode(),
                json.dumps({"id": "r9", "text": SALES_TEXT}, ensure_ascii=False).encode("gbk"),
                b"[" * 100_000 + b"]" * 100_000,
                b'{"id": "r12", "text": "' + "长".encode() * 100_000 + b'"}',
                good[1],
            ]
        )
        + b"\n"
    )


def test_jsonl_lines_parsed_later_are_the_documents_read_inputs_gives(tmp_path: Path) -> None:
    from pipeline.readers import Lines, parsed, read_blocks

    p = tmp_path / "mixed.jsonl"
    p.write_bytes(_every_kind_of_jsonl_line())
    expected = _read([str(p)], max_bytes=250_000)
    read = list(read_blocks([str(p)], 1 << 16, max_bytes=250_000))
    # Blocks of whole lines; the line too large for a block (and for max_bytes) fails as it is read.
    assert [type(item) for item in read] == [Lines, Lines, Failure, Lines]
    assert [(item.first, item.n_lines) for item in read if isinstance(item, Lines)] == [(1, 10), (11, 1), (13, 1)]
    assert list(parsed(read)) == expected
    assert [d.id for d in expected] == ["g0", f"{p}:2", f"{p}:5", "r5", "r6", "r7", "r8", f"{p}:10", f"{p}:11", f"{p}:12", "g1"]


def test_how_deep_a_line_may_nest_does_not_depend_on_where_it_is_parsed() -> None:
    # A worker process parses lines at another stack depth than --jobs 1 does; both must accept the same lines.
    from pipeline.readers import _parse_json

    def deeper(frames: int, raw: bytes) -> object:
        return deeper(frames - 1, raw) if frames else _parse_json(raw, "f:1", "line 1")

    def outcome(parsed: object) -> object:  # comparing the nested lists themselves would recurse too deep
        return parsed if isinstance(parsed, Failure) else "parsed"

    lines = [b"[" * depth + b"]" * depth for depth in range(800, 1000, 4)]
    shallow = [outcome(_parse_json(raw, "f:1", "line 1")) for raw in lines]
    assert [outcome(deeper(60, raw)) for raw in lines] == shallow
    assert "parsed" in shallow and Failure("f:1", "line 1 is JSON nested too deeply to read") in shallow  # they span the limit


def test_csv_rows(tmp_path: Path) -> None:
    p = tmp_path / "rows.csv"
    p.write_text(f'id,text\nc1,"{SALES_TEXT}"\nc2,"{MARKETING_TEXT}"\n', encoding="utf-8")
    docs = _read([str(p)])
    assert [(d.id, d.text) for d in docs] == [("c1", SALES_TEXT), ("c2", MARKETING_TEXT)]
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(f'id,text\nc1,"{SALES_TEXT}"\n'.encode("gbk"))
    assert [(d.id, d.text) for d in _read([str(gbk)])] == [("c1", SALES_TEXT)]


def test_csv_without_the_text_column(tmp_path: Path) -> None:
    p = tmp_path / "rows.csv"
    p.write_text("id,body\n1,销售\n", encoding="utf-8")
    (doc,) = _read([str(p)])
    assert isinstance(doc, Failure)
    assert doc.message == "has no column 'text' (columns: id, body)"


def test_stdin_is_read_as_text_or_jsonl() -> None:
    (doc,) = _read(["-"], stdin=io.BytesIO(MARKETING_TEXT.encode("gb18030")))
    assert doc == Document("<stdin>", MARKETING_TEXT)
    recs = (json.dumps({"id": "s1", "text": SALES_TEXT}, ensure_ascii=False) + "\n").encode()
    (doc,) = _read(["-"], fmt="jsonl", stdin=io.BytesIO(recs))
    assert doc == Document("s1", SALES_TEXT)


def test_documents_larger_than_the_limit_are_refused(tmp_path: Path) -> None:
    p = tmp_path / "big.txt"
    p.write_text("销售" * 1000, encoding="utf-8")
    (doc,) = _read([str(p)], max_bytes=100)
    assert isinstance(doc, Failure)
    assert "limit" in doc.message


def test_read_labelled_reports_bad_records_by_line(tmp_path: Path) -> None:
    p = tmp_path / "gold.jsonl"
    p.write_text(
        "\n".join(
            [
                json.dumps({"id": "g1", "text": SALES_TEXT, "label": "sales"}, ensure_ascii=False),
                json.dumps({"id": "g2", "text": MARKETING_TEXT, "label": "neutral"}, ensure_ascii=False),
                "{broken",
                json.dumps({"id": "g4", "label": "sales"}),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    good, bad = read_labelled(p, ("sales", "marketing"))
    assert [(d.id, d.label) for d in good] == [("g1", "sales")]
    assert [(f.id, f.message) for f in bad] == [
        (f"{p}:2", "line 2 has label 'neutral', expected one of: sales, marketing"),
        (f"{p}:3", "line 3 is not valid JSON"),
        (f"{p}:4", "line 4 has no 'text' field"),
    ]


class _Trickle(io.RawIOBase):
    """A raw stream that gives at most `step` bytes a read, as a pipe may."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step = data, step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        piece, self.data = self.data[: min(self.step, len(buffer))], self.data[min(self.step, len(buffer)) :]
        buffer[: len(piece)] = piece
        return len(piece)


def _lines_by_the_rule(data: bytes, max_bytes: int) -> list[tuple[int, bytes | None]]:
    """What a JSONL reader must give: each non-blank line, or None when its text (newline aside) passes max_bytes."""
    out: list[tuple[int, bytes | None]] = []
    for lineno, raw in enumerate(re.findall(rb"[^\n]*\n|[^\n]+$", data), start=1):
        if len(raw.removesuffix(b"\n")) > max_bytes:
            out.append((lineno, None))
            continue
        if lineno == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        if raw.strip():
            out.append((lineno, raw))
    return out


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\n\n",
        b"ab",
        b"ab\ncd",
        codecs.BOM_UTF8 + b"ab\n" + codecs.BOM_UTF8 + b"cd\n",
        b"abcdefghij\nab\ncd\n",  # a long line, then lines that follow it in the same read
        b"abcdefghij\nab\ncd",  # the same, ending without a newline
        b"abcdefghij",  # a long last line
        b"ab\r\ncd\r\n \t\nabcdef\r\nabcde\r\n\r\r\r\r\r\r\r\n",  # \r counts toward the limit; blank lines go
        b"x" * 40 + b"\n" + b"y" * 3 + b"\n" + b"z" * 40,
    ],
)
def test_jsonl_lines_come_whole_in_blocks_and_lines_too_large_are_skipped(data: bytes) -> None:
    from pipeline.readers import _blocks, _jsonl_lines, _split

    for max_bytes in range(0, 7):
        expected = _lines_by_the_rule(data, max_bytes)
        assert list(_jsonl_lines(io.BytesIO(data), max_bytes)) == expected
        for size in range(1, 9):
            for step in (1, 3, 64):
                got: list[tuple[int, bytes | None]] = []
                lines = 0
                for block in _blocks(io.BufferedReader(_Trickle(data, step)), max_bytes, size):
                    if isinstance(block, int):
                        got.append((block, None))
                        lines = block
                        continue
                    first, chunk, count = block
                    assert first == lines + 1 and count == chunk.count(b"\n") + (not chunk.endswith(b"\n"))
                    got.extend(_split(first, chunk, max_bytes))
                    lines = first + count - 1
                assert got == expected, (max_bytes, size, step)


def test_lines_after_a_skipped_long_line_come_before_the_stream_is_read_again() -> None:
    # A pipe: what was sent is all there is for now; reading on would wait for a writer that may be waiting for us.
    from pipeline.readers import _jsonl_lines

    sent = [b"x" * 50, b"xx\n" + b'{"text": "good"}\n']

    class Pipe:
        def read1(self, size: int) -> bytes:
            assert sent, "read past what was sent"
            return sent.pop(0)

        read = read1

    lines = _jsonl_lines(Pipe(), 20)  # type: ignore[arg-type]
    assert next(lines) == (1, None)
    assert next(lines) == (2, b'{"text": "good"}\n')
