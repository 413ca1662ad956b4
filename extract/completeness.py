"""Whether a parsed report has everything a report of the 2023 framework has: each section, and
text on every page, no page repeated. A report that lost pages or sections, or had a page repeated (dropped
before segmenting), still loads, marked 'partial: <what is missing>'."""

from __future__ import annotations

from sendcorpus.extract.layout import ParsedReport

COMPLETE = "complete"
# every one of the 45 real reports has all of these
EXPECTED_SECTIONS = [
    ("outcome", "inspection outcome"),
    ("information", "information about the local area partnership"),
    ("context", "what it is like to be a child or young person with SEND"),
    ("strength", "strengths"),
    ("weakness", "weaknesses"),
    ("recommendation", "areas for improvement or priority action"),
    ("other", "local area partnership details"),
]
_MIN_WORDS_ON_A_PAGE = 5


def completeness(parsed: ParsedReport, kind: str) -> str:
    """'complete', or 'partial: ' and what is missing, e.g. 'partial: no areas for improvement or
    priority action; page 3 has no text' or 'partial: page 3 repeats page 2'."""
    present = {item.section for item in parsed.items}
    missing = [f"no {label}" for section, label in EXPECTED_SECTIONS if section not in present]
    if kind == "pdf":
        missing += [
            f"page {page.number} has no text"
            for page in parsed.pages
            if len(page.text.split()) < _MIN_WORDS_ON_A_PAGE
        ]
    missing += [_repeats(run) for run in _runs(parsed.repeated_pages)]
    return f"partial: {'; '.join(missing)}" if missing else COMPLETE


def _runs(repeated: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Repeats of consecutive pages by consecutive pages, together: a whole copy appended is one run."""
    runs: list[list[tuple[int, int]]] = []
    for page, earlier in repeated:
        if runs and runs[-1][-1] == (page - 1, earlier - 1):
            runs[-1].append((page, earlier))
        else:
            runs.append([(page, earlier)])
    return runs


def _repeats(run: list[tuple[int, int]]) -> str:
    (first, first_earlier), (last, last_earlier) = run[0], run[-1]
    if len(run) == 1:
        return f"page {first} repeats page {first_earlier}"
    return f"pages {first}–{last} repeat pages {first_earlier}–{last_earlier}"
