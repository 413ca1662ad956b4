"""Advisory lock files: one ingest at a time per database, one schedule at a time per Prefect state."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType


class LockBusy(Exception):
    """Another process holds the lock."""


class LockUnavailable(Exception):
    """The lock file cannot be created (a read-only or unwritable folder)."""


class _FileLock:
    """An exclusive flock on `path`, which holds the holder's pid for whoever finds it busy."""

    def __init__(self, path: Path, wait: bool = False) -> None:
        self.path = path
        self.wait = wait
        self._fd: int | None = None

    def busy(self, holder: str) -> str:
        raise NotImplementedError

    def unavailable(self, why: str) -> str:
        raise NotImplementedError

    def __enter__(self) -> _FileLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise LockUnavailable(self.unavailable(error.strerror or str(error))) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if self.wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
            os.close(fd)
            raise LockBusy(self.busy(holder)) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class IngestLock(_FileLock):
    def __init__(self, db: Path, wait: bool = False) -> None:
        # the real file's name: the same database reached through a symlink or another relative path
        # must meet the same lock
        super().__init__(Path(f"{db.resolve()}.ingest.lock"), wait)
        self.db = db

    def busy(self, holder: str) -> str:
        return f"another ingest is writing {self.db}; wait for it to finish or pass --wait"

    def unavailable(self, why: str) -> str:
        return (
            f"cannot create the ingest lock {self.path} ({why}): the database's folder must "
            "be writable; pass --db with a path you can write to"
        )


class ScheduleLock(_FileLock):
    """Two schedules on one Prefect state would share its server database and deployment names: the
    second took over the first's deployment, and the first database silently stopped being updated."""

    def __init__(self, prefect_home: Path) -> None:
        super().__init__(prefect_home / "schedule.lock")
        self.home = prefect_home

    def busy(self, holder: str) -> str:
        return (
            f"another `sendcorpus schedule` (pid {holder or 'unknown'}) is serving from Prefect's state in "
            f"{self.home}: stop it first, or give this schedule a database in another folder (its Prefect "
            "state lives beside it) or its own SENDCORPUS_PREFECT_HOME"
        )

    def unavailable(self, why: str) -> str:
        return f"cannot create the schedule lock {self.path} ({why}): Prefect's state folder must be writable"
