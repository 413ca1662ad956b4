"""From a file on disk to cleaned pages and segmented items."""

from __future__ import annotations

from pathlib import Path

from sendcorpus.extract.clean import clean_pages
from sendcorpus.extract.layout import ParsedReport
from sendcorpus.extract.pdf_text import read_pdf
from sendcorpus.extract.segment import segment
from sendcorpus.extract.text_file import read_text


def parse_report(path: Path) -> ParsedReport:
    pages = read_pdf(path) if is_pdf(path) else read_text(path)
    pages = clean_pages(pages)
    title, items = segment(pages)
    return ParsedReport(pages=pages, items=items, heading=title)


def is_pdf(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(1024).lstrip().startswith(b"%PDF")
