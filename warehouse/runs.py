"""`corpus.runs`: one row per ingest or update run, with its counts."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime

import duckdb
import polars as pl

from sendcorpus.warehouse.db import query_frame, transaction

COMPLETED = "completed"


def new_run_id() -> str:
    return uuid.uuid4().hex[:16]


@dataclass
class RunRecord:
    kind: str  # ingest | update
    started: datetime
    finished: datetime | None = None
    status: str = COMPLETED  # completed | failed: <why>
    flow_run_id: str | None = None
    discovered: int | None = None
    new: int | None = None
    reprocessed: int | None = None  # reports already in the corpus, read again
    unchanged: int | None = None
    rejected: int | None = None
    failed: int | None = None
    run_id: str = field(default_factory=new_run_id)


def record_run(con: duckdb.DuckDBPyConnection, run: RunRecord) -> None:
    """Write the run's row, replacing an earlier row with the same run_id."""
    row = asdict(run)
    with transaction(con):
        con.execute("DELETE FROM corpus.runs WHERE run_id = ?", [run.run_id])
        columns = ", ".join(row)
        con.execute(
            f"INSERT INTO corpus.runs ({columns}) VALUES ({', '.join('?' * len(row))})", list(row.values())
        )


def recent_runs(con: duckdb.DuckDBPyConnection, limit: int = 20) -> pl.DataFrame:
    return query_frame(con, "SELECT * FROM runs ORDER BY started DESC LIMIT ?", [limit])
