"""The named queries: one `.sql` file each in this package, described by its header comment.

A header looks like:
    -- name: theme-benchmark
    -- description: ...
    -- parameters: la_code (required: the area, resolved from --la); all_reports (optional: ...)

Values are always bound as DuckDB named parameters ($la_code), never pasted into the SQL.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from importlib import resources

import duckdb
import polars as pl

from sendcorpus.warehouse.db import load_fts, query_frame
from sendcorpus.warehouse.reference import resolve_la_in_corpus

QUERIES = resources.files("sendcorpus.queries")
_HEADER = re.compile(r"^--\s*(name|description|parameters):\s*(.*)$", re.MULTILINE)
_PARAMETER = re.compile(r"(\w+) \((required|optional)(?::\s*([^)]*))?\)")

# SQL parameter → the option a person gives (run_query's params key, and its command-line spelling).
OPTIONS = {
    "la_code": ("la", "--la NAME"),
    "theme": ("theme", "--theme ID"),
    "region": ("region", "--region NAME"),
    "text": ("text", "--text WORDS"),
    "all_reports": ("all_reports", "--all-reports"),
    "include_partial": ("include_partial", "--include-partial"),
}
FLAGS = {"all_reports", "include_partial"}  # true/false options, false when not given


class QueryError(Exception):
    """A named query could not run as asked; the message is one line for a person."""


@dataclass(frozen=True)
class Parameter:
    name: str  # the SQL parameter
    required: bool
    help: str

    @property
    def option(self) -> str:
        return OPTIONS[self.name][0]

    @property
    def usage(self) -> str:
        flag = OPTIONS[self.name][1]
        return flag if self.required else f"[{flag}]"


@dataclass(frozen=True)
class QueryInfo:
    name: str
    description: str
    parameters: list[str]  # command-line usage, e.g. ["--la NAME", "[--all-reports]"]
    sql: str
    spec: tuple[Parameter, ...]


def list_queries() -> list[QueryInfo]:
    """Every query file in the package, by name."""
    found = [_read(entry.read_text(encoding="utf-8"), entry.name) for entry in QUERIES.iterdir()]
    return sorted((info for info in found if info), key=lambda info: info.name)


def get_query(name: str) -> QueryInfo:
    queries = {info.name: info for info in list_queries()}
    if name in queries:
        return queries[name]
    close = difflib.get_close_matches(name, list(queries), n=3, cutoff=0.5)
    hint = f"did you mean: {', '.join(close)}?" if close else f"the queries are: {', '.join(queries)}"
    raise QueryError(f"no query called {name!r}; {hint}")


def run_query(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, str]) -> pl.DataFrame:
    """Run a named query with a person's options (la, theme, region, text, all_reports) checked and bound."""
    info = get_query(name)
    accepted = {parameter.option for parameter in info.spec}
    extra = sorted(set(params) - accepted)
    if extra:
        flags = ", ".join("--" + option.replace("_", "-") for option in extra)
        raise QueryError(f"the query {name!r} does not take {flags}; it takes: {_usage(info)}")
    bound: dict[str, object] = {}
    for parameter in info.spec:
        value = params.get(parameter.option)
        if value is None or (isinstance(value, str) and not value.strip()):
            if parameter.required:
                raise QueryError(f"the query {name!r} needs {OPTIONS[parameter.name][1]}")
            bound[parameter.name] = False if parameter.name in FLAGS else None
            continue
        bound[parameter.name] = _checked(con, parameter.name, value)
    _check_area_in_region(con, bound)
    if "text" in bound:
        _ensure_search_index(con)
    try:
        return query_frame(con, info.sql, bound)
    except duckdb.Error as error:
        raise QueryError(f"the query {name!r} failed: {' '.join(str(error).split())}") from None


def _check_area_in_region(con: duckdb.DuckDBPyConnection, bound: dict[str, object]) -> None:
    """--la and --region together can only mean the area in its own region: anything else matches nothing."""
    la_code, region = bound.get("la_code"), bound.get("region")
    if la_code is None or region is None:
        return
    row = con.execute(
        "SELECT name, region FROM corpus.local_authorities WHERE la_code = ?", [la_code]
    ).fetchone()
    if row and row[1] != region:
        raise QueryError(
            f"{row[0]} is in {row[1]}, not {region}: give --la or --region, or the area's own region"
        )


def known_themes(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[0] for row in con.execute("SELECT theme FROM corpus.themes ORDER BY ord").fetchall()]


def known_regions(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute("SELECT DISTINCT region FROM corpus.local_authorities ORDER BY region").fetchall()
    return [row[0] for row in rows]


def _checked(con: duckdb.DuckDBPyConnection, parameter: str, value: str) -> object:
    value = value.strip()
    if parameter == "la_code":
        return resolve_la_in_corpus(con, value)[0]
    if parameter == "theme":
        themes = known_themes(con)
        if value.lower() in themes:
            return value.lower()
        close = [theme for theme in themes if theme.startswith(value.lower())]
        close = close or difflib.get_close_matches(value.lower(), themes, n=3, cutoff=0.5)
        hint = f"did you mean: {', '.join(close)}?" if close else f"themes: {', '.join(themes)}"
        raise QueryError(f"no theme called {value!r}; {hint}")
    if parameter == "region":
        regions = {region.lower(): region for region in known_regions(con)}
        if value.lower() in regions:
            return regions[value.lower()]
        raise QueryError(f"no region called {value!r}; regions: {', '.join(regions.values())}")
    if parameter in FLAGS:
        if value.lower() in ("true", "yes", "1"):
            return True
        if value.lower() in ("false", "no", "0"):
            return False
        raise QueryError(f"{parameter} must be true or false, not {value!r}")
    return value


def _ensure_search_index(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("SELECT stem('searching', 'english')")
    except duckdb.CatalogException:  # fts is not loaded on this connection yet
        load_fts(con)
    built = con.execute(
        "SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'fts_corpus_search_items'"
    ).fetchone()
    if not built or not built[0]:
        raise QueryError("the search index has not been built yet: run `sendcorpus ingest` first")


def _usage(info: QueryInfo) -> str:
    return " ".join(info.parameters) or "no options"


def _read(sql: str, file_name: str) -> QueryInfo | None:
    if not file_name.endswith(".sql"):
        return None
    header = {key: value.strip() for key, value in _HEADER.findall(sql)}
    if "name" not in header:
        raise QueryError(f"the query file {file_name} has no `-- name:` header")
    spec = tuple(
        Parameter(name, kind == "required", (help_text or "").strip())
        for name, kind, help_text in _PARAMETER.findall(header.get("parameters", ""))
    )
    unknown = [parameter.name for parameter in spec if parameter.name not in OPTIONS]
    if unknown:
        raise QueryError(f"the query file {file_name} declares unknown parameters: {', '.join(unknown)}")
    return QueryInfo(
        name=header["name"],
        description=header.get("description", ""),
        parameters=[parameter.usage for parameter in spec],
        sql=sql,
        spec=spec,
    )
