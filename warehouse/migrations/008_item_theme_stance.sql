-- The stance of each item theme's evidence sentence (extract/stance.py): positive | negative | neutral,
-- so queries can ask for the themes an area is criticised on. NULL on rows loaded before this column.
ALTER TABLE corpus.item_themes ADD COLUMN stance VARCHAR;

CREATE OR REPLACE VIEW item_themes AS
SELECT t.report_id, r.file, t.section, t.item_no, i.page, t.theme, t.evidence, t.stance
FROM corpus.item_themes AS t
JOIN corpus.reports AS r USING (report_id)
JOIN corpus.items AS i USING (report_id, section, item_no);
