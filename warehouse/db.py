"""Opening the DuckDB file and applying the schema's versioned migrations."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb
import polars as pl

MIGRATIONS = resources.files("sendcorpus.warehouse") / "migrations"


# DuckDB names a database after its file; these names clash with its own catalogs or our schema
RESERVED_NAMES = {"corpus", "main", "memory", "system", "temp"}


class DatabaseBusy(Exception):
    """Another process holds the database file."""


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every migration file, in order."""
    found = []
    for entry in MIGRATIONS.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def connect(
    path: Path, read_only: bool = False, wait_seconds: float = 0.0, allow_files: bool = True
) -> duckdb.DuckDBPyConnection:
    """Open the database; a writable connection is migrated to the current schema first.

    DuckDB lets one process write a file at a time; `wait_seconds` retries while another holds it.
    A read-only connection with `allow_files=False` cannot read or write other files on the machine.
    """
    check_name(path)
    if read_only and not path.exists():
        raise FileNotFoundError(f"no database at {path}: run `sendcorpus ingest --db {path}` first")
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as error:
            if "lock" not in str(error).lower():
                raise
            if time.monotonic() >= deadline:
                raise DatabaseBusy(
                    f"the database {path} is in use by another process (an ingest is probably writing); "
                    "try again when it finishes"
                ) from None
            time.sleep(0.2)
    if not read_only:
        migrate(con)
    else:
        load_fts(con)
        if not allow_files:
            seal(con)
    return con


def seal(con: duckdb.DuckDBPyConnection) -> None:
    """Shut the door on files and settings for the rest of the session."""
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """DuckDB's full-text search, from the `duckdb-extension-fts` package: no download at run time."""
    import duckdb_extension_fts

    extension = next(Path(duckdb_extension_fts.__file__).parent.rglob("fts.duckdb_extension"))
    con.execute(f"SET extension_directory = '{extension.parent}'")
    con.execute(f"LOAD '{extension}'")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: commit when the block ends, roll back on any error (or interruption)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Bulk insert through Arrow, matching columns by name."""
    con.register("incoming", frame.to_arrow())
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
    finally:
        con.unregister("incoming")


def check_name(path: Path) -> None:
    if path.stem.lower() in RESERVED_NAMES:
        raise ValueError(
            f"a database file cannot be called {path.name}: DuckDB names the database after the file, "
            f"and {path.stem!r} is taken (choose another name, e.g. sendcorpus.duckdb)"
        )


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchone()
    if not exists or not exists[0]:
        return 0
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply migrations newer than the database's version, each in its own transaction."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    current = schema_version(con)
    applied = []
    for version, name, sql in migrations():
        if version <= current:
            continue
        with transaction(con):
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
        applied.append(name)
    return applied
