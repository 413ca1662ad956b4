"""Report-level facts: the local area, its ICBs, the inspection outcome, the inspection dates.

The 2023 framework's reports open with fixed wording ("Inspection dates: ...", "Dates of previous
inspection: ...", one of three outcome statements, "The next full area SEND inspection will be within
approximately three years"). Everything here is read from that wording, so an unusual report yields None
plus a reason rather than a guess. The wording is read as a template drifts: plural or reworded labels
("Dates of previous inspections", "Previous inspection dates", "Inspection date -"), a colon or none, a
single date or a range across months or years (see dates.py), prose where a label should be ("The
inspection took place from ...", "was last inspected between ..."; only under a report's own title),
and outcome sentences with "leads", "outcomes and experiences", "widespread and systemic" or "Overall, ...".

`next_inspection` is the stated interval with its number in figures ("within approximately three years" and
"... 3 years" are both "within approximately 3 years"), so reports group by it; `monitoring_inspection` is
the same for the monitoring inspection a report with widespread and/or systemic failings announces.
ICB names are canonical as "NHS <name> Integrated Care Board", taken from the first sentence of the
"information" section that names one ("Frimley ICB" becomes "NHS Frimley Integrated Care Board").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from sendcorpus.extract.dates import DateRange, first_date_range, normalise_spaces
from sendcorpus.extract.layout import ParsedReport

_EXPERIENCES = r"(?:experiences\s+and\s+outcomes|outcomes\s+and\s+experiences)"
OUTCOME_STATEMENTS = {
    "positive": re.compile(rf"(?:typically\s+)?leads?\s+to\s+positive\s+{_EXPERIENCES}", re.I),
    "inconsistent": re.compile(rf"leads?\s+to\s+inconsistent\s+{_EXPERIENCES}", re.I),
    "systemic_failings": re.compile(r"widespread\s+(?:and\s*/\s*or|and|or)\s+systemic\s+failings", re.I),
}
# how the report's own outcome sentence opens; case-sensitive, so "Findings indicate that the local area
# partnership's arrangements ..." (a quotation) has no opening
STATEMENT_OPENING = re.compile(
    r"(?:(?:Overall|In\s+summary),\s+|Inspectors\s+found\s+that\s+|(?=[A-Z]))"
    r"(?:[Tt]he\s+(?:local\s+)?area\b|[Tt]he\s+arrangements\b|[Ll]ocal\s+area\s+partnership\s+arrangements"
    r"|[Tt]here\s+(?:are|is)\s+(?:evidence\s+of\s+)?widespread)"
)
_LABEL_END = r"\s*(?::|[-–—](?=\s))"
_PREVIOUS = r"(?:previous|last|prior)\s+(?:full\s+)?(?:area\s+SEND\s+|joint\s+)?inspection"
# "Inspection dates:", "Inspection date", "Dates of inspection -", never the previous inspection's label
INSPECTION_LABEL = re.compile(
    rf"(?<!previous\s)(?<!last\s)(?<!prior\s)\b(?:inspection\s+dates?|dates?\s+of\s+(?:the\s+)?inspection)"
    rf"(?:{_LABEL_END})?",
    re.I,
)
# "Dates of previous inspection:", "Date of the previous inspections", "Previous inspection dates",
# "Last inspection:" (a bare "previous inspection" only with a colon or dash after it)
PREVIOUS_LABEL = re.compile(
    rf"\b(?:dates?\s+of\s+(?:the\s+)?{_PREVIOUS}s?|{_PREVIOUS}\s+dates?)(?:{_LABEL_END})?"
    rf"|\b{_PREVIOUS}s?{_LABEL_END}",
    re.I,
)
NOT_INSPECTED = re.compile(
    r"^\W*(?:not\s+(?:previously\s+)?inspected(?:\s+before)?|none|n/?a\b|not\s+applicable"
    r"|no\s+previous\s+(?:full\s+)?(?:area\s+SEND\s+)?inspection"
    r"|there\s+(?:has|have)\s+been\s+no\s+previous\s+(?:full\s+)?(?:area\s+SEND\s+)?inspections?)\b",
    re.I,
)
# prose instead of a label: "The inspection took place from ...", "The partnership was inspected between ..."
INSPECTION_PROSE = re.compile(
    r"\b(?:this|the)\s+(?:area\s+SEND\s+|joint\s+)?inspection\s+(?:took\s+place|was\s+(?:carried\s+out|"
    r"conducted|held|undertaken)|ran|happened)\b|\b(?:partnership|area)\s+was\s+inspected\b",
    re.I,
)
# "The previous full inspection was on 19 March 2018.", "The area was last inspected in ..."
PREVIOUS_PROSE = re.compile(
    rf"\b{_PREVIOUS}\s+(?:was|took\s+place)\b|\b(?:was|were)\s+(?:last|previously)\s+inspected\b"
    r"|\blast\s+inspected\b",
    re.I,
)
_WHEN = r"(?P<when>(?:with)?in\s+[^.]*?)\s*\."  # "within approximately 3 years."
NEXT_FULL = re.compile(
    r"next\s+(?:full\s+)?(?:area\s+SEND\s+)?(?:re)?inspection\s+"
    r"(?:will|is\s+(?:expected|due|likely|planned)(?:\s+to)?|should)\s+(?:(?:be|take\s+place|happen|occur)\s+)?"
    + _WHEN,
    re.I,
)
# a report with widespread and/or systemic failings: "A monitoring inspection will be carried out within
# approximately 18 months.", or actively ("Ofsted and CQC will carry out a monitoring inspection within ...")
MONITORING = (
    re.compile(
        r"monitoring\s+(?:inspection|visit)\s+(?:will|is\s+(?:expected|due|likely|planned)(?:\s+to)?|should)\s+"
        r"(?:(?:be\s+(?:carried\s+out|undertaken|conducted|held)|take\s+place|happen|occur)\s+)?" + _WHEN,
        re.I,
    ),
    re.compile(
        r"\b(?:carry\s+out|undertake|conduct)\s+an?\s+monitoring\s+(?:inspection|visit)\s+" + _WHEN, re.I
    ),
)
TITLE = re.compile(
    r"area\s+SEND\s+inspection\s+(?:of|in)\s+(?:the\s+)?(?P<area>.+?)\s+local\s+area\s+partnership", re.I
)
# how far past a label its value can reach: the outcome statement follows within a line or two
LABEL_VALUE_CHARS = 220

ICB_HEAD = re.compile(r"\b(?:Integrated\s+Care\s+Board|ICB)s?\b(?!\))")
# words that may be part of an ICB's name while walking back from "Integrated Care Board"
NAME_CONNECTORS = {"and", "of", "the", "&", ","}
# capitalised words that open a sentence or end another name, never part of an ICB's name
NOT_NAME_WORDS = {
    "ICB",
    "ICBs",
    "Board",
    "Within",
    "In",
    "On",
    "From",
    "At",
    "Since",
    "By",
    "For",
    "With",
    "To",
}
NOT_NAME_WORDS |= {"When", "While", "After", "Before", "Under", "Across", "Both", "Each", "Two", "Three"}
# a name ends before these: the partner bodies that share the sentence ("Bury Council and NHS ...")
PARTNER_HEADS = re.compile(
    r"^.*\b(?:Council|Trust|Partnership|authority|Authority|Group|Groups|CCG|CCGs)\s*(?:,|\band\b)\s*"
)


@dataclass
class FactEvidence:
    field: str  # e.g. "inspection_start"
    value: str | None  # the value as stored (ISO date, outcome id, ...)
    page: int | None
    evidence: str  # the sentence/line it came from


@dataclass
class ReportFacts:
    local_authority: str | None
    icbs: list[str]
    outcome: str | None  # positive | inconsistent | systemic_failings
    outcome_reason: str | None  # why outcome is None
    inspection_start: date | None
    inspection_end: date | None
    previous_inspection_start: date | None
    previous_inspection_end: date | None
    next_inspection: str | None  # the stated interval as written, e.g. "within approximately three years"
    monitoring_inspection: str | None = None  # likewise, for a monitoring inspection ("... 18 months")
    evidence: list[FactEvidence] = field(default_factory=list)


@dataclass
class _Passage:
    text: str  # whitespace normalised
    page: int | None


def extract_facts(parsed: ParsedReport) -> ReportFacts:
    facts = ReportFacts(
        local_authority=None,
        icbs=[],
        outcome=None,
        outcome_reason=None,
        inspection_start=None,
        inspection_end=None,
        previous_inspection_start=None,
        previous_inspection_end=None,
        next_inspection=None,
    )
    _read_local_authority(parsed.heading, parsed.titles[0][1] if parsed.titles else None, facts)
    header = _passages(parsed, "outcome")
    titled = facts.local_authority is not None
    _read_inspection_dates(header, facts, titled)
    _read_previous_dates(header, facts, titled)
    _read_outcome(header, facts)
    facts.next_inspection = _read_interval(header, facts, "next_inspection", (NEXT_FULL,))
    facts.monitoring_inspection = _read_interval(header, facts, "monitoring_inspection", MONITORING)
    _read_icbs(_passages(parsed, "information"), facts)
    return facts


def _passages(parsed: ParsedReport, section: str) -> list[_Passage]:
    """The items of a section, falling back to the first two pages when they hold the report's header."""
    items = [
        _Passage(normalise_spaces(item.text), item.page) for item in parsed.items if item.section == section
    ]
    if items:
        return items
    opening = [_Passage(normalise_spaces(page.text), page.number) for page in parsed.pages[:2]]
    # without the report's own header an outcome phrase may be a quotation (a press article)
    return opening if _labelled_range(opening, INSPECTION_LABEL) else []


