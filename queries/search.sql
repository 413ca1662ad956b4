-- name: search
-- description: Full-text search over report items: the 25 best matches (BM25), with how many items match in all
-- parameters: text (required: words to search for, from --text); all_reports (optional: include superseded inspections, from --all-reports)
--
-- Uses the index built at ingest (reference.build_search_index); words are stemmed, English stop words ignored.
-- The score is the fts extension's match_bm25 (k 1.2, b 0.75), computed from the index's tables starting
-- from the query's terms and their postings in term order (migration 011): calling the macro on every
-- item costs time in proportion to the corpus (2 s at 470,000 items), this in proportion to the items
-- that hold the words (9 ms for the postings there).
WITH tokens AS (
    SELECT DISTINCT stem(unnest(fts_corpus_search_items.tokenize($text)), 'english') AS t
),
term_tf AS (
    SELECT postings.docid, postings.termid, postings.tf
    FROM corpus.search_postings AS postings
    JOIN fts_corpus_search_items.dict AS dict USING (termid)
    JOIN tokens ON dict.term = tokens.t
),
scored AS (
    SELECT
        docs.name AS item_key,
        sum(
            log((stats.num_docs - dict.df + 0.5) / (dict.df + 0.5) + 1)
            * ((term_tf.tf * (1.2 + 1)) / (term_tf.tf + 1.2 * ((1 - 0.75) + 0.75 * (docs.len / stats.avgdl))))
        ) AS score
    FROM term_tf
    JOIN fts_corpus_search_items.docs AS docs USING (docid)
    JOIN fts_corpus_search_items.dict AS dict USING (termid)
    CROSS JOIN fts_corpus_search_items.stats AS stats
    GROUP BY docs.name
)
SELECT
    ra.la_code,
    ra.local_authority,
    r.file,
    s.section,
    s.item_no,
    s.page,
    s.text,
    round(sc.score, 3) AS score,
    count(*) OVER () AS matches,  -- every matching item, of which the 25 best are listed
    r.source_url
FROM scored AS sc
JOIN corpus.search_items AS s USING (item_key)
JOIN report_areas AS ra USING (report_id)
JOIN corpus.reports AS r USING (report_id)
WHERE ra.is_latest OR ($all_reports AND NOT ra.is_copy)
ORDER BY sc.score DESC, r.file, s.section, s.item_no
LIMIT 25;
