"""The figures a report states: percentages, durations and counts, as a spaCy component.

Each duration also gets a `duration_kind` (wait, deadline, period, horizon, age, other: duration_kind.py),
since "wait up to two years", "over the last two years" and "a five-year strategy" measure different things.

The Matcher patterns (patterns/figure_patterns.jsonl) find the shapes "<number> %", "<number> weeks",
"<number> <noun>s"; the code here reads the numbers, normalises durations to weeks and throws out what
only looks like a figure. Choices:
  - a range ("six to eight weeks", "40–50%") is stored with its upper bound as the value;
  - words such as "half" or "most" are not percentages: only a number with "%"/"per cent" is;
  - durations are in minutes, hours, days, weeks, months or years;
  - "a year" is a duration only after a qualifier ("over a year", "up to a year"), since "once a year"
    and "a year ago" are not waits; qualifiers ("up to", "over", "more than", ...) are kept in `text`;
  - dates ("1 July 2022", "2023"), ages ("aged 16", "16 to 25 years old", "Year 9", "post-16", "0 to 25")
    and labels ("key stage 2", "section 19", "£10 million") are not figures;
  - counts need a plural noun (or children/people/staff) after the number; the word "one" is not
    counted ("one parent said" is prose, not a count) and neither are ranges of counts;
  - a count's unit is its head noun ("three special schools" -> "schools"), lower case unless an acronym.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from spacy.attrs import ORTH
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span, Token

from sendcorpus.extract.dates import MONTHS, find_date_ranges
from sendcorpus.extract.duration_kind import duration_kind

PATTERN_FILE = resources.files("sendcorpus.extract") / "patterns" / "figure_patterns.jsonl"

UNITS = {
    "minute": "minutes",
    "hour": "hours",
    "day": "days",
    "week": "weeks",
    "month": "months",
    "year": "years",
}
UNITS |= {plural: plural for plural in UNITS.values()}
WEEKS_PER_UNIT = {
    "minutes": 1 / 10080,
    "hours": 1 / 168,
    "days": 1 / 7,
    "weeks": 1.0,
    "months": 52 / 12,
    "years": 52.0,
}
KIND_PRIORITY = {"percentage": 0, "duration": 1, "count": 2}

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
_TEENS = [
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
SMALL_NUMBERS = {word: value for value, word in enumerate([*_ONES, *_TEENS])}
TENS = {
    word: 10 * (i + 2)
    for i, word in enumerate(["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"])
}
MULTIPLIERS = {"hundred": 100, "thousand": 1_000, "million": 1_000_000}
NUMBER_WORDS = SMALL_NUMBERS | TENS | MULTIPLIERS
DIGITS = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$|^\d+(?:\.\d+)?$")
DIGIT_RANGE = re.compile(r"^(\d+(?:\.\d+)?)[–—-](\d+(?:\.\d+)?)$")
RANGE_JOINERS = {"to", "-", "–", "—", "and", "or"}

# qualifiers read leftwards from the number and kept in the figure's text, longest first
_QUALIFIER_PHRASES = [
    "up to", "more than", "less than", "fewer than", "longer than", "in excess of", "at least", "at most",
    "over", "under", "within", "around", "about", "approximately", "almost", "nearly", "roughly", "between",
    "beyond", "exceeding", "only", "just", "well", "some",
]  # fmt: skip
QUALIFIERS = sorted((tuple(phrase.split()) for phrase in _QUALIFIER_PHRASES), key=lambda words: -len(words))
# "a year" is only a figure after one of these
DURATION_OF_A = {
    "up to",
    "more than",
    "less than",
    "longer than",
    "over",
    "under",
    "within",
    "almost",
    "nearly",
}
# a number right after these is an age, a school year or a label, not a figure
AGE_AND_LABEL_CUES = {
    "aged", "age", "ages", "year", "years", "stage", "stages", "post", "pre", "reach", "reaches", "reached",
    "reaching", "turn", "turns", "turned", "until", "till", "section", "tier", "level", "phase", "step",
    "part", "number", "no", "page", "chapter", "class", "grade", "£", "$", "€", "key",
}  # fmt: skip
PEOPLE = {"children", "people", "pupils", "students", "learners", "adults", "those", "child", "person"}
AGE_AFTER = {"old", "olds", "+", "th", "plus"}
# words that never sit between a count's number and its noun
NOT_MODIFIERS = {
    "of", "the", "and", "or", "to", "in", "for", "with", "who", "which", "that", "are", "were", "have", "had",
    "has", "is", "was", "be", "been", "not", "at", "on", "by", "from", "as", "than", "their", "these",
    "those", "this", "per", "each", "a", "an", "its", "it", "they", "we", "there", "where", "when", "out",
}  # fmt: skip
NOT_COUNT_HEADS = {
    "has", "was", "is", "does", "goes", "this", "thus", "plus", "always", "its", "hours", "minutes",
    "seconds", "olds", "times", "pounds", "means", "sometimes", "perhaps", "whereas", "towards",
    "afterwards", "besides", "includes", "needs", "remains", "receives", "attends", "says", "feels",
}  # fmt: skip
NOT_COUNT_ENDINGS = ("ss", "us", "is", "ous", "ics", "'s", "’s")


@dataclass
class Figure:
    kind: str  # percentage | duration | count
    value: float | None
    unit: str | None  # percent | days | weeks | months | years | the counted noun
    weeks: float | None  # durations only
    text: str  # as written, qualifier included ("up to two years")
    evidence: str  # the sentence
    theme: str | None  # the theme cued nearest it in its sentence, or of the nearest sentence before it
    duration_kind: str | None = None  # durations only: wait | deadline | period | horizon | age | other
    start: int = 0  # where the figure is in the item's text (the page is looked up from it)


if not Doc.has_extension("themes"):
    Doc.set_extension("themes", default=None)
Doc.set_extension("figures", default=[], force=True)


def number_value(text: str) -> float | None:
    """A cardinal number written as digits ("1,000", "2.5") or as one word ("eighteen"); None otherwise."""
    lowered = text.lower()
    if DIGITS.match(lowered):
        return float(lowered.replace(",", ""))
    return float(NUMBER_WORDS[lowered]) if lowered in NUMBER_WORDS else None


@lru_cache(maxsize=1 << 16)
def is_figure_number(text: str) -> bool:
    return number_value(text) is not None or DIGIT_RANGE.match(text) is not None


def _is_figure_number(token: Token) -> bool:
    return is_figure_number(token.text)


Token.set_extension("figure_number", getter=_is_figure_number, force=True)

# every pattern starts with a figure number, or is "a|an|one day|week|month|year"
_ARTICLES = frozenset({"a", "an", "one"})
_SINGULAR_UNITS = frozenset({"day", "week", "month", "year"})


def may_hold_figure(doc: Doc) -> bool:
    """False when no pattern can match: no word of the doc is a number, and it lacks "a" or "an" or
    "day" ... "year". Read from the doc's distinct words, so most items never reach the Matcher."""
    strings = doc.vocab.strings
    words = [strings[orth] for orth in doc.count_by(ORTH)]
    if any(is_figure_number(word) for word in words):
        return True
    lowered = {word.lower() for word in words}
    return not lowered.isdisjoint(_ARTICLES) and not lowered.isdisjoint(_SINGULAR_UNITS)


