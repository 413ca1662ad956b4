"""Sections and items of real reports, checked against what the PDFs say."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from sendcorpus.extract.layout import Line, Page, ParsedReport
from sendcorpus.extract.parse import parse_report
from sendcorpus.extract.pdf_text import read_pdf
from sendcorpus.extract.segment import segment

from conftest import GOLD, HACKNEY_TXT, REPORTS

REPORTED_SECTIONS = ("strength", "weakness", "recommendation")


def _opening(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()[:60]


def _source(file: str) -> Path:
    return REPORTS / file if (REPORTS / file).exists() else HACKNEY_TXT.parent / file


# Gold items that are halves of a table row split at a page break by an earlier segmenter: the row is
# one item now, and the half is the rest of the item before it.
GOLD_ROW_HALVES = {
    ("halton.pdf", "that children young people and their families receive suffic"),
    ("nottinghamshire.pdf", "with send this includes assessment of needs timely issuing o"),
}


@pytest.fixture(scope="module")
def all_reports() -> dict[str, ParsedReport]:
    return {path.name: parse_report(path) for path in sorted(REPORTS.glob("*.pdf"))}


@pytest.mark.parametrize("gold_file", sorted(GOLD.glob("themes/*.json")), ids=lambda p: p.stem)
def test_items_match_the_hand_checked_items(gold_file: Path) -> None:
    """Every gold item is a corpus item (same section, subsection, opening and page), in any order."""
    gold = json.loads(gold_file.read_text())
    report = parse_report(_source(gold["file"]))
    ours = Counter(
        (item.section, item.subsection, _opening(item.text), item.page)
        for item in report.items
        if item.section in REPORTED_SECTIONS
    )
    paged = gold["file"].endswith(".pdf")
    expected = Counter(
        (item["section"], item["subsection"], _opening(item["text"]), item["page"] if paged else 1)
        for item in gold["items"]
        if (gold["file"], _opening(item["text"])) not in GOLD_ROW_HALVES
    )
    assert ours == expected
    # and on the whole of the gold's text (its first 160 characters), not only the opening
    texts = {
        (item.section, item.page if paged else 1, _opening_words(item.text).strip()) for item in report.items
    }
    for item in gold["items"]:
        if (gold["file"], _opening(item["text"])) in GOLD_ROW_HALVES:
            continue
        gold_text = _opening_words(item["text"]).strip()
        page = item["page"] if paged else 1
        assert any(
            (section, at) == (item["section"], page) and text.startswith(gold_text)
            for section, at, text in texts
        ), item["text"]


@pytest.mark.parametrize(("file", "half"), sorted(GOLD_ROW_HALVES))
def test_gold_row_halves_are_inside_the_row_they_continue(file: str, half: str) -> None:
    items = parse_report(REPORTS / file).items
    assert [item for item in items if half in _opening_words(item.text)]
    assert not [item for item in items if _opening(item.text) == half]


def _opening_words(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower())


@pytest.mark.parametrize(
    ("file", "start", "page", "carried_on"),
    [
        (
            "halton.pdf",
            "Leaders across education, health and social care should improve the joint commissioning",
            5,
            "of services to ensure that children, young people and their families receive sufficient",
        ),
        (
            "nottinghamshire.pdf",
            "Leaders, NHS Nottingham and Nottinghamshire Integrated Care Board and education",
            5,
            "needs of children and young people with SEND. This includes assessment of needs",
        ),
    ],
)
def test_a_table_row_continued_over_a_page_break_is_one_item(
    all_reports: dict[str, ParsedReport], file: str, start: str, page: int, carried_on: str
) -> None:
    [row] = [item for item in all_reports[file].items if item.text.startswith(start)]
    assert (row.subsection, row.page) == ("priority_action", page)
    assert carried_on in row.text and row.text.endswith(".")


def test_a_table_row_on_the_same_baseline_as_its_body_cell_keeps_its_opening_words(
    all_reports: dict[str, ParsedReport],
) -> None:
    # pdfium reads "Plymouth City Council" (body cell) and the row's first line as one line
    priority = [item for item in all_reports["plymouth.pdf"].items if item.subsection == "priority_action"]
    assert len(priority) == 5
    assert priority[4].text.startswith("Plymouth City Council leaders should ensure that children and young")
    assert priority[4].page == 7
    lines = [
        line for line in read_pdf(REPORTS / "plymouth.pdf")[6].lines if "Plymouth City Council" in line.text
    ]
    assert ("Plymouth City Council", "Plymouth City Council leaders should ensure that") in {
        (left.text, right.text) for left, right in itertools.pairwise(lines)
    }
    body, row = next(
        (left, right) for left, right in itertools.pairwise(lines) if right.text.endswith("ensure that")
    )
    assert body.x0 is not None and row.x0 is not None and row.x0 - body.x0 > 100 and body.top == row.top


def test_no_reported_item_is_a_fragment(all_reports: dict[str, ParsedReport]) -> None:
    """Across all 44 PDFs: items open like a sentence and end like one."""
    fragments = [
        (file, item.section, item.page, item.text[:50], item.text[-30:])
        for file, report in all_reports.items()
        for item in report.items
        if item.section in REPORTED_SECTIONS
        and (item.text[:1].islower() or not item.text.endswith((".", ")", "’", "”")))
    ]
    assert fragments == []


_COLUMNS = {"body": 62.4, "action": 223.6}


def _table(*pages: list[tuple[str, str]]) -> list[Page]:
    """Pages of a priority-action table: (column, text) rows, each cell one line, top to bottom."""
    header = [
        Line("Areas for priority action", 1, x0=56.6, top=760, bottom=749, gap_before=True),
        Line("Responsible body", 1, x0=62.4, top=740, bottom=729, gap_before=True),
    ]
    built = []
    for number, rows in enumerate(pages, start=1):
        lines = header if number == 1 else []
        top = 720.0
        for column, text in rows:
            lines.append(Line(text, number, x0=_COLUMNS[column], top=top, bottom=top - 11, gap_before=True))
            top -= 20 if column == "action" else 0  # a body cell and its row's text share a baseline
        built.append(Page(number, lines))
    return built


def test_a_row_broken_inside_its_body_cell_continues_even_when_its_text_starts_a_sentence() -> None:
    """A constructed variant of Nottinghamshire's table: the row's text breaks after a full stop, so only
    the body cell ("... Council and" / "NHS ... Board") shows the row goes on over the page."""
    pages = _table(
        [("body", "Testshire County Council and"), ("action", "Leaders should cooperate to identify needs.")],
        [
            ("body", "NHS Testshire Integrated Care Board"),
            ("action", "This includes the timely issuing of EHC plans."),
            ("body", "Testshire County Council"),
            ("action", "Leaders should improve annual reviews."),
        ],
    )
    _, items = segment(pages)
    assert [(item.page, item.text) for item in items] == [
        (1, "Leaders should cooperate to identify needs. This includes the timely issuing of EHC plans."),
        (2, "Leaders should improve annual reviews."),
    ]


def test_a_row_whose_text_alone_goes_on_over_the_page_is_one_item() -> None:
    """A constructed variant: the body cell ends on the first page, the row's text after a full stop."""
    pages = _table(
        [("body", "Testshire County Council"), ("action", "Leaders should cooperate to identify needs.")],
        [
            ("action", "This includes the timely issuing of EHC plans."),
            ("body", "Testshire County Council"),
            ("action", "Leaders should improve annual reviews."),
        ],
    )
    _, items = segment(pages)
    assert [(item.page, item.text) for item in items] == [
        (1, "Leaders should cooperate to identify needs. This includes the timely issuing of EHC plans."),
        (2, "Leaders should improve annual reviews."),
    ]
    continued = items[0].text.index("This includes")
    assert items[0].page_breaks == ((continued, 2),)
    assert (items[0].page_at(0), items[0].page_at(continued - 1), items[0].page_at(continued)) == (1, 1, 2)
    assert items[1].page_breaks == () and items[1].page_at(10) == 2


