"""The correctness oracle for speed work: dump every corpus table of a database to CSV, sorted by all
columns, leaving out what differs from run to run (run ids, timestamps, the pipeline version).

    python scripts/corpus_oracle.py DB OUTDIR      # then: diff -r BEFORE_DIR AFTER_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

SCHEMAS = ("corpus", "fts_corpus_search_items")
SKIPPED_COLUMNS = {"run_id", "flow_run_id", "pipeline_version"}
SKIPPED_TYPES = ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "INTERVAL")


def dump(db: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db), read_only=True)
    tables = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_type = 'BASE TABLE' AND table_schema IN (SELECT unnest(?)) ORDER BY 1, 2",
        [list(SCHEMAS)],
    ).fetchall()
    for schema, table in tables:
        columns = [
            name
            for name, kind in con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                [schema, table],
            ).fetchall()
            if name not in SKIPPED_COLUMNS and kind not in SKIPPED_TYPES
        ]
        quoted = ", ".join(f'"{name}"' for name in columns)
        where = " WHERE key <> 'pipeline_version'" if table == "ingest_state" else ""
        query = f'SELECT {quoted} FROM "{schema}"."{table}"{where} ORDER BY ALL'
        target = out / f"{schema}.{table}.csv"
        con.execute(f"COPY ({query}) TO '{target}' (FORMAT csv, HEADER)")
    con.close()


if __name__ == "__main__":
    dump(Path(sys.argv[1]), Path(sys.argv[2]))
