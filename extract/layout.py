"""The shape every reader hands to the cleaner and segmenter: pages of positioned lines."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Line:
    """One line of text. Positions are in PDF points (origin bottom-left) and are
    None for plain-text input, which only knows blank-line paragraph breaks."""

    text: str
    page: int
    x0: float | None = None
    top: float | None = None
    bottom: float | None = None
    gap_before: bool = False  # a paragraph break precedes this line


@dataclass
class Page:
    number: int
    lines: list[Line] = field(default_factory=list)
    width: float | None = None
    height: float | None = None

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


@dataclass
class Item:
    """One top-level bullet or paragraph of a report section."""

    section: str
    subsection: str | None
    item_no: int
    page: int  # where the item begins
    text: str
    page_breaks: tuple[tuple[int, int], ...] = ()  # (offset in text, page) where a later page begins

    def page_at(self, offset: int) -> int:
        """The page the character at `offset` of the text is on."""
        page = self.page
        for start, later in self.page_breaks:
            if start > offset:
                break
            page = later
        return page


@dataclass
class ParsedReport:
    pages: list[Page]
    items: list[Item]
    heading: str  # the report's title line, e.g. "Area SEND inspection of Bury Local Area Partnership"
    titles: list[tuple[str, int]] = field(default_factory=list)  # each title and its page: one a report
    repeated_pages: list[tuple[int, int]] = field(default_factory=list)  # (page, page it repeats), dropped

    @property
    def n_words(self) -> int:
        return sum(len(page.text.split()) for page in self.pages)
