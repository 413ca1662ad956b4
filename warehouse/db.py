"""Opening the DuckDB file and applying the schema's versioned migrations."""

from __future__ import annotations

import ctypes
import gc
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:  # polars is imported where frames are made: `sql "select 1"` never needs it
    import polars as pl

MIGRATIONS = resources.files("sendcorpus.warehouse") / "migrations"


# DuckDB names a database after its file; these names clash with its own catalogs or our schema
RESERVED_NAMES = {"corpus", "main", "memory", "system", "temp"}


# DuckDB's own words for a file held by another process; a damaged file's checksum error mentions a
# "block", so a bare "lock" would mistake damage for a busy database
_LOCK_HELD = "could not set lock on file"
_DAMAGED = ("not a valid duckdb database file", "could not read enough bytes", "corrupt database file")
_DISK_FULL = "no space left on device"
MIN_FREE_BYTES = 64 * 2**20  # before an ingest; SENDCORPUS_MIN_FREE_MB overrides
# How long a flow's writable connection waits for readers (`sql`, `query`, `report`, a notebook) to let go:
# a scheduled update must not fail because someone was reading when it came to write
WRITER_WAIT_SECONDS = 60.0


class DatabaseBusy(Exception):
    """Another process holds the database file."""


class DatabaseUnusable(Exception):
    """The file cannot serve as the corpus: damaged, not a database, a folder, or not writable.
    The message names the file and what to do."""


