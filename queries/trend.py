"""An area's official figures by year beside its comparison groups, and a small inline SVG line chart."""

from __future__ import annotations

import html

import duckdb
import polars as pl

from sendcorpus.queries.numbers import significant
from sendcorpus.warehouse.db import query_frame

SERIES_COLOURS = ("#d4351c", "#1d70b8", "#f47738", "#505a5f", "#00703c")
TITLES = {
    "timeliness": "EHC plans issued within 20 weeks (%), by calendar year",
    "suspensions": (
        "Suspensions per 100 pupils with an EHC plan, all phases: average per term, by academic year"
    ),
}

_TIMELINESS = """
WITH area AS (SELECT la_code, stat_neighbours FROM corpus.local_authorities WHERE la_code = $la_code),
own AS (SELECT year, region_code, pct_within_20_weeks AS value FROM ehcp_timeliness
        WHERE level = 'Local authority' AND la_code = $la_code)
SELECT year::VARCHAR AS period, year AS sort_key, $name AS series, value FROM own
UNION ALL
SELECT r.year::VARCHAR, r.year, r.area || ' (region)', r.pct_within_20_weeks
FROM ehcp_timeliness AS r JOIN own USING (year)
WHERE r.level = 'Region' AND r.region_code = own.region_code
UNION ALL
SELECT t.year::VARCHAR, t.year, 'Statistical neighbours (median)', median(t.pct_within_20_weeks)
FROM ehcp_timeliness AS t, area
WHERE t.level = 'Local authority' AND list_contains(area.stat_neighbours, t.la_code)
GROUP BY t.year
UNION ALL
SELECT year::VARCHAR, year, 'England', pct_within_20_weeks FROM ehcp_timeliness WHERE level = 'England'
ORDER BY sort_key, series
"""

# a median's period is labelled as the fullest year in it: an authority abolished mid-year (Northamptonshire,
# two terms of 2020/21) would otherwise label the year by chance and split it into two points
_SUSPENSIONS = """
WITH area AS (SELECT la_code, stat_neighbours FROM corpus.local_authorities WHERE la_code = $la_code),
years AS (
    SELECT *, rate / n_terms AS per_term, no_sen_rate / n_terms AS no_sen_per_term,
           academic_year || CASE WHEN n_terms < 3 THEN ' (' || terms || ')' ELSE '' END AS period
    FROM exclusion_rates_by_year
    WHERE metric = 'susp_rate' AND sen_status = 'EHC plan' AND phase = 'Total' AND la_code IS NOT NULL
)
SELECT period, time_period AS sort_key, $name AS series, per_term AS value FROM years WHERE la_code = $la_code
UNION ALL
SELECT period, time_period, $name || ': pupils without SEN', no_sen_per_term FROM years
WHERE la_code = $la_code
UNION ALL
SELECT arg_max(y.period, y.n_terms), y.time_period, 'Statistical neighbours (median)', median(y.per_term)
FROM years AS y, area WHERE list_contains(area.stat_neighbours, y.la_code)
GROUP BY y.time_period
UNION ALL
SELECT arg_max(period, n_terms), time_period, 'England (median of authorities)', median(per_term)
FROM years GROUP BY time_period
ORDER BY sort_key, series
"""


# regions with no authority's figure in a year: England's median is then England's without them
_SUSPENSION_GAPS = """
SELECT region, min(academic_year) AS first, max(academic_year) AS last
FROM (
    SELECT unnest(string_split(regions_without_figures, ', ')) AS region, academic_year
    FROM corpus.exclusion_region_gaps
    WHERE metric = 'susp_rate' AND sen_status = 'EHC plan' AND phase = 'Total'
)
GROUP BY region ORDER BY region
"""


def trends(con: duckdb.DuckDBPyConnection, la_code: str) -> dict[str, pl.DataFrame]:
    """Long frames (period, series, value) for each figure with data; empty when nothing is loaded."""
    name_row = con.execute(
        "SELECT name FROM corpus.local_authorities WHERE la_code = ?", [la_code]
    ).fetchone()
    params = {"la_code": la_code, "name": name_row[0] if name_row else la_code}
    found = {}
    for key, sql in (("timeliness", _TIMELINESS), ("suspensions", _SUSPENSIONS)):
        frame = query_frame(con, sql, params)
        if frame.height:
            title = TITLES[key] + (_gaps_note(con) if key == "suspensions" else "")
            found[key] = frame.select(pl.lit(title).alias("figure"), "period", "series", "value")
    return found


