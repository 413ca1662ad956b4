-- name: area-profile
-- description: One area's latest report: its facts, then each theme it raises per section with pages and evidence
-- parameters: la_code (required: the area, resolved from --la)
--
-- One row per section × theme (facts repeated on each row); an area whose report raises no theme
-- still gets one row with its facts. `evidence` lists the tagged sentences in item order.
-- `newer_publication` names a later full inspection report seen on Ofsted's site and not loaded.
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
),
newer AS (
    -- a full inspection report `update` saw on Ofsted's site, published after this one but not loaded
    -- (a download that failed, a file rejected): the profile is then not the area's latest inspection
    SELECT s.la_code,
           arg_max(s.published::VARCHAR || ', ' || s.status || ': ' || s.url, s.published) AS newer_publication
    FROM corpus.sources AS s
    JOIN area USING (la_code)
    JOIN corpus.reports AS r ON r.report_id = area.report_id
    LEFT JOIN corpus.facts AS f ON f.report_id = area.report_id
    WHERE s.kind = 'full_inspection' AND s.status <> 'loaded'
      AND s.published > coalesce(r.published, f.inspection_end)
    GROUP BY s.la_code
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
    newer.newer_publication,
    tr.section,
    tr.theme,
    t.label,
    tr.items,
    tr.pages,
    tr.evidence
FROM area
JOIN corpus.reports AS r USING (report_id)
LEFT JOIN corpus.facts AS f USING (report_id)
LEFT JOIN newer USING (la_code)
LEFT JOIN themes_raised AS tr USING (report_id)
LEFT JOIN corpus.themes AS t USING (theme)
ORDER BY
    CASE tr.section WHEN 'weakness' THEN 1 WHEN 'recommendation' THEN 2 WHEN 'strength' THEN 3 ELSE 4 END,
    t.ord;
