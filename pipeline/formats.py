"""Read files that are not plain text: .docx, .pdf and .html as one text, .xlsx as a header and rows.

The text of a document has one line per paragraph or block, and a table row is one line of cells joined
by tabs. .docx: paragraphs and tables in document order. .pdf: each page's text layer, pages joined by a
blank line. .html: the visible text, without scripts, styles, the head and the page's chrome (nav, aside,
and header/footer outside an article, main or section), character references decoded.

A file that cannot be read raises FormatError, whose message is one sentence telling the user what to do,
so a caller reports it and goes on. So does a file over max_bytes, or an Office file whose XML unpacks to
more than that. Each format's library is imported on first use: reading plain text never pays for them,
and a missing library is a FormatError naming the package rather than an ImportError.
"""

from __future__ import annotations

import codecs
import importlib
import io
import logging
import re
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
# The old binary formats are listed so that callers route them here and users get the "save it as" advice.
DOCUMENT_SUFFIXES = (".docx", ".pdf", ".html", ".htm", ".doc")
SHEET_SUFFIXES = (".xlsx", ".xls")

_OFFICE = {".docx": ("Word", ".doc"), ".xlsx": ("Excel", ".xls")}
_OLD = {old: (app, new) for new, (app, old) in _OFFICE.items()}
# An Office file is a ZIP archive. An OLE2 compound file under a .docx/.xlsx name is either an old
# .doc/.xls renamed, or a password-protected file: Office encrypts the whole package into an OLE2 stream.
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# HTML5 looks for the declaration in the first 1024 bytes; real pages put long <style> blocks before it.
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# Pages labelled gb2312/gbk/big5 routinely use characters of the wider set, and browsers decode them so.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs"}