def _gaps_note(con: duckdb.DuckDBPyConnection) -> str:
    gaps = con.execute(_SUSPENSION_GAPS).fetchall()
    spans = [f"{region} in {first}" + (f"–{last}" if last != first else "") for region, first, last in gaps]
    return (
        f" (England's median leaves out {'; '.join(spans)}: no figures in the file loaded)" if spans else ""
    )


def trend_chart(frame: pl.DataFrame, key: str, area: str) -> str:
    """A line per series over the periods, with values labelled at the last point; missing values gap."""
    periods = frame["period"].unique(maintain_order=True).to_list()
    series = frame["series"].unique(maintain_order=True).to_list()
    series.sort(key=lambda name: (not name.startswith(area), name))
    values = [value for value in frame["value"].to_list() if value is not None]
    top = max(values) * 1.1 if values else 1.0
    width, height, left, right, upper, lower = 820, 260, 48, 300, 16, 34
    plot_w, plot_h = width - left - right, height - upper - lower

    def x(index: int) -> float:
        return left + (plot_w * index / max(len(periods) - 1, 1))

    def y(value: float) -> float:
        return upper + plot_h * (1 - value / top)

    title = str(frame["figure"][0])
    parts = [
        f'<figure class="trend"><figcaption>{_e(title)}</figcaption>'
        f'<svg role="img" viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" '
        f'font-size="11"><title>{_e(title)}: {_e(_describe(frame))}</title>'
    ]
    for step in range(5):
        value = top * step / 4
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            'stroke="#dcdcdc"/>'
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" fill="#505a5f">'
            f"{significant(value)}</text>"
        )
    for index, period in enumerate(periods):
        parts.append(
            f'<text x="{x(index):.1f}" y="{height - lower + 16}" text-anchor="middle" fill="#505a5f">'
            f"{_e(period.split(' (')[0])}</text>"
        )
    for number, name in enumerate(series):
        colour = SERIES_COLOURS[number % len(SERIES_COLOURS)]
        dashed = ' stroke-dasharray="5 3"' if "without SEN" in name else ""
        points = {
            row["period"]: row["value"]
            for row in frame.filter(pl.col("series") == name).iter_rows(named=True)
        }
        path, last = [], None
        for index, period in enumerate(periods):
            value = points.get(period)
            if value is None:
                path.append(None)
                continue
            path.append((x(index), y(value)))
            last = (x(index), y(value), value)
        for segment in _segments(path):
            coords = " ".join(f"{px:.1f},{py:.1f}" for px, py in segment)
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2.2"{dashed}/>'
            )
            parts += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>' for px, py in segment]
        legend_y = upper + 14 + number * 18
        parts.append(
            f'<line x1="{left + plot_w + 14}" x2="{left + plot_w + 34}" y1="{legend_y - 4}" '
            f'y2="{legend_y - 4}" '
            f'stroke="{colour}" stroke-width="3"{dashed}/>'
            f'<text x="{left + plot_w + 40}" y="{legend_y}">{_e(_short(name, 34))}'
            + (f" ({significant(last[2])})" if last else " (no data)")
            + "</text>"
        )
    parts.append("</svg></figure>")
    if any("(" in period for period in periods):
        parts.append(
            '<p class="note">A year with fewer than three terms published is averaged over the terms it '
            "has.</p>"
        )
    return "".join(parts)


def _segments(path: list[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    segments: list[list[tuple[float, float]]] = [[]]
    for point in path:
        if point is None:
            if segments[-1]:
                segments.append([])
        else:
            segments[-1].append(point)
    return [segment for segment in segments if segment]


def _describe(frame: pl.DataFrame) -> str:
    return "; ".join(
        f"{row['series']} {row['period']}: {_number(row['value'])}" for row in frame.iter_rows(named=True)
    )


def _number(value: float | None) -> str:
    return "no data" if value is None else significant(value)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _e(value: object) -> str:
    return html.escape(str(value))
