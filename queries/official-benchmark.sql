-- name: official-benchmark
-- description: Official figures for one area beside its region, statistical neighbours and England: EHC plans issued within 20 weeks, and the exclusion and suspension rates of pupils with SEN beside no-SEN pupils
-- parameters: la_code (required: the area, resolved from --la)
--
-- One row per figure, for the year of the area's latest inspection and the latest published year.
-- Timeliness: England and region as published by DfE, neighbours from their own rows. Exclusions have no
-- national or regional rows (no pupil counts), so region and England are medians of the authorities'
-- rates. Rank 1 is the best in England (most plans on time; lowest rate); quartile 4 is the worst quarter.
WITH area AS (
    SELECT la.la_code, la.region, la.stat_neighbours,
           (SELECT max(inspection_start) FROM reports WHERE la_code = $la_code AND is_latest) AS inspected
    FROM corpus.local_authorities AS la
    WHERE la.la_code = $la_code
),
t_la AS (  -- ranked when the figures were loaded (migration 012)
    SELECT year, la_code, region_code, pct_within_20_weeks AS value, england_rank, ranked_of
    FROM corpus.ehcp_timeliness_figures
    WHERE england_rank IS NOT NULL
),
t_years AS (
    SELECT year, string_agg(kind, ', ' ORDER BY kind) AS period_basis
    FROM (
        SELECT 'inspection year' AS kind, year(inspected) AS year FROM area WHERE inspected IS NOT NULL
        UNION ALL
        SELECT 'latest published', max(year) FROM ehcp_timeliness
    )
    WHERE year IS NOT NULL
    GROUP BY year
),
t_published AS (  -- per year: England's and the area's region's figures as published, how many ranked
    SELECT
        year,
        any_value(pct_within_20_weeks) FILTER (WHERE level = 'England') AS england_value,
        any_value(pct_within_20_weeks) FILTER (
            WHERE level = 'Region'
              AND region_code = (SELECT any_value(region_code) FROM t_la WHERE la_code = $la_code)
        ) AS region_value,
        max(ranked_of) AS ranked_of
    FROM corpus.ehcp_timeliness_figures
    WHERE year IN (SELECT year FROM t_years)
    GROUP BY year
),
timeliness AS (
    SELECT
        'ehcp_timeliness' AS theme,
        'EHC plans issued within 20 weeks (%)' AS measure,
        'all new plans' AS pupils,
        'all ages' AS phase,
        y.year::VARCHAR AS period,
        y.period_basis,
        own.value AS area_value,
        NULL::DOUBLE AS area_no_sen_value,
        NULL::DOUBLE AS area_ratio_to_no_sen,
        p.region_value,
        'as published' AS region_basis,
        n.median AS neighbours_median,
        n.low AS neighbours_min,
        n.high AS neighbours_max,
        n.with_data AS neighbours_with_data,
        NULL::DOUBLE AS neighbours_median_ratio,
        p.england_value,
        'as published' AS england_basis,
        NULL::DOUBLE AS england_median_ratio,
        own.england_rank,
        p.ranked_of,
        CASE WHEN NOT EXISTS (SELECT 1 FROM ehcp_timeliness) THEN 'figures not loaded'
             WHEN p.year IS NULL THEN 'not published yet'
             WHEN own.value IS NULL THEN 'suppressed or not reported' END AS note,
        1 AS measure_order
    FROM t_years AS y
    LEFT JOIN t_published AS p ON p.year = y.year
    LEFT JOIN t_la AS own ON own.year = y.year AND own.la_code = $la_code
    LEFT JOIN (
        SELECT t.year, median(t.value) AS median, min(t.value) AS low, max(t.value) AS high,
               count(t.value) AS with_data
        FROM t_la AS t, area
        WHERE list_contains(area.stat_neighbours, t.la_code) AND t.year IN (SELECT year FROM t_years)
        GROUP BY t.year
    ) AS n ON n.year = y.year
),
x_la AS (  -- ranked when the figures were loaded (migration 012)
    SELECT *
    FROM corpus.exclusion_rates_by_year_figures
    WHERE england_rank IS NOT NULL AND phase IN ('State-funded secondary', 'Total')
),
x_years AS (
    SELECT time_period, string_agg(kind, ', ' ORDER BY kind) AS period_basis
    FROM (
        SELECT 'inspection year' AS kind, corpus.academic_year(inspected) AS time_period
        FROM area WHERE inspected IS NOT NULL
        UNION ALL
        SELECT 'latest published', max(time_period) FROM corpus.exclusions_by_sen
    )
    WHERE time_period IS NOT NULL
    GROUP BY time_period
),
x_figures AS (
    SELECT DISTINCT metric, metric_label, phase, sen_status FROM x_la
),
x_part_years AS (  -- which terms a year holds when it holds fewer than three
    SELECT time_period, any_value(terms) AS terms
    FROM x_la
    WHERE n_terms < 3 AND time_period IN (SELECT time_period FROM x_years)
    GROUP BY time_period
),
exclusions AS (
    SELECT
        'exclusions_suspensions' AS theme,
        f.metric_label || ' (per 100 pupils)' AS measure,
        f.sen_status AS pupils,
        CASE f.phase WHEN 'Total' THEN 'all phases' ELSE 'secondary' END AS phase,
        substr(y.time_period::VARCHAR, 1, 4) || '/' || substr(y.time_period::VARCHAR, 5, 2)
            || coalesce(' (' || part.terms || ')', '') AS period,
        y.period_basis,
        own.rate AS area_value,
        own.no_sen_rate AS area_no_sen_value,
        own.ratio_to_no_sen AS area_ratio_to_no_sen,
        g.region_median AS region_value,
        'median of ' || g.region_n || ' authorities' AS region_basis,
        g.neighbours_median,
        g.neighbours_min,
        g.neighbours_max,
        g.neighbours_with_data,
        g.neighbours_median_ratio,
        g.england_median AS england_value,
        'median of ' || g.england_n || ' authorities' AS england_basis,
        g.england_median_ratio,
        own.england_rank,
        g.england_n AS ranked_of,
        CASE WHEN g.england_n IS NULL THEN 'not published yet'
             WHEN own.rate IS NULL THEN 'suppressed or not reported' END AS note,
        CASE f.metric WHEN 'perm_excl_rate' THEN 2 ELSE 3 END AS measure_order
    FROM x_figures AS f
    CROSS JOIN x_years AS y
    LEFT JOIN x_part_years AS part ON part.time_period = y.time_period
    LEFT JOIN x_la AS own
        ON own.la_code = $la_code AND own.metric = f.metric AND own.phase = f.phase
       AND own.sen_status = f.sen_status AND own.time_period = y.time_period
    LEFT JOIN (
        SELECT
            t.metric, t.phase, t.sen_status, t.time_period,
            median(t.rate) FILTER (WHERE t.region = area.region) AS region_median,
            count(t.rate) FILTER (WHERE t.region = area.region) AS region_n,
            median(t.rate) FILTER (WHERE list_contains(area.stat_neighbours, t.la_code)) AS neighbours_median,
            min(t.rate) FILTER (WHERE list_contains(area.stat_neighbours, t.la_code)) AS neighbours_min,
            max(t.rate) FILTER (WHERE list_contains(area.stat_neighbours, t.la_code)) AS neighbours_max,
            count(t.rate) FILTER (WHERE list_contains(area.stat_neighbours, t.la_code))
                AS neighbours_with_data,
            median(t.ratio_to_no_sen) FILTER (WHERE list_contains(area.stat_neighbours, t.la_code))
                AS neighbours_median_ratio,
            median(t.rate) AS england_median,
            count(t.rate) AS england_n,
            median(t.ratio_to_no_sen) AS england_median_ratio
        FROM x_la AS t, area
        WHERE t.time_period IN (SELECT time_period FROM x_years)
        GROUP BY ALL
    ) AS g
        ON g.metric = f.metric AND g.phase = f.phase AND g.sen_status = f.sen_status
       AND g.time_period = y.time_period
)
SELECT
    theme, measure, pupils, phase, period, period_basis, area_value, area_no_sen_value,
    area_ratio_to_no_sen, region_value, region_basis, neighbours_median, neighbours_min, neighbours_max,
    neighbours_with_data, (SELECT len(stat_neighbours) FROM area) AS neighbours_total,
    neighbours_median_ratio, england_value, england_basis, england_median_ratio, england_rank, ranked_of,
    CASE WHEN england_rank IS NOT NULL THEN 1 + floor(4 * (england_rank - 1) / ranked_of)::INTEGER END
        AS quartile,
    note
FROM (SELECT * FROM timeliness UNION ALL BY NAME SELECT * FROM exclusions)
ORDER BY measure_order, pupils, phase DESC, period;
