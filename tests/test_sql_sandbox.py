"""`sendcorpus sql` only reads: no statement it accepts changes a byte of the database, and every
statement that could write is refused with one line before anything runs."""

from __future__ import annotations

import hashlib
import shutil
import time
from functools import partial
from pathlib import Path

import pytest

from sendcorpus.cli import main

from processes import run_cli


@pytest.fixture(scope="module")
def sealed_db(corpus_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("sandbox") / "sendcorpus.duckdb"
    shutil.copy(corpus_db, db)
    return db


def _digest(folder: Path) -> dict[str, str]:
    """Every file in the database's folder and its bytes: nothing may change or appear beside it."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()
    }


_cli = partial(run_cli, timeout=60)

REFUSED = [
    "COPY (SELECT 'garbage' AS a) TO '{db}' (FORMAT csv)",
    "COPY (SELECT 'garbage' AS a) TO '{db}' (FORMAT csv, USE_TMP_FILE false)",
    "COPY corpus.reports TO '{dir}/beside.csv'",
    "COPY corpus.reports FROM '{dir}/beside.csv'",
    "EXPORT DATABASE '{dir}/export'",
    "ATTACH '{dir}/other.duckdb' AS other",
    "ATTACH '{db}' AS again",
    "DETACH sendcorpus",
    "CHECKPOINT",
    "FORCE CHECKPOINT",
    "INSTALL fts",
    "LOAD fts",
    "SET memory_limit = '100GB'",
    "SET enable_external_access = true",
    "RESET enable_external_access",
    "SET VARIABLE x = 1",
    "PRAGMA memory_limit = '100GB'",
    "PRAGMA force_checkpoint",
    "PRAGMA enable_checkpoint_on_shutdown",
    "CALL pragma_version()",
    "DELETE FROM corpus.reports",
    "UPDATE corpus.reports SET file = 'x'",
    "INSERT INTO corpus.rejected VALUES ('a', NULL, 'b', 'c', now())",
    "DROP TABLE corpus.reports",
    "CREATE TABLE t AS SELECT 1",
    "CREATE TEMP TABLE t AS SELECT 1",
    "CREATE MACRO m() AS 1",
    "ALTER TABLE corpus.reports ADD COLUMN x INTEGER",
    "VACUUM",
    "ANALYZE",
    "BEGIN TRANSACTION",
    "PREPARE p AS SELECT 1",
    "EXPLAIN ANALYZE COPY (SELECT 1) TO '{db}'",
    # a comment before EXPLAIN once hid the statement it runs from the check (and overwrote the database)
    "-- note\nEXPLAIN ANALYZE COPY (SELECT 'gone' AS x) TO '{db}' (FORMAT csv, USE_TMP_FILE false)",
    "/* c */ EXPLAIN ANALYZE COPY (SELECT 1) TO '{db}'",
    "EXPLAIN /* c */ ANALYZE -- c\n DELETE FROM corpus.reports",
    "EXPLAIN (FORMAT json) COPY (SELECT 1) TO '{db}'",
    "WITH x AS (SELECT 1) INSERT INTO corpus.rejected SELECT 'a', NULL, 'b', 'c', now() FROM x",
    "SELECT 1; COPY (SELECT 1) TO '{db}'",
]


@pytest.mark.parametrize("sql", REFUSED)
def test_statements_that_could_write_are_refused_and_change_nothing(
    sealed_db: Path, sql: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _digest(sealed_db.parent)
    text = sql.format(db=sealed_db, dir=sealed_db.parent)
    code = main(["sql", text, "--db", str(sealed_db)])
    err = capsys.readouterr().err
    assert code == 1
    assert len(err.strip().splitlines()) == 1, err
    assert "refused" in err or "read-only" in err
    assert _digest(sealed_db.parent) == before


READS = [
    "SELECT count(*) FROM reports",
    "WITH r AS (SELECT * FROM reports) SELECT count(*) FROM r",
    "FROM reports SELECT file LIMIT 2",
    "EXPLAIN SELECT * FROM items",
    "EXPLAIN ANALYZE SELECT count(*) FROM items",
    "-- a comment first\nEXPLAIN ANALYZE SELECT count(*) FROM items",
    "EXPLAIN (FORMAT json) SELECT count(*) FROM items",
    "DESCRIBE reports",
    "SHOW TABLES",
    "SUMMARIZE SELECT n_words FROM reports",
    "SELECT * FROM duckdb_settings() WHERE name = 'memory_limit'",
    "SELECT 1;",
]


@pytest.mark.parametrize("sql", READS)
def test_read_statements_run_and_leave_every_byte_alone(
    sealed_db: Path, sql: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _digest(sealed_db.parent)
    code = main(["sql", sql, "--format", "csv", "--db", str(sealed_db)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.strip()
    assert _digest(sealed_db.parent) == before


def test_files_can_be_read_with_allow_files_but_never_written(sealed_db: Path, tmp_path: Path) -> None:
    before = _digest(sealed_db.parent)
    data = tmp_path / "extra.csv"
    data.write_text("a\n1\n2\n")
    read = _cli(
        "sql",
        f"SELECT sum(a) AS s FROM read_csv('{data}')",
        "--allow-files",
        "--format",
        "csv",
        "--db",
        str(sealed_db),
    )
    assert read.returncode == 0, read.stderr
    assert read.stdout.split() == ["s", "3"]
    write = _cli("sql", f"COPY (SELECT 1) TO '{sealed_db}'", "--allow-files", "--db", str(sealed_db))
    assert write.returncode == 1
    assert "COPY statements are refused" in write.stderr
    assert _digest(sealed_db.parent) == before


def test_without_allow_files_other_files_cannot_be_read(sealed_db: Path) -> None:
    result = _cli("sql", "SELECT * FROM read_csv('/etc/passwd')", "--db", str(sealed_db))
    assert result.returncode == 1
    assert "disabled" in result.stderr.lower()
    assert "(other files are read only with --allow-files)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_query_that_needs_too_much_memory_is_stopped_quickly(sealed_db: Path) -> None:
    before = _digest(sealed_db.parent)
    started = time.monotonic()
    result = _cli(
        "sql",
        "SELECT length(repeat('x', 3000000000))",
        "--memory-limit",
        "1",
        "--timeout",
        "5",
        "--db",
        str(sealed_db),
    )
    assert time.monotonic() - started < 30
    assert result.returncode == 1
    assert "more than 1 GB of memory" in result.stderr
    assert "Traceback" not in result.stderr
    assert _digest(sealed_db.parent) == before


def test_an_endless_query_is_stopped_at_the_timeout(sealed_db: Path) -> None:
    result = _cli(
        "sql", "SELECT count(*) FROM range(1000000000000) a", "--timeout", "1", "--db", str(sealed_db)
    )
    assert result.returncode == 1
    assert "ran longer than 1 s and was stopped" in result.stderr


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-1", "soon"])
def test_the_timeout_and_memory_limit_must_be_positive_numbers(sealed_db: Path, value: str) -> None:
    for flag in ("--timeout", "--memory-limit"):
        result = _cli("sql", "SELECT 1", flag, value, "--db", str(sealed_db))
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert flag in result.stderr


def test_a_syntax_error_is_one_line(sealed_db: Path) -> None:
    result = _cli("sql", "SELEC 1", "--db", str(sealed_db))
    assert result.returncode == 1
    assert "syntax error" in result.stderr.lower()
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_query_that_ignores_interrupts_still_ends_soon_after_the_timeout(sealed_db: Path) -> None:
    started = time.monotonic()
    result = _cli(
        "sql",
        "SELECT length(repeat('x', 1200000000))",
        "--memory-limit",
        "8",
        "--timeout",
        "1",
        "--db",
        str(sealed_db),
    )
    assert time.monotonic() - started < 15
    assert result.returncode == 1
    assert "ran longer than 1 s and was stopped" in result.stderr


def test_the_address_space_cap_is_lifted_when_the_query_is_done(sealed_db: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import resource

    before = resource.getrlimit(resource.RLIMIT_AS)
    assert main(["sql", "SELECT 42 AS answer", "--db", str(sealed_db), "--memory-limit", "1"]) == 0
    assert "42" in capsys.readouterr().out
    # `main` called in-process (by a test, or a program embedding sendcorpus) leaves its process as it was
    assert resource.getrlimit(resource.RLIMIT_AS) == before


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT 1; SELECT 2", "one statement at a time: this text holds 2"),
        ("WITH x AS (SELECT 1) INSERT INTO corpus.rejected SELECT * FROM x", "INSERT statements are refused"),
        ("-- c\nEXPLAIN ANALYZE DELETE FROM corpus.reports", "DELETE statements are refused"),
    ],
)
def test_a_refusal_names_what_was_refused(
    sealed_db: Path, sql: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sql", sql, "--db", str(sealed_db)]) == 1
    assert message in capsys.readouterr().err
