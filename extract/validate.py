"""Input checks before and after reading: each failure is a `Rejected` with a reason a person understands."""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2 as pdfium

from sendcorpus.extract.layout import ParsedReport
from sendcorpus.extract.text_file import TextDecodeError, decode_text

DEFAULT_MAX_BYTES = 50 * 2**20
_SNIFF_BYTES = 8192
_MIN_WORDS_PER_PAGE = 20  # a text layer thinner than this is a scan (or a cover page alone)
_MAGIC = [
    (b"PK\x03\x04", "a ZIP archive (or a Word/Excel file)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%!PS", "a PostScript file"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office file"),
    (b"\x1f\x8b", "a gzip archive"),
]
_HTML = re.compile(rb"<!doctype html|<html|<head>|<body|<title>", re.I)
_AREA_SEND_TITLE = re.compile(
    r"^(area send inspection of|(joint )?local area send (inspection|revisit)"
    r"|area send (monitoring|revisit))",
    re.I,
)
_CHILDRENS_SERVICES = "an inspection of local authority children's services"
_OTHER_OFSTED_TITLES = {
    "school inspection report": "a school inspection report",
    "inspection of children's social care services": _CHILDRENS_SERVICES,
    "inspection of local authority children's services": _CHILDRENS_SERVICES,
    "children's home inspection": "a children's home inspection report",
    "further education and skills inspection report": "a further education inspection report",
    "early years inspection report": "an early years inspection report",
}


class Rejected(Exception):
    """An input that cannot be ingested; `reason` is a short code, `detail` a sentence."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def check_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """'pdf' or 'text' when the file can be read, else `Rejected`."""
    size = path.stat().st_size
    if size == 0:
        raise Rejected("empty", "the file is empty (0 bytes)")
    if size > max_bytes:
        raise Rejected(
            "too_large", f"the file is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:.0f} MB size cap"
        )
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if not head.strip():
        raise Rejected("empty", "the file holds only white space")
    if head.lstrip(b"\xef\xbb\xbf\r\n\t ").startswith(b"%PDF-"):
        _check_pdf(path)
        return "pdf"
    _check_not_binary(path, head)
    try:
        text = decode_text(path.read_bytes())
    except TextDecodeError as error:
        raise Rejected("undecodable", str(error)) from None
    if not _looks_like_prose(text):
        what = "named .pdf but is not a PDF" if path.suffix.lower() == ".pdf" else "not readable text"
        raise Rejected("wrong_type", f"the file is {what}: it looks like random or binary data")
    return "text"


def _check_pdf(path: Path) -> None:
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 2048))
        tail = handle.read()
    if b"%%EOF" not in tail:
        raise Rejected(
            "corrupt", "the PDF is truncated (no end-of-file marker): probably an interrupted download"
        )
    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as error:
        if "password" in str(error).lower():
            raise Rejected("encrypted", "the PDF is password-protected and cannot be read") from None
        raise Rejected("corrupt", f"the PDF is damaged and cannot be opened ({error})") from None
    try:
        if len(document) == 0:
            raise Rejected("corrupt", "the PDF has no pages")
    finally:
        document.close()


def _check_not_binary(path: Path, head: bytes) -> None:
    named_pdf = " saved with a .pdf name" if path.suffix.lower() == ".pdf" else ""
    if _HTML.search(head):
        raise Rejected(
            "wrong_type",
            f"the file is an HTML page{named_pdf}, probably an error page saved instead of the report",
        )
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            raise Rejected("wrong_type", f"the file is {kind}{named_pdf}, not a PDF or plain-text report")
    if b"\x00" in head:
        raise Rejected("wrong_type", f"the file is binary data{named_pdf}, not a PDF or plain-text report")


def _looks_like_prose(text: str) -> bool:
    """English prose is mostly ASCII letters and spaces; random bytes decoded as some code page are not."""
    sample = text[:20000]
    if not sample:
        return False
    controls = sum(1 for char in sample if ord(char) < 32 and char not in "\n\r\t")
    plain = sum(1 for char in sample if char.isascii() and (char.isalnum() or char in " .,;:'\"()-\n\r\t"))
    return controls / len(sample) < 0.01 and plain / len(sample) > 0.85


def check_parsed(parsed: ParsedReport, kind: str) -> None:
    """Reject a readable document that is not an area SEND inspection report, or a PDF with no text layer."""
    pages = len(parsed.pages)
    if kind == "pdf" and parsed.n_words < _MIN_WORDS_PER_PAGE * max(pages, 1):
        raise Rejected(
            "scanned",
            f"the PDF has {pages} page(s) but almost no text layer ({parsed.n_words} words): it is probably "
            "scanned, and sendcorpus does not perform OCR",
        )
    if parsed.heading:
        return
    opening = [line.text for page in parsed.pages[:1] for line in page.lines[:12]]
    if any(_AREA_SEND_TITLE.match(line) for line in opening):
        return  # an area SEND report of another kind (older framework, revisit): loaded, outcome left empty
    lowered = " ".join(opening).lower().replace("’", "'")
    other = next((kind for title, kind in _OTHER_OFSTED_TITLES.items() if title in lowered), None)
    if other:
        raise Rejected("not_a_report", f"this is {other}, not an area SEND inspection report")
    raise Rejected(
        "not_a_report",
        "this is not an area SEND inspection report: it has no 'Area SEND inspection of …' title "
        "(a press article or other document?)",
    )
