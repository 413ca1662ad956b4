-- Figures (issue 9): what a stated duration measures, so a wait is never confused with "over the last two
-- years" or "a five-year strategy". Rows loaded before this migration keep NULL until re-processed (the
-- pipeline version changed with the classifier, so the next ingest re-processes them).
-- duration_kind, durations only: wait | deadline | period | horizon | age | other (see the README)
ALTER TABLE corpus.figures ADD COLUMN duration_kind VARCHAR;

CREATE OR REPLACE VIEW figures AS
SELECT g.report_id, r.file, g.section, g.item_no, i.page, g.figure_no, g.kind, g.duration_kind, g.value, g.unit,
       g.weeks, g.theme, g.text, g.evidence
FROM corpus.figures AS g
JOIN corpus.reports AS r USING (report_id)
JOIN corpus.items AS i USING (report_id, section, item_no);
