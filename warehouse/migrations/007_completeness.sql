-- Whether a report has every section and text on every page: 'complete' or 'partial: <what is missing>'.
-- Reports loaded before this column existed are reprocessed by the next ingest (the pipeline changed).
ALTER TABLE corpus.reports ADD COLUMN IF NOT EXISTS completeness VARCHAR;

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
    a.is_latest,
    r.completeness
FROM corpus.reports AS r
LEFT JOIN corpus.facts AS f USING (report_id)
LEFT JOIN report_areas AS a USING (report_id);
