"""Ingest at scale: planning without Prefect, chunks, the pool, isolation per report, the index marker."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import duckdb
import pytest

from sendcorpus.flows.analyse import Analyser
from sendcorpus.flows.ingest import DatabaseHeld, _writer, ingest
from sendcorpus.flows.plan import cached_sha256
from sendcorpus.flows.sources import InputFile
from sendcorpus.warehouse.db import connect
from sendcorpus.warehouse.load import Rejection, ReportRecord, load_chunk

from conftest import HACKNEY_TXT, REPORTS
from processes import crash, reader_holding, run_cli

_cli = partial(run_cli, timeout=300)


def _copy(corpus_db: Path, tmp_path: Path) -> Path:
    db = tmp_path / "copy.duckdb"
    shutil.copy(corpus_db, db)
    return db


def _imported(importtime_stderr: str) -> set[str]:
    """Top-level package names from `python -X importtime` output."""
    names = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_a_no_change_run_is_planned_without_prefect_or_spacy(corpus_db: Path, tmp_path: Path) -> None:
    db = _copy(corpus_db, tmp_path)
    args = (
        "ingest",
        "--no-registry",
        "--source",
        str(REPORTS),
        "--source",
        str(HACKNEY_TXT),
        "--db",
        str(db),
    )
    result = _cli(*args, python_flags=("-X", "importtime"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1].startswith("ingest: 0 new, 45 unchanged, 0 duplicate")
    imported = _imported(result.stderr)
    assert "duckdb" in imported
    assert not imported & {"prefect", "spacy", "pypdfium2"}


@pytest.mark.parametrize("command", [("sql", "select 1"), ("query", "theme-benchmark", "--la", "Hackney")])
def test_read_only_commands_import_neither_prefect_nor_spacy(
    corpus_db: Path, command: tuple[str, ...]
) -> None:
    result = _cli(*command, "--db", str(corpus_db), python_flags=("-X", "importtime"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert not _imported(result.stderr) & {"prefect", "spacy", "pypdfium2"}


@pytest.mark.slow
def test_a_search_index_left_half_built_is_rebuilt_by_the_next_ingest(
    corpus_db: Path, tmp_path: Path
) -> None:
    db = _copy(corpus_db, tmp_path)
    con = connect(db)
    items = con.execute("SELECT count(*) FROM corpus.items").fetchone()[0]
    # what a full disk during the build leaves behind: the marker says building, the table is part done
    con.execute("UPDATE corpus.ingest_state SET value = 'building' WHERE key = 'search_index'")
    con.execute("DELETE FROM corpus.search_items WHERE item_no > 3")
    con.close()
    args = (
        "ingest",
        "--no-registry",
        "--source",
        str(REPORTS),
        "--source",
        str(HACKNEY_TXT),
        "--db",
        str(db),
    )
    result = _cli(*args)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1].startswith("ingest: 0 new, 45 unchanged")
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM corpus.search_items").fetchone()[0] == items
    assert con.execute("SELECT value FROM corpus.ingest_state WHERE key = 'search_index'").fetchone() == (
        "ok",
    )
    con.close()
    search = _cli(
        "query", "search", "--text", "speech and language therapy", "--format", "csv", "--db", str(db)
    )
    assert search.returncode == 0, search.stderr
    assert len(search.stdout.splitlines()) > 2


def _inputs(*paths: Path) -> list[InputFile]:
    inputs = []
    for path in paths:
        item = InputFile(name=path.name, path=path)
        item.sha256 = cached_sha256(path)
        inputs.append(item)
    return inputs


def test_one_report_failing_in_the_spacy_pass_rejects_only_that_report(tmp_path: Path) -> None:
    text = HACKNEY_TXT.read_text(encoding="utf-8")
    first_item = next(line for line in text.splitlines() if line.startswith("- "))
    # one item past spaCy's max_length (1,000,000 characters): E088 for this report, not the chunk
    huge = tmp_path / "huge-item.txt"
    huge.write_text(text.replace(first_item, first_item + " Leaders plan well." * 60_000), encoding="utf-8")
    gone = tmp_path / "vanished.pdf"
    shutil.copy(REPORTS / "bury.pdf", gone)
    chunk = _inputs(REPORTS / "rutland.pdf", huge, gone, HACKNEY_TXT)
    gone.unlink()  # deleted between planning and reading
    with Analyser(workers=2) as analyser:
        results = analyser.submit(chunk)()
    assert [type(result).__name__ for result in results] == [
        "ReportRecord",
        "Rejection",
        "Rejection",
        "ReportRecord",
    ]
    assert results[1].file == huge.name and results[1].detail
    assert results[2].file == gone.name and results[2].reason == "unreadable"


def test_a_chunk_whose_pool_the_stopping_run_closes_fails_in_one_line(tmp_path: Path) -> None:
    """SIGTERM or Ctrl-C mid-ingest closes the pool under the chunks still analysing: each was a task
    failing with a CancelledError traceback in a scheduled run's Prefect log; now a failed state that says
    why."""
    import threading

    from prefect.states import State

    from sendcorpus.flows.ingest import Chunk, analyse_chunk

    chunk = Chunk(_inputs(*sorted(REPORTS.glob("*.pdf"))))  # 44: most are still queued when it closes
    analyser = Analyser(workers=2).__enter__()
    outcome: list[object] = []
    waiting = threading.Thread(target=lambda: outcome.append(analyse_chunk.fn(chunk, analyser)))
    waiting.start()
    deadline = time.monotonic() + 60
    while analyser._pool is None and time.monotonic() < deadline:  # submitted
        time.sleep(0.01)
    analyser.close()
    waiting.join(120)
    [state] = outcome
    assert isinstance(state, State) and state.is_failed()
    assert state.message == "not analysed: the run was stopped"


def _record(report_id: str, file: str, evidence: str | None) -> ReportRecord:
    return ReportRecord(
        report_id=report_id,
        file=file,
        sha256=report_id * 4,
        source_url=None,
        published=None,
        title="t",
        registry_la_code=None,
        n_pages=1,
        n_words=1,
        pipeline_version="x",
        rows={
            "items": [{"section": "strength", "subsection": None, "item_no": 1, "page": 1, "text": "words"}],
            "item_themes": [
                {"section": "strength", "item_no": 1, "theme": "therapies", "evidence": evidence}
            ],
        },
    )


def test_one_reports_load_error_rejects_that_report_and_the_rest_of_the_chunk_loads(tmp_path: Path) -> None:
    con = connect(tmp_path / "chunk.duckdb")
    good, bad = _record("a" * 16, "good.pdf", "a sentence"), _record("b" * 16, "bad.pdf", None)
    earlier = Rejection("other.pdf", None, "empty", "the file is empty (0 bytes)")
    failed = load_chunk(con, [good, bad], [earlier], replace_ids=set())
    assert [(r.file, r.reason) for r in failed] == [("bad.pdf", "load_failed")]
    assert "NOT NULL" in failed[0].detail
    assert con.execute("SELECT file FROM corpus.reports").fetchall() == [("good.pdf",)]
    assert con.execute("SELECT count(*) FROM corpus.items").fetchone()[0] == 1
    assert sorted(con.execute("SELECT file, reason FROM corpus.rejected").fetchall()) == [
        ("bad.pdf", "load_failed"),
        ("other.pdf", "empty"),
    ]
    con.close()


def test_the_writer_waits_for_a_reader_a_bounded_time_and_says_the_file_is_held(
    corpus_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _copy(corpus_db, tmp_path)
    monkeypatch.setattr("sendcorpus.flows.ingest.WRITER_WAIT_SECONDS", 1.5)
    with reader_holding(db):
        started = time.monotonic()
        with pytest.raises(DatabaseHeld, match=r"held by another process.*chunks already loaded are kept"):
            _writer(db)
        assert 1.4 < time.monotonic() - started < 20
    _writer(db).close()  # free again once the reader has gone


def test_an_ingest_held_off_fails_in_prefects_log_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A scheduled update runs the ingest as a subflow, and its log is Prefect's (no command line to quiet
    it): an expected failure there is the run's state with its one-line reason, not a task's traceback."""
    db = tmp_path / "held.duckdb"
    connect(db).close()
    monkeypatch.setattr("sendcorpus.flows.ingest.WRITER_WAIT_SECONDS", 1.0)
    for name in ("prefect.flow_runs", "prefect.task_runs"):  # as a served run has them (the CLI quiets them)
        caplog.set_level(logging.INFO, logger=name)
    with reader_holding(db), pytest.raises(DatabaseHeld, match="chunks already loaded are kept"):
        ingest(db=db, sources=[REPORTS / "rutland.pdf"], use_registry=False, workers=1)
    assert "Finished in state Failed('the database" in caplog.text, caplog.text
    assert "Traceback" not in caplog.text, caplog.text
    assert "NoneType: None" not in caplog.text, caplog.text  # Prefect's empty exception, under the task
    assert connect(db).execute("SELECT count(*) FROM corpus.reports").fetchone() == (0,)


