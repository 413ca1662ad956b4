"""Official statistics as reference tables: DfE EHC plan timeliness (SEN2), DfE suspensions and permanent
exclusions by SEN status, the ONS 0-25 population, and Ofsted's published inspection outcomes.

Each CSV is read as it is published (a newer download loads the same way): headers in any case,
suppression symbols such as `x` become NULL (never 0), and anything else that is not a number is refused
with the file and column named. The file's kind is told by its columns, so `sendcorpus reference --load`
takes any of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

import duckdb
import polars as pl

from sendcorpus import settings
from sendcorpus.warehouse.db import insert_frame, query_frame, transaction

SEEDS = resources.files("sendcorpus.seeds")
# What the published files write instead of a number: suppressed, confidential, not applicable, ...
SUPPRESSED = {"x", "c", "z", "u", "low", ":", "..", ""}


# The tables migration 012 keeps of the figures derived from the official statistics and the local
# authorities, each filled from the view that computes it (the public views read the tables).
DERIVED_TABLES = {
    "corpus.ehcp_timeliness_figures": "corpus.ehcp_timeliness_ranked",
    "corpus.exclusion_rates_by_year_figures": "corpus.exclusion_rates_by_year_ranked",
}


class OfficialStatsError(Exception):
    """A file that cannot be loaded as the dataset it claims to be; the message is one line."""


@dataclass(frozen=True)
class Dataset:
    name: str
    table: str
    default_file: str
    text_columns: tuple[str, ...]
    number_columns: tuple[str, ...]
    integer_columns: tuple[str, ...] = ()
    area_column: str = "new_la_code"  # the local authority of a row, in the file and the table


TIMELINESS = Dataset(
    name="ehcp_timeliness",
    table="ehcp_timeliness_published",
    default_file="ehcp_timeliness_20_week.csv",
    text_columns=(
        "time_identifier",
        "geographic_level",
        "country_code",
        "region_code",
        "region_name",
        "new_la_code",
        "old_la_code",
        "la_name",
        "breakdown_topic",
        "breakdown",
    ),
    number_columns=("pc_plans_issued_within_20_weeks", "pc_plans_issued_20_weeks_ex"),
    integer_columns=(
        "time_period",
        "plans_issued_den",
        "plans_issued_den_ex",
        "plans_issued_within_20_weeks",
        "plans_issued_20_weeks_ex",
    ),
)
EXCLUSIONS = Dataset(
    name="exclusions_by_sen",
    table="exclusions_by_sen",
    default_file="exclusions_by_sen.csv",
    text_columns=(
        "new_la_code",
        "la_name",
        "region_name",
        "metric",
        "metric_label",
        "time_identifier",
        "education_phase",
        "sen_status",
    ),
    number_columns=("value", "no_sen_value"),
    integer_columns=("time_period",),
)
POPULATION = Dataset(
    name="la_population",
    table="la_population",
    default_file="local_authorities.csv",
    text_columns=("la_code", "la_code_new"),
    number_columns=(),
    integer_columns=("ons_population_0-25",),
    area_column="la_code",
)
DATASETS = (TIMELINESS, EXCLUSIONS, POPULATION)
# a column only that dataset has, to tell a file's kind
_SIGNATURES = {
    "pc_plans_issued_within_20_weeks": TIMELINESS,
    "no_sen_value": EXCLUSIONS,
    "ons_population_0-25": POPULATION,
}


@dataclass(frozen=True)
class Loaded:
    dataset: str
    file: str
    release: str
    rows: int


def default_folder() -> Path:
    return settings.shared_dir() / "reference"


def read_published(path: Path) -> tuple[Dataset, pl.DataFrame]:
    """The file's dataset and its rows with typed columns (suppressed values as NULL)."""
    if not path.is_file():
        raise OfficialStatsError(f"no such file: {path}")
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, OSError) as error:
        raise OfficialStatsError(f"{path} is not a readable CSV file ({_first_line(error)})") from None
    raw = raw.rename({name: name.strip().lstrip("\ufeff").lower() for name in raw.columns})
    dataset = next((kind for column, kind in _SIGNATURES.items() if column in raw.columns), None)
    if dataset is None:
        raise OfficialStatsError(
            f"{path} is not a file sendcorpus knows: expected the DfE EHC plan timeliness (SEN2) CSV, the "
            "exclusions by SEN status CSV or local_authorities.csv"
        )
    wanted = (*dataset.text_columns, *dataset.number_columns, *dataset.integer_columns)
    missing = [column for column in wanted if column not in raw.columns]
    if missing:
        raise OfficialStatsError(f"{path} looks like {dataset.name} but lacks columns: {', '.join(missing)}")
    typed = raw.select(
        *[pl.col(column).str.strip_chars() for column in dataset.text_columns],
        *[_number(raw, path, column, pl.Float64) for column in dataset.number_columns],
        *[_number(raw, path, column, pl.Int64) for column in dataset.integer_columns],
    )
    if typed.is_empty():
        raise OfficialStatsError(f"{path} has no rows")
    return dataset, typed


def check_replacement(
    con: duckdb.DuckDBPyConnection, path: Path, dataset: Dataset, frame: pl.DataFrame
) -> None:
    """Refuse a file (as `read_published` read it) that covers fewer local authorities than the rows it
    would replace: a file of one authority's rows would otherwise replace all England's without a word."""
    column = dataset.area_column
    row = con.execute(f"SELECT count(DISTINCT {column}) FROM corpus.{dataset.table}").fetchone()
    loaded = int(row[0]) if row else 0
    covered = _table_rows(dataset, frame)[column].drop_nulls().n_unique()
    if covered < loaded:
        areas = "local authority" if covered == 1 else "local authorities"
        raise OfficialStatsError(
            f"{path} covers {covered} {areas} where the {dataset.name} loaded now covers {loaded}: "
            "a newer release covers them all (--allow-fewer-areas loads it anyway)"
        )


