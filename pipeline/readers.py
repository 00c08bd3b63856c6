"""Turn command-line inputs into documents: files, folders, JSONL and CSV records, standard input.

Documents are untrusted input. Every problem with one becomes a `Failure` naming it, so a batch
goes on past it; nothing here raises for a bad document.
"""

from __future__ import annotations

import codecs
import csv
import errno
import io
import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple, cast

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
TEXT_SUFFIXES = (".txt", ".md")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"%PDF", "a PDF file"),
    (b"PK\x03\x04", "a ZIP archive (or .docx/.xlsx)"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x7fELF", "an executable"),
)


@dataclass(frozen=True)
class Document:
    """One text to score, with the id it is reported under, and a warning about how it was read, if any."""

    id: str
    text: str
    note: str | None = None
    # A spreadsheet row's own cells, (column, value) in order, so tabular output can give the row back with its scores.
    columns: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Failure:
    """A document that could not be read, and why, in one sentence."""

    id: str
    message: str
    columns: tuple[tuple[str, str], ...] = ()  # a spreadsheet row's own cells: tabular output keeps the row


class DecodeError(ValueError):
    """Bytes that are not text in any encoding we accept."""


def limit_text(size: int) -> str:
    """Name a size the way a person reads it: "50 MiB", "1.5 MiB" or "1,000 bytes"."""
    mib = 1024 * 1024
    if size % mib == 0:
        return f"{size // mib} MiB"
    return f"{size / mib:.1f} MiB" if size >= mib else f"{size:,} bytes"


def _too_large(max_bytes: int, what: str = "is") -> str:
    return f"{what} larger than the {limit_text(max_bytes)} limit per document (raise it with --max-bytes)"


def _damaged_utf8(data: bytes) -> tuple[str, int, int] | None:
    """Return (text, invalid sequences, first bad offset) when data is UTF-8 with a few damaged bytes.

    GB18030 or Big5 text read as UTF-8 fails on nearly every character, while UTF-8 with a few
    corrupted bytes decodes cleanly almost everywhere: we call it damaged UTF-8 when the valid
    non-ASCII characters outnumber the invalid sequences ten to one.
    """
    bad = first = 0
    pos = 0
    pieces: list[str] = []
    while True:
        try:
            pieces.append(data[pos:].decode("utf-8"))
            break
        except UnicodeDecodeError as exc:
            pieces.append(data[pos : pos + exc.start].decode("utf-8"))
            pieces.append("\ufffd")
            if bad == 0:
                first = pos + exc.start
            bad += 1
            pos += exc.end
    if bad == 0:
        return None
    text = "".join(pieces)
    valid_non_ascii = sum(1 for ch in text if ord(ch) > 127) - bad
    return (text, bad, first) if valid_non_ascii >= 10 * bad else None


def decode_with_note(data: bytes, encoding: str | None = None) -> tuple[str, str | None]:
    """Decode like `decode`, but accept UTF-8 with a few damaged bytes, returning a note that says so."""
    if not encoding and b"\x00" not in data and not data.startswith(tuple(bom for bom, _ in _BOMS)):
        try:
            return data.decode("utf-8"), None
        except UnicodeDecodeError:
            damaged = _damaged_utf8(data)
            if damaged is not None:
                text, bad, first = damaged
                seqs = "sequence" if bad == 1 else "sequences"
                return text, f"has {bad} invalid UTF-8 byte {seqs} (the first at byte {first}), replaced with U+FFFD"
    return decode(data, encoding), None


def decode(data: bytes, encoding: str | None = None) -> str:
    """Decode document bytes: a given encoding, else BOM, UTF-8, then detected GB18030/GBK/Big5."""
    if encoding:
        try:
            return data.decode(encoding)
        except LookupError:
            raise DecodeError(f"{encoding!r} is not an encoding Python knows") from None
        except UnicodeDecodeError as exc:
            raise DecodeError(f"is not valid {encoding} (byte {exc.start}); check --encoding") from None
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

    # Only the encodings Chinese business text really comes in: a wider search finds "Latin-1" in anything.
    best = charset_normalizer.from_bytes(data, cp_isolation=["gb18030", "big5"]).best()
    if best is not None:
        return str(best)
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise DecodeError("is not text in UTF-8, GB18030/GBK or Big5; pass --encoding if you know its encoding") from None


