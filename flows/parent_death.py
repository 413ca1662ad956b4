"""Processes the ingest starts (workers, the fork server, Prefect's temporary server) die with it."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal

_PR_SET_PDEATHSIG = 1
PARENT_VARIABLE = "SENDCORPUS_PARENT_PID"  # tells the fork server which process it must not outlive


def die_with_parent(parent: int | None = None) -> None:
    """Linux: the kernel kills this process when its parent dies, so an ingest killed midway leaves
    no process behind holding memory. With `parent` (the pid the parent had), a process whose parent
    died before this call ends at once instead of living on as an orphan."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if parent is not None and os.getppid() != parent:
        os._exit(1)
