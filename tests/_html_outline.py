"""A small outline of an HTML page, built with the standard library's parser, for the report tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = frozenset(["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"])


@dataclass
class Element:
    """One element: its tag, attributes, the classes of its ancestors, and its own text."""

    tag: str
    attrs: dict[str, str]
    ancestors: list[tuple[str, frozenset[str], str]]  # (tag, classes, id) from the root down
    index: int = 0  # position in Outline.elements
    parents: frozenset[int] = frozenset()  # indices of every ancestor
    text: list[str] = field(default_factory=list)

    @property
    def classes(self) -> frozenset[str]:
        return frozenset(self.attrs.get("class", "").split())

    def inside(self, tag: str = "", cls: str = "", id_: str = "") -> bool:
        """True when an ancestor matches every criterion given."""
        return any((not tag or t == tag) and (not cls or cls in c) and (not id_ or i == id_) for t, c, i in self.ancestors)


class Outline(HTMLParser):
    """Every element of a page, and all text with the elements it sits in."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.stack: list[Element] = []
        self.texts: list[tuple[str, Element | None]] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = Element(
            tag,
            {k: v or "" for k, v in attrs},
            [(e.tag, e.classes, e.attrs.get("id", "")) for e in self.stack],
            len(self.elements),
            frozenset(e.index for e in self.stack),
        )
        self.elements.append(el)
        if tag not in VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        # Pop to the matching open element (the report closes every element it opens).
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        owner = self.stack[-1] if self.stack else None
        if owner is not None:
            owner.text.append(data)
        self.texts.append((data, owner))

    def find(self, tag: str, cls: str = "") -> list[Element]:
        """Elements with this tag (and class, if given)."""
        return [e for e in self.elements if e.tag == tag and (not cls or cls in e.classes)]

    def text_of(self, el: Element) -> str:
        """All text inside an element, its descendants' included."""
        return "".join(data for data, owner in self.texts if owner is not None and (owner is el or el.index in owner.parents))
