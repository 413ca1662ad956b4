"""A progress bar on the terminal, silent when output is not a terminal (CI, cron, pipes)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

from rich.console import Console
from rich.progress import track as rich_track

T = TypeVar("T")
_console = Console(stderr=True)


def track(items: Sequence[T], description: str) -> Iterator[T]:
    if not _console.is_terminal or not items:
        yield from items
        return
    iterable: Iterable[T] = rich_track(items, description=description, console=_console, transient=True)
    yield from iterable