@cache
def _patterns() -> list[dict[str, Any]]:
    lines = PATTERN_FILE.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


class FigureFinder:
    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name
        self.matcher = Matcher(nlp.vocab)
        for number, entry in enumerate(_patterns()):
            self.matcher.add(f"{entry['label']}:{number}", [entry["pattern"]])

    def __call__(self, doc: Doc) -> Doc:
        if not may_hold_figure(doc):
            doc._.figures = []
            return doc
        date_chars = {i for _, (begin, end) in find_date_ranges(doc.text) for i in range(begin, end)}
        candidates = []
        for match_id, start, end in self.matcher(doc):
            kind = doc.vocab.strings[match_id].split(":")[0]
            found = _read_figure(kind, doc[start:end], date_chars)
            if found is not None:
                candidates.append(found)
        placed = sorted(_without_overlaps(candidates), key=lambda c: c[0].start)
        sentence_themes = doc._.sentence_themes if Doc.has_extension("sentence_themes") else []
        positions = doc._.theme_positions if Doc.has_extension("theme_positions") else {}
        for span, figure in placed:
            figure.theme = _theme_for(span, sentence_themes, positions)
            if figure.kind == "duration":
                figure.duration_kind = duration_kind(span)
        doc._.figures = [figure for _, figure in placed]
        return doc


def _theme_for(
    span: Span, sentence_themes: list[tuple[int, list[str]]], positions: dict[str, list[int]]
) -> str | None:
    """The item's theme whose cue is nearest the figure in its own sentence ("an 18-month wait for CAMHS":
    mental health), else the first theme of the nearest sentence before it: "Most children wait too long
    for an autism assessment. The average wait is 18 months." """
    sentence = span.sent if span.doc.has_annotation("SENT_START") else span.doc[:]
    near = [
        (abs(position - span.start), theme)
        for theme, starts in positions.items()
        for position in starts
        if sentence.start <= position < sentence.end
    ]
    if near:
        return min(near)[1]
    earlier = [themes for start, themes in sentence_themes if start <= sentence.start and themes]
    return earlier[-1][0] if earlier else None


