"""`sendcorpus benchmark`: the speed of each stage on a folder of reports, printed as numbers."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sendcorpus.extract.clean import clean_pages
from sendcorpus.extract.facts import extract_facts
from sendcorpus.extract.nlp import annotate, build_nlp
from sendcorpus.extract.parse import parse_pages
from sendcorpus.extract.pdf_text import read_pdf
from sendcorpus.settings import default_seed_reports

T = TypeVar("T")


def _timed(action: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def run_benchmark(reports: Path, db: Path | None = None) -> int:
    pdfs = sorted(reports.glob("*.pdf"))
    if not pdfs:
        print(f"no PDFs in {reports}")
        return 2
    print(f"{len(pdfs)} reports in {reports}")

    pages, seconds = _timed(lambda: [read_pdf(path) for path in pdfs])
    print(f"text per page  pypdfium2   {seconds:7.2f} s  ({sum(map(len, pages))} pages)")
    _compare_pdf_libraries(pdfs)

    cleaned, seconds = _timed(lambda: [clean_pages(doc) for doc in pages])
    print(f"clean                      {seconds:7.2f} s")
    parsed, seconds = _timed(lambda: [parse_pages(doc) for doc in cleaned])
    print(f"segment                    {seconds:7.2f} s")
    _, seconds = _timed(lambda: [extract_facts(report) for report in parsed])
    print(f"facts                      {seconds:7.2f} s")

    build_nlp()
    items = [item for report in parsed for item in report.items]
    docs, seconds = _timed(lambda: list(annotate(items)))
    words = sum(len(item.text.split()) for item, _ in docs)
    print(f"spaCy (themes, figures)    {seconds:7.2f} s  {words:,} words, {words / seconds:,.0f} words/s")

    _time_flow(reports)
    return 0


def _compare_pdf_libraries(pdfs: list[Path]) -> None:
    try:
        import pypdf
    except ImportError:
        print("               pypdf       (not installed: pip install pypdf to compare)")
        return

    def read_all() -> None:
        for path in pdfs:
            for page in pypdf.PdfReader(path).pages:
                page.extract_text()

    _, seconds = _timed(read_all)
    print(f"               pypdf       {seconds:7.2f} s  (for comparison)")


def _time_flow(reports: Path) -> None:
    from sendcorpus.flows.ingest import ingest

    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "benchmark.duckdb"
        sources = [reports, *default_seed_reports()]
        for label in ("full run", "no-change run"):
            summary, seconds = _timed(lambda: ingest(db=db, sources=sources, use_registry=False))
            print(f"flow {label:<15}       {seconds:7.2f} s wall  ({summary.line()})")
