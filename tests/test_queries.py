"""The named queries on a small synthetic corpus, checked against independent Polars computations."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from sendcorpus.queries.catalog import QueryError, list_queries, run_query
from sendcorpus.queries.export import ExportError, export
from sendcorpus.warehouse.reference import UnknownAuthority, seed_local_authorities

from fixtures_corpus import REPORTS, build_synthetic_corpus, open_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_synthetic_corpus(tmp_path_factory.mktemp("queries") / "synthetic.duckdb")


@pytest.fixture()
def con(corpus: Path) -> duckdb.DuckDBPyConnection:
    connection = open_corpus(corpus)
    yield connection
    connection.close()


def test_every_query_file_has_a_header() -> None:
    queries = {info.name: info for info in list_queries()}
    assert set(queries) == {
        "theme-benchmark",
        "outcomes",
        "theme-prevalence",
        "area-profile",
        "evidence",
        "similar-areas",
        "search",
        "official-benchmark",
        "claims-vs-stats",
        "national-picture",
    }
    assert queries["theme-benchmark"].parameters == ["--la NAME", "[--include-partial]"]
    assert queries["evidence"].parameters == [
        "--theme ID",
        "[--la NAME]",
        "[--region NAME]",
        "[--all-reports]",
    ]
    assert all(info.description for info in queries.values())


def test_hackney_is_matched_by_the_name_in_its_report(con: duckdb.DuckDBPyConnection) -> None:
    areas = con.execute(
        "SELECT la_code, matched_by, is_latest FROM report_areas WHERE local_authority = 'Hackney' ORDER BY 3"
    ).fetchall()
    assert areas == [("204", "name", False), ("204", "name", True)]


def _independent_benchmark(corpus: Path, la_code: str) -> pl.DataFrame:
    """The benchmark recomputed in Polars from the raw tables, without the query's SQL."""
    con = duckdb.connect(str(corpus), read_only=True)
    tables = {
        name: con.execute(f"SELECT * FROM corpus.{name}").pl() for name in ("reports", "facts", "item_themes")
    }
    con.close()
    seeds = seed_local_authorities()
    code_of_name = {"London Borough of Hackney": "204", "Hackney": "204"}
    reports = (
        tables["reports"]
        .join(tables["facts"], on="report_id")
        .with_columns(
            la_code=pl.coalesce(
                "registry_la_code", pl.col("local_authority").replace_strict(code_of_name, default=None)
            )
        )
        .sort("inspection_start", descending=True)
        .unique("la_code", keep="first")
        .join(seeds.select("la_code", "region"), on="la_code")
    )
    area = seeds.filter(pl.col("la_code") == la_code).row(0, named=True)
    neighbours = area["stat_neighbours"].split(";")
    groups = {
        "region": reports.filter((pl.col("region") == area["region"]) & (pl.col("la_code") != la_code)),
        "neighbours": reports.filter(pl.col("la_code").is_in(neighbours)),
        "corpus": reports,
    }
    raised = tables["item_themes"].filter(pl.col("section").is_in(["weakness", "recommendation"]))
    rows = {}
    for group, members in groups.items():
        counts = raised.filter(pl.col("report_id").is_in(members["report_id"].implode()))
        counts = counts.group_by("theme").agg(pl.col("report_id").n_unique().alias("n"))
        rows[group] = (dict(counts.iter_rows()), members.height)
    return rows


def test_theme_benchmark_for_hackney_matches_an_independent_count(
    con: duckdb.DuckDBPyConnection, corpus: Path
) -> None:
    result = run_query(con, "theme-benchmark", {"la": "Hackney"})
    assert result.height == 20
    assert result["theme"][0] == "ehcp_timeliness"
    expected = _independent_benchmark(corpus, "204")
    for row in result.iter_rows(named=True):
        for group, (counts, size) in expected.items():
            assert row[f"{group}_size"] == size
            assert row[f"{group}_reports"] == counts.get(row["theme"], 0), (row["theme"], group)
            assert row[f"{group}_share"] == pytest.approx(counts.get(row["theme"], 0) / size)
    # sizes: London minus Hackney = 4; neighbours with a report = Haringey, Lewisham; corpus = 7 areas
    assert (result["region_size"][0], result["neighbours_size"][0], result["corpus_size"][0]) == (4, 2, 7)
    assert (result["corpus_areas"][0], result["england_areas"][0]) == (7, 153)
    assert result["region_small"][0] and result["neighbours_small"][0] and not result["corpus_small"][0]
    z = 1.959964
    for row in result.iter_rows(named=True):
        k, n = row["corpus_reports"], row["corpus_size"]
        p, spread = k / n, z * (k / n * (1 - k / n) / n + z * z / (4 * n * n)) ** 0.5
        low, high = (
            (p + z * z / (2 * n) - spread) / (1 + z * z / n),
            (p + z * z / (2 * n) + spread) / (1 + z * z / n),
        )
        assert (row["corpus_share_low"], row["corpus_share_high"]) == pytest.approx(
            (max(low, 0), min(high, 1))
        )
    flags = result.filter(pl.col("theme") == "ehcp_timeliness").row(0, named=True)
    assert flags["area_weakness"] and flags["area_recommendation"] and not flags["area_strength"]
    # the superseded 2016 report raised therapies; the latest does not
    assert not result.filter(pl.col("theme") == "therapies")["area_weakness"][0]


