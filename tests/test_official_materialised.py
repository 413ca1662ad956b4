"""The official figures kept as tables (migration 012): the same rows as the views they replaced, rebuilt
whenever the figures or the authorities change, and the same named-query rows on a database migrated
from schema 011. Real DuckDB files, the real shared reference CSVs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from sendcorpus.queries.catalog import get_query, run_query
from sendcorpus.settings import shared_dir
from sendcorpus.warehouse.db import (
    MIGRATIONS,
    connect,
    migrate,
    migrations,
    query_frame,
    schema_version,
    transaction,
)
from sendcorpus.warehouse.official_stats import refresh_derived_figures
from sendcorpus.warehouse.reference import load_local_authorities

from fixtures_corpus import build_synthetic_corpus_with_official_figures, open_corpus

FIXTURES = Path(__file__).parent / "fixtures"
MIGRATION_006 = (MIGRATIONS / "006_official_stats.sql").read_text(encoding="utf-8")
MIGRATION_012 = (MIGRATIONS / "012_official_figures_tables.sql").read_text(encoding="utf-8")
# Hackney; authorities with a report; one without; the three published under a retired ONS code
AREAS = ("204", "309", "209", "203", "308", "351", "908", "210", "825", "815", "933")


def old_view(name: str) -> str:
    """The SELECT of a public view as migration 006 defined it: the oracle."""
    found = re.search(rf"CREATE OR REPLACE VIEW {name} AS\n(.*?);\n", MIGRATION_006, re.DOTALL)
    assert found, name
    return found.group(1)


# official-benchmark's rankings as the query computed them before migration 012
OLD_TIMELINESS_RANKS = f"""
SELECT year, la_code, rank() OVER (PARTITION BY year ORDER BY pct_within_20_weeks DESC) AS england_rank,
       count(pct_within_20_weeks) OVER (PARTITION BY year) AS ranked_of
FROM ({old_view("ehcp_timeliness")})
WHERE level = 'Local authority' AND la_code IS NOT NULL AND pct_within_20_weeks IS NOT NULL
"""
OLD_EXCLUSION_RANKS = f"""
SELECT la_code, ons_code, metric, time_period, phase, sen_status,
       rank() OVER (PARTITION BY metric, time_period, phase, sen_status ORDER BY rate) AS england_rank,
       count(rate) OVER (PARTITION BY metric, time_period, phase, sen_status) AS ranked_of
