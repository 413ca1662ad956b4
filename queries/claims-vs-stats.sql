-- name: claims-vs-stats
-- description: For every area with a report: does its latest report criticise EHC plan timeliness or exclusions, beside the area's official figure and its rank in England? Lists where text and numbers disagree
-- parameters: theme (optional: ehcp_timeliness or exclusions_suspensions; both when not given)
--
-- "Criticised" = the theme is tagged on a weakness or recommendation item of the latest report whose
-- evidence sentence reads as a shortfall: a sentence there that states it as done well (stance positive,
-- "EHC plans are produced within the nationally set timescale") is not a criticism.
-- The figure is the area's for the last whole period that ended before the inspection started (the
-- period the inspectors looked back on; the year of the inspection itself is mostly after it), or, where
-- none is published, the period under way when it started (labelled so); never one that began after it:
--   ehcp_timeliness        -> % of new EHC plans issued within 20 weeks (calendar year; low is bad)
--   exclusions_suspensions -> per 100 pupils (whole academic years; high is bad): the measure the
--                             criticism's words name (permanent exclusions when they are named more often
--                             than suspensions; SEN (or SEND) support when it is named and EHC plans are not;
--                             secondary or primary when one phase is named), else suspensions of pupils
--                             with an EHC plan, all phases
-- Rank 1 is the best in England; quartile 4 (the bottom quartile) is the worst quarter of authorities.
-- The rank is among the authorities with a figure for that period: `regions_without_figures` names any
-- region with none (the DfE exclusions file in ../shared has no London rows before 2023/24), where
-- "England" means England without it. A partial report (pages or sections lost) is not judged "not
-- criticised": the criticism may be in what it lost.
WITH latest AS (
    SELECT r.report_id, r.la_code, r.local_authority, r.region, r.inspection_start, r.file, r.source_url,
           r.completeness
    FROM reports AS r
    WHERE r.is_latest AND r.la_code IS NOT NULL
),
regions AS (
    SELECT DISTINCT region FROM local_authorities WHERE region IS NOT NULL
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
        arg_min(coalesce(t.page, i.page), (CASE t.section WHEN 'weakness' THEN 0 ELSE 1 END, t.item_no)) AS page,
        lower(string_agg(t.evidence, ' ')) AS words
    FROM corpus.item_themes AS t
    JOIN latest AS l USING (report_id)
    JOIN corpus.items AS i USING (report_id, section, item_no)
    WHERE t.section IN ('weakness', 'recommendation') AND coalesce(t.stance, 'negative') <> 'positive'
    GROUP BY t.report_id, t.theme
),
exclusion_measure AS (
    -- per latest report, the exclusion figure its criticism is about (see the header)
    SELECT
        l.report_id,
        CASE WHEN len(regexp_extract_all(w, 'permanent')) > len(regexp_extract_all(w, 'suspen'))
             THEN 'perm_excl_rate' ELSE 'susp_rate' END AS metric,
        CASE WHEN regexp_matches(w, 'send? support') AND w NOT LIKE '%ehc%' THEN 'SEN support'
             ELSE 'EHC plan' END AS sen_status,
        CASE WHEN w LIKE '%secondary%' AND w NOT LIKE '%primary%' THEN 'State-funded secondary'
             WHEN w LIKE '%primary%' AND w NOT LIKE '%secondary%' THEN 'State-funded primary'
             ELSE 'Total' END AS phase
    FROM latest AS l
    LEFT JOIN (
        -- "primary care" and "primary health" are not the primary phase
        SELECT report_id, regexp_replace(coalesce(words, ''), 'primary (care|health)', '', 'g') AS w
        FROM criticism WHERE theme = 'exclusions_suspensions'
    ) AS c USING (report_id)
),
timeliness_gaps AS (
    SELECT y.year, string_agg(g.region, ', ' ORDER BY g.region) AS regions_without_figures
    FROM (SELECT DISTINCT year FROM corpus.ehcp_timeliness_figures WHERE england_rank IS NOT NULL) AS y
    CROSS JOIN regions AS g
    WHERE NOT EXISTS (
        SELECT 1 FROM corpus.ehcp_timeliness_figures AS f JOIN local_authorities AS a USING (la_code)
        WHERE f.year = y.year AND a.region = g.region AND f.england_rank IS NOT NULL
    )
    GROUP BY y.year
),
timeliness AS (  -- ranked when the figures were loaded (migration 012)
    SELECT l.report_id, make_date(f.year, 1, 1) AS period_start, make_date(f.year, 12, 31) AS period_end,
           f.year::VARCHAR AS period,
           'EHC plans issued within 20 weeks (%)' AS figure, f.pct_within_20_weeks AS value, f.england_rank,
           f.ranked_of, g.regions_without_figures
    FROM latest AS l
    JOIN corpus.ehcp_timeliness_figures AS f USING (la_code)
    LEFT JOIN timeliness_gaps AS g USING (year)
    WHERE f.england_rank IS NOT NULL
),
exclusions AS (
    SELECT l.report_id, make_date(f.time_period // 100, 9, 1) AS period_start,
           make_date(f.time_period // 100 + 1, 8, 31) AS period_end,
           f.academic_year || CASE WHEN f.n_terms < 3 THEN ' (' || f.terms || ')' ELSE '' END AS period,
           CASE m.metric WHEN 'perm_excl_rate' THEN 'Permanent exclusions' ELSE 'Suspensions' END
           || ' per 100 pupils with ' || CASE m.sen_status WHEN 'EHC plan' THEN 'an EHC plan' ELSE 'SEN support' END
           || CASE m.phase WHEN 'Total' THEN '' ELSE ', ' || lower(replace(m.phase, 'State-funded ', '')) END
           AS figure,
           f.rate AS value, f.england_rank, f.ranked_of, g.regions_without_figures
    FROM latest AS l
    JOIN exclusion_measure AS m USING (report_id)
    JOIN corpus.exclusion_rates_by_year_figures AS f
        ON f.la_code = l.la_code AND f.metric = m.metric AND f.sen_status = m.sen_status
       AND f.phase = m.phase
    LEFT JOIN corpus.exclusion_region_gaps AS g
        ON g.metric = f.metric AND g.sen_status = f.sen_status AND g.phase = f.phase
       AND g.time_period = f.time_period
    WHERE f.england_rank IS NOT NULL AND f.n_terms = 3
),
figures AS (
    SELECT 'ehcp_timeliness' AS theme, * FROM timeliness
    UNION ALL
    SELECT 'exclusions_suspensions', * FROM exclusions
),
chosen AS (
    -- per report and theme: the last whole period before the inspection, else the one under way then
    SELECT f.* EXCLUDE (period),
           f.period || CASE WHEN f.period_end >= l.inspection_start THEN ' (under way at the inspection)'
                            ELSE '' END AS period
    FROM figures AS f
    JOIN latest AS l USING (report_id)
    WHERE f.period_start <= l.inspection_start OR l.inspection_start IS NULL
    QUALIFY row_number() OVER (
        PARTITION BY f.report_id, f.theme
        ORDER BY f.period_end < l.inspection_start DESC, f.period_end DESC
    ) = 1
),
rows AS (
    SELECT
        l.la_code,
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
        f.regions_without_figures,
        CASE WHEN f.england_rank IS NOT NULL
             THEN 1 + floor(4 * (f.england_rank - 1) / f.ranked_of)::INTEGER END AS quartile,
        l.completeness,
        c.evidence,
        c.page,
        l.file,
        l.source_url
    FROM latest AS l
    CROSS JOIN themes AS t
    LEFT JOIN criticism AS c ON c.report_id = l.report_id AND c.theme = t.theme
    LEFT JOIN chosen AS f ON f.report_id = l.report_id AND f.theme = t.theme
)
SELECT
    la_code, local_authority, region, inspection_start, theme, criticised, sections, figure, period, value,
    england_rank, ranked_of, regions_without_figures, quartile, quartile = 4 AS bottom_quartile, completeness,
    CASE WHEN quartile IS NULL THEN 'no figure'
         WHEN NOT criticised AND completeness <> 'complete' THEN 'cannot tell: partial report'
         WHEN criticised AND quartile = 4 THEN 'agree: criticised, bottom quartile'
         WHEN NOT criticised AND quartile < 4 THEN 'agree: not criticised, not bottom quartile'
         WHEN criticised THEN 'disagree: criticised, figure not in bottom quartile'
         ELSE 'disagree: bottom quartile, not criticised' END AS agreement,
    evidence, page, file, source_url
FROM rows
ORDER BY theme, starts_with(agreement, 'disagree') DESC, quartile DESC NULLS LAST, local_authority;
