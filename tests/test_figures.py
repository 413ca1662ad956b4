"""The send_figures component: percentages, durations and counts, and what only looks like one."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import duckdb
import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc

from sendcorpus.extract import figures as _figures  # noqa: F401  (registers "send_figures")
from sendcorpus.extract.duration_kind import DURATION_KINDS
from sendcorpus.extract.figures import Figure, number_value
from sendcorpus.extract.nlp import ANALYSED_SECTIONS, build_nlp
from sendcorpus.extract.parse import parse_report

from conftest import HACKNEY_TXT, REPORTS


@pytest.fixture(scope="module")
def nlp() -> Language:
    pipeline = spacy.blank("en")
    pipeline.add_pipe("sentencizer")
    pipeline.add_pipe("send_figures")
    pipeline.initialize()
    return pipeline


def _found(nlp: Language, sentence: str) -> list[tuple[str, float | None, str | None, float | None, str]]:
    return [(f.kind, f.value, f.unit, f.weeks, f.text) for f in nlp(sentence)._.figures]


FIGURES = [
    # sentences from the reports
    (
        "The average waiting time for speech and language therapy is 75 weeks for an initial appointment "
        "post-triage, and the average waiting time for a community paediatric assessment is 39 weeks.",
        [("duration", 75, "weeks", 75, "75 weeks"), ("duration", 39, "weeks", 39, "39 weeks")],
    ),
    (
        "For those awaiting a neurodevelopmental assessment, children under five years old wait on average "
        "six months for an autism assessment and children over five wait up to 15 months for an autism or "
        "ADHD assessment.",
        [("duration", 6, "months", 26, "six months"), ("duration", 15, "months", 65, "up to 15 months")],
    ),
    (
        "There is also a 13-month wait for children and young people to access an appointment.",
        [("duration", 13, "months", 56.33, "13-month")],
    ),
    (
        "Current waiting lists for the learning disability pathway are up to two years.",
        [("duration", 2, "years", 104, "up to two years")],
    ),
    (
        "Too many school-aged children and young people are waiting over a year for a speech and language "
        "therapy assessment.",
        [("duration", 1, "years", 52, "over a year")],
    ),
    (
        "The timeliness of issuing final EHC plans within 20 weeks has fallen over time.",
        [("duration", 20, "weeks", 20, "within 20 weeks")],
    ),
    (
        "This impacts negatively on the number of EHC plans that are completed within the 20-week statutory "
        "time frame.",
        [("duration", 20, "weeks", 20, "20-week")],
    ),
    (
        "There is also an increase from 28% to 40% for issuing EHC plans within statutory time frames.",
        [("percentage", 28, "percent", None, "28%"), ("percentage", 40, "percent", None, "40%")],
    ),
    (
        "Over 40% of all children or young people with EHC plans in Stoke-on-Trent are defined as being "
        "persistently absent, which means they miss 10% or more education across the academic year.",
        [("percentage", 40, "percent", None, "Over 40%"), ("percentage", 10, "percent", None, "10%")],
    ),
    (
        "No analysis has been undertaken by the partnership in order to understand the impact for more than "
        "1,800 children and young people who are waiting for approximately three years.",
        [
            ("count", 1800, "children", None, "more than 1,800 children"),
            ("duration", 3, "years", 156, "approximately three years"),
        ],
    ),
    (
        "One in five children do not receive their two-year developmental check.",
        [("percentage", 20, "percent", None, "One in five")],
    ),
    (
        "Health visitors consistently deliver the five mandated developmental checks.",
        [("count", 5, "checks", None, "five mandated developmental checks")],
    ),
    # written for the test: other ways of writing the same figures
    (
        "Only 40 per cent of plans were issued on time.",
        [("percentage", 40, "percent", None, "Only 40 per cent")],
    ),
    ("Families wait six to eight weeks.", [("duration", 8, "weeks", 8, "six to eight weeks")]),
    ("Some waited eighteen months.", [("duration", 18, "months", 78, "eighteen months")]),
    ("Some waited twenty-four weeks.", [("duration", 24, "weeks", 24, "twenty-four weeks")]),
    ("Reviews take 14 days.", [("duration", 14, "days", 2, "14 days")]),
    ("They waited two and a half years.", [("duration", 2.5, "years", 130, "two and a half years")]),
    ("They waited 52 weeks.", [("duration", 52, "weeks", 52, "52 weeks")]),
    (
        "Over 1,000 children attend three special schools.",
        [
            ("count", 1000, "children", None, "Over 1,000 children"),
            ("count", 3, "schools", None, "three special schools"),
        ],
    ),
    ("The 3 ICBs named above share the work.", [("count", 3, "ICBs", None, "3 ICBs")]),
]


@pytest.mark.parametrize(("sentence", "expected"), FIGURES, ids=[s[:40] for s, _ in FIGURES])
def test_figures_in_sentences(nlp: Language, sentence: str, expected: list[tuple]) -> None:
    assert _found(nlp, sentence) == [
        (k, float(v), u, None if w is None else float(w), t) for k, v, u, w, t in expected
    ]


NOT_FIGURES = [
    "On 1 July 2022, NHS Greater Manchester ICB became responsible for health services.",
    "The inspection took place from 23 to 27 September 2024.",
    "A new special school opened in September 2023.",
    "This includes the 2023 to 2028 strategy.",
    "Annual health checks for children and young people aged 14 to 25 years old.",
    "Young people aged 16 years and above are referred too late.",
    "The hub supports children and young people aged between 13 and 25 years.",
    "Provision for young people aged between 16 to 18 years is limited.",
    "There is a strong universal health offer for children and young people up to 19 years.",
    "Pupils with SEN support at the end of key stage 2 and 19-year-olds achieve qualifications.",
    "A group of 11- to 18-year-olds meets monthly.",
    "Planning starts at 18 years or later.",
    "They meet their social worker before they turn 18 years old.",
    "Annual reviews from Year 9 onwards focus on adulthood.",
    "Year 11 pupils move on to college.",
    "Young people post-16 value the offer, and post 16 students do too.",
    "The 0 to 25 service and the 0-19 service and the 14 to 19 team work together.",
    "A new director of All Age Disability 0 to 25 was appointed.",
    "Leaders invested £10 million in places.",
    "Leaders have developed a ‘50 futures’ work experience project.",
    "Reviews happen once a year and the forum began a year ago.",
    "The forum was formed three years ago.",
    "The team brought post-16 and 18 providers together.",
    "They rely on one or two supportive professionals.",
    "Over half of parents and most schools agree.",
    "One parent said it helped.",
    "Section 19 duties and tier 4 beds are discussed.",
]


@pytest.mark.parametrize("sentence", NOT_FIGURES, ids=[s[:40] for s in NOT_FIGURES])
def test_dates_ages_and_labels_are_not_figures(nlp: Language, sentence: str) -> None:
    assert _found(nlp, sentence) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [("18", 18), ("1,000", 1000), ("2.5", 2.5), ("eighteen", 18), ("Two", 2), ("forty", 40), ("first", None)],
)
def test_number_value(text: str, value: float | None) -> None:
    assert number_value(text) == value


def test_theme_comes_from_the_sentence_the_figure_sits_in() -> None:
    doc = build_nlp()("Leaders are ambitious. Families wait up to two years for an autism assessment.")
    [figure] = doc._.figures
    assert figure.theme == "neurodevelopmental"
    assert figure.evidence == "Families wait up to two years for an autism assessment."


def test_a_figure_in_a_sentence_without_a_theme_takes_the_nearest_earlier_one() -> None:
    text = (
        "Too many children wait for an autism assessment. Leaders are ambitious. "
        "Speech and language therapy waits are long. The average wait is 18 months."
    )
    [figure] = build_nlp()(text)._.figures
    assert figure.theme == "therapies"


def test_no_themes_component_means_no_theme(nlp: Language) -> None:
    [figure] = nlp("Families wait 18 months.")._.figures
    assert isinstance(figure, Figure) and figure.theme is None


def test_figures_on_real_reports(nlp: Language) -> None:
    """Real reports give figures of every kind, and none of them is a date or an age."""
    texts = []
    for path in [REPORTS / "bury.pdf", REPORTS / "gloucestershire.pdf", HACKNEY_TXT]:
        report = parse_report(path)
        texts += [item.text for item in report.items if item.section in ("strength", "weakness", "context")]
    found: list[Figure] = [figure for doc in nlp.pipe(texts) for figure in doc._.figures]
    kinds = {figure.kind for figure in found}
    assert kinds == {"percentage", "duration", "count"}
    texts_found = {figure.text for figure in found}
    assert {"75 weeks", "39 weeks", "up to 15 months", "68%", "26 new staff"} <= texts_found
    assert all(figure.evidence and figure.text in figure.evidence for figure in found)
    assert not [figure for figure in found if figure.kind == "duration" and figure.unit == "years" and
                figure.value and figure.value > 10]  # fmt: skip


def test_figures_extension_defaults_to_empty() -> None:
    assert Doc.has_extension("figures")
    assert spacy.blank("en")("No figures here.")._.figures == []


def test_a_possessive_is_not_the_counted_noun(nlp: Language) -> None:
    assert _found(nlp, "The team included two Children’s Services Inspectors.") == []


# ------------------------------------------------------------------------------- kinds of duration

DURATIONS_CSV = Path(__file__).parent / "fixtures" / "durations.csv"


def _corpus_durations(nlp: Language) -> list[tuple[str, str, str, str]]:
    found = []
    for path in [*sorted(REPORTS.glob("*.pdf")), HACKNEY_TXT]:
        items = [item for item in parse_report(path).items if item.section in ANALYSED_SECTIONS]
        for doc in nlp.pipe(item.text for item in items):
            found += [
                (path.name, figure.text, figure.evidence, figure.duration_kind or "")
                for figure in doc._.figures
                if figure.kind == "duration"
            ]
    return found


def test_every_duration_in_the_corpus_has_the_kind_checked_by_hand(nlp: Language) -> None:
    """tests/fixtures/durations.csv lists every duration the corpus states, each kind read by a person."""
    with DURATIONS_CSV.open(newline="", encoding="utf-8") as handle:
        listed = [
            (row["report"], row["text"], row["sentence"], row["kind"]) for row in csv.DictReader(handle)
        ]
    assert {kind for *_, kind in listed} <= set(DURATION_KINDS)
    assert Counter(_corpus_durations(nlp)) == Counter(listed)


DURATION_SENTENCES = [
    ("Families wait up to two years for an autism assessment.", "wait"),
    ("There is a nine-month waiting list for speech and language therapy.", "wait"),
    ("The average time from referral to treatment is 40 weeks, a long delay for families.", "wait"),
    ("Children are seen within 12 weeks of referral.", "wait"),
    ("Too few EHC plans are issued within 20 weeks.", "deadline"),
    ("Most plans are completed within the 20-week statutory timescale.", "deadline"),
    ("Over the last two years, leaders have rebuilt the service.", "period"),
    ("In the past 18 months the forum has grown.", "period"),
    ("Leaders have agreed a five-year strategy for inclusion.", "horizon"),
    ("The partnership plans to open 300 places over the next three years.", "horizon"),
    ("Health visitors carry out six to 8 month and two year reviews.", "age"),
    ("Young people attend a six-week course on travel.", "other"),
    ("Nobody travels more than 45 minutes to school.", "other"),
]


@pytest.mark.parametrize(
    ("sentence", "kind"), DURATION_SENTENCES, ids=[s[:40] for s, _ in DURATION_SENTENCES]
)
def test_duration_kinds(nlp: Language, sentence: str, kind: str) -> None:
    [figure] = [figure for figure in nlp(sentence)._.figures if figure.kind == "duration"]
    assert figure.duration_kind == kind


def test_only_durations_have_a_duration_kind(nlp: Language) -> None:
    figures = nlp("Over 40% of 1,000 children wait 18 months.")._.figures
    assert [(figure.kind, figure.duration_kind) for figure in figures] == [
        ("percentage", None),
        ("count", None),
        ("duration", "wait"),
    ]


def test_the_figures_view_stores_each_durations_kind(corpus_db: Path) -> None:
    """The real ingest stores the kinds of the hand-checked list; other figures have none."""
    with DURATIONS_CSV.open(newline="", encoding="utf-8") as handle:
        listed = Counter((row["report"], row["text"], row["kind"]) for row in csv.DictReader(handle))
    con = duckdb.connect(str(corpus_db), read_only=True)
    try:
        stored = con.execute(
            "SELECT file, text, duration_kind FROM figures WHERE kind = 'duration'"
        ).fetchall()
        others = con.execute(
            "SELECT count(*) FROM figures WHERE kind <> 'duration' AND duration_kind IS NOT NULL"
        ).fetchone()
    finally:
        con.close()
    assert Counter(stored) == listed
    assert others == (0,)


def test_a_figure_takes_the_theme_cued_nearest_it_in_its_sentence() -> None:
    """Not the first theme its sentence happens to carry: the wait is for CAMHS (mental health), and the
    sentence before names the local offer."""
    nlp = build_nlp()
    doc = nlp.make_doc(
        "Families say the local offer is hard to find. Some wait for the local offer to be updated and "
        "face an 18-month wait for CAMHS."
    )
    doc._.section = "weakness"
    for _, pipe in nlp.pipeline:
        doc = pipe(doc)
    assert [(figure.text, figure.theme) for figure in doc._.figures] == [("18-month", "mental_health")]
