"""pipeline.formats: text from .docx, .pdf and .html, rows from .xlsx, and one actionable sentence for each bad file.

Every fixture is made here, in code: documents with python-docx, openpyxl and pypdf, and a PDF with a
Chinese text layer written by hand (make_pdf), which needs no font file.
"""

from __future__ import annotations

import io
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pypdf
import pytest

from pipeline.formats import FormatError, extract_text, read_sheet

PAGES = [["岗位职责：负责华东区域的渠道销售。", "完成季度业绩指标，3年以上B2B经验。"], ["任职要求：本科及以上学历，沟通能力强。"]]
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def make_pdf(pages: list[list[str]]) -> bytes:
    """A PDF whose pages hold these lines, in a Type0 font (Identity-H) with a ToUnicode CMap so the text is extractable.

    Each distinct character gets its own glyph id; the font is named (STSong-Light) but not embedded, so
    extraction relies on the ToUnicode map alone, as it does for subset-embedded fonts in real files.
    """
    chars = sorted({char for page in pages for line in page for char in line})
    cid = {char: i + 1 for i, char in enumerate(chars)}
    to_unicode = "\n".join(
        [
            "/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
            "/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
            "1 begincodespacerange <0000> <FFFF> endcodespacerange",
            *(f"1 beginbfchar <{cid[char]:04X}> <{ord(char):04X}> endbfchar" for char in chars),
            "endcmap CMapName currentdict /CMap defineresource pop end end",
        ]
    ).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, once the page objects are numbered
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /Identity-H"
        b" /DescendantFonts [4 0 R] /ToUnicode 5 0 R >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /DW 1000"
        b" /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>"
        b" /FontDescriptor << /Type /FontDescriptor /FontName /STSong-Light /Flags 4 /FontBBox [0 -200 1000 900]"
        b" /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 80 >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(to_unicode), to_unicode),
    ]
    kids = []
    for page in pages:
        ops = "".join(
            f"BT /F1 12 Tf 72 {770 - 20 * i} Td <{''.join(f'{cid[char]:04X}' for char in line)}> Tj ET\n"
            for i, line in enumerate(page)
        ).encode()
        objects.append(b"<< /Length %d >>\nstream\n%sendstream" % (len(ops), ops))
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >>"
            b" /Contents %d 0 R >>" % len(objects)
        )
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % kid for kid in kids), len(kids))
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def pdf_writer_bytes(writer: pypdf.PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx() -> bytes:
    document = docx.Document()
    document.add_heading("销售经理", level=1)
    document.add_paragraph("岗位职责：开拓华东市场，完成销售目标。")
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate([["职位", "薪资"], ["销售经理", "15-25K"]]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    document.add_paragraph("任职要求：三年以上销售经验。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_xlsx(*, cached: bool = False) -> bytes:
    """A workbook: sheet 岗位 with a text column, a number column and a formula, then sheet 备注.

    openpyxl stores no cached formula values; with cached=True the value Excel would have saved is written in.
    """
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "岗位"
    sheet.append(["职位描述", "月薪", "年薪"])
    sheet.append(["负责大客户销售，完成业绩指标。", 15000, "=B2*12"])
    sheet.append([2024, 9000.5, None])
    sheet.append([None, None, None])
    sheet.append(["制定品牌营销策略。", 20000, None])
    sheet.append([])
    sheet.append([None, "  "])
    book.create_sheet("备注").append(["说明", "内容"])
    out = io.BytesIO()
    book.save(out)
    if not cached:
        return out.getvalue()
    return rezip(out.getvalue(), "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b"<v></v>", b"<v>180000</v>"))


def rezip(data: bytes, member: str, change: Callable[[bytes], bytes]) -> bytes:
    """The same ZIP archive with one member's bytes changed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as old, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            content = old.read(item.filename)
            new.writestr(item, change(content) if item.filename == member else content)
    return out.getvalue()


def error(path: str, data: bytes, **kwargs: Any) -> str:
    """The message of the FormatError that reading this file raises (as a spreadsheet for .xlsx and .xls)."""
    reader: Callable[..., object] = read_sheet if path.endswith((".xlsx", ".xls")) else extract_text
    with pytest.raises(FormatError) as caught:
        reader(Path(path), data, **kwargs)
    return str(caught.value)


# .docx


def test_docx_paragraphs_and_table_rows_in_document_order() -> None:
    assert extract_text(Path("job.docx"), make_docx()) == (
        "销售经理\n岗位职责：开拓华东市场，完成销售目标。\n职位\t薪资\n销售经理\t15-25K\n任职要求：三年以上销售经验。"
    )


def test_docx_merged_cells_appear_once() -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(1, 0)).text = "岗位"
    table.cell(0, 1).merge(table.cell(0, 2)).text = "职责"
    table.cell(1, 1).text = "销售"
    table.cell(1, 2).text = "回款"
    out = io.BytesIO()
    document.save(out)
    # The vertical merge leaves an empty cell below 岗位, so 销售 and 回款 stay in their columns.
    assert extract_text(Path("t.docx"), out.getvalue()) == "岗位\t职责\n\t销售\t回款"


def test_docx_errors_say_what_to_do() -> None:
    assert error("a.docx", b"PK\x03\x04 not really a zip") == (
        "a.docx is damaged or is another kind of file renamed; open it in Word and save it as .docx again."
    )
    assert error("a.docx", rezip(make_docx(), "word/document.xml", lambda xml: xml[:100])) == (
        "a.docx is damaged or is another kind of file renamed; open it in Word and save it as .docx again."
    )
    assert error("old.doc", OLE2 + b"\0" * 100) == "old.doc is an old Word .doc file; save it as .docx and try again."
    assert error("renamed.docx", OLE2 + b"\0" * 100) == "renamed.docx is an old Word .doc file; save it as .docx and try again."
    locked = OLE2 + "EncryptedPackage".encode("utf-16-le")
    assert error("locked.docx", locked) == "locked.docx is password-protected; remove the password in Word and try again."


def test_office_files_that_unpack_past_the_limit_are_refused() -> None:
    data = make_docx()
    assert len(data) < 40_000
    assert error("big.docx", data, max_bytes=40_000) == (
        "big.docx unpacks to more than the 40,000 bytes limit per document (raise it with --max-bytes)."
    )


# .pdf


def test_pdf_text_layer_in_chinese_pages_joined_by_a_blank_line() -> None:
    assert extract_text(Path("job.pdf"), make_pdf(PAGES)) == (
        "岗位职责：负责华东区域的渠道销售。\n完成季度业绩指标，3年以上B2B经验。\n\n任职要求：本科及以上学历，沟通能力强。"
    )


def test_pdf_without_text_layer() -> None:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(595, 842)
    assert error("scan.pdf", pdf_writer_bytes(writer)) == (
        "scan.pdf has no text layer (a scanned PDF?); run OCR on it first or paste its text."
    )


def test_pdf_with_a_password_is_refused_and_one_with_only_an_owner_password_is_read() -> None:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(make_pdf(PAGES)))
    writer.encrypt("secret", "owner", algorithm="RC4-128")  # RC4 needs no cryptography package
    assert error("locked.pdf", pdf_writer_bytes(writer)) == (
        "locked.pdf is password-protected; remove the password (or print it to a new PDF) and try again."
    )
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(make_pdf(PAGES)))
    writer.encrypt("", "owner", algorithm="RC4-128")
    assert extract_text(Path("restricted.pdf"), pdf_writer_bytes(writer)).startswith("岗位职责")


def test_pdf_encrypted_with_aes_when_the_cryptography_package_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(make_pdf(PAGES)))
    writer.encrypt("", "owner", algorithm="RC4-128")

    def decrypt(self: pypdf.PdfReader, password: str) -> None:  # what pypdf does for AES without cryptography
        raise pypdf.errors.DependencyError("cryptography>=3.1 is required for AES algorithm")

    monkeypatch.setattr(pypdf.PdfReader, "decrypt", decrypt)
    assert error("aes.pdf", pdf_writer_bytes(writer)) == (
        "aes.pdf is AES-encrypted, which needs the cryptography package; install it (pip install cryptography) and try again."
    )


def test_corrupt_pdf(capsys: pytest.CaptureFixture[str]) -> None:
    damaged = "a.pdf is damaged or is not a PDF; print it to a new PDF or paste its text."
    assert error("a.pdf", b"%PDF-1.7\nthis is not a PDF body") == damaged
    assert error("a.pdf", b"\x89PNG\r\n\x1a\n") == damaged
    assert error("a.pdf", make_pdf(PAGES)[:300]) == damaged
    assert capsys.readouterr() == ("", "")  # pypdf's warnings about what it tried to repair are not printed


# .html

PAGE = """<!DOCTYPE html>
<html><head><title>销售经理招聘 - 某某网</title><style>p { color: red }</style>
<script>var ad = "广告";</script></head>
<body>
<header><a href="/">首页</a> 登录</header>
<nav><ul><li>职位搜索</li><li>公司</li></ul></nav>
<main><article>
  <header><h1>销售经理</h1></header>
  <p>岗位职责：开拓&nbsp;华东市场，
     完成销售目标&amp;回款。</p>
  <ul><li>维护客户关系</li><li>每月拜访&lt;30&gt;家客户</li></ul>
  <table><tr><th>薪资</th><th>地点</th></tr><tr><td>15-25K</td><td>上海</td></tr></table>
  <div hidden>隐藏内容</div><p style="display: none">也隐藏</p>
  <noscript>请启用脚本</noscript><template><p>模板</p></template>
  <pre>要求：
  1. 本科</pre>
</article></main>
<aside>相关职位</aside>
<footer>© 2024 某某网 版权所有</footer>
<script>track("广告")</script>
</body></html>"""


def test_html_keeps_the_visible_body_and_drops_scripts_styles_and_chrome() -> None:
    assert extract_text(Path("job.html"), PAGE.encode()) == (
        "销售经理\n岗位职责：开拓 华东市场， 完成销售目标&回款。\n维护客户关系\n每月拜访<30>家客户\n"
        "薪资\t地点\n15-25K\t上海\n要求：\n1. 本科"
    )


def test_html_encodings() -> None:
    page = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body><p>销售经理</p>'
    # 镕 is in GBK and GB18030 but not in GB2312: pages labelled gb2312 use it all the same.
    assert extract_text(Path("a.htm"), (page + "<p>朱镕基</p>").encode("gb18030")) == "销售经理\n朱镕基"
    big5 = "負責銷售業務，開拓客戶關係與市場。"
    assert extract_text(Path("a.html"), f"<p>{big5}</p>".encode("big5")) == big5
    assert extract_text(Path("a.html"), "\ufeff<p>销售</p>".encode("utf-16-le")) == "销售"
    damaged = '<meta charset="utf-8"><p>销售</p>'.encode() + b"<p>\xff\xfe\xe9</p>"
    assert extract_text(Path("a.html"), damaged) == "销售\n\ufffd\ufffd\ufffd"
    assert extract_text(Path("a.html"), b"") == ""
    xhtml = '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body><p>销售</p></body></html>'
    assert extract_text(Path("a.xhtml.html"), xhtml.encode()) == "销售"


def test_html_larger_than_the_limit_is_refused_in_one_sentence() -> None:
    assert error("big.html", b"<p>" + "销售".encode() * 1000, max_bytes=5000) == (
        "big.html is larger than the 5,000 bytes limit per document (raise it with --max-bytes)."
    )


@pytest.mark.slow
def test_html_of_several_megabytes() -> None:
    block = "<div><nav>菜单</nav><p>负责渠道销售，完成业绩&amp;回款。</p><script>x()</script></div>\n"
    text = extract_text(Path("big.html"), ("<html><body>" + block * 40_000).encode())
    assert text == "\n".join(["负责渠道销售，完成业绩&回款。"] * 40_000)


# .xlsx


def test_xlsx_header_and_rows_of_the_first_sheet() -> None:
    header, rows = read_sheet(Path("jobs.xlsx"), make_xlsx())
    assert header == ["职位描述", "月薪", "年薪"]
    # The formula has no cached value (openpyxl wrote it), so its text comes back; the empty rows at the end are gone.
    assert rows == [
        ["负责大客户销售，完成业绩指标。", 15000, "=B2*12"],
        [2024, 9000.5, None],
        [None, None, None],
        ["制定品牌营销策略。", 20000, None],
    ]
    assert type(rows[0][1]) is int and type(rows[1][0]) is int  # a number in the text column stays a number


def test_xlsx_formula_gives_its_cached_value_when_the_file_has_one() -> None:
    _, rows = read_sheet(Path("jobs.xlsx"), make_xlsx(cached=True))
    assert rows[0] == ["负责大客户销售，完成业绩指标。", 15000, 180000]


def test_xlsx_named_sheet_and_missing_sheet() -> None:
    assert read_sheet(Path("jobs.xlsx"), make_xlsx(), "备注") == (["说明", "内容"], [])
    missing = 'jobs.xlsx has no sheet named "Sheet1"; its sheets are "岗位", "备注".'
    assert error("jobs.xlsx", make_xlsx(), sheet="Sheet1") == missing


def test_xlsx_errors_say_what_to_do() -> None:
    assert error("a.xlsx", b"\x00garbage") == (
        "a.xlsx is damaged or is another kind of file renamed; open it in Excel and save it as .xlsx again."
    )
    assert error("a.xlsx", make_docx()) == (
        "a.xlsx is damaged or is another kind of file renamed; open it in Excel and save it as .xlsx again."
    )
    assert error("old.xls", OLE2) == "old.xls is an old Excel .xls file; save it as .xlsx and try again."
    locked = OLE2 + b"\0" * 64 + "EncryptedPackage".encode("utf-16-le")
    assert error("locked.xlsx", locked) == "locked.xlsx is password-protected; remove the password in Excel and try again."


# Any format


def test_other_suffixes_and_missing_libraries(monkeypatch: pytest.MonkeyPatch) -> None:
    assert error("a.rtf", b"{\\rtf1}") == "a.rtf is not a .docx, .pdf or .html file; save it as one of those or as plain text."
    with pytest.raises(FormatError, match=r"^a\.csv is not an \.xlsx file; save it as \.xlsx and try again\.$"):
        read_sheet(Path("a.csv"), b"a,b")
    monkeypatch.setitem(sys.modules, "pypdf", None)  # as if pypdf were not installed
    assert error("a.pdf", make_pdf(PAGES)) == (
        "a.pdf cannot be read without the pypdf package; install it (pip install pypdf) and try again."
    )
