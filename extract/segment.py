"""Cut a cleaned report into the sections of the 2023 framework and their items.

An item is one top-level bullet or paragraph. A lead-in sentence and its sub-bullets are one
item, a paragraph indented under a bullet belongs to that bullet, a paragraph broken by a page
continues, and each row of a priority-action table is one item without its "responsible body" cell, even
when a page break cuts the row (the body cell is repeated on the next page; the row goes on when that cell
or the row's text was left unfinished).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sendcorpus.extract.clean import BULLET
from sendcorpus.extract.layout import Item, Line, Page

TOP_BULLET = "◼"

# (pattern on the start of a line, section, subsection)
HEADINGS: list[tuple[re.Pattern[str], str, str | None]] = [
    (re.compile(r"^inspection outcome\b", re.I), "outcome", None),
    (re.compile(r"^information about the local area partnership\b", re.I), "information", None),
    (re.compile(r"^what is it like to be a child or young person\b", re.I), "context", None),
    (re.compile(r"^what is the area partnership doing that is effective\b", re.I), "strength", None),
    (re.compile(r"^what does the area partnership need to do better\b", re.I), "weakness", None),
    (re.compile(r"^areas? for priority action\b", re.I), "recommendation", "priority_action"),
    (re.compile(r"^areas? for improvement\b", re.I), "recommendation", "improvement"),
    (re.compile(r"^local area partnership details\b", re.I), "other", None),
    (re.compile(r"^information about this inspection\b", re.I), "other", None),
    (re.compile(r"^inspection team\b", re.I), "other", None),
]
TITLE = re.compile(r"^area send inspection of\b", re.I)
TABLE_HEADER = re.compile(r"^responsible bod(y|ies)\b", re.I)
_OPEN_ENDING = re.compile(r"(:|;|,|\b(and|or|to|of|the|for|in|with))$", re.I)
_SENTENCE_ENDS = (".", "!", "?", ":", ")", "’", "'", '"', "”")
_INDENT_PT = 8.0  # indentation that marks a line as under the section's margin (a sub-level)
_TABLE_COLUMN_PT = 100.0  # how far right of the margin the action column of a table starts


@dataclass
class _Draft:
    section: str
    subsection: str | None
    page: int
    parts: list[str] = field(default_factory=list)
    is_bullet: bool = False
    has_sub_bullets: bool = False
    part_pages: list[int] = field(default_factory=list)  # the page of each part

    def __post_init__(self) -> None:
        self.part_pages += [self.page] * (len(self.parts) - len(self.part_pages))

    def add(self, text: str, page: int) -> None:
        self.parts.append(text)
        self.part_pages.append(page)

    def joined(self) -> tuple[str, tuple[tuple[int, int], ...]]:
        """The item's text, and (offset, page) where a later page than the item's first begins in it."""
        text, starts = _join(self.parts)
        breaks, page = [], self.page
        for start, part_page in zip(starts, self.part_pages, strict=True):
            if part_page != page:
                breaks.append((start, part_page))
                page = part_page
        return text, tuple(breaks)


@dataclass
class _State:
    section: str = "outcome"
    subsection: str | None = None
    margin: float | None = None
    in_table: bool = False
    body_cell_seen: bool = False
    body_cell_end: str = ""  # the last line of the current row's "responsible body" cell
    cell_opens_page: bool = False  # the current body cell is the first thing on its page
    row_broken: bool = False  # ... and carries the body cell of the page before on
    last_page: int | None = None
    drafts: list[_Draft] = field(default_factory=list)

    @property
    def current(self) -> _Draft | None:
        if self.drafts and self.drafts[-1].section == self.section:
            return self.drafts[-1]
        return None


def segment(pages: list[Page]) -> tuple[str, list[Item]]:
    """Return the report's title line and its items, in reading order."""
    state = _State()
    title = ""
    lines = [line for page in pages for line in page.lines]
    index = 0
    while index < len(lines):
        line = lines[index]
        heading = _heading(line)
        if not title and TITLE.match(line.text):
            title, index = _title(lines, index)
            continue
        if heading is not None:
            index = _start_section(state, heading, lines, index)
            continue
        _add_line(state, line)
        index += 1
    items = []
    numbers: dict[str, int] = {}
    for draft in state.drafts:
        text, page_breaks = draft.joined()
        if not text:
            continue
        numbers[draft.section] = numbers.get(draft.section, 0) + 1
        number = numbers[draft.section]
        items.append(Item(draft.section, draft.subsection, number, draft.page, text, page_breaks))
    return title, items


def titles(pages: list[Page]) -> list[tuple[str, int]]:
    """Every report title in the pages, with its page: the first title line `segment` takes, and each later
    one that opens a paragraph. A real report has one; a second is another report in the same file."""
    lines = [line for page in pages for line in page.lines]
    found = []
    for index, line in enumerate(lines):
        if TITLE.match(line.text) and (not found or line.gap_before):
            found.append((_title(lines, index)[0], line.page))
    return found


def _heading(line: Line) -> tuple[str, str | None] | None:
    text = line.text
    if not (line.gap_before and text[:1].isupper() and len(text) < 120):
        return None
    for pattern, section, subsection in HEADINGS:
        if pattern.match(text):
            return section, subsection
    return None


