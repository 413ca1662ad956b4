"""Running the command line as a user would, in its own process; and SIGKILLing it as a crash would, then
ending what it left behind (Prefect's temporary server and the worker pool's fork server outlive a killed
parent), so one test's crash never burdens the next."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

import psutil


def run_cli(
    *args: str, timeout: float, python_flags: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *python_flags, "-m", "sendcorpus.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ},
    )


def crash(process: psutil.Popen) -> None:
    leftovers = process.children(recursive=True)
    process.send_signal(signal.SIGKILL)
    process.wait()
    for leftover in leftovers:
        with contextlib.suppress(psutil.NoSuchProcess):
            leftover.kill()
