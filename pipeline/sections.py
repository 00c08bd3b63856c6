"""A posting's structure: its headed sections, and the boilerplate that scoring leaves out.

Real job postings put their orientation in the duties (岗位职责, 工作内容, 职位描述) and surround it
with company introductions, requirements and benefits that read the same in every posting
(docs/labelling.md: boilerplate is ignored, duties weigh most). The sections are found by their headings
alone, so the rule is the same for training and scoring texts, costs one regular-expression scan, and
never guesses at unheaded text: a text without headings is one `body` section and scores as before.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# Heading words by section kind; longer words first so that 岗位职责 wins over 职责.
_HEADINGS: dict[str, tuple[str, ...]] = {
    "intro": ("公司简介", "公司介绍", "企业简介", "企业介绍", "公司概况", "关于我们", "about us", "company profile"),
    "duties": (
        "岗位职责",
        "工作职责",
        "主要工作职责",
        "主要职责",
        "职位职责",
        "职责描述",
        "职位描述",
        "岗位描述",
        "工作描述",
        "工作内容",
        "岗位内容",
        "工作职能",
        "具体职责",
        "职责",
        "responsibilities",
        "job description",
        "duties",
    ),
    "requirements": (
        "任职要求",
        "岗位要求",
        "任职资格",
        "职位要求",
        "招聘要求",
        "任职条件",
        "工作要求",
        "应聘要求",
        "职务要求",
        "素质要求",
        "其他要求",
        "人员要求",
        "应聘条件",
        "加分项",
        "要求",
        "requirements",
        "qualifications",
    ),
    "benefits": (
        "福利待遇",
        "薪资待遇",
        "薪酬福利",
        "薪资福利",
        "工资待遇",
        "薪酬待遇",
        "其他福利",
        "公司福利",
        "我们为您提供",
        "我们提供",
        "薪资结构",
        "薪资标准",
        "薪资",
        "福利",
        "待遇",
        "工作时间",
        "上班时间",
        "工作地点",
        "工作地址",
        "公司地址",
        "面试地址",
        "面试时间",
        "联系方式",
        "联系人",
        "联系电话",
        "benefits",
        "we offer",
    ),
}
# Kinds whose words are left out of scoring: they read alike whatever a posting's orientation.
BOILERPLATE = frozenset({"intro", "benefits"})
# Keys case-folded, as matching ignores case: "Benefitſ" matches "benefits" and must find it.
_KIND_OF = {word.casefold(): kind for kind, words in _HEADINGS.items() for word in words}
_WORDS = "|".join(re.escape(w) for w in sorted(_KIND_OF, key=len, reverse=True))
# A heading starts a line (or follows a sentence end) and may be numbered; it is bracketed (【福利】), or ends with
# a colon, or stands alone on its line. "岗位职责/待遇/环境" (one regional site's single
# heading over the whole posting) is a duties heading: the first word decides.
_HEADING = re.compile(
    rf"[ \t\u3000]*(?:[一二三四五六七八九十\d]+[、.．)）]\s*)?"
    rf"(?:[【\[](?P<bracketed>{_WORDS})[^\n】\]]{{0,8}}[】\]][ \t\u3000]*[:：]?"
    rf"|(?P<word>{_WORDS})(?:[/、及和与&][^\r\n:：]{{0,8}})?(?:如下)?(?:[ \t\u3000]*[:：]|[ \t\u3000]*(?=\r?\n|$)))",
    re.IGNORECASE,
)
# Where a heading may start: the start of the text, a line, or a sentence. Matching the heading only there is
# several times faster than a search that tries every position of every document.
_BREAK = re.compile(r"[\n。；;!！?？]")
_DUTY = re.compile(r"[ \t\u3000]*(?:[一二三四五六七八九十\d]+[、.．)）]\s*)?负责")


class Section(NamedTuple):
    """One part of a text: its kind and its span [start, end) in the text, heading included."""

    kind: str
    start: int
    end: int


def _starts(text: str) -> list[int]:
    """Positions where a line or sentence starts."""
    return [0, *(m.end() for m in _BREAK.finditer(text))]


def _headings(text: str, starts: list[int]) -> list[tuple[int, int, str]]:
    """(start, end, kind) of every heading."""
    out = []
    for pos in starts:
        m = _HEADING.match(text, pos)
        if m:
            out.append((m.start(), m.end(), _KIND_OF[(m.group("word") or m.group("bracketed")).casefold()]))
    return out


def _sections(text: str, starts: list[int], found: list[tuple[int, int, str]]) -> list[Section]:
    if not found:
        return [Section("body", 0, len(text))] if text else []
    out = []
    if found[0][0] > 0 and text[: found[0][0]].strip():
        out.append(Section("body", 0, found[0][0]))
    else:  # blank lines before the first heading belong to it, so the sections tile the text
        found = [(0, *found[0][1:]), *found[1:]]
    for (start, heading_end, kind), (end, _, _) in zip(found, [*found[1:], (len(text), 0, "")], strict=True):
        stop = _boilerplate_end(text, starts, start, heading_end, end) if kind in BOILERPLATE else end
        out.append(Section(kind, start, stop))
        if stop < end:
            out.append(Section("body", stop, end))
    return out


_BLANK_LINE = re.compile(r"\n[ \t\u3000\r]*\n")


def _boilerplate_end(text: str, starts: list[int], start: int, heading_end: int, end: int) -> int:
    """Where an introduction or a benefits section ends, at the latest at the next heading.

    Left out of scoring, such a section must not swallow what follows it without a heading: a heading with its
    content on the same line (工作地点：上海) ends with that line, one alone on its line ends at a blank line, and
    a sentence or line that starts with a duty (负责…, 1、负责…) ends either: "公司简介：…。负责华南区域经销商管理。"
    """
    line_end = text.find("\n", heading_end, end)
    inline = text[heading_end : end if line_end < 0 else line_end].strip()
    if inline:
        stop = end if line_end < 0 else line_end + 1
    else:
        blank = _BLANK_LINE.search(text, heading_end, end)
        stop = end if blank is None else blank.end()
    duty = next((p for p in starts if start < p < stop and _DUTY.match(text, p)), None)
    return stop if duty is None else duty


def sections(text: str) -> list[Section]:
    """Split a text into its headed sections; text before the first heading (or with none) is `body`."""
    starts = _starts(text)
    return _sections(text, starts, _headings(text, starts))


def _blank(piece: str) -> str:
    """Spaces for every character but line breaks, which stay so that lines keep their numbers."""
    return "\n".join(" " * len(line) for line in piece.split("\n"))


def scored_text(text: str) -> str:
    """The text with its headings and boilerplate sections blanked to spaces: same length, so every span still points into `text`.

    Headings go too: 岗位职责 and 任职要求 head postings of every orientation, and as terms they only learned
    which kinds of training text had headings.
    """
    starts = _starts(text)
    found = _headings(text, starts)
    if not found:
        return text
    spans = [(s.start, s.end) for s in _sections(text, starts, found) if s.kind in BOILERPLATE]
    spans += [(start, end) for start, end, _ in found]
    pieces = []
    at = 0
    for start, end in sorted(spans):
        if end <= at:
            continue
        start = max(start, at)
        pieces += [text[at:start], _blank(text[start:end])]
        at = end
    pieces.append(text[at:])
    return "".join(pieces)
