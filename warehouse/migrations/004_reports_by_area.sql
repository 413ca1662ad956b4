-- `reports` takes its area from report_areas: the registry's DfE code, else the authority the report
-- names, so `la_code`, `region` and `is_latest` agree with the named queries.
CREATE OR REPLACE VIEW reports AS
SELECT
    r.report_id,
    r.file,
    r.sha256,
    r.source_url,
    r.published,
    f.local_authority,
    a.la_code,
    a.region,
    f.icbs,
    f.outcome,
    f.outcome_reason,
    f.inspection_start,
    f.inspection_end,
    f.previous_inspection_start,
    f.previous_inspection_end,
    f.next_inspection,
    r.n_pages,
    r.n_words,
    r.title,
    r.pipeline_version,
    r.loaded_at,
    a.is_latest
FROM corpus.reports AS r
LEFT JOIN corpus.facts AS f USING (report_id)
LEFT JOIN report_areas AS a USING (report_id);
