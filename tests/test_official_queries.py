"""Official figures beside the themes, each checked against an independent computation on the shared
CSVs with Polars (no SQL of the project involved)."""

from __future__ import annotations

import re
import shutil
import statistics
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from sendcorpus.queries.catalog import run_query
from sendcorpus.queries.present import claims_summary, present
from sendcorpus.settings import shared_dir
from sendcorpus.warehouse.db import connect
from sendcorpus.warehouse.load import load_report
from sendcorpus.warehouse.official_stats import load_defaults
from sendcorpus.warehouse.reference import load_local_authorities, seed_local_authorities

from fixtures_corpus import (
    _record,
    build_synthetic_corpus,
    build_synthetic_corpus_with_official_figures,
    open_corpus,
)

REFERENCE = shared_dir() / "reference"
HACKNEY, HACKNEY_ONS = "204", "E09000012"


def _neighbours(la_code: str) -> list[str]:
    seeds = seed_local_authorities()
    return seeds.filter(pl.col("la_code") == la_code)["stat_neighbours"][0].split(";")


def _timeliness() -> pl.DataFrame:
    return (
        pl.read_csv(REFERENCE / "ehcp_timeliness_20_week.csv", infer_schema=False)
        .filter(pl.col("breakdown") == "All EHC plans issued")
        .with_columns(
            pl.col("pc_plans_issued_within_20_weeks").replace("x", None).cast(pl.Float64).alias("pct"),
            pl.col("time_period").cast(pl.Int32).alias("year"),
        )
    )


def _exclusions_by_year() -> pl.DataFrame:
    """Termly rates summed per academic year, joined to DfE codes through the ONS code (and the three
    retired county codes)."""
    seeds = seed_local_authorities()
    codes = dict(seeds.select("ons_code", "la_code").iter_rows())
    codes |= {"E10000002": "825", "E10000023": "815", "E10000027": "933"}
    return (
        pl.read_csv(REFERENCE / "exclusions_by_sen.csv", infer_schema=False)
        .with_columns(
            pl.col("value", "no_sen_value").replace("x", None).cast(pl.Float64),
            pl.col("new_la_code").replace_strict(codes, default=None).alias("la_code"),
        )
        .group_by("la_code", "metric", "time_period", "education_phase", "sen_status")
        .agg(pl.col("value").sum(), pl.col("no_sen_value").sum(), pl.len().alias("terms"))
    )


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_synthetic_corpus_with_official_figures(
        tmp_path_factory.mktemp("official") / "synthetic.duckdb"
    )


@pytest.fixture()
def con(synthetic: Path) -> duckdb.DuckDBPyConnection:
    connection = open_corpus(synthetic)
    yield connection
    connection.close()


def test_hackney_timeliness_beside_region_neighbours_and_england(con: duckdb.DuckDBPyConnection) -> None:
    result = run_query(con, "official-benchmark", {"la": "Hackney"})
    row = result.filter((pl.col("theme") == "ehcp_timeliness") & (pl.col("period") == "2024")).row(
        0, named=True
    )
    published = _timeliness()
    year = published.filter(pl.col("year") == 2024)
    england = year.filter(pl.col("geographic_level") == "National")["pct"][0]
    hackney = year.filter(pl.col("new_la_code") == HACKNEY_ONS)
    london = year.filter(
        (pl.col("geographic_level") == "Regional") & (pl.col("region_code") == hackney["region_code"][0])
    )["pct"][0]
    neighbours = year.filter(pl.col("old_la_code").is_in(_neighbours(HACKNEY)))["pct"].drop_nulls()
    assert (row["area_value"], row["england_value"]) == (40.0, 45.9) == (hackney["pct"][0], england)
    assert row["region_value"] == london == 64.7
    assert row["neighbours_median"] == pytest.approx(neighbours.median())
    assert (row["neighbours_min"], row["neighbours_max"]) == (neighbours.min(), neighbours.max())
    assert (row["neighbours_with_data"], row["neighbours_total"]) == (neighbours.len(), 10)
    ranked = year.filter((pl.col("geographic_level") == "Local authority") & pl.col("pct").is_not_null())
    assert row["england_rank"] == ranked.filter(pl.col("pct") > 40.0).height + 1
    assert row["ranked_of"] == ranked.height
    assert row["period_basis"] == "latest published"
    # the synthetic Hackney report was inspected in March 2025: that calendar year is not published yet
    assert result.filter(pl.col("period") == "2025")["note"].to_list() == ["not published yet"]


