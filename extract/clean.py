"""Clean page lines: running headers and footers, page numbers, hyphenation, bullets, control characters."""

from __future__ import annotations

import re
from collections import Counter

from sendcorpus.extract.layout import Line, Page

# pdfium marks a hyphen it cannot place (line-end or discretionary) with these
HYPHEN_MARKS = "\x02\ufffe\u00ad"
TOP_LEVEL_BULLETS = "◼■▪●"
SUB_BULLETS = "•◦‣–-o"
BULLET = "•"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufeff\ufffe\uffff\u200b]")
_SPACES = re.compile(r"[ \t\u00a0\u2002-\u200a]+")
_DIGITS = re.compile(r"\d+")
# \b: a match may only start where a word does; without it a long run of letters is scanned from
# every position (quadratic: a 20,000-letter "word" took 8 s)
_HYPHENATED = re.compile(rf"\b(\w+)[{HYPHEN_MARKS}](\w+)")
_WORD = re.compile(r"[A-Za-z]+")
_HTML_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_HTML_ENTITY = {
    "&amp;": "&",
    "&nbsp;": " ",
    "&lt;": "<",
    "&gt;": ">",
    "&quot;": '"',
    "&#39;": "'",
    "&rsquo;": "’",
}
_BAND_PT = 90.0  # how far from the top or bottom edge a running header/footer may sit


def clean_pages(pages: list[Page]) -> list[Page]:
    """Drop running headers/footers and normalise each line's text, in place and returned."""
    furniture = _running_lines(pages)
    vocabulary = _vocabulary(pages)
    for page in pages:
        kept: list[Line] = []
        for index, line in enumerate(page.lines):
            if _in_band(line, page) and (_shape(line.text) in furniture or line.text.strip().isdigit()):
                if index + 1 < len(page.lines) and line.gap_before:
                    page.lines[index + 1].gap_before = True
                continue
            line.text = clean_text(line.text, vocabulary)
            if line.text:
                kept.append(line)
        page.lines = kept
    return pages


def clean_text(text: str, vocabulary: set[str] | frozenset[str] = frozenset()) -> str:
    text = _HYPHENATED.sub(lambda m: _join_hyphenated(m, vocabulary), text)
    text = _strip_html(text)
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text).strip()
    if text[:1] in TOP_LEVEL_BULLETS:
        text = "◼ " + text[1:].lstrip()
    elif text[:1] in "•◦‣" or text[:2] in ("o ", "- ", "– "):
        text = f"{BULLET} " + text[1:].lstrip()
    return text


def _strip_html(text: str) -> str:
    if "<" not in text and "&" not in text:
        return text
    text = _HTML_TAG.sub(" ", text)
    for entity, char in _HTML_ENTITY.items():
        text = text.replace(entity, char)
    return text


def _join_hyphenated(match: re.Match[str], vocabulary: set[str] | frozenset[str]) -> str:
    """`infor|mation` becomes one word when the document uses it whole; `multi|agency` keeps its hyphen."""
    left, right = match.group(1), match.group(2)
    if (left + right).lower() in vocabulary:
        return left + right
    return f"{left}-{right}"


def _vocabulary(pages: list[Page]) -> set[str]:
    words: set[str] = set()
    for page in pages:
        for line in page.lines:
            words.update(word.lower() for word in _WORD.findall(line.text.replace("\x02", " ")))
    return words


def _shape(text: str) -> str:
    return _DIGITS.sub("#", _SPACES.sub(" ", text).strip().lower())


def _in_band(line: Line, page: Page) -> bool:
    if line.top is None or page.height is None:
        return True
    return line.top < _BAND_PT or line.top > page.height - _BAND_PT


def _running_lines(pages: list[Page]) -> set[str]:
    """Line shapes that recur at the page edges on at least half the pages are headers/footers."""
    if len(pages) < 3:
        return set()
    counts: Counter[str] = Counter()
    for page in pages:
        counts.update({_shape(line.text) for line in page.lines if _in_band(line, page)})
    return {shape for shape, seen in counts.items() if seen >= max(2, len(pages) // 2)}
