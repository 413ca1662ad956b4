-- name: area-profile
-- description: One area's latest report: its facts, then each theme it raises per section with pages and evidence
-- parameters: la_code (required: the area, resolved from --la)
--
-- One row per section × theme (facts repeated on each row); an area whose report raises no theme
-- still gets one row with its facts. `evidence` lists the tagged sentences in item order.
WITH area AS (
    SELECT ra.report_id, ra.la_code, ra.local_authority, ra.region
    FROM report_areas AS ra
    WHERE ra.la_code = $la_code AND ra.is_latest
),
themes_raised AS (
    SELECT
        it.report_id,
        it.section,
        it.theme,
        count(DISTINCT it.item_no) AS items,
        list_sort(list_distinct(list(coalesce(it.page, i.page)))) AS pages,
        list(it.evidence ORDER BY it.item_no) AS evidence
    FROM corpus.item_themes AS it
    JOIN area USING (report_id)
    LEFT JOIN corpus.items AS i USING (report_id, section, item_no)
    GROUP BY it.report_id, it.section, it.theme
)
SELECT
    area.la_code,
    area.local_authority,
    area.region,
    f.outcome,
    f.inspection_start,
    f.inspection_end,
    f.previous_inspection_start,
    f.next_inspection,
    f.monitoring_inspection,
    r.published,
    r.file,
    r.source_url,
    tr.section,
    tr.theme,
    t.label,
    tr.items,
    tr.pages,
    tr.evidence
FROM area
JOIN corpus.reports AS r USING (report_id)
LEFT JOIN corpus.facts AS f USING (report_id)
LEFT JOIN themes_raised AS tr USING (report_id)
LEFT JOIN corpus.themes AS t USING (theme)
ORDER BY
    CASE tr.section WHEN 'weakness' THEN 1 WHEN 'recommendation' THEN 2 WHEN 'strength' THEN 3 ELSE 4 END,
    t.ord;
