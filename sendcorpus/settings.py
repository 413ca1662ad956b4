"""Where things live by default; every path can be overridden on the command line or by environment."""

from __future__ import annotations

import os
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent
# In a source checkout data lives in the project; an installed copy works from the current folder.
PROJECT_ROOT = _CHECKOUT if (_CHECKOUT / "pyproject.toml").is_file() else Path.cwd()


def shared_dir() -> Path:
    """The read-only `shared/` folder beside the project (SENDCORPUS_SHARED overrides)."""
    return Path(os.environ.get("SENDCORPUS_SHARED", PROJECT_ROOT.parent / "shared")).resolve()


def default_db() -> Path:
    return Path(os.environ.get("SENDCORPUS_DB", PROJECT_ROOT / "data" / "sendcorpus.duckdb"))


def default_cache() -> Path:
    return Path(os.environ.get("SENDCORPUS_CACHE", PROJECT_ROOT / "data" / "cache"))


def default_site() -> str:
    """The reports site `update` crawls (SENDCORPUS_SITE overrides)."""
    return os.environ.get("SENDCORPUS_SITE", "https://reports.ofsted.gov.uk")


def default_mirror() -> Path | None:
    mirror = shared_dir() / "corpus" / "reports"
    return mirror if mirror.is_dir() else None


def default_seed_reports() -> list[Path]:
    """Plain-text reports that every default run includes (the Hackney 2025 report)."""
    seed = shared_dir() / "seeds" / "hackney-area-send-inspection-2025.txt"
    return [seed] if seed.is_file() else []


def configure_prefect() -> None:
    """Prefect without a server: a temporary local API per process, state under data/prefect,
    no telemetry (the machine may be offline), and quiet logs so the progress bar stays readable."""
    home = Path(os.environ.get("SENDCORPUS_PREFECT_HOME", PROJECT_ROOT / "data" / "prefect"))
    home.mkdir(parents=True, exist_ok=True)
    defaults = {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
