"""Build the labelled passages from the source page: articles → paragraphs → sentences → clauses.

The raw page is never edited. Every passage keeps its character span in the decoded raw file, its
original and normalised text, its label, and how that label was decided (a rule, or a reviewed
decision recorded in corpus/decisions.tsv).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline import config
from pipeline.errors import OrientError
from pipeline.files import atomic_write
from pipeline.text import normalise

_NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7}
_ARTICLE = re.compile(r"^推销与营销的关系 第([一二三四五六七])篇_")
_MARKER = "【推销与营销的关系】"
_SENTENCE_END = re.compile(r"[。！？!?]+|(?<=[a-z\)])\.(?=\s+[A-Z0-9])|\?{2,}")
_CLAUSE_SEP = re.compile(r"；|(?<!mdash);")  # "mdash;" is a broken entity, not a separator
# A comma before a contrast word, or between "X重要" and "Y更重要", joins two orientations.
_CONTRAST_COMMA = re.compile(
    r"[，,]\s*(?=(?:而|但|然而|可是|反之)(?!且))"  # ..., 而/但 ...
    r"|[，,]\s*(?=[^，,。；;:：]{1,6}则)"  # ..., X则 ...
    r"|(?<=重要)[，,](?=.*更重要)"  # X重要, Y更重要
)
_LEADING = re.compile(r"^(?:\s|\d+\s*[、.:：]|[①-⑩]|\(\d+\)|-)+")
_CRUFT = (
    (re.compile(r"^首页 >"), "site navigation line"),
    (re.compile(r"^时间:"), "site date line"),
    (re.compile(r"^【www\."), "site banner"),
    (re.compile(r"叁柒商城"), "advertisement for 叁柒商城"),
    (re.compile(r"^keywin\.org$"), "stray site domain line"),
    (re.compile(r"^本文来源:"), "source URL line"),
    (re.compile(r"^推荐访问:"), "site link list"),
    (re.compile(r"^热门文章$"), "site link list heading"),
    (re.compile(r"^推销与营销的关系$"), "page title"),
)

# First-pass cues, straight from the cue table of docs/orientation.md; a reviewed decision overrides them.
MARKETING_CUES = (
    "需求",
    "调研",
    "调查",
    "细分",
    "目标市场",
    "定位",
    "品牌",
    "战略",
    "长远",
    "长期",
    "未来",
    "永续",
    "长利",
    "创造客户",
    "满意",
    "由外而内",
    "以外向内",
    "从外往里",
    "体系",
    "系统",
    "产品定义",
    "新产品",
    "研发",
    "策划",
    "创新",
    "价值",
    "4Ps",
    "以客户为中心",
    "以市场为导向",
    "关系营销",
    "信任",
    "让产品好卖",
    "好卖",
)
SALES_CUES = (
    "现有产品",
    "现有的产品",
    "已有的产品",
    "固有产品",
    "库存",
    "业绩",
    "定额",
    "指标",
    "签单",
    "定单",
    "成交",
    "回款",
    "说服",
    "技巧",
    "话术",
    "折扣",
    "促销",
    "价格战",
    "战术",
    "眼前",
    "短利",
    "短期",
    "由内向外",
    "从里往外",
    "推销",
    "卖好",
    "销售额",
    "销量",
    "个人对个人",
    "搞定客户",
    "拿到定单",
)


@dataclass(frozen=True)
class Passage:
    """One labelled clause (or heading, or piece of site chrome) of the source page."""

    id: str
    article: int
    paragraph: int
    sentence: int
    clause: int
    line: int
    span: tuple[int, int]
    original: str
    text: str
    kind: str
    label: str
    how: str
    reason: str


@dataclass(frozen=True)
class _Piece:
    article: int
    paragraph: int
    sentence: int
    clause: int
    line: int
    start: int
    end: int
    kind: str
    cruft_reason: str


def _split(text: str, start: int, pattern: re.Pattern[str], keep_sep: bool) -> Iterator[tuple[int, int]]:
    """Split text[start:] at pattern, yielding absolute (start, end) spans; separators end a piece."""
    pos = 0
    for m in pattern.finditer(text):
        end = m.end() if keep_sep else m.start()
        yield start + pos, start + end
        pos = m.end()
    yield start + pos, start + len(text)


def _trim(raw: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a span past leading enumerators and surrounding white space."""
    piece = raw[start:end]
    lead = _LEADING.match(piece)
    if lead:
        start += lead.end()
    piece = raw[start:end]
    return start, start + len(piece.rstrip())