# Control characters other than \t \n \v \f \r; counted with one C-speed regex (a per-character loop cost
# more than reading and parsing the document).
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f]")


def _check_text(doc_id: str, text: str, note: str | None = None, controls: bool = True) -> Document | Failure:
    """The Document, or a Failure if the text is blank or binary (`controls` False: known to have no control characters)."""
    if not text or text.isspace():
        return Failure(doc_id, "is empty")
    if controls and len(_CONTROLS.findall(text)) > max(8, len(text) // 20):
        return Failure(doc_id, "looks like a binary file (too many control characters), not text")
    return Document(doc_id, text, note)


_CHUNK = 1 << 20


def _read_limited(fh: BinaryIO, max_bytes: int) -> bytes:
    """Read at most max_bytes from a stream, refusing (without reading further) anything larger.

    A regular file's size is known before reading, so a 200 MB file is refused without reading a
    byte; a pipe is read in 1 MiB chunks and given up as soon as it passes the limit.
    """
    try:
        st = os.fstat(fh.fileno())
    except (AttributeError, OSError, io.UnsupportedOperation):
        st = None
    if st is not None and stat.S_ISREG(st.st_mode) and st.st_size > max_bytes:
        raise DecodeError(_too_large(max_bytes, f"is {limit_text(st.st_size)},"))
    chunks: list[bytes] = []
    total = 0
    if st is not None and stat.S_ISREG(st.st_mode):
        # One read of the size the file has (plus one byte, to notice a file that grew since).
        first = fh.read(st.st_size + 1)
        if len(first) <= st.st_size:
            return first
        chunks.append(first)
        total = len(first)
    while total <= max_bytes:
        chunk = fh.read(min(_CHUNK, max_bytes + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
    raise DecodeError(_too_large(max_bytes))


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def _os_reason(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


def read_text_file(
    path: Path, doc_id: str, encoding: str | None, max_bytes: int, *, regular_only: bool = False
) -> Document | Failure:
    """Read one file as one document; with regular_only (files found in a folder), pipes and devices are refused."""
    try:
        if regular_only:
            mode = path.stat().st_mode
            if not stat.S_ISREG(mode):
                # Opening a FIFO would wait for a writer forever; a device may never end.
                return Failure(doc_id, f"is {_kind(mode)}, not a regular file")
        with path.open("rb") as fh:
            data = _read_limited(fh, max_bytes)
        text, note = decode_with_note(data, encoding)
        return _check_text(doc_id, text, note)
    except DecodeError as exc:
        return Failure(doc_id, str(exc))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Failure(doc_id, "is a symbolic link loop")
        return Failure(doc_id, f"cannot be read ({_os_reason(exc)})")


def _blocks(fh: BinaryIO, max_bytes: int, size: int) -> Iterator[tuple[int, bytes, int] | int]:
    """A stream's whole lines in blocks of about `size` bytes, as (first line number, bytes, lines in them).

    A line longer than max_bytes (its newline aside) that spans more than one read comes as its line number
    alone, once more than max_bytes of it is read, and the rest of it is skipped: memory stays within
    max_bytes plus a read. (One that fits in a read comes in its block; Lines.parse refuses it.) Reads what
    the stream has ready (read1), so lines piped in one at a time come as they arrive.
    """
    read = getattr(fh, "read1", fh.read)
    lineno = 1
    partial: list[bytes] = []  # the pieces of a line begun but not ended, joined once it ends
    held = 0
    ready = b""  # read already, after a skipped line: handed out before reading on
    while True:
        piece, ready = (ready, b"") if ready else (read(size), b"")
        if not piece:
            if partial:  # the last line has no newline
                yield lineno, b"".join(partial), 1
            return
        cut = piece.rfind(b"\n") + 1
        if cut:
            data = b"".join([*partial, piece[:cut]]) if partial else piece[:cut]
            count = data.count(b"\n")
            yield lineno, data, count
            lineno += count
            partial, held = ([piece[cut:]], len(piece) - cut) if cut < len(piece) else ([], 0)
        else:
            partial.append(piece)
            held += len(piece)
        if held > max_bytes:
            yield lineno
            rest = _skip_line(read)
            if rest is None:
                return
            lineno, partial, held, ready = lineno + 1, [], 0, rest


def _skip_line(read: Callable[[int], bytes]) -> bytes | None:
    """Read past the end of the current line, in bounded pieces; what follows it, or None at the end of the stream."""
    while True:
        piece = read(_CHUNK)
        if not piece:
            return None
        end = piece.find(b"\n") + 1
        if end:
            return piece[end:]


def _split(first: int, data: bytes, max_bytes: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line, or None if its text passes max_bytes) for each non-blank line of a block."""
    # A line at a time (not data.split): each is freed once parsed, so the allocator reuses its memory
    # instead of finding room for a thousand lines at once.
    for lineno, raw in enumerate(io.BytesIO(data), start=first):
        if len(raw) - raw.endswith(b"\n") > max_bytes:
            yield lineno, None
            continue
        if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        if raw and not raw.isspace():
            yield lineno, raw


def _line_too_large(name: str, lineno: int, max_bytes: int) -> Failure:
    """The Failure of line `lineno` of a JSONL stream, longer than max_bytes."""
    return Failure(f"{name}:{lineno}", _too_large(max_bytes, f"line {lineno} is"))


def _jsonl_lines(fh: BinaryIO, max_bytes: int) -> Iterator[tuple[int, bytes | None]]:
    """Yield (line number, line, or None if too large) for each non-blank line of a JSONL stream."""
    for block in _blocks(fh, max_bytes, _CHUNK):
        if isinstance(block, int):
            yield block, None
        else:
            yield from _split(block[0], block[1], max_bytes)


def _loads_on_a_fresh_stack(text: str) -> object:
    """json.loads at the bottom of a new thread's stack, so that how deep it may nest does not depend on the caller."""
    import threading

    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(json.loads(text))
        except Exception as exc:  # handed to the caller's thread, which decides
            outcome.append(exc)

    thread = threading.Thread(target=run, name="orient-json")
    thread.start()
    thread.join()
    if isinstance(outcome[0], Exception):
        raise outcome[0]
    return outcome[0]


def _parse_json(raw: bytes, where: str, what: str) -> object:
    """One JSONL line's object, or a Failure saying why it has none."""
    try:
        text = raw.decode("utf-8")
        try:
            return json.loads(text)
        except RecursionError:
            # json.loads may nest as deep as the stack has room left: a line parsed in a worker process or
            # deeper in this one would otherwise be read or refused depending on where. On a fresh stack,
            # the answer is the same wherever the line is parsed.
            return _loads_on_a_fresh_stack(text)
    except UnicodeDecodeError:
        return Failure(where, f"{what} is not valid UTF-8")
    except RecursionError:
        return Failure(where, f"{what} is JSON nested too deeply to read")
    except ValueError:
        return Failure(where, f"{what} is not valid JSON")


def _jsonl_records(fh: BinaryIO, name: str, max_bytes: int) -> Iterator[tuple[str, str, object]]:
    """Yield (where, what, parsed object or Failure) for each non-blank line of a JSONL stream."""
    for lineno, raw in _jsonl_lines(fh, max_bytes):
        where, what = f"{name}:{lineno}", f"line {lineno}"
        yield where, what, _line_too_large(name, lineno, max_bytes) if raw is None else _parse_json(raw, where, what)


def _jsonl_items(
    fh: BinaryIO, name: str, max_bytes: int, text_field: str, id_field: str, lines: int
) -> Iterator[Document | Failure | Lines]:
    """A JSONL stream's documents, or with `lines` its blocks of Lines of about that many bytes (too large a line: a Failure)."""
    for block in _blocks(fh, max_bytes, lines or _CHUNK):
        if isinstance(block, int):
            yield _line_too_large(name, block, max_bytes)
        elif lines:
            yield Lines(name, *block, max_bytes, text_field, id_field)
        else:
            yield from Lines(name, *block, max_bytes, text_field, id_field).parse()


def _jsonl_document(name: str, lineno: int, raw: bytes, text_field: str, id_field: str) -> Document | Failure:
    """The Document (or Failure) that line `lineno` of a JSONL file gives."""
    where, what = f"{name}:{lineno}", f"line {lineno}"
    # JSON strings cannot hold a raw control character: only the escapes \u0000-\u001f and \b make one, so
    # without those in the line's bytes, the text needs no counting of them.
    controls = b"\\" in raw and (b"\\u00" in raw or b"\\b" in raw)  # a backslash is found at memchr's speed
    return _from_record(_parse_json(raw, where, what), where, what, text_field, id_field, controls)


class Lines(NamedTuple):
    """Whole lines of a JSONL file, read but not parsed: `parse` gives their Documents and Failures.

    With a batch, the reading process hands blocks like this to the processes that score (worker processes
    with --jobs), which parse them exactly as read_inputs would: reading then costs the reader a few
    operations a block, not Python objects a line, and keeps up with every core.
    """

    name: str
    first: int  # the line number of the first line in data
    data: bytes
    n_lines: int  # lines in data, blank ones included
    max_bytes: int
    text_field: str
    id_field: str

    @property
    def where(self) -> str:
        """The place of the block's first line, "file:line", as a Failure of it is named."""
        return f"{self.name}:{self.first}"

    def parse(self) -> list[Document | Failure]:
        """The Documents and Failures read_inputs gives for these lines, in order (none for a blank line)."""
        name, max_bytes, fields = self.name, self.max_bytes, (self.text_field, self.id_field)
        return [
            _line_too_large(name, lineno, max_bytes) if raw is None else _jsonl_document(name, lineno, raw, *fields)
            for lineno, raw in _split(self.first, self.data, max_bytes)
        ]


def parsed(items: Iterable[Document | Failure | Lines]) -> Iterator[Document | Failure]:
    """The items, with each block of Lines parsed into its Documents and Failures."""
    for item in items:
        if isinstance(item, Lines):
            yield from item.parse()
        else:
            yield item


def _csv_records(
    path: Path, name: str, text_field: str, encoding: str | None, max_bytes: int, delimiter: str = ","
) -> Iterator[tuple[str, str, object]]:
    """Yield (where, what, row dict or Failure) for each row of a CSV (or TSV) file with a header.

    Rows are numbered as a spreadsheet shows them: the header is row 1, the first record row 2.
    """
    try:
        with path.open("rb") as fh:
            text = decode(_read_limited(fh, max_bytes), encoding)
    except DecodeError as exc:
        yield name, name, Failure(name, str(exc))
        return
    except OSError as exc:
        yield name, name, Failure(name, f"cannot be read ({_os_reason(exc)})")
        return
    # A field may be as large as a whole document; the csv module's default cap is 128 KiB.
    csv.field_size_limit(max(csv.field_size_limit(), max_bytes))
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        fieldnames = reader.fieldnames
    except csv.Error as exc:
        yield name, name, Failure(name, f"is not valid CSV ({exc})")
        return
    if fieldnames is None or text_field not in fieldnames:
        columns = ", ".join(fieldnames or []) or "none"
        yield name, name, Failure(name, f"has no column {text_field!r} (columns: {columns})")
        return
    rowno = 1  # the header
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            where, what = f"{name}:row {rowno + 1}", f"row {rowno + 1}"
            yield where, what, Failure(where, f"{what} is not valid CSV ({exc})")
            return
        rowno += 1
        yield f"{name}:row {rowno}", f"row {rowno}", row


def _from_record(
    record: object, where: str, what: str, text_field: str, id_field: str, controls: bool = True
) -> Document | Failure:
    """Turn one parsed record into a Document, or a Failure naming its line (and reported under its id, if it has one).

    `controls` False: the record's text is known to have no control characters (see _jsonl_document).
    """
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
    return _check_text(doc_id, text, controls=controls)


def _walk(root: Path) -> Iterator[Path]:
    """Yield the .txt and .md files below a folder, sorted, without following folder links (no loops)."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            if name.lower().endswith(TEXT_SUFFIXES):
                yield Path(dirpath) / name


def input_format(name: str, forced: str) -> str:
    """Return text, jsonl, csv or tsv for an input, from --input-format or its suffix."""
    if forced != "auto":
        return forced
    lower = name.lower()
    if lower.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith((".tsv", ".tab")):
        return "tsv"
    # Imported here: scoring plain text never pays for the formats' module.
    from pipeline.formats import DOCUMENT_SUFFIXES, SHEET_SUFFIXES

    if lower.endswith(SHEET_SUFFIXES):
        return "sheet"
    if lower.endswith(DOCUMENT_SUFFIXES):
        return "document"
    return "text"


def _unreadable(exc: Exception, path: Path, name: str) -> Failure:
    """The Failure of a file that could not be read or opened as its format: one sentence, without the file's name
    (the id says it) or a full stop."""
    if isinstance(exc, OSError):
        return Failure(name, f"cannot be read ({_os_reason(exc)})")
    return Failure(name, str(exc).removeprefix(f"{path.name} ").rstrip("."))


def read_document_file(path: Path, name: str, max_bytes: int) -> Document | Failure:
    """A .docx, .pdf or .html file as one document: its text as pipeline.formats extracts it."""
    from pipeline.formats import FormatError, extract_text

    try:
        with path.open("rb") as fh:
            data = _read_limited(fh, max_bytes)
        text = extract_text(path, data, max_bytes=max_bytes)
    except (DecodeError, FormatError, OSError) as exc:
        return _unreadable(exc, path, name)
    return _check_text(name, text)


def _sheet_records(
    path: Path, name: str, text_field: str, max_bytes: int, sheet: str | None = None
) -> Iterator[tuple[str, str, object]]:
    """Yield (where, what, row dict or Failure) for each row of an .xlsx sheet, numbered as Excel shows them (header row 1)."""
    from pipeline.formats import FormatError, read_sheet

    try:
        with path.open("rb") as fh:
            header, rows = read_sheet(path, _read_limited(fh, max_bytes), sheet, max_bytes=max_bytes)
    except (DecodeError, FormatError, OSError) as exc:
        yield name, name, _unreadable(exc, path, name)
        return
    if text_field not in header:
        yield name, name, Failure(name, f"has no column {text_field!r} (columns: {', '.join(h for h in header if h) or 'none'})")
        return
    for n, row in enumerate(rows, start=2):
        yield f"{name}:row {n}", f"row {n}", {h: v for h, v in zip(header, row, strict=True) if h}


def read_sheet_rows(
    path: Path, name: str, text_field: str, id_field: str, max_bytes: int, sheet: str | None = None
) -> Iterator[Document | Failure]:
    """An .xlsx sheet's rows as Documents carrying their cells."""
    for where, what, record in _sheet_records(path, name, text_field, max_bytes, sheet):
        value = record.get(text_field) if isinstance(record, dict) else None
        if value is not None and not isinstance(value, str):
            # A number or a date in the text column: there is no text to score.
            failure = Failure(where, f"holds {type(value).__name__} {value!r} in column {text_field!r}, not text")
            yield _with_cells(failure, record)
            continue
        yield _row_document(record, where, what, text_field, id_field)


def _row_document(record: object, where: str, what: str, text_field: str, id_field: str) -> Document | Failure:
    """A spreadsheet row's Document (or Failure), carrying the row's own cells."""
    return _with_cells(_from_record(record, where, what, text_field, id_field), record)


def _with_cells(item: Document | Failure, record: object) -> Document | Failure:
    if not isinstance(record, dict):
        return item
    # A row longer than the header puts its extra cells under None (csv.DictReader's restkey): not a column.
    return replace(item, columns=tuple((str(k), "" if v is None else str(v)) for k, v in record.items() if k is not None))


def _read_stdin(
    stdin: BinaryIO, kind: str, text_field: str, id_field: str, encoding: str | None, max_bytes: int
) -> Iterator[Document | Failure]:
    if kind == "jsonl":
        for where, what, rec in _jsonl_records(stdin, "<stdin>", max_bytes):
            yield _from_record(rec, where, what, text_field, id_field)
        return
    try:
        text, note = decode_with_note(_read_limited(stdin, max_bytes), encoding)
        yield _check_text("<stdin>", text, note)
    except DecodeError as exc:
        yield Failure("<stdin>", str(exc))


def read_inputs(
    inputs: Sequence[str],
    *,
    text_field: str = "text",
    id_field: str = "id",
    encoding: str | None = None,
    fmt: str = "auto",
    max_bytes: int = DEFAULT_MAX_BYTES,
    stdin: BinaryIO | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> Iterator[Document | Failure]:
    """Yield every document named by the inputs, in order; problems become Failures, never exceptions."""
    read = _read(
        inputs,
        text_field=text_field,
        id_field=id_field,
        encoding=encoding,
        fmt=fmt,
        max_bytes=max_bytes,
        stdin=stdin,
        delimiter=delimiter,
        sheet=sheet,
    )
    return cast(Iterator[Document | Failure], read)  # without `lines`, no Lines


def read_blocks(inputs: Sequence[str], block_bytes: int, **options: Any) -> Iterator[Document | Failure | Lines]:
    """read_inputs, with a .jsonl file's records in blocks of Lines of about `block_bytes`, parsed where they are scored.

    For the batch scorer (pipeline.runner): Lines.parse, or readers.parsed, makes Documents and Failures of them.
    """
    return _read(inputs, lines=block_bytes, **options)


def _read(
    inputs: Sequence[str],
    *,
    text_field: str = "text",
    id_field: str = "id",
    encoding: str | None = None,
    fmt: str = "auto",
    max_bytes: int = DEFAULT_MAX_BYTES,
    stdin: BinaryIO | None = None,
    lines: int = 0,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> Iterator[Document | Failure | Lines]:
    for name in inputs:
        if name == "-":
            if stdin is None:
                yield Failure("<stdin>", "cannot be read here (no standard input was given)")
                continue
            yield from _read_stdin(stdin, fmt if fmt != "auto" else "text", text_field, id_field, encoding, max_bytes)
            continue
        path = Path(name)
        try:
            is_dir = path.is_dir()
            exists = path.exists()
        except OSError as exc:  # a link loop, a name too long: is_dir() raises for these on some Pythons
            yield Failure(name, f"cannot be read ({_os_reason(exc)})")
            continue
        if is_dir:
            found = False
            for file in _walk(path):
                found = True
                yield read_text_file(file, str(file), encoding, max_bytes, regular_only=True)
            if not found:
                yield Failure(name, f"is a folder with no {' or '.join(TEXT_SUFFIXES)} files in it")
            continue
        if not exists:
            yield Failure(name, _missing(path))
            continue
        kind = input_format(name, fmt)
        if kind == "jsonl":
            try:
                with path.open("rb") as fh:
                    yield from _jsonl_items(fh, name, max_bytes, text_field, id_field, lines)
            except OSError as exc:
                yield Failure(name, f"cannot be read ({_os_reason(exc)})")
        elif kind in ("csv", "tsv"):
            sep = delimiter or ("\t" if kind == "tsv" else ",")
            for where, what, rec in _csv_records(path, name, text_field, encoding, max_bytes, sep):
                yield _row_document(rec, where, what, text_field, id_field)
        elif kind == "sheet":
            yield from read_sheet_rows(path, name, text_field, id_field, max_bytes, sheet)
        elif kind == "document":
            yield read_document_file(path, name, max_bytes)
        else:
            yield read_text_file(path, name, encoding, max_bytes)


def _missing(path: Path) -> str:
    if not path.is_symlink():
        return "does not exist"
    try:
        path.resolve(strict=True)
    except RuntimeError:
        return "is a symbolic link loop"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symbolic link loop"
    return "is a broken link"


def read_records(path: Path, text_field: str = "text") -> Iterator[tuple[str, str, Any]]:
    """The records of a .jsonl or .csv file as (where, what, record or Failure), each bad one by its line or row."""
    name = str(path)
    kind = input_format(name, "auto")
    if kind in ("csv", "tsv"):
        yield from _csv_records(path, name, text_field, None, DEFAULT_MAX_BYTES, "\t" if kind == "tsv" else ",")
        return
    if kind == "sheet":
        yield from _sheet_records(path, name, text_field, DEFAULT_MAX_BYTES)
        return
    try:
        with path.open("rb") as fh:
            records = list(_jsonl_records(fh, name, DEFAULT_MAX_BYTES))
    except OSError as exc:
        yield name, name, Failure(name, f"cannot be read ({exc.strerror})")
        return
    yield from records


def labelled_records(path: Path, text_field: str = "text") -> Iterator[tuple[str, str, Document | Failure, dict[str, Any]]]:
    """(where, what, Document or the Failure naming its line or row, the record's fields) for each record of a labelled file."""
    for where, what, record in read_records(path, text_field):
        if isinstance(record, Failure):
            yield where, what, record, {}
            continue
        doc = _from_record(record, where, what, text_field, "id")
        if isinstance(doc, Failure):
            doc = Failure(where, doc.message if doc.message.startswith(what) else f"{what} {doc.message}")
        yield where, what, doc, record if isinstance(record, dict) else {}
