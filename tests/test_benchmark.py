"""`sendcorpus benchmark` without --scale: every stage timed on a folder of reports, as a user runs it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path

from conftest import REPORTS
from processes import run_cli

_cli = partial(run_cli, timeout=300)
SECONDS = r" +\d+\.\d\d s"


def test_the_stage_benchmark_times_every_stage_on_a_folder_of_reports(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    for name in ("bedford.pdf", "east-sussex.pdf"):
        shutil.copy(REPORTS / name, reports)
    result = _cli("benchmark", "--reports", str(reports))
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert f"2 reports in {reports}" in out
    for stage in (
        rf"text per page  pypdfium2 {SECONDS}  \(\d+ pages\)",
        rf"pypdf {SECONDS}  \(for comparison\)",
        rf"clean {SECONDS}",
        rf"segment {SECONDS}",
        rf"facts {SECONDS}",
        rf"spaCy \(themes, figures\) {SECONDS}  [\d,]+ words, [\d,]+ words/s",
        # the flow's two runs take the Hackney seed as well, as the default ingest does
        rf"flow full run {SECONDS} wall  \(ingest: 3 new, 0 unchanged, 0 duplicate, 0 rejected in ",
        rf"flow no-change run {SECONDS} wall  \(ingest: 0 new, 3 unchanged, 0 duplicate, 0 rejected in ",
    ):
        assert re.search(stage, out), (stage, out)
    ours = re.search(rf"cue phrases  sendcorpus {SECONDS}  ([\d,]+) tokens, ([\d,]+) tokens/s", out)
    spacy = re.search(rf"spaCy Matcher {SECONDS}  ([\d,]+) tokens, ([\d,]+) tokens/s \(for comparison\)", out)
    assert ours and spacy, out
    tokens, sample = (int(match.group(1).replace(",", "")) for match in (ours, spacy))
    # spaCy's Matcher on the same items, or the first 10,000 tokens of them: all of two reports' items
    assert sample == tokens < 10_000
    assert "Traceback" not in result.stderr
    # its flow runs load a temporary database, never a user's: it takes no --db
    refused = _cli("benchmark", "--reports", str(reports), "--db", str(tmp_path / "x.duckdb"))
    assert refused.returncode == 2 and "unrecognized arguments: --db" in refused.stderr


def test_the_stage_benchmark_says_so_when_the_folder_has_no_reports(tmp_path: Path) -> None:
    result = _cli("benchmark", "--reports", str(tmp_path))
    assert result.returncode == 2
    assert f"no PDFs in {tmp_path}" in result.stdout
    assert "Traceback" not in result.stderr


ROOT = Path(__file__).parent.parent


def test_the_crawl_measurement_script_prints_its_numbers() -> None:
    """`scripts/measure_crawl.py`, as the README runs it (a smaller site): a crawl of a site on 127.0.0.1."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "measure_crawl.py"), "--providers", "5"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "providers 5, area SEND publications 10 (5 full)"
    assert re.fullmatch(r"discovery: 7 requests in [\d.]+ s at --delay 0", lines[1])
    assert lines[2].startswith("at the default 1 s delay: discovery ≈ 7 s")


def test_the_corpus_oracle_dumps_every_table_the_same_way_twice(corpus_db: Path, tmp_path: Path) -> None:
    """`scripts/corpus_oracle.py DB OUTDIR`, the check that speed work changed no output."""
    for out in ("first", "second"):
        done = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "corpus_oracle.py"), str(corpus_db), str(tmp_path / out)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
    first = sorted(path.name for path in (tmp_path / "first").iterdir())
    assert "corpus.reports.csv" in first and "corpus.item_themes.csv" in first and len(first) >= 20
    for name in first:
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes(), name
    reports = (tmp_path / "first" / "corpus.reports.csv").read_text().splitlines()
    assert len(reports) == 1 + 45 and "loaded_at" not in reports[0]  # timestamps left out
