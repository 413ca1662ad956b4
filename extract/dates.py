"""Date phrases as the reports write them: single dates and ranges such as "23 to 27 September 2024".

A range is read as two date atoms joined by "to", "until" or a dash ("and" after "between"). The first
atom may leave out its month and year ("23 to 27 September 2024") or only its year ("27 November to
1 December 2017"); what it leaves out comes from the second atom. When the borrowed year would put the
start after the end, the start is in the year before ("28 December to 3 January 2016"). A month written
before the first day serves both ("February 12-16, 2024"), and dates may be all numbers, day first
("12/02/2024").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

MONTHS = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
WEEKDAY = r"(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+)?"
MONTH = r"(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
DAY = r"(?:[0-2]?\d|3[01])(?:st|nd|rd|th)?"
YEAR = r"(?:19|20)\d\d"
# one date atom: "23", "23 September", "23 September 2024", "Monday 23rd Sept. 2024", "September 23, 2024",
# or all in numbers, day first as in England: "23/09/2024", "23.9.2024"
ATOM = (
    rf"(?:{WEEKDAY}(?:(?P<{{p}}day>{DAY})(?:\s+(?:of\s+)?(?P<{{p}}month>{MONTH}))?"
    rf"|(?P<{{p}}mfirst>{MONTH})\s+(?P<{{p}}dsecond>{DAY}))"
    rf"(?:,?\s+(?P<{{p}}year>{YEAR}))?"
    rf"|(?P<{{p}}nday>[0-3]?\d)(?P<{{p}}sep>[/.])(?P<{{p}}nmonth>[01]?\d)(?P={{p}}sep)(?P<{{p}}nyear>{YEAR}))"
)
JOINER = r"\s*(?:-|–|—|‒|―|\bto\b|\buntil\b|\btill\b|\bthrough\b)\s*"
# "between 12 and 16 February 2024": "and" joins a range only after "between"
RANGE_RE = re.compile(
    rf"(?<![\w/])(?P<between>between\s+)?{ATOM.format(p='a')}"
    rf"(?:(?(between)\s+and\s+|{JOINER}){ATOM.format(p='b')})?(?![\w/]|\.\d)",
    re.IGNORECASE,
)
BETWEEN = re.compile(r"^between\s+", re.IGNORECASE)
SPACES = re.compile(r"[\s\u00a0\u2007\u202f]+")


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date
    text: str  # the phrase as matched, whitespace normalised


@dataclass(frozen=True)
class _Atom:
    day: int
    month: int | None
    year: int | None


def normalise_spaces(text: str) -> str:
    return SPACES.sub(" ", text).strip()


def parse_date_range(text: str) -> DateRange | None:
    """The one date or date range that `text` consists of (surrounding punctuation aside), else None.

    >>> parse_date_range("23 to 27 September 2024").start
    datetime.date(2024, 9, 23)
    """
    text = normalise_spaces(text)
    found = find_date_ranges(text)
    if len(found) != 1:
        return None
    date_range, (begin, end) = found[0]
    outside = (text[:begin] + text[end:]).strip(" .,;:()")
    return date_range if outside == "" else None


def find_date_ranges(text: str) -> list[tuple[DateRange, tuple[int, int]]]:
    """Every complete date or date range in `text` (with its character span), in order.

    A phrase only counts when a month and a year can be worked out for both ends, so a bare "23" or
    "September 2024" is not a date here.
    """
    found = []
    for match in RANGE_RE.finditer(text):
        date_range = _from_match(match)
        if date_range is not None:
            found.append((date_range, match.span()))
    return found


def first_date_range(text: str) -> tuple[DateRange, tuple[int, int]] | None:
    found = find_date_ranges(normalise_spaces(text)) if text else []
    return found[0] if found else None


def _atom(match: re.Match[str], prefix: str) -> _Atom | None:
    if match.group(f"{prefix}nday"):
        return _Atom(
            day=int(match.group(f"{prefix}nday")),
            month=int(match.group(f"{prefix}nmonth")),
            year=int(match.group(f"{prefix}nyear")),
        )
    day = match.group(f"{prefix}day") or match.group(f"{prefix}dsecond")
    if day is None:
        return None
    month_word = match.group(f"{prefix}month") or match.group(f"{prefix}mfirst")
    year = match.group(f"{prefix}year")
    return _Atom(
        day=int(re.sub(r"\D", "", day)),
        month=MONTHS[month_word.rstrip(".").lower()] if month_word else None,
        year=int(year) if year else None,
    )


def _from_match(match: re.Match[str]) -> DateRange | None:
    first = _atom(match, "a")
    second = _atom(match, "b")
    if first is None:
        return None
    text = BETWEEN.sub("", normalise_spaces(match.group(0)))
    if second is None:
        if match.group("between") or first.month is None or first.year is None:
            return None
        start = _make_date(first.year, first.month, first.day)
        return None if start is None else DateRange(start=start, end=start, text=text)
    # "February 12-16, 2024": the second atom borrows the month written before the first day
    second_month = second.month or (first.month if first.year is None else None)
    if second_month is None or second.year is None:
        return None
    end = _make_date(second.year, second_month, second.day)
    start_month = first.month or second_month
    start_year = first.year or (second.year - 1 if start_month > second_month else second.year)
    start = _make_date(start_year, start_month, first.day)
    if start is None or end is None or start > end:
        return None
    return DateRange(start=start, end=end, text=text)


def _make_date(year: int, month: int, day: int) -> date | None:
    """None for a day the calendar does not have ("31 September"): such a phrase is not a date."""
    try:
        return date(year, month, day)
    except ValueError:
        return None
