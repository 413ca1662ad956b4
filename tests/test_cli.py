"""The command line as a user runs it: real processes on the real corpus database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
import polars as pl

from conftest import GOLD


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sendcorpus.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_theme_benchmark_for_hackney_as_csv(corpus_db: Path) -> None:
    result = _cli("query", "theme-benchmark", "--la", "Hackney", "--format", "csv", "--db", str(corpus_db))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    header = lines[0].split(",")
    assert header[:5] == ["theme", "label", "area_weakness", "area_recommendation", "area_strength"]
    assert len(lines) == 1 + 20
    rows = {line.split(",")[0]: line for line in lines[1:]}
    assert rows["exclusions_suspensions"].split(",")[2:4] == ["true", "true"]
    assert rows["ehcp_timeliness"].split(",")[2:4] == ["true", "true"]


def test_unknown_and_hostile_authority_names_are_one_line_errors(corpus_db: Path) -> None:
    for name in ("Hackny", "Hackney'; DROP TABLE reports; --"):
        result = _cli("query", "area-profile", "--la", name, "--db", str(corpus_db))
        assert result.returncode == 1
        assert "no local authority called" in result.stderr
        assert "Hackney" in result.stderr  # a close match is offered
        assert len(result.stderr.strip().splitlines()) == 1
    count = _cli("sql", "SELECT count(*) AS n FROM reports", "--format", "csv", "--db", str(corpus_db))
    assert count.stdout.split() == ["n", "45"]


def test_exports_open_in_polars_and_openpyxl(corpus_db: Path, tmp_path: Path) -> None:
    parquet, workbook = tmp_path / "outcomes.parquet", tmp_path / "outcomes.xlsx"
    for output in (parquet, workbook):
        fmt = output.suffix.lstrip(".")
        result = _cli("query", "outcomes", "--format", fmt, "--output", str(output), "--db", str(corpus_db))
        assert result.returncode == 0, result.stderr
    frame = pl.read_parquet(parquet)
    assert frame.height > 0
    sheet = openpyxl.load_workbook(workbook).active
    assert sheet.max_row == frame.height + 1


def test_a_binary_format_needs_an_output_file(corpus_db: Path) -> None:
    result = _cli("sql", "SELECT 1", "--format", "parquet", "--db", str(corpus_db))
    assert result.returncode == 1
    assert "--output" in result.stderr


def test_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    result = _cli("sql", "SELECT 1", "--db", str(tmp_path / "none.duckdb"))
    assert result.returncode == 1
    assert "no database at" in result.stderr
    assert "Traceback" not in result.stderr


def test_evaluate_meets_the_bars_on_the_shared_gold(corpus_db: Path) -> None:
    result = _cli(
        "evaluate", "--gold", str(GOLD), "--db", str(corpus_db), "--min-f1", "0.90", "--min-facts", "1.0"
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert "Facts: 1.000" in result.stdout


def test_evaluate_fails_below_an_impossible_bar(corpus_db: Path) -> None:
    result = _cli("evaluate", "--gold", str(GOLD), "--db", str(corpus_db), "--min-f1", "0.999")
    assert result.returncode == 1


def test_report_for_hackney_on_the_real_corpus(corpus_db: Path, tmp_path: Path) -> None:
    page, workbook = tmp_path / "hackney.html", tmp_path / "hackney.xlsx"
    for output in (page, workbook):
        result = _cli("report", "--la", "Hackney", "--output", str(output), "--db", str(corpus_db))
        assert result.returncode == 0, result.stderr
    html = page.read_text(encoding="utf-8")
    assert "Exclusions and suspensions" in html and "EHC plan timeliness" in html
    assert "The rate of permanent exclusions of children and young people with SEND" in html  # evidence
    assert "<script" not in html
    assert "benchmark" in openpyxl.load_workbook(workbook, read_only=True).sheetnames
