-- Regions with no authority's figure for an exclusion measure in a year, where "England" (a rank, a median)
-- is England without them: the DfE file in ../shared has no London rows before 2023/24. Every row with a
-- rate is ranked, so the ranked table says both. Read by `claims-vs-stats` and the report's trend chart.
CREATE OR REPLACE VIEW corpus.exclusion_region_gaps AS
SELECT k.metric, k.sen_status, k.phase, k.time_period, k.academic_year,
       string_agg(g.region, ', ' ORDER BY g.region) AS regions_without_figures
FROM (
    SELECT DISTINCT metric, sen_status, phase, time_period, academic_year
    FROM corpus.exclusion_rates_by_year_figures WHERE england_rank IS NOT NULL
) AS k
CROSS JOIN (SELECT DISTINCT region FROM corpus.local_authorities WHERE region IS NOT NULL) AS g
WHERE NOT EXISTS (
    SELECT 1
    FROM corpus.exclusion_rates_by_year_figures AS f
    JOIN corpus.local_authorities AS a USING (la_code)
    WHERE f.metric = k.metric AND f.sen_status = k.sen_status AND f.phase = k.phase
      AND f.time_period = k.time_period AND a.region = g.region AND f.england_rank IS NOT NULL
)
GROUP BY ALL;
