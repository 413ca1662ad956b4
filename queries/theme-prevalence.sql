-- name: theme-prevalence
-- description: For each theme, the share of reports of each outcome that raise it as a weakness or recommendation
-- parameters: all_reports (optional: count superseded inspections too, from --all-reports); include_partial (optional: count reports that lost pages or sections, from --include-partial)
--
-- outcome 'all' is every report considered; share = reports raising the theme / reports with that outcome.
-- Reports that lost pages or sections are left out unless include_partial.
WITH chosen AS (
    SELECT ra.report_id, coalesce(f.outcome, 'not stated') AS outcome
    FROM report_areas AS ra
    JOIN corpus.reports AS r USING (report_id)
    LEFT JOIN corpus.facts AS f USING (report_id)
    WHERE (ra.is_latest OR ($all_reports AND NOT ra.is_copy))
      AND (coalesce(r.completeness, 'complete') = 'complete' OR $include_partial)
),
labelled AS (
    SELECT report_id, outcome FROM chosen
    UNION ALL
    SELECT report_id, 'all' FROM chosen
),
outcome_sizes AS (
    SELECT outcome, count(*) AS outcome_reports FROM labelled GROUP BY outcome
),
raised AS (
    SELECT DISTINCT report_id, theme
    FROM corpus.item_themes
    WHERE section IN ('weakness', 'recommendation')
),
tallies AS (
    SELECT r.theme, l.outcome, count(*) AS reports
    FROM labelled AS l
    JOIN raised AS r USING (report_id)
    GROUP BY r.theme, l.outcome
)
SELECT
    t.theme,
    t.label,
    o.outcome,
    coalesce(tallies.reports, 0) AS reports,
    o.outcome_reports,
    coalesce(tallies.reports, 0) / o.outcome_reports AS share
FROM corpus.themes AS t
CROSS JOIN outcome_sizes AS o
LEFT JOIN tallies ON tallies.theme = t.theme AND tallies.outcome = o.outcome
ORDER BY
    t.ord,
    CASE o.outcome
        WHEN 'all' THEN 0 WHEN 'positive' THEN 1 WHEN 'inconsistent' THEN 2 WHEN 'systemic_failings' THEN 3
        ELSE 4
    END;