def _read_local_authority(heading: str, page: int | None, facts: ReportFacts) -> None:
    match = TITLE.search(normalise_spaces(heading or ""))
    if match:
        facts.local_authority = match.group("area").strip()
        facts.evidence.append(FactEvidence("local_authority", facts.local_authority, page, heading))


def _labelled_values(passages: list[_Passage], label: re.Pattern[str]) -> Iterator[tuple[str, str, _Passage]]:
    """Each place the label is written ("Date of previous inspection:"), the text after it, its passage."""
    for passage in passages:
        for match in label.finditer(passage.text):
            value = passage.text[match.end() : match.end() + LABEL_VALUE_CHARS].strip(" :–—-")
            yield match.group(0).strip(), value, passage


def _labelled_range(
    passages: list[_Passage], label: re.Pattern[str]
) -> tuple[DateRange, str, _Passage] | None:
    """The first date range that opens a labelled value; a later date (of the previous inspection, say)
    is never taken for the label's."""
    for label_text, value, passage in _labelled_values(passages, label):
        found = first_date_range(value)
        if found is not None and found[1][0] == 0:
            return found[0], f"{label_text} {found[0].text}", passage
    return None


def _prose_range(passages: list[_Passage], prose: re.Pattern[str]) -> tuple[DateRange, str, _Passage] | None:
    """The first date in the sentence a prose pattern opens or sits in."""
    for passage in passages:
        for match in prose.finditer(passage.text):
            sentence = _sentence_around(passage.text, match.start())
            offset = match.start() - passage.text.index(sentence)
            # "Dates of previous inspection: The previous full inspection was on ...": the label is not prose
            sentence = (
                sentence[sentence.rfind(": ", 0, offset) + 2 :] if ": " in sentence[:offset] else sentence
            )
            found = first_date_range(sentence)
            if found is not None:
                return found[0], sentence, passage
    return None


