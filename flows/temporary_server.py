"""Prefect's temporary API server for one ingest, started as soon as the plan finds work.

Without PREFECT_API_URL, Prefect starts the same server (uvicorn over `prefect.server.api.server:create_app`,
marked ephemeral) only when the flow is called, after importing its server modules into this process
(≈ 3 s here) just to do so, and then waits ≈ 8 s for it. Started here first, it comes up while this
process imports Prefect and the workers read the first reports. The flow then finds PREFECT_API_URL
set, as with any running server. The server dies with this process, even when it is SIGKILLed.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
from functools import partial

from sendcorpus.flows.parent_death import die_with_parent
from sendcorpus.flows.prefect_server import ServerFailed, _free_port, wait_until_healthy
from sendcorpus.settings import configured_api_url

__all__ = ["ServerFailed", "TemporaryServer", "start_temporary_server"]

# what Prefect's SubprocessASGIServer sets for its temporary server, and no block registration at start:
# it imports every installed Prefect collection first (prefect-dask, ≈ 1 s of the start), and no ingest
# uses blocks
_SERVER_ENV = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
    "PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false",
    "PREFECT_SERVER_REGISTER_BLOCKS_ON_START": "false",
}


class TemporaryServer:
    def __init__(self) -> None:
        port = _free_port()
        self.api_url = f"http://127.0.0.1:{port}/api"
        app = "prefect.server.api.server:create_app"
        args = ["-m", "uvicorn", "--factory", app, "--host", "127.0.0.1", "--port", str(port)]
        self.process = subprocess.Popen(
            [sys.executable, *args, "--log-level", "error", "--lifespan", "on"],
            env={**os.environ, **_SERVER_ENV},
            stdin=subprocess.DEVNULL,
            preexec_fn=partial(die_with_parent, os.getpid()),  # safe: this process has no threads yet
            # out of the terminal's process group: Ctrl-C stops the ingest, which stops the server after
            # the run is recorded (a server stopped by Ctrl-C first left the run minutes of failing calls)
            start_new_session=True,
        )
        # stopped at exit, after Prefect's own exit-time flushes (those run before atexit's handlers)
        atexit.register(self.stop)

    def wait_until_healthy(self, timeout: float | None = None) -> None:
        """Up to `timeout` seconds, by default the start-up allowance configure_prefect sets."""
        if timeout is None:
            timeout = float(os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"])
        wait_until_healthy(self.api_url, self.process, timeout, "Prefect's temporary server", 0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_temporary_server() -> TemporaryServer | None:
    """Start the server and point PREFECT_API_URL at it. None when PREFECT_API_URL names a server already,
    or when Prefect is imported (it read its settings then, so the flow would start a server of its own)."""
    if configured_api_url() or "prefect" in sys.modules:
        return None
    server = TemporaryServer()
    os.environ["PREFECT_API_URL"] = server.api_url
    return server
