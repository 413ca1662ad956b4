"""Reports that lost pages or sections are kept out of group shares unless asked for."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from sendcorpus.cli import main
from sendcorpus.queries.catalog import run_query
from sendcorpus.warehouse.db import connect


@pytest.fixture(scope="module")
def one_partial(corpus_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("partial") / "sendcorpus.duckdb"
    shutil.copy(corpus_db, db)
    con = duckdb.connect(str(db))
    con.execute(
        "UPDATE corpus.reports SET completeness = 'partial: page 6 has no text' WHERE file = 'haringey.pdf'"
    )
    con.close()
    return db


def _benchmark(db: Path, **params: str):  # type: ignore[no-untyped-def]
    con = connect(db, read_only=True)
    try:
        return run_query(con, "theme-benchmark", {"la": "Hackney", **params})
    finally:
        con.close()


def test_a_partial_report_leaves_the_groups_and_is_counted(corpus_db: Path, one_partial: Path) -> None:
    full = _benchmark(corpus_db).row(0, named=True)
    cut = _benchmark(one_partial).row(0, named=True)
    assert full["partial_left_out"] == 0
    assert cut["partial_left_out"] == 1
    assert cut["region_size"] == full["region_size"] - 1  # Haringey is in London
    assert cut["neighbours_size"] == full["neighbours_size"] - 1  # and a neighbour of Hackney
    assert cut["corpus_size"] == full["corpus_size"] - 1
    assert cut["corpus_areas"] == full["corpus_areas"]  # still an area with a report


def test_include_partial_puts_it_back(corpus_db: Path, one_partial: Path) -> None:
    full = _benchmark(corpus_db)
    back = _benchmark(one_partial, include_partial="true")
    assert back.drop("partial_left_out").equals(full.drop("partial_left_out"))


def test_the_command_line_flag(one_partial: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["query", "theme-benchmark", "--la", "Hackney", "--format", "csv", "--db", str(one_partial)]
    assert main(args) == 0
    left_out = capsys.readouterr().out
    assert main([*args, "--include-partial"]) == 0
    put_back = capsys.readouterr().out
    assert left_out != put_back
    assert "partial_left_out" in left_out.splitlines()[0]
