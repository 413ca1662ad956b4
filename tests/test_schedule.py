"""`sendcorpus schedule` for real: it starts a Prefect server on 127.0.0.1, serves `update` on a cron that
fires every 15 seconds against a local site, runs it at once on `prefect deployment run` (the README's "run
it now"), and on SIGTERM, sent just as the runner starts the next run, ends that run while the server can
still record it, then stops everything it started."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import httpx
import psutil
import pytest
from pytest_httpserver import HTTPServer

from fixture_site import FULL, FixtureSite, Listing, file_host
from processes import crash


@pytest.fixture
def file_server() -> Iterator[HTTPServer]:
    yield from file_host()


def _completed_update(db: Path) -> tuple[str, int] | None:
    """(flow_run_id, new) of a completed update run, or None while there is none (or the file is busy)."""
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return None
    try:
        row = con.execute(
            # the first: on a busy machine the next run may have completed too (and found nothing new)
            "SELECT flow_run_id, new FROM runs WHERE kind = 'update' AND status = 'completed' "
            "ORDER BY started LIMIT 1"
        ).fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return (str(row[0]), int(row[1])) if row else None


def _all_runs(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT * FROM runs ORDER BY started").fetchall()


def _processes_with(marker: str) -> list[int]:
    """Processes whose environment mentions `marker` (the test's own PREFECT_HOME)."""
    found = []
    for process in psutil.process_iter():
        if process.pid == os.getpid():
            continue
        with contextlib.suppress(psutil.Error):  # ended, or another user's, while being read
            if any(marker in value for value in process.environ().values()):
                found.append(process.pid)
    return found


def _run_processes(pid: int) -> set[int]:
    """The flow-run processes the runner inside `pid` has spawned (multiprocessing's spawn children)."""
    found = set()
    for child in psutil.Process(pid).children():
        with contextlib.suppress(psutil.Error):  # a child that ended while it was being read
            if any("multiprocessing.spawn" in part for part in child.cmdline()):
                found.add(child.pid)
    return found


def _run_deployment_now(api: str, deployment: str, env: dict[str, str]) -> str:
    """`prefect deployment run NAME` as the README has it; the id of the flow run it created."""
    prefect = str(Path(sys.executable).with_name("prefect"))
    result = subprocess.run(
        [prefect, "deployment", "run", deployment],
        env={**env, "PREFECT_API_URL": api},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    created = re.search(r"UUID:\s*([0-9a-f-]{36})", result.stdout)
    assert created, result.stdout
    return created.group(1)


def _flow_run(ui: str, flow_run_id: str) -> dict:
    return httpx.get(f"{ui}/api/flow_runs/{flow_run_id}", timeout=10).json()


@pytest.mark.slow
def test_schedule_fires_on_its_cron_and_stops_everything_on_sigterm(
    httpserver: HTTPServer, file_server: HTTPServer, tmp_path: Path
) -> None:
    site = FixtureSite(httpserver, file_server)
    site.add("80547", "Rutland County Council", Listing(FULL, date(2023, 8, 3), "50224000", "rutland.pdf"))
    db, home, log = tmp_path / "sendcorpus.duckdb", tmp_path / "prefect-home", tmp_path / "schedule.log"
    env = {**os.environ, "PREFECT_HOME": str(home), "SENDCORPUS_PREFECT_HOME": str(home)}
    env.pop("PREFECT_API_URL", None)
    command = [
        sys.executable,
        "-m",
        "sendcorpus.cli",
        "schedule",
        "--cron",
        "* * * * * */15",  # croniter's sixth field is seconds
        "--name",
        "every-15-seconds",
    ]
    command += ["--site", site.url, "--delay", "0", "--db", str(db), "--cache", str(tmp_path / "cache")]
    with log.open("w") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300  # server start, up to a minute to the cron, then the run
        while (done := _completed_update(db)) is None:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            assert "| ERROR   | prefect.engine" not in log.read_text(), log.read_text()
            time.sleep(2)
        flow_run_id, new = done
        assert new == 1, (_all_runs(db), log.read_text())
        ui = re.search(r"Prefect UI at (http://127\.0\.0\.1:\d+)", log.read_text())
        assert ui, log.read_text()
        flow_run = _flow_run(ui.group(1), flow_run_id)
        assert flow_run["state_type"] == "COMPLETED"
        deployment = httpx.get(
            f"{ui.group(1)}/api/deployments/{flow_run['deployment_id']}", timeout=10
        ).json()
        assert deployment["name"] == "every-15-seconds"
        # a second schedule on the same Prefect state took the first one's deployment over: refused
        other = [str(tmp_path / "other.duckdb") if part == str(db) else part for part in command]
        second = subprocess.run(other, env=env, capture_output=True, text=True, timeout=120)
        assert second.returncode == 1, second.stderr
        assert second.stderr == (
            f"sendcorpus: another `sendcorpus schedule` (pid {process.pid}) is serving from Prefect's state "
            f"in {home}: stop it first, or give this schedule a database in another folder (its Prefect "
            "state lives beside it) or its own SENDCORPUS_PREFECT_HOME\n"
        )
        # the README's "run it now", from another shell with the same API
        manual = _run_deployment_now(f"{ui.group(1)}/api", "update/every-15-seconds", env)
        while (manual_run := _flow_run(ui.group(1), manual))["state_type"] != "COMPLETED":
            assert manual_run["state_type"] not in {"FAILED", "CRASHED", "CANCELLED"}, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(1)
        assert manual_run["auto_scheduled"] is False  # not one of the cron's
        # the stop that once left a run starting as the server went away ("Failed to reach API")
        first_runs = _run_processes(process.pid)
        while not (_run_processes(process.pid) - first_runs):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(60)
        except subprocess.TimeoutExpired:  # a schedule that did not stop must not outlive the test
            crash(psutil.Process(process.pid))
            raise
    assert returncode == 0, log.read_text()  # stopping is not an error
    deadline = time.monotonic() + 30
    while _processes_with(str(home)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _processes_with(str(home)) == []
    assert "Traceback" not in log.read_text(), log.read_text()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{ui.group(1)}/api/health", timeout=5)
    runs = _all_runs(db)
    statuses = {run[5] for run in runs}
    # the run stopped as it started says so, if it got as far as the database
    assert statuses <= {"completed", "failed: stopped by SIGTERM before it finished"}, runs
    assert site.file_requests() == ["/v1/file/50224000"], (runs, log.read_text())


# SIGTERM at the worst moment: multiprocessing has spawned the child but not yet written it the pickled
# process it is to run. The stdlib's spawn is wrapped only to send the signal there, every time.
_SIGNALLED_MID_LAUNCH = """
import multiprocessing, os, signal, sys, time
from multiprocessing import resource_tracker, util
from pathlib import Path
from sendcorpus.flows.prefect_server import exit_on_sigterm

resource_tracker.ensure_running()  # spawned too, but before the child, and not signalled
spawn = util.spawnv_passfds
def spawn_then_signal(*args):
    pid = spawn(*args)
    os.kill(os.getpid(), signal.SIGTERM)
    return pid
util.spawnv_passfds = spawn_then_signal

if __name__ == "__main__":
    exit_on_sigterm()
    child = multiprocessing.get_context("spawn").Process(target=Path.touch, args=(Path(sys.argv[1]),))
    child.start()
    time.sleep(60)  # the SIGTERM delivered again ends this; multiprocessing then waits for the child
"""


def test_a_sigterm_as_a_process_is_launched_waits_for_the_launch(tmp_path: Path) -> None:
    script, ran = tmp_path / "launch.py", tmp_path / "child-ran"
    script.write_text(_SIGNALLED_MID_LAUNCH)
    done = subprocess.run(
        [sys.executable, str(script), str(ran)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert ran.exists()  # the child got its instructions


# Ctrl-C while a flow run's process is still starting (importing, unpickling its work): the terminal
# sends SIGINT to the whole group. The child here takes a second to start, as an import does.
_CTRL_C_AS_A_RUN_STARTS = """
import multiprocessing, os, signal, sys, time
from pathlib import Path
from sendcorpus.flows.prefect_server import spawn_deaf_to_ctrl_c

def start_slowly_then_finish(path):
    time.sleep(1.0)
    Path(path).touch()

if __name__ == "__main__":
    if sys.argv[2] == "deaf":
        spawn_deaf_to_ctrl_c()
    child = multiprocessing.get_context("spawn").Process(target=start_slowly_then_finish, args=(sys.argv[1],))
    child.start()
    print("started", flush=True)
    try:
        time.sleep(60)
    except KeyboardInterrupt:
        child.join(30)  # the schedule stops its runs with SIGTERM; here the run may finish
"""


@pytest.mark.parametrize("deaf", [True, False])
def test_ctrl_c_as_a_flow_run_starts_reaches_the_schedule_not_the_run(tmp_path: Path, deaf: bool) -> None:
    script, ran = tmp_path / "ctrl-c.py", tmp_path / "child-finished"
    script.write_text(_CTRL_C_AS_A_RUN_STARTS)
    process = subprocess.Popen(
        [sys.executable, str(script), str(ran), "deaf" if deaf else "as-before"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        start_new_session=True,  # a terminal's process group, with SIGINT at its default
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "started"
    time.sleep(0.3)  # the child is starting
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    if deaf:
        assert (process.returncode, err) == (0, "")
        assert ran.exists()
    else:  # what the schedule did before: the starting run took the Ctrl-C and printed a traceback
        assert "KeyboardInterrupt" in err and "Traceback" in err
        assert not ran.exists()


# A task of the runner that will not be cancelled: asyncio.run, unwinding after SIGTERM, waits for it for
# ever (CI saw the served schedule spin like this on 3 Dec 2026). A flow run's process and a server group
# are started as the schedule starts them.
_STUCK_ON_THE_WAY_OUT = """
import asyncio, multiprocessing, subprocess, sys, time
from sendcorpus.flows import prefect_server

async def stubborn():
    while True:
        try:
            await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            pass

async def main():
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
    prefect_server._servers.append(server)
    run = multiprocessing.get_context("spawn").Process(target=time.sleep, args=(600,))
    run.start()
    print(server.pid, run.pid, flush=True)
    asyncio.ensure_future(stubborn())
    await asyncio.sleep(600)

if __name__ == "__main__":
    prefect_server.EXIT_GRACE = 1.0
    prefect_server.exit_on_sigterm()
    asyncio.run(main())
"""


def test_a_runner_that_will_not_stop_after_sigterm_is_ended_with_its_runs_and_server(tmp_path: Path) -> None:
    script = tmp_path / "stuck.py"
    script.write_text(_STUCK_ON_THE_WAY_OUT)
    process = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    assert process.stdout is not None
    started = [psutil.Process(int(pid)) for pid in process.stdout.readline().split()]  # server, run
    process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert err == (
        "schedule: Prefect's runner had not stopped 1 s after SIGTERM; "
        "its flow runs and the Prefect server were killed\n"
    )
    _, alive = psutil.wait_procs(started, timeout=10)
    assert not alive, "a run or the server outlived the schedule"