def _has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def _pieces(raw: str) -> Iterator[_Piece]:
    """Walk the page line by line and yield every passage-sized piece with its position."""
    article = 0
    paragraph = 0
    offset = 0
    for line_no, line in enumerate(raw.splitlines(keepends=True), start=1):
        line_start = offset
        offset += len(line)
        body = line.rstrip("\r\n")
        if not body.strip():
            continue
        heading = _ARTICLE.match(body)
        if heading:
            article = _NUMERALS[heading.group(1)]
            paragraph = 0
        paragraph += 1
        stripped = body.strip()
        cruft = next((why for rx, why in _CRUFT if rx.search(stripped)), "")
        if stripped == _MARKER:
            cruft = "site marker 【推销与营销的关系】"
        if cruft or heading:
            s, e = _trim(raw, line_start, line_start + len(body))
            yield _Piece(article, paragraph, 1, 1, line_no, s, e, "cruft" if cruft else "heading", cruft)
            continue
        # Inline site markers are cut out of the sentence around them.
        segments = []
        pos = 0
        for m in re.finditer(re.escape(_MARKER), body):
            segments.append((pos, m.start()))
            yield _Piece(
                article,
                paragraph,
                0,
                0,
                line_no,
                line_start + m.start(),
                line_start + m.end(),
                "cruft",
                "site marker 【推销与营销的关系】",
            )
            pos = m.end()
        segments.append((pos, len(body)))
        sentence = 0
        for seg_start, seg_end in segments:
            seg = body[seg_start:seg_end]
            # Circled numbers inside one line start new items.
            for item_s, item_e in _split(seg, line_start + seg_start, re.compile(r"\s(?=[①-⑩])"), False):
                item = raw[item_s:item_e]
                for sent_s, sent_e in _split(item, item_s, _SENTENCE_END, True):
                    if not _has_letters(raw[sent_s:sent_e]):
                        continue
                    sentence += 1
                    for clause, (cl_s, cl_e) in enumerate(_clauses(raw, sent_s, sent_e), start=1):
                        kind = "clause"
                        if (
                            sentence == 1
                            and clause == 1
                            and cl_e - cl_s <= 25
                            and cl_e == line_start + len(body.rstrip())
                            and not re.search(r"[。！？!?,，;；]", raw[cl_s:cl_e])
                        ):
                            kind = "heading"
                        yield _Piece(article, paragraph, sentence, clause, line_no, cl_s, cl_e, kind, "")


