"""Named query results as a person reads them (terminal, Markdown, HTML, workbook): honest group names,
shares as k/n with their Wilson interval, small groups flagged, official figures beside theme flags.

The csv, json and parquet outputs keep the query's own columns; these blocks are for reading.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from sendcorpus.queries.catalog import run_query
from sendcorpus.queries.export import Block
from sendcorpus.queries.numbers import decimals, percent, significant
from sendcorpus.warehouse.reference import resolve_la

SMALL_GROUP = 5
FLAGS = (("W", "area_weakness"), ("R", "area_recommendation"), ("S", "area_strength"))
GROUP_KEYS = ("region", "neighbours", "corpus")
AGREEMENT = {
    "agree: criticised, bottom quartile": "agree: criticised, Q4",
    "agree: not criticised, not bottom quartile": "agree: neither",
    "disagree: criticised, figure not in bottom quartile": "DISAGREE: criticised, not Q4",
    "disagree: bottom quartile, not criticised": "DISAGREE: Q4, not criticised",
    "cannot tell: partial report": "cannot tell: partial report",
}
NOT_LOADED = (
    "Official statistics are not loaded: run `sendcorpus reference --defaults` (or --load CSV) to add them."
)


@dataclass(frozen=True)
class Area:
    la_code: str
    name: str
    region: str
    neighbours_with_report: list[str]
    neighbours_without_report: list[str]


def present(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame, params: dict) -> list[Block]:
    """The blocks a named query's result is shown as."""
    if name == "theme-benchmark":
        area = area_of(con, params["la"])
        official = run_query(con, "official-benchmark", {"la": area.la_code})
        return [benchmark_block(frame, area, official), official_block(con, area, official)]
    if name == "official-benchmark":
        return [official_block(con, area_of(con, params["la"]), frame)]
    if name == "claims-vs-stats":
        return [claims_block(con, frame)]
    if name == "national-picture":
        return [national_block(frame)]
    if name == "search" and frame.height:
        matches = int(frame["matches"][0])
        shown = f"the {frame.height} best of {matches} matching items" if matches > frame.height else ""
        return [Block("", frame.drop("matches"), [shown] if shown else [])]
    return [Block("", frame)]


def area_of(con: duckdb.DuckDBPyConnection, la: str) -> Area:
    la_code, name = resolve_la(con, la)
    rows = con.execute(
        """
        SELECT n.name, n.la_code IN (SELECT la_code FROM report_areas WHERE is_latest) AS has_report
        FROM corpus.local_authorities AS a, unnest(a.stat_neighbours) AS s(code)
        JOIN corpus.local_authorities AS n ON n.la_code = s.code
        WHERE a.la_code = $la_code
        ORDER BY n.name
        """,
        {"la_code": la_code},
    ).fetchall()
    region = con.execute(
        "SELECT region FROM corpus.local_authorities WHERE la_code = ?", [la_code]
    ).fetchone()
    return Area(
        la_code=la_code,
        name=name,
        region=region[0] if region else "",
        neighbours_with_report=[row[0] for row in rows if row[1]],
        neighbours_without_report=[row[0] for row in rows if not row[1]],
    )


def group_names(benchmark: pl.DataFrame, area: Area) -> dict[str, str]:
    """What each comparison group is, with its size, as column headings."""
    first = benchmark.row(0, named=True) if benchmark.height else {}
    size = {key: first.get(f"{key}_size", 0) for key in GROUP_KEYS}
    total_neighbours = len(area.neighbours_with_report) + len(area.neighbours_without_report)
    corpus_areas, england_areas = first.get("corpus_areas", 0), first.get("england_areas", 153)
    corpus = (
        f"England ({size['corpus']} reports, every area)"
        if corpus_areas >= england_areas
        else f"Reports in corpus ({corpus_areas} of {england_areas} areas)"
    )
    names = {
        "region": f"Other {area.region} reports ({size['region']})",
        "neighbours": f"Neighbours with a report ({size['neighbours']} of {total_neighbours})",
        "corpus": corpus,
    }
    return {
        # the flag leads, so a heading cut to fit a terminal still shows it
        key: (f"⚠<{SMALL_GROUP} " if size[key] < SMALL_GROUP else "") + name
        for key, name in names.items()
    }


def share_text(k: int, n: int, low: float | None, high: float | None) -> str:
    """'29% 2/7 (8–64%)': the share, its counts and its Wilson 95% interval."""
    if not n:
        return "no reports"
    assert low is not None and high is not None
    return f"{percent(k / n)} {k}/{n} ({percent(low).removesuffix('%')}–{percent(high)})"


