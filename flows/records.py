"""Turn parsed reports into the rows the warehouse loads: facts, items, themes, figures."""

from __future__ import annotations

from spacy.tokens import Doc

from sendcorpus.extract.completeness import completeness
from sendcorpus.extract.facts import extract_facts
from sendcorpus.extract.layout import Item, ParsedReport
from sendcorpus.extract.nlp import annotate
from sendcorpus.flows.sources import InputFile
from sendcorpus.flows.version import pipeline_version
from sendcorpus.warehouse.load import ReportRecord


def build_record(source: InputFile, kind: str, parsed: ParsedReport) -> ReportRecord:
    """The rows of one report. The spaCy pass runs per report, so one report's failure there
    (an over-long item, say) rejects that report only."""
    return _record(source, kind, parsed, list(annotate(parsed.items)))


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
        completeness=completeness(parsed, kind),
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
        "monitoring_inspection": facts.monitoring_inspection,
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
            {
                **key,
                "theme": hit.theme,
                "evidence": hit.evidence,
                "stance": hit.stance,
                "page": item.page_at(hit.start) if paged else None,
            }
            for hit in doc._.theme_hits
        ]
        figures += [
            {
                **key,
                "figure_no": number,
                "kind": figure.kind,
                "duration_kind": figure.duration_kind,
                "value": figure.value,
                "unit": figure.unit,
                "weeks": figure.weeks,
                "theme": figure.theme,
                "text": figure.text,
                "evidence": figure.evidence,
                "page": item.page_at(figure.start) if paged else None,
            }
            for number, figure in enumerate(doc._.figures, start=1)
        ]
    record.rows["item_themes"] = themes
    record.rows["figures"] = figures
    return record
