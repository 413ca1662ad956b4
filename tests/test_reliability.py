"""Bad input, crashes, concurrent use and old databases, with real files and real processes."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import duckdb
import psutil
import pytest

from sendcorpus.flows.ingest import ingest
from sendcorpus.flows.lock import IngestLock, LockBusy
from sendcorpus.settings import PrefectStateError, check_prefect_api
from sendcorpus.warehouse.db import DatabaseUnusable, connect, explain, migrate, migrations

from badfiles import make_all_bad
from conftest import HACKNEY_TXT, REPORTS
from processes import crash, run_cli

GOOD = ["bury.pdf", "rutland.pdf", "haringey.pdf"]


_cli = partial(run_cli, timeout=240)


@pytest.mark.slow
def test_a_folder_of_good_and_bad_inputs_loads_exactly_the_good_ones(tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    for name in GOOD:
        shutil.copy(REPORTS / name, folder / name)
    expected_rejections = make_all_bad(folder)
    (folder / "later").mkdir()  # a subfolder is not read, and the run says so
    shutil.copy(REPORTS / "wakefield.pdf", folder / "later" / "wakefield.pdf")
    db = tmp_path / "mixed.duckdb"
    result = _cli("ingest", "--no-registry", "--source", str(folder), "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert f"not read: the subfolder later of {folder} (give each with --source" in result.stderr
    con = duckdb.connect(str(db), read_only=True)
    loaded = {row[0] for row in con.execute("SELECT file FROM reports").fetchall()}
    rejected = dict(con.execute("SELECT file, reason FROM rejected").fetchall())
    expected_loaded = set(GOOD) | {name for name, reason in expected_rejections.items() if reason is None}
    assert loaded == expected_loaded
    assert rejected == {name: reason for name, reason in expected_rejections.items() if reason is not None}
    every_input = {path.name for path in folder.iterdir() if not path.is_dir()}
    assert every_input == loaded | set(rejected)  # every file accounted for
    assert all(detail for (detail,) in con.execute("SELECT detail FROM rejected").fetchall())
    duplicate = con.execute("SELECT detail FROM rejected WHERE reason = 'duplicate'").fetchone()[0]
    assert "rutland.pdf" in duplicate
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.startswith(f"ingest: {len(loaded)} new, 0 unchanged, ")


def test_sigkill_mid_run_leaves_only_whole_reports_and_the_next_run_finishes(tmp_path: Path) -> None:
    db = tmp_path / "killed.duckdb"
    args = [sys.executable, "-m", "sendcorpus.cli", "ingest", "--no-registry", "--db", str(db)]
    args += ["--source", str(REPORTS), "--source", str(HACKNEY_TXT)]
    process = psutil.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # kill once the database exists and loading has begun (the WAL file appears with the first write)
    deadline = time.monotonic() + 180
    wal = Path(f"{db}.wal")
    while time.monotonic() < deadline and not wal.exists() and process.poll() is None:
        time.sleep(0.02)
    time.sleep(0.3)
    crash(process)
    con = connect(db)
    orphans = con.execute(
        """
        SELECT (SELECT count(*) FROM corpus.items
                WHERE report_id NOT IN (SELECT report_id FROM corpus.reports))
             + (SELECT count(*) FROM corpus.reports
                WHERE report_id NOT IN (SELECT report_id FROM corpus.facts))
             + (SELECT count(*) FROM corpus.reports r WHERE NOT EXISTS (
                SELECT 1 FROM corpus.items i
                WHERE i.report_id = r.report_id AND i.section = 'recommendation'))
        """
    ).fetchone()[0]
    partial = con.execute("SELECT count(*) FROM corpus.reports").fetchone()[0]
    con.close()
    assert orphans == 0
    assert partial < 45
    summary = ingest(db=db, sources=[REPORTS, HACKNEY_TXT], use_registry=False)
    assert summary.new + summary.unchanged == 45
    assert summary.unchanged == partial


def test_a_second_ingest_fails_fast_while_one_is_writing(tmp_path: Path) -> None:
    db = tmp_path / "busy.duckdb"
    with IngestLock(db):
        started = time.monotonic()
        result = _cli("ingest", "--no-registry", "--source", str(REPORTS / "rutland.pdf"), "--db", str(db))
        assert time.monotonic() - started < 30
    assert result.returncode == 1
    assert "another ingest is writing" in result.stderr
    assert "Traceback" not in result.stderr


def test_readers_wait_for_a_writer_and_then_work(corpus_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "shared.duckdb"
    shutil.copy(corpus_db, db)
    writer = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb,time; c=duckdb.connect({str(db)!r}); time.sleep(2)"],
    )
    time.sleep(0.5)
    result = _cli("sql", "SELECT count(*) AS n FROM reports", "--format", "csv", "--db", str(db))
    writer.wait()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["n", "45"]


def test_a_database_from_the_first_schema_upgrades_in_place(corpus_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    old = duckdb.connect(str(db))
    old.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
        "applied_at TIMESTAMP NOT NULL)"
    )
    version, name, sql = migrations()[0]
    old.execute(sql)
    old.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
    old.execute(f"ATTACH '{corpus_db}' AS full_corpus (READ_ONLY)")
    for table, condition in [
        ("reports", "file = 'bury.pdf'"),
        ("items", "report_id IN (SELECT report_id FROM corpus.reports)"),
    ]:
        columns = ", ".join(
            name
            for (name,) in old.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_catalog = 'old' AND table_schema = 'corpus' AND table_name = ? "
                "ORDER BY ordinal_position",
                [table],
            ).fetchall()
        )
        old.execute(
            f"INSERT INTO corpus.{table} SELECT {columns} FROM full_corpus.corpus.{table} WHERE {condition}"
        )
    old.close()
    con = connect(db)  # applies the later migrations
    assert con.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] == migrations()[-1][0]
    assert con.execute("SELECT file FROM reports").fetchall() == [("bury.pdf",)]
    assert con.execute("SELECT count(*) FROM items").fetchone()[0] > 30
    assert migrate(con) == []  # nothing left to apply
    con.close()


def test_the_same_database_by_symlink_or_relative_path_meets_the_same_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "real" / "area.duckdb"
    db.parent.mkdir()
    link = tmp_path / "link.duckdb"
    link.symlink_to(db)
    monkeypatch.chdir(tmp_path / "real")
    with IngestLock(db):
        for other in (link, Path("area.duckdb"), Path("../real/./area.duckdb")):
            with pytest.raises(LockBusy):
                IngestLock(other).__enter__()


def test_a_damaged_database_is_unusable_not_busy(tmp_path: Path) -> None:
    for name, content in (("zero.duckdb", b""), ("text.duckdb", b"garbage,10\n")):
        path = tmp_path / name
        path.write_bytes(content)
        started = time.monotonic()
        with pytest.raises(DatabaseUnusable, match=str(path)):
            connect(path, read_only=True, wait_seconds=30)
        assert time.monotonic() - started < 5
        assert path.read_bytes() == content
    with pytest.raises(DatabaseUnusable, match="is a folder"):
        connect(tmp_path, read_only=True)


def test_duckdb_errors_about_the_file_are_explained(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    full = duckdb.TransactionException(
        f'Failed to commit: Could not write file "{db}": No space left on device'
    )
    block = duckdb.IOException(
        "Corrupt database file: computed checksum 1 does not match stored checksum 2 in block"
    )
    assert "reports loaded before this one are intact" in (explain(full, db) or "")
    assert "is damaged" in (explain(block, db) or "")
    assert explain(duckdb.CatalogException("Table x does not exist"), db) is None


def test_a_healthy_prefect_api_passes_the_probe_and_a_stranger_does_not(httpserver) -> None:  # type: ignore[no-untyped-def]
    httpserver.expect_request("/api/health").respond_with_json(True)
    check_prefect_api(httpserver.url_for("/api"))
    with pytest.raises(PrefectStateError, match="answered HTTP 500"):
        check_prefect_api(httpserver.url_for("/elsewhere"))
