"""Where Prefect's state goes, and the one reading of PREFECT_API_URL that ingest, schedule and the benchmark
share."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sendcorpus.settings import PROJECT_ROOT, configure_prefect, configured_api_url

from conftest import HACKNEY_TXT


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("   ", None), (" http://127.0.0.1:4200/api\n", "http://127.0.0.1:4200/api")],
)
def test_a_blank_prefect_api_url_means_no_server(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("PREFECT_API_URL", raising=False)
    else:
        monkeypatch.setenv("PREFECT_API_URL", value)
    assert configured_api_url() == expected


@pytest.mark.slow
def test_prefect_state_lives_beside_the_database_it_ran_for(tmp_path: Path) -> None:
    """Without SENDCORPUS_PREFECT_HOME or PREFECT_HOME, an ingest into a database elsewhere keeps its
    Prefect state (the temporary server's own database) in a `prefect` folder beside it, not in the
    project's data folder or the folder it was started from."""
    db = tmp_path / "corpus" / "area.duckdb"
    started_in = tmp_path / "elsewhere"
    started_in.mkdir()
    unset = {"SENDCORPUS_PREFECT_HOME", "PREFECT_HOME", "PREFECT_API_URL"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sendcorpus.cli",
            "ingest",
            "--no-registry",
            "--source",
            str(HACKNEY_TXT),
            "--db",
            str(db),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=started_in,
        env={key: value for key, value in os.environ.items() if key not in unset},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1].startswith("ingest: 1 new")
    assert (db.parent / "prefect" / "prefect.db").is_file()
    assert list(started_in.iterdir()) == []


def test_the_default_database_keeps_prefect_state_in_the_project_data_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("SENDCORPUS_PREFECT_HOME", "PREFECT_HOME", "SENDCORPUS_DB", "PREFECT_API_URL"):
        monkeypatch.delenv(name, raising=False)
    configure_prefect()
    assert Path(os.environ["PREFECT_HOME"]) == PROJECT_ROOT / "data" / "prefect"