@Language.factory("send_figures")
def make_figure_finder(nlp: Language, name: str) -> FigureFinder:
    return FigureFinder(nlp, name)


def _without_overlaps(candidates: list[tuple[Span, Figure]]) -> list[tuple[Span, Figure]]:
    """Percentages before durations before counts, longer before shorter; no token in two figures."""
    taken: set[int] = set()
    chosen = []
    for span, figure in sorted(candidates, key=lambda c: (KIND_PRIORITY[c[1].kind], -len(c[0]), c[0].start)):
        tokens = set(range(span.start, span.end))
        if not tokens & taken:
            taken |= tokens
            chosen.append((span, figure))
    return chosen


def _read_figure(kind: str, span: Span, date_chars: set[int]) -> tuple[Span, Figure] | None:
    doc = span.doc
    numbers = [token for token in span if token._.figure_number]
    if any(_is_date_part(token, date_chars) for token in numbers):
        return None
    start = _start_with_qualifier(span)
    qualifier = " ".join(token.lower_ for token in doc[start : span.start])
    if _is_age_or_label(doc, start, span):
        return None
    if kind == "percentage":
        return _read_percentage(span, start)
    if kind == "duration":
        return _read_duration(span, start, qualifier)
    return _read_count(span, start)


def _read_percentage(span: Span, start: int) -> tuple[Span, Figure] | None:
    words = [token.lower_ for token in span]
    if "in" in words or "out" in words:  # "one in five children", "three out of four"
        numbers = [token for token in span if token._.figure_number]
        part, whole = _read_numbers(numbers[:1]), _read_numbers(numbers[1:2])
        if part is None or not whole or part > whole:
            return None
        end = numbers[1].i + 1  # the noun after "one in five" is not part of the figure
        return _figure("percentage", round(100 * part / whole, 2), "percent", None, span.doc[start:end])
    value = _read_numbers(list(span)[:-2] if words[-1] == "cent" else list(span)[:-1])
    if value is None:
        return None
    return _figure("percentage", value, "percent", None, span.doc[start : span.end])


def _read_duration(span: Span, start: int, qualifier: str) -> tuple[Span, Figure] | None:
    words = [token.lower_ for token in span]
    unit_index = next(i for i, word in enumerate(words) if word in UNITS)
    unit = UNITS[words[unit_index]]
    half = 0.5 if words[-3:] == ["and", "a", "half"] or words[1:4] == ["and", "a", "half"] else 0.0
    if words[1:4] == ["and", "a", "half"]:  # "two and a half years"
        base = list(span[:1])
    else:
        base = list(span[:unit_index])
        if base and base[-1].text == "-":  # "20-week"
            base = base[:-1]
    if [token.lower_ for token in base] in (["a"], ["an"]):
        if not half and qualifier.removeprefix("just ").removeprefix("well ") not in DURATION_OF_A:
            return None  # "once a year", "a year ago"
        value: float | None = 1.0
    else:
        value = _read_numbers(base)
    if value is None:
        return None
    value += half
    weeks = round(value * WEEKS_PER_UNIT[unit], 2)
    return _figure("duration", value, unit, weeks, span.doc[start : span.end])


def _read_count(span: Span, start: int) -> tuple[Span, Figure] | None:
    doc = span.doc
    first = span[0]
    if first.lower_ == "one" or _follows_a_range(doc, span.start):
        return None
    numbers = [first]
    rest = list(span[1:])
    while rest and rest[0].lower_ in MULTIPLIERS | TENS.keys() | SMALL_NUMBERS.keys():
        numbers.append(rest.pop(0))
    head = rest[-1] if rest else None
    modifiers = rest[:-1]
    if head is None or _bad_count_head(head) or any(_bad_modifier(word) for word in modifiers):
        return None
    if head.i + 1 < len(doc) and doc[head.i + 1].lower_ in {"'s", "’s", "’", "'"}:
        return None  # "two Children's Services inspectors": the noun is not what is counted
    value = _read_numbers(numbers)
    if value is None or value != int(value):
        return None
    unit = head.text if head.text.isupper() or head.text[:-1].isupper() else head.lower_
    return _figure("count", value, unit, None, doc[start : span.end])


def _figure(kind: str, value: float, unit: str, weeks: float | None, span: Span) -> tuple[Span, Figure]:
    doc = span.doc
    evidence = span.sent.text.strip() if doc.has_annotation("SENT_START") else doc.text.strip()
    return span, Figure(kind, value, unit, weeks, span.text, evidence, None, start=span.start_char)


