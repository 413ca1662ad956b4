"""The comparison report, rendered in a real headless browser."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from sendcorpus.queries.report import write_report
from sendcorpus.settings import shared_dir
from sendcorpus.warehouse.db import connect
from sendcorpus.warehouse.official_stats import load_defaults
from sendcorpus.warehouse.reference import UnknownAuthority

from fixtures_corpus import build_synthetic_corpus, open_corpus

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("report")
    path = build_synthetic_corpus(folder / "synthetic.duckdb")
    writer = connect(path)
    load_defaults(writer)
    # a hostile manifest's source URL must never become a link
    writer.execute("UPDATE corpus.reports SET source_url = 'javascript:alert(1)' WHERE file = 'lewisham.pdf'")
    writer.close()
    con = open_corpus(path)
    try:
        written = {
            suffix: write_report(con, "Hackney", folder / f"hackney.{suffix}") for suffix in ("html", "xlsx")
        }
        # Hackney's report came as text without a URL; Haringey's has its Ofsted link
        written["linked"] = write_report(con, "Haringey", folder / "haringey.html")
        written["hostile"] = write_report(con, "Lewisham", folder / "lewisham.html")
        written["hostile_xlsx"] = write_report(con, "Lewisham", folder / "lewisham.xlsx")
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


def test_the_summary_names_the_next_inspections_the_report_announces(reports: dict[str, Path]) -> None:
    hackney = reports["html"].read_text(encoding="utf-8")  # widespread and/or systemic failings
    assert (
        "<dt>Next inspections</dt><dd>monitoring inspection within approximately 18 months; "
        "full inspection within approximately 3 years</dd>"
    ) in hackney
    haringey = reports["linked"].read_text(encoding="utf-8")
    assert "<dt>Next inspections</dt><dd>full inspection within approximately 3 years</dd>" in haringey


def test_workbook_has_one_sheet_per_table(reports: dict[str, Path]) -> None:
    workbook = openpyxl.load_workbook(reports["xlsx"])
    assert workbook.sheetnames == [
        "benchmark",
        "official_figures",
        "trend",
        "outcomes",
        "profile",
        "evidence",
        "similar_areas",
        "about",
    ]
    sheet = workbook["benchmark"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("Theme id", "Theme") and len(rows) == 21
    headings = rows[0]
    # groups named for what they are, small groups flagged, shares formatted as percentages
    assert "⚠<5 Other London reports (4): share" in headings
    assert "Reports in corpus (7 of 153 areas): share" in headings
    share = headings.index("Reports in corpus (7 of 153 areas): share") + 1
    assert sheet.cell(row=2, column=share).number_format == "0.0%"
    assert sheet.auto_filter.ref and sheet.freeze_panes == "A2"
    flagged = headings.index("⚠<5 Neighbours with a report (2 of 10): fewer than 5 reports")
    assert rows[1][flagged] == "yes"
    outcomes = list(workbook["outcomes"].iter_rows(values_only=True))
    assert "Widespread and/or systemic failings" in [row[1] for row in outcomes]
    about = dict(workbook["about"].iter_rows(values_only=True))
    assert about["corpus coverage"] == "7 of 153 local areas in England"
    assert "DfE SEN2 (EHC plans), calendar years 2019–2024" in about["source: ehcp_timeliness"]
    assert "Southwark" in about["statistical neighbours without a report"]


def test_workbook_links_evidence_to_the_pdf_page_and_never_to_javascript(reports: dict[str, Path]) -> None:
    workbook = openpyxl.load_workbook(reports["hostile_xlsx"])
    evidence = workbook["evidence"]
    headings = [cell.value for cell in evidence[1]]
    assert "Evidence" in headings
    links = [cell.hyperlink.target for row in evidence.iter_rows(min_row=2) for cell in row if cell.hyperlink]
    assert not any("javascript" in link for link in links)
    haringey = openpyxl.load_workbook(
        write_report(
            open_corpus(reports["xlsx"].parent / "synthetic.duckdb"),
            "Haringey",
            reports["xlsx"].parent / "haringey.xlsx",
        )
    )["evidence"]
    # xlsx keeps the part after '#' as the link's location
    targets = [
        f"{cell.hyperlink.target}#{cell.hyperlink.location}"
        for row in haringey.iter_rows(min_row=2)
        for cell in row
        if cell.hyperlink
    ]
    assert targets and all(re.fullmatch(r"https://files\.ofsted\.gov\.uk/\S+#page=\d+", t) for t in targets)
    wrapped = headings.index("Evidence") + 1
    assert haringey.cell(row=2, column=wrapped).alignment.wrap_text


def test_hostile_source_url_is_plain_text(reports: dict[str, Path]) -> None:
    page = reports["hostile"].read_text(encoding="utf-8")
    assert "javascript:" not in page.lower()
    assert "lewisham.pdf, page" in page


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
    assert "Official figures beside the themes" in dom and "40.0%" in dom and "45.9%" in dom
    assert dom.count("<polyline") >= 4  # the trend lines drew
    assert dom.count("<tr>") > 20
    screenshot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, *flags, f"--screenshot={screenshot}", "--window-size=1280,3000", url],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", screenshot.read_bytes()[16:24])
    assert (width, height) == (1280, 3000)
    assert screenshot.stat().st_size > 100_000  # a page of text, tables and charts, not a blank one


def _published_2024() -> tuple[float, float, float]:
    """Hackney, London and England in 2024, straight from the shared SEN2 file."""
    published = pl.read_csv(
        shared_dir() / "reference" / "ehcp_timeliness_20_week.csv", infer_schema=False
    ).filter((pl.col("time_period") == "2024") & (pl.col("breakdown") == "All EHC plans issued"))
    hackney = published.filter(pl.col("new_la_code") == "E09000012")
    london = published.filter(
        (pl.col("geographic_level") == "Regional") & (pl.col("region_code") == hackney["region_code"][0])
    )
    england = published.filter(pl.col("geographic_level") == "National")
    return tuple(  # type: ignore[return-value]
        float(frame["pc_plans_issued_within_20_weeks"][0]) for frame in (hackney, london, england)
    )


def test_html_and_workbook_carry_the_official_figures(reports: dict[str, Path]) -> None:
    hackney, london, england = _published_2024()
    assert (hackney, england) == (40.0, 45.9)
    page = reports["html"].read_text(encoding="utf-8")
    row = re.search(r"<tr><td>Plans within 20 weeks %</td>.*?</tr>", page)
    assert row, "the timeliness row is in the official figures table"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0))
    assert cells[2] == f"{hackney:.1f}%" and cells[5] == f"{london:.1f}%" and cells[7] == f"{england:.1f}%"
    assert "7 of England's 153 local areas have a report in the corpus" in page
    assert "without a report: " in page and "Southwark" in page
    assert page.count('<figure class="trend">') == 2
    # the shared exclusions file has no London rows before 2023/24: England's median then leaves London out
    assert (
        "by academic year (England&#x27;s median leaves out London in 2019/20–2022/23: no figures in "
        "the file loaded)</figcaption>"
    ) in page

    sheet = openpyxl.load_workbook(reports["xlsx"])["official_figures"]
    rows = list(sheet.iter_rows(values_only=True))
    headings = rows[0]
    timeliness = next(
        r for r in rows[1:] if r[0] == "ehcp_timeliness" and r[headings.index("Period")] == "2024"
    )
    assert timeliness[headings.index("Area value")] == hackney
    assert timeliness[headings.index("Region value")] == london
    assert timeliness[headings.index("England value")] == england


def test_a_year_with_an_authority_abolished_midway_is_one_point_of_the_trend(corpus_db: Path) -> None:
    """Northamptonshire has two terms of 2020/21: a median labelled by any authority's period could split
    the year into "2020/21" and "2020/21 (autumn + spring)"."""
    from sendcorpus.queries.trend import trends

    con = open_corpus(corpus_db)
    try:
        frame = trends(con, "204")["suspensions"]
    finally:
        con.close()
    periods = frame["period"].unique().sort().to_list()
    assert periods == ["2019/20", "2020/21", "2021/22", "2022/23", "2023/24", "2024/25 (autumn + spring)"]


def test_a_later_report_seen_on_the_site_but_not_loaded_is_flagged(tmp_path: Path) -> None:
    """`update` saw Hackney's next report and could not fetch it: the profile and the page say the area's
    latest inspection is not the one they show."""
    from sendcorpus.queries.catalog import run_query

    db = build_synthetic_corpus(tmp_path / "synthetic.duckdb")
    writer = connect(db)
    url = "https://files.ofsted.gov.uk/v1/file/59999999"
    writer.execute(
        "INSERT INTO corpus.sources VALUES (?, '80499', '204', 'London Borough of Hackney', "
        "'full_inspection', 'Area SEND full inspection', DATE '2029-03-01', now(), now(), "
        "'download failed: HTTP 503', NULL)",
        [url],
    )
    writer.close()
    con = open_corpus(db)
    try:
        profile = run_query(con, "area-profile", {"la": "Hackney"})
        haringey = run_query(con, "area-profile", {"la": "Haringey"})
        page = write_report(con, "Hackney", tmp_path / "hackney.html").read_text(encoding="utf-8")
    finally:
        con.close()
    assert set(profile["newer_publication"]) == {f"2029-03-01, download failed: HTTP 503: {url}"}
    assert haringey["newer_publication"].is_null().all()
    assert (
        "<dt>⚠ Not the latest</dt><dd>Ofsted lists a later full inspection report that is not in the corpus "
        f"(2029-03-01, download failed: HTTP 503: {url}): run <code>sendcorpus update</code></dd>"
    ) in page
