"""Lines from a plain-text report (a copy pasted from a web page, say), as one page."""

from __future__ import annotations

from pathlib import Path
from statistics import median

from charset_normalizer import from_bytes

from sendcorpus.extract.layout import Line, Page

# Lines longer than this on average are whole paragraphs, not a hard-wrapped text.
_PARAGRAPH_LINES_CHARS = 100


class TextDecodeError(Exception):
    """Plain text whose encoding cannot be worked out."""


def decode_text(data: bytes) -> str:
    """UTF-8 first (the common case); otherwise the most plausible encoding, e.g. Windows-1252."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise TextDecodeError("the text is not UTF-8 and its encoding could not be recognised")
    # English reports saved on Windows are cp1252; the detector's first guess can be a
    # neighbouring code page ("£" read as cp1250 "Ł"), so prefer cp1252 when it fits as well
    if any("cp1252" in match.could_be_from_charset and match.chaos <= best.chaos for match in matches):
        return data.decode("cp1252")
    return str(best)


def read_text(path: Path) -> list[Page]:
    return [text_page(decode_text(path.read_bytes()))]


def text_page(text: str) -> Page:
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    filled = [line.strip() for line in raw_lines if line.strip()]
    every_line_is_a_paragraph = bool(filled) and median(len(line) for line in filled) > _PARAGRAPH_LINES_CHARS
    lines: list[Line] = []
    blank_before = True
    for raw in raw_lines:
        stripped = raw.strip()
        if not stripped:
            blank_before = True
            continue
        lines.append(Line(text=stripped, page=1, gap_before=blank_before or every_line_is_a_paragraph))
        blank_before = False
    return Page(number=1, lines=lines)
