-- name: similar-areas
-- description: The ten areas whose weakness themes overlap most with one area's (Jaccard similarity of latest reports)
-- parameters: la_code (required: the area, resolved from --la)
--
-- Themes compared are those tagged in the "needs to do better" (weakness) section.
-- jaccard = shared themes / themes raised by either area; ties broken by shared count, then name.
WITH latest AS (
    SELECT report_id, la_code, local_authority, region
    FROM report_areas
    WHERE is_latest AND la_code IS NOT NULL
),
weak AS (
    SELECT report_id, list_sort(list(DISTINCT theme)) AS themes
    FROM corpus.item_themes
    WHERE section = 'weakness'
    GROUP BY report_id
),
area AS (
    SELECT coalesce(weak.themes, []::VARCHAR[]) AS themes
    FROM latest
    LEFT JOIN weak USING (report_id)
    WHERE latest.la_code = $la_code
),
compared AS (
    SELECT
        o.la_code,
        o.local_authority,
        o.region,
        f.outcome,
        list_sort(list_intersect(area.themes, coalesce(w.themes, []::VARCHAR[]))) AS shared_themes,
        list_distinct(list_concat(area.themes, coalesce(w.themes, []::VARCHAR[]))) AS either_themes,
        len(coalesce(w.themes, [])) AS their_themes
    FROM latest AS o
    CROSS JOIN area
    LEFT JOIN weak AS w USING (report_id)
    LEFT JOIN corpus.facts AS f USING (report_id)
    WHERE o.la_code <> $la_code
)
SELECT
    la_code,
    local_authority,
    region,
    outcome,
    len(shared_themes) / nullif(len(either_themes), 0) AS jaccard,
    len(shared_themes) AS shared,
    their_themes,
    shared_themes
FROM compared
ORDER BY jaccard DESC NULLS LAST, shared DESC, local_authority
LIMIT 10;
