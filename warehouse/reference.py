"""Reference data in the warehouse: local authorities and their names, the theme taxonomy, the search index.

Report names are matched to authorities by a *name key*: `name_key` here and the SQL macro
`corpus.name_key` in migration 003 apply the same steps, so keys stored from Python match keys
computed in SQL; tests/test_reference.py holds them to that.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import shlex
import unicodedata
from collections.abc import Callable
from importlib import resources

import duckdb
import polars as pl

from sendcorpus.warehouse.db import applied_migrations, insert_frame, load_fts, release_memory, transaction
from sendcorpus.warehouse.load import get_state, set_state
from sendcorpus.warehouse.official_stats import (
    DATASETS,
    default_folder,
    load_defaults,
    refresh_derived_figures,
)

SEEDS = resources.files("sendcorpus.seeds")
THEMES = resources.files("sendcorpus.extract") / "patterns" / "themes.yaml"

# Words that tell what kind of council it is, not which one: "London Borough of", "City of", "Council"...
_COUNCIL_WORDS = re.compile(
    r"\b(london borough of|royal borough of|metropolitan borough of|borough of|city of|county of"
    r"|council|borough|city|county|metropolitan|royal|the)\b"
)


class UnknownAuthority(Exception):
    """A name or code that is not an English local authority (or has no report, when one is required)."""


def name_key(name: str) -> str:
    """The comparable core of an authority's name: 'London Borough of Hackney' → 'hackney',
    'Bristol, City of' → 'bristol', 'Telford & Wrekin' → 'telford and wrekin', 'St. Helens' → 'st helens'."""
    text = unicodedata.normalize("NFKD", name.lower())
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = re.sub(r"[^a-z0-9]+", " ", text.replace("&", " and "))
    text = _COUNCIL_WORDS.sub("", f" {text} ")
    return re.sub(r"\s+", " ", text).strip()


def seed_local_authorities() -> pl.DataFrame:
    """The packaged `seeds/local_authorities.csv`."""
    with (SEEDS / "local_authorities.csv").open("rb") as handle:
        return pl.read_csv(handle, infer_schema=False)


def load_local_authorities(con: duckdb.DuckDBPyConnection) -> int:
    """Replace the reference rows from the packaged seeds in one transaction; returns how many authorities."""
    seeds = seed_local_authorities()
    authorities = seeds.select(
        "la_code",
        "ons_code",
        "name",
        "region",
        pl.col("stat_neighbours")
        .fill_null("")
        .str.split(";")
        .list.eval(pl.element().filter(pl.element() != "")),
    )
    aliases = (
        seeds.select(
            "la_code", spelling=pl.concat_list("name", pl.col("aliases").fill_null("").str.split(";"))
        )
        .explode("spelling")
        .filter(pl.col("spelling") != "")
        .with_columns(alias_key=pl.col("spelling").map_elements(name_key, return_dtype=pl.String))
        .unique(["alias_key", "la_code"])
        .select("alias_key", "la_code")
    )
    # the official figures' derived tables join the authorities: rebuilt in the same transaction
    _replace(con, {"local_authorities": authorities, "la_aliases": aliases}, then=refresh_derived_figures)
    return authorities.height


def load_themes(con: duckdb.DuckDBPyConnection) -> int:
    """Replace `corpus.themes` from the packaged taxonomy (extract/patterns/themes.yaml)."""
    import yaml  # only when loading: read commands import this module

    taxonomy = yaml.safe_load(THEMES.read_text(encoding="utf-8"))
    themes = pl.DataFrame(
        [
            {"theme": theme["id"], "label": theme["label"], "ord": position}
            for position, theme in enumerate(taxonomy["themes"], start=1)
        ],
        schema={"theme": pl.String, "label": pl.String, "ord": pl.Int32},
    )
    _replace(con, {"themes": themes})
    return themes.height


def refresh_reference(con: duckdb.DuckDBPyConnection) -> bool:
    """Load the local authorities, the taxonomy and the default official figures, unless they were last
    loaded from exactly these files; True when it loaded them. The fingerprint is stored last, so a load
    cut short is done again by the next ingest."""
    if get_state(con, "reference") == reference_fingerprint(con):
        return False
    load_local_authorities(con)
    load_defaults(con)
    load_themes(con)
    set_state(con, "reference", reference_fingerprint(con))  # of what is loaded now
    return True


def reference_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """The packaged seeds' bytes, each default official file's size and mtime, what official figures the
    database holds (a release loaded by hand) and the schema's migrations."""
    digest = hashlib.sha256()
    for resource in (SEEDS / "local_authorities.csv", SEEDS / "official_inspection_outcomes.csv", THEMES):
        digest.update(hashlib.sha256(resource.read_bytes()).digest())
    folder = default_folder()
    for dataset in DATASETS:
        path = folder / dataset.default_file
        stat = path.stat() if path.is_file() else None
        digest.update(repr((str(path), stat and (stat.st_size, stat.st_mtime_ns))).encode())
    loaded = con.execute("SELECT dataset, release, file, rows FROM corpus.official_sources ORDER BY ALL")
    digest.update(repr((loaded.fetchall(), sorted(applied_migrations(con)))).encode())
    return digest.hexdigest()


