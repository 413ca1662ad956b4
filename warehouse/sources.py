"""`corpus.sources`: every area SEND publication `update` has seen, and what became of it."""

from __future__ import annotations

from datetime import datetime

import duckdb
import polars as pl

from sendcorpus.warehouse.db import transaction

# Statuses; `rejected: <reason>` and `download failed: <why>` carry their explanation.
LOADED = "loaded"
SKIPPED_KIND = "skipped kind"
PENDING = "new"

SEEN_COLUMNS = ["url", "ofsted_urn", "la_code", "local_authority", "kind", "title", "published", "status"]


def record_seen(con: duckdb.DuckDBPyConnection, seen: pl.DataFrame, seen_at: datetime) -> None:
    """Insert publications not seen before; for known ones refresh what the site says and `last_seen`,
    keeping their status (a loaded report stays loaded)."""
    con.register("seen", seen.select(SEEN_COLUMNS).__arrow_c_stream__())  # no pyarrow needed
    try:
        with transaction(con):
            con.execute(
                """
                INSERT INTO corpus.sources
                SELECT url, ofsted_urn, la_code, local_authority, kind, title, published,
                       $seen_at, $seen_at, status, NULL
                FROM seen
                ON CONFLICT (url) DO UPDATE SET
                    ofsted_urn = excluded.ofsted_urn, la_code = excluded.la_code,
                    local_authority = excluded.local_authority, kind = excluded.kind,
                    title = excluded.title, published = excluded.published, last_seen = excluded.last_seen
                """,
                {"seen_at": seen_at},
            )
    finally:
        con.unregister("seen")


def set_status(con: duckdb.DuckDBPyConnection, url: str, status: str, report_id: str | None = None) -> None:
    con.execute("UPDATE corpus.sources SET status = ?, report_id = ? WHERE url = ?", [status, report_id, url])


def statuses(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """url → status of every publication seen so far."""
    return dict(con.execute("SELECT url, status FROM corpus.sources").fetchall())


def loaded_urls(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """source_url → report_id of every report in the corpus, however it was ingested."""
    rows = con.execute("SELECT source_url, report_id FROM corpus.reports WHERE source_url IS NOT NULL")
    return dict(rows.fetchall())