def _record_range(facts: ReportFacts, prefix: str, found: DateRange, page: int | None, evidence: str) -> None:
    setattr(facts, f"{prefix}_start", found.start)
    setattr(facts, f"{prefix}_end", found.end)
    facts.evidence.append(FactEvidence(f"{prefix}_start", found.start.isoformat(), page, evidence))
    facts.evidence.append(FactEvidence(f"{prefix}_end", found.end.isoformat(), page, evidence))


def _read_inspection_dates(passages: list[_Passage], facts: ReportFacts, titled: bool) -> None:
    found = _labelled_range(passages, INSPECTION_LABEL)
    if found is None and titled:  # prose only in a report's own header, never in an article about one
        found = _prose_range(passages, INSPECTION_PROSE)
    if found is not None:
        date_range, evidence, passage = found
        _record_range(facts, "inspection", date_range, passage.page, evidence)


def _read_previous_dates(passages: list[_Passage], facts: ReportFacts, titled: bool) -> None:
    for label, value, passage in _labelled_values(passages, PREVIOUS_LABEL):
        not_inspected = NOT_INSPECTED.match(value)
        if not_inspected:
            evidence = f"{label} {not_inspected.group(0).strip(' :.')}"
            facts.evidence.append(FactEvidence("previous_inspection_start", None, passage.page, evidence))
            return
    found = _labelled_range(passages, PREVIOUS_LABEL)
    if found is None and (titled or any(True for _ in _labelled_values(passages, PREVIOUS_LABEL))):
        # "Dates of previous inspection: The previous full inspection was on 19 March 2018. There was a
        # subsequent revisit on 24 March 2020." or no label at all
        found = _prose_range(passages, PREVIOUS_PROSE)
    if found is not None:
        date_range, evidence, passage = found
        _record_range(facts, "previous_inspection", date_range, passage.page, evidence)


