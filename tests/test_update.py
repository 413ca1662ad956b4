"""`sendcorpus update` end to end: real Prefect flow runs against a site of the real site's shape on
127.0.0.1, real PDFs behind the file links, a real DuckDB file."""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Response

from sendcorpus import cli
from sendcorpus.flows import update as update_flow
from sendcorpus.flows.http import PoliteClient, Politeness
from sendcorpus.flows.update import discover_publications, update
from sendcorpus.seeds.seed_reports import seed_inputs
from sendcorpus.warehouse.db import connect
from sendcorpus.warehouse.sources import LOADED, PENDING

from conftest import HACKNEY_TXT
from fixture_site import (
    CHILDRENS_SERVICES,
    FULL,
    OLD_LETTER,
    REVISIT,
    FixtureSite,
    Listing,
    file_host,
    malformed_page,
)
from processes import reader_holding

RUNS = "SELECT kind, status, discovered, new, unchanged, rejected, failed, flow_run_id FROM runs"


@pytest.fixture
def file_server() -> Iterator[HTTPServer]:
    yield from file_host()


def _rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _update(site: FixtureSite, db: Path, tmp_path: Path) -> int:
    return cli.main(["update", "--site", site.url, "--delay", "0", "--db", str(db), "--cache", str(tmp_path)])


