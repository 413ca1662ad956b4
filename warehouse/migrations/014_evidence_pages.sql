-- The page of each theme's evidence sentence and of each figure, which is not always the page its item
-- begins on (an item can run on over a page break; 34 quotes of the shared reports lie on the next page).
-- Rows loaded before this migration keep NULL and show their item's page until re-processed (the
-- extraction code changed with it, so the next ingest re-processes them).
ALTER TABLE corpus.item_themes ADD COLUMN page INTEGER;
ALTER TABLE corpus.figures ADD COLUMN page INTEGER;

CREATE OR REPLACE VIEW item_themes AS
SELECT t.report_id, r.file, t.section, t.item_no, coalesce(t.page, i.page) AS page, t.theme, t.evidence,
       t.stance
FROM corpus.item_themes AS t
JOIN corpus.reports AS r USING (report_id)
JOIN corpus.items AS i USING (report_id, section, item_no);

CREATE OR REPLACE VIEW figures AS
SELECT g.report_id, r.file, g.section, g.item_no, coalesce(g.page, i.page) AS page, g.figure_no, g.kind,
       g.duration_kind, g.value, g.unit, g.weeks, g.theme, g.text, g.evidence
FROM corpus.figures AS g
JOIN corpus.reports AS r USING (report_id)
JOIN corpus.items AS i USING (report_id, section, item_no);