def _title(lines: list[Line], index: int) -> tuple[str, int]:
    """The title can wrap: 'Area SEND inspection of Bury Local Area' / 'Partnership'."""
    title = lines[index].text
    index += 1
    last = min(index + 2, len(lines))
    while index < last and not title.lower().endswith("partnership") and not _heading(lines[index]):
        if lines[index].text.lower().startswith("inspection dates"):
            break
        title = f"{title} {lines[index].text}"
        index += 1
    return title, index


def _start_section(state: _State, heading: tuple[str, str | None], lines: list[Line], index: int) -> int:
    section, subsection = heading
    line = lines[index]
    repeated = section == state.section and subsection == state.subsection
    state.section, state.subsection = section, subsection
    if not repeated:
        state.margin = line.x0
        state.in_table = False
    index += 1
    # a heading can wrap onto a second line ("... with special educational needs" / "and/or ... area?")
    if section == "context":
        while index < len(lines) and not lines[index].gap_before and not line.text.endswith("?"):
            line = lines[index]
            index += 1
    return index


def _add_line(state: _State, line: Line) -> None:
    page_turned = state.last_page is not None and line.page != state.last_page
    state.last_page = line.page
    if TABLE_HEADER.match(line.text):
        state.in_table, state.body_cell_seen, state.body_cell_end = True, False, ""
        return
    if state.in_table and _in_body_column(state, line):
        if line.gap_before:  # a new cell, or the rest of one cut off by the page break
            state.cell_opens_page = page_turned
            state.row_broken = page_turned and bool(_OPEN_ENDING.search(state.body_cell_end))
        state.body_cell_end = line.text
        state.body_cell_seen = True
        return
    current = state.current
    text = line.text
    bullet = text[:1] in (TOP_BULLET, BULLET)
    if bullet:
        text = text[1:].strip()
        if not text:  # a bullet glyph alone on its line: its text follows
            state.drafts.append(_Draft(state.section, state.subsection, line.page, is_bullet=True))
            return
    if state.in_table and state.body_cell_seen:
        state.body_cell_seen = False
        if current is not None and state.cell_opens_page and (state.row_broken or _carries_on(current, text)):
            current.add(text, line.page)  # a row continued over a page break, its body cell repeated
        else:
            state.drafts.append(_Draft(state.section, state.subsection, line.page, [text]))
        return
    if state.in_table and page_turned and current is not None and not bullet:
        current.add(text, line.page)  # every row has a body cell: text on a new page without one goes on
        return
    if current is None or (current.is_bullet and not current.parts):
        if current is None:
            current = _Draft(state.section, state.subsection, line.page, is_bullet=bullet)
            state.drafts.append(current)
        current.page = line.page
        current.add(text, line.page)
        return
    if bullet:
        if _is_sub_bullet(state, current, line):
            current.has_sub_bullets = True
            current.add(f"\n{BULLET} {text}", line.page)
        else:
            state.drafts.append(_Draft(state.section, state.subsection, line.page, [text], is_bullet=True))
        return
    if line.gap_before and _starts_new_item(state, current, line):
        state.drafts.append(_Draft(state.section, state.subsection, line.page, [text]))
        return
    current.add(text, line.page)


def _in_body_column(state: _State, line: Line) -> bool:
    if line.x0 is None or state.margin is None:
        return False
    return line.x0 < state.margin + _TABLE_COLUMN_PT


def _is_sub_bullet(state: _State, current: _Draft, line: Line) -> bool:
    """A bullet after a lead-in ending in ':' (or inside such a list) belongs to the lead-in's item."""
    last = current.parts[-1].rstrip()
    if last.endswith(":"):
        return True
    if current.has_sub_bullets and not last.endswith("."):
        return True
    if current.has_sub_bullets and line.text[:1] == BULLET:
        return True
    return (
        line.x0 is not None
        and state.margin is not None
        and current.is_bullet
        and line.text[:1] == BULLET
        and line.x0 > state.margin + 2 * _INDENT_PT
    )


def _carries_on(current: _Draft, text: str) -> bool:
    """The text continues the draft's last sentence (carried over a page break or a wrapped line)."""
    last = current.parts[-1].rstrip()
    return text[:1].islower() or bool(_OPEN_ENDING.search(last)) or not last.endswith(_SENTENCE_ENDS)


def _starts_new_item(state: _State, current: _Draft, line: Line) -> bool:
    if _carries_on(current, line.text):
        return False
    if current.is_bullet and line.x0 is not None and state.margin is not None:
        # a paragraph indented under a bullet belongs to it
        return line.x0 <= state.margin + _INDENT_PT
    return not current.has_sub_bullets or line.x0 is None or line.x0 <= (state.margin or 0) + _INDENT_PT


def _join(parts: list[str]) -> tuple[str, list[int]]:
    """The parts as one text, and where each part begins in it."""
    # pieces gathered in a list and joined once: adding to a growing string is quadratic in the
    # number of lines (a hard-wrapped 2.7-million-character paragraph took 4.5 s)
    pieces: list[str] = []
    starts: list[int] = []
    length, tail = 0, ""  # of the text so far: its length and last two characters
    for part in parts:
        glued = part.startswith("\n") or (
            tail.endswith("-") and part[:1].isalnum() and not tail.endswith(" -")
        )
        piece = f" {part}" if length and not glued else part
        pieces.append(piece)
        starts.append(length + len(piece) - len(piece.lstrip()))
        length += len(piece)
        tail = (tail + piece)[-2:]
    joined = "".join(pieces)
    text = joined.strip()
    lead = len(joined) - len(joined.lstrip())
    return text, [min(max(start - lead, 0), len(text)) for start in starts]
