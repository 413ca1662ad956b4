"""Sections and items of real reports, checked against what the PDFs say."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from sendcorpus.extract.parse import parse_report

from conftest import GOLD, HACKNEY_TXT, REPORTS

REPORTED_SECTIONS = ("strength", "weakness", "recommendation")


def _opening(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()[:60]


def _source(file: str) -> Path:
    return REPORTS / file if (REPORTS / file).exists() else HACKNEY_TXT.parent / file


@pytest.mark.parametrize("gold_file", sorted(GOLD.glob("themes/*.json")), ids=lambda p: p.stem)
def test_items_match_the_hand_checked_items(gold_file: Path) -> None:
    gold = json.loads(gold_file.read_text())
    report = parse_report(_source(gold["file"]))
    ours = [
        (item.section, item.subsection, _opening(item.text), item.page)
        for item in report.items
        if item.section in REPORTED_SECTIONS
    ]
    paged = gold["file"].endswith(".pdf")
    expected = [
        (item["section"], item["subsection"], _opening(item["text"]), item["page"] if paged else 1)
        for item in gold["items"]
    ]
    assert ours == expected


def test_bury_priority_action_table_rows_are_items_without_the_responsible_body() -> None:
    report = parse_report(REPORTS / "bury.pdf")
    priority = [item for item in report.items if item.subsection == "priority_action"]
    improvement = [item for item in report.items if item.subsection == "improvement"]
    assert len(priority) == 6
    assert len(improvement) == 3
    assert priority[0].text.startswith("Leaders across the partnership should ensure that the SEND strategy")
    assert priority[0].page == 8
    assert all("Responsible body" not in item.text for item in priority)
    assert all("Manchester ICB" not in item.text for item in priority)
    # the lead-in and its sub-bullets are one item, continued over the page break
    assert "• children and young people on a neurodevelopmental pathway" in priority[2].text
    assert priority[2].text.endswith("locally agreed neurodevelopmental diagnostic pathway.")


def test_rows_of_a_ruled_table_without_white_space_are_separate_items() -> None:
    report = parse_report(REPORTS / "warrington.pdf")
    recommendations = [item.text.split(" ")[:4] for item in report.items if item.section == "recommendation"]
    assert recommendations == [
        ["Leaders", "from", "across", "health,"],
        ["Leaders", "across", "the", "partnership"],
        ["Health", "commissioners", "and", "providers"],
        ["Leaders", "across", "health,", "social"],
    ]


def test_a_phrase_like_a_heading_inside_a_sentence_is_not_a_heading() -> None:
    # Sandwell's first strength wraps onto a line starting "areas for improvement identified in ..."
    counts = Counter(item.section for item in parse_report(REPORTS / "sandwell.pdf").items)
    assert counts["strength"] == 7
    assert counts["weakness"] == 5
    assert counts["recommendation"] == 3


def test_wrapped_title_is_joined() -> None:
    assert parse_report(REPORTS / "darlington.pdf").heading == (
        "Area SEND inspection of Darlington Local Area Partnership"
    )


def test_items_span_page_breaks_and_keep_the_page_they_start_on() -> None:
    report = parse_report(REPORTS / "brighton-and-hove.pdf")
    strengths = [item for item in report.items if item.section == "strength"]
    # the fifth bullet starts on page 3 and ends on page 4
    assert strengths[4].page == 3
    assert strengths[4].text.endswith("from the right professional at the right time.")


def test_every_report_has_strengths_weaknesses_and_recommendations() -> None:
    for path in sorted(REPORTS.glob("*.pdf")):
        sections = Counter(item.section for item in parse_report(path).items)
        assert all(sections[name] > 0 for name in REPORTED_SECTIONS), (path.name, sections)


def test_running_headers_and_page_numbers_are_gone() -> None:
    report = parse_report(REPORTS / "bury.pdf")
    text = "\n".join(page.text for page in report.pages)
    assert "Inspection report: Bury Local Area Partnership" not in text
    assert "12 to 16 February 2024 9" not in text
    assert "\x02" not in text and "\ufffe" not in text


def test_messy_text_report_with_html_fragments() -> None:
    report = parse_report(HACKNEY_TXT)
    weaknesses = [item for item in report.items if item.section == "weakness"]
    assert weaknesses[0].text.endswith("about the impact of their work.")  # joined over a blank line
    recommendations = [item for item in report.items if item.section == "recommendation"]
    assert all("<p>" not in item.text and "<ul" not in item.text for item in recommendations)
    assert "• ensure that there is a consistent approach" in recommendations[3].text
