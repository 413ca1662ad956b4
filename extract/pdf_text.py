"""Positioned lines from a PDF with pypdfium2 (chosen by measurement, see README)."""

from __future__ import annotations

import ctypes
import itertools
from collections.abc import Iterator
from pathlib import Path
from statistics import median
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from sendcorpus.extract.layout import Line, Page

# wider than any word space, bullet indent or label tab in the corpus (at most 19.4 pt), narrower
# than the gap between two columns
_COLUMN_GAP_PT = 20.0
_FORM_DEPTH = 3  # levels of nested forms searched for table borders


class PdfError(Exception):
    """A PDF that cannot be read; the message is meant for a person."""


def read_pdf(path: Path) -> list[Page]:
    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as error:
        message = str(error)
        if "password" in message.lower():
            raise PdfError("the PDF is password-protected") from None
        raise PdfError(f"the PDF cannot be opened ({message})") from None
    try:
        return [_read_page(document[index], index + 1) for index in range(len(document))]
    except pdfium.PdfiumError as error:
        raise PdfError(f"a page of the PDF cannot be read ({error})") from None
    finally:
        document.close()


def _read_page(page: pdfium.PdfPage, number: int) -> Page:
    width, height = page.get_size()
    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        text = textpage.get_text_range(0, count) if count else ""
        lines = []
        offset = 0
        for raw in text.split("\r\n"):
            for part, start in _column_parts(textpage, raw, offset):
                line = _positioned_line(textpage, part, start, number)
                if line is not None:
                    lines.append(line)
            offset += len(raw) + 2
        rules = _horizontal_rules(page)
    finally:
        textpage.close()
    _mark_paragraph_gaps(lines, rules)
    return Page(number=number, lines=lines, width=width, height=height)


def _column_parts(textpage: pdfium.PdfTextPage, raw: str, offset: int) -> list[tuple[str, int]]:
    """pdfium runs text on one baseline into one line even across columns ("Plymouth City Council
    Plymouth City Council leaders should", a table's body cell beside its action): split such a line
    where the white space between two text segments is wider than any word space."""
    if not raw.strip():
        return []
    count = textpage.count_rects(offset, len(raw))
    if count < 2:  # one run of text: nothing to split
        return [(raw, offset)]
    rects = [textpage.get_rect(i) for i in range(count)]
    cuts = []
    for (_, bottom, right, top), (left, next_bottom, _, next_top) in itertools.pairwise(rects):
        same_baseline = min(top, next_top) - max(bottom, next_bottom) > 0
        if same_baseline and left - right > _COLUMN_GAP_PT:
            index = textpage.get_index(left + 0.5, (next_bottom + next_top) / 2, 1.0, 1.0)
            if index is not None and offset < index < offset + len(raw):
                cuts.append(index - offset)
    bounds = [0, *cuts, len(raw)]
    return [(raw[begin:end], offset + begin) for begin, end in itertools.pairwise(bounds)]


def _positioned_line(textpage: pdfium.PdfTextPage, raw: str, offset: int, page: int) -> Line | None:
    stripped = raw.strip()
    if not stripped:
        return None
    first = offset + (len(raw) - len(raw.lstrip()))
    last = offset + len(raw.rstrip()) - 1
    left, _, _, top = textpage.get_charbox(first, loose=True)
    # pdfium sometimes runs two visual lines into one (at a hyphen): the last
    # character tells where the text really ends
    _, bottom, _, _ = textpage.get_charbox(last, loose=True)
    return Line(text=stripped, page=page, x0=left, top=top, bottom=bottom)


def _horizontal_rules(page: pdfium.PdfPage) -> list[tuple[float, float, float]]:
    """Table borders: thin, wide path objects, as (y, left, right)."""
    rules = []
    for left, bottom, right, top in _path_bounds(page.raw):
        if top - bottom < 2.0 and right - left > 50.0:
            rules.append(((top + bottom) / 2, left, right))
    return rules


def _path_bounds(page: Any, form: Any = None, level: int = 0) -> Iterator[tuple[float, float, float, float]]:
    """The bounds of the page's path objects, also inside forms up to _FORM_DEPTH levels down.
    pdfium's own calls, as `PdfPage.get_objects` makes them, without wrapping each of the page's objects
    (tens of thousands of glyph runs) in a Python object just to read its type."""
    if form is None:
        count, get, parent = pdfium_c.FPDFPage_CountObjects, pdfium_c.FPDFPage_GetObject, page
    else:
        count, get, parent = pdfium_c.FPDFFormObj_CountObjects, pdfium_c.FPDFFormObj_GetObject, form
    total = count(parent)
    if total < 0:
        raise pdfium.PdfiumError("Failed to get number of pageobjects.")
    left, bottom, right, top = ctypes.c_float(), ctypes.c_float(), ctypes.c_float(), ctypes.c_float()
    for index in range(total):
        raw = get(parent, index)
        if not raw:
            raise pdfium.PdfiumError("Failed to get pageobject.")
        kind = pdfium_c.FPDFPageObj_GetType(raw)
        if kind == pdfium_c.FPDF_PAGEOBJ_PATH:
            if not pdfium_c.FPDFPageObj_GetBounds(raw, left, bottom, right, top):
                raise pdfium.PdfiumError("Failed to locate pageobject.")
            yield left.value, bottom.value, right.value, top.value
        elif kind == pdfium_c.FPDF_PAGEOBJ_FORM and level < _FORM_DEPTH - 1:
            yield from _path_bounds(page, raw, level + 1)


def _mark_paragraph_gaps(lines: list[Line], rules: list[tuple[float, float, float]]) -> None:
    """A paragraph break is white space between lines clearly larger than the page's usual leading,
    or a table border between them."""
    leadings = [
        above.bottom - below.top
        for above, below in itertools.pairwise(lines)
        if above.bottom is not None and below.top is not None and -2 < above.bottom - below.top < 30
    ]
    usual = median(leadings) if leadings else 3.0
    for above, below in itertools.pairwise(lines):
        if above.bottom is None or below.top is None:
            continue
        leading = above.bottom - below.top
        # a negative leading is a jump back up the page: a new column or table cell
        ruled = any(
            below.top - 1 <= y <= above.bottom + 1 and left - 1 <= (below.x0 or 0) <= right
            for y, left, right in rules
        )
        below.gap_before = ruled or leading > usual + 3.5 or leading < -6
    if lines:
        lines[0].gap_before = True