def headline_figures(official: pl.DataFrame, area: Area) -> dict[str, str]:
    """Per mission theme, its main official figure in one phrase, for the theme table: the latest published
    year, said so, since `claims-vs-stats` judges a report on the year before its inspection instead."""
    latest = official.filter(
        pl.col("period_basis").str.contains("latest") & pl.col("area_value").is_not_null()
    )
    timeliness = latest.filter(pl.col("theme") == "ehcp_timeliness")
    exclusions = latest.filter(
        (pl.col("measure").str.starts_with("Permanent"))
        & (pl.col("pupils") == "EHC plan")
        & (pl.col("phase") == "secondary")
    )
    found = {}
    for row in timeliness.iter_rows(named=True):
        found["ehcp_timeliness"] = (
            f"{decimals(row['area_value'], 1)}% of plans within 20 weeks in {row['period']}, the latest "
            f"published ({area.region} "
            f"{_percentage(row['region_value'])}, neighbours' median "
            f"{_percentage(row['neighbours_median'])}, England {_percentage(row['england_value'])}; "
            f"quartile {row['quartile']})"
        )
    for row in exclusions.iter_rows(named=True):
        found["exclusions_suspensions"] = (
            f"permanent exclusions of EHC plan pupils, secondary, {row['period']}, the latest published: "
            f"{significant(row['area_value'])} "
            f"per 100 (no-SEN {_rate(row['area_no_sen_value'])}; neighbours' median "
            f"{_rate(row['neighbours_median'])}; quartile {row['quartile']})"
        )
    return found


def benchmark_block(benchmark: pl.DataFrame, area: Area, official: pl.DataFrame | None = None) -> Block:
    names = group_names(benchmark, area)
    rows = []
    for row in benchmark.iter_rows(named=True):
        flags = [letter for letter, key in FLAGS if row[key]]
        shown = {"Theme": row["label"], f"{area.name} (W R S)": " ".join(flags)}
        for key in GROUP_KEYS:
            shown[names[key]] = share_text(
                row[f"{key}_reports"], row[f"{key}_size"], row[f"{key}_share_low"], row[f"{key}_share_high"]
            )
        rows.append(shown)
    notes = [
        f"{area.name} ({area.region}): where its latest report tags the theme (W weakness, R recommendation, "
        "S strength), and how many latest reports in each group raise it as a weakness or recommendation: "
        "share, k/n and the 95% interval (Wilson). The area is left out of its region and neighbours and "
        "counted in the corpus.",
        "Statistical neighbours without a report: " + (", ".join(area.neighbours_without_report) or "none"),
    ]
    labels = dict(benchmark.select("theme", "label").iter_rows())
    for theme, phrase in headline_figures(official, area).items() if official is not None else ():
        notes.append(f"Official figure beside {labels.get(theme, theme)}: {area.name} {phrase}.")
    small = [names[key] for key in GROUP_KEYS if "⚠" in names[key]]
    if small:
        notes.append(
            f"⚠<{SMALL_GROUP}: fewer than {SMALL_GROUP} reports, too few to compare ({'; '.join(small)})."
        )
    return Block("Themes against comparison groups", pl.DataFrame(rows), notes, "benchmark", benchmark)


def official_block(con: duckdb.DuckDBPyConnection, area: Area, figures: pl.DataFrame | None = None) -> Block:
    if figures is None:
        figures = run_query(con, "official-benchmark", {"la": area.la_code})
    loaded = con.execute("SELECT count(*) FROM corpus.official_sources").fetchone()
    title = "Official figures (DfE) for the two mission themes"
    if not loaded or not loaded[0]:
        return Block(title, pl.DataFrame({"note": [NOT_LOADED]}), [NOT_LOADED], sheet="official")
    published = figures.filter(pl.col("note").is_null() | (pl.col("note") != "not published yet"))
    rows = [official_row(row, area) for row in published.iter_rows(named=True)]
    notes = [
        "Timeliness: % of new EHC plans issued within 20 weeks; England and region as published by DfE. "
        "Exclusions: per 100 pupils, the sum of the year's termly rates, beside the same area's pupils "
        "without SEN (no-SEN) and the ratio; region and England are medians of the authorities' rates "
        "(no pooled rates by SEN status are published). Rank 1 = best in England; Q4 = the worst quarter.",
    ]
    missing = figures.filter(pl.col("note") == "not published yet")
    for period in missing.select("period", "period_basis").unique(maintain_order=True).iter_rows():
        notes.append(f"{period[0]} ({period[1]}): not published yet.")
    return Block(title, pl.DataFrame(rows), notes, "official", figures)


def official_row(row: dict, area: Area) -> dict[str, str]:
    percent = row["theme"] == "ehcp_timeliness"

    def value(number: float | None) -> str:
        if number is None:
            return "–"
        return f"{decimals(number, 1)}%" if percent else significant(number)

    def ratio(number: float | None) -> str:
        return "–" if number is None else f"{decimals(number, 1)}×"

    figure = "Plans within 20 weeks %"
    if not percent:
        kind = "Perm. excl." if row["measure"].startswith("Permanent") else "Suspensions"
        figure = f"{kind}, {row['pupils']}, {row['phase']}"
    neighbours = "–"
    if row["neighbours_with_data"]:
        neighbours = (
            f"{value(row['neighbours_median'])} ({value(row['neighbours_min'])}–"
            f"{value(row['neighbours_max'])}, n={row['neighbours_with_data']}/{row['neighbours_total']})"
        )
    rank = "–"
    if row["england_rank"] is not None:
        rank = f"{row['england_rank']}/{row['ranked_of']} Q{row['quartile']}"
    own = value(row["area_value"]) + (f" ({row['note']})" if row["note"] else "")
    return {
        "Figure": figure,
        "Period": row["period"].replace(" (autumn + spring)", " aut+spr"),
        area.name: own,
        "No-SEN": "" if percent else value(row["area_no_sen_value"]),
        "Ratio (neighbours)": (
            ""
            if percent
            else f"{ratio(row['area_ratio_to_no_sen'])} ({ratio(row['neighbours_median_ratio'])})"
        ),
        area.region: value(row["region_value"]),
        "Neighbours median (range)": neighbours,
        "England": value(row["england_value"]),
        "Rank": rank,
    }


