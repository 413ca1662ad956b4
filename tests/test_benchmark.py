"""`sendcorpus benchmark` without --scale: every stage timed on a folder of reports, as a user runs it."""

from __future__ import annotations

import re
import shutil
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
    db = tmp_path / "untouched.duckdb"
    result = _cli("benchmark", "--reports", str(reports), "--db", str(db))
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
    assert not db.exists()  # the flow runs load a temporary database, never the user's
    assert "Traceback" not in result.stderr


def test_the_stage_benchmark_says_so_when_the_folder_has_no_reports(tmp_path: Path) -> None:
    result = _cli("benchmark", "--reports", str(tmp_path))
    assert result.returncode == 2
    assert f"no PDFs in {tmp_path}" in result.stdout
    assert "Traceback" not in result.stderr
