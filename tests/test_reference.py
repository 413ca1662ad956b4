"""Local authority reference data: the seeds, name matching in Python and SQL, and lookups."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from sendcorpus.seeds.build_local_authorities import build_local_authorities
from sendcorpus.settings import shared_dir
from sendcorpus.warehouse.db import connect
from sendcorpus.warehouse.reference import (
    UnknownAuthority,
    load_local_authorities,
    load_themes,
    name_key,
    refresh_reference,
    resolve_la,
    resolve_la_in_corpus,
    seed_local_authorities,
)

REFERENCE = shared_dir() / "reference" / "local_authorities.csv"


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    connection = connect(tmp_path_factory.mktemp("reference") / "ref.duckdb")
    load_local_authorities(connection)
    load_themes(connection)
    return connection


def test_packaged_seeds_are_what_the_script_builds_from_the_shared_reference(tmp_path: Path) -> None:
    rebuilt = build_local_authorities(REFERENCE, tmp_path / "local_authorities.csv")
    packaged = seed_local_authorities()
    assert packaged.height == 156
    assert rebuilt.equals(packaged)


def test_seed_rows_hold_codes_regions_and_ten_neighbours() -> None:
    seeds = seed_local_authorities()
    assert seeds["la_code"].str.contains(r"^\d{3}$").all()
    assert seeds["la_code"].is_unique().all()
    assert seeds["region"].n_unique() == 9
    hackney = seeds.filter(pl.col("la_code") == "204").row(0, named=True)
    assert (hackney["name"], hackney["ons_code"], hackney["region"]) == ("Hackney", "E09000012", "London")
    assert len(hackney["stat_neighbours"].split(";")) == 10
    # merged-away authorities stay, with their last ONS code and no current neighbours
    cumbria = seeds.filter(pl.col("la_code") == "909").row(0, named=True)
    assert cumbria["ons_code"] == "E10000006" and cumbria["stat_neighbours"] is None


@pytest.mark.parametrize(
    ("spelling", "la_code"),
    [
        ("Hackney", "204"),
        ("London Borough of Hackney", "204"),
        ("Telford & Wrekin", "894"),
        ("Telford and Wrekin Council", "894"),
        ("Hull", "810"),
        ("Kingston upon Hull", "810"),
        ("Kingston Upon Hull, City of", "810"),
        ("Bedford", "822"),
        ("Bedford Borough Council", "822"),
        ("Bristol", "801"),
        ("City of Bristol", "801"),
        ("Bristol, City of", "801"),
        ("Herefordshire, County of", "884"),
        ("St Helens", "342"),
        ("St. Helens", "342"),
        ("Southend", "882"),
        ("Southend-on-Sea", "882"),
        ("BCP", "839"),
        ("County Durham", "840"),
        ("Royal Borough of Greenwich", "203"),
        ("North Northamptonshire", "940"),
        ("Northamptonshire", "928"),
        ("204", "204"),
        ("E09000012", "204"),
    ],
)
def test_resolve_la_accepts_common_spellings_and_codes(
    con: duckdb.DuckDBPyConnection, spelling: str, la_code: str
) -> None:
    assert resolve_la(con, spelling)[0] == la_code


def test_unknown_names_suggest_close_matches(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(
        UnknownAuthority, match=r"no local authority called 'Hackny'; did you mean: Hackney\?"
    ):
        resolve_la(con, "Hackny")
    with pytest.raises(UnknownAuthority, match="did you mean: Hackney"):
        resolve_la(con, "Hackney'; DROP TABLE reports; --")
    with pytest.raises(UnknownAuthority, match="no local authority called 'Atlantis'"):
        resolve_la(con, "Atlantis")


def test_sql_name_key_matches_python_name_key(con: duckdb.DuckDBPyConnection) -> None:
    seeds = seed_local_authorities()
    spellings = seeds["name"].to_list() + [
        alias for aliases in seeds["aliases"].drop_nulls() for alias in aliases.split(";")
    ]
    spellings += [
        "THE LONDON BOROUGH OF HACKNEY",
        "  Stoke-on-Trent City Council ",
        "Brighton & Hove",
        "Richmond upon Thames (Royal Borough)",
        "Café  Town",
        "",
    ]
    con.register("spellings", pl.DataFrame({"spelling": spellings}).to_arrow())
    sql_keys = con.execute("SELECT corpus.name_key(spelling) FROM spellings").fetchall()
    assert [row[0] for row in sql_keys] == [name_key(spelling) for spelling in spellings]


def test_every_spelling_leads_to_one_authority(con: duckdb.DuckDBPyConnection) -> None:
    clashes = con.execute(
        "SELECT alias_key FROM corpus.la_aliases GROUP BY alias_key HAVING count(DISTINCT la_code) > 1"
    ).fetchall()
    assert clashes == []


def test_loading_twice_replaces_rather_than_duplicates(con: duckdb.DuckDBPyConnection) -> None:
    before = con.execute("SELECT count(*) FROM corpus.la_aliases").fetchone()
    assert load_local_authorities(con) == 156
    assert load_themes(con) == 20
    assert con.execute("SELECT count(*) FROM corpus.la_aliases").fetchone() == before
    assert con.execute("SELECT count(*) FROM local_authorities").fetchone() == (156,)
    first = con.execute("SELECT theme FROM corpus.themes ORDER BY ord LIMIT 1").fetchone()
    assert first == ("ehcp_timeliness",)


# --- official statistics (warehouse/official_stats.py, migration 006) ---------------------------------

TIMELINESS_CSV = shared_dir() / "reference" / "ehcp_timeliness_20_week.csv"
EXCLUSIONS_CSV = shared_dir() / "reference" / "exclusions_by_sen.csv"


@pytest.fixture(scope="module")
def stats(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    from sendcorpus.warehouse.official_stats import load_defaults

    connection = connect(tmp_path_factory.mktemp("official") / "official.duckdb")
    load_local_authorities(connection)
    loaded = load_defaults(connection)
    assert [item.dataset for item in loaded] == ["ehcp_timeliness", "exclusions_by_sen", "la_population"]
    return connection


def test_official_files_load_as_published(stats: duckdb.DuckDBPyConnection) -> None:
    published = pl.read_csv(TIMELINESS_CSV, infer_schema=False)
    exclusions = pl.read_csv(EXCLUSIONS_CSV, infer_schema=False)
    assert stats.execute("SELECT count(*) FROM corpus.ehcp_timeliness_published").fetchone() == (
        published.height,
    )
    assert stats.execute("SELECT count(*) FROM corpus.exclusions_by_sen").fetchone() == (exclusions.height,)
    # suppressed `x` is NULL, never 0: Hackney's 2023 row is suppressed
    suppressed = published.filter(pl.col("pc_plans_issued_within_20_weeks") == "x").height
    nulls = stats.execute(
        "SELECT count(*) FROM corpus.ehcp_timeliness_published WHERE pc_plans_issued_within_20_weeks IS NULL"
    ).fetchone()
    assert nulls == (suppressed,) and suppressed > 0
    hackney = stats.execute(
        "SELECT year, pct_within_20_weeks FROM ehcp_timeliness WHERE la_code = '204' ORDER BY year"
    ).fetchall()
    assert hackney[-2:] == [(2023, None), (2024, 40.0)]
    england = stats.execute(
        "SELECT pct_within_20_weeks FROM ehcp_timeliness WHERE level = 'England' AND year = 2024"
    ).fetchone()
    assert england == (45.9,)
    sources = stats.execute("SELECT dataset, release FROM official_sources ORDER BY 1").fetchall()
    assert sources[0] == ("ehcp_timeliness", "DfE SEN2 (EHC plans), calendar years 2019–2024")
    assert stats.execute("SELECT population_0_25 FROM la_population WHERE la_code = '204'").fetchone() == (
        int(
            pl.read_csv(REFERENCE, infer_schema=False).filter(pl.col("la_code") == "204")[
                "ons_population_0-25"
            ][0]
        ),
    )


def test_official_rows_join_on_codes_including_retired_ons_codes(stats: duckdb.DuckDBPyConnection) -> None:
    unmatched = stats.execute(
        "SELECT DISTINCT ons_code FROM exclusion_rates WHERE la_code IS NULL"
    ).fetchall()
    assert unmatched == []
    unmatched = stats.execute(
        "SELECT DISTINCT ons_code FROM ehcp_timeliness WHERE level = 'Local authority' AND la_code IS NULL"
    ).fetchall()
    assert unmatched == []
    # North Yorkshire's rows under its county code E10000023 land on DfE code 815, like the newer ones
    codes = stats.execute(
        "SELECT DISTINCT ons_code FROM exclusion_rates WHERE la_code = '815' ORDER BY 1"
    ).fetchall()
    assert ("E10000023",) in codes


def test_yearly_exclusion_rates_are_the_sum_of_the_terms(stats: duckdb.DuckDBPyConnection) -> None:
    terms = (
        pl.read_csv(EXCLUSIONS_CSV, infer_schema=False)
        .filter(
            (pl.col("new_la_code") == "E09000012")
            & (pl.col("metric") == "perm_excl_rate")
            & (pl.col("education_phase") == "State-funded secondary")
            & (pl.col("sen_status") == "EHC plan")
            & (pl.col("time_period") == "202425")
        )
        .with_columns(pl.col("value", "no_sen_value").cast(pl.Float64))
    )
    row = stats.execute(
        """
        SELECT rate, no_sen_rate, ratio_to_no_sen, n_terms, terms FROM exclusion_rates_by_year
        WHERE la_code = '204' AND metric = 'perm_excl_rate' AND phase = 'State-funded secondary'
          AND sen_status = 'EHC plan' AND time_period = 202425
        """
    ).fetchone()
    assert row[:2] == pytest.approx((terms["value"].sum(), terms["no_sen_value"].sum()))
    assert row[2] == pytest.approx(terms["value"].sum() / terms["no_sen_value"].sum())
    assert row[3:] == (2, "autumn + spring")


def test_a_newer_download_loads_as_it_comes(stats: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    from sendcorpus.warehouse.official_stats import load_file

    newer = tmp_path / "sen2_2026.csv"
    frame = pl.read_csv(TIMELINESS_CSV, infer_schema=False)
    frame = pl.concat(
        [frame, frame.filter(pl.col("time_period") == "2024").with_columns(time_period=pl.lit("2025"))]
    ).rename({"pc_plans_issued_within_20_weeks": "PC_PLANS_ISSUED_WITHIN_20_WEEKS"})
    frame.with_columns(extra_column=pl.lit("new in 2026")).write_csv(newer)
    try:
        loaded = load_file(stats, newer)
        assert loaded.release == "DfE SEN2 (EHC plans), calendar years 2019–2025"
        assert stats.execute(
            "SELECT pct_within_20_weeks FROM ehcp_timeliness WHERE la_code = '204' AND year = 2025"
        ).fetchone() == (40.0,)
    finally:
        load_file(stats, TIMELINESS_CSV)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a,b\n1,2\n", "is not a file sendcorpus knows"),
        ("new_la_code,metric,value,no_sen_value\nE1,perm_excl_rate,1,2\n", "lacks columns"),
        ("", "not a readable CSV file"),
    ],
)
def test_a_wrong_file_is_refused_in_one_line(
    stats: duckdb.DuckDBPyConnection, tmp_path: Path, content: str, message: str
) -> None:
    from sendcorpus.warehouse.official_stats import OfficialStatsError, load_file

    path = tmp_path / "wrong.csv"
    path.write_text(content, encoding="utf-8")
    before = stats.execute("SELECT count(*) FROM corpus.exclusions_by_sen").fetchone()
    with pytest.raises(OfficialStatsError, match=message) as caught:
        load_file(stats, path)
    assert "\n" not in str(caught.value)
    assert stats.execute("SELECT count(*) FROM corpus.exclusions_by_sen").fetchone() == before


def test_a_value_that_is_neither_number_nor_suppression_is_named(tmp_path: Path) -> None:
    from sendcorpus.warehouse.official_stats import OfficialStatsError, read_published

    frame = pl.read_csv(EXCLUSIONS_CSV, infer_schema=False, n_rows=5).with_columns(value=pl.lit("lots"))
    frame.write_csv(tmp_path / "bad.csv")
    with pytest.raises(OfficialStatsError, match="column value holds 'lots'"):
        read_published(tmp_path / "bad.csv")


def test_wilson_interval_matches_the_formula(stats: duckdb.DuckDBPyConnection) -> None:
    import math

    def wilson(k: int, n: int) -> tuple[float, float]:
        z, p = 1.959964, k / n
        centre, spread = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return max(0.0, (centre - spread) / (1 + z * z / n)), min(1.0, (centre + spread) / (1 + z * z / n))

    for k, n in ((0, 7), (2, 7), (16, 45), (2, 2), (1, 1)):
        got = stats.execute(
            "SELECT corpus.wilson_low(?, ?), corpus.wilson_high(?, ?)", [k, n, k, n]
        ).fetchone()
        assert got == pytest.approx(wilson(k, n))
    assert stats.execute("SELECT corpus.wilson_low(0, 0)").fetchone() == (None,)


def test_reference_tables_are_reloaded_only_when_what_they_come_from_changed(tmp_path: Path) -> None:
    con = connect(tmp_path / "fresh.duckdb")
    try:
        assert refresh_reference(con)  # a new database: everything is loaded
        counts = (
            "SELECT (SELECT count(*) FROM corpus.local_authorities), (SELECT count(*) FROM corpus.themes), "
        )
        counts += "(SELECT count(*) FROM corpus.official_sources)"
        loaded = con.execute(counts).fetchone()
        assert loaded is not None and loaded[0] == 156 and loaded[1] == 20 and loaded[2] >= 1
        assert not refresh_reference(con)  # the same files: nothing to do
        # a release replaced by hand (`reference --load`) or dropped changes what the figures come from
        first = "(SELECT min(dataset) FROM corpus.official_sources)"
        con.execute(f"DELETE FROM corpus.official_sources WHERE dataset = {first}")
        assert refresh_reference(con)
        assert con.execute(counts).fetchone() == loaded
        # a refresh cut short before its fingerprint was stored is done again
        con.execute("UPDATE corpus.ingest_state SET value = '' WHERE key = 'reference'")
        assert refresh_reference(con) and not refresh_reference(con)
    finally:
        con.close()


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("Richmond", "did you mean: Richmond upon Thames?"),
        ("Kingston", "did you mean: Kingston Upon Hull, City of or Kingston upon Thames?"),
        ("Maidenhead", "did you mean: Windsor and Maidenhead?"),
        ("Stoke", "did you mean: Stoke-on-Trent?"),
    ],
)
def test_a_part_of_an_authority_s_name_suggests_the_names_it_is_part_of(
    corpus_db: Path, typed: str, suggested: str
) -> None:
    con = connect(corpus_db, read_only=True)
    try:
        with pytest.raises(UnknownAuthority) as raised:
            resolve_la(con, typed)
    finally:
        con.close()
    assert str(raised.value) == f"no local authority called {typed!r}; {suggested}"


def test_an_authority_without_a_report_points_to_its_statistical_neighbours_with_one(corpus_db: Path) -> None:
    con = connect(corpus_db, read_only=True)
    try:
        with pytest.raises(UnknownAuthority) as raised:
            resolve_la_in_corpus(con, "Camden")
    finally:
        con.close()
    assert str(raised.value) == (
        "Camden is a local authority but has no report in the corpus; its statistical neighbours with a "
        "report: Lewisham; Haringey; Hackney"
    )


def test_the_registry_is_what_its_script_builds_from_the_shared_manifest(tmp_path: Path) -> None:
    """`python -m sendcorpus.seeds.build_registry`: the committed seeds/reports.csv is its output, and a
    publication date the manifest leaves blank (Essex) comes from the list of published reports."""
    from sendcorpus.seeds.build_registry import REGISTRY, build_registry

    built = build_registry(
        shared_dir() / "corpus" / "manifest.csv",
        tmp_path / "reports.csv",
        published=shared_dir() / "reference" / "published_reports.csv",
    )
    assert (tmp_path / "reports.csv").read_bytes() == REGISTRY.read_bytes()
    assert built.filter(pl.col("file") == "essex.pdf")["published"].to_list() == ["2026-05-20"]
    assert built["published"].null_count() == 0
    # the README's command, as a module, its defaults the shared files (written elsewhere, not over the seed)
    command = [sys.executable, "-m", "sendcorpus.seeds.build_registry", "--output", str(tmp_path / "cli.csv")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"wrote 44 reports to {tmp_path / 'cli.csv'}\n"
    assert (tmp_path / "cli.csv").read_bytes() == REGISTRY.read_bytes()
