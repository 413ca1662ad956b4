-- One inspection held in two files (a re-encoded text, a cut or a re-published PDF: other bytes, so another
-- report) counted twice wherever superseded inspections were counted too (`--all-reports`), and on a tie the
-- copy loaded last became the latest. Now, among the files of one area and inspection start, one stands for
-- the inspection: a complete one before a partial one, then the one published later, then the one loaded
-- first (a later copy does not change answers); the others are `is_copy` and no query counts them.
CREATE OR REPLACE VIEW report_areas AS
WITH matched AS (
    SELECT
        r.report_id,
        coalesce(by_code.la_code, by_name.la_code) AS la_code,
        CASE WHEN by_code.la_code IS NOT NULL THEN 'registry'
             WHEN by_name.la_code IS NOT NULL THEN 'name' END AS matched_by,
        f.local_authority AS name_in_report,
        f.inspection_start,
        coalesce(r.completeness, 'complete') = 'complete' AS complete,
        r.published,
        r.loaded_at
    FROM corpus.reports AS r
    LEFT JOIN corpus.facts AS f USING (report_id)
    LEFT JOIN corpus.local_authorities AS by_code ON by_code.la_code = r.registry_la_code
    LEFT JOIN (
        SELECT alias_key, min(la_code) AS la_code FROM corpus.la_aliases GROUP BY alias_key
    ) AS by_name ON by_name.alias_key = corpus.name_key(f.local_authority)
),
ranked AS (
    SELECT
        m.*,
        row_number() OVER (
            PARTITION BY coalesce(m.la_code, m.report_id)
            ORDER BY m.inspection_start DESC NULLS LAST, m.complete DESC, m.published DESC NULLS LAST,
                     m.loaded_at, m.report_id
        ) AS area_rank,
        row_number() OVER (
            PARTITION BY coalesce(m.la_code, m.report_id), coalesce(m.inspection_start::VARCHAR, m.report_id)
            ORDER BY m.complete DESC, m.published DESC NULLS LAST, m.loaded_at, m.report_id
        ) AS inspection_rank
    FROM matched AS m
)
SELECT
    m.report_id,
    m.la_code,
    coalesce(la.name, m.name_in_report) AS local_authority,
    la.region,
    m.matched_by,
    m.area_rank = 1 AS is_latest,
    m.inspection_rank > 1 AS is_copy
FROM ranked AS m
LEFT JOIN corpus.local_authorities AS la USING (la_code);
