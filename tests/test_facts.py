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
    ("12/02/2024", D(2024, 2, 12), D(2024, 2, 12)),
    ("12.2.2024 to 16.2.2024", D(2024, 2, 12), D(2024, 2, 16)),
    ("between 12 and 16 February 2024", D(2024, 2, 12), D(2024, 2, 16)),
    ("Between 30 December 2024 and 3 January 2025", D(2024, 12, 30), D(2025, 1, 3)),
    ("February 12-16, 2024", D(2024, 2, 12), D(2024, 2, 16)),
    ("February 26 to March 1, 2024", D(2024, 2, 26), D(2024, 3, 1)),
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
        "between 13 and 25 years",
        "between 12 February 2024",
        "12/13/2024",  # day first: there is no 13th month
        "12/02/24",  # a two-digit year is not read
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
    assert all(name.startswith("NHS ") and "&" not in name for name in facts.icbs)


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
                "monitoring_inspection",
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
        ("greenwich.pdf", "Greenwich", ["NHS South East London Integrated Care Board"]),
        (
            "bedford.pdf",
            "Bedford Borough",
            ["NHS Bedfordshire, Luton and Milton Keynes Integrated Care Board"],
        ),
        ("cornwall.pdf", "Cornwall", ["NHS Cornwall and the Isles of Scilly Integrated Care Board"]),
        ("barking-and-dagenham.pdf", "Barking and Dagenham", ["NHS North East London Integrated Care Board"]),
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


# ---------------------------------------------------------------- constructed variants of real headers
# Each variant is a real report's header (Bury's) with one part rewritten the way another template, an
# older one or a careless copy might write it.


@pytest.fixture(scope="module")
def bury_header() -> str:
    [header, *_] = [
        item.text for item in parse_report(REPORTS / "bury.pdf").items if item.section == "outcome"
    ]
    assert (
        "Inspection dates: 12 to 16 February 2024 Dates of previous inspection: 13 to 15 May 2019" in header
    )
    return header


def _variant(header: str, old: str, new: str) -> ReportFacts:
    assert old in header
    return extract_facts(_report(header.replace(old, new)))


@pytest.mark.parametrize(
    "label",
    [
        "Dates of previous inspections:",
        "Date of previous inspection:",
        "Date of the previous inspection:",
        "Dates of the previous area SEND inspection:",
        "Previous inspection dates:",
        "Date of last inspection –",
        "Previous inspection:",
        "Dates of previous inspection",
    ],
)
def test_previous_inspection_label_variants(bury_header: str, label: str) -> None:
    facts = _variant(bury_header, "Dates of previous inspection:", label)
    assert (facts.previous_inspection_start, facts.previous_inspection_end) == (
        D(2019, 5, 13),
        D(2019, 5, 15),
    )
    assert (facts.inspection_start, facts.inspection_end) == (D(2024, 2, 12), D(2024, 2, 16))
    evidence = {e.field: e.evidence for e in facts.evidence}
    assert evidence["previous_inspection_start"] == f"{label} 13 to 15 May 2019"  # the label as written


@pytest.mark.parametrize(
    "label", ["Inspection date:", "Dates of inspection:", "Inspection dates", "Inspection dates –"]
)
def test_inspection_label_variants(bury_header: str, label: str) -> None:
    facts = _variant(bury_header, "Inspection dates:", label)
    assert (facts.inspection_start, facts.inspection_end) == (D(2024, 2, 12), D(2024, 2, 16))
    assert (facts.previous_inspection_start, facts.previous_inspection_end) == (
        D(2019, 5, 13),
        D(2019, 5, 15),
    )


