-- The monitoring inspection a report with widespread and/or systemic failings announces ("within
-- approximately 18 months"), beside the next full inspection. Reports loaded before it are reprocessed by
-- the next ingest (the extraction changed), which fills it.
ALTER TABLE corpus.facts ADD COLUMN IF NOT EXISTS monitoring_inspection VARCHAR;

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
    f.monitoring_inspection,
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