def test_outcomes_cover_england_and_regions(con: duckdb.DuckDBPyConnection) -> None:
    result = run_query(con, "outcomes", {})
    england = result.filter(pl.col("group") == "All reports in corpus")
    assert england["reports"].sum() == 7
    assert england["share"].sum() == pytest.approx(1.0)
    london = result.filter(pl.col("group") == "London")
    assert dict(london.select("outcome", "reports").iter_rows()) == {
        "positive": 2,
        "inconsistent": 2,
        "systemic_failings": 1,
    }
    everything = run_query(con, "outcomes", {"all_reports": "true"})
    assert everything.filter(pl.col("group") == "All reports in corpus")["reports"].sum() == len(REPORTS)


def test_theme_prevalence_shares(con: duckdb.DuckDBPyConnection) -> None:
    result = run_query(con, "theme-prevalence", {})
    timeliness = result.filter(pl.col("theme") == "ehcp_timeliness")
    shares = {
        row["outcome"]: (row["reports"], row["outcome_reports"]) for row in timeliness.iter_rows(named=True)
    }
    # weakness or recommendation: Hackney, Haringey, Greenwich, Bury, Cornwall
    assert shares["all"] == (5, 7)
    assert shares["positive"] == (1, 2)
    assert shares["systemic_failings"] == (2, 2)


def test_area_profile_and_evidence(con: duckdb.DuckDBPyConnection) -> None:
    profile = run_query(con, "area-profile", {"la": "london borough of hackney"})
    assert set(profile["la_code"]) == {"204"}
    assert set(profile["outcome"]) == {"systemic_failings"}
    weakness = profile.filter(pl.col("section") == "weakness")
    assert set(weakness["theme"]) == {
        "ehcp_timeliness",
        "ehcp_quality",
        "neurodevelopmental",
        "coproduction_voice",
    }

    evidence = run_query(con, "evidence", {"theme": "ehcp_timeliness", "region": "london"})
    assert set(evidence["local_authority"]) == {"Hackney", "Haringey", "Lewisham", "Greenwich", "Enfield"}
    assert evidence.filter(pl.col("file") == "haringey.pdf")["source_url"][0].startswith("https://")
    assert evidence["page"].is_not_null().all()
    assert "stance" in evidence.columns  # synthetic rows carry none
    only_hackney = run_query(con, "evidence", {"theme": "therapies", "la": "Hackney"})
    assert only_hackney.is_empty()
    with_old = run_query(con, "evidence", {"theme": "therapies", "la": "Hackney", "all_reports": "true"})
    assert with_old["file"].to_list() == ["hackney-2016.txt"]


def test_similar_areas_rank_by_jaccard(con: duckdb.DuckDBPyConnection) -> None:
    result = run_query(con, "similar-areas", {"la": "Hackney"})
    top = result.row(0, named=True)
    assert top["local_authority"] == "Bury"
    assert top["jaccard"] == pytest.approx(1.0)
    assert top["shared_themes"] == [
        "coproduction_voice",
        "ehcp_quality",
        "ehcp_timeliness",
        "neurodevelopmental",
    ]
    haringey = result.filter(pl.col("local_authority") == "Haringey").row(0, named=True)
    assert haringey["jaccard"] == pytest.approx(2 / 5)
    assert "Hackney" not in result["local_authority"].to_list()


def test_search_ranks_matching_items(con: duckdb.DuckDBPyConnection) -> None:
    result = run_query(con, "search", {"text": "plans issued late"})
    assert result.height > 0
    assert result["text"].str.contains("issued late").all()
    assert result["score"].is_sorted(descending=True)


