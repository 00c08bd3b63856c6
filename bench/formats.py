"""Measure the candidate readers for each format of pipeline/formats.py on generated Chinese documents.

For each candidate: fidelity (is the text read equal to the text written, ignoring whitespace), speed (median
of 5 runs on a mid-size document) and installed size (its files and those of the distributions it pulls in
that orient's core dependencies do not, from their RECORD). HTML gets two more tables: how much of the body
each candidate keeps and how much else it lets through on three kinds of page, and a 50 MB page read in a
fresh process (time and peak memory).

    .venv/bin/python bench/formats.py            # prints Markdown; about 4 minutes
    .venv/bin/python bench/formats.py --big-mb 5 # a smaller "big" page, for a quick run

Every candidate package must be installed: openpyxl python-calamine python-docx pypdf pdfminer.six lxml
selectolax html5lib trafilatura justext.
"""

from __future__ import annotations

import argparse
import difflib
import html
import html.parser
import io
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import xml.etree.ElementTree as ElementTree
import zipfile
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from test_formats import make_pdf  # noqa: E402  # the hand-written PDF with a Chinese text layer

from pipeline import formats  # noqa: E402

PHRASES = [
    "负责华东区域的渠道开发与维护",
    "完成季度销售业绩指标和回款目标",
    "制定品牌定位与整体营销策略",
    "开展市场调研并分析竞争对手动态",
    "每天拜访客户，挖掘潜在商机",
    "策划线上线下推广活动，提升品牌知名度",
    "维护大客户关系，推动续约与增购",
    "撰写产品宣传文案及新媒体内容",
    "3年以上B2B销售经验，有SaaS行业背景优先",
    "熟悉CRM系统，数据分析能力强",
]


