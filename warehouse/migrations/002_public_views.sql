-- Public views: the documented, stable surface for ad-hoc SQL and the query files.

-- `reports` is defined in 004, once report_areas (003) can give each report its area.

CREATE OR REPLACE VIEW items AS
SELECT i.report_id, r.file, i.section, i.subsection, i.item_no, i.page, i.text
FROM corpus.items AS i
JOIN corpus.reports AS r USING (report_id);

CREATE OR REPLACE VIEW item_themes AS
SELECT t.report_id, r.file, t.section, t.item_no, i.page, t.theme, t.evidence
FROM corpus.item_themes AS t
JOIN corpus.reports AS r USING (report_id)
JOIN corpus.items AS i USING (report_id, section, item_no);

-- One row per theme raised in a section of a report, with how many items raise it.
CREATE OR REPLACE VIEW report_themes AS
SELECT t.report_id, r.file, f.local_authority, t.section, t.theme, count(DISTINCT t.item_no) AS items
FROM corpus.item_themes AS t
JOIN corpus.reports AS r USING (report_id)
LEFT JOIN corpus.facts AS f USING (report_id)
GROUP BY ALL;

CREATE OR REPLACE VIEW figures AS
SELECT g.report_id, r.file, g.section, g.item_no, i.page, g.figure_no, g.kind, g.value, g.unit,
       g.weeks, g.theme, g.text, g.evidence
FROM corpus.figures AS g
JOIN corpus.reports AS r USING (report_id)
JOIN corpus.items AS i USING (report_id, section, item_no);

CREATE OR REPLACE VIEW fact_evidence AS
SELECT e.report_id, r.file, e.field, e.value, e.page, e.evidence
FROM corpus.fact_evidence AS e
JOIN corpus.reports AS r USING (report_id);

CREATE OR REPLACE VIEW rejected AS
SELECT file, sha256, reason, detail, seen_at FROM corpus.rejected;
