"""Whether a parsed report has everything a report of the 2023 framework has: each section, and
text on every page. A report that lost pages or sections still loads, marked 'partial: <what is missing>'."""

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
    priority action; page 3 has no text'."""
    present = {item.section for item in parsed.items}
    missing = [f"no {label}" for section, label in EXPECTED_SECTIONS if section not in present]
    if kind == "pdf":
        missing += [
            f"page {page.number} has no text"
            for page in parsed.pages
            if len(page.text.split()) < _MIN_WORDS_ON_A_PAGE
        ]
    return f"partial: {'; '.join(missing)}" if missing else COMPLETE
