"""Whether an error is a Ctrl-C in disguise.

Ctrl-C raises KeyboardInterrupt where it lands, and the code it lands in may raise something else while
handling it: DuckDB stops its query and raises a RuntimeError, and Prefect, interrupted while it creates
a task run, fails with ValueError("Task run is not set"). Either way the user pressed Ctrl-C."""

from __future__ import annotations

INTERRUPTED = "interrupted before it finished"  # a run's status after Ctrl-C: "failed: interrupted …"


def caused_by_interrupt(error: BaseException | None) -> bool:
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False
