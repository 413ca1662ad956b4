"""SIGKILL a command as a crash would, then end what it left behind (Prefect's temporary server and
the worker pool's fork server outlive a killed parent), so one test's crash never burdens the next."""

from __future__ import annotations

import contextlib
import signal

import psutil


def crash(process: psutil.Popen) -> None:
    leftovers = process.children(recursive=True)
    process.send_signal(signal.SIGKILL)
    process.wait()
    for leftover in leftovers:
        with contextlib.suppress(psutil.NoSuchProcess):
            leftover.kill()