def explain(error: duckdb.Error, path: Path) -> str | None:
    """One line for a DuckDB error caused by the database file itself (damage, a full disk), else None."""
    text = " ".join(str(error).split())
    lowered = text.lower()
    if _DISK_FULL in lowered:
        return (
            f"the disk holding {path} is full (No space left on device); the reports loaded before this one "
            "are intact, and this run's remaining work was not saved: free some space and run it again"
        )
    if any(marker in lowered for marker in _DAMAGED):
        return (
            f"{path} is damaged or not a DuckDB database ({text.removeprefix('IO Error: ')}): pass --db with "
            f"another file, or move it away and rebuild the corpus with `sendcorpus ingest --db {path}`"
        )
    return None


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every migration file, in order."""
    found = []
    for entry in MIGRATIONS.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def connect(
    path: Path,
    read_only: bool = False,
    wait_seconds: float = 0.0,
    allow_files: bool = True,
    search: bool = True,
    require_current: bool = True,
) -> duckdb.DuckDBPyConnection:
    """Open the database; a writable connection is migrated to the current schema first.

    DuckDB lets one process write a file at a time; `wait_seconds` retries while another holds it.
    A read-only connection with `allow_files=False` cannot read or write other files on the machine;
    with `search=False` it does not load full-text search (≈ 70 ms), for SQL that does not use it.
    A read-only connection cannot migrate, so it refuses an older schema (`check_schema_current`) unless
    `require_current=False` (the ingest's plan reads older files, which its flow then migrates).
    """
    check_name(path)
    if read_only and not path.exists():
        raise FileNotFoundError(f"no database at {path}: run `sendcorpus ingest --db {path}` first")
    _check_openable(path)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.Error as error:
            if _LOCK_HELD not in str(error).lower():
                raise _unusable(error, path, read_only) from None
            if time.monotonic() >= deadline:
                raise DatabaseBusy(
                    f"the database {path} is in use by another process (an ingest is probably writing); "
                    "try again when it finishes"
                ) from None
            time.sleep(0.2)
    try:
        if not read_only:
            con.execute(f"SET memory_limit = '{WRITER_MEMORY_LIMIT}'")
            migrate(con)
        else:
            if require_current:
                check_schema_current(con, path)
            if search:
                load_fts(con)
            if not allow_files:
                seal(con)
    except duckdb.Error as error:
        con.close()
        raise _unusable(error, path, read_only) from None
    except DatabaseUnusable:
        con.close()
        raise
    return con


def _check_openable(path: Path) -> None:
    """The cases DuckDB reports obscurely, or would paper over, named before it tries."""
    if path.is_dir():
        raise DatabaseUnusable(
            f"{path} is a folder, not a database file: pass --db with a file name, such as "
            f"{path / 'sendcorpus.duckdb'}"
        )
    if path.is_file() and path.stat().st_size == 0:
        raise DatabaseUnusable(
            f"{path} is empty (0 bytes), not a DuckDB database: pass --db with another file, or delete "
            "it to start a new corpus there"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatabaseUnusable(
            f"cannot create the folder {path.parent} for the database ({error.strerror}): "
            "pass --db with a path you can write to"
        ) from None


def _unusable(error: duckdb.Error, path: Path, read_only: bool) -> DatabaseUnusable:
    known = explain(error, path)
    if known:
        return DatabaseUnusable(known)
    text = " ".join(str(error).split()).removeprefix("IO Error: ")
    if not read_only and any(word in text.lower() for word in ("read-only file system", "permission denied")):
        return DatabaseUnusable(f"cannot write to {path} ({text}): pass --db with a file you can write to")
    return DatabaseUnusable(f"cannot open the database {path} ({text})")


def check_free_space(path: Path, needed: int | None = None) -> None:
    """Refuse to start a long load on a disk that is (nearly) full: stopping before is cleaner than after."""
    if needed is None:
        needed = int(float(os.environ.get("SENDCORPUS_MIN_FREE_MB", MIN_FREE_BYTES / 2**20)) * 2**20)
    folder = next((parent for parent in (path, *path.parents) if parent.exists()), Path("."))
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise DatabaseUnusable(
            f"only {free / 2**20:.1f} MB free on the disk holding {path}, and an ingest needs about "
            f"{needed / 2**20:.0f} MB: free some space or pass --db on another disk"
        )


# DuckDB's own buffer limit for a connection that writes (loads, the search index build): beyond it DuckDB
# spills to `<db>.tmp`; its default, 80 % of the machine's memory, let the index build of 10,000 reports take
# 1.27 GiB (0.48 GiB with this limit, 40 % slower).
WRITER_MEMORY_LIMIT = "256MB"
_M_ARENA_MAX = -8  # mallopt's parameter number in glibc's malloc.h


def release_memory() -> None:
    """Free what the last chunk left and give it back to the system. The flow's Prefect task runs leave
    reference cycles that only a full collection frees, and the process holds over a million long-lived
    objects, so Python runs one rarely; and glibc keeps freed pages in its arenas (malloc_trim returns
    them). Without this the flow's process grew by ≈ 0.1 MB per report."""
    gc.collect()
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def limit_malloc_arenas(arenas: int = 2) -> None:
    """At most `arenas` glibc malloc arenas for the threads started from now on: Prefect runs each
    task in a thread of its own, and every thread's arena would keep its own high-water mark."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, arenas)


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
    """Bulk insert through Arrow, matching columns by name. The frame goes as an Arrow C stream, not
    a pyarrow table: importing pyarrow would cost the writer ≈ 100 MB and 0.2 s for nothing."""
    con.register("incoming", frame.__arrow_c_stream__())
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
    finally:
        con.unregister("incoming")


def query_frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] | dict[str, object] | None = None
) -> pl.DataFrame:
    """A query's result as a Polars frame, through the Arrow C stream (no pyarrow import);
    an empty frame for a statement that returns no rows."""
    import polars as pl

    relation = con.sql(sql, params=params)
    return pl.DataFrame() if relation is None else pl.DataFrame(relation)


def check_name(path: Path) -> None:
    if path.stem.lower() in RESERVED_NAMES:
        raise ValueError(
            f"a database file cannot be called {path.name}: DuckDB names the database after the file, "
            f"and {path.stem!r} is taken (choose another name, e.g. sendcorpus.duckdb)"
        )


def applied_migrations(con: duckdb.DuckDBPyConnection) -> set[int]:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchone()
    if not exists or not exists[0]:
        return set()
    return {int(row[0]) for row in con.execute("SELECT version FROM schema_migrations").fetchall()}


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The newest migration up to which every known one is applied (0 for a new database)."""
    applied = applied_migrations(con)
    version = 0
    for known, _, _ in migrations():
        if known not in applied:
            break
        version = known
    return version


def check_schema_current(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """A read-only connection cannot migrate: a file from an older sendcorpus (or another program) is
    named as such, instead of failing later on a table or column the older schema lacks."""
    missing = sorted({version for version, _, _ in migrations()} - applied_migrations(con))
    if missing:
        what = (
            "is not a sendcorpus corpus"
            if len(missing) == len(migrations())
            else (
                f"was written by an older sendcorpus (it lacks schema migration "
                f"{', '.join(f'{version:03d}' for version in missing)})"
            )
        )
        raise DatabaseUnusable(
            f"the database {path} {what}: run `sendcorpus ingest --db {path}` once to bring it up to "
            "date (nothing in it is lost), then try again"
        )


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply every migration the database has not had, in order, each in its own transaction (by
    number, not only those above the newest applied, so a migration numbered below one already applied
    still runs)."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    done = applied_migrations(con)
    applied = []
    for version, name, sql in migrations():
        if version in done:
            continue
        with transaction(con):
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
        applied.append(name)
    return applied
