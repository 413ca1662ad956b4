"""Writing reports into the corpus: a chunk of reports per transaction, bulk inserts through Arrow.

A transaction holds whole reports only, so a crash leaves each report's old version or its new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb
import polars as pl

from sendcorpus.warehouse.db import (
    applied_migrations,
    insert_frame,
    release_memory,
    schema_version,
    transaction,
)

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
        "completeness": pl.String,
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
        "monitoring_inspection": pl.String,
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
        "page": pl.Int32,
    },
    "figures": {
        "report_id": pl.String,
        "section": pl.String,
        "item_no": pl.Int32,
        "figure_no": pl.Int32,
        "kind": pl.String,
        "duration_kind": pl.String,
        "value": pl.Float64,
        "unit": pl.String,
        "weeks": pl.Float64,
        "theme": pl.String,
        "text": pl.String,
        "evidence": pl.String,
        "page": pl.Int32,
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
    completeness: str = "complete"
    facts: dict[str, object] = field(default_factory=dict)
    rows: dict[str, list[dict[str, object]]] = field(default_factory=dict)


@dataclass
class Rejection:
    """An input that was not loaded, and why: one row of corpus.rejected."""

    file: str
    sha256: str | None
    reason: str
    detail: str


@dataclass
class CorpusState:
    """What planning needs to know about the corpus, read in one short read-only visit."""

    loaded: dict[str, tuple[str, str]]  # sha256 → (file, pipeline_version)
    rejected: dict[str, tuple[str | None, str, str]]  # file → (sha256, reason, detail)
    schema_version: int
    search_index_ok: bool
    pipeline_version: str  # of the last run that finished


EMPTY_STATE = CorpusState({}, {}, 0, False, "")


def read_state(con: duckdb.DuckDBPyConnection) -> CorpusState:
    version = schema_version(con)
    if version == 0:
        return EMPTY_STATE
    state: dict[str, str] = {}
    if 9 in applied_migrations(con):  # corpus.ingest_state
        state = dict(con.execute("SELECT key, value FROM corpus.ingest_state").fetchall())
    rejected = con.execute("SELECT file, sha256, reason, detail FROM corpus.rejected").fetchall()
    return CorpusState(
        loaded=loaded_reports(con),
        rejected={file: (sha, reason, detail) for file, sha, reason, detail in rejected},
        schema_version=version,
        search_index_ok=state.get("search_index") == "ok" and _index_complete(con),
        pipeline_version=state.get("pipeline_version", ""),
    )


def _index_complete(con: duckdb.DuckDBPyConnection) -> bool:
    if 11 not in applied_migrations(con):  # corpus.search_postings
        return False
    row = con.execute(
        "SELECT (SELECT count(*) FROM corpus.items) = (SELECT count(*) FROM corpus.search_items), "
        "EXISTS (SELECT 1 FROM duckdb_schemas() WHERE schema_name = 'fts_corpus_search_items'), "
        "EXISTS (SELECT 1 FROM corpus.search_postings) OR NOT EXISTS (SELECT 1 FROM corpus.items)"
    ).fetchone()
    return bool(row and all(row))


def get_state(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = con.execute("SELECT value FROM corpus.ingest_state WHERE key = ?", [key]).fetchone()
    return str(row[0]) if row else None


def set_state(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute(
        "UPDATE corpus.ingest_state SET value = ?, updated_at = now()::TIMESTAMP WHERE key = ?", [value, key]
    )


def load_report(con: duckdb.DuckDBPyConnection, record: ReportRecord) -> None:
    """Replace the report's rows in one transaction: a crash leaves the old version or the new, never half."""
    frames = _frames(record)
    with transaction(con):
        _write(con, [(record, frames)], [], {record.report_id})


