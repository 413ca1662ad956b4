"""The theme tagger on real report text, on the boundaries the theme definitions draw, and on the gold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy
from spacy.language import Language

from sendcorpus.extract.evaluate import (
    SCORED_SECTIONS,
    GoldItem,
    PredictedItem,
    score_item_level,
    score_report_level,
)
from sendcorpus.extract.nlp import build_nlp
from sendcorpus.extract.parse import parse_report
from sendcorpus.extract.theme_matcher import PhraseError, compile_phrase
from sendcorpus.extract.themes import PATTERNS, add_theme_pipes, load_patterns, theme_ids, theme_labels

from conftest import GOLD, HACKNEY_TXT, REPORTS, SHARED


@pytest.fixture(scope="module")
def nlp() -> Language:
    pipeline = spacy.blank("en")
    pipeline.add_pipe("sentencizer")
    add_theme_pipes(pipeline)
    pipeline.initialize()
    return pipeline


def themes_of(nlp: Language, text: str) -> set[str]:
    return {theme for theme, _ in nlp(text)._.themes}


def hackney_item(section: str, opening: str) -> str:
    items = [item for item in parse_report(HACKNEY_TXT).items if item.section == section]
    return next(item.text for item in items if item.text.startswith(opening))


# ------------------------------------------------------------------------------------ vocabulary


def test_packaged_vocabulary_is_the_shared_spec() -> None:
    packaged = (PATTERNS / "themes.yaml").read_bytes()
    assert packaged == (SHARED / "spec" / "themes.yaml").read_bytes()


def test_theme_ids_and_labels_come_from_the_spec() -> None:
    ids = theme_ids()
    assert len(ids) == 20 and ids[0] == "ehcp_timeliness" and "exclusions_suspensions" in ids
    assert theme_labels()["therapies"] == "Therapies (SALT, OT, physio)"


def test_every_pattern_line_compiles_to_a_known_theme(nlp: Language) -> None:
    patterns = load_patterns(nlp.tokenizer)
    assert {cue.theme for cue in patterns.cues} == set(theme_ids())  # every theme has at least one cue
    assert len(patterns.matcher) > 200


def test_a_word_stem_is_refused_with_a_message(nlp: Language) -> None:
    with pytest.raises(PhraseError, match="alternatives"):
        compile_phrase("exclu*", nlp.tokenizer)


# --------------------------------------------------------------------------------- real report items


def test_hackney_permanent_exclusions_item(nlp: Language) -> None:
    text = hackney_item("weakness", "The rate of permanent exclusions")
    doc = nlp(text)
    evidence = dict(doc._.themes)
    assert "exclusions_suspensions" in evidence
    assert evidence["exclusions_suspensions"].startswith("The rate of permanent exclusions")
    assert evidence["exclusions_suspensions"] in text  # evidence is a sentence of the item


def test_hackney_twenty_weeks_item(nlp: Language) -> None:
    text = hackney_item("weakness", "The timeliness of issuing final EHC plans within 20 weeks")
    assert {"ehcp_timeliness", "ehcp_quality"} <= themes_of(nlp, text)


def test_hackney_sub_bullets_each_add_their_issue(nlp: Language) -> None:
    text = hackney_item("recommendation", "Leaders across the partnership should further improve their work")
    doc = nlp(text)
    evidence = dict(doc._.themes)
    assert {"exclusions_suspensions", "alternative_provision", "eotas_ehe_cme"} <= set(evidence)
    # a sub-bullet is its own sentence, so the evidence is the bullet rather than the whole list
    assert evidence["eotas_ehe_cme"].startswith("improve oversight")


def test_hackney_board_name_is_not_alternative_provision(nlp: Language) -> None:
    text = hackney_item("weakness", "While leaders have established the right set of strategic priorities")
    assert themes_of(nlp, text) == {"leadership_strategy"}


def test_works_without_a_section_and_on_empty_text(nlp: Language) -> None:
    doc = nlp.make_doc("Too few EHC plans are issued within the statutory timeframe.")
    assert doc._.section is None
    assert themes_of(nlp, doc.text) == {"ehcp_timeliness"}
    assert nlp("")._.themes == []


# ------------------------------------------------------------------------------ definition boundaries


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # lateness of annual reviews is annual_reviews, not ehcp_timeliness
        ("Annual reviews are not completed within statutory timescales.", {"annual_reviews"}),
        ("Plans are not routinely updated after annual reviews.", {"annual_reviews"}),
        # an out-of-date plan is ehcp_quality; amending it is annual_reviews as well
        ("Many EHC plans are out of date.", {"ehcp_quality"}),
        ("Leaders should prioritise amending outdated EHC plans.", {"ehcp_quality", "annual_reviews"}),
        # the child's voice in the plan is ehcp_quality, not coproduction_voice
        ("The voice of the child is frequently absent from their EHC plans.", {"ehcp_quality"}),
        ("The parent carer forum is a valued partner in decision-making.", {"coproduction_voice"}),
        # moving to adult services is preparation_for_adulthood, even when it is adult social care
        (
            "Young people's move to adult social care is not happening early enough.",
            {"preparation_for_adulthood"},
        ),
        (
            "Some cannot get their ADHD medication as they move to adult services.",
            {"neurodevelopmental", "preparation_for_adulthood"},
        ),
        # health waits with no named service are health_services; a named service is its own theme
        ("Children wait too long for health services.", {"health_services"}),
        ("Children wait too long for speech and language therapy.", {"therapies"}),
        ("The dynamic support register is well established.", {"health_services"}),
        # mental health support teams, but not the 'social, emotional and mental health' category of need
        ("Mental health support teams work with most schools.", {"mental_health"}),
        (
            "Resourced provision was opened for pupils with social, emotional and mental health needs.",
            {"inclusion_sufficiency"},
        ),
        ("Too many pupils with SEND are on part-time timetables.", {"part_time_timetables"}),
        ("Recruitment of educational psychologists has been difficult.", {"workforce_training"}),
    ],
)
def test_definition_boundaries(nlp: Language, text: str, expected: set[str]) -> None:
    assert themes_of(nlp, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # stock phrases and passing words are not themes
        "Leaders across education, health and social care work together.",
        "Information about individual children is held in isolation.",
        "Staff in the SEND and AP executive board meet monthly.",
        "For example, the Language and Autism Support Team works with primary schools.",
        "Young people take part in independent travel training.",
    ],
)
def test_passing_words_are_not_themes(nlp: Language, text: str) -> None:
    tagged = themes_of(nlp, text)
    assert tagged <= {"preparation_for_adulthood"}, tagged  # travel training is PfA, never workforce
    assert "workforce_training" not in tagged and "social_care" not in tagged


# ---------------------------------------------------------------------------------------------- gold


def _source(file: str) -> Path:
    return REPORTS / file if (REPORTS / file).exists() else HACKNEY_TXT.parent / file


@pytest.fixture(scope="module")
def gold_scores(nlp: Language):
    gold_report_level: dict[tuple[str, str], set[str]] = {}
    gold_items: list[GoldItem] = []
    predicted_report_level: dict[tuple[str, str], set[str]] = {}
    predicted_items: list[PredictedItem] = []
    for path in sorted(GOLD.glob("themes/*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        file = gold["file"]
        for section in SCORED_SECTIONS:
            gold_report_level[(file, section)] = set(gold["report_level"][section])
            predicted_report_level[(file, section)] = set()
        gold_items += [
            GoldItem(file, item["section"], item["text"], frozenset(item["themes"])) for item in gold["items"]
        ]
        items = [item for item in parse_report(_source(file)).items if item.section in SCORED_SECTIONS]
        for item, doc in zip(items, nlp.pipe(item.text for item in items), strict=True):
            themes = frozenset(theme for theme, _ in doc._.themes)
            predicted_items.append(PredictedItem(file, item.section, item.text, themes))
            predicted_report_level[(file, item.section)] |= themes
    return (
        score_report_level(gold_report_level, predicted_report_level),
        score_item_level(gold_items, predicted_items),
    )


@pytest.mark.parametrize("section", SCORED_SECTIONS)
def test_report_level_f1_on_the_gold(gold_scores, section: str) -> None:
    report_level, _ = gold_scores
    assert report_level.by_section[section].f1 >= 0.90


def test_item_level_f1_on_the_gold(gold_scores) -> None:
    _, item_level = gold_scores
    assert not item_level.unmatched_items
    assert item_level.overall.f1 >= 0.85


@pytest.mark.parametrize(
    ("sentence", "theme"),
    [
        ("Staff do not recognise quickly enough that children may have SEND.", "early_identification"),
        (
            "Leaders should ensure that children's needs are identified, assessed and met in a more "
            "efficient and timely manner.",
            "early_identification",
        ),
        (
            "Leaders should make sure that parents and carers receive clear and reliable information "
            "about how to access support.",
            "information_local_offer",
        ),
    ],
)
def test_phrasings_seen_in_reports_outside_the_gold(sentence: str, theme: str) -> None:
    assert theme in {found for found, _ in build_nlp()(sentence)._.themes}
