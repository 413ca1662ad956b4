"""The comparison report, rendered in a real headless browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from sendcorpus.queries.report import write_report
from sendcorpus.warehouse.reference import UnknownAuthority

from fixtures_corpus import build_synthetic_corpus, open_corpus

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("report")
    con = open_corpus(build_synthetic_corpus(folder / "synthetic.duckdb"))
    try:
        written = {
            suffix: write_report(con, "Hackney", folder / f"hackney.{suffix}") for suffix in ("html", "xlsx")
        }
        # Hackney's report came as text without a URL; Haringey's has its Ofsted link
        written["linked"] = write_report(con, "Haringey", folder / "haringey.html")
        return written
    finally:
        con.close()


def test_html_is_self_contained(reports: dict[str, Path]) -> None:
    page = reports["html"].read_text(encoding="utf-8")
    assert "<table>" in page and "EHC plan timeliness" in page
    assert "<svg" in page and "<title" in page
    assert "<script" not in page
    assert not re.findall(r"https?://", page)
    linked = reports["linked"].read_text(encoding="utf-8")
    links = re.findall(r"https?://[^\s\"'<>]+", linked)
    assert links, "the evidence should link to the published reports"
    assert all(link.startswith("https://files.ofsted.gov.uk/") for link in links)


def test_workbook_has_one_sheet_per_table(reports: dict[str, Path]) -> None:
    workbook = openpyxl.load_workbook(reports["xlsx"], read_only=True)
    assert workbook.sheetnames == ["benchmark", "outcomes", "profile", "evidence", "similar_areas", "about"]
    rows = list(workbook["benchmark"].iter_rows(values_only=True))
    assert rows[0][0] == "theme" and len(rows) == 21


def test_report_needs_an_area_with_a_report(tmp_path: Path) -> None:
    con = open_corpus(build_synthetic_corpus(tmp_path / "synthetic.duckdb"))
    try:
        with pytest.raises(UnknownAuthority, match="Southwark is a local authority but has no report"):
            write_report(con, "Southwark", tmp_path / "southwark.html")
    finally:
        con.close()


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_page_renders_in_headless_chromium(reports: dict[str, Path], tmp_path: Path) -> None:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    url = reports["html"].as_uri()
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert "Themes against comparison groups" in dom
    assert dom.count("<tr>") > 20
    screenshot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, *flags, f"--screenshot={screenshot}", "--window-size=1280,2400", url],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert screenshot.stat().st_size > 10_000
