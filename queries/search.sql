-- name: search
-- description: Full-text search over report items, best matches first (BM25)
-- parameters: text (required: words to search for, from --text); all_reports (optional: include superseded inspections, from --all-reports)
--
-- Uses the index built at ingest (reference.build_search_index); words are stemmed, English stop words ignored.
WITH scored AS (
    SELECT *, fts_corpus_search_items.match_bm25(item_key, $text) AS score
    FROM corpus.search_items
)
SELECT
    ra.local_authority,
    r.file,
    s.section,
    s.item_no,
    s.page,
    s.text,
    round(s.score, 3) AS score,
    r.source_url
FROM scored AS s
JOIN report_areas AS ra USING (report_id)
JOIN corpus.reports AS r USING (report_id)
WHERE s.score IS NOT NULL AND (ra.is_latest OR $all_reports)
ORDER BY s.score DESC, r.file, s.section, s.item_no
LIMIT 25;
