"""Lines from a plain-text report (a copy pasted from a web page, say), as one page."""

from __future__ import annotations

from pathlib import Path
from statistics import median

from charset_normalizer import from_bytes

from sendcorpus.extract.layout import Line, Page

# Lines longer than this on average are whole paragraphs, not a hard-wrapped text.
_PARAGRAPH_LINES_CHARS = 100
_UTF16_SAMPLE_BYTES = 4096
_UTF16_NUL_SHARE = 0.9  # of the high bytes in English UTF-16 text (the low bytes have next to none)
UNDECODABLE = (
    "the text is not UTF-8 and no legacy encoding (such as Windows-1252) reads it as text: "
    "save it again as UTF-8"
)


class TextDecodeError(Exception):
    """Plain text whose encoding cannot be worked out; the message is meant for a person."""


def decode_text(data: bytes) -> str:
    """UTF-8 first (the common case); otherwise the most plausible encoding, e.g. Windows-1252."""
    utf16 = utf16_without_bom(data)
    if utf16:  # before UTF-8, which reads NUL bytes too: it would put a NUL between every two letters
        try:
            return data.decode(utf16)
        except UnicodeDecodeError:
            raise TextDecodeError(
                f"the text looks like {utf16.upper()} without a byte-order mark (every other byte is NUL) "
                "but does not decode as such (cut short?): save it again as UTF-8"
            ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise TextDecodeError(UNDECODABLE)
    # English reports saved on Windows are cp1252; the detector's first guess can be a
    # neighbouring code page ("£" read as cp1250 "Ł"), so prefer cp1252 when it fits as well
    if any("cp1252" in match.could_be_from_charset and match.chaos <= best.chaos for match in matches):
        return data.decode("cp1252")
    return str(best)


def utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' for text saved as UTF-16 without a byte-order mark: in English text
    nearly every other byte is NUL (the high byte of a Latin character) and almost no other byte is."""
    sample = data[: _UTF16_SAMPLE_BYTES - _UTF16_SAMPLE_BYTES % 2]
    if len(sample) < 2:
        return None
    even, odd = sample[0::2], sample[1::2]
    for encoding, high, low in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        high_nuls, low_nuls = high.count(0) / len(high), low.count(0) / len(low)
        if high_nuls >= _UTF16_NUL_SHARE and low_nuls <= 1 - _UTF16_NUL_SHARE:
            return encoding
    return None


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
