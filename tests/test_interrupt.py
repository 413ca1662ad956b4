"""Ctrl-C as a terminal sends it: SIGINT to every process of the command's process group. A command stops in
one line with exit code 130, leaves no process behind and no half-loaded report, and the next run finishes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import psutil
import pytest
from pytest_httpserver import HTTPServer

from conftest import REPORTS
from fixture_site import FULL, FixtureSite, Listing, file_host
from processes import run_cli

SLOW_QUERY = "SELECT sum(a.range * b.range) FROM range(1000000) AS a, range(100000) AS b"


def _started_as_from_a_terminal(*args: str) -> psutil.Popen:
    """A command in a process group of its own with SIGINT at its default (a shell's background job would
    have it ignored), so `killpg(SIGINT)` is what pressing Ctrl-C does."""
    return psutil.Popen(
        [sys.executable, "-m", "sendcorpus.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _ctrl_c(process: psutil.Popen) -> tuple[int, str]:
    group = os.getpgid(process.pid)
    members = [process, *process.children(recursive=True)]
    os.killpg(group, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    _, alive = psutil.wait_procs(members, timeout=20)
    assert not alive, [proc.cmdline() for proc in alive]  # nothing it started outlives it
    return process.returncode, err


# the moments: as DuckDB starts the query (a Ctrl-C there once left the query running and the command
# waiting for it to finish, for minutes), and while it runs
@pytest.mark.parametrize("delay", [0.6, 0.9, 2.0])
def test_ctrl_c_stops_a_long_sql_query_in_one_line(corpus_db: Path, delay: float) -> None:
    process = _started_as_from_a_terminal("sql", SLOW_QUERY, "--timeout", "50", "--db", str(corpus_db))
    time.sleep(delay)
    started = time.monotonic()
    code, err = _ctrl_c(process)
    assert time.monotonic() - started < 20
    assert code == 130 and err.strip() == "sendcorpus: interrupted", err[-2000:]


@pytest.mark.slow
def test_ctrl_c_during_an_ingest_leaves_whole_reports_and_the_next_run_finishes(
    corpus_db: Path, tmp_path: Path, prefect_without_a_server: None
) -> None:
    """With Prefect's temporary server, as on a user's machine: it once took Ctrl-C too and died first,
    leaving the run a minute of failing calls and a traceback."""
    db = tmp_path / "copy.duckdb"
    shutil.copy(corpus_db, db)
    args = ("ingest", "--no-registry", "--rebuild", "--chunk-size", "2", "--workers", "2")
    process = _started_as_from_a_terminal(*args, "--source", str(REPORTS), "--db", str(db))
    assert process.stderr is not None
    for line in process.stderr:  # once the first chunk is in: the workers, the server and a load all run
        if "reports done" in line:
            break
    code, err = _ctrl_c(process)
    assert code == 130, err[-3000:]
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err[-3000:]
    assert [line for line in err.splitlines() if "reports done" not in line] == ["sendcorpus: interrupted"]
    con = duckdb.connect(str(db), read_only=True)
    try:
        status = con.execute("SELECT status FROM runs ORDER BY started DESC LIMIT 1").fetchone()
        orphans = con.execute(
            "SELECT count(*) FROM corpus.items WHERE report_id NOT IN (SELECT report_id FROM corpus.reports)"
        ).fetchone()
    finally:
        con.close()
    assert status == ("failed: interrupted before it finished",)
    assert orphans == (0,)
    again = run_cli("ingest", "--no-registry", "--source", str(REPORTS), "--db", str(db), timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    last = again.stdout.strip().splitlines()[-1]
    assert last.startswith("ingest: 0 new, ") and ", 0 rejected" in last


@pytest.fixture
def file_server() -> Iterator[HTTPServer]:
    yield from file_host()


@pytest.mark.slow
def test_ctrl_c_during_an_update_stops_it_in_one_line(
    httpserver: HTTPServer, file_server: HTTPServer, tmp_path: Path, prefect_without_a_server: None
) -> None:
    """Prefect's server once took the Ctrl-C too: the update then ran on for minutes against it and
    ended in a traceback."""
    site = FixtureSite(httpserver, file_server, page_size=1)
    site.add("80547", "Rutland County Council", Listing(FULL, date(2023, 8, 3), "50224000", "rutland.pdf"))
    site.add("80428", "Bedford Borough", Listing(FULL, date(2025, 2, 4), "50268244", "bedford.pdf"))
    site.add("80549", "Sandwell Metropolitan Borough Council")
    db, cache = tmp_path / "sendcorpus.duckdb", tmp_path / "cache"
    args = ("update", "--site", site.url, "--delay", "1", "--db", str(db), "--cache", str(cache))
    process = _started_as_from_a_terminal(*args)
    deadline = time.monotonic() + 120
    while len(site.seen) < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)  # the crawl is under way, a second between requests
    assert process.poll() is None, process.communicate()
    code, err = _ctrl_c(process)
    assert code == 130 and "Traceback" not in err, err[-3000:]
    assert err.strip().splitlines()[-1] == "sendcorpus: interrupted"


def _raised_while_interrupted(error: Exception) -> Exception:
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise error  # noqa: B904 - as Prefect does, interrupted while it creates a task run
    except Exception as raised:
        return raised


def test_an_error_raised_while_handling_ctrl_c_is_an_interrupt() -> None:
    """Prefect, interrupted while creating a task run, raises ValueError("Task run is not set") over the
    KeyboardInterrupt: the ingest then printed its traceback and exited 1 (seen once in the suite)."""
    from sendcorpus.flows.interrupts import INTERRUPTED, caused_by_interrupt
    from sendcorpus.flows.update import _failure_reason

    prefect_s = _raised_while_interrupted(ValueError("Task run is not set"))
    assert caused_by_interrupt(prefect_s) and not caused_by_interrupt(ValueError("Task run is not set"))
    assert _failure_reason(prefect_s) == _failure_reason(KeyboardInterrupt()) == INTERRUPTED
    assert _failure_reason(ValueError("no")) == "no"


def test_a_command_failing_while_handling_ctrl_c_says_interrupted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sendcorpus import cli

    def interrupted(args: object) -> int:
        raise _raised_while_interrupted(ValueError("Task run is not set"))

    monkeypatch.setattr(cli, "_queries", interrupted)
    assert cli.main(["queries"]) == 130
    assert capsys.readouterr().err == "sendcorpus: interrupted\n"
