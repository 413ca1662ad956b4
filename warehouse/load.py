"""Writing reports into the corpus: one transaction per report, bulk inserts through Arrow."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb
import polars as pl

from sendcorpus.warehouse.db import insert_frame, transaction

REPORT_TABLES = ("fact_evidence", "figures", "item_themes", "items", "pages", "facts", "reports")

SCHEMAS: dict[str, dict[str, pl.DataType | type[pl.DataType]]] = {
    "reports": {
        "report_id": pl.String,
        "file": pl.String,
        "sha256": pl.String,
        "source_url": pl.String,
        "published": pl.Date,
        "title": pl.String,
        "registry_la_code": pl.String,
        "n_pages": pl.Int32,
        "n_words": pl.Int32,
        "pipeline_version": pl.String,
        "loaded_at": pl.Datetime("us"),
    },
    "facts": {
        "report_id": pl.String,
        "local_authority": pl.String,
        "icbs": pl.List(pl.String),
        "outcome": pl.String,
        "outcome_reason": pl.String,
        "inspection_start": pl.Date,
        "inspection_end": pl.Date,
        "previous_inspection_start": pl.Date,
        "previous_inspection_end": pl.Date,
        "next_inspection": pl.String,
    },
    "fact_evidence": {
        "report_id": pl.String,
        "field": pl.String,
        "value": pl.String,
        "page": pl.Int32,
        "evidence": pl.String,
    },
    "pages": {"report_id": pl.String, "page": pl.Int32, "text": pl.String},
    "items": {
        "report_id": pl.String,
        "section": pl.String,
        "subsection": pl.String,
        "item_no": pl.Int32,
        "page": pl.Int32,
        "text": pl.String,
    },
    "item_themes": {
        "report_id": pl.String,
        "section": pl.String,
        "item_no": pl.Int32,
        "theme": pl.String,
        "evidence": pl.String,
        "stance": pl.String,
    },
    "figures": {
        "report_id": pl.String,
        "section": pl.String,
        "item_no": pl.Int32,
        "figure_no": pl.Int32,
        "kind": pl.String,
        "value": pl.Float64,
        "unit": pl.String,
        "weeks": pl.Float64,
        "theme": pl.String,
        "text": pl.String,
        "evidence": pl.String,
    },
}


@dataclass
class ReportRecord:
    """Everything loaded for one report: rows per table, each row a dict without report_id."""

    report_id: str
    file: str
    sha256: str
    source_url: str | None
    published: date | None
    title: str
    registry_la_code: str | None
    n_pages: int | None
    n_words: int
    pipeline_version: str
    facts: dict[str, object] = field(default_factory=dict)
    rows: dict[str, list[dict[str, object]]] = field(default_factory=dict)


def load_report(con: duckdb.DuckDBPyConnection, record: ReportRecord) -> None:
    """Replace the report's rows in one transaction: a crash leaves the old version or the new, never half."""
    frames = _frames(record)
    with transaction(con):
        for table in REPORT_TABLES:
            con.execute(f"DELETE FROM corpus.{table} WHERE report_id = ?", [record.report_id])
        con.execute("DELETE FROM corpus.rejected WHERE file = ?", [record.file])
        for table in reversed(REPORT_TABLES):
            if frames[table].height:
                insert_frame(con, f"corpus.{table}", frames[table])


def record_rejection(
    con: duckdb.DuckDBPyConnection, file: str, sha256: str | None, reason: str, detail: str
) -> None:
    """One row per rejected file name: a rerun replaces it rather than piling up copies."""
    with transaction(con):
        con.execute("DELETE FROM corpus.rejected WHERE file = ?", [file])
        con.execute(
            "INSERT INTO corpus.rejected VALUES (?, ?, ?, ?, now()::TIMESTAMP)",
            [file, sha256, reason, detail],
        )


def loaded_reports(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    """sha256 → (file, pipeline_version) of every report in the corpus."""
    rows = con.execute("SELECT sha256, file, pipeline_version FROM corpus.reports").fetchall()
    return {sha: (file, version) for sha, file, version in rows}


def _frames(record: ReportRecord) -> dict[str, pl.DataFrame]:
    report_row = {
        "report_id": record.report_id,
        "file": record.file,
        "sha256": record.sha256,
        "source_url": record.source_url,
        "published": record.published,
        "title": record.title,
        "registry_la_code": record.registry_la_code,
        "n_pages": record.n_pages,
        "n_words": record.n_words,
        "pipeline_version": record.pipeline_version,
        "loaded_at": datetime.now(),
    }
    tables = {"reports": [report_row], "facts": [{"report_id": record.report_id, **record.facts}]}
    for table in ("fact_evidence", "pages", "items", "item_themes", "figures"):
        tables[table] = [{"report_id": record.report_id, **row} for row in record.rows.get(table, [])]
    return {table: pl.DataFrame(rows, schema=SCHEMAS[table], orient="row") for table, rows in tables.items()}