def load_chunk(
    con: duckdb.DuckDBPyConnection,
    records: Sequence[ReportRecord],
    rejections: Sequence[Rejection],
    replace_ids: set[str] | frozenset[str],
) -> list[Rejection]:
    """Load a chunk of reports and rejections in one transaction; returns the reports that could not
    be loaded (recorded as rejected), while the rest of the chunk loads.

    Only reports in `replace_ids` (already in the corpus) have old rows to delete first."""
    release_memory()  # what the previous chunk's load left in malloc's arenas, before this one's peak
    failed: list[Rejection] = []
    framed = []
    for record in records:
        try:
            framed.append((record, _frames(record)))
        except Exception as error:  # a value the tables cannot hold: this report only
            failed.append(_load_failure(record, error))
    try:
        with transaction(con):
            _write(con, framed, [*rejections, *failed], replace_ids)
        return failed
    except duckdb.Error as error:
        if _not_about_the_rows(error):
            raise
    # one report's rows broke the chunk: each report in its own transaction, so the others still load
    for record, frames in framed:
        try:
            with transaction(con):
                _write(con, [(record, frames)], [], replace_ids)
        except duckdb.Error as error:
            if _not_about_the_rows(error):
                raise
            failed.append(_load_failure(record, error))
    with transaction(con):
        _write(con, [], [*rejections, *failed], replace_ids)
    return failed


def _not_about_the_rows(error: duckdb.Error) -> bool:
    """Disk full, I/O and lost connections are the machine's problem: retrying report by report
    would only fail the same way."""
    message = str(error).lower()
    return isinstance(error, duckdb.IOException | duckdb.FatalException) or "no space left" in message


def _load_failure(record: ReportRecord, error: Exception) -> Rejection:
    detail = " ".join(str(error).split())
    return Rejection(record.file, record.sha256, "load_failed", f"could not be loaded ({detail})")


def _write(
    con: duckdb.DuckDBPyConnection,
    framed: Sequence[tuple[ReportRecord, dict[str, pl.DataFrame]]],
    rejections: Sequence[Rejection],
    replace_ids: set[str] | frozenset[str],
) -> None:
    for record, _ in framed:
        if record.report_id in replace_ids:
            for table in REPORT_TABLES:
                con.execute(f"DELETE FROM corpus.{table} WHERE report_id = ?", [record.report_id])
    for file in {record.file for record, _ in framed} | {rejection.file for rejection in rejections}:
        con.execute("DELETE FROM corpus.rejected WHERE file = ?", [file])
    for table in reversed(REPORT_TABLES):
        parts = [frames[table] for _, frames in framed if frames[table].height]
        if parts:
            insert_frame(con, f"corpus.{table}", pl.concat(parts, how="vertical"))
    if rejections:
        rows = [
            {"file": r.file, "sha256": r.sha256, "reason": r.reason, "detail": r.detail} for r in rejections
        ]
        frame = pl.DataFrame(rows, schema=_REJECTED, orient="row").with_columns(
            seen_at=pl.lit(datetime.now())
        )
        insert_frame(con, "corpus.rejected", frame)
    if framed:
        set_state(con, "search_index", "stale")


_REJECTED = {"file": pl.String, "sha256": pl.String, "reason": pl.String, "detail": pl.String}


def record_rejection(
    con: duckdb.DuckDBPyConnection, file: str, sha256: str | None, reason: str, detail: str
) -> None:
    """One row per rejected file name: a rerun replaces it rather than piling up copies."""
    with transaction(con):
        _write(con, [], [Rejection(file, sha256, reason, detail)], frozenset())


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
        "completeness": record.completeness,
    }
    tables = {"reports": [report_row], "facts": [{"report_id": record.report_id, **record.facts}]}
    for table in ("fact_evidence", "pages", "items", "item_themes", "figures"):
        tables[table] = [{"report_id": record.report_id, **row} for row in record.rows.get(table, [])]
    return {table: pl.DataFrame(rows, schema=SCHEMAS[table], orient="row") for table, rows in tables.items()}
