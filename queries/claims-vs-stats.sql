-- name: claims-vs-stats
-- description: For every area with a report: does its latest report criticise EHC plan timeliness or exclusions, beside the area's official figure and its rank in England? Lists where text and numbers disagree
-- parameters: theme (optional: ehcp_timeliness or exclusions_suspensions; both when not given)
--
-- "Criticised" = the theme is tagged on a weakness or recommendation item of the latest report.
-- The figure is the area's for the year of its inspection, or the latest published year before it:
--   ehcp_timeliness        -> % of new EHC plans issued within 20 weeks (calendar year; low is bad)
--   exclusions_suspensions -> suspensions per 100 pupils with an EHC plan, all phases (academic year;
--                             high is bad)
-- Rank 1 is the best in England; quartile 4 (the bottom quartile) is the worst quarter of authorities.
WITH latest AS (
    SELECT r.report_id, r.la_code, r.local_authority, r.region, r.inspection_start, r.file, r.source_url
    FROM reports AS r
    WHERE r.is_latest AND r.la_code IS NOT NULL
),
themes AS (
    SELECT theme FROM (VALUES ('ehcp_timeliness'), ('exclusions_suspensions')) AS t(theme)
    WHERE $theme IS NULL OR theme = $theme
),
criticism AS (
    -- from the tables, the latest reports' rows only: the item_themes view joins every item of the corpus
    SELECT
        t.report_id,
        t.theme,
        string_agg(DISTINCT t.section, ', ' ORDER BY t.section) AS sections,
        arg_min(t.evidence, (CASE t.section WHEN 'weakness' THEN 0 ELSE 1 END, t.item_no)) AS evidence,
        arg_min(coalesce(t.page, i.page), (CASE t.section WHEN 'weakness' THEN 0 ELSE 1 END, t.item_no)) AS page
    FROM corpus.item_themes AS t
    JOIN latest AS l USING (report_id)
    JOIN corpus.items AS i USING (report_id, section, item_no)
    WHERE t.section IN ('weakness', 'recommendation')
    GROUP BY t.report_id, t.theme
),
timeliness AS (  -- ranked when the figures were loaded (migration 012)
    SELECT year AS period_key, year::VARCHAR AS period, la_code, pct_within_20_weeks AS value, england_rank,
           ranked_of
    FROM corpus.ehcp_timeliness_figures
    WHERE england_rank IS NOT NULL
),
suspensions AS (
    SELECT time_period AS period_key,
           academic_year || CASE WHEN n_terms < 3 THEN ' (' || terms || ')' ELSE '' END AS period,
           la_code, rate AS value, england_rank, ranked_of
    FROM corpus.exclusion_rates_by_year_figures
    WHERE metric = 'susp_rate' AND sen_status = 'EHC plan' AND phase = 'Total' AND england_rank IS NOT NULL
),
figures AS (
    SELECT 'ehcp_timeliness' AS theme, 'EHC plans issued within 20 weeks (%)' AS figure, * FROM timeliness
    UNION ALL
    SELECT 'exclusions_suspensions', 'Suspensions per 100 pupils with an EHC plan', * FROM suspensions
),
chosen AS (
    -- per area and theme, the period of the inspection or the latest one before it
    SELECT l.report_id, f.theme, max(f.period_key) AS period_key
    FROM latest AS l
    JOIN figures AS f ON f.la_code = l.la_code
    WHERE f.period_key <= CASE f.theme
        WHEN 'ehcp_timeliness' THEN year(l.inspection_start)
        ELSE corpus.academic_year(l.inspection_start) END
       OR l.inspection_start IS NULL
    GROUP BY ALL
),
rows AS (
    SELECT
        l.local_authority,
        l.region,
        l.inspection_start,
        t.theme,
        c.report_id IS NOT NULL AS criticised,
        c.sections,
        f.figure,
        f.period,
        f.value,
        f.england_rank,
        f.ranked_of,
        CASE WHEN f.england_rank IS NOT NULL
             THEN 1 + floor(4 * (f.england_rank - 1) / f.ranked_of)::INTEGER END AS quartile,
        c.evidence,
        c.page,
        l.file,
        l.source_url
    FROM latest AS l
    CROSS JOIN themes AS t
    LEFT JOIN criticism AS c ON c.report_id = l.report_id AND c.theme = t.theme
    LEFT JOIN chosen AS ch ON ch.report_id = l.report_id AND ch.theme = t.theme
    LEFT JOIN figures AS f
        ON f.theme = t.theme AND f.la_code = l.la_code AND f.period_key = ch.period_key
)
SELECT
    local_authority, region, inspection_start, theme, criticised, sections, figure, period, value,
    england_rank, ranked_of, quartile, quartile = 4 AS bottom_quartile,
    CASE WHEN quartile IS NULL THEN 'no figure'
         WHEN criticised AND quartile = 4 THEN 'agree: criticised, bottom quartile'
         WHEN NOT criticised AND quartile < 4 THEN 'agree: not criticised, not bottom quartile'
         WHEN criticised THEN 'disagree: criticised, figure not in bottom quartile'
         ELSE 'disagree: bottom quartile, not criticised' END AS agreement,
    evidence, page, file, source_url
FROM rows
ORDER BY theme, starts_with(agreement, 'disagree') DESC, quartile DESC NULLS LAST, local_authority;
