"""One ingest at a time per database: an advisory lock file beside it."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType


class LockBusy(Exception):
    """Another ingest holds the database."""


class LockUnavailable(Exception):
    """The lock file cannot be created (a read-only or unwritable folder)."""


class IngestLock:
    def __init__(self, db: Path, wait: bool = False) -> None:
        # the real file's name: the same database reached through a symlink or another relative path
        # must meet the same lock
        self.db = db
        self.path = Path(f"{db.resolve()}.ingest.lock")
        self.wait = wait
        self._fd: int | None = None

    def __enter__(self) -> IngestLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise LockUnavailable(
                f"cannot create the ingest lock {self.path} ({error.strerror}): the database's folder must "
                "be writable; pass --db with a path you can write to"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if self.wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockBusy(
                f"another ingest is writing {self.db}; wait for it to finish or pass --wait"
            ) from None
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
