"""The ingest flow on the real corpus: contents, idempotency, per-report atomicity, downloads."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from pytest_httpserver import HTTPServer

from sendcorpus.flows.ingest import ingest
from sendcorpus.flows.sources import sha256_of
from sendcorpus.warehouse.db import connect
from sendcorpus.warehouse.load import ReportRecord, load_report

from conftest import HACKNEY_TXT, REPORTS

TABLES = ("reports", "facts", "pages", "items", "item_themes", "figures", "fact_evidence")


def _counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {table: con.execute(f"SELECT count(*) FROM corpus.{table}").fetchone()[0] for table in TABLES}
    finally:
        con.close()


def test_every_report_is_loaded_with_strengths_weaknesses_and_recommendations(corpus_db: Path) -> None:
    con = duckdb.connect(str(corpus_db), read_only=True)
    sections = con.execute(
        """
        SELECT r.file AS report_file, count(*) FILTER (WHERE i.section = 'strength') AS strengths,
               count(*) FILTER (WHERE i.section = 'weakness') AS weaknesses,
               count(*) FILTER (WHERE i.section = 'recommendation') AS recommendations
        FROM reports r JOIN items i USING (report_id) GROUP BY report_file
        """
    ).pl()
    assert sections.height == 45
    assert sections.filter(
        (pl.col("strengths") == 0) | (pl.col("weaknesses") == 0) | (pl.col("recommendations") == 0)
    ).is_empty()
    hackney = con.execute(
        "SELECT n_pages, count(page) AS paged FROM reports r JOIN items i USING (report_id) "
        "WHERE r.file = ? GROUP BY n_pages",
        [HACKNEY_TXT.name],
    ).fetchone()
    assert hackney == (None, 0)  # plain text has no pages
    bury = con.execute(
        "SELECT n_pages, source_url, published, la_code FROM reports WHERE file = 'bury.pdf'"
    ).fetchone()
    assert bury[0] == 12
    assert bury[1].startswith("https://files.ofsted.gov.uk/")  # provenance from manifest.csv beside the PDFs
    assert str(bury[2]).startswith("2024-")
    assert bury[3] == "351"
    assert con.execute("SELECT count(*) FROM rejected").fetchone()[0] == 0


def test_items_keep_their_page(corpus_db: Path) -> None:
    con = duckdb.connect(str(corpus_db), read_only=True)
    page, text = con.execute(
        "SELECT page, text FROM items WHERE file = 'bury.pdf' AND section = 'recommendation' AND item_no = 1"
    ).fetchone()
    assert page == 8
    assert text.startswith("Leaders across the partnership should ensure that the SEND strategy")


@pytest.mark.slow
def test_second_identical_run_changes_nothing(corpus_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(corpus_db, db)
    before = _counts(db)
    loaded_at = (
        duckdb.connect(str(db), read_only=True).execute("SELECT max(loaded_at) FROM reports").fetchone()
    )
    summary = ingest(db=db, sources=[REPORTS, HACKNEY_TXT], use_registry=False)
    assert (summary.new, summary.unchanged, summary.duplicate, summary.rejected) == (0, 45, 0, 0)
    assert _counts(db) == before
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT max(loaded_at) FROM reports").fetchone() == loaded_at


def test_rebuild_reprocesses_one_file(tmp_path: Path) -> None:
    db = tmp_path / "one.duckdb"
    first = ingest(db=db, sources=[REPORTS / "rutland.pdf"], use_registry=False)
    again = ingest(db=db, sources=[REPORTS / "rutland.pdf"], use_registry=False, rebuild=True)
    assert (first.new, again.new, again.reprocessed, again.unchanged) == (1, 0, 1, 0)
    assert again.line().startswith("ingest: 0 new, 1 reprocessed, 0 unchanged")
    assert _counts(db)["reports"] == 1


def test_a_failure_midway_through_a_report_leaves_the_previous_version(
    corpus_db: Path, tmp_path: Path
) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(corpus_db, db)
    con = connect(db)
    report_id, sha = con.execute(
        "SELECT report_id, sha256 FROM reports WHERE file = 'rutland.pdf'"
    ).fetchone()
    items_before = con.execute("SELECT count(*) FROM items WHERE report_id = ?", [report_id]).fetchone()[0]
    broken = ReportRecord(
        report_id=report_id,
        file="rutland.pdf",
        sha256=sha,
        source_url=None,
        published=None,
        title="t",
        registry_la_code=None,
        n_pages=1,
        n_words=1,
        pipeline_version="x",
        rows={
            "items": [{"section": "strength", "subsection": None, "item_no": 1, "page": 1, "text": "new"}],
            # evidence is NOT NULL: this insert fails after the items went in
            "item_themes": [{"section": "strength", "item_no": 1, "theme": "therapies", "evidence": None}],
        },
    )
    with pytest.raises(duckdb.ConstraintException):
        load_report(con, broken)
    assert (
        con.execute("SELECT count(*) FROM items WHERE report_id = ?", [report_id]).fetchone()[0]
        == items_before
    )
    assert con.execute("SELECT title FROM reports WHERE report_id = ?", [report_id]).fetchone()[0] != "t"
    con.close()


def test_registry_reports_are_downloaded_when_there_is_no_mirror(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    good, missing = REPORTS / "rutland.pdf", REPORTS / "bury.pdf"
    httpserver.expect_request("/files/rutland").respond_with_data(
        good.read_bytes(), content_type="application/pdf"
    )
    httpserver.expect_request("/files/bury").respond_with_data("not here", status=404)
    registry = tmp_path / "reports.csv"
    pl.DataFrame(
        {
            "file": [good.name, missing.name],
            "local_authority": ["Rutland", "Bury"],
            "la_code": ["857", "351"],
            "ons_code": ["E06000017", "E08000002"],
            "region": ["East Midlands", "North West"],
            "source_url": [httpserver.url_for("/files/rutland"), httpserver.url_for("/files/bury")],
            "published": ["2023-07-01", "2024-04-01"],
            "sha256": [sha256_of(good), sha256_of(missing)],
        }
    ).write_csv(registry)
    db = tmp_path / "downloaded.duckdb"
    summary = ingest(db=db, registry=registry, mirror=None, cache=tmp_path / "cache")
    assert (summary.new, summary.rejected) == (1, 1)
    assert summary.rejections[0].reason == "download_failed"
    assert "404" in summary.rejections[0].detail
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [f"{sha256_of(good)}.pdf"]
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT file, la_code FROM reports").fetchall() == [("rutland.pdf", "857")]
    assert con.execute("SELECT file, reason FROM rejected").fetchall() == [("bury.pdf", "download_failed")]


def test_each_run_is_recorded_by_prefect_with_a_task_run_per_chunk_and_stage(tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import TaskRunSort

    sources = [REPORTS / name for name in ("rutland.pdf", "bury.pdf", "haringey.pdf")]
    db = tmp_path / "recorded.duckdb"
    summary = ingest(db=db, sources=sources, use_registry=False, workers=2, chunk_size=2)
    assert summary.new == 3
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(summary.flow_run_id)
        task_runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])),
            limit=50,
            sort=TaskRunSort.EXPECTED_START_TIME_ASC,
        )
    assert run.state_name == "Completed"
    stages = [task_run.name.rsplit("-", 1)[0] for task_run in task_runs]
    # two chunks of at most 2 reports: both are analysed before the first is loaded
    analyse = "read, clean, segment, extract"
    assert stages == ["plan", analyse, analyse, "load", "load", "search index"]
    assert {task_run.state_name for task_run in task_runs} == {"Completed"}


def test_a_reinspection_is_kept_beside_the_older_report_and_is_the_latest(tmp_path: Path) -> None:
    newer = tmp_path / "hackney-area-send-inspection-2028.txt"
    text = HACKNEY_TXT.read_text(encoding="utf-8")
    text = text.replace(
        "Dates of previous inspection: 27 November to 1 December 2017",
        "Dates of previous inspection: 17 to 21 November 2025",
    )
    text = text.replace("Inspection dates: 17 to 21 November 2025", "Inspection dates: 6 to 10 March 2028")
    newer.write_text(text, encoding="utf-8")
    db = tmp_path / "reinspected.duckdb"
    summary = ingest(db=db, sources=[HACKNEY_TXT, newer, REPORTS / "haringey.pdf"], use_registry=False)
    assert summary.new == 3
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute(
        "SELECT file, la_code, inspection_start, previous_inspection_start, is_latest FROM reports "
        "WHERE local_authority = 'Hackney' ORDER BY inspection_start"
    ).fetchall()
    assert [(file, code, latest) for file, code, _, _, latest in rows] == [
        (HACKNEY_TXT.name, "204", False),
        (newer.name, "204", True),
    ]
    assert str(rows[1][3]) == "2025-11-17"
    assert con.execute("SELECT count(*) FROM reports WHERE is_latest").fetchone()[0] == 2


def test_ready_inputs_are_ingested_with_their_provenance_and_the_run_id(tmp_path: Path) -> None:
    from datetime import date

    from sendcorpus.flows.sources import InputFile

    copy = tmp_path / "rutland-2023.pdf"
    shutil.copy(REPORTS / "rutland.pdf", copy)
    extra = InputFile(
        name=copy.name,
        path=copy,
        url="https://files.example.org/rutland-2023.pdf",
        published=date(2023, 7, 1),
        la_code="857",
    )
    db = tmp_path / "inputs.duckdb"
    summary = ingest(db=db, use_registry=False, inputs=[extra])
    assert (summary.new, summary.rejected, summary.failed) == (1, 0, 0)
    assert summary.flow_run_id and len(summary.flow_run_id) == 36
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute(
        "SELECT file, source_url, published, registry_la_code FROM corpus.reports"
    ).fetchall() == [(copy.name, extra.url, extra.published, "857")]
