-- name: theme-benchmark
-- description: Every theme for one area beside the other reports of its region, its statistical neighbours and the whole corpus: how many latest reports raise it as a weakness or recommendation (k/n, Wilson 95% interval)
-- parameters: la_code (required: the area, resolved from --la); include_partial (optional: count reports that lost pages or sections in the groups, from --include-partial)
--
-- One row per theme of the taxonomy, in its order, whether or not the area raises it.
-- Groups count the latest report of each area. The area itself is left out of its region and
-- neighbour groups (so they show the others) and counted in `corpus` (every area with a report; that is
-- England only when corpus_areas = england_areas). "Raised" means tagged on an item of the weakness or
-- recommendation sections. *_low/*_high: Wilson 95% interval of the share; *_small: fewer than 5
-- reports, too few to compare. Reports that lost pages or sections (completeness 'partial: …') are left
-- out of the groups, since a missing section reads as a theme not raised (unless include_partial);
-- partial_left_out counts them. The area's own flags come from its latest report either way.
WITH latest_any AS (
    SELECT ra.report_id, ra.la_code, ra.region, coalesce(r.completeness, 'complete') = 'complete' AS complete
    FROM report_areas AS ra
    JOIN corpus.reports AS r USING (report_id)
    WHERE ra.is_latest AND ra.la_code IS NOT NULL
),
latest AS (
    SELECT report_id, la_code, region FROM latest_any WHERE complete OR $include_partial
),
area AS (
    SELECT la.la_code, la.region, la.stat_neighbours, latest_any.report_id
    FROM corpus.local_authorities AS la
    LEFT JOIN latest_any USING (la_code)
    WHERE la.la_code = $la_code
),
polarity AS (
    SELECT
        report_id,
        theme,
        bool_or(section = 'weakness') AS weakness,
        bool_or(section = 'recommendation') AS recommendation,
        bool_or(section = 'strength') AS strength
    FROM corpus.item_themes
    GROUP BY report_id, theme
),
groups AS (
    SELECT 'region' AS grp, latest.report_id
    FROM latest, area
    WHERE latest.region = area.region AND latest.la_code <> area.la_code
    UNION ALL
    SELECT 'neighbours', latest.report_id
    FROM latest, area
    WHERE list_contains(area.stat_neighbours, latest.la_code)
    UNION ALL
    SELECT 'corpus', report_id FROM latest
),
sizes AS (
    SELECT
        count(*) FILTER (WHERE grp = 'region') AS region_size,
        count(*) FILTER (WHERE grp = 'neighbours') AS neighbours_size,
        count(*) FILTER (WHERE grp = 'corpus') AS corpus_size
    FROM groups
),
tallies AS (
    SELECT
        p.theme,
        count(*) FILTER (WHERE g.grp = 'region') AS region_reports,
        count(*) FILTER (WHERE g.grp = 'neighbours') AS neighbours_reports,
        count(*) FILTER (WHERE g.grp = 'corpus') AS corpus_reports
    FROM groups AS g
    JOIN polarity AS p USING (report_id)
    WHERE p.weakness OR p.recommendation
    GROUP BY p.theme
)
SELECT
    t.theme,
    t.label,
    coalesce(own.weakness, false) AS area_weakness,
    coalesce(own.recommendation, false) AS area_recommendation,
    coalesce(own.strength, false) AS area_strength,
    coalesce(tallies.region_reports, 0) AS region_reports,
    sizes.region_size,
    coalesce(tallies.region_reports, 0) / nullif(sizes.region_size, 0) AS region_share,
    corpus.wilson_low(coalesce(tallies.region_reports, 0), sizes.region_size) AS region_share_low,
    corpus.wilson_high(coalesce(tallies.region_reports, 0), sizes.region_size) AS region_share_high,
    sizes.region_size < 5 AS region_small,
    coalesce(tallies.neighbours_reports, 0) AS neighbours_reports,
    sizes.neighbours_size,
    coalesce(tallies.neighbours_reports, 0) / nullif(sizes.neighbours_size, 0) AS neighbours_share,
    corpus.wilson_low(coalesce(tallies.neighbours_reports, 0), sizes.neighbours_size) AS neighbours_share_low,
    corpus.wilson_high(coalesce(tallies.neighbours_reports, 0), sizes.neighbours_size) AS neighbours_share_high,
    sizes.neighbours_size < 5 AS neighbours_small,
    coalesce(tallies.corpus_reports, 0) AS corpus_reports,
    sizes.corpus_size,
    coalesce(tallies.corpus_reports, 0) / nullif(sizes.corpus_size, 0) AS corpus_share,
    corpus.wilson_low(coalesce(tallies.corpus_reports, 0), sizes.corpus_size) AS corpus_share_low,
    corpus.wilson_high(coalesce(tallies.corpus_reports, 0), sizes.corpus_size) AS corpus_share_high,
    sizes.corpus_size < 5 AS corpus_small,
    (SELECT count(DISTINCT la_code) FROM latest_any) AS corpus_areas,
    (SELECT count(*) FROM latest_any WHERE NOT complete AND NOT $include_partial) AS partial_left_out,
    corpus.england_areas() AS england_areas
FROM corpus.themes AS t
CROSS JOIN sizes
LEFT JOIN tallies USING (theme)
LEFT JOIN polarity AS own ON own.theme = t.theme AND own.report_id = (SELECT report_id FROM area)
ORDER BY t.ord;
