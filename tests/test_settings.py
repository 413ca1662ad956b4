"""The one reading of PREFECT_API_URL that ingest, schedule and the benchmark share."""

from __future__ import annotations

import pytest

from sendcorpus.settings import configured_api_url


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