@pytest.mark.slow
def test_a_run_killed_after_some_chunks_keeps_them_and_the_next_run_does_only_the_rest(
    tmp_path: Path,
) -> None:
    import psutil

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for pdf in sorted(REPORTS.glob("*.pdf"))[:12]:
        shutil.copy(pdf, inbox / pdf.name)
    db = tmp_path / "killed.duckdb"
    args = [sys.executable, "-m", "sendcorpus.cli", "ingest", "--no-registry", "--db", str(db)]
    args += ["--source", str(inbox), "--chunk-size", "3", "--workers", "2"]
    process = psutil.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    for line in process.stderr:  # "ingest: 3 of 12 reports done" after each committed chunk
        if line.startswith("ingest: ") and int(line.split()[1]) >= 3:
            break
    crash(process)
    con = duckdb.connect(str(db), read_only=True)
    kept = con.execute("SELECT count(*) FROM corpus.reports").fetchone()[0]
    con.close()
    assert 3 <= kept < 12 and kept % 3 == 0  # whole chunks only
    result = _cli("ingest", "--no-registry", "--source", str(inbox), "--db", str(db))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1].startswith(f"ingest: {12 - kept} new, {kept} unchanged")


def test_workers_and_chunk_size_must_be_positive_whole_numbers(tmp_path: Path) -> None:
    result = _cli("ingest", "--no-registry", "--workers", "0", "--db", str(tmp_path / "x.duckdb"))
    assert result.returncode == 2
    assert "--workers: must be 1 or more, not 0" in result.stderr
    result = _cli("ingest", "--no-registry", "--chunk-size", "many", "--db", str(tmp_path / "x.duckdb"))
    assert result.returncode == 2
    assert "not a whole number: 'many'" in result.stderr
    assert not (tmp_path / "x.duckdb").exists()