def sentences(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["，".join(rng.sample(PHRASES, 2)) + "。" for _ in range(count)]


def squeeze(text: str) -> str:
    return "".join(text.split())


# Generated documents: (bytes, expected text), or (bytes, expected header and rows) for .xlsx.


def make_docx(paragraphs: int, table_rows: int) -> tuple[bytes, str]:
    import docx

    document = docx.Document()
    lines = sentences(paragraphs, 1)
    for line in lines[: paragraphs // 2]:
        document.add_paragraph(line)
    table = document.add_table(rows=table_rows, cols=3)
    cells = [[f"第{r}行", f"{r * 1000}元", line] for r, line in enumerate(sentences(table_rows, 2))]
    for r, row in enumerate(cells):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    for line in lines[paragraphs // 2 :]:
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    rows = ["\t".join(row) for row in cells]
    return out.getvalue(), "\n".join(lines[: paragraphs // 2] + rows + lines[paragraphs // 2 :])


def make_pdf_doc(pages: int, lines: int) -> tuple[bytes, str]:
    text = [sentences(lines, 10 + page) for page in range(pages)]
    return make_pdf(text), "\n\n".join("\n".join(page) for page in text)


def make_xlsx(rows: int) -> tuple[bytes, tuple[list[str], list[list[object]]]]:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    header = ["职位描述", "月薪", "城市"]
    sheet.append(header)
    body: list[list[object]] = [[line, 8000 + r, "上海"] for r, line in enumerate(sentences(rows, 3))]
    for row in body:
        sheet.append(row)
    sheet.append(["合计", "=SUM(B2:B3)", None])
    out = io.BytesIO()
    book.save(out)
    # Write the value Excel would have cached for the formula, as in a file saved by Excel.
    total = 8000 + 8001
    body.append(["合计", total, None])
    data = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as old, zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            content = old.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"<v></v>", b"<v>%d</v>" % total)
            new.writestr(item, content)
    return data.getvalue(), (header, body)


CHROME_SEMANTIC = (
    '<header><a href="/">首页</a><a href="/jobs">找工作</a><a href="/login">登录</a></header>'
    "<nav><ul><li><a>销售</a></li><li><a>市场</a></li><li><a>运营</a></li></ul></nav>",
    "<aside><h3>相关职位</h3><ul><li><a>渠道经理</a></li><li><a>大客户销售</a></li></ul></aside>"
    "<footer>© 2024 某某招聘网 版权所有 沪ICP备00000000号</footer>",
)
CHROME_DIVS = (
    '<div class="header"><a href="/">首页</a><a href="/jobs">找工作</a><a href="/login">登录</a></div>'
    '<div id="menu"><ul><li><a>销售</a></li><li><a>市场</a></li><li><a>运营</a></li></ul></div>',
    '<div class="sidebar"><h3>相关职位</h3><ul><li><a>渠道经理</a></li><li><a>大客户销售</a></li></ul></div>'
    '<div class="footer">© 2024 某某招聘网 版权所有 沪ICP备00000000号</div>',
)


def make_page(kind: str, paragraphs: int = 8, seed: int = 4) -> tuple[str, str]:
    """An HTML page of one kind (semantic chrome, div chrome, or a bare posting of short bullets) and its body text."""
    lines = sentences(paragraphs, seed)
    head = "<head><title>销售经理招聘</title><style>p{margin:0}</style><script>var ad='广告位';</script></head>"
    if kind == "bullets":
        items = [line.split("，")[0] for line in lines]
        body = "<h2>岗位职责：</h2><ol>" + "".join(f"<li>{html.escape(item)}</li>" for item in items) + "</ol>"
        return f"<html>{head}<body>{body}</body></html>", "岗位职责：\n" + "\n".join(items)
    body = "<h1>销售经理</h1>" + "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    body += "<table><tr><th>薪资</th><th>地点</th></tr><tr><td>15-25K</td><td>上海</td></tr></table>"
    expected = "销售经理\n" + "\n".join(lines) + "\n薪资\t地点\n15-25K\t上海"
    top, bottom = CHROME_SEMANTIC if kind == "semantic" else CHROME_DIVS
    main = f"<main><article>{body}</article></main>" if kind == "semantic" else f'<div class="content">{body}</div>'
    return f"<html>{head}<body>{top}{main}{bottom}<script>track('广告')</script></body></html>", expected


def make_big_page(megabytes: float) -> tuple[bytes, str]:
    """A page of about this size: many job listings, each with its own menu and script, inside one page of chrome."""
    block = '<div class="job"><nav><a>申请</a><a>收藏</a></nav><h3>{}</h3><p>{}</p><script>log({})</script></div>\n'
    listings = [(line[:6], line) for line in sentences(500, 5)]
    one = "".join(block.format(title, text, i) for i, (title, text) in enumerate(listings))
    copies = max(1, int(megabytes * 1e6 / len(one.encode())))
    page = "<html><head><title>职位列表</title></head><body><header>首页 登录</header>" + one * copies + "</body></html>"
    expected = "\n".join(f"{title}\n{text}" for title, text in listings) + "\n"
    return page.encode(), expected * copies


# Candidate readers: each takes bytes and returns text (or header and rows).


def docx_stdlib(data: bytes) -> str:
    """A .docx reader on zipfile and ElementTree only: paragraph runs and table cells, nothing else of Word's."""
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

    def paragraph(p: ElementTree.Element) -> str:
        return "".join(t.text or "" for t in p.iter(w + "t"))

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        body = ElementTree.fromstring(archive.read("word/document.xml")).find(w + "body")
    assert body is not None
    lines = []
    for block in body:
        if block.tag == w + "p":
            lines.append(paragraph(block))
        elif block.tag == w + "tbl":
            for row in block.iter(w + "tr"):
                lines.append("\t".join("\n".join(map(paragraph, cell.iter(w + "p"))) for cell in row.iter(w + "tc")))
    return "\n".join(lines)


def pdf_pdfminer(data: bytes) -> str:
    from pdfminer.high_level import extract_text

    pages = extract_text(io.BytesIO(data)).split("\f")
    return "\n\n".join(page.strip() for page in pages if page.strip())


def xlsx_calamine(data: bytes) -> tuple[list[str], list[list[object]]]:
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_object(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    return [str(value) for value in rows[0]], [list(row) for row in rows[1:]]


class StdlibEvents(html.parser.HTMLParser):
    """html.parser does not close elements the way browsers do: close them here, so the events nest as lxml's do."""

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})

    def __init__(self, sink: Any) -> None:
        super().__init__(convert_charrefs=True)
        self.sink = sink
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body" and "head" in self.open:
            self.close_to("head")
        self.sink.start(tag, {key: value or "" for key, value in attrs})
        if tag in self.VOID:
            self.sink.end(tag)
        else:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.sink.start(tag, {key: value or "" for key, value in attrs})
        self.sink.end(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            self.close_to(tag)

    def handle_data(self, data: str) -> None:
        self.sink.data(data)

    def close_to(self, tag: str | None) -> None:
        while self.open:
            last = self.open.pop()
            self.sink.end(last)
            if last == tag:
                return


def html_stdlib(data: bytes) -> str:
    sink = formats._Visible()  # orient's rules for what is visible, fed by another parser
    parser = StdlibEvents(sink)
    parser.feed(formats._decode(data))
    parser.close()
    parser.close_to(None)
    return sink.close()


def html_selectolax(data: bytes) -> str:
    from selectolax.lexbor import LexborHTMLParser

    sink = formats._Visible()
    stack: list[tuple[Any, bool]] = [(LexborHTMLParser(formats._decode(data)).root, False)]
    while stack:  # a loop, not recursion: real pages nest deeper than Python's recursion limit
        node, done = stack.pop()
        if done:
            sink.end(node.tag)
        elif node.tag == "-text":
            sink.data(node.text(deep=False))
        elif not node.tag.startswith(("-", "_", "!")):
            sink.start(node.tag, {key: value or "" for key, value in node.attributes.items()})
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(list(node.iter(include_text=True))))
    return sink.close()


def html_html5lib(data: bytes) -> str:
    import html5lib

    sink = formats._Visible()
    stack: list[tuple[Any, bool]] = [(html5lib.parse(formats._decode(data), namespaceHTMLElements=False), False)]
    while stack:
        node, done = stack.pop()
        if done or not isinstance(node.tag, str):  # an element's end, or a comment
            if done:
                sink.end(node.tag)
            if node.tail:
                sink.data(node.tail)
            continue
        sink.start(node.tag, dict(node.attrib))
        if node.text:
            sink.data(node.text)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node))
    return sink.close()


def html_trafilatura(data: bytes) -> str:
    import trafilatura

    return trafilatura.extract(formats._decode(data), include_comments=False, include_tables=True) or ""


def html_justext(data: bytes) -> str:
    import justext

    # justext has no Chinese stoplist; its documented language-independent mode is an empty one with zero thresholds.
    paragraphs = justext.justext(data, frozenset(), stopwords_low=0, stopwords_high=0)
    return "\n".join(paragraph.text for paragraph in paragraphs if not paragraph.is_boilerplate)


def orient_text(suffix: str) -> Callable[[bytes], str]:
    # No size limit here: the bench measures reading; refusing is the caller's choice of max_bytes.
    return lambda data: formats.extract_text(Path("doc" + suffix), data, max_bytes=2**40)


# (format, candidate label, distributions it needs, reader)
CANDIDATES: list[tuple[str, str, list[str], Callable[[bytes], Any]]] = [
    ("docx", "python-docx (chosen)", ["python-docx"], orient_text(".docx")),
    ("docx", "stdlib zipfile + ElementTree", [], docx_stdlib),
    ("pdf", "pypdf (chosen)", ["pypdf"], orient_text(".pdf")),
    ("pdf", "pdfminer.six", ["pdfminer.six"], pdf_pdfminer),
    ("xlsx", "openpyxl (chosen)", ["openpyxl"], lambda data: formats.read_sheet(Path("doc.xlsx"), data)),
    ("xlsx", "python-calamine", ["python-calamine"], xlsx_calamine),
    ("html", "lxml target parser + orient's rules (chosen)", ["lxml"], orient_text(".html")),
    ("html", "stdlib html.parser + orient's rules", [], html_stdlib),
    ("html", "selectolax (lexbor) + orient's rules", ["selectolax"], html_selectolax),
    ("html", "html5lib + orient's rules", ["html5lib"], html_html5lib),
    ("html", "trafilatura (main text)", ["trafilatura"], html_trafilatura),
    ("html", "justext (main text)", ["justext"], html_justext),
]


# Installed size


def requirement_closure(names: Iterable[str]) -> set[str]:
    """These distributions and everything they require (no extras), by canonical name."""
    seen: set[str] = set()
    todo = [canonicalize_name(name) for name in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for line in metadata.distribution(name).requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(requirement.name))
    return seen


def installed_bytes(name: str) -> int:
    dist = metadata.distribution(name)
    paths = (Path(str(dist.locate_file(file))) for file in dist.files or [])
    return sum(path.stat().st_size for path in paths if path.is_file())


def size_column(names: list[str], core: set[str]) -> tuple[str, str]:
    if not names:
        return "0 (stdlib)", "none"
    new = sorted(requirement_closure(names) - core)
    if not new:
        return "0 (all in orient's core)", "none"
    total = sum(installed_bytes(name) for name in new)
    return f"{total / 1e6:.1f} MB", ", ".join(f"{name} {metadata.version(name)}" for name in new)


# Measurement


def median_seconds(reader: Callable[[bytes], Any], data: bytes, runs: int = 5) -> float:
    reader(data)  # imports and caches out of the timing
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        reader(data)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def kept_and_extra(expected: str, got: str) -> tuple[float, float]:
    """Share of the expected characters found in order, and share of the output that is not expected (whitespace ignored)."""
    want, have = squeeze(expected), squeeze(got)
    matched = sum(block.size for block in difflib.SequenceMatcher(None, want, have, autojunk=False).get_matching_blocks())
    return matched / len(want), (len(have) - matched) / len(have) if have else 0.0


def big_page_run(label: str, path: str, expected_path: str) -> None:
    """In a fresh process: read the big page with one candidate; print seconds, memory in MB and fidelity."""
    import os
    import resource

    reader = next(reader for _, name, _, reader in CANDIDATES if name == label)
    reader(b"<p>x</p>")  # imports out of the measurement
    with open("/proc/self/statm") as statm:
        before = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    start = time.perf_counter()
    text = reader(Path(path).read_bytes())
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{seconds:.1f}\t{peak - before:.0f}\t{squeeze(text) == squeeze(Path(expected_path).read_text())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-mb", type=float, default=50.0, help="size of the big HTML page (default 50)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds allowed per candidate on the big page")
    parser.add_argument("--big-run", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.big_run:
        big_page_run(*args.big_run)
        return

    core = requirement_closure(
        Requirement(line).name for line in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    )
    docs: dict[str, tuple[bytes, Any]] = {
        "docx": make_docx(300, 60),
        "pdf": make_pdf_doc(30, 35),
        "xlsx": make_xlsx(5000),
    }
    page, page_text = make_page("semantic", paragraphs=2000)
    docs["html"] = (page.encode(), page_text)
    sizes = {"docx": "300 paragraphs + 60-row table", "pdf": "30 pages", "xlsx": "5,000 rows", "html": "2,000 paragraphs"}
    print("## Candidates by format\n")
    print("| format | candidate | same text as written | median of 5 runs | installed beyond orient's core | new distributions |")
    print("| --- | --- | --- | --- | --- | --- |")
    for fmt, label, names, reader in CANDIDATES:
        data, expected = docs[fmt]
        got = reader(data)
        # .xlsx compares repr, so that 8000 and 8000.0 differ; text compares ignoring whitespace.
        same = repr(got) == repr(expected) if fmt == "xlsx" else squeeze(got) == squeeze(expected)
        seconds = median_seconds(reader, data)
        size, new = size_column(names, core)
        print(f"| {fmt} ({sizes[fmt]}) | {label} | {'yes' if same else 'no'} | {seconds * 1000:.0f} ms | {size} | {new} |")

    print("\n## HTML: body kept / other text let through, by kind of page\n")
    kinds = {
        "semantic": "semantic chrome (header, nav, aside, footer)",
        "divs": "chrome in plain divs",
        "bullets": "short bullets",
    }
    print("| candidate | " + " | ".join(kinds.values()) + " |")
    print("| --- |" + " --- |" * len(kinds))
    pages = {kind: make_page(kind) for kind in kinds}
    for fmt, label, _, reader in CANDIDATES:
        if fmt == "html":
            cells = [kept_and_extra(expected, reader(page.encode())) for page, expected in pages.values()]
            print(f"| {label} | " + " | ".join(f"{kept:.0%} / {extra:.0%}" for kept, extra in cells) + " |")

    big, big_text = make_big_page(args.big_mb)
    print(f"\n## HTML: one page of {len(big) / 1e6:.0f} MB, in a fresh process\n")
    print("| candidate | seconds | peak memory (RSS) added by reading, the page's bytes included | same text as written |")
    print("| --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory(prefix="orient-formats-") as folder:
        path, expected_path = Path(folder, "big.html"), Path(folder, "big.txt")
        path.write_bytes(big)
        expected_path.write_text(big_text)
        for fmt, label, _, _ in CANDIDATES:
            if fmt != "html":
                continue
            command = [sys.executable, __file__, "--big-run", label, str(path), str(expected_path)]
            try:
                run = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout)
            except subprocess.TimeoutExpired:
                print(f"| {label} | over {args.timeout:.0f} | | |")
                continue
            fields = run.stdout.strip().split("\t")
            if run.returncode or len(fields) != 3:
                last = (run.stderr.strip() or "no output").splitlines()[-1]
                print(f"| {label} | failed: {last.replace('|', '/')[:80]} | | |")
                continue
            took, grown, equal = fields
            print(f"| {label} | {took} | {grown} MB | {'yes' if equal == 'True' else 'no'} |")


if __name__ == "__main__":
    main()