@pytest.mark.parametrize(
    ("name", "params", "error", "message"),
    [
        ("theme-benchmark", {"la": "Hackny"}, UnknownAuthority, "did you mean: Hackney"),
        (
            "theme-benchmark",
            {"la": "Hackney'; DROP TABLE reports; --"},
            UnknownAuthority,
            "no local authority",
        ),
        ("theme-benchmark", {"la": "Southwark"}, UnknownAuthority, "has no report in the corpus"),
        ("theme-benchmark", {}, QueryError, "needs --la"),
        ("outcomes", {"la": "Hackney"}, QueryError, "does not take --la"),
        ("evidence", {"theme": "ehcp"}, QueryError, "no theme called 'ehcp'"),
        ("evidence", {"theme": "ehcp_quality", "region": "Londn"}, QueryError, "no region called"),
        ("benchmark", {}, QueryError, "did you mean: theme-benchmark"),
    ],
)
def test_bad_requests_fail_with_one_line(
    con: duckdb.DuckDBPyConnection, name: str, params: dict[str, str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as caught:
        run_query(con, name, params)
    assert "\n" not in str(caught.value)
    assert con.execute("SELECT count(*) FROM reports").fetchone() == (len(REPORTS),)


def test_exports_round_trip(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    frame = run_query(con, "similar-areas", {"la": "Hackney"})
    for fmt in ("csv", "json", "parquet", "xlsx", "md", "html"):
        assert export(frame, fmt, tmp_path / f"out.{fmt}") is None
    assert pl.read_parquet(tmp_path / "out.parquet").equals(frame)
    assert (
        pl.read_csv(tmp_path / "out.csv")["local_authority"].to_list() == frame["local_authority"].to_list()
    )
    assert pl.read_json(tmp_path / "out.json").height == frame.height
    assert pl.read_excel(tmp_path / "out.xlsx", engine="openpyxl").height == frame.height
    assert export(frame, "table", None).count("Bury") == 1
    assert export(frame, "md", None).splitlines()[1].startswith("| ---")
    with pytest.raises(ExportError, match="binary format"):
        export(frame, "parquet", None)


def test_theme_benchmark_on_the_real_corpus_matches_an_independent_count(corpus_db: Path) -> None:
    con = open_corpus(corpus_db)
    try:
        result = run_query(con, "theme-benchmark", {"la": "Hackney"})
    finally:
        con.close()
    expected = _independent_benchmark(corpus_db, "204")
    for row in result.iter_rows(named=True):
        for group, (counts, size) in expected.items():
            assert (row[f"{group}_reports"], row[f"{group}_size"]) == (counts.get(row["theme"], 0), size)
    assert (result["region_size"][0], result["corpus_size"][0]) == (7, 45)  # London without Hackney
    flags = {row["theme"]: row for row in result.iter_rows(named=True)}
    for theme in ("exclusions_suspensions", "ehcp_timeliness"):
        assert flags[theme]["area_weakness"] and flags[theme]["area_recommendation"]


def test_one_inspection_in_two_files_counts_once_and_the_complete_file_stands_for_it(tmp_path: Path) -> None:
    """A cut or re-encoded copy of a report is other bytes, so another report: `--all-reports` counted the
    inspection twice, and the copy loaded last became the latest."""
    from dataclasses import replace

    from sendcorpus.warehouse.db import connect
    from sendcorpus.warehouse.load import load_report

    from fixtures_corpus import _record

    db = build_synthetic_corpus(tmp_path / "copies.duckdb")
    name, started, outcome, sections = REPORTS["haringey.pdf"]
    original = _record("haringey.pdf", name, started, outcome, sections, None)
    cut = replace(original, report_id="c" * 16, file="haringey-cut.pdf", sha256="c" * 64)
    cut.completeness, cut.published = "partial: pages 5-12 missing", started.replace(day=30)
    copy = replace(original, report_id="d" * 16, file="haringey-utf16.txt", sha256="d" * 64, published=None)
    writer = connect(db)
    try:
        load_report(writer, cut)  # loaded after the original, and published later: still not the latest
        load_report(writer, copy)
    finally:
        writer.close()
    con = open_corpus(db)
    try:
        areas = con.execute(
            "SELECT r.file, a.is_latest, a.is_copy FROM report_areas AS a "
            "JOIN reports AS r USING (report_id) WHERE r.file LIKE 'haringey%' ORDER BY r.file"
        ).fetchall()
        assert areas == [
            ("haringey-cut.pdf", False, True),
            ("haringey-utf16.txt", False, True),
            ("haringey.pdf", True, False),
        ]
        every = run_query(con, "outcomes", {"all_reports": "true"})
        latest = run_query(con, "outcomes", {})
        england = pl.col("group") == "All reports in corpus"
        # the only superseded inspection in the synthetic corpus is Hackney's 2016 one
        assert every.filter(england)["reports"].sum() == latest.filter(england)["reports"].sum() + 1
        evidence = run_query(
            con, "evidence", {"theme": "ehcp_timeliness", "region": "London", "all_reports": "true"}
        )
        assert not evidence.filter(pl.col("file").str.starts_with("haringey-")).height
    finally:
        con.close()


def test_an_area_and_another_region_together_are_refused_rather_than_matching_nothing(
    con: duckdb.DuckDBPyConnection,
) -> None:
    with pytest.raises(QueryError, match=r"^Bury is in North West, not London: give --la or --region"):
        run_query(con, "evidence", {"theme": "ehcp_timeliness", "la": "Bury", "region": "london"})
    own = run_query(con, "evidence", {"theme": "ehcp_timeliness", "la": "Hackney", "region": "London"})
    assert set(own["la_code"]) == {"204"}