def build_search_index(con: duckdb.DuckDBPyConnection) -> int:
    """Rebuild the BM25 index over every item's text (read-only readers cannot build it themselves).

    The `search_index` state is 'building' until the index is complete, so a build that fails
    (a full disk, a kill) is seen by the next ingest's plan and done again."""
    release_memory()  # what the last chunk's load left
    load_fts(con)
    # one thread: each of DuckDB's threads holds its own hash tables while the index is built, and the
    # build is the run's memory peak (0.27 GiB above the flow's baseline at 2,000 reports, two threads)
    con.execute("SET threads = 1")
    with transaction(con):
        set_state(con, "search_index", "building")
        con.execute("DELETE FROM corpus.search_items")
        con.execute(
            """
            INSERT INTO corpus.search_items
            SELECT report_id || ':' || section || ':' || item_no, report_id, section, item_no, page, text
            FROM corpus.items
            """
        )
    con.execute(
        "PRAGMA create_fts_index('corpus.search_items', 'item_key', 'text', stemmer = 'english', "
        "stopwords = 'english', overwrite = 1)"
    )
    with transaction(con):  # in term order: see migration 011
        con.execute("DELETE FROM corpus.search_postings")
        con.execute(
            """
            INSERT INTO corpus.search_postings
            SELECT termid, docid, count(*) FROM fts_corpus_search_items.terms
            GROUP BY termid, docid ORDER BY termid, docid
            """
        )
    set_state(con, "search_index", "ok")
    row = con.execute("SELECT count(*) FROM corpus.search_items").fetchone()
    return int(row[0]) if row else 0


def resolve_la(con: duckdb.DuckDBPyConnection, name_or_code: str) -> tuple[str, str]:
    """(la_code, official name) for a name in any common spelling, a 3-digit DfE code or an ONS code."""
    wanted = name_or_code.strip()
    _refuse_a_region(con, wanted)
    found = con.execute(
        """
        SELECT la.la_code, la.name
        FROM corpus.local_authorities AS la
        WHERE la.la_code = $wanted OR upper(la.ons_code) = upper($wanted)
           OR la.la_code IN (SELECT la_code FROM corpus.la_aliases WHERE alias_key = $key)
        """,
        {"wanted": wanted, "key": name_key(wanted)},
    ).fetchall()
    if len(found) == 1:
        return found[0][0], found[0][1]
    names = _spellings(con)
    if not names:
        raise UnknownAuthority(
            "the database has no local authority reference data: run `sendcorpus ingest` to load it"
        )
    close = _close_matches(wanted, names)
    hint = (
        f"; did you mean: {' or '.join(close)}?"
        if close
        else " (give a name such as 'Hackney' or a DfE code)"
    )
    raise UnknownAuthority(f"no local authority called {wanted!r}{hint}")


def _refuse_a_region(con: duckdb.DuckDBPyConnection, wanted: str) -> None:
    """'London' would otherwise match the City of London, whose name keys to 'london'."""
    region = con.execute(
        "SELECT any_value(region) FROM corpus.local_authorities WHERE lower(region) = lower($wanted)",
        {"wanted": " ".join(wanted.split())},
    ).fetchone()
    if region and region[0]:
        city = " (the City of London is 'City of London')" if region[0] == "London" else ""
        raise UnknownAuthority(
            f"{region[0]} is a region, not a local authority: name one of its authorities{city}, or give "
            f"--region {shlex.quote(region[0])} to a query that takes it"
        )


def resolve_la_in_corpus(con: duckdb.DuckDBPyConnection, name_or_code: str) -> tuple[str, str]:
    """Like `resolve_la`, but the authority must have a report in the corpus."""
    la_code, name = resolve_la(con, name_or_code)
    has_report = con.execute("SELECT count(*) FROM report_areas WHERE la_code = ?", [la_code]).fetchone()
    if not has_report or not has_report[0]:
        # the areas most like it that have one: its statistical neighbours, nearest first
        neighbours = [
            row[0]
            for row in con.execute(
                """
                SELECT la.name
                FROM (
                    SELECT unnest(stat_neighbours) AS code, generate_subscripts(stat_neighbours, 1) AS rank
                    FROM corpus.local_authorities WHERE la_code = ?
                ) AS n
                JOIN corpus.local_authorities AS la ON la.la_code = n.code
                WHERE n.code IN (SELECT la_code FROM report_areas)
                ORDER BY n.rank
                """,
                [la_code],
            ).fetchall()
        ]
        hint = f"; its statistical neighbours with a report: {'; '.join(neighbours)}" if neighbours else ""
        raise UnknownAuthority(f"{name} is a local authority but has no report in the corpus{hint}")
    return la_code, name


def _spellings(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """name key → official name, for every spelling the reference knows."""
    rows = con.execute(
        """
        SELECT a.alias_key, la.name
        FROM corpus.la_aliases AS a JOIN corpus.local_authorities AS la USING (la_code)
        """
    ).fetchall()
    return dict(rows)


def _close_matches(wanted: str, spellings: dict[str, str]) -> list[str]:
    wanted_key = name_key(wanted) or wanted.lower()
    # first the names the words are part of ("Richmond" → Richmond upon Thames, "Maidenhead" → Windsor
    # and Maidenhead), then the names spelt nearly alike
    keys = sorted(key for key in spellings if wanted_key and f" {wanted_key} " in f" {key} ")
    keys += difflib.get_close_matches(wanted_key, list(spellings), n=6, cutoff=0.75)
    # a known name followed by stray words ("Hackney please") is most likely that authority
    keys += sorted(key for key in spellings if key and wanted_key.startswith(f"{key} "))
    names: list[str] = []
    for key in keys:
        if spellings[key] not in names:
            names.append(spellings[key])
    return names[:3]


def _replace(
    con: duckdb.DuckDBPyConnection,
    frames: dict[str, pl.DataFrame],
    then: Callable[[duckdb.DuckDBPyConnection], object] | None = None,
) -> None:
    with transaction(con):
        for table, frame in frames.items():
            con.execute(f"DELETE FROM corpus.{table}")
            insert_frame(con, f"corpus.{table}", frame)
        if then is not None:
            then(con)