def claims_summary(frame: pl.DataFrame) -> list[str]:
    """Per theme: how often a report's criticism comes with a bottom-quartile figure, and the reverse."""
    lines = []
    for theme in frame["theme"].unique(maintain_order=True).to_list():
        rows = frame.filter(pl.col("theme") == theme)
        partial = rows.filter(pl.col("completeness") != "complete").height
        rows = rows.filter(pl.col("completeness") == "complete")
        with_figure = rows.filter(pl.col("quartile").is_not_null())
        criticised = with_figure.filter(pl.col("criticised"))
        bottom = with_figure.filter(pl.col("bottom_quartile"))
        both = criticised.filter(pl.col("bottom_quartile")).height
        disagree = with_figure.filter(pl.col("agreement").str.starts_with("disagree")).height
        lines.append(
            f"{theme}: {rows.height} areas, {with_figure.height} with a figure; criticised in "
            f"{criticised.height}, of which {both} ({_share(both, criticised.height)}) have a "
            f"bottom-quartile figure; {bottom.height} areas are in England's bottom quartile, {both} of "
            f"them criticised ({_share(both, bottom.height)}); text and numbers disagree in {disagree}."
            + (f" {partial} partial reports left out." if partial else "")
        )
    gaps = frame.filter(pl.col("regions_without_figures").is_not_null())
    for theme, regions, periods in (
        gaps.group_by("theme", "regions_without_figures", maintain_order=True)
        .agg(pl.col("period").str.slice(0, 7).unique().sort())
        .iter_rows()
    ):
        lines.append(
            f"Ranks for {theme} in {', '.join(periods)} are among the authorities with figures: the loaded "
            f'file has none for {regions}, so "in England" there means England without it.'
        )
    return lines


def claims_block(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> Block:
    loaded = con.execute("SELECT count(*) FROM corpus.official_sources").fetchone()
    notes = claims_summary(frame) if loaded and loaded[0] else [NOT_LOADED]
    shown = frame.select(
        pl.col("local_authority").alias("Area"),
        pl.col("theme").alias("Theme"),
        pl.col("criticised").alias("Criticised"),
        pl.col("period").alias("Period"),
        pl.col("value").round(3).alias("Figure"),
        pl.format(
            "{} of {}{}",
            "england_rank",
            "ranked_of",
            pl.format(" (no {})", "regions_without_figures").fill_null(""),
        ).alias("Rank in England"),
        pl.col("quartile").alias("Quartile"),
        pl.col("agreement").replace_strict(AGREEMENT, default=pl.col("agreement")).alias("Text and numbers"),
        pl.format("p. {}: {}", pl.col("page").fill_null("–"), "evidence").alias("Evidence"),
    )
    return Block("Do reports criticise where the numbers are worst?", shown, notes, "claims_vs_stats", frame)


def national_block(frame: pl.DataFrame) -> Block:
    if frame.is_empty():
        return Block(
            "The corpus beside Ofsted's official statistics",
            frame,
            ["Ofsted's official figures are not loaded: run `sendcorpus reference --defaults`."],
            sheet="national_picture",
        )

    def corpus_cell(row: dict) -> str:
        return share_text(row["corpus"], row["corpus_of"], row["corpus_share_low"], row["corpus_share_high"])

    rows = [
        {
            "Period": row["period"],
            "Measure": row["measure"],
            "Corpus": corpus_cell(row),
            "Official (Ofsted)": (
                ""
                if row["official"] is None
                else f"{percent(row['official_share'])} {row['official']}/{row['official_of']}"
            ),
            "Corpus holds": ""
            if row["coverage"] is None
            else f"{row['corpus']} of {row['official']} ({percent(row['coverage'])})",
        }
        for row in frame.iter_rows(named=True)
    ]
    sources = [
        "Full inspections that started in the period (from 1 January of its first year, before 1 January "
        "after its last), counted once per area and start date.",
        *sorted(
            {
                f"Official: {row['source']}, published {row['published']}: {row['source_url']}"
                for row in frame.iter_rows(named=True)
            }
        ),
    ]
    return Block(
        "The corpus beside Ofsted's official statistics",
        pl.DataFrame(rows),
        sources,
        "national_picture",
        frame,
    )


def _percentage(value: float | None) -> str:
    return "–" if value is None else f"{decimals(value, 1)}%"


def _rate(value: float | None) -> str:
    return "–" if value is None else significant(value)


def _share(k: int, n: int) -> str:
    return percent(k / n) if n else "–"