def _read_outcome(passages: list[_Passage], facts: ReportFacts) -> None:
    hits = []
    for passage in passages:
        for outcome, statement in OUTCOME_STATEMENTS.items():
            for match in statement.finditer(passage.text):
                sentence = _statement_sentence(passage.text, match.start())
                if sentence is not None:
                    hits.append((outcome, passage, sentence))
    outcomes = {outcome for outcome, _, _ in hits}
    if len(outcomes) == 1:
        outcome, passage, sentence = hits[0]
        facts.outcome = outcome
        facts.evidence.append(FactEvidence("outcome", outcome, passage.page, sentence))
    elif not passages:
        facts.outcome_reason = "no inspection outcome section found: is this an area SEND inspection report?"
    elif not outcomes:
        facts.outcome_reason = "no outcome statement of the 2023 area SEND framework found"
    else:
        facts.outcome_reason = f"conflicting outcome statements found: {', '.join(sorted(outcomes))}"


def _statement_sentence(text: str, position: int) -> str | None:
    """The report's own outcome sentence around `position`, from its opening words, or None when the
    statement is quoted or reported ("Findings indicate that the local area partnership's ...")."""
    sentence = _sentence_around(text, position)
    offset = position - text.index(sentence)
    openings = [m.start() for m in STATEMENT_OPENING.finditer(sentence) if m.start() <= offset]
    if not openings:
        return None
    return sentence[openings[-1] :]


_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "eighteen": 18}


def _in_figures(interval: str) -> str:
    return re.sub(
        r"\b(" + "|".join(_NUMBER_WORDS) + r")\b",
        lambda m: str(_NUMBER_WORDS[m.group(1).lower()]),
        interval,
        flags=re.I,
    )


def _read_interval(
    passages: list[_Passage], facts: ReportFacts, name: str, patterns: tuple[re.Pattern[str], ...]
) -> str | None:
    """The first stated interval any of `patterns` finds, in figures, with its sentence as evidence."""
    for passage in passages:
        for pattern in patterns:
            match = pattern.search(passage.text)
            if match:
                when = _in_figures(match.group("when"))
                sentence = _sentence_around(passage.text, match.start())
                facts.evidence.append(FactEvidence(name, when, passage.page, sentence))
                return when
    return None


def _sentence_around(text: str, position: int) -> str:
    """The sentence holding `position`; the labelled header lines ("...: 2017 The local") count as breaks."""
    starts = [
        m.end() for m in re.finditer(r"[.!?]\s+|\b(?:(?:19|20)\d\d|inspected)\s+(?=[A-Z])", text[:position])
    ]
    begin = starts[-1] if starts else 0
    end_match = re.search(r"[.!?](?=\s|$)", text[position:])
    end = position + end_match.end() if end_match else len(text)
    return text[begin:end].strip()


def _read_icbs(passages: list[_Passage], facts: ReportFacts) -> None:
    for passage in passages:
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z‘“'\"])", passage.text):
            names = _icb_names(sentence, facts.local_authority)
            if names:
                facts.icbs = names
                for name in names:
                    facts.evidence.append(FactEvidence("icbs", name, passage.page, sentence))
                return


def _icb_names(sentence: str, local_authority: str | None) -> list[str]:
    names: list[str] = []
    for head in ICB_HEAD.finditer(sentence):
        name = _name_before(sentence[: head.start()], local_authority)
        if name and name.lower() not in {n.lower() for n in names}:
            names.append(name)
    return [icb_name(name) for name in names]


def icb_name(name: str) -> str:
    """The board's official form, "NHS <name> Integrated Care Board", however the report prints it
    ("Black Country Integrated Care Board", "Staffordshire & Stoke-on-Trent ..."), so one board is one
    name across the corpus; the evidence keeps the sentence as printed."""
    core = re.sub(r"^NHS\s+", "", name).replace(" & ", " and ")
    return f"NHS {core} Integrated Care Board"


def _name_before(text: str, local_authority: str | None) -> str | None:
    """Walk back from "Integrated Care Board" over capitalised words and connectors to the name's start."""
    tokens = re.findall(r"[\w’'&-]+|,|\S", text)
    kept: list[str] = []
    for token in reversed(tokens):
        is_name_word = token[:1].isupper() and token not in NOT_NAME_WORDS
        if not (is_name_word or token in NAME_CONNECTORS):
            break
        kept.append(token)
    words = list(reversed(kept))
    name = " ".join(words).replace(" ,", ",")
    without_partner = PARTNER_HEADS.sub("", name)
    if without_partner == name and local_authority:
        # "The London Borough of Hackney and North East London" -> "North East London"
        without_partner = re.sub(rf"^.*?\b{re.escape(local_authority)}\s*(?:,|and)\s+", "", name, flags=re.I)
    name = without_partner
    name = re.sub(r"^(?:(?:and|the|of|&)\s+|,\s*)+", "", name, flags=re.I).strip(" ,")
    if not name or name.lower() in {"a", "new", "the"} or not name[:1].isupper():
        return None
    return name
