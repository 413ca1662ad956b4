-- name: theme-benchmark
-- description: Every theme for one area beside its region, statistical neighbours and England: how many latest reports raise it as a weakness or recommendation
-- parameters: la_code (required: the area, resolved from --la)
--
-- One row per theme of the taxonomy, in its order, whether or not the area raises it.
-- Groups count the latest report of each area. The area itself is left out of its region and
-- neighbour groups (so they show the others) and counted in England (the whole corpus).
-- "Raised" means tagged on an item of the weakness or recommendation sections.
WITH latest AS (
    SELECT report_id, la_code, region FROM report_areas WHERE is_latest AND la_code IS NOT NULL
),
area AS (
    SELECT la.la_code, la.region, la.stat_neighbours, latest.report_id
    FROM corpus.local_authorities AS la
    LEFT JOIN latest USING (la_code)
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
    SELECT 'england', report_id FROM latest
),
sizes AS (
    SELECT
        count(*) FILTER (WHERE grp = 'region') AS region_size,
        count(*) FILTER (WHERE grp = 'neighbours') AS neighbours_size,
        count(*) FILTER (WHERE grp = 'england') AS england_size
    FROM groups
),
tallies AS (
    SELECT
        p.theme,
        count(*) FILTER (WHERE g.grp = 'region') AS region_reports,
        count(*) FILTER (WHERE g.grp = 'neighbours') AS neighbours_reports,
        count(*) FILTER (WHERE g.grp = 'england') AS england_reports
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
    coalesce(tallies.neighbours_reports, 0) AS neighbours_reports,
    sizes.neighbours_size,
    coalesce(tallies.neighbours_reports, 0) / nullif(sizes.neighbours_size, 0) AS neighbours_share,
    coalesce(tallies.england_reports, 0) AS england_reports,
    sizes.england_size,
    coalesce(tallies.england_reports, 0) / nullif(sizes.england_size, 0) AS england_share
FROM corpus.themes AS t
CROSS JOIN sizes
LEFT JOIN tallies USING (theme)
LEFT JOIN polarity AS own ON own.theme = t.theme AND own.report_id = (SELECT report_id FROM area)
ORDER BY t.ord;