@pytest.mark.parametrize(
    ("written", "start", "end"),
    [
        ("12 February 2024", D(2024, 2, 12), D(2024, 2, 12)),  # a single date
        ("29 January to 2 February 2024", D(2024, 1, 29), D(2024, 2, 2)),  # two months
        ("29 January 2024 – 2 February 2024", D(2024, 1, 29), D(2024, 2, 2)),
        ("30 December 2024 to 3 January 2025", D(2024, 12, 30), D(2025, 1, 3)),  # two years
        ("30 December to 3 January 2025", D(2024, 12, 30), D(2025, 1, 3)),
        ("Monday 12 February to Friday 16 February 2024", D(2024, 2, 12), D(2024, 2, 16)),
        ("February 12-16, 2024", D(2024, 2, 12), D(2024, 2, 16)),
        ("12/02/2024 to 16/02/2024", D(2024, 2, 12), D(2024, 2, 16)),
        ("12th–16th Feb. 2024", D(2024, 2, 12), D(2024, 2, 16)),
        ("between 12 and 16 February 2024", D(2024, 2, 12), D(2024, 2, 16)),
    ],
)
def test_inspection_date_variants(bury_header: str, written: str, start: date, end: date) -> None:
    facts = _variant(bury_header, "12 to 16 February 2024", written)
    assert (facts.inspection_start, facts.inspection_end) == (start, end)
    assert (facts.previous_inspection_start, facts.previous_inspection_end) == (
        D(2019, 5, 13),
        D(2019, 5, 15),
    )


@pytest.mark.parametrize(
    "written",
    [
        "Not previously inspected",
        "None",
        "N/A",
        "There has been no previous inspection",
        "Not inspected before",
    ],
)
def test_not_previously_inspected_variants(bury_header: str, written: str) -> None:
    facts = _variant(bury_header, "13 to 15 May 2019", written)
    assert (facts.previous_inspection_start, facts.previous_inspection_end) == (None, None)
    assert (facts.inspection_start, facts.outcome) == (D(2024, 2, 12), "systemic_failings")
    [evidence] = [e for e in facts.evidence if e.field == "previous_inspection_start"]
    assert evidence.value is None and written in evidence.evidence


@pytest.mark.parametrize(
    ("prose", "evidence"),
    [
        (
            "This inspection took place from 12 to 16 February 2024. The local area partnership was last "
            "inspected between 13 and 15 May 2019.",
            "The local area partnership was last inspected between 13 and 15 May 2019.",
        ),
        (
            "The area SEND inspection was carried out between 12 and 16 February 2024. The previous "
            "inspection took place from 13 to 15 May 2019.",
            "The previous inspection took place from 13 to 15 May 2019.",
        ),
    ],
)
def test_prose_instead_of_labels(bury_header: str, prose: str, evidence: str) -> None:
    facts = _variant(
        bury_header,
        "Inspection dates: 12 to 16 February 2024 Dates of previous inspection: 13 to 15 May 2019",
        prose,
    )
    assert (facts.inspection_start, facts.inspection_end) == (D(2024, 2, 12), D(2024, 2, 16))
    assert (facts.previous_inspection_start, facts.previous_inspection_end) == (
        D(2019, 5, 13),
        D(2019, 5, 15),
    )
    assert {e.field: e.evidence for e in facts.evidence}["previous_inspection_start"] == evidence
    assert facts.outcome == "systemic_failings"


def test_prose_dates_count_only_in_a_report_with_its_title() -> None:
    facts = extract_facts(_report("The inspection took place from 12 to 16 February 2024.", heading=""))
    assert facts.inspection_start is None


@pytest.fixture(scope="module")
def real_statements() -> dict[str, str]:
    """The outcome sentence of a real report of each outcome."""
    statements = {}
    for file in ("bury.pdf", "gateshead.pdf", "bedford.pdf"):
        facts = extract_facts(parse_report(REPORTS / file))
        [evidence] = [e for e in facts.evidence if e.field == "outcome"]
        statements[facts.outcome or ""] = evidence.evidence
    return statements