def _read_numbers(tokens: list[Token]) -> float | None:
    """The value of a number phrase: "18", "twenty-four", "two hundred", "six to eight" (the upper bound)."""
    texts = [token.text for token in tokens]
    for i, text in enumerate(texts):
        if text.lower() in RANGE_JOINERS and 0 < i < len(texts) - 1:
            low, high = _read_numbers(tokens[:i]), _read_numbers(tokens[i + 1 :])
            if low is None or high is None:
                return None
            if text == "-" and low in TENS.values() and 0 < high < 10:  # "twenty-four"
                return low + high
            return high if high >= low else None
    if len(texts) == 1:
        digit_range = DIGIT_RANGE.match(texts[0])
        if digit_range:
            low, high = float(digit_range.group(1)), float(digit_range.group(2))
            return high if high >= low else None
        return number_value(texts[0])
    values = [number_value(text) for text in texts]
    if len(values) != 2 or values[0] is None or values[1] is None:
        return None
    first, second = values
    if second in MULTIPLIERS.values():  # "two hundred"
        return first * second
    if first in TENS.values() and 0 < second < 10:  # "twenty four"
        return first + second
    return None


def _start_with_qualifier(span: Span) -> int:
    """Where the figure's phrase begins: before the lower end of a range and any qualifier."""
    doc = span.doc
    start = span.start
    # "aged 11 to 16 years" also matches as "16 years": the phrase begins at "11"
    while start >= 2 and doc[start - 1].lower_ in RANGE_JOINERS and doc[start - 2]._.figure_number:
        start -= 2
    for _ in range(2):  # "just over", "well over"
        for phrase in QUALIFIERS:
            begin = start - len(phrase)
            if begin >= 0 and tuple(token.lower_ for token in doc[begin:start]) == phrase:
                start = begin
                break
        else:
            break
    return start


def _is_date_part(token: Token, date_chars: set[int]) -> bool:
    if token.idx in date_chars:
        return True
    if re.fullmatch(r"(?:19|20)\d\d", token.text):  # a year, e.g. "in 2023" or "2023 to 2028"
        return True
    doc = token.doc
    neighbours = [doc[i] for i in (token.i - 1, token.i + 1) if 0 <= i < len(doc)]
    return any(n.text[:1].isupper() and n.text.lower().rstrip(".") in MONTHS for n in neighbours)


def _is_age_or_label(doc: Doc, start: int, span: Span) -> bool:
    before = [token for token in doc[max(0, start - 2) : start]]
    if before and before[-1].text.lower() in AGE_AND_LABEL_CUES:
        return True
    if (
        len(before) == 2
        and before[0].lower_ in {"age", "ages", "aged"}
        and before[1].lower_ in {"of", "between"}
    ):
        return True
    if before and before[-1].text in {"Year", "Years"}:
        return True
    after = [token.lower_ for token in doc[span.end : span.end + 3]]
    if after and (after[0] in AGE_AFTER or after[:2] == ["of", "age"] or after[:3] in (["-", "year", "-"],)):
        return True
    if after[:2] in (["-", "olds"], ["-", "old"]) or after[:1] == ["ago"]:
        return True
    # attributive "12 month review", "two-year developmental check": the age at which a check happens
    if (span[-1].lower_ in {"day", "week", "month", "year"} or span[-2].text == "-") and (
        set(after[:2]) & {"review", "reviews", "check", "checks"}
    ):
        return True
    if before and before[-1].text in {"‘", "'", '"', "“"}:  # a quoted name: "‘50 futures’ project"
        return True
    # "children up to 19 years", "young people over 18 years": ages
    if span[-1].lower_ in {"year", "years"} and before and before[-1].lower_ in PEOPLE:
        return True
    # "at 18 years", "by 19 years": ages; waits are written "for", "of", "up to" ...
    unit = span[-1].lower_
    return (
        unit in {"year", "years"}
        and start == span.start
        and bool(before)
        and before[-1].lower_ in {"at", "by"}
    )


def _follows_a_range(doc: Doc, start: int) -> bool:
    """The number closes a range ("14 to 19 team", "0-25 service"), which counts never are here."""
    # "14 to 19 team", or an age in front: "post-16 and 18 providers"
    if start >= 2 and doc[start - 1].lower_ in RANGE_JOINERS:
        before = doc[start - 2]
        if before._.figure_number or any(char.isdigit() for char in before.text):
            return True
    return bool(DIGIT_RANGE.match(doc[start].text))


def _bad_count_head(head: Token) -> bool:
    lowered = head.lower_
    return (
        lowered in UNITS
        or lowered in NOT_COUNT_HEADS
        or (lowered.endswith(NOT_COUNT_ENDINGS) and lowered not in {"children", "people"})
        or (not head.is_alpha and "-" not in head.text)
    )


def _bad_modifier(token: Token) -> bool:
    return token.lower_ in NOT_MODIFIERS or token.lower_ in UNITS or token.lower_ in AGE_AND_LABEL_CUES