def test_hackney_secondary_ehc_plan_exclusions_beside_no_sen_and_neighbours(
    con: duckdb.DuckDBPyConnection,
) -> None:
    result = run_query(con, "official-benchmark", {"la": "Hackney"})
    row = result.filter(
        (pl.col("measure") == "Permanent exclusion rate (per 100 pupils)")
        & (pl.col("pupils") == "EHC plan")
        & (pl.col("phase") == "secondary")
    ).row(0, named=True)
    years = _exclusions_by_year().filter(
        (pl.col("metric") == "perm_excl_rate")
        & (pl.col("education_phase") == "State-funded secondary")
        & (pl.col("sen_status") == "EHC plan")
        & (pl.col("time_period") == "202425")
    )
    own = years.filter(pl.col("la_code") == HACKNEY).row(0, named=True)
    neighbours = years.filter(pl.col("la_code").is_in(_neighbours(HACKNEY)))["value"]
    # inspected March 2025: the inspection's academic year is also the latest published (two terms)
    assert row["period"] == "2024/25 (autumn + spring)"
    assert row["period_basis"] == "inspection year, latest published"
    assert row["area_value"] == pytest.approx(own["value"]) == pytest.approx(0.63)
    assert row["area_no_sen_value"] == pytest.approx(own["no_sen_value"])
    assert row["area_ratio_to_no_sen"] == pytest.approx(own["value"] / own["no_sen_value"])
    assert row["neighbours_median"] == pytest.approx(statistics.median(neighbours.to_list()))
    assert row["england_value"] == pytest.approx(years["value"].median())
    assert row["ranked_of"] == years.height
    assert row["england_rank"] == years.filter(pl.col("value") < own["value"]).height + 1


def test_theme_benchmark_shows_the_official_figures_beside_the_flags(con: duckdb.DuckDBPyConnection) -> None:
    frame = run_query(con, "theme-benchmark", {"la": "Hackney"})
    themes, official = present(con, "theme-benchmark", frame, {"la": "Hackney"})
    assert "⚠<5 Neighbours with a report (2 of 10)" in themes.frame.columns
    assert any("Southwark" in note for note in themes.notes)  # a neighbour without a report
    timeliness = official.frame.row(0, named=True)
    assert (timeliness["Hackney"], timeliness["London"], timeliness["England"]) == ("40.0%", "64.7%", "45.9%")
    assert timeliness["Rank"].endswith(("Q3", "Q4", "Q2", "Q1"))
    secondary = official.frame.filter(pl.col("Figure") == "Perm. excl., EHC plan, secondary").row(
        0, named=True
    )
    assert (secondary["Hackney"], secondary["No-SEN"]) == ("0.63", "0.189")


def test_without_official_statistics_the_outputs_say_so(tmp_path: Path) -> None:
    bare = open_corpus(build_synthetic_corpus(tmp_path / "bare.duckdb"))
    try:
        frame = run_query(bare, "theme-benchmark", {"la": "Hackney"})
        _, official = present(bare, "theme-benchmark", frame, {"la": "Hackney"})
        assert "not loaded" in official.notes[0]
        assert run_query(bare, "claims-vs-stats", {})["quartile"].is_null().all()
    finally:
        bare.close()


