"""Prefect logs a task that ends by returning a Failed state (as `load` does when readers hold the database)
with `exc_info=True` outside any exception, and Python's logging prints that as a bare "NoneType: None"
line under the task's one-line failure in a scheduled run's log. This drops the empty exception."""

from __future__ import annotations

import logging


class _NoEmptyException(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[0] is None:
            record.exc_info = None
        return True


def drop_empty_exceptions() -> None:
    """Install the filter on Prefect's task-run logger, once per process."""
    logger = logging.getLogger("prefect.task_runs")
    if not any(isinstance(existing, _NoEmptyException) for existing in logger.filters):
        logger.addFilter(_NoEmptyException())