def load_file(con: duckdb.DuckDBPyConnection, path: Path) -> Loaded:
    """Replace one dataset's rows with the file's, in one transaction."""
    dataset, frame = read_published(path)
    table = _table_rows(dataset, frame)
    release = _release(dataset, frame)
    with transaction(con):
        con.execute(f"DELETE FROM corpus.{dataset.table}")
        insert_frame(con, f"corpus.{dataset.table}", table)
        con.execute("DELETE FROM corpus.official_sources WHERE dataset = ?", [dataset.name])
        con.execute(
            "INSERT INTO corpus.official_sources VALUES (?, ?, ?, ?, ?, ?)",
            [dataset.name, str(path.resolve()), release, table.height, _sha256(path), datetime.now()],
        )
        refresh_derived_figures(con)
    return Loaded(dataset.name, str(path), release, table.height)


def load_defaults(con: duckdb.DuckDBPyConnection, folder: Path | None = None) -> list[Loaded]:
    """At ingest: Ofsted's outcome figures, and each dataset from `folder` (default ../shared/reference)
    unless it is already loaded, so a newer release loaded by hand is never replaced by the older copy."""
    load_inspection_outcomes(con)
    folder = folder or default_folder()
    loaded_already = {row[0] for row in con.execute("SELECT dataset FROM corpus.official_sources").fetchall()}
    results = []
    for dataset in DATASETS:
        path = folder / dataset.default_file
        if dataset.name not in loaded_already and path.is_file():
            results.append(load_file(con, path))
    return results


def load_inspection_outcomes(con: duckdb.DuckDBPyConnection) -> int:
    """Ofsted's official counts of full inspections and outcomes, from the packaged seed."""
    with (SEEDS / "official_inspection_outcomes.csv").open("rb") as handle:
        frame = pl.read_csv(handle, try_parse_dates=True)
    with transaction(con):
        con.execute("DELETE FROM corpus.official_inspection_outcomes")
        insert_frame(con, "corpus.official_inspection_outcomes", frame)
    return frame.height


def refresh_derived_figures(con: duckdb.DuckDBPyConnection) -> bool:
    """Recompute the derived tables if an input (figures, authorities, retired ONS codes) changed since
    they were built; returns whether it did. Call it inside the transaction that changed the inputs, so
    no reader ever sees new inputs beside old derived rows. Checking costs ≈ 20 ms, rebuilding 0.1–0.18 s."""
    row = con.execute(
        """
        SELECT inputs.fingerprint, built.fingerprint
        FROM corpus.official_figures_fingerprint AS inputs
        LEFT JOIN corpus.official_figures_built AS built ON true
        """
    ).fetchone()
    current, built = row if row else (None, None)
    if current == built:
        return False
    for table, computed in DERIVED_TABLES.items():
        con.execute(f"DELETE FROM {table}")
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {computed}")
    con.execute("DELETE FROM corpus.official_figures_built")
    con.execute("INSERT INTO corpus.official_figures_built VALUES (?, now()::TIMESTAMP)", [current])
    return True


def loaded_sources(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return query_frame(
        con, "SELECT dataset, release, rows, file, loaded_at FROM corpus.official_sources ORDER BY dataset"
    )


def _table_rows(dataset: Dataset, frame: pl.DataFrame) -> pl.DataFrame:
    if dataset is POPULATION:
        return frame.select(
            pl.col("la_code").str.zfill(3),
            pl.col("la_code_new").alias("ons_code"),
            pl.col("ons_population_0-25").alias("population_0_25"),
        ).unique("la_code", keep="first")
    return frame


def _release(dataset: Dataset, frame: pl.DataFrame) -> str:
    periods = frame["time_period"].drop_nulls() if "time_period" in frame.columns else None
    if dataset is TIMELINESS and periods is not None:
        return f"DfE SEN2 (EHC plans), calendar years {periods.min()}–{periods.max()}"
    if dataset is EXCLUSIONS and periods is not None:
        latest = frame.filter(pl.col("time_period") == periods.max())["time_identifier"].unique().sort()
        return (
            f"DfE suspensions and permanent exclusions by SEN status, {_academic(periods.min())} to "
            f"{_academic(periods.max())} ({', '.join(term.lower() for term in latest)} in the latest year)"
        )
    return "ONS population aged 0-25 (local_authorities.csv)"


def _academic(period: int) -> str:
    text = str(period)
    return f"{text[:4]}/{text[4:]}"


def _number(raw: pl.DataFrame, path: Path, column: str, dtype: pl.DataType) -> pl.Expr:
    text = raw[column].str.strip_chars()
    suppressed = text.is_null() | text.str.to_lowercase().is_in(list(SUPPRESSED))
    parsed = text.cast(pl.Float64, strict=False)
    bad = raw.filter(~suppressed & parsed.is_null())
    if bad.height:
        example = bad[column][0]
        raise OfficialStatsError(
            f"{path}: column {column} holds {example!r}, which is neither a number nor a suppression "
            f"symbol ({bad.height} such rows)"
        )
    values = pl.when(pl.lit(suppressed)).then(None).otherwise(pl.lit(parsed))
    return values.cast(dtype).alias(column)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _sha256(path: Path) -> str:
    from sendcorpus.flows.sources import sha256_of  # only when loading: read commands import this module

    return sha256_of(path)
