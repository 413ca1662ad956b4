"""Progress of a run: a bar on a terminal, one line per finished chunk otherwise (CI, cron, pipes)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

from rich.console import Console
from rich.progress import Progress, TaskID
from rich.progress import track as rich_track

T = TypeVar("T")
_console = Console(stderr=True)


def track(items: Sequence[T], description: str) -> Iterator[T]:
    if not _console.is_terminal or not items:
        yield from items
        return
    iterable: Iterable[T] = rich_track(items, description=description, console=_console, transient=True)
    yield from iterable


class RunProgress:
    """`advance(n)` after each committed chunk of a run of `total` reports."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> RunProgress:
        if self.total and _console.is_terminal:
            self._bar = Progress(console=_console, transient=True)
            self._bar.start()
            self._task = self._bar.add_task("ingesting", total=self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def advance(self, reports: int) -> None:
        self.done += reports
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=self.done)
        else:
            print(f"ingest: {self.done} of {self.total} reports done", file=sys.stderr, flush=True)
