"""The comparison report for one area: a self-contained HTML page (inline CSS and SVG) or a workbook.

Everything comes from the named queries, so the report shows the numbers a person can reproduce with
`sendcorpus query ...`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from sendcorpus.queries.catalog import QueryError, run_query
from sendcorpus.queries.export import (
    OUTCOME_LABELS,
    Block,
    html_table,
    replaced_when_written,
    safe_url,
    write_xlsx,
)
from sendcorpus.queries.present import (
    Area,
    area_of,
    benchmark_block,
    group_names,
    headline_figures,
    official_block,
    percent,
)
from sendcorpus.queries.trend import trend_chart, trends
from sendcorpus.warehouse.official_stats import loaded_sources
from sendcorpus.warehouse.reference import resolve_la_in_corpus

GROUPS = (("region", "Region"), ("neighbours", "Statistical neighbours"), ("corpus", "Reports in corpus"))
GROUP_COLOURS = {"region": "#1d70b8", "neighbours": "#f47738", "corpus": "#505a5f"}
SECTION_NAMES = {
    "weakness": "Needs to do better",
    "recommendation": "Areas for improvement / priority action",
    "strength": "What is effective",
    "context": "Children's experience (context)",
}
OUTCOME_NAMES = {
    "positive": "Positive experiences and outcomes",
    "inconsistent": "Inconsistent experiences and outcomes",
    "systemic_failings": "Widespread and/or systemic failings",
    "not stated": "Not stated",
}


@dataclass
class ReportData:
    la_code: str
    name: str
    profile: pl.DataFrame
    benchmark: pl.DataFrame
    outcomes: pl.DataFrame
    similar: pl.DataFrame
    evidence: pl.DataFrame
    area: Area
    official: pl.DataFrame
    official_view: Block
    trend: dict[str, pl.DataFrame]
    sources: pl.DataFrame


def write_report(con: duckdb.DuckDBPyConnection, la: str, output: Path) -> Path:
    """Write the report for the area `la` (any spelling or code) to `output` (.html or .xlsx)."""
    suffix = output.suffix.lower()
    if suffix not in (".html", ".xlsx"):
        raise QueryError(f"the report is written as .html or .xlsx, not {output.name!r}")
    data = gather(con, la)
    if suffix == ".xlsx":
        return write_xlsx(
            {
                "benchmark": _benchmark_sheet(data),
                "official_figures": data.official,
                "trend": pl.concat(list(data.trend.values()), how="diagonal_relaxed")
                if data.trend
                else pl.DataFrame(),
                "outcomes": data.outcomes,
                "profile": data.profile,
                "evidence": data.evidence,
                "similar_areas": data.similar,
            },
            output,
            about=_about(data),
        )
    with replaced_when_written(output) as part:
        part.write_text(render_html(data), encoding="utf-8")
    return output


def gather(con: duckdb.DuckDBPyConnection, la: str) -> ReportData:
    la_code, name = resolve_la_in_corpus(con, la)
    params = {"la": la_code}
    profile = run_query(con, "area-profile", params)
    raised = profile.filter(pl.col("theme").is_not_null())["theme"].unique(maintain_order=True).to_list()
    evidence_frames = [
        run_query(con, "evidence", {"theme": theme, "la": la_code}).with_columns(theme=pl.lit(theme))
        for theme in raised
    ]
    evidence = (
        pl.concat(evidence_frames)
        if evidence_frames
        else pl.DataFrame(schema={"theme": pl.String, "section": pl.String, "evidence": pl.String})
    )
    area = area_of(con, la_code)
    official = run_query(con, "official-benchmark", params)
    return ReportData(
        la_code=la_code,
        name=name,
        profile=profile,
        benchmark=run_query(con, "theme-benchmark", params),
        outcomes=run_query(con, "outcomes", {}),
        similar=run_query(con, "similar-areas", params),
        evidence=evidence,
        area=area,
        official=official,
        official_view=official_block(con, area, official),
        trend=trends(con, la_code),
        sources=loaded_sources(con),
    )


def render_html(data: ReportData) -> str:
    facts = data.profile.row(0, named=True)
    title = f"Area SEND inspection benchmark: {data.name}"
    body = "\n".join(
        [
            f"<header><h1>{_e(title)}</h1>{_summary(data, facts)}</header>",
            "<main>",
            _section("headline", "Themes against comparison groups", _headline(data)),
            _section("official", "Official figures beside the themes", _official_html(data)),
            _section("trend", "Trend: timeliness and exclusions by year", _trend_html(data)),
            _section("chart", "Share of reports raising each theme", _chart_block(data)),
            _section("outcomes", "Inspection outcomes", _outcome_block(data, facts)),
            _section("similar", "Areas with the most similar weaknesses", _similar_block(data)),
            _section("evidence", f"What the {data.name} report says", _evidence_block(data, facts)),
            "</main>",
            f"<footer><p>Generated {date.today().isoformat()} by sendcorpus from the area's latest "
            "inspection report. Themes are tagged automatically from the report text; check the quotes "
            "against the report before relying on them.</p></footer>",
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>{body}</body></html>\n"
    )


def _summary(data: ReportData, facts: dict) -> str:
    sizes = data.benchmark.row(0, named=True) if data.benchmark.height else {}
    url = safe_url(facts.get("source_url"))
    link = f'<a href="{_e(url)}">{_e(facts["file"])}</a>' if url else _e(facts["file"])
    names = group_names(data.benchmark, data.area)
    without = ", ".join(data.area.neighbours_without_report) or "none"
    rows = [
        ("Local authority", f"{_e(data.name)} (DfE code {_e(data.la_code)})"),
        ("Region", _e(facts.get("region") or "unknown")),
        ("Outcome", _e(OUTCOME_NAMES.get(facts.get("outcome") or "not stated", facts.get("outcome") or ""))),
        ("Inspection", _e(_dates(facts.get("inspection_start"), facts.get("inspection_end")))),
        ("Next inspections", _e(_next_inspections(facts))),
        ("Report", f"{link}, published {_e(facts.get('published') or 'date unknown')}"),
        (
            "Corpus coverage",
            f"{sizes.get('corpus_areas', 0)} of England's {sizes.get('england_areas', 153)} local areas "
            f"have a report in the corpus ({sizes.get('corpus_size', 0)} latest reports)",
        ),
        (
            "Compared with",
            "; ".join(_e(names[key]) for key, _ in GROUPS)
            + f". Neighbours with a report: {_e(', '.join(data.area.neighbours_with_report) or 'none')}; "
            f"without a report: {_e(without)}",
        ),
    ]
    if facts.get("newer_publication"):
        rows.insert(
            0,
            (
                "⚠ Not the latest",
                f"Ofsted lists a later full inspection report that is not in the corpus "
                f"({_e(facts['newer_publication'])}): run <code>sendcorpus update</code>",
            ),
        )
    items = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in rows)
    return f'<dl class="facts">{items}</dl>'


def _next_inspections(facts: dict) -> str:
    """As the report announces them: a monitoring inspection only where failings are systemic."""
    stated = [
        f"{kind} {facts[field]}"
        for kind, field in (
            ("monitoring inspection", "monitoring_inspection"),
            ("full inspection", "next_inspection"),
        )
        if facts.get(field)
    ]
    return "; ".join(stated) or "not stated"


def _headline(data: ReportData) -> str:
    block = benchmark_block(data.benchmark, data.area, data.official)
    figures = headline_figures(data.official, data.area)
    shares = block.frame.columns[2:]
    block.frame = block.frame.with_columns(
        # a share and its interval stay on one line: no break at spaces or after the dash
        pl.col(shares).str.replace_all(" ", "\u00a0").str.replace_all("–", "–\u2060"),
        pl.Series("Official figure", [figures.get(theme, "") for theme in data.benchmark["theme"]]),
    )
    notes = "".join(
        f'<p class="note{" warn" if note.startswith("⚠") else ""}">{_e(note)}</p>' for note in block.notes
    )
    return notes + html_table(
        block.frame, caption=f"{data.name} beside its comparison groups, theme by theme"
    )


def _official_html(data: ReportData) -> str:
    block = data.official_view
    notes = "".join(f'<p class="note">{_e(note)}</p>' for note in block.notes)
    return notes + html_table(block.frame, caption=block.title)


def _trend_html(data: ReportData) -> str:
    if not data.trend:
        return '<p class="note">Official statistics are not loaded, so there is no trend to draw.</p>'
    return "".join(trend_chart(frame, key, data.name) for key, frame in data.trend.items())


def _benchmark_sheet(data: ReportData) -> pl.DataFrame:
    """The benchmark with its groups named for what they are, shares as numbers (formatted as %)."""
    names = group_names(data.benchmark, data.area)
    columns = [
        pl.col("theme").alias("Theme id"),
        pl.col("label").alias("Theme"),
        pl.col("area_weakness").alias(f"{data.name}: weakness"),
        pl.col("area_recommendation").alias(f"{data.name}: recommendation"),
        pl.col("area_strength").alias(f"{data.name}: strength"),
    ]
    for key, _ in GROUPS:
        name = names[key]
        columns += [
            pl.col(f"{key}_reports").alias(f"{name}: raising"),
            pl.col(f"{key}_size").alias(f"{name}: reports"),
            pl.col(f"{key}_share").alias(f"{name}: share"),
            pl.col(f"{key}_share_low").alias(f"{name}: 95% low"),
            pl.col(f"{key}_share_high").alias(f"{name}: 95% high"),
            pl.col(f"{key}_small").alias(f"{name}: fewer than 5 reports"),
        ]
    return data.benchmark.select(columns)


def _chart_block(data: ReportData) -> str:
    legend = "".join(
        f'<span class="key"><svg width="14" height="14" aria-hidden="true"><rect width="14" height="14" '
        f'fill="{GROUP_COLOURS[key]}"/></svg> {label}</span>'
        for key, label in GROUPS
    )
    legend += (
        '<span class="key"><svg width="14" height="14" aria-hidden="true"><circle cx="7" cy="7" r="6" '
        f'fill="#d4351c"/></svg> {_e(data.name)} raises it</span>'
        '<span class="key"><svg width="14" height="14" aria-hidden="true"><circle cx="7" cy="7" r="5.5" '
        f'fill="none" stroke="#505a5f" stroke-width="1.5"/></svg> {_e(data.name)} does not</span>'
    )
    return f'<p class="legend">{legend}</p>{theme_chart(data.benchmark, data.name)}'


def theme_chart(benchmark: pl.DataFrame, area: str) -> str:
    """Grouped horizontal bars: per theme, each group's share of reports raising it, and the area's flag."""
    label_width, bar_width, bar_height, gap, top = 300, 560, 11, 14, 28
    row_height = bar_height * len(GROUPS) + gap
    height = top + row_height * benchmark.height + 10
    width = label_width + bar_width + 150
    parts = [
        f'<svg role="img" aria-labelledby="chart-title chart-desc" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px" font-size="12">',
        f'<title id="chart-title">Share of reports raising each theme: region, neighbours and England, '
        f"with {_e(area)}</title>",
        '<desc id="chart-desc">For each theme, three bars give the percentage of reports in the region, '
        "among statistical neighbours and across the corpus that raise the theme as a weakness or "
        f"recommendation; a filled dot at the right means {_e(area)} raises it too.</desc>",
    ]
    for tick in (0, 25, 50, 75, 100):
        x = label_width + bar_width * tick / 100
        parts.append(f'<line x1="{x}" x2="{x}" y1="{top - 6}" y2="{height - 8}" stroke="#dcdcdc"/>')
        parts.append(f'<text x="{x}" y="{top - 10}" text-anchor="middle" fill="#505a5f">{tick}%</text>')
    parts.append(
        f'<text x="{label_width + bar_width + 75}" y="{top - 10}" text-anchor="middle" fill="#505a5f">'
        f"{_e(_short(area, 18))}</text>"
    )
    for index, row in enumerate(benchmark.iter_rows(named=True)):
        y = top + index * row_height
        raised = bool(row["area_weakness"] or row["area_recommendation"])
        parts.append(f"<g><title>{_e(row['label'])}: {_e(_row_summary(row, area, raised))}</title>")
        parts.append(
            f'<text x="{label_width - 8}" y="{y + bar_height * 1.5 + 4}" text-anchor="end">'
            f"{_e(row['label'])}</text>"
        )
        for position, (key, _) in enumerate(GROUPS):
            share = row[f"{key}_share"]
            bar_y = y + position * bar_height
            length = bar_width * (share or 0)
            parts.append(
                f'<rect x="{label_width}" y="{bar_y}" width="{length:.1f}" height="{bar_height - 1}" '
                f'fill="{GROUP_COLOURS[key]}"/>'
            )
            text = "no reports" if share is None else percent(share)
            parts.append(
                f'<text x="{label_width + length + 4:.1f}" y="{bar_y + bar_height - 1}" font-size="9" '
                f'fill="#0b0c0c">{text}</text>'
            )
        cx, cy = label_width + bar_width + 75, y + bar_height * 1.5
        marker = (
            f'<circle cx="{cx}" cy="{cy}" r="6" fill="#d4351c"/>'
            if raised
            else f'<circle cx="{cx}" cy="{cy}" r="5.5" fill="none" stroke="#505a5f" stroke-width="1.5"/>'
        )
        parts.append(marker + "</g>")
    parts.append("</svg>")
    return "".join(parts)


def _row_summary(row: dict, area: str, raised: bool) -> str:
    shares = "; ".join(f"{label} {row[f'{key}_reports']} of {row[f'{key}_size']}" for key, label in GROUPS)
    return f"{shares}; {area} {'raises' if raised else 'does not raise'} it"


def _outcome_block(data: ReportData, facts: dict) -> str:
    outcome = facts.get("outcome") or "not stated"
    region = facts.get("region")
    everyone = "All reports in corpus"
    shown = data.outcomes.filter(pl.col("group").is_in([everyone, region or everyone]))
    chart = "".join(
        outcome_bar(shown.filter(pl.col("group") == group), group)
        for group in shown["group"].unique(maintain_order=True)
    )
    table = shown.select(
        pl.col("group").alias("Group"),
        pl.col("outcome").replace_strict(OUTCOME_NAMES, default=pl.col("outcome")).alias("Outcome"),
        pl.col("reports").alias("Reports"),
        pl.format("{}%", (pl.col("share") * 100).round(0).cast(pl.Int64)).alias("Share"),
        pl.col("first_inspection").alias("First inspection"),
        pl.col("last_inspection").alias("Last inspection"),
    )
    lead = (
        f"<p>{_e(data.name)}'s latest inspection found: <strong>{_e(OUTCOME_NAMES.get(outcome, outcome))}"
        "</strong>.</p>"
    )
    return lead + chart + html_table(table, caption="Outcomes of the latest inspection of each area")


def outcome_bar(rows: pl.DataFrame, group: str) -> str:
    """One stacked bar of outcome shares for a group."""
    colours = {"positive": "#00703c", "inconsistent": "#f47738", "systemic_failings": "#d4351c"}
    width, height, x = 700, 22, 0.0
    total = int(rows["reports"].sum())
    parts = [
        f'<figure class="bar"><figcaption>{_e(group)} ({total} reports)</figcaption>'
        f'<svg role="img" viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" '
        f'font-size="11"><title>Outcomes in {_e(group)}: '
        + _e(", ".join(f"{_outcome(row['outcome'])} {row['reports']}" for row in rows.iter_rows(named=True)))
        + "</title>"
    ]
    for row in rows.iter_rows(named=True):
        length = width * row["share"]
        parts.append(
            f'<rect x="{x:.1f}" y="0" width="{length:.1f}" height="{height}" '
            f'fill="{colours.get(row["outcome"], "#b1b4b6")}"/>'
        )
        if length > 60:
            parts.append(
                f'<text x="{x + 6:.1f}" y="{height - 7}" fill="#ffffff">'
                f"{_e(row['outcome'].replace('_', ' '))} {percent(row['share'])}</text>"
            )
        x += length
    parts.append("</svg></figure>")
    return "".join(parts)


def _similar_block(data: ReportData) -> str:
    if data.similar.is_empty():
        return "<p>No other areas in the corpus to compare with.</p>"
    labels = dict(data.benchmark.select("theme", "label").iter_rows())
    table = data.similar.select(
        pl.col("local_authority").alias("Area"),
        pl.col("region").alias("Region"),
        pl.col("outcome").replace_strict(OUTCOME_NAMES, default=pl.col("outcome")).alias("Outcome"),
        pl.col("jaccard").round(2).alias("Similarity (Jaccard)"),
        pl.col("shared_themes")
        .list.eval(pl.element().replace_strict(labels, default=pl.element()))
        .alias("Shared weakness themes"),
    )
    note = (
        '<p class="note">Similarity = weakness themes both reports raise, divided by the weakness themes '
        "either raises.</p>"
    )
    return note + html_table(table, caption=f"Areas whose weaknesses overlap most with {data.name}")


def _evidence_block(data: ReportData, facts: dict) -> str:
    if data.evidence.is_empty():
        return "<p>The report has no tagged themes.</p>"
    labels = dict(data.benchmark.select("theme", "label").iter_rows())
    parts = []
    for section in ("weakness", "recommendation", "strength", "context"):
        quotes = data.evidence.filter(pl.col("section") == section)
        if quotes.is_empty():
            continue
        parts.append(f"<h3>{_e(SECTION_NAMES[section])}</h3>")
        for theme in quotes["theme"].unique(maintain_order=True):
            parts.append(f'<h4>{_e(labels.get(theme, theme))}</h4><ul class="quotes">')
            seen: set[str] = set()
            for row in quotes.filter(pl.col("theme") == theme).iter_rows(named=True):
                if row["evidence"] in seen:
                    continue
                seen.add(row["evidence"])
                parts.append(f"<li><blockquote>{_e(row['evidence'])}</blockquote>{_citation(row)}</li>")
            parts.append("</ul>")
    return "".join(parts)


def _citation(row: dict) -> str:
    where = f"page {row['page']}" if row.get("page") else "no page (text input)"
    url = safe_url(row.get("source_url"))
    if url:
        anchor = f"#page={row['page']}" if row.get("page") else ""
        return f'<cite><a href="{_e(url + anchor)}">{_e(row["file"])}, {where}</a></cite>'
    return f"<cite>{_e(row['file'])}, {where}</cite>"


def _about(data: ReportData) -> list[tuple[str, str]]:
    first = data.benchmark.row(0, named=True) if data.benchmark.height else {}
    about = [
        ("local authority", f"{data.name} (DfE code {data.la_code})"),
        ("generated", date.today().isoformat()),
        (
            "corpus coverage",
            f"{first.get('corpus_areas', 0)} of {first.get('england_areas', 153)} local areas in England",
        ),
        ("statistical neighbours with a report", ", ".join(data.area.neighbours_with_report) or "none"),
        ("statistical neighbours without a report", ", ".join(data.area.neighbours_without_report) or "none"),
        (
            "method",
            "Latest inspection per area. Group counts are reports raising a theme as a weakness or "
            "recommendation, with a Wilson 95% interval; the area is left out of its region and neighbours "
            "and counted in the corpus. Groups of fewer than 5 reports are flagged: too few to compare.",
        ),
        ("reports", "Ofsted/CQC area SEND inspection reports (2023 framework), Open Government Licence"),
    ]
    for row in data.sources.iter_rows(named=True):
        about.append(
            (
                f"source: {row['dataset']}",
                f"{row['release']}; {row['rows']} rows from {row['file']}, "
                f"loaded {row['loaded_at']:%Y-%m-%d}; Open Government Licence",
            )
        )
    if data.sources.is_empty():
        about.append(("official statistics", "not loaded (run `sendcorpus reference --defaults`)"))
    return about


def _section(anchor: str, heading: str, content: str) -> str:
    heading_html = f'<h2 id="{anchor}-h">{_e(heading)}</h2>'
    return f'<section id="{anchor}" aria-labelledby="{anchor}-h">{heading_html}{content}</section>'


def _dates(start: object, end: object) -> str:
    if not start:
        return "dates not stated"
    return f"{start} to {end}" if end else str(start)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _e(value: object) -> str:
    return html.escape(str(value))


CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #0b0c0c;
       margin: 0 auto; max-width: 1100px; padding: 24px 32px; line-height: 1.45; }
h1 { font-size: 1.9rem; margin: 0 0 12px; }
h2 { font-size: 1.35rem; border-bottom: 3px solid #1d70b8; padding-bottom: 4px; margin-top: 36px; }
h3 { font-size: 1.1rem; margin: 24px 0 6px; }
h4 { font-size: 1rem; margin: 14px 0 4px; color: #1d3c5a; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0;
           background: #f3f2f1; padding: 12px 16px; border-left: 5px solid #1d70b8; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 0.9rem; }
caption { text-align: left; font-weight: 600; padding: 6px 0; }
th, td { border-bottom: 1px solid #b1b4b6; padding: 5px 8px; text-align: left; vertical-align: top; }
thead th { background: #f3f2f1; border-bottom: 2px solid #0b0c0c; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafafa; }
.note { color: #505a5f; font-size: 0.9rem; }
.note.warn { color: #942514; font-weight: 600; }
figure.trend { margin: 8px 0 18px; }
figure.trend figcaption { font-weight: 600; font-size: 0.95rem; }
.legend { display: flex; flex-wrap: wrap; gap: 18px; font-size: 0.9rem; }
.legend .key { display: inline-flex; align-items: center; gap: 6px; }
figure.bar { margin: 6px 0 12px; }
figure.bar figcaption { font-size: 0.9rem; font-weight: 600; margin-bottom: 2px; }
ul.quotes { list-style: none; padding: 0; margin: 0; }
ul.quotes li { margin: 0 0 10px; }
blockquote { margin: 0; padding: 6px 12px; border-left: 4px solid #b1b4b6; background: #fbfbfb; }
cite { display: block; font-size: 0.85rem; color: #505a5f; font-style: normal; margin: 2px 0 0 16px; }
a { color: #1d70b8; }
footer { margin-top: 40px; font-size: 0.85rem; color: #505a5f; border-top: 1px solid #b1b4b6; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  section { break-inside: auto; }
  h2, h3, h4, figure, tr, li { break-inside: avoid; break-after: avoid-page; }
  a { color: inherit; }
}
"""


def _outcome(outcome: str) -> str:
    return OUTCOME_LABELS.get(outcome, outcome).lower()
