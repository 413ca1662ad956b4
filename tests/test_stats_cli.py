"""The official-statistics commands as a user runs them: real processes on the real corpus database."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import openpyxl
import polars as pl

from sendcorpus.settings import shared_dir


def _cli(*args: str, columns: int = 160) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run(
        [sys.executable, "-m", "sendcorpus.cli", *args], capture_output=True, text=True, timeout=120, env=env
    )


def test_theme_benchmark_shows_hackneys_official_figures(corpus_db: Path) -> None:
    result = _cli("query", "theme-benchmark", "--la", "Hackney", "--db", str(corpus_db))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Reports in corpus (45 of 153 areas)" in out
    assert "⚠<5 Neighbours with a report (2 of 10)" in out
    assert "Statistical neighbours without a report: Camden, Islington" in out
    timeliness = next(line for line in out.splitlines() if line.lstrip().startswith("Plans within 20"))
    # year, Hackney, London, the neighbours' median
    assert timeliness.split()[5:9] == ["2024", "40.0%", "64.7%", "80.6%"]
    assert "45.9%" in timeliness
    secondary = next(line for line in out.splitlines() if "Perm. excl., EHC plan, secondary" in line)
    assert "0.63" in secondary and "0.189" in secondary and "0.133" in secondary  # own, no-SEN, neighbours
    assert all(len(line) <= 160 for line in out.splitlines())


def test_wide_output_fits_a_narrow_terminal(corpus_db: Path) -> None:
    for name in ("theme-benchmark", "claims-vs-stats"):
        extra = ["--la", "Hackney"] if name == "theme-benchmark" else []
        result = _cli("query", name, *extra, "--db", str(corpus_db), columns=80)
        assert result.returncode == 0, result.stderr
        assert all(len(line) <= 80 for line in result.stdout.splitlines()), name


def test_national_picture_beside_ofsted(corpus_db: Path) -> None:
    result = _cli("query", "national-picture", "--db", str(corpus_db))
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip().startswith("2023-2024")]
    assert "42 of 54 (78%)" in lines[0]
    assert "11 of 14" in lines[1] and "21 of 26" in lines[2] and "10 of 14" in lines[3]
    assert "gov.uk/government/statistics" in result.stdout


def test_claims_vs_stats_summary(corpus_db: Path) -> None:
    result = _cli("query", "claims-vs-stats", "--db", str(corpus_db))
    assert result.returncode == 0, result.stderr
    assert "ehcp_timeliness: 45 areas" in result.stdout
    csv = _cli("query", "claims-vs-stats", "--format", "csv", "--db", str(corpus_db))
    frame = pl.read_csv(csv.stdout.encode())
    assert set(frame["theme"]) == {"ehcp_timeliness", "exclusions_suspensions"}
    assert "agreement" in frame.columns and "evidence" in frame.columns


def test_theme_benchmark_workbook_has_a_sheet_per_table(corpus_db: Path, tmp_path: Path) -> None:
    output = tmp_path / "hackney.xlsx"
    result = _cli(
        "query",
        "theme-benchmark",
        "--la",
        "Hackney",
        "--format",
        "xlsx",
        "--output",
        str(output),
        "--db",
        str(corpus_db),
    )
    assert result.returncode == 0, result.stderr
    workbook = openpyxl.load_workbook(output)
    assert workbook.sheetnames == ["benchmark", "official", "about"]
    # the numbers behind the tables, not their text ("40.0%"), so a spreadsheet can compute with them
    official = list(workbook["official"].iter_rows(values_only=True))
    heading = official[0]
    timeliness = next(row for row in official[1:] if row[heading.index("Period")] == "2024")
    assert timeliness[heading.index("Area value")] == 40.0
    assert timeliness[heading.index("England rank")] == 94
    benchmark = list(workbook["benchmark"].iter_rows(values_only=True))
    assert isinstance(benchmark[1][benchmark[0].index("Corpus share")], float)
    notes = [row[1] for row in workbook["about"].iter_rows(values_only=True)]
    assert any(
        note and note.startswith("Timeliness: % of new EHC plans issued within 20 weeks") for note in notes
    )


def test_themes_lists_the_taxonomy() -> None:
    result = _cli("themes", columns=200)
    assert result.returncode == 0, result.stderr
    assert "ehcp_timeliness" in result.stdout and "EHC plan timeliness" in result.stdout
    assert "20-week statutory timescale" in result.stdout
    assert result.stdout.strip().endswith("20 themes")


def test_reference_shows_and_loads_published_files(corpus_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(corpus_db, db)
    shown = _cli("reference", "--db", str(db), columns=200)
    assert shown.returncode == 0, shown.stderr
    assert "ehcp_timeliness" in shown.stdout and "exclusions_by_sen" in shown.stdout

    bad = tmp_path / "bad.csv"
    bad.write_text("just,some\ncolumns,here\n", encoding="utf-8")
    before = db.read_bytes()
    refused = _cli("reference", "--load", str(bad), "--db", str(db))
    assert refused.returncode == 1
    assert "is not a file sendcorpus knows" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    assert db.read_bytes() == before

    newer = tmp_path / "ehcp_2026_release.csv"
    published = pl.read_csv(shared_dir() / "reference" / "ehcp_timeliness_20_week.csv", infer_schema=False)
    extra_year = published.filter(pl.col("time_period") == "2024").with_columns(time_period=pl.lit("2025"))
    pl.concat([published, extra_year]).write_csv(newer)
    loaded = _cli("reference", "--load", str(newer), "--db", str(db))
    assert loaded.returncode == 0, loaded.stderr
    assert "calendar years 2019–2025" in loaded.stdout
    figures = _cli("query", "official-benchmark", "--la", "Hackney", "--format", "csv", "--db", str(db))
    rows = pl.read_csv(figures.stdout.encode()).filter(pl.col("theme") == "ehcp_timeliness")
    assert rows["period"].cast(pl.String).to_list() == ["2025"]  # inspection year and latest are now one
    assert rows["area_value"].to_list() == [40.0]

    # one authority's rows would replace all England's: refused unless asked for; nothing changes
    one_area = tmp_path / "hartlepool_only.csv"
    published.filter(pl.col("old_la_code").is_in(["805"]) | pl.col("old_la_code").is_null()).write_csv(
        one_area
    )
    before = db.read_bytes()
    fewer = _cli("reference", "--load", str(one_area), "--db", str(db))
    assert fewer.returncode == 1 and "covers 1 local authority where the ehcp_timeliness" in fewer.stderr
    assert "--allow-fewer-areas" in fewer.stderr and db.read_bytes() == before
    both = _cli("reference", "--defaults", "--load", str(newer), "--db", str(db))
    assert both.returncode == 1 and "--defaults and --load both load ehcp_timeliness" in both.stderr
    assert db.read_bytes() == before
    asked = _cli("reference", "--load", str(one_area), "--allow-fewer-areas", "--db", str(db))
    assert asked.returncode == 0, asked.stderr
    one = _cli("query", "official-benchmark", "--la", "Hackney", "--format", "csv", "--db", str(db))
    hackney = pl.read_csv(one.stdout.encode()).filter(pl.col("theme") == "ehcp_timeliness")
    assert hackney["area_value"].is_null().all()  # only Hartlepool's figures are loaded now

    restored = _cli("reference", "--defaults", "--db", str(db))
    assert restored.returncode == 0, restored.stderr
    assert "calendar years 2019–2024" in restored.stdout and "loaded la_population" in restored.stdout
    con = duckdb.connect(str(db), read_only=True)
    try:
        paths = [row[0] for row in con.execute("SELECT file FROM corpus.official_sources").fetchall()]
    finally:
        con.close()
    assert paths and all(Path(path).is_absolute() for path in paths)


def test_a_huge_result_prints_quickly_and_bounded(corpus_db: Path) -> None:
    result = _cli(
        "sql", "SELECT range AS n, 'row ' || range AS label FROM range(300000)", "--db", str(corpus_db)
    )
    assert result.returncode == 0, result.stderr
    assert "showing the first 500 of 300000 rows" in result.stdout
    assert len(result.stdout.splitlines()) < 520
