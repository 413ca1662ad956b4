"""Input checks before and after reading: each failure is a `Rejected` with a reason a person understands.

`check_file` looks at the bytes (size, type, a PDF that opens, text that decodes) and is cheap: it never
extracts text. `check_parsed` looks at what was read: a text layer, and the title and sections of an
area SEND inspection report under the 2023 framework.
"""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2 as pdfium

from sendcorpus.extract.dates import first_date_range, normalise_spaces
from sendcorpus.extract.facts import INSPECTION_LABEL
from sendcorpus.extract.facts import TITLE as AREA_TITLE
from sendcorpus.extract.layout import ParsedReport
from sendcorpus.extract.text_file import TextDecodeError, decode_text, utf16_without_bom

DEFAULT_MAX_BYTES = 50 * 2**20
# Work budgets per report. The 45 real reports reach 12 pages, 29,348 characters, items of 1,260
# characters and words of 78; every stage is linear, so these caps bound each report's time too.
MAX_PAGES = 300
MAX_TEXT_CHARS = 2_000_000
MAX_ITEM_CHARS = 100_000  # well under spaCy's max_length (1,000,000), which aborts a whole pass
MAX_WORD_CHARS = 1_000
# spaCy's tokenizer peels prefix and suffix symbols off a run one at a time, copying the rest: a run of
# n symbols ("$$$…", "(((…", "£££…") costs about 1.1e-6·n² s (3,000 "$" took 10 s, 10,000 "£" 68 s).
# The sum of n² over a report's symbol runs is capped at about 3 s of that work.
MAX_SYMBOL_RUN_COST = 2_500_000
_UTF8_MAX_BYTES_PER_CHAR = 4
_LONG_WORD = re.compile(rf"\S{{{MAX_WORD_CHARS + 1}}}")
_SYMBOL_RUN = re.compile(r"[^\w\s.]{2,}")
_SNIFF_BYTES = 8192
_EOF_WINDOW = 4096  # a complete PDF ends with %%EOF, give or take some trailing junk
_MIN_WORDS_PER_PAGE = 20  # a text layer thinner than this on average is a scan
_MIN_WORDS_ON_A_TEXT_PAGE = 5
_MAX_CONTROL_SHARE = 0.01  # text has tabs and line breaks, hardly any other control characters
_HEADER_LINES = 5  # a report's first page gives its inspection dates within its first lines

_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
_SIGNATURES: list[tuple[bytes, str]] = [
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"%!PS", "a PostScript file"),
    (b"{\\rtf", "an RTF document"),
    (b"\xd0\xcf\x11\xe0", "an old-style Microsoft Office file (.doc/.xls)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
]
_ZIP_CONTENTS: list[tuple[bytes, str]] = [
    (b"word/", "a Word document (.docx)"),
    (b"xl/", "an Excel workbook (.xlsx)"),
    (b"ppt/", "a PowerPoint file (.pptx)"),
    (b"opendocument", "an OpenDocument file"),
]
_HTML = re.compile(rb"<!doctype html|<html|<head\b|<body\b|<title\b", re.I)

# Opening lines of documents that are not area SEND inspection reports of the 2023 framework
_AREA_SEND_TITLE = "'Area SEND inspection of …'"
_RECOGNISED_OTHERS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"\b(send revisit|area send monitoring|monitoring (inspection|visit))\b"),
        "an area SEND revisit or monitoring letter",
    ),
    (
        re.compile(r"\blocal area (send|special educational needs)\b.{0,80}\binspection\b"),
        "an area SEND inspection report of the earlier (2016–2022) framework",
    ),
    (
        re.compile(
            r"\bschool inspection report\b|\bthe quality of education\b|\binspection of .{0,60}\bschool\b"
        ),
        "a school inspection report",
    ),
    (
        re.compile(r"\b(local authority children's services|children's social care services)\b"),
        "an inspection of local authority children's services",
    ),
    (re.compile(r"\bchildren's home\b"), "a children's home inspection report"),
    (re.compile(r"\bfurther education and skills\b"), "a further education and skills inspection report"),
    (re.compile(r"\bearly years inspection\b|\bchildminder\b"), "an early years inspection report"),
]
_REQUIRED_SECTIONS = [
    ("strength", "'What is the area partnership doing that is effective?' (strengths)"),
    ("weakness", "'What does the area partnership need to do better?' (weaknesses)"),
]