_HIDDEN_TAGS = frozenset(
    {"script", "style", "noscript", "template", "head", "title", "nav", "aside", "svg", "math", "iframe", "object", "canvas"}
    | {"select", "button", "textarea"}
)
# <header> and <footer> are page chrome (banner, contentinfo) only outside article, main and section:
# inside them they hold the article's own title or byline (HTML-AAM).
_LANDMARKS = frozenset({"header", "footer"})
_SECTIONING = frozenset({"article", "main", "section"})
_CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search"})
_INVISIBLE_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_BLOCKS = frozenset(
    {"address", "article", "blockquote", "body", "br", "caption", "dd", "details", "dialog", "div", "dl", "dt", "fieldset"}
    | {"figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "li"}
    | {"main", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul"}
)
_SPACES = re.compile(r"\s+")

# pypdf logs what it repairs in a damaged file, and with no handler Python prints those records to stderr.
# A NullHandler stops that; an application that configures logging still receives them through the root logger.
logging.getLogger("pypdf").addHandler(logging.NullHandler())


class FormatError(ValueError):
    """A file that cannot be read; str() is one sentence telling the user what to do."""


def extract_text(path: Path, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Return the text of a .docx, .pdf, .html or .htm file (its name in path, its bytes in data), or raise FormatError."""
    suffix = path.suffix.lower()
    _refuse_old_or_large(path, data, max_bytes)
    if suffix == ".docx":
        return _docx_text(path, data, max_bytes)
    if suffix == ".pdf":
        return _pdf_text(path, data)
    if suffix in (".html", ".htm"):
        return _html_text(path, data)
    raise FormatError(f"{path.name} is not a .docx, .pdf or .html file; save it as one of those or as plain text.")


def read_sheet(
    path: Path, data: bytes, sheet: str | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[list[str], list[list[object]]]:
    """Return the header and data rows of the first sheet of an .xlsx file, or of the sheet named sheet.

    The header is the first non-empty row, its cells as stripped strings ("" for an empty cell), from
    column A to the last column used; every data row has as many cells. Numbers, dates and booleans stay
    int, float, datetime and bool, and an empty cell is None. Empty rows at the end are dropped, those in
    between kept (data row i is the i-th row below the header). A formula cell gives the value Excel cached
    when it last saved the file, or the formula text ("=A2*2") when there is none, as in files written by
    scripts. A text column can hold numbers (Excel stores a typed 123 as a number): a caller that wants
    text turns non-str values into str, or reports them.
    """
    _refuse_old_or_large(path, data, max_bytes)
    if path.suffix.lower() != ".xlsx":
        raise FormatError(f"{path.name} is not an .xlsx file; save it as .xlsx and try again.")
    openpyxl = _load("openpyxl", "openpyxl", path)
    _check_package(path, data, max_bytes)
    raw = _sheet_values(openpyxl, path, data, sheet, cached=False)
    if any(_is_formula(value) for row in raw for value in row):
        # openpyxl gives either formulas or cached values per load, never both: a second load only when needed.
        cached = _sheet_values(openpyxl, path, data, sheet, cached=True)
        raw = [[_formula_value(value, _at(cached, r, c)) for c, value in enumerate(row)] for r, row in enumerate(raw)]
    filled = [i for i, row in enumerate(raw) if any(not _blank(value) for value in row)]
    if not filled:
        return [], []
    rows = raw[filled[0] : filled[-1] + 1]
    width = max(max((c for c, value in enumerate(row) if not _blank(value)), default=-1) for row in rows) + 1
    rows = [list(row[:width]) + [None] * (width - len(row)) for row in rows]
    header = ["" if value is None else str(value).strip() for value in rows[0]]
    return header, rows[1:]


def _refuse_old_or_large(path: Path, data: bytes, max_bytes: int) -> None:
    suffix = path.suffix.lower()
    if suffix in _OLD:
        app, new = _OLD[suffix]
        raise FormatError(f"{path.name} is an old {app} {suffix} file; save it as {new} and try again.")
    if len(data) > max_bytes:
        raise FormatError(f"{path.name} is larger than the {_limit(max_bytes)} limit per document (raise it with --max-bytes).")


def _limit(size: int) -> str:
    # As readers.limit_text, not imported from there because readers imports this module.
    mib = 1024 * 1024
    if size % mib == 0:
        return f"{size // mib} MiB"
    return f"{size / mib:.1f} MiB" if size >= mib else f"{size:,} bytes"


def _load(module: str, package: str, path: Path) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise FormatError(
            f"{path.name} cannot be read without the {package} package; install it (pip install {package}) and try again."
        ) from error


def _damaged(path: Path) -> FormatError:
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return FormatError(f"{path.name} is damaged or is not a PDF; print it to a new PDF or paste its text.")
    app, _ = _OFFICE[suffix]
    return FormatError(
        f"{path.name} is damaged or is another kind of file renamed; open it in {app} and save it as {suffix} again."
    )


def _check_package(path: Path, data: bytes, max_bytes: int) -> None:
    """Refuse renamed old files, encrypted packages, non-ZIP bytes and ZIP bombs before a library parses them."""
    suffix = path.suffix.lower()
    app, old = _OFFICE[suffix]
    if data.startswith(_OLE2):
        if _ENCRYPTED_PACKAGE in data:
            raise FormatError(f"{path.name} is password-protected; remove the password in {app} and try again.")
        raise FormatError(f"{path.name} is an old {app} {old} file; save it as {suffix} and try again.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise _damaged(path) from error
    # zipfile never inflates a member past its declared size, so the declared sizes bound what is parsed.
    if sum(member.file_size for member in members if member.filename.endswith((".xml", ".rels"))) > max_bytes:
        raise FormatError(
            f"{path.name} unpacks to more than the {_limit(max_bytes)} limit per document (raise it with --max-bytes)."
        )


def _docx_text(path: Path, data: bytes, max_bytes: int) -> str:
    docx = _load("docx", "python-docx", path)
    _check_package(path, data, max_bytes)
    try:
        document = docx.Document(io.BytesIO(data))
        return "\n".join(_block_text(block) for block in document.iter_inner_content())
    except Exception as error:  # python-docx and lxml raise many kinds of error on a damaged package
        raise _damaged(path) from error


def _block_text(block: Any) -> str:
    if not hasattr(block, "rows"):  # a Paragraph, python-docx's other kind of block
        return str(block.text)
    lines, seen = [], set()
    for row in block.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            # python-docx repeats a merged cell once per grid column and per row it spans: keep its first
            # appearance, and an empty cell below it so that the columns stay aligned.
            if cell is previous:
                continue
            previous = cell
            cells.append("" if cell._tc in seen else "\n".join(_block_text(b) for b in cell.iter_inner_content()))
            seen.add(cell._tc)
        lines.append("\t".join(cells))
    return "\n".join(lines)


def _pdf_text(path: Path, data: bytes) -> str:
    pypdf = _load("pypdf", "pypdf", path)
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        # A PDF with only an owner password (no copying, no printing) opens with the empty user password.
        if reader.is_encrypted and not reader.decrypt(""):
            raise FormatError(f"{path.name} is password-protected; remove the password (or print it to a new PDF) and try again.")
        pages = [page.extract_text().strip() for page in reader.pages]
    except pypdf.errors.DependencyError as error:
        message = "is AES-encrypted, which needs the cryptography package; install it (pip install cryptography) and try again."
        raise FormatError(f"{path.name} {message}") from error
    except FormatError:
        raise
    except Exception as error:  # pypdf raises many kinds of error on damaged files
        raise _damaged(path) from error
    text = "\n\n".join(page for page in pages if page)
    if not text:
        raise FormatError(f"{path.name} has no text layer (a scanned PDF?); run OCR on it first or paste its text.")
    return text


def _html_text(path: Path, data: bytes) -> str:
    etree = _load("lxml.etree", "lxml", path)
    text = _decode(data)
    if text.startswith("<?xml"):  # lxml refuses a str that declares an encoding; it is decoded already
        text = text[text.find(">") + 1 :]
    # A target parser sends its events to _Visible and builds no tree, so a 50 MB page is held once as text.
    # One call, not feed(): libxml2 before 2.14 (lxml 5) drops elements across the chunks that feed() makes.
    parser = etree.HTMLParser(target=_Visible(), huge_tree=True, no_network=True)
    try:
        return str(etree.fromstring(text, parser))
    except etree.LxmlError as error:
        raise FormatError(
            f"{path.name} could not be read as HTML; save the page again from a browser or paste its text."
        ) from error


def _decode(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, "replace")
    declared = _META_CHARSET.search(data[:8192])
    if declared:
        try:
            encoding = codecs.lookup(declared.group(1).decode("ascii")).name
        except LookupError:
            pass  # a label Python does not know: as if there were none
        else:
            # As browsers do: the declared encoding wins, and a stray bad byte costs one character, not the page.
            return data.decode(_SUPERSETS.get(encoding, encoding), "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    charset_normalizer = importlib.import_module("charset_normalizer")
    best = charset_normalizer.from_bytes(data).best()
    return str(best) if best is not None else data.decode("gb18030", "replace")


class _Visible:
    """An lxml parser target that keeps the visible text, one line per block and table cells joined by tabs."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.hidden = 0  # depth inside a hidden element: everything below it is hidden too
        self.sectioning = 0
        self.preformatted = 0
        self.cells: list[int] = []  # cells seen so far in each open table row

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        if self.hidden or self._chrome(tag, attrib):
            self.hidden += 1
            return
        self.sectioning += tag in _SECTIONING
        self.preformatted += tag == "pre"
        if tag == "tr":
            self.cells.append(0)
        if tag in ("td", "th") and self.cells:
            self.parts.append("\t" if self.cells[-1] else "")
            self.cells[-1] += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def end(self, tag: str) -> None:
        if self.hidden:
            self.hidden -= 1
            return
        self.sectioning -= tag in _SECTIONING
        self.preformatted -= tag == "pre"
        if tag == "tr" and self.cells:
            self.cells.pop()
        if tag in _BLOCKS:
            self.parts.append("\n")

    def data(self, text: str) -> None:
        if not self.hidden:
            # Outside <pre> a line break in the source is a space on screen; tabs are kept for cell boundaries.
            self.parts.append(text.replace("\t", " ") if self.preformatted else _SPACES.sub(" ", text))

    def close(self) -> str:
        lines = ("\t".join(" ".join(cell.split()) for cell in line.split("\t")) for line in "".join(self.parts).split("\n"))
        return "\n".join(line for line in lines if line.strip())

    def _chrome(self, tag: str, attrib: Mapping[str, str]) -> bool:
        return bool(
            tag in _HIDDEN_TAGS
            or (tag in _LANDMARKS and not self.sectioning)
            or _CHROME_ROLES.intersection(attrib.get("role", "").split())
            or "hidden" in attrib
            or attrib.get("aria-hidden") == "true"
            or _INVISIBLE_STYLE.search(attrib.get("style", ""))
        )


def _sheet_values(openpyxl: Any, path: Path, data: bytes, sheet: str | None, *, cached: bool) -> list[list[object]]:
    # openpyxl warns about features it drops (data validation, unknown extensions); they do not change cell values.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=cached)
        except Exception as error:  # openpyxl raises many kinds of error on a damaged package
            raise _damaged(path) from error
        try:
            sheets = {worksheet.title: worksheet for worksheet in book.worksheets}
            if sheet is not None and sheet not in sheets:
                names = ", ".join(f'"{name}"' for name in sheets)
                raise FormatError(f'{path.name} has no sheet named "{sheet}"; its sheets are {names}.')
            worksheet = sheets[sheet] if sheet is not None else book.worksheets[0]
            # The stored dimensions can be wrong (files written by other tools); recompute them while reading.
            worksheet.reset_dimensions()
            return [list(row) for row in worksheet.iter_rows(values_only=True)]
        except FormatError:
            raise
        except Exception as error:
            raise _damaged(path) from error
        finally:
            book.close()


def _is_formula(value: object) -> bool:
    # openpyxl gives a formula as its text, or as an ArrayFormula or DataTableFormula (both have a ref).
    return (isinstance(value, str) and value.startswith("=")) or hasattr(value, "ref")


def _formula_value(raw: object, cached: object) -> object:
    if not _is_formula(raw):
        return raw
    if cached is not None:
        return cached
    return raw if isinstance(raw, str) else getattr(raw, "text", None)


def _at(rows: list[list[object]], r: int, c: int) -> object:
    return rows[r][c] if r < len(rows) and c < len(rows[r]) else None


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
