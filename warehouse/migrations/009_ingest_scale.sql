-- Ingest at scale (issue 11): what the loader's deletes look up, and the ingest's own state.

-- A re-processed report's rows are deleted by report_id, and a loaded file's old rejection by file.
CREATE INDEX IF NOT EXISTS facts_report ON corpus.facts (report_id);
CREATE INDEX IF NOT EXISTS fact_evidence_report ON corpus.fact_evidence (report_id);
CREATE INDEX IF NOT EXISTS pages_report ON corpus.pages (report_id);
CREATE INDEX IF NOT EXISTS items_report ON corpus.items (report_id);
CREATE INDEX IF NOT EXISTS item_themes_report ON corpus.item_themes (report_id);
CREATE INDEX IF NOT EXISTS figures_report ON corpus.figures (report_id);
CREATE INDEX IF NOT EXISTS rejected_file ON corpus.rejected (file);

-- One row per key. `search_index` is 'ok' only once a build finished: a chunk load sets it 'stale'
-- in its own transaction, so a build that failed (disk full, kill) is retried by the next run.
-- `pipeline_version` is the version of the last run that finished; files it rejected are not
-- re-read while the version stays the same.
CREATE TABLE corpus.ingest_state (
    key        VARCHAR NOT NULL,
    value      VARCHAR NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO corpus.ingest_state VALUES
    ('search_index', 'stale', now()::TIMESTAMP),
    ('pipeline_version', '', now()::TIMESTAMP);
