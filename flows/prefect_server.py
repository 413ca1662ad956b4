"""A Prefect server on 127.0.0.1 for as long as a schedule is served: Prefect's temporary in-process
server cannot run schedules ("Cannot schedule flows on an ephemeral server"), so `schedule` starts a real
one unless PREFECT_API_URL already points at one, and stops it (and everything it started) on the way out."""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from sendcorpus.settings import configured_api_url

# the orderly way out after SIGTERM (the flow runs, then the server: up to 15 s each) ends well within this
EXIT_GRACE = 40.0
_servers: list[subprocess.Popen[bytes]] = []  # the servers `prefect_server` started, for a forced stop


class ServerFailed(Exception):
    """The Prefect server did not come up."""


@contextmanager
def prefect_server(log_dir: Path, startup_timeout: float = 120.0) -> Iterator[str]:
    """Yield the API URL: PREFECT_API_URL when it is set, otherwise a server started here."""
    configured = configured_api_url()
    if configured:
        yield configured
        return
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / "prefect-server.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stopping it stops its workers too
        )
    _servers.append(process)
    try:
        wait_until_healthy(api_url, process, startup_timeout, "the Prefect server", 0.5, f"; see {log_path}")
        os.environ["PREFECT_API_URL"] = api_url
        yield api_url
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        stop_group(process)
        _servers.remove(process)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_healthy(
    api_url: str, process: subprocess.Popen[bytes], timeout: float, what: str, poll: float, hint: str = ""
) -> None:
    """Poll `{api_url}/health` until it answers 200; ServerFailed (naming `what`, then `hint`) when the
    process exits first or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    with httpx.Client() as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServerFailed(f"{what} exited with code {process.returncode}{hint}")
            with suppress(httpx.HTTPError):
                if client.get(f"{api_url}/health", timeout=2.0).status_code == 200:
                    return
            time.sleep(poll)
    raise ServerFailed(f"{what} did not answer within {timeout:g} s{hint}")


def stop_group(process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """SIGTERM to the process group, then SIGKILL for whatever is still there after `grace` seconds."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(grace)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # stragglers in the group, even after the leader exited
    process.wait()


def exit_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the server and the flow runs are stopped on the way out."""
    signal.signal(signal.SIGTERM, exit_unless_launching)


def exit_unless_launching(signum: int, frame: FrameType | None) -> None:
    """A SIGTERM handler: exit with code 0 (a requested stop is not an error), but not while this thread
    is starting a process. Exiting between multiprocessing spawning a child and writing it its
    instructions leaves the child reading an empty pipe, and it prints a traceback ("EOFError: Ran out
    of input"); a SIGTERM landing there is delivered again once the launch has had time to finish."""
    if _launching_a_process(frame):
        retry = threading.Timer(0.05, signal.pthread_kill, (threading.main_thread().ident, signum))
        retry.daemon = True
        retry.start()
        return
    _force_exit_after(EXIT_GRACE)
    sys.exit(0)


def spawn_deaf_to_ctrl_c() -> None:
    """Ctrl-C reaches the terminal's whole process group, the flow runs' processes too: one interrupted
    while it was still importing printed its KeyboardInterrupt traceback. So the processes spawned here
    start with SIGINT blocked; the schedule itself takes Ctrl-C (asyncio cancels the runner at its next
    await, never inside a launch) and stops them with SIGTERM on its way out (`stop_flow_runs`)."""
    spawn = multiprocessing.util.spawnv_passfds

    def spawn_with_sigint_blocked(*args: Any) -> int:
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # the child inherits the mask
        try:
            return spawn(*args)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    multiprocessing.util.spawnv_passfds = spawn_with_sigint_blocked


def _force_exit_after(grace: float) -> None:
    """The orderly way out unwinds through `asyncio.run`, which cancels the runner's tasks and waits for
    them. Once (CI, 3 Dec 2026) one of them spun on without ending, and the process never exited. After
    `grace` seconds this ends the flow runs, the servers and the process, and says so."""

    def force() -> None:
        print(
            f"schedule: Prefect's runner had not stopped {grace:g} s after SIGTERM; "
            "its flow runs and the Prefect server were killed",
            file=sys.stderr,
            flush=True,
        )
        for child in multiprocessing.active_children():
            child.kill()
        for server in list(_servers):
            with suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
        os._exit(0)

    timer = threading.Timer(grace, force)
    timer.daemon = True
    timer.start()


def _launching_a_process(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code is BaseProcess.start.__code__:
            return True
        frame = frame.f_back
    return False


def stop_flow_runs(grace: float = 15.0) -> None:
    """End the flow runs a Prefect runner started in this process (it spawns each with multiprocessing)
    while the server is still up: SIGTERM lets each record its run as crashed, SIGKILL after `grace` s.
    Without this a run being started as the command stops outlives the server and fails to reach it."""
    children = multiprocessing.active_children()
    for child in children:
        child.terminate()
    deadline = time.monotonic() + grace
    for child in children:
        child.join(max(0.0, deadline - time.monotonic()))
        if child.is_alive():
            child.kill()
            child.join()
