"""Local authority reference data: the seeds, name matching in Python and SQL, and lookups."""

from __future__ import annotations

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
    resolve_la,
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
