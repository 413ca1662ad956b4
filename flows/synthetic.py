"""A synthetic corpus for the scale benchmark: N copies of the shared reports with distinct bytes and
the same text, so each copy is a new report to the ingest but reads exactly like its original.

Each PDF gets one pypdf incremental update adding a metadata entry with a fixed-width copy number;
copies then differ only in those digits, which keeps every offset in the file valid and makes
thousands of copies cheap to write.
"""

from __future__ import annotations

import io
from pathlib import Path

_PLACEHOLDER = "sendcorpuscopy000000000"  # letters and digits only: written as is
_DIGITS = 9


def make_corpus(pdfs: list[Path], count: int, folder: Path, text_report: Path | None = None) -> list[Path]:
    """`count` reports in `folder`: the text report once (when given), the rest copies of `pdfs` in turn."""
    if not pdfs:
        raise ValueError("no PDFs to copy")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    if text_report is not None and count > 0:
        target = folder / text_report.name
        target.write_bytes(text_report.read_bytes())
        written.append(target)
    templates = [_template(pdf) for pdf in pdfs[: max(0, count - len(written))]]
    for number in range(count - len(written)):
        source, template = pdfs[number % len(pdfs)], templates[number % len(templates)]
        target = folder / f"{source.stem}-copy{number:06d}.pdf"
        target.write_bytes(template.replace(_PLACEHOLDER.encode(), _copy_mark(number)))
        written.append(target)
    return written


def _template(pdf: Path) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter(pdf, incremental=True)
    writer.add_metadata({"/SendcorpusCopy": _PLACEHOLDER})
    buffer = io.BytesIO()
    writer.write(buffer)
    data = buffer.getvalue()
    if data.count(_PLACEHOLDER.encode()) != 1:
        raise ValueError(f"{pdf.name}: the copy mark is not written once as plain text")
    return data


def _copy_mark(number: int) -> bytes:
    return f"{_PLACEHOLDER[:-_DIGITS]}{number:0{_DIGITS}d}".encode()