@pytest.mark.parametrize(
    ("outcome", "old", "new"),
    [
        ("systemic_failings", "widespread and/or systemic", "widespread and systemic"),
        ("systemic_failings", "widespread and/or systemic", "widespread and / or systemic"),
        ("systemic_failings", "There are widespread", "Overall, there are widespread"),
        ("inconsistent", "arrangements lead to", "arrangements leads to"),
        ("inconsistent", "experiences and outcomes", "outcomes and experiences"),
        ("inconsistent", "partnership’s arrangements", "partnership's arrangements"),
        (
            "inconsistent",
            "The local area partnership’s arrangements",
            "Overall, the local area partnership’s arrangements",
        ),
        (
            "inconsistent",
            "The local area partnership’s arrangements",
            "The arrangements of the local area partnership",
        ),
        ("positive", "typically lead", "lead"),
        ("positive", "special educational needs and/or disabilities (SEND) arrangements", "arrangements"),
        ("positive", "The local area partnership’s", "The local area’s"),
    ],
)
def test_outcome_sentence_variants(real_statements: dict[str, str], outcome: str, old: str, new: str) -> None:
    statement = real_statements[outcome]
    assert old in statement
    facts = extract_facts(_report(f"Inspection dates: 12 to 16 February 2024 {statement.replace(old, new)}"))
    assert facts.outcome == outcome and facts.outcome_reason is None


@pytest.mark.parametrize(
    "sentence",
    [
        "Findings indicate that the local area partnership’s arrangements lead to inconsistent experiences "
        "and outcomes for children and young people with SEND.",
        "The report said there were widespread and/or systemic failings.",
    ],
)
def test_a_reported_outcome_is_not_the_outcome(sentence: str) -> None:
    facts = extract_facts(_report(f"Inspection dates: 12 to 16 February 2024 {sentence}"))
    assert facts.outcome is None


@pytest.mark.parametrize(
    ("sentence", "when"),
    [
        ("The next full area SEND inspection will be within approximately 3 years.", "3 years"),
        ("The next full inspection is expected within approximately three years.", "3 years"),
        ("The next area SEND inspection will take place within approximately five years.", "5 years"),
        ("The next full reinspection is due within approximately 18 months.", "18 months"),
    ],
)
def test_next_inspection_variants(sentence: str, when: str) -> None:
    assert extract_facts(_report(sentence)).next_inspection == f"within approximately {when}"


@pytest.mark.parametrize(
    ("sentence", "when"),
    [
        ("A monitoring inspection will be carried out within approximately 18 months.", "18 months"),
        ("A monitoring inspection will take place within approximately eighteen months.", "18 months"),
        (
            "Ofsted and CQC will carry out a monitoring inspection within approximately 18 months.",
            "18 months",
        ),
        ("The monitoring visit is expected to be undertaken within approximately 12 months.", "12 months"),
    ],
)
def test_monitoring_inspection_variants(sentence: str, when: str) -> None:
    facts = extract_facts(
        _report("The next full area SEND inspection will be within approximately 3 years.", sentence)
    )
    assert facts.monitoring_inspection == f"within approximately {when}"
    assert facts.next_inspection == "within approximately 3 years"  # not taken for the monitoring one
    evidence = {e.field: e.evidence for e in facts.evidence}
    assert evidence["monitoring_inspection"] == sentence


def test_the_monitoring_inspection_is_announced_exactly_where_failings_are_systemic(
    facts_by_file: dict[str, ReportFacts],
) -> None:
    for file, facts in facts_by_file.items():
        expected = "within approximately 18 months" if facts.outcome == "systemic_failings" else None
        assert facts.monitoring_inspection == expected, file


def test_one_board_has_one_name_however_a_report_prints_it() -> None:
    from sendcorpus.extract.facts import icb_name

    official = "NHS Black Country Integrated Care Board"
    assert icb_name("Black Country") == icb_name("NHS Black Country") == official
    assert icb_name("Staffordshire & Stoke-on-Trent") == (
        "NHS Staffordshire and Stoke-on-Trent Integrated Care Board"
    )