@pytest.mark.slow
def test_update_loads_what_is_listed_and_a_second_run_only_what_is_new(
    httpserver: HTTPServer, file_server: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = FixtureSite(httpserver, file_server, page_size=2)  # three pages of results
    site.add(
        "80549",
        "Sandwell Metropolitan Borough Council",
        Listing(FULL, date(2023, 9, 12), "50226473", "sandwell.pdf"),
        Listing(CHILDRENS_SERVICES, date(2022, 3, 1), "50180001", "rutland.pdf"),
        Listing(OLD_LETTER, date(2018, 5, 2), "50010001", "rutland.pdf"),
        Listing(REVISIT, date(2020, 1, 15), "50010002"),
    )
    site.add("80547", "Rutland County Council", Listing(FULL, date(2023, 8, 3), "50224000", "rutland.pdf"))
    site.add("80428", "Bedford Borough", Listing(FULL, date(2025, 2, 4), "50268244", "bedford.pdf"))
    site.add("80443", "Bury Metropolitan Borough Council", raw_html=malformed_page())
    site.add("80464", "Dudley Metropolitan Borough", Listing(FULL, date(2025, 3, 11), "50270000"))  # 404
    db = tmp_path / "sendcorpus.duckdb"

    assert _update(site, db, tmp_path / "cache") == 0
    out, err = capsys.readouterr()
    assert out.startswith("update: 5 providers, 6 area SEND publications: 3 new, 0 unchanged, 2 skipped kind")
    assert "failed Dudley Metropolitan Borough" in err and "HTTP 404" in err
    assert "provider 80443 (Bury Metropolitan Borough Council)" in err
    assert sorted(site.file_requests()) == [
        f"/v1/file/{n}" for n in ("50224000", "50226473", "50268244", "50270000")
    ]
    loaded = _rows(db, "SELECT la_code, source_url, published FROM reports ORDER BY la_code")
    assert loaded == [
        ("333", site.file_url("50226473"), date(2023, 9, 12)),
        ("822", site.file_url("50268244"), date(2025, 2, 4)),
        ("857", site.file_url("50224000"), date(2023, 8, 3)),
    ]
    sources = dict(_rows(db, "SELECT url, status FROM sources"))
    assert sources[site.file_url("50226473")] == "loaded"
    assert sources[site.file_url("50010001")] == "skipped kind"  # old-framework letter: never downloaded
    assert sources[site.file_url("50010002")] == "skipped kind"
    assert sources[site.file_url("50270000")].startswith("download failed: HTTP 404")
    assert site.file_url("50180001") not in sources  # children's services: not an area SEND publication
    assert _rows(db, "SELECT count(*) FROM sources WHERE status = 'loaded' AND report_id IS NULL") == [(0,)]

    # Between the runs: Sandwell is re-inspected (another real report stands in), Haringey is new.
    site.add(
        "80549",
        "Sandwell Metropolitan Borough Council",
        Listing(FULL, date(2024, 8, 30), "50255000", "bolton.pdf"),
    )
    site.add(
        "80498", "London Borough of Haringey", Listing(FULL, date(2024, 4, 3), "50243000", "haringey.pdf")
    )
    # a site error: Camden's link serves the Rutland report already loaded; not recorded as Camden's
    site.add("80483", "London Borough of Camden", Listing(FULL, date(2024, 5, 1), "50244000", "rutland.pdf"))
    site.seen.clear()
    assert _update(site, db, tmp_path / "cache") == 0
    out, err = capsys.readouterr()
    assert out.startswith(
        "update: 7 providers, 9 area SEND publications: 2 new, 3 unchanged, 2 skipped kind, 1 rejected"
    )
    assert "another area's report — the same file as" in err and "the report of Rutland" in err
    camden = _rows(db, f"SELECT status, report_id FROM sources WHERE url = '{site.file_url('50244000')}'")
    assert camden == [("rejected: another area's report", None)]
    # Only the two new files and the retry of the one that failed; nothing loaded is fetched again.
    assert sorted(site.file_requests()) == [
        f"/v1/file/{n}" for n in ("50243000", "50244000", "50255000", "50270000")
    ]
    sandwell = _rows(
        db, "SELECT source_url, outcome, is_latest FROM reports WHERE la_code = '333' ORDER BY published"
    )
    assert sandwell == [
        (site.file_url("50226473"), "inconsistent", False),
        (site.file_url("50255000"), "positive", True),
    ]
    runs = _rows(db, f"{RUNS} ORDER BY started")
    assert [run[:7] for run in runs] == [
        ("update", "completed", 6, 3, 0, 0, 2),
        ("update", "completed", 9, 2, 3, 1, 2),
    ]
    assert all(run[7] for run in runs)
    assert "inconsistent → positive" in _artifact_for(runs[1][7])

    # A cap on pages stops discovery where it is; the run still completes and says why.
    capped = ["update", "--site", site.url, "--delay", "0", "--max-pages", "2", "--db", str(db)]
    assert cli.main([*capped, "--cache", str(tmp_path / "cache")]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("update: 4 providers, 0 area SEND publications: 0 new")
    assert "stopped at the cap of 2 pages per run" in err

    assert cli.main(["runs", "--db", str(db), "--format", "csv"]) == 0
    listed = capsys.readouterr().out.strip().splitlines()
    assert listed[0].startswith("run_id,flow_run_id,kind,started") and len(listed) == 4
    assert cli.main(["runs", "--db", str(db), "--format", "csv", "--limit", "1"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 2


KEPT = "the reports this run loaded are kept and the next update records them"


def _held(db: Path, outcome: str) -> str:
    return (
        f"another process (a `sql` or `report` reader, or another program) held {db} for more than 1 s; "
        f"{outcome}: run update again when it is free"
    )


def _assert_held(code: int, err: str, db: Path, outcome: str) -> None:
    """Exit 1, one last line naming the holder and what became of the run, and no traceback."""
    assert code == 1
    assert err.strip().splitlines()[-1] == f"sendcorpus: update failed: {_held(db, outcome)}"
    assert "Traceback" not in err


@pytest.mark.slow
def test_an_update_waits_for_a_reader_to_let_go_of_the_database(
    httpserver: HTTPServer, file_server: HTTPServer, tmp_path: Path, prefect_without_a_server: None
) -> None:
    """A user reading the database (`sql`, a notebook) as a scheduled update comes to write delays the
    update; it does not fail it (CI once saw a run fail this way, and the report it had loaded was never
    counted as new)."""
    site = FixtureSite(httpserver, file_server)
    site.add("80547", "Rutland County Council", Listing(FULL, date(2023, 8, 3), "50224000", "rutland.pdf"))
    db = tmp_path / "sendcorpus.duckdb"
    connect(db).close()
    command = [sys.executable, "-m", "sendcorpus.cli", "update", "--site", site.url, "--delay", "0"]
    command += ["--db", str(db), "--cache", str(tmp_path / "cache")]
    with reader_holding(db):
        update = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while "/provider/44/80547" not in site.seen:  # discovered: the update's next step opens the file
            assert update.poll() is None and time.monotonic() < deadline, update.communicate()
            time.sleep(0.1)
        time.sleep(2)
        assert update.poll() is None  # waiting for the reader
    out, err = update.communicate(timeout=240)
    assert update.returncode == 0, err
    assert out.startswith("update: 1 providers, 1 area SEND publications: 1 new"), out
    assert [run[:4] for run in _rows(db, RUNS)] == [("update", "completed", 1, 1)]


def test_an_update_held_off_past_its_wait_fails_in_one_line_and_writes_nothing(
    httpserver: HTTPServer,
    file_server: HTTPServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site = FixtureSite(httpserver, file_server)
    site.add("80547", "Rutland County Council", Listing(FULL, date(2023, 8, 3), "50224000", "rutland.pdf"))
    db = tmp_path / "sendcorpus.duckdb"
    connect(db).close()
    monkeypatch.setattr("sendcorpus.flows.update.WRITER_WAIT_SECONDS", 1.0)
    monkeypatch.setattr("sendcorpus.flows.run_report.WRITER_WAIT_SECONDS", 1.0)
    with reader_holding(db):
        code = _update(site, db, tmp_path / "cache")
    _assert_held(code, capsys.readouterr().err, db, "nothing was written")
    assert site.file_requests() == []
    assert _rows(db, "SELECT count(*) FROM sources") == [(0,)]
    assert _rows(db, "SELECT count(*) FROM runs") == [(0,)]  # still held when the failure was to be said

    # a reader that lets go soon after: the failure is in `runs`, where a scheduled run's reader looks
    monkeypatch.setattr("sendcorpus.flows.run_report.WRITER_WAIT_SECONDS", 30.0)
    with contextlib.ExitStack() as held:
        held.enter_context(reader_holding(db))
        threading.Timer(8.0, held.close).start()  # after the update gave up its 1 s wait
        code = _update(site, db, tmp_path / "cache")
    _assert_held(code, capsys.readouterr().err, db, "nothing was written")
    assert _rows(db, "SELECT kind, status, new FROM runs") == [
        ("update", f"failed: {_held(db, 'nothing was written')}", None)
    ]
    assert _rows(db, "SELECT count(*) FROM sources") == [(0,)]


@pytest.mark.parametrize("when", ["after the ingest", "during the ingest"])
def test_a_reader_holding_on_past_the_wait_fails_in_one_line_and_the_next_update_finishes(
    httpserver: HTTPServer,
    file_server: HTTPServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    when: str,
) -> None:
    """Held past the wait after the run's first write: one line, no traceback, whatever was loaded kept,
    and the next update records it (a loaded report's source is marked loaded without a new download)."""
    site = FixtureSite(httpserver, file_server)
    site.add("80547", "Rutland County Council", Listing(FULL, date(2023, 8, 3), "50224000", "rutland.pdf"))
    db = tmp_path / "sendcorpus.duckdb"
    connect(db).close()
    monkeypatch.setattr("sendcorpus.flows.update.WRITER_WAIT_SECONDS", 1.0)
    monkeypatch.setattr("sendcorpus.flows.ingest.WRITER_WAIT_SECONDS", 1.0)
    monkeypatch.setattr("sendcorpus.flows.run_report.WRITER_WAIT_SECONDS", 1.0)
    real_ingest = update_flow._ingest_quietly
    with contextlib.ExitStack() as held:

        def ingest_with_a_reader(db: Path, inputs: list) -> object:
            if when == "during the ingest":
                with reader_holding(db):  # it leaves as the ingest gives up, so the failure is recorded
                    return real_ingest(db, inputs)
            summary = real_ingest(db, inputs)
            held.enter_context(reader_holding(db))
            return summary

        monkeypatch.setattr(update_flow, "_ingest_quietly", ingest_with_a_reader)
        code = _update(site, db, tmp_path / "cache")
    _assert_held(code, capsys.readouterr().err, db, KEPT)
    loaded = 1 if when == "after the ingest" else 0
    update_rows = _rows(db, "SELECT status FROM runs WHERE kind = 'update'")
    assert update_rows == ([] if loaded else [(f"failed: {_held(db, KEPT)}",)])  # still held: no row
    assert _rows(db, "SELECT count(*) FROM corpus.reports") == [(loaded,)]
    assert _rows(db, "SELECT status FROM sources") == [(PENDING,)]
    monkeypatch.undo()
    downloads = len(site.file_requests())
    assert _update(site, db, tmp_path / "cache") == 0
    out, _ = capsys.readouterr()
    assert out.startswith(
        f"update: 1 providers, 1 area SEND publications: {1 - loaded} new, {loaded} unchanged"
    )
    assert _rows(db, "SELECT status FROM sources") == [(LOADED,)]
    if loaded:
        assert len(site.file_requests()) == downloads


def _artifact_for(flow_run_id: str) -> str:
    """The run's Markdown artifact, read back from Prefect's API (a raw filter request: on this pin set
    the client's own `read_artifacts` sends fields the server rejects or joins on task runs)."""
    from prefect.client.orchestration import get_client

    query = {"artifacts": {"flow_run_id": {"any_": [flow_run_id]}}, "limit": 10, "offset": 0}
    with get_client(sync_client=True) as client:
        artifacts = client.request("POST", "/artifacts/filter", json={**query, "sort": "CREATED_DESC"}).json()
    assert [artifact["type"] for artifact in artifacts] == ["markdown"]
    return str(artifacts[0]["data"])


def test_a_site_lost_mid_schedule_is_a_result_not_a_traceback() -> None:
    """Inside the flow (a scheduled run has no command line to probe first) discovery returns the reason."""
    port = _closed_port()
    with PoliteClient(f"http://127.0.0.1:{port}", Politeness()) as client:
        found = discover_publications.fn(client)
    assert found.unreachable and found.unreachable.startswith(f"cannot reach http://127.0.0.1:{port}/search?")
    assert found.publications == []


def test_a_scheduled_run_that_cannot_reach_the_site_says_so_in_runs(tmp_path: Path) -> None:
    """A scheduled run goes straight into the flow: its failure is a row in `runs` for whoever reads the
    database, not only a state in Prefect's UI. A database that does not exist is not created for it."""
    site = f"http://127.0.0.1:{_closed_port()}"
    missing = tmp_path / "missing.duckdb"
    assert update(db=missing, site=site, delay=0, return_state=True).is_failed()
    assert not missing.exists()
    db = tmp_path / "sendcorpus.duckdb"
    connect(db).close()
    state = update(db=db, site=site, delay=0, return_state=True)
    assert state.is_failed() and state.message.startswith(f"cannot reach {site}/search?")
    runs = _rows(db, RUNS)
    assert [run[:7] for run in runs] == [("update", f"failed: {state.message}", 0, None, None, None, None)]
    assert runs[0][7]  # the flow run it was


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_site_fails_fast_with_one_line_and_leaves_the_db_alone(tmp_path: Path) -> None:
    db = tmp_path / "sendcorpus.duckdb"
    connect(db).close()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    port = _closed_port()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sendcorpus.cli",
            "update",
            "--site",
            f"http://127.0.0.1:{port}",
            "--db",
            str(db),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={key: value for key, value in os.environ.items() if "proxy" not in key.lower()},
    )
    assert done.returncode == 1
    assert (
        done.stderr
        == f"sendcorpus: update failed: cannot reach http://127.0.0.1:{port} (Connection refused)\n"
    )
    assert "Traceback" not in done.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    # the site from SENDCORPUS_SITE when --site is not given
    without_proxies = {key: value for key, value in os.environ.items() if "proxy" not in key.lower()}
    by_env = subprocess.run(
        [sys.executable, "-m", "sendcorpus.cli", "update", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**without_proxies, "SENDCORPUS_SITE": f"http://127.0.0.1:{port}"},
    )
    assert by_env.returncode == 1 and by_env.stderr == done.stderr


@pytest.mark.parametrize("command", ["update", "schedule"])
def test_a_database_file_that_is_not_a_corpus_stops_them_before_any_request(
    command: str,
    httpserver: HTTPServer,
    file_server: HTTPServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Found only at the load, it used to cost a crawl of the whole site first (and a stray lock file)."""
    site = FixtureSite(httpserver, file_server)
    site.add("80547", "Rutland County Council", Listing(FULL, date(2023, 8, 3), "50224000", "rutland.pdf"))
    notes = tmp_path / "notes.duckdb"
    notes.write_text("not a database\n")
    args = [
        command,
        "--site",
        site.url,
        "--delay",
        "0",
        "--db",
        str(notes),
        "--cache",
        str(tmp_path / "cache"),
    ]
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"sendcorpus: {notes} is damaged or not a DuckDB database") and err.count("\n") == 1
    assert site.seen == []
    assert notes.read_text() == "not a database\n"
    assert [path.name for path in tmp_path.iterdir()] == ["notes.duckdb"]


def test_bad_update_arguments_are_one_line_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli.main(["update", "--site", "reports.ofsted.gov.uk", "--db", str(tmp_path / "x.duckdb")]) == 1
    assert (
        capsys.readouterr().err
        == "sendcorpus: --site must be an http(s) address, not 'reports.ofsted.gov.uk'\n"
    )
    assert cli.main(["runs", "--db", str(tmp_path / "none.duckdb")]) == 1
    assert "no database at" in capsys.readouterr().err
    # inf overflowed a timestamp deep in the flow; NaN compared false and meant no delay at all
    for command in ("update", "schedule"):
        for delay in ("-1", "inf", "nan", "1e308", "3601"):
            site = ["--site", "http://127.0.0.1:9", "--delay", delay, "--db", str(tmp_path / "x.duckdb")]
            assert cli.main([command, *site]) == 1, (command, delay)
            assert capsys.readouterr().err == (
                "sendcorpus: --delay must be 0 to 3600 seconds and --max-pages at least 1\n"
            )
    assert not (tmp_path / "x.duckdb").exists()


@pytest.mark.slow
def test_a_plain_ingest_is_recorded_in_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "sendcorpus.duckdb"
    assert cli.main(["ingest", "--no-registry", "--source", str(HACKNEY_TXT), "--db", str(db)]) == 0
    runs = _rows(
        db, "SELECT kind, status, discovered, new, unchanged, rejected, failed, flow_run_id FROM runs"
    )
    assert len(runs) == 1 and runs[0][:7] == ("ingest", "completed", 1, 1, 0, 0, 0)
    assert runs[0][7]
    assert "## New reports (1)" in _artifact_for(runs[0][7])


def test_the_hackney_seed_carries_its_ofsted_provenance(tmp_path: Path) -> None:
    (seed,) = seed_inputs([HACKNEY_TXT])
    assert seed.url == "https://files.ofsted.gov.uk/v1/file/50294738"
    assert seed.published == date(2026, 2, 5) and seed.la_code == "204"
    altered = tmp_path / HACKNEY_TXT.name
    altered.write_text(HACKNEY_TXT.read_text(encoding="utf-8") + "\nedited\n", encoding="utf-8")
    assert seed_inputs([altered])[0].url is None  # provenance belongs to that exact text


@pytest.fixture
def site_server() -> Iterator[HTTPServer]:
    """The site on a server of its own, which a test may stop and start again."""
    yield from file_host()


@pytest.mark.slow
def test_a_site_lost_midway_loads_what_was_found_and_the_next_run_the_rest(
    site_server: HTTPServer, file_server: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The site goes away after Rutland's page: Sandwell's and Rutland's reports still come from the file
    host, the run says what it could not read, and the next run, with the site back, reads only Bedford."""
    site = FixtureSite(site_server, file_server, page_size=100)
    site.add("80549", "Sandwell", Listing(FULL, date(2023, 9, 12), "50226473", "sandwell.pdf"))
    site.add("80547", "Rutland", Listing(FULL, date(2023, 8, 3), "50224000", "rutland.pdf"))
    site.add("80428", "Bedford Borough", Listing(FULL, date(2025, 2, 4), "50268244", "bedford.pdf"))

    def rutland_then_gone() -> Response:
        # the server stops once this answer is sent; the client's delay keeps Bedford's request after it
        threading.Thread(target=site_server.stop).start()
        return Response(site.provider_page(site.providers["80547"]), content_type="text/html")

    site.faults["/provider/44/80547"] = [rutland_then_gone]
    db = tmp_path / "sendcorpus.duckdb"
    lost = ["update", "--site", site.url, "--delay", "1", "--db", str(db), "--cache", str(tmp_path)]
    assert cli.main(lost) == 0
    out, err = capsys.readouterr()
    assert out.startswith("update: 3 providers, 2 area SEND publications: 2 new, 0 unchanged")
    assert "1 failed" in out
    [failed] = [line for line in err.splitlines() if line.startswith("  failed ")]
    assert failed.startswith("  failed provider 80428 (Bedford Borough): lost the connection to ")
    assert failed.endswith("so this one and the 0 after it were not read (the next run reads them)")
    assert "Traceback" not in err
    assert _rows(db, "SELECT la_code FROM reports ORDER BY la_code") == [("333",), ("857",)]
    assert [run[:7] for run in _rows(db, RUNS)] == [("update", "completed", 2, 2, 0, 0, 1)]

    site_server.start()  # the same port
    assert _update(site, db, tmp_path) == 0
    out = capsys.readouterr().out
    assert out.startswith("update: 3 providers, 3 area SEND publications: 1 new, 2 unchanged")
    assert _rows(db, "SELECT la_code FROM reports ORDER BY la_code") == [("333",), ("822",), ("857",)]
    assert site.file_requests() == [f"/v1/file/{n}" for n in ("50226473", "50224000", "50268244")]