FROM ({old_view("exclusion_rates_by_year")})
WHERE la_code IS NOT NULL AND rate IS NOT NULL
"""
STORED_TIMELINESS_RANKS = """
SELECT year, la_code, england_rank, ranked_of
FROM corpus.ehcp_timeliness_figures WHERE england_rank IS NOT NULL
"""
STORED_EXCLUSION_RANKS = """
SELECT la_code, ons_code, metric, time_period, phase, sen_status, england_rank, ranked_of
FROM corpus.exclusion_rates_by_year_figures WHERE england_rank IS NOT NULL
"""


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> pl.DataFrame:
    frame = query_frame(con, sql)
    return frame.sort(frame.columns, nulls_last=True)


def assert_same_as_the_old_views(con: duckdb.DuckDBPyConnection) -> None:
    for name in ("ehcp_timeliness", "exclusion_rates_by_year"):
        now, before = rows(con, f"SELECT * FROM {name}"), rows(con, old_view(name))
        assert now.height > 900, name
        assert now.schema == before.schema, name
        assert now.equals(before), name
    assert rows(con, STORED_TIMELINESS_RANKS).equals(rows(con, OLD_TIMELINESS_RANKS))
    assert rows(con, STORED_EXCLUSION_RANKS).equals(rows(con, OLD_EXCLUSION_RANKS))


def built_at(con: duckdb.DuckDBPyConnection) -> object:
    row = con.execute("SELECT built_at FROM corpus.official_figures_built").fetchone()
    return row[0] if row else None


@pytest.fixture(scope="module")
def figures_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_synthetic_corpus_with_official_figures(
        tmp_path_factory.mktemp("materialised") / "synthetic.duckdb"
    )


@pytest.fixture()
def copy_db(figures_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "copy.duckdb"
    shutil.copy(figures_db, path)
    return path


def test_the_tables_hold_what_the_old_views_computed(figures_db: Path) -> None:
    con = open_corpus(figures_db)
    try:
        assert_same_as_the_old_views(con)
    finally:
        con.close()


def test_loading_a_release_with_the_reference_command_rebuilds_them(copy_db: Path, tmp_path: Path) -> None:
    published = pl.read_csv(shared_dir() / "reference" / "ehcp_timeliness_20_week.csv", infer_schema=False)
    hackney_2024 = (
        (pl.col("old_la_code") == "204")
        & (pl.col("time_period") == "2024")
        & (pl.col("breakdown") == "All EHC plans issued")
    )
    newer = tmp_path / "ehcp_revised.csv"
    published.with_columns(
        pc_plans_issued_within_20_weeks=pl.when(hackney_2024)
        .then(pl.lit("100"))
        .otherwise(pl.col("pc_plans_issued_within_20_weeks"))
    ).write_csv(newer)
    before = open_corpus(copy_db)
    built_before = built_at(before)
    before.close()

    env = {**os.environ, "COLUMNS": "160"}
    loaded = subprocess.run(
        [sys.executable, "-m", "sendcorpus.cli", "reference", "--load", str(newer), "--db", str(copy_db)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert loaded.returncode == 0, loaded.stderr

    con = open_corpus(copy_db)
    try:
        assert built_at(con) > built_before
        assert con.execute(
            "SELECT pct_within_20_weeks FROM ehcp_timeliness WHERE la_code = '204' AND year = 2024"
        ).fetchall() == [(100.0,)]
        assert_same_as_the_old_views(con)
        figures = run_query(con, "official-benchmark", {"la": "Hackney"})
        latest = figures.filter((pl.col("theme") == "ehcp_timeliness") & (pl.col("period") == "2024"))
        assert latest["area_value"].to_list() == [100.0]
        assert latest["england_rank"].to_list() == [1]  # tied with the other 100% authorities
    finally:
        con.close()


def test_authorities_rebuild_them_only_when_they_change(copy_db: Path) -> None:
    con = connect(copy_db)
    try:
        built = built_at(con)
        load_local_authorities(con)  # as every ingest's first load: the same seed
        assert built_at(con) == built

        with transaction(con):  # as an older seed would hold
            con.execute(
                "UPDATE corpus.local_authorities SET name = 'Hackney (old name)' WHERE la_code = '204'"
            )
            assert refresh_derived_figures(con)
        assert con.execute(
            "SELECT DISTINCT area FROM exclusion_rates_by_year WHERE la_code = '204'"
        ).fetchall() == [("Hackney (old name)",)]

        load_local_authorities(con)
        assert con.execute("SELECT DISTINCT area FROM ehcp_timeliness WHERE la_code = '204'").fetchall() == [
            ("Hackney",)
        ]
        assert_same_as_the_old_views(con)
    finally:
        con.close()


def downgrade_to_011(con: duckdb.DuckDBPyConnection) -> None:
    """The database as schema 011 left it: migration 006's views, none of 012's objects."""
    with transaction(con):
        for name in ("ehcp_timeliness", "exclusion_rates_by_year"):
            con.execute(f"CREATE OR REPLACE VIEW {name} AS {old_view(name)}")
        created = re.findall(r"^CREATE (TABLE|VIEW) (corpus\.\w+)", MIGRATION_012, re.MULTILINE)
        for kind, name in reversed(created):
            con.execute(f"DROP {kind} {name}")
        con.execute("DELETE FROM schema_migrations WHERE version = 12")


def test_a_database_migrated_from_011_gives_the_same_rows(copy_db: Path) -> None:
    con = duckdb.connect(str(copy_db))
    try:
        downgrade_to_011(con)
        assert schema_version(con) == 11
        old_benchmark = (FIXTURES / "official_benchmark_011.sql").read_text(encoding="utf-8")
        old_claims = (FIXTURES / "claims_vs_stats_011.sql").read_text(encoding="utf-8")
        before = {la: query_frame(con, old_benchmark, {"la_code": la}) for la in AREAS}
        claims_before = query_frame(con, old_claims, {"theme": None})

        assert migrate(con) == ["012_official_figures_tables.sql"]
        assert schema_version(con) == max(version for version, _, _ in migrations())
        assert_same_as_the_old_views(con)
        for la, frame in before.items():
            now = query_frame(con, get_query("official-benchmark").sql, {"la_code": la})
            assert frame.height >= 9, la
            assert now.schema == frame.schema and now.equals(frame), la
        claims_now = query_frame(con, get_query("claims-vs-stats").sql, {"theme": None})
        # the oracle ranks from the old views; the columns added since (region gaps, completeness) aside
        assert claims_now.height == 14 and claims_now.select(claims_before.columns).equals(claims_before)
    finally:
        con.close()


@pytest.mark.slow
def test_read_commands_on_an_older_database_say_how_to_bring_it_up_to_date(copy_db: Path) -> None:
    con = duckdb.connect(str(copy_db))
    try:
        downgrade_to_011(con)
    finally:
        con.close()
    command = [sys.executable, "-m", "sendcorpus.cli"]
    query = subprocess.run(
        [*command, "query", "official-benchmark", "--la", "Hackney", "--db", str(copy_db)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert query.returncode == 1
    assert query.stderr.strip().splitlines() == [
        f"sendcorpus: the database {copy_db} was written by an older sendcorpus (it lacks schema migration "
        f"012): run `sendcorpus ingest --db {copy_db}` once to bring it up to date (nothing in it is lost), "
        "then try again"
    ]
    ingest = subprocess.run(  # what the message says to do, with nothing to ingest
        [*command, "ingest", "--no-registry", "--db", str(copy_db)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ingest.returncode == 0, ingest.stderr
    query = subprocess.run(
        [*command, "sql", "SELECT count(*) FROM ehcp_timeliness", "--format", "csv", "--db", str(copy_db)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert query.returncode == 0, query.stderr
    assert int(query.stdout.splitlines()[1]) > 0


def test_a_duckdb_file_of_another_program_is_named_as_such(tmp_path: Path) -> None:
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).execute("CREATE TABLE t AS SELECT 1 AS a").close()
    result = subprocess.run(
        [sys.executable, "-m", "sendcorpus.cli", "sql", "SELECT 1", "--db", str(other)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "is not a sendcorpus corpus" in result.stderr and len(result.stderr.strip().splitlines()) == 1
