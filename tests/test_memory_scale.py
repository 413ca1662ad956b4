"""Memory and latency at scale (issue 11): read commands without Polars or pyarrow, search from the
postings in term order with match_bm25's own scores, the index rebuilt for a database without them,
and the scale benchmark's memory profile per process."""

from __future__ import annotations

import shutil
import sys
from functools import partial
from pathlib import Path

import duckdb
import psutil
import pytest
from test_ingest_scale import _imported

from sendcorpus.flows.benchmark import _memory_of, run_measured
from sendcorpus.queries.catalog import run_query
from sendcorpus.warehouse.db import connect, query_frame
from sendcorpus.warehouse.load import read_state

from processes import run_cli

_cli = partial(run_cli, timeout=300)


def test_sql_prints_a_table_without_importing_polars_or_pyarrow(corpus_db: Path) -> None:
    result = _cli("sql", "select 1 AS one", "--db", str(corpus_db), python_flags=("-X", "importtime"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[-1] == "1 row"
    assert not _imported(result.stderr) & {"polars", "pyarrow", "numpy", "prefect", "spacy"}


def test_a_named_query_does_not_import_pyarrow(corpus_db: Path) -> None:
    args = ("query", "theme-benchmark", "--la", "Hackney", "--db", str(corpus_db))
    result = _cli(*args, python_flags=("-X", "importtime"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "pyarrow" not in _imported(result.stderr)


def test_sql_rows_table_counts_every_row_and_flattens_lists(corpus_db: Path) -> None:
    result = _cli("sql", "SELECT range AS n, [range, 2] AS pair FROM range(1200)", "--db", str(corpus_db))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "showing the first 500 of 1200 rows" in " ".join(result.stdout.split())
    assert "  0; 2" in result.stdout
    assert " 499   499; 2" in result.stdout and " 500   500; 2" not in result.stdout


def test_sql_can_call_full_text_search(corpus_db: Path) -> None:
    query = (
        "SELECT count(*) AS hits FROM corpus.search_items "
        "WHERE fts_corpus_search_items.match_bm25(item_key, 'speech') IS NOT NULL"
    )
    result = _cli("sql", query, "--format", "csv", "--db", str(corpus_db))
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.splitlines()[1]) > 10


def test_a_statement_without_rows_prints_an_empty_table(corpus_db: Path) -> None:
    result = _cli("sql", "SELECT 1 WHERE false", "--db", str(corpus_db))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[-1] == "0 rows"


@pytest.mark.parametrize("text", ["speech and language therapy", "EHC plans, timeliness!", "the", "zzzz"])
def test_search_scores_are_match_bm25s_own(corpus_db: Path, text: str) -> None:
    con = connect(corpus_db, read_only=True)
    try:
        found = run_query(con, "search", {"text": text, "all_reports": "true"})
        expected = query_frame(
            con,
            """
            SELECT r.file, s.section, s.item_no, round(score, 3) AS score
            FROM (SELECT *, fts_corpus_search_items.match_bm25(item_key, $text) AS score
                  FROM corpus.search_items) AS s
            JOIN corpus.reports AS r USING (report_id)
            WHERE score IS NOT NULL
            ORDER BY score DESC, r.file, s.section, s.item_no
            LIMIT 25
            """,
            {"text": text},
        )
    finally:
        con.close()
    assert found.select("file", "section", "item_no", "score").rows() == expected.rows()
    if text != "zzzz" and text != "the":
        assert found.height == 25


@pytest.mark.slow
def test_an_index_without_postings_is_rebuilt_by_the_next_ingest(corpus_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(corpus_db, db)
    con = duckdb.connect(str(db))
    postings = con.execute("SELECT count(*) FROM corpus.search_postings").fetchone()[0]
    assert postings > 1000
    con.execute("DELETE FROM corpus.search_postings")  # as a database indexed before migration 011
    con.close()
    con = connect(db, read_only=True)
    try:
        assert not read_state(con).search_index_ok
    finally:
        con.close()
    (tmp_path / "empty").mkdir()
    result = _cli("ingest", "--no-registry", "--source", str(tmp_path / "empty"), "--db", str(db))
    assert result.returncode == 0, result.stderr[-2000:]
    con = connect(db, read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM corpus.search_postings").fetchone()[0] == postings
        assert read_state(con).search_index_ok
        assert run_query(con, "search", {"text": "speech"}).height == 25
    finally:
        con.close()


@pytest.mark.slow
def test_the_scale_benchmark_logs_memory_per_process(tmp_path: Path, prefect_without_a_server: None) -> None:
    log = tmp_path / "memory.csv"
    result = _cli("benchmark", "--scale", "2", "--workers", "2", "--memory-log", str(log), timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]  # the memory sampler's thread lived on
    assert "Prefect server                               a temporary one per run" in result.stdout
    for role in ("main", "worker (all workers)", "fork server", "prefect server"):
        assert f"    {role} " in result.stdout, result.stdout
    rows = [line.split(",") for line in log.read_text().splitlines()]
    assert {"main", "worker", "fork server", "prefect server"} <= {row[2] for row in rows}
    assert all(len(row) == 6 and int(row[3]) >= int(row[5]) >= 0 for row in rows)
    assert max(int(row[4]) for row in rows if row[2] == "main") > 50 * 2**20


def test_the_memory_sampler_outlives_a_child_that_exits_first() -> None:
    """A short-lived child vanishes between listing the tree and reading its memory: the sampler skips it
    and goes on sampling (an exception in its thread fails this test, see pyproject's filterwarnings)."""
    run = run_measured([sys.executable, "-c", SPAWNS_A_SHORT_CHILD])
    assert run.returncode == 0, run.stderr
    assert run.peak_rss > 100 * 2**20  # the 128 MiB the parent holds after its child exited were seen


def test_reading_the_memory_of_a_finished_process_says_it_is_gone() -> None:
    child = psutil.Popen([sys.executable, "-c", "pass"])
    child.wait()
    with pytest.raises(psutil.NoSuchProcess):
        _memory_of(child)


SPAWNS_A_SHORT_CHILD = """
import subprocess, sys, time
for _ in range(20):
    subprocess.run([sys.executable, "-c", "pass"])
held = bytearray(128 * 2**20)
time.sleep(1.0)
"""
