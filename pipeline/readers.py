"""Turn command-line inputs into documents: files, folders, JSONL and CSV records, standard input.

Documents are untrusted input. Every problem with one becomes a `Failure` naming it, so a batch
goes on past it; nothing here raises for a bad document.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
TEXT_SUFFIXES = (".txt", ".md")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MAGIC = ((b"\x89PNG", "a PNG image"), (b"%PDF", "a PDF file"), (b"PK\x03\x04", "a ZIP archive (or .docx/.xlsx)"),
          (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"), (b"\x7fELF", "an executable"))


@dataclass(frozen=True)
class Document:
    """One text to score, with the id it is reported under."""

    id: str
    text: str


@dataclass(frozen=True)
class Failure:
    """A document that could not be read, and why, in one sentence."""

    id: str
    message: str


class DecodeError(ValueError):
    """Bytes that are not text in any encoding we accept."""


def decode(data: bytes, encoding: str | None = None) -> str:
    """Decode document bytes: a given encoding, else BOM, UTF-8, then detected GB18030/GBK/Big5."""
    if encoding:
        try:
            return data.decode(encoding)
        except LookupError:
            raise DecodeError(f"{encoding!r} is not an encoding Python knows") from None
        except UnicodeDecodeError as exc:
            raise DecodeError(f"is not valid {encoding} (byte {exc.start})") from None
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name)
            except UnicodeDecodeError as exc:
                raise DecodeError(f"starts with a {name} byte-order mark but is not valid {name} (byte {exc.start})") from None
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise DecodeError(f"is {what}, not text")
    if b"\x00" in data:
        raise DecodeError("looks like a binary file (it contains NUL bytes), not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    import charset_normalizer

    best = charset_normalizer.from_bytes(data, cp_isolation=["gb18030", "big5"]).best()
    if best is not None:
        return str(best)
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise DecodeError("is not text in UTF-8, GB18030/GBK or Big5; pass --encoding if you know its encoding") from None


def _check_text(doc_id: str, text: str) -> Document | Failure:
    if not text.strip():
        return Failure(doc_id, "is empty")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    if controls > max(8, len(text) // 20):
        return Failure(doc_id, "looks like a binary file (too many control characters), not text")
    return Document(doc_id, text)


def _read_limited(fh: BinaryIO, name: str, max_bytes: int) -> bytes:
    data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise DecodeError(f"is larger than the {max_bytes // (1024 * 1024)} MB limit per document (raise it with --max-bytes)")
    return data


def read_text_file(path: Path, doc_id: str, encoding: str | None, max_bytes: int) -> Document | Failure:
    """Read one file as one document."""
    try:
        with path.open("rb") as fh:
            return _check_text(doc_id, decode(_read_limited(fh, doc_id, max_bytes), encoding))
    except DecodeError as exc:
        return Failure(doc_id, str(exc))
    except OSError as exc:
        return Failure(doc_id, f"cannot be read ({exc.strerror or exc.__class__.__name__})")


def _jsonl_records(fh: BinaryIO, name: str, max_bytes: int) -> Iterator[tuple[str, str, object]]:
    """Yield (where, what, parsed object or Failure) for each non-blank line of a JSONL stream."""
    for lineno, raw in enumerate(fh, start=1):
        where, what = f"{name}:{lineno}", f"line {lineno}"
        if len(raw) > max_bytes:
            yield where, what, Failure(where, f"{what} is larger than the {max_bytes // (1024 * 1024)} MB limit per document")
            continue
        if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        if not raw.strip():
            continue
        try:
            yield where, what, json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            yield where, what, Failure(where, f"{what} is not valid UTF-8")
        except ValueError:
            yield where, what, Failure(where, f"{what} is not valid JSON")


def _csv_records(path: Path, name: str, text_field: str, encoding: str | None, max_bytes: int) -> Iterator[tuple[str, str, object]]:
    """Yield (where, what, row dict or Failure) for each row of a CSV file with a header."""
    try:
        with path.open("rb") as fh:
            text = decode(_read_limited(fh, name, max_bytes), encoding)
    except DecodeError as exc:
        yield name, name, Failure(name, str(exc))
        return
    except OSError as exc:
        yield name, name, Failure(name, f"cannot be read ({exc.strerror})")
        return
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or text_field not in reader.fieldnames:
        columns = ", ".join(reader.fieldnames or []) or "none"
        yield name, name, Failure(name, f"has no column {text_field!r} (columns: {columns})")
        return
    for rowno, row in enumerate(reader, start=1):
        yield f"{name}:row {rowno}", f"row {rowno}", row


def _from_record(record: object, where: str, what: str, text_field: str, id_field: str) -> Document | Failure:
    if isinstance(record, Failure):
        return record
    if not isinstance(record, dict):
        return Failure(where, f"{what} is not a JSON object")
    rid = record.get(id_field)
    doc_id = str(rid) if rid is not None and str(rid) != "" else where
    text = record.get(text_field)
    if text is None:
        return Failure(doc_id, f"{what} has no {text_field!r} field")
    if not isinstance(text, str):
        return Failure(doc_id, f"{what}: field {text_field!r} is not a string")
    return _check_text(doc_id, text)


def _walk(root: Path) -> Iterator[Path]:
    """Yield the .txt and .md files below a folder, sorted, without following folder links (no loops)."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            if name.lower().endswith(TEXT_SUFFIXES):
                yield Path(dirpath) / name


