"""Where things live by default; every path can be overridden on the command line or by environment."""

from __future__ import annotations

import os
import tempfile
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


def configured_api_url() -> str | None:
    """The Prefect server PREFECT_API_URL names, or None when it is unset or blank."""
    return os.environ.get("PREFECT_API_URL", "").strip() or None


class PrefectStateError(Exception):
    """Prefect's state folder or configured API cannot be used; the message says which and what to do."""


API_PROBE_SECONDS = 3.0


def configure_prefect(db: Path | None = None) -> None:
    """Prefect without a server: a temporary local API per process, state in a `prefect` folder beside
    the database (`data/prefect` for the default one; SENDCORPUS_PREFECT_HOME or PREFECT_HOME override),
    no telemetry (the machine may be offline), and quiet logs so the progress bar stays readable.

    Checks what Prefect would otherwise fail on deep inside a flow run, or hang on: a PREFECT_HOME
    that is not a writable folder, and a configured PREFECT_API_URL that does not answer."""
    beside = (db or default_db()).expanduser().absolute().parent
    home = Path(os.environ.get("SENDCORPUS_PREFECT_HOME", beside / "prefect"))
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
    check_prefect_home(Path(os.environ["PREFECT_HOME"]).expanduser())
    api = configured_api_url()
    if api:
        check_prefect_api(api)


def check_prefect_home(home: Path) -> None:
    if home.exists() and not home.is_dir():
        raise PrefectStateError(
            f"PREFECT_HOME {home} is a file, not a folder: point PREFECT_HOME (or SENDCORPUS_PREFECT_HOME) "
            "at a folder"
        )
    try:
        home.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=home):
            pass
    except OSError as error:
        raise PrefectStateError(
            f"PREFECT_HOME {home} is not a writable folder ({error.strerror}): point PREFECT_HOME "
            "(or SENDCORPUS_PREFECT_HOME) at a folder you can write to"
        ) from None


def check_prefect_api(url: str, seconds: float = API_PROBE_SECONDS) -> None:
    """A configured Prefect API must answer its health check quickly; a dead or silent one would make
    the flow fail late or hang while holding the ingest lock."""
    import httpx

    health = f"{url.rstrip('/')}/health"
    advice = "start that Prefect server, or unset PREFECT_API_URL to use a temporary local one"
    try:
        response = httpx.get(health, timeout=seconds)
    except httpx.TimeoutException:
        raise PrefectStateError(
            f"PREFECT_API_URL {url} did not answer within {seconds:g} s: {advice}"
        ) from None
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        raise PrefectStateError(
            f"PREFECT_API_URL {url} cannot be reached ({type(error).__name__}): {advice}"
        ) from None
    if response.status_code != 200:
        raise PrefectStateError(
            f"PREFECT_API_URL {url} answered HTTP {response.status_code} to {health}, so it is not a "
            f"working Prefect API: {advice}"
        )
