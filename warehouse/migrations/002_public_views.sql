-- Public views: the documented, stable surface for ad-hoc SQL and the query files.

-- One row per report. `is_latest` marks the newest inspection of each area, so a
-- re-inspection sits beside the older report and queries can pick the current one.
CREATE OR REPLACE VIEW reports AS
SELECT
    r.report_id,
    r.file,
    r.sha256,
    r.source_url,
    r.published,
    f.local_authority,
    r.registry_la_code AS la_code,
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
    row_number() OVER (
        PARTITION BY coalesce(r.registry_la_code, lower(f.local_authority), r.report_id)
        ORDER BY f.inspection_start DESC NULLS LAST, r.published DESC NULLS LAST, r.loaded_at DESC
    ) = 1 AS is_latest
FROM corpus.reports AS r
LEFT JOIN corpus.facts AS f USING (report_id);

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
