"""Reports that lost pages or sections are marked partial, with what is missing."""

from __future__ import annotations

from pathlib import Path

import duckdb

from sendcorpus.extract.completeness import COMPLETE, completeness
from sendcorpus.extract.parse import parse_report
from sendcorpus.extract.validate import check_parsed

from bigfiles import make_blank_page_pdf, make_cut_pdf


def test_every_real_report_loads_complete(corpus_db: Path) -> None:
    con = duckdb.connect(str(corpus_db), read_only=True)
    marks = con.execute("SELECT completeness, count(*) FROM reports GROUP BY ALL").fetchall()
    con.close()
    assert marks == [(COMPLETE, 45)]


def test_a_report_cut_after_page_7_is_partial_without_its_recommendations(tmp_path: Path) -> None:
    parsed = parse_report(make_cut_pdf(tmp_path, keep=7))
    check_parsed(parsed, "pdf")  # still a report: it loads, marked
    assert completeness(parsed, "pdf") == (
        "partial: no areas for improvement or priority action; no local area partnership details"
    )


def test_a_page_without_text_is_named(tmp_path: Path) -> None:
    parsed = parse_report(make_blank_page_pdf(tmp_path, blank=6))
    assert completeness(parsed, "pdf") == "partial: page 6 has no text"
