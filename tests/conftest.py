"""Shared fixtures: the real shared data, and one real ingest of the whole corpus per test session."""

from __future__ import annotations

import atexit
import fcntl
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from sendcorpus import settings

SHARED = settings.shared_dir()
REPORTS = SHARED / "corpus" / "reports"
HACKNEY_TXT = SHARED / "seeds" / "hackney-area-send-inspection-2025.txt"
PRESS_ARTICLE = SHARED / "seeds" / "hackney-press-article-2026.txt"
GOLD = SHARED / "gold"

if not REPORTS.is_dir():  # fail loudly: every test here is about real reports
    raise RuntimeError(f"the shared data folder is missing: expected {REPORTS} (or set SENDCORPUS_SHARED)")


# No traffic to any other address: every HTTP client here (httpx) that would reach a host other than
# this machine goes to a closed port on it instead, and fails there. (Both spellings: a lower-case
# variable already set would win.)
for _variable in ("https_proxy", "http_proxy", "all_proxy"):
    os.environ[_variable] = os.environ[_variable.upper()] = "http://127.0.0.1:9"
os.environ["no_proxy"] = os.environ["NO_PROXY"] = "127.0.0.1,localhost"

# Prefect reads its settings when first imported (test modules import the flow), so its state
# folder and quiet logging are set here, before collection, in a folder of this session's own.
_PREFECT_HOME = tempfile.mkdtemp(prefix="sendcorpus-prefect-")
os.environ["SENDCORPUS_PREFECT_HOME"] = os.environ["PREFECT_HOME"] = _PREFECT_HOME
atexit.register(shutil.rmtree, _PREFECT_HOME, ignore_errors=True)
settings.configure_prefect()


def pytest_configure(config: pytest.Config) -> None:
    """One Prefect API for all the flow runs of this test process, started before collection (Prefect
    reads PREFECT_API_URL when first imported). It is the temporary server an ingest starts for itself,
    started once: each command run as a user runs it would otherwise start its own, ≈ 9 s of CPU apiece.
    Tests of the serverless default take `prefect_without_a_server`. The xdist controller runs no tests."""
    if settings.configured_api_url() or getattr(config.option, "numprocesses", None):
        return
    from sendcorpus.flows.temporary_server import start_temporary_server

    server = start_temporary_server()  # points PREFECT_API_URL at it; stopped at exit, dies with this process
    if server is not None:  # None: something imported Prefect already, so each flow run starts its own
        server.wait_until_healthy(120)


@pytest.fixture
def prefect_without_a_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands this test runs get no PREFECT_API_URL: each starts Prefect's temporary server of its own,
    as on a user's machine."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)


@pytest.fixture(scope="session")
def corpus_db(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The 44 shared PDFs plus the Hackney text report, ingested by a real Prefect flow run: once per
    session, by the first xdist worker to need it; every worker gets a copy of its own."""
    db = tmp_path_factory.mktemp("corpus") / "sendcorpus.duckdb"
    if worker_id == "master":
        _ingest_corpus(db)
        return db
    shared = tmp_path_factory.getbasetemp().parent / "shared-corpus.duckdb"
    with open(f"{shared}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other workers wait for the one ingest
        if not shared.is_file():
            _ingest_corpus(db)
            shutil.copyfile(db, f"{shared}.part")
            os.replace(f"{shared}.part", shared)
            return db
    shutil.copyfile(shared, db)
    return db


def _ingest_corpus(db: Path) -> None:
    from sendcorpus.flows.ingest import ingest

    summary = ingest(db=db, sources=[REPORTS, HACKNEY_TXT], use_registry=False)
    assert summary.new == 45, summary.rejections


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """pytest-httpserver on 127.0.0.1 only: no traffic to any other address."""
    return ("127.0.0.1", 0)
