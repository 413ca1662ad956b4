"""Report facts (outcome, dates, ICBs) on every real report, and the date phrase parser on its own."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from sendcorpus.extract.dates import first_date_range, parse_date_range
from sendcorpus.extract.facts import ReportFacts, extract_facts
from sendcorpus.extract.layout import Item, ParsedReport
from sendcorpus.extract.parse import parse_report

from conftest import GOLD, HACKNEY_TXT, PRESS_ARTICLE, REPORTS

D = date

DATE_PHRASES = [
    ("23 to 27 September 2024", D(2024, 9, 23), D(2024, 9, 27)),
    ("23 September to 27 September 2024", D(2024, 9, 23), D(2024, 9, 27)),
    ("27 March 2023 to 31 March 2023", D(2023, 3, 27), D(2023, 3, 31)),
    ("27 November to 1 December 2017", D(2017, 11, 27), D(2017, 12, 1)),
    ("16 May 2016", D(2016, 5, 16), D(2016, 5, 16)),
    ("28 December 2015 to 3 January 2016", D(2015, 12, 28), D(2016, 1, 3)),
    ("28 December to 3 January 2016", D(2015, 12, 28), D(2016, 1, 3)),
    ("1st to 5th Sept 2023", D(2023, 9, 1), D(2023, 9, 5)),
    ("1st Sept. 2023", D(2023, 9, 1), D(2023, 9, 1)),
    ("23–27 September 2024", D(2024, 9, 23), D(2024, 9, 27)),
    ("23 - 27 September 2024", D(2024, 9, 23), D(2024, 9, 27)),
    ("23-27 September 2024", D(2024, 9, 23), D(2024, 9, 27)),
    ("23 September — 27 September 2024", D(2024, 9, 23), D(2024, 9, 27)),
    ("23\u00a0to\u00a027\u00a0September\u00a02024", D(2024, 9, 23), D(2024, 9, 27)),
    ("29 January 2024 to 02 February 2024", D(2024, 1, 29), D(2024, 2, 2)),
    ("Monday 23 September 2024 to Friday 27 September 2024", D(2024, 9, 23), D(2024, 9, 27)),
    ("September 23, 2024", D(2024, 9, 23), D(2024, 9, 23)),
    ("November 17 to November 21, 2025", D(2025, 11, 17), D(2025, 11, 21)),
    ("3 JUNE 2019.", D(2019, 6, 3), D(2019, 6, 3)),
]


@pytest.mark.parametrize(("phrase", "start", "end"), DATE_PHRASES)
def test_date_phrases(phrase: str, start: date, end: date) -> None:
    found = parse_date_range(phrase)
    assert found is not None, phrase
    assert (found.start, found.end) == (start, end)


@pytest.mark.parametrize(
    "phrase",
    [
        "Not previously inspected",
        "23 to 27 September",  # no year: not a complete date
        "September 2024",
        "31 September 2024",  # no such day
        "27 to 23 September 2024",  # ends before it starts
        "2023",
        "within 20 weeks",
        "16 to 25 years old",
        "aged 0 to 25",
        "16 May 2016 and 3 June 2019",  # two dates, not one
    ],
)
def test_phrases_that_are_not_one_date(phrase: str) -> None:
    assert parse_date_range(phrase) is None


def test_first_date_in_running_text_and_its_span() -> None:
    text = "Dates of previous inspection: 27 to 31 March 2017 The local area partnership’s arrangements"
    found, (begin, end) = first_date_range(text)  # type: ignore[misc]
    assert (found.start, found.end) == (D(2017, 3, 27), D(2017, 3, 31))
    assert text[begin:end] == "27 to 31 March 2017"


def _gold_rows() -> list[dict[str, str]]:
    with (GOLD / "report_facts.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def _source(file: str) -> Path:
    return REPORTS / file if (REPORTS / file).exists() else HACKNEY_TXT.parent / file


@pytest.fixture(scope="module")
def facts_by_file() -> dict[str, ReportFacts]:
    return {row["file"]: extract_facts(parse_report(_source(row["file"]))) for row in _gold_rows()}


def _as_text(value: date | str | None) -> str:
    return "" if value is None else str(value)


@pytest.mark.parametrize("row", _gold_rows(), ids=lambda row: row["file"])
def test_facts_equal_the_hand_checked_facts(
    row: dict[str, str], facts_by_file: dict[str, ReportFacts]
) -> None:
    facts = facts_by_file[row["file"]]
    fields = (
        "outcome",
        "inspection_start",
        "inspection_end",
        "previous_inspection_start",
        "previous_inspection_end",
    )
    assert {name: _as_text(getattr(facts, name)) for name in fields} == {name: row[name] for name in fields}
    assert facts.outcome_reason is None
    assert facts.next_inspection is not None and facts.next_inspection.startswith("within approximately")
    assert facts.icbs and all(name.endswith("Integrated Care Board") for name in facts.icbs)


def test_every_filled_field_has_evidence_from_the_report(facts_by_file: dict[str, ReportFacts]) -> None:
    for file, facts in facts_by_file.items():
        evidenced = {evidence.field for evidence in facts.evidence if evidence.value is not None}
        filled = {
            name
            for name in (
                "outcome",
                "inspection_start",
                "inspection_end",
                "previous_inspection_start",
                "previous_inspection_end",
                "next_inspection",
                "local_authority",
            )
            if getattr(facts, name) is not None
        }
        assert filled <= evidenced, file
        assert all(evidence.evidence and evidence.page == 1 for evidence in facts.evidence), file


@pytest.mark.parametrize(
    ("file", "local_authority", "icbs"),
    [
        ("bury.pdf", "Bury", ["NHS Greater Manchester Integrated Care Board"]),
        ("greenwich.pdf", "Greenwich", ["South East London Integrated Care Board"]),
        (
            "bedford.pdf",
            "Bedford Borough",
            ["NHS Bedfordshire, Luton and Milton Keynes Integrated Care Board"],
        ),
        ("cornwall.pdf", "Cornwall", ["Cornwall and the Isles of Scilly Integrated Care Board"]),
        ("barking-and-dagenham.pdf", "Barking and Dagenham", ["North East London Integrated Care Board"]),
        (
            "kingston-upon-hull.pdf",
            "Kingston upon Hull",
            ["NHS Humber and North Yorkshire Integrated Care Board"],
        ),
        (
            "herefordshire.pdf",
            "Herefordshire",
            ["NHS Herefordshire and Worcestershire Integrated Care Board"],
        ),
        (
            "surrey.pdf",
            "Surrey",
            ["NHS Surrey Heartlands Integrated Care Board", "NHS Frimley Integrated Care Board"],
        ),
        (
            "north-yorkshire.pdf",
            "North Yorkshire",
            [
                "NHS West Yorkshire Integrated Care Board",
                "NHS Humber and North Yorkshire Integrated Care Board",
            ],
        ),
        (
            "essex.pdf",
            "Essex",
            [
                "NHS Mid and South Essex Integrated Care Board",
                "NHS Suffolk and North East Essex Integrated Care Board",
                "NHS Hertfordshire and West Essex Integrated Care Board",
            ],
        ),
    ],
)
def test_local_authority_and_icbs(
    file: str, local_authority: str, icbs: list[str], facts_by_file: dict[str, ReportFacts]
) -> None:
    assert facts_by_file[file].local_authority == local_authority
    assert facts_by_file[file].icbs == icbs


def test_previous_full_inspection_wins_over_the_revisit(facts_by_file: dict[str, ReportFacts]) -> None:
    evidence = {e.field: e for e in facts_by_file["bedford.pdf"].evidence}
    assert (
        evidence["previous_inspection_start"].evidence == "The previous full inspection was on 19 March 2018."
    )


def test_a_press_article_quoting_the_outcome_has_no_outcome() -> None:
    facts = extract_facts(parse_report(PRESS_ARTICLE))
    assert facts.outcome is None and facts.outcome_reason
    assert facts.inspection_start is None


def _report(
    *lines: str, heading: str = "Area SEND inspection of the Testshire Local Area Partnership"
) -> ParsedReport:
    items = [Item("outcome", None, number, 1, line) for number, line in enumerate(lines, start=1)]
    return ParsedReport(pages=[], items=items, heading=heading)


def test_messy_header_dates_and_an_unknown_outcome() -> None:
    facts = extract_facts(
        _report(
            "Inspection dates:\u00a028th December\u00a02015 – 3rd January 2016 "
            "Date of previous inspection: 1 Sept 2011 "
            "The local area partnership’s arrangements are adequate.",
        )
    )
    assert facts.local_authority == "Testshire"
    assert (facts.inspection_start, facts.inspection_end) == (D(2015, 12, 28), D(2016, 1, 3))
    assert (facts.previous_inspection_start, facts.previous_inspection_end) == (D(2011, 9, 1), D(2011, 9, 1))
    assert facts.outcome is None
    assert facts.outcome_reason == "no outcome statement of the 2023 area SEND framework found"


def test_conflicting_outcome_statements_give_no_outcome() -> None:
    facts = extract_facts(
        _report(
            "The local area partnership’s arrangements typically lead to positive experiences and outcomes.",
            "There are widespread and/or systemic failings leading to significant concerns.",
        )
    )
    assert facts.outcome is None
    assert facts.outcome_reason is not None and "conflicting" in facts.outcome_reason