def test_a_new_row_at_the_top_of_a_page_stays_a_new_item() -> None:
    pages = _table(
        [("body", "Testshire County Council"), ("action", "Leaders should cooperate to identify needs.")],
        [
            ("body", "NHS Testshire Integrated Care Board"),
            ("action", "Leaders should improve annual reviews."),
        ],
    )
    _, items = segment(pages)
    assert [(item.page, item.text) for item in items] == [
        (1, "Leaders should cooperate to identify needs."),
        (2, "Leaders should improve annual reviews."),
    ]


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
    # and know where the next page begins in their text, so a quote from its end cites page 4
    ((offset, page),) = strengths[4].page_breaks
    assert page == 4 and strengths[4].page_at(len(strengths[4].text) - 1) == 4
    page_4 = next(p for p in report.pages if p.number == 4).text
    assert " ".join(page_4.split()[:3]) in strengths[4].text[offset:][:200]


def test_every_page_break_inside_an_item_is_where_the_next_page_s_text_begins(
    all_reports: dict[str, ParsedReport],
) -> None:
    breaks = 0
    for name, report in all_reports.items():
        pages = {page.number: page for page in report.pages}
        for item in report.items:
            for offset, page in item.page_breaks:
                breaks += 1
                words = item.text[offset:].replace("\n", " ").split()[:4]
                assert words and words[0].lstrip("•▪") in pages[page].text, (name, item.item_no, words)
                assert page > item.page
    assert breaks > 50


def test_every_report_has_strengths_weaknesses_and_recommendations(
    all_reports: dict[str, ParsedReport],
) -> None:
    for file, report in all_reports.items():
        sections = Counter(item.section for item in report.items)
        assert all(sections[name] > 0 for name in REPORTED_SECTIONS), (file, sections)


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