@pytest.mark.slow
def test_the_scale_benchmark_prints_its_numbers_at_a_tiny_scale(prefect_without_a_server: None) -> None:
    # six Prefect runs (trivial flows, ingest, kill, re-runs) on one server, as `schedule` runs them; the
    # temporary server per run is the default, which test_memory_scale's benchmark run takes
    args = ("benchmark", "--scale", "3", "--workers", "2", "--kill-at", "0.5", "--compare-runners")
    args += ("--one-server",)
    result = _cli(*args, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "reports (synthetic, distinct bytes)          3" in out
    assert re.search(
        r"Prefect server +one for every run, started here .*\(http://127\.0\.0\.1:\d+/api\)", out
    )
    for label in (
        "raw pypdfium2 floor (1 process)",
        "trivial Prefect flow (3 tasks)",
        "  the same, server started as ingest does",
        "  the same, trivial flow's server started as ingest does",
        "peak memory, process tree",
        "no-change re-run",
        "database size",
        "query theme-benchmark",
        '`sendcorpus sql "select 1"`',
        "(ingest - trivial flow) / raw floor",
        "(killed + re-run) / uninterrupted, wall",
        "  the same in CPU seconds of the process trees",
        "analysis on concurrent.futures",
        "analysis on Prefect ProcessPoolTaskRunner",
    ):
        assert label in out, out
    assert "ingest: 3 new, 0 unchanged, 0 duplicate, 0 rejected" in out
    assert "failed" not in out
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    killed, rerun, whole = map(float, re.search(r"([\d.]+) \+ ([\d.]+) / ([\d.]+) = ", out).groups())
    assert min(killed, rerun) > 1.0 and whole > 2.0  # seconds of real work were counted, not zero
