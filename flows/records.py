"""Turn parsed reports into the rows the warehouse loads: facts, items, themes, figures."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from functools import cache
from importlib import resources

from spacy.tokens import Doc

from sendcorpus import __version__
from sendcorpus.extract.facts import extract_facts
from sendcorpus.extract.layout import Item, ParsedReport
from sendcorpus.extract.nlp import annotate
from sendcorpus.flows.sources import InputFile
from sendcorpus.warehouse.load import ReportRecord


@cache
def pipeline_version() -> str:
    """The package version plus a digest of the extraction code and patterns: a change to either
    makes every report count as changed, so the next run reprocesses it."""
    digest = hashlib.sha256()
    root = resources.files("sendcorpus.extract")
    for entry in sorted(_files(root), key=lambda e: e.name):
        digest.update(entry.name.encode())
        digest.update(entry.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:10]}"


def _files(root):  # type: ignore[no-untyped-def]
    for entry in root.iterdir():
        if entry.is_dir() and entry.name != "__pycache__":
            yield from _files(entry)
        elif entry.name.endswith((".py", ".jsonl", ".json", ".yaml")):
            yield entry


def build_records(
    batch: list[tuple[InputFile, str, ParsedReport]],
) -> tuple[list[ReportRecord], list[tuple[str, str | None, Exception]]]:
    """Records for the reports that could be analysed, and (file, sha256, error) for the others.

    The spaCy pass runs once over the items of the whole batch, so `nlp.pipe` batches across reports."""
    docs = _annotate_all([parsed for _, _, parsed in batch])
    records, failures = [], []
    for index, (source, kind, parsed) in enumerate(batch):
        try:
            records.append(_record(source, kind, parsed, docs.get(index, [])))
        except Exception as error:
            failures.append((source.name, source.sha256, error))
    return records, failures


def _annotate_all(reports: list[ParsedReport]) -> dict[int, list[tuple[Item, Doc]]]:
    owner = {id(item): index for index, report in enumerate(reports) for item in report.items}
    by_report: dict[int, list[tuple[Item, Doc]]] = defaultdict(list)
    for item, doc in annotate(item for report in reports for item in report.items):
        by_report[owner[id(item)]].append((item, doc))
    return by_report


def _record(source: InputFile, kind: str, parsed: ParsedReport, docs: list[tuple[Item, Doc]]) -> ReportRecord:
    assert source.sha256 is not None
    paged = kind == "pdf"
    facts = extract_facts(parsed)
    record = ReportRecord(
        report_id=source.sha256[:16],
        file=source.name,
        sha256=source.sha256,
        source_url=source.url,
        published=source.published,
        title=parsed.heading,
        registry_la_code=source.la_code,
        n_pages=len(parsed.pages) if paged else None,
        n_words=parsed.n_words,
        pipeline_version=pipeline_version(),
    )
    record.facts = {
        "local_authority": facts.local_authority,
        "icbs": facts.icbs,
        "outcome": facts.outcome,
        "outcome_reason": facts.outcome_reason,
        "inspection_start": facts.inspection_start,
        "inspection_end": facts.inspection_end,
        "previous_inspection_start": facts.previous_inspection_start,
        "previous_inspection_end": facts.previous_inspection_end,
        "next_inspection": facts.next_inspection,
    }
    record.rows["fact_evidence"] = [
        {"field": e.field, "value": e.value, "page": e.page if paged else None, "evidence": e.evidence}
        for e in facts.evidence
    ]
    record.rows["pages"] = [{"page": page.number, "text": page.text} for page in parsed.pages]
    record.rows["items"] = [
        {
            "section": item.section,
            "subsection": item.subsection,
            "item_no": item.item_no,
            "page": item.page if paged else None,
            "text": item.text,
        }
        for item in parsed.items
    ]
    themes, figures = [], []
    for item, doc in docs:
        key = {"section": item.section, "item_no": item.item_no}
        themes += [
            {**key, "theme": hit.theme, "evidence": hit.evidence, "stance": hit.stance}
            for hit in doc._.theme_hits
        ]
        figures += [
            {
                **key,
                "figure_no": number,
                "kind": figure.kind,
                "value": figure.value,
                "unit": figure.unit,
                "weeks": figure.weeks,
                "theme": figure.theme,
                "text": figure.text,
                "evidence": figure.evidence,
            }
            for number, figure in enumerate(doc._.figures, start=1)
        ]
    record.rows["item_themes"] = themes
    record.rows["figures"] = figures
    return record