def _clauses(raw: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Split one sentence into clauses at semicolons and contrastive commas."""
    for s1, e1 in _split(raw[start:end], start, _CLAUSE_SEP, True):
        for s2, e2 in _split(raw[s1:e1], s1, _CONTRAST_COMMA, True):
            s, e = _trim(raw, s2, e2)
            if _has_letters(raw[s:e]):
                yield s, e


def rule_label(text: str) -> tuple[str, str]:
    """First-pass label from the cue lists: the side with more distinct cues, else neutral."""
    m = sorted({c for c in MARKETING_CUES if c in text})
    s = sorted({c for c in SALES_CUES if c in text})
    if len(m) > len(s):
        return "marketing", "marketing cues: " + "、".join(m)
    if len(s) > len(m):
        return "sales", "sales cues: " + "、".join(s)
    if m:
        return config.NEUTRAL, "as many sales as marketing cues: " + "、".join(s + m)
    return config.NEUTRAL, "no orientation cue"


@dataclass(frozen=True)
class Decision:
    """A reviewed label for one passage, with the start of its text to catch id drift."""

    label: str
    excerpt: str
    reason: str


def read_decisions(path: Path = config.DECISIONS_FILE) -> dict[str, Decision]:
    """Read the reviewed decisions file: id, label, excerpt, reason (tab-separated, # comments)."""
    decisions: dict[str, Decision] = {}
    if not path.exists():
        return decisions
    with path.open(encoding="utf-8", newline="") as fh:
        rows = csv.reader(
            (line for line in fh if line.strip() and not line.startswith("#")), delimiter="\t", quoting=csv.QUOTE_NONE
        )
        for lineno, row in enumerate(rows, start=1):
            if len(row) != 4:
                raise OrientError(f"{path.name}: row {lineno} has {len(row)} fields, expected 4 (id, label, excerpt, reason).")
            pid, label, excerpt, reason = (field.strip() for field in row)
            if pid == "id":
                continue
            if label not in (*config.LABELS, config.NEUTRAL):
                raise OrientError(f"{path.name}: passage {pid} has unknown label {label!r}.")
            if pid in decisions:
                raise OrientError(f"{path.name}: passage {pid} is decided twice.")
            decisions[pid] = Decision(label, excerpt, reason)
    return decisions


def build_passages(raw: str, decisions: dict[str, Decision]) -> list[Passage]:
    """Parse the page into labelled passages, applying reviewed decisions over the rules."""
    passages = []
    seen = set()
    for p in _pieces(raw):
        pid = f"a{p.article}-p{p.paragraph:03d}-s{p.sentence:02d}-c{p.clause:02d}"
        if p.kind == "cruft":
            pid = f"a{p.article}-p{p.paragraph:03d}-x{p.start}"
        original = raw[p.start : p.end]
        text = normalise(original)
        if p.kind == "cruft":
            label, how, reason = config.NEUTRAL, "rule:cruft", p.cruft_reason
        elif p.kind == "heading":
            label, how, reason = config.NEUTRAL, "rule:heading", "heading: names a topic, says nothing on where thinking starts"
        else:
            label, reason = rule_label(text)
            how = "rule:cues"
        decision = decisions.get(pid)
        if decision is not None:
            if not text.startswith(decision.excerpt):
                raise OrientError(
                    f"decisions.tsv: passage {pid} now starts {text[:12]!r}, not {decision.excerpt!r}; review it again."
                )
            label, how, reason = decision.label, "decision", decision.reason
        seen.add(pid)
        passages.append(
            Passage(
                pid,
                p.article,
                p.paragraph,
                p.sentence,
                p.clause,
                p.line,
                (p.start, p.end),
                original,
                text,
                p.kind,
                label,
                how,
                reason,
            )
        )
    stale = sorted(set(decisions) - seen)
    if stale:
        raise OrientError(f"decisions.tsv names passages that no longer exist: {', '.join(stale[:5])}.")
    return passages


def read_raw(path: Path = config.RAW_FILE) -> str:
    """Read the source page exactly as given."""
    return path.read_bytes().decode("utf-8")


def write_passages(passages: list[Passage], path: Path = config.PASSAGES_FILE) -> None:
    """Write passages as JSON lines, byte-identical for identical input."""
    lines = [json.dumps(asdict(p), ensure_ascii=False) for p in passages]
    atomic_write(path, ("\n".join(lines) + "\n").encode("utf-8"))


def read_passages(path: Path = config.PASSAGES_FILE) -> list[Passage]:
    """Read passages.jsonl back into Passage records."""
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            d["span"] = tuple(d["span"])
            out.append(Passage(**d))
    return out


def build() -> list[Passage]:
    """Rebuild corpus/passages.jsonl from the raw page and the decisions file."""
    passages = build_passages(read_raw(), read_decisions())
    write_passages(passages)
    return passages


if __name__ == "__main__":
    build()