def input_format(name: str, forced: str) -> str:
    """Return text, jsonl or csv for an input, from --input-format or its suffix."""
    if forced != "auto":
        return forced
    lower = name.lower()
    if lower.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if lower.endswith(".csv"):
        return "csv"
    return "text"


def read_inputs(
    inputs: Sequence[str],
    *,
    text_field: str = "text",
    id_field: str = "id",
    encoding: str | None = None,
    fmt: str = "auto",
    max_bytes: int = DEFAULT_MAX_BYTES,
    stdin: BinaryIO | None = None,
) -> Iterator[Document | Failure]:
    """Yield every document named by the inputs, in order; problems become Failures, never exceptions."""
    for name in inputs:
        if name == "-":
            assert stdin is not None
            kind = fmt if fmt != "auto" else "text"
            if kind == "jsonl":
                for where, what, rec in _jsonl_records(stdin, "<stdin>", max_bytes):
                    yield _from_record(rec, where, what, text_field, id_field)
            else:
                try:
                    data = _read_limited(stdin, "<stdin>", max_bytes)
                    yield _check_text("<stdin>", decode(data, encoding))
                except DecodeError as exc:
                    yield Failure("<stdin>", str(exc))
            continue
        path = Path(name)
        if path.is_dir():
            for file in _walk(path):
                yield read_text_file(file, str(file), encoding, max_bytes)
            continue
        if not path.exists():
            yield Failure(name, "does not exist" if not path.is_symlink() else "is a broken link")
            continue
        kind = input_format(name, fmt)
        if kind == "jsonl":
            try:
                with path.open("rb") as fh:
                    for where, what, rec in _jsonl_records(fh, name, max_bytes):
                        yield _from_record(rec, where, what, text_field, id_field)
            except OSError as exc:
                yield Failure(name, f"cannot be read ({exc.strerror})")
        elif kind == "csv":
            for where, what, rec in _csv_records(path, name, text_field, encoding, max_bytes):
                yield _from_record(rec, where, what, text_field, id_field)
        else:
            yield read_text_file(path, name, encoding, max_bytes)


@dataclass(frozen=True)
class Labelled:
    """A document with its gold label, from an evaluation or training file."""

    id: str
    text: str
    label: str


def read_labelled(path: Path, labels: Sequence[str], text_field: str = "text", label_field: str = "label") -> tuple[list[Labelled], list[Failure]]:
    """Read a labelled .jsonl or .csv file; every bad record is reported by its line or row number."""
    name = str(path)
    if input_format(name, "auto") == "csv":
        records = _csv_records(path, name, text_field, None, DEFAULT_MAX_BYTES)
    else:
        try:
            with path.open("rb") as fh:
                records = iter(list(_jsonl_records(fh, name, DEFAULT_MAX_BYTES)))
        except OSError as exc:
            return [], [Failure(name, f"cannot be read ({exc.strerror})")]
    good: list[Labelled] = []
    bad: list[Failure] = []
    for where, what, record in records:
        if isinstance(record, Failure):
            bad.append(record)
            continue
        doc = _from_record(record, where, what, text_field, "id")
        if isinstance(doc, Failure):
            bad.append(Failure(where, doc.message if doc.message.startswith(what) else f"{what} {doc.message}"))
            continue
        label = str(record.get(label_field, "")).strip() if isinstance(record, dict) else ""
        if label not in labels:
            bad.append(Failure(where, f"{what} has label {label!r}, expected one of: {', '.join(labels)}"))
            continue
        good.append(Labelled(doc.id, doc.text, label))
    return good, bad
