"""Running the command line as a user would, in its own process; and SIGKILLing it as a crash would, then
ending what it left behind (Prefect's temporary server and the worker pool's fork server outlive a killed
parent), so one test's crash never burdens the next; and another process reading the database, as a user's
`sql` would."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil


def run_cli(
    *args: str, timeout: float, python_flags: tuple[str, ...] = (), cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *python_flags, "-m", "sendcorpus.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ},
        cwd=cwd,
    )


def crash(process: psutil.Popen) -> None:
    leftovers = process.children(recursive=True)
    process.send_signal(signal.SIGKILL)
    process.wait()
    for leftover in leftovers:
        with contextlib.suppress(psutil.NoSuchProcess):
            leftover.kill()


_READER = """
import duckdb, sys
con = duckdb.connect(sys.argv[1], read_only=True)
print("holding", flush=True)
sys.stdin.readline()  # until the test lets go
con.close()
"""


@contextlib.contextmanager
def reader_holding(db: Path) -> Iterator[None]:
    """Another process with `db` open read-only (a `sql` reader, a notebook) until the block ends."""
    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "holding"
        yield
    finally:
        reader.communicate("\n", timeout=30)
