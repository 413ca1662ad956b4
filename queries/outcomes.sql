-- name: outcomes
-- description: Inspection outcomes across the corpus and by region, with the range of inspection dates
-- parameters: all_reports (optional: count superseded inspections too, from --all-reports)
--
-- `group` is 'All reports in corpus' for the whole corpus (England only if every area has a report),
-- otherwise a region. Reports whose area could not be
-- matched to a local authority count in England only. share = reports / reports in the group.
WITH chosen AS (
    SELECT ra.region, coalesce(f.outcome, 'not stated') AS outcome, f.inspection_start
    FROM report_areas AS ra
    LEFT JOIN corpus.facts AS f USING (report_id)
    WHERE ra.is_latest OR ($all_reports AND NOT ra.is_copy)
),
tally AS (
    SELECT
        grouping(region) = 1 AS is_england,
        region,
        outcome,
        count(*) AS reports,
        min(inspection_start) AS first_inspection,
        max(inspection_start) AS last_inspection
    FROM chosen
    GROUP BY GROUPING SETS ((outcome), (region, outcome))
)
SELECT
    CASE WHEN is_england THEN 'All reports in corpus' ELSE coalesce(region, 'unmatched area') END AS "group",
    outcome,
    reports,
    reports / sum(reports) OVER (PARTITION BY is_england, region) AS share,
    first_inspection,
    last_inspection
FROM tally
WHERE is_england OR region IS NOT NULL
ORDER BY
    is_england DESC,
    "group",
    CASE outcome WHEN 'positive' THEN 1 WHEN 'inconsistent' THEN 2 WHEN 'systemic_failings' THEN 3 ELSE 4 END;
