"""From a file on disk to cleaned pages and segmented items."""

from __future__ import annotations

from pathlib import Path

from sendcorpus.extract.clean import clean_pages
from sendcorpus.extract.layout import Page, ParsedReport
from sendcorpus.extract.pdf_text import read_pdf
from sendcorpus.extract.segment import segment, titles
from sendcorpus.extract.text_file import read_text


def parse_report(path: Path) -> ParsedReport:
    return parse_pages(clean_pages(read_file_pages(path, "pdf" if is_pdf(path) else "text")))


def read_file_pages(path: Path, kind: str) -> list[Page]:
    """Positioned lines per page ("pdf"), or the whole text as one page ("text")."""
    return read_pdf(path) if kind == "pdf" else read_text(path)


def parse_pages(pages: list[Page]) -> ParsedReport:
    """Sections and items of cleaned pages."""
    title, items = segment(pages)
    return ParsedReport(pages=pages, items=items, heading=title, titles=titles(pages))


def is_pdf(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(1024).lstrip().startswith(b"%PDF")
