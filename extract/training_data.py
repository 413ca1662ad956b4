"""The gold items with their full text: the gold files hold each item's first 160 characters, so the
reports are segmented here (extract.parse, no Prefect) and each gold item takes the segmented item of the
same file and section with the same opening, exactly as `evaluate` matches them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sendcorpus.extract.evaluate import GoldError, GoldItem, join_continued_rows, opening
from sendcorpus.extract.layout import ParsedReport
from sendcorpus.extract.parse import parse_report


@dataclass(frozen=True)
class LabelledItem:
    file: str
    section: str
    text: str  # the full segmented item; the gold's opening when no segmented item matched
    themes: frozenset[str]
    matched: bool = True


def report_sources(gold_dir: Path, reports: Path | None = None) -> list[Path]:
    """The report files a gold folder is about: the PDFs and text files in `reports` when given, else
    what sits beside the gold folder as in ../shared (the corpus PDFs and the seed text reports)."""
    if reports is not None:
        if not reports.is_dir():
            raise GoldError(f"no folder of reports at {reports}")
        return sorted(path for path in reports.iterdir() if path.suffix.lower() in (".pdf", ".txt"))
    shared = gold_dir.parent
    return sorted((shared / "corpus" / "reports").glob("*.pdf")) + sorted((shared / "seeds").glob("*.txt"))


def parse_gold_reports(gold_items: list[GoldItem], sources: list[Path]) -> dict[str, ParsedReport]:
    by_name = {path.name: path for path in sources}
    files = sorted({item.file for item in gold_items})
    missing = [file for file in files if file not in by_name]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise GoldError(
            f"no report file for gold {shown} (looked beside the gold folder, in ../corpus/reports and "
            "../seeds): give the folder the reports are in with --reports DIR"
        )
    return {file: parse_report(by_name[file]) for file in files}


def labelled_items(gold_items: list[GoldItem], parsed: dict[str, ParsedReport]) -> list[LabelledItem]:
    """Every gold item, in gold order, with the full text of its segmented item (gold halves of one table
    row joined, as `evaluate` scores them)."""
    segmented: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for file, report in parsed.items():
        for item in report.items:
            segmented[(file, item.section, opening(item.text))].append(item.text)
    rows = ((file, item.section, item.text) for file, report in parsed.items() for item in report.items)
    labelled = []
    for item in join_continued_rows(gold_items, rows):
        candidates = segmented.get((item.file, item.section, opening(item.text)))
        if candidates:
            labelled.append(LabelledItem(item.file, item.section, candidates.pop(0), item.themes))
        else:
            labelled.append(LabelledItem(item.file, item.section, item.text, item.themes, matched=False))
    return labelled
