-- name: evidence
-- description: The sentences behind a theme, ready to quote, with page and source; optionally for one area or region
-- parameters: theme (required: a theme id from themes.yaml, from --theme); la_code (optional: one area, resolved from --la); region (optional: one region, from --region); all_reports (optional: include superseded inspections, from --all-reports)
WITH chosen AS (
    SELECT report_id, la_code, local_authority, region
    FROM report_areas
    WHERE (is_latest OR ($all_reports AND NOT is_copy))
      AND ($la_code IS NULL OR la_code = $la_code)
      AND ($region IS NULL OR region = $region)
)
SELECT
    r.file,
    c.la_code,
    c.local_authority,
    c.region,
    it.section,
    it.item_no,
    coalesce(it.page, i.page) AS page,
    it.stance,  -- positive where a weakness sentence states the theme as done well
    it.evidence,
    r.source_url
FROM corpus.item_themes AS it
JOIN chosen AS c USING (report_id)
JOIN corpus.reports AS r USING (report_id)
LEFT JOIN corpus.items AS i USING (report_id, section, item_no)
WHERE it.theme = $theme
ORDER BY
    c.local_authority,
    r.published DESC,
    CASE it.section WHEN 'weakness' THEN 1 WHEN 'recommendation' THEN 2 WHEN 'strength' THEN 3 ELSE 4 END,
    it.item_no;