class Rejected(Exception):
    """An input that cannot be ingested; `reason` is a short code, `detail` a sentence (= str(error))."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail

    def __reduce__(self) -> tuple[type[Rejected], tuple[str, str]]:
        return type(self), (self.reason, self.detail)  # picklable (Prefect may ship it between processes)


def check_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """'pdf' or 'text' when the file can be read, else `Rejected`."""
    size = path.stat().st_size
    if size == 0:
        raise Rejected("empty", "the file is empty (0 bytes)")
    if size > max_bytes:
        raise Rejected(
            "too_large",
            f"the file is {_size(size)} ({size:,} bytes), over the size cap of {_size(max_bytes)} "
            f"({max_bytes:,} bytes)",
        )
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if not head.strip() and not path.read_bytes().strip():
        raise Rejected("empty", f"the file holds only white space ({size} bytes)")
    # the same test the reader uses to choose between the PDF and the text reader
    if head[:1024].lstrip().startswith(b"%PDF"):
        _check_pdf(path, size)
        return "pdf"
    _check_not_another_format(path, head)
    _check_text(path)
    return "text"


def _check_pdf(path: Path, size: int) -> None:
    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as error:
        cause = _pdfium_cause(error)
        if "password" in cause.lower():
            raise Rejected(
                "encrypted", "the PDF is password-protected, so its text cannot be read; ask for an open copy"
            ) from None
        if not _ends_with_eof_marker(path, size):
            raise Rejected(
                "corrupt",
                f"the PDF is truncated (it stops before its end-of-file marker, {_size(size)} in): "
                "probably an interrupted download",
            ) from None
        raise Rejected("corrupt", f"the PDF is damaged and cannot be opened ({cause})") from None
    try:
        pages = len(document)
        if pages == 0:
            raise Rejected("corrupt", "the PDF is damaged: it has no pages")
        if pages > MAX_PAGES:
            raise _too_complex(f"the PDF has {pages:,} pages, over the budget of {MAX_PAGES}")
        for index in range(pages):
            try:
                # finds the pages the page tree promises but does not have, at a 20th of the cost of
                # loading each page (0.03 s instead of 0.6 s for the 44 shared reports)
                document.get_page_size(index)
            except pdfium.PdfiumError as error:
                raise Rejected(
                    "corrupt", f"the PDF is damaged: page {index + 1} of {pages} cannot be read ({error})"
                ) from None
    finally:
        document.close()


def _pdfium_cause(error: pdfium.PdfiumError) -> str:
    """'Failed to load document (PDFium: Data format error).' → 'Data format error'."""
    found = re.search(r"\(PDFium: ([^)]*)\)", str(error))
    return found.group(1) if found else str(error)


def _ends_with_eof_marker(path: Path, size: int) -> bool:
    with path.open("rb") as handle:
        handle.seek(max(0, size - _EOF_WINDOW))
        return b"%%EOF" in handle.read()


def _check_not_another_format(path: Path, head: bytes) -> None:
    named_pdf = " saved with a .pdf name" if path.suffix.lower() == ".pdf" else ""
    if head.startswith(_UTF16_32_BOMS) or utf16_without_bom(head):
        return  # text in UTF-16/32: NUL bytes are expected
    opening = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if opening.startswith(b"<") and _HTML.search(head):
        raise Rejected(
            "wrong_type",
            f"the file looks like an HTML page{named_pdf}, "
            "probably an error page saved instead of the report",
        )
    kind = _known_format(opening)
    if kind:
        raise Rejected("wrong_type", f"the file is {kind}{named_pdf}, not a PDF or a plain-text report")
    if _control_share(head) > _MAX_CONTROL_SHARE:
        raise Rejected(
            "wrong_type",
            f"the file is binary data{named_pdf} (random bytes or an unknown format), "
            "not a PDF or a plain-text report",
        )


def _known_format(opening: bytes) -> str | None:
    if opening.startswith(b"PK\x03\x04"):
        return next((kind for marker, kind in _ZIP_CONTENTS if marker in opening), "a ZIP archive")
    if opening.startswith(b"RIFF") and opening[8:12] == b"WEBP":
        return "a WebP image"
    return next((kind for magic, kind in _SIGNATURES if opening.startswith(magic)), None)


def _control_share(sample: bytes | str) -> float:
    codes = sample if isinstance(sample, bytes) else [ord(char) for char in sample]
    controls = sum(1 for code in codes if (code < 32 and code not in (9, 10, 12, 13)) or code == 127)
    return controls / max(len(codes), 1)


def _check_text(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_TEXT_CHARS * _UTF8_MAX_BYTES_PER_CHAR:
        raise _too_complex(
            f"the text file is {_size(size)}, more than {MAX_TEXT_CHARS:,} characters can take"
        )
    try:
        text = decode_text(path.read_bytes())
    except TextDecodeError as error:
        raise Rejected("undecodable", str(error)) from None
    if not text.strip():
        raise Rejected("empty", "the file holds only white space")
    if len(text) > MAX_TEXT_CHARS:
        raise _too_complex(f"the text is {len(text):,} characters long")
    if _control_share(text[:_SNIFF_BYTES]) > _MAX_CONTROL_SHARE:
        raise Rejected("wrong_type", "the file is binary data, not a PDF or a plain-text report")


def check_parsed(parsed: ParsedReport, kind: str) -> None:
    """Reject a PDF with no text layer, or a readable document that is not an area SEND inspection
    report of the 2023 framework (its title, strengths and weaknesses are what every such report has)."""
    check_budget(parsed)
    if kind == "pdf":
        _check_text_layer(parsed)
    if not parsed.heading:
        opening = " ".join(line.text for page in parsed.pages[:1] for line in page.lines[:15])
        opening = opening.lower().replace("’", "'")
        other = next((kind for pattern, kind in _RECOGNISED_OTHERS if pattern.search(opening)), None)
        if other:
            raise Rejected(
                "not_a_report",
                f"this looks like {other}, not an area SEND inspection report of the 2023 framework "
                f"(no {_AREA_SEND_TITLE} title)",
            )
        raise Rejected(
            "not_a_report",
            f"this is not an area SEND inspection report: it has no {_AREA_SEND_TITLE} title "
            "(a press article or another kind of document?)",
        )
    _check_one_report(parsed, kind)
    sections = {item.section for item in parsed.items}
    missing = [label for section, label in _REQUIRED_SECTIONS if section not in sections]
    if missing:
        raise Rejected(
            "not_a_report",
            f"'{parsed.heading}' is not a complete area SEND inspection report: "
            f"it has no {' and no '.join(missing)} section",
        )


def _check_one_report(parsed: ParsedReport, kind: str) -> None:
    """`several_reports` for a file that holds more than one report (two PDFs appended into one, a text
    pasted twice): loaded as one, the first report's area would carry the others' findings."""
    starts = _report_starts(parsed)
    if len(starts) < 2:
        return
    places = [f"{area} (page {page})" if kind == "pdf" else area for area, page in starts]
    raise Rejected(
        "several_reports",
        f"the file holds {len(starts)} reports, not one: {', '.join(places[:-1])} and {places[-1]}; "
        "split it into one file per report",
    )


def _report_starts(parsed: ParsedReport) -> list[tuple[str, int]]:
    """The area and first page of each report in the file: each report title, and each page without one
    that opens with inspection dates (a report's header whose title is missing)."""
    starts = [(_area(title), page) for title, page in parsed.titles]
    titled = {page for _, page in parsed.titles}
    for page in parsed.pages:
        header = page.lines[:_HEADER_LINES]
        if page.number not in titled and any(_gives_inspection_dates(line.text) for line in header):
            starts.append(("an untitled report", page.number))
    return sorted(starts, key=lambda start: start[1])


def _area(title: str) -> str:
    """'Area SEND inspection of Bury Local Area Partnership' → 'Bury'."""
    found = AREA_TITLE.search(normalise_spaces(title))
    return found.group("area").strip() if found else repr(title)


def _gives_inspection_dates(text: str) -> bool:
    """'Inspection dates: 12 to 16 February 2024', the line a report's header opens with."""
    label = INSPECTION_LABEL.match(text)
    if label is None:
        return False
    found = first_date_range(text[label.end() :].strip(" :–—-"))
    return found is not None and found[1][0] == 0


def check_budget(parsed: ParsedReport) -> None:
    """`too_complex` for a report whose text, items or words are far beyond any real report's."""
    chars = sum(len(page.text) for page in parsed.pages)
    if chars > MAX_TEXT_CHARS:
        raise _too_complex(f"its text is {chars:,} characters long")
    symbol_cost = 0
    for item in parsed.items:
        where = f"item {item.item_no} of the {item.section} section"
        if len(item.text) > MAX_ITEM_CHARS:
            raise _too_complex(
                f"{where} is {len(item.text):,} characters long, over the budget of {MAX_ITEM_CHARS:,} "
                "for one paragraph"
            )
        long_word = _LONG_WORD.search(item.text)
        if long_word:
            raise _too_complex(
                f"{where} has a 'word' (characters without a space) of more than {MAX_WORD_CHARS:,} "
                f"characters, starting {long_word.group()[:20]!r}"
            )
        symbol_cost += sum(len(run) ** 2 for run in _SYMBOL_RUN.findall(item.text))
        if symbol_cost > MAX_SYMBOL_RUN_COST:
            raise _too_complex(
                f"up to {where}, its runs of symbols without a space (such as '$$$$' or '((((') are too many "
                "or too long for the tokenizer"
            )


def _too_complex(what: str) -> Rejected:
    return Rejected(
        "too_complex", f"{what}: too much for one report, so it is left out to keep the run going"
    )


def _check_text_layer(parsed: ParsedReport) -> None:
    pages = len(parsed.pages)
    words = [len(page.text.split()) for page in parsed.pages]
    textless = sum(1 for count in words if count < _MIN_WORDS_ON_A_TEXT_PAGE)
    if sum(words) < _MIN_WORDS_PER_PAGE * max(pages, 1) or textless * 2 > pages:
        raise Rejected(
            "scanned",
            f"the PDF has {pages} page(s) but almost no text layer ({sum(words)} words; {textless} page(s) "
            "without text): it is probably scanned, and sendcorpus does not perform OCR",
        )


def _size(n_bytes: int) -> str:
    for unit, scale in (("MB", 2**20), ("KB", 2**10)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n_bytes} bytes"
