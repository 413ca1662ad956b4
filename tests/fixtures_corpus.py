"""A small synthetic corpus for query tests: real schema and reference data, invented report rows.

Areas come from the shared manifest where they are in it (code, region, source URL); Hackney arrives,
as the real text report does, with no registry code, so it must be matched by the name in the report.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from sendcorpus.settings import shared_dir
from sendcorpus.warehouse.db import connect
from sendcorpus.warehouse.load import ReportRecord, load_report
from sendcorpus.warehouse.reference import build_search_index, load_local_authorities, load_themes

# file → (name in the report, inspection start, outcome, {section: [themes per item]})
REPORTS: dict[str, tuple[str, date, str, dict[str, list[list[str]]]]] = {
    "hackney-area-send-inspection-2025.txt": (
        "London Borough of Hackney",
        date(2025, 3, 10),
        "systemic_failings",
        {
            "weakness": [["ehcp_timeliness", "ehcp_quality"], ["neurodevelopmental"], ["coproduction_voice"]],
            "recommendation": [["ehcp_timeliness"], ["alternative_provision"]],
            "strength": [["leadership_strategy"], ["early_identification"]],
        },
    ),
    "hackney-2016.txt": (
        "Hackney",
        date(2016, 11, 14),
        "not stated",
        {"weakness": [["therapies"], ["mental_health"]]},
    ),
    "haringey.pdf": (
        "Haringey",
        date(2024, 6, 3),
        "inconsistent",
        {
            "weakness": [["ehcp_timeliness"], ["therapies", "neurodevelopmental"]],
            "recommendation": [["ehcp_quality"]],
            "strength": [["coproduction_voice"]],
        },
    ),
    "lewisham.pdf": (
        "Lewisham",
        date(2024, 10, 7),
        "inconsistent",
        {
            "weakness": [["ehcp_quality"], ["alternative_provision"]],
            "strength": [["ehcp_timeliness"]],
        },
    ),
    "greenwich.pdf": (
        "Greenwich",
        date(2024, 2, 5),
        "positive",
        {"recommendation": [["ehcp_timeliness"], ["preparation_for_adulthood"]]},
    ),
    "enfield.pdf": (
        "Enfield",
        date(2024, 9, 9),
        "positive",
        {"strength": [["ehcp_timeliness"]], "recommendation": [["annual_reviews"]]},
    ),
    "bury.pdf": (
        "Bury",
        date(2024, 4, 15),
        "systemic_failings",
        {
            "weakness": [["ehcp_timeliness", "ehcp_quality"], ["neurodevelopmental", "coproduction_voice"]],
            "recommendation": [["leadership_strategy"]],
        },
    ),
    "cornwall.pdf": (
        "Cornwall",
        date(2023, 12, 4),
        "inconsistent",
        {"weakness": [["neurodevelopmental"], ["ehcp_timeliness"]], "strength": [["social_care"]]},
    ),
}

# One of Hackney's statistical neighbours that has no report here.
NEIGHBOUR_WITHOUT_REPORT = "Southwark"


def manifest() -> pl.DataFrame:
    return pl.read_csv(shared_dir() / "corpus" / "manifest.csv", infer_schema=False)


def build_synthetic_corpus(path: Path) -> Path:
    con = connect(path)
    try:
        load_local_authorities(con)
        load_themes(con)
        rows = {row["file"]: row for row in manifest().iter_rows(named=True)}
        for file, (name, started, outcome, sections) in REPORTS.items():
            load_report(con, _record(file, name, started, outcome, sections, rows.get(file)))
        build_search_index(con)
    finally:
        con.close()
    return path


def build_synthetic_corpus_with_official_figures(path: Path) -> Path:
    """The synthetic corpus with the default official figures from ../shared/reference loaded."""
    from sendcorpus.warehouse.official_stats import load_defaults

    build_synthetic_corpus(path)
    con = connect(path)
    try:
        load_defaults(con)
    finally:
        con.close()
    return path


def _record(
    file: str,
    name: str,
    started: date,
    outcome: str,
    sections: dict[str, list[list[str]]],
    registry: dict[str, str] | None,
) -> ReportRecord:
    items, item_themes = [], []
    for section, themed_items in sections.items():
        for item_no, themes in enumerate(themed_items, start=1):
            text = f"{name} {section} item {item_no} about {' and '.join(themes)}."
            if "ehcp_timeliness" in themes:
                text += " Too many EHC plans are issued late, beyond the 20-week timescale."
            items.append(
                {
                    "section": section,
                    "subsection": None,
                    "item_no": item_no,
                    "page": 2 + item_no,
                    "text": text,
                }
            )
            for theme in themes:
                item_themes.append({"section": section, "item_no": item_no, "theme": theme, "evidence": text})
    sha = hashlib.sha256(file.encode()).hexdigest()
    return ReportRecord(
        report_id=sha[:16],
        file=file,
        sha256=sha,
        source_url=registry["source_url"] if registry else None,
        published=started.replace(day=28) if started.month < 12 else started,
        title=f"Area SEND inspection of {name} Local Area Partnership",
        registry_la_code=registry["la_code"] if registry else None,
        n_pages=12 if registry else None,
        n_words=5000,
        pipeline_version="test",
        facts={
            "local_authority": name,
            "outcome": None if outcome == "not stated" else outcome,
            "inspection_start": started,
            "inspection_end": started.replace(day=started.day + 4),
            "next_inspection": "within approximately 3 years",
            "monitoring_inspection": "within approximately 18 months"
            if outcome == "systemic_failings"
            else None,
        },
        rows={"items": items, "item_themes": item_themes},
    )


def open_corpus(path: Path) -> duckdb.DuckDBPyConnection:
    """The read-only connection readers use."""
    return connect(path, read_only=True, allow_files=False)
