-- How many reports already in the corpus a run read again (--rebuild, or the extraction changed): they were
-- counted as new before, and since they are not, a run that re-read them all showed only zeros.
ALTER TABLE corpus.runs ADD COLUMN reprocessed INTEGER;

CREATE OR REPLACE VIEW runs AS
SELECT run_id, flow_run_id, kind, started, finished, status, discovered, new, reprocessed, unchanged,
       rejected, failed
FROM corpus.runs;
