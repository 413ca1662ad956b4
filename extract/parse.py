"""From a file on disk to cleaned pages and segmented items."""

from __future__ import annotations

from pathlib import Path

from sendcorpus.extract.clean import clean_pages
from sendcorpus.extract.layout import Page, ParsedReport
from sendcorpus.extract.pdf_text import read_pdf
from sendcorpus.extract.segment import segment, titles
from sendcorpus.extract.text_file import read_text

# fewer words than this, a page (blank, "this page is intentionally left blank") may repeat another by design
_MIN_WORDS_TO_COMPARE = 20


def parse_report(path: Path) -> ParsedReport:
    return read_report(path, "pdf" if is_pdf(path) else "text")


def read_report(path: Path, kind: str) -> ParsedReport:
    """read → drop repeated pages → clean → segment. A repeated page is dropped before cleaning, so it
    counts neither towards the running headers nor twice in the items."""
    pages, repeated = drop_repeated_pages(read_file_pages(path, kind))
    parsed = parse_pages(clean_pages(pages))
    parsed.repeated_pages = repeated
    return parsed


def read_file_pages(path: Path, kind: str) -> list[Page]:
    """Positioned lines per page ("pdf"), or the whole text as one page ("text")."""
    return read_pdf(path) if kind == "pdf" else read_text(path)


def drop_repeated_pages(pages: list[Page]) -> tuple[list[Page], list[tuple[int, int]]]:
    """The pages without those whose text repeats an earlier page exactly (a page saved twice), and
    (page, the earlier page it repeats) for each one dropped."""
    first_with: dict[str, int] = {}
    kept, repeated = [], []
    for page in pages:
        text = page.text
        if len(text.split()) >= _MIN_WORDS_TO_COMPARE:
            if text in first_with:
                repeated.append((page.number, first_with[text]))
                continue
            first_with[text] = page.number
        kept.append(page)
    return kept, repeated


def parse_pages(pages: list[Page]) -> ParsedReport:
    """Sections and items of cleaned pages."""
    title, items = segment(pages)
    return ParsedReport(pages=pages, items=items, heading=title, titles=titles(pages))


def is_pdf(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(1024).lstrip().startswith(b"%PDF")
