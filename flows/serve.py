"""Serve the `update` flow on a cron with a Prefect runner, until Ctrl-C or SIGTERM.

`Flow.serve` is not used because its runner's SIGTERM handler exits at once (after calling an async stop
it never awaits): arriving while the runner launches a flow run's process, that exit leaves the child
reading an empty pipe, and it prints a traceback. This runner's handler waits for the launch."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from types import FrameType
from typing import Any

from prefect.deployments.runner import EntrypointType
from prefect.runner import Runner
from prefect.schedules import Schedule

from sendcorpus.flows.prefect_server import exit_unless_launching
from sendcorpus.flows.update import update


class _Runner(Runner):
    def handle_sigterm(self, signum: int, frame: FrameType | None) -> None:  # type: ignore[override]
        exit_unless_launching(signum, frame)


def serve_update(name: str, schedule: Schedule, parameters: dict[str, Any]) -> None:
    """Make `update` the deployment `update/<name>` on `schedule` and run what it schedules, one run at
    a time (a slow run and the next tick must not both download)."""
    runner = _Runner(name=name, limit=1)
    runner.add_flow(
        update,
        name=name,
        schedules=[schedule],
        parameters=parameters,
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    with suppress(KeyboardInterrupt):  # Ctrl-C is how a user stops it
        asyncio.run(runner.start())