def test_national_picture_equals_the_official_figures_when_every_report_is_loaded(tmp_path: Path) -> None:
    """54 invented reports with the official split 14 / 26 / 14 (and one 2025 inspection outside)."""
    path = tmp_path / "complete.duckdb"
    con = connect(path)
    codes = seed_local_authorities()["la_code"].to_list()
    outcomes = ["positive"] * 14 + ["inconsistent"] * 26 + ["systemic_failings"] * 14 + ["positive"]
    for number, outcome in enumerate(outcomes):
        started = date(2023 + number // 28, 1 + number % 12, 2) if number < 54 else date(2025, 2, 3)
        themes = {"recommendation": [["ehcp_quality"]]} if number % 2 else {"weakness": [["therapies"]]}
        record = _record(f"area-{number}.pdf", f"Area {number}", started, outcome, themes, None)
        load_report(con, replace(record, registry_la_code=codes[number]))
    load_local_authorities(con)
    load_defaults(con)
    con.close()
    reader = open_corpus(path)
    try:
        result = run_query(reader, "national-picture", {}).filter(pl.col("period") == "2023-2024")
    finally:
        reader.close()
    counts = dict(result.select("measure", "corpus").iter_rows())
    official = dict(result.select("measure", "official").iter_rows())
    for measure in (
        "full inspections",
        "positive experiences and outcomes",
        "inconsistent experiences and outcomes",
        "widespread and/or systemic failings",
    ):
        assert counts[measure] == official[measure]
    assert counts["full inspections"] == 54
    assert result.filter(pl.col("measure") == "full inspections")["coverage"][0] == 1.0
    assert counts["recommendations name EHC plans (timeliness or quality)"] == 27


def test_national_picture_on_the_shared_corpus(corpus_db: Path) -> None:
    con = open_corpus(corpus_db)
    try:
        result = run_query(con, "national-picture", {}).filter(pl.col("period") == "2023-2024")
        names_ehc_plans = con.execute(
            """
            SELECT count(DISTINCT r.report_id) FROM reports AS r JOIN item_themes AS t USING (report_id)
            WHERE r.inspection_start < DATE '2025-01-01' AND t.section = 'recommendation'
              AND t.theme IN ('ehcp_timeliness', 'ehcp_quality')
            """
        ).fetchone()
    finally:
        con.close()
    pairs = {row["measure"]: (row["corpus"], row["official"]) for row in result.iter_rows(named=True)}
    assert pairs["full inspections"] == (42, 54)
    assert pairs["positive experiences and outcomes"] == (11, 14)
    assert pairs["inconsistent experiences and outcomes"] == (21, 26)
    assert pairs["widespread and/or systemic failings"] == (10, 14)
    assert pairs["recommendations name EHC plans (timeliness or quality)"][0] == names_ehc_plans[0]
    assert result.filter(pl.col("measure") == "full inspections")["coverage"][0] == pytest.approx(42 / 54)
    assert result["source_url"][0].startswith("https://www.gov.uk/government/statistics/")


def test_claims_vs_stats_on_the_shared_corpus(corpus_db: Path) -> None:
    con = open_corpus(corpus_db)
    try:
        claims = run_query(con, "claims-vs-stats", {})
        reports = con.execute(
            "SELECT la_code, local_authority FROM reports WHERE is_latest AND la_code IS NOT NULL"
        ).pl()
    finally:
        con.close()
    timeliness = claims.filter(pl.col("theme") == "ehcp_timeliness")
    assert timeliness.height == reports.height == 45
    published = _timeliness().filter(
        pl.col("geographic_level") == "Local authority", pl.col("pct").is_not_null()
    )
    for row in timeliness.filter(pl.col("quartile").is_not_null()).iter_rows(named=True):
        year = published.filter(pl.col("year") == int(row["period"]))
        code = reports.filter(pl.col("local_authority") == row["local_authority"])["la_code"][0]
        value = year.filter(pl.col("old_la_code") == code)["pct"][0]
        assert row["value"] == value
        assert row["england_rank"] == year.filter(pl.col("pct") > value).height + 1
        assert row["bottom_quartile"] == (row["quartile"] == 4)
    hackney = timeliness.filter(pl.col("local_authority") == "Hackney").row(0, named=True)
    assert hackney["criticised"] and hackney["period"] == "2024" and hackney["value"] == 40.0
    assert hackney["evidence"]
    summary = claims_summary(claims)
    assert summary[0].startswith("ehcp_timeliness: 45 areas")
    # the figure is the last whole year before the inspection (the year of a January inspection is after it)
    latest_year = published["year"].max()
    for row in timeliness.filter(pl.col("period").is_not_null()).iter_rows(named=True):
        expected = min(row["inspection_start"].year - 1, latest_year)  # Essex (2026): 2024, the latest
        assert int(row["period"]) == expected, row["local_authority"]
    nottinghamshire = timeliness.filter(pl.col("local_authority") == "Nottinghamshire").row(0, named=True)
    assert (nottinghamshire["period"], nottinghamshire["quartile"]) == ("2022", 4)  # 4.5 %, 145th
    # a weakness sentence that states timeliness as done well is not a criticism
    plymouth = timeliness.filter(pl.col("local_authority") == "Plymouth").row(0, named=True)
    assert not plymouth["criticised"]
    # exclusions: the measure the criticism names; a London borough without figures before 2023/24 takes
    # the year under way at its inspection, labelled so
    exclusions = claims.filter(pl.col("theme") == "exclusions_suspensions")
    by_area = {row["local_authority"]: row for row in exclusions.iter_rows(named=True)}
    assert by_area["Hackney"]["figure"] == "Permanent exclusions per 100 pupils with an EHC plan, secondary"
    assert by_area["Middlesbrough"]["figure"] == "Suspensions per 100 pupils with SEN support, secondary"
    assert by_area["Barking and Dagenham"]["period"] == "2023/24 (under way at the inspection)"
    assert by_area["Derbyshire"]["period"] == "2023/24"  # inspected in September 2024
    assert by_area["Enfield"]["agreement"] == "no figure"  # inspected in 2023: nothing published before
    # ranked among 119 authorities: the file has no London rows before 2023/24, and the output says so
    brighton = by_area["Brighton and Hove"]
    assert (brighton["period"], brighton["ranked_of"], brighton["regions_without_figures"]) == (
        "2021/22",
        119,
        "London",
    )
    assert by_area["Hackney"]["regions_without_figures"] is None  # 2024/25: all 33 boroughs
    assert timeliness["regions_without_figures"].is_null().all()
    assert summary[-1] == (
        "Ranks for exclusions_suspensions in 2021/22, 2022/23 are among the authorities with figures: the "
        'loaded file has none for London, so "in England" there means England without it.'
    )


def test_a_partial_report_is_not_judged_uncriticised(corpus_db: Path, tmp_path: Path) -> None:
    """Its criticism may be in the pages it lost: 'cannot tell', and left out of the summary's counts."""
    change = (
        "UPDATE corpus.reports SET completeness = 'partial: no areas for improvement' "
        "WHERE file = 'cornwall.pdf'"
    )
    claims = _claims_after(change, "ehcp_timeliness", corpus_db, tmp_path)
    cornwall = claims.filter(pl.col("local_authority") == "Cornwall").row(0, named=True)
    assert (cornwall["criticised"], cornwall["bottom_quartile"]) == (False, True)
    assert cornwall["agreement"] == "cannot tell: partial report"
    [line] = claims_summary(claims)
    assert line.startswith("ehcp_timeliness: 44 areas, 44 with a figure; criticised in 19")
    assert "10 areas are in England's bottom quartile" in line and line.endswith(
        " 1 partial reports left out."
    )


def test_the_readme_s_numbers_are_what_the_queries_give(corpus_db: Path) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    paragraph = " ".join(
        readme.split("On the shared corpus (45 reports): `national-picture`")[1].split("\n\n")[0].split()
    )
    con = open_corpus(corpus_db)
    try:
        picture = run_query(con, "national-picture", {}).filter(pl.col("period") == "2023-2024")
        claims = run_query(con, "claims-vs-stats", {})
    finally:
        con.close()
    named = picture.filter(pl.col("measure").str.starts_with("recommendations name EHC plans")).row(
        0, named=True
    )
    assert f"{named['corpus']} of the 42 ({round(100 * named['corpus'] / 42)} %)" in paragraph
    numbers = {}
    for line in claims_summary(claims)[:2]:  # one line per theme, then notes
        theme = line.split(":")[0]
        criticised, both, bottom = re.search(
            r"criticised in (\d+), of which (\d+) .* (\d+) areas are in England's bottom quartile", line
        ).groups()
        numbers[theme] = (int(criticised), int(both), int(bottom))
    criticised, both, bottom = numbers["ehcp_timeliness"]
    assert f"of the {criticised} areas whose latest report criticises timeliness, {both} (" in paragraph
    assert f"of the {bottom} bottom-quartile areas, {both} are criticised" in paragraph
    criticised, both, bottom = numbers["exclusions_suspensions"]
    assert f"For exclusions: {criticised} criticised, {both} (" in paragraph
    assert f"{bottom} bottom-quartile areas, {both} criticised" in paragraph


def test_primary_care_in_an_exclusions_criticism_is_not_the_primary_phase(
    corpus_db: Path, tmp_path: Path
) -> None:
    change = (
        "UPDATE corpus.item_themes SET evidence = evidence || ' Primary care and primary health teams "
        "are not told.' WHERE theme = 'exclusions_suspensions' AND report_id IN "
        "(SELECT report_id FROM corpus.reports WHERE file = 'hackney-area-send-inspection-2025.txt')"
    )
    claims = _claims_after(change, "exclusions_suspensions", corpus_db, tmp_path)
    hackney = claims.filter(pl.col("local_authority") == "Hackney").row(0, named=True)
    assert hackney["figure"] == "Permanent exclusions per 100 pupils with an EHC plan, secondary"


def _claims_after(change: str, theme: str, corpus_db: Path, tmp_path: Path) -> pl.DataFrame:
    """claims-vs-stats for one theme on a copy of the corpus that `change` (SQL) has altered."""
    db = tmp_path / "changed.duckdb"
    shutil.copy(corpus_db, db)
    writer = duckdb.connect(str(db))
    writer.execute(change)
    writer.close()
    con = open_corpus(db)
    try:
        return run_query(con, "claims-vs-stats", {"theme": theme})
    finally:
        con.close()
