-- Search that stays fast as the corpus grows (issue 11): the full-text index's postings, one row per
-- (term, item) with the term's count, stored in term order. The `search` query joins its few terms
-- to this table; DuckDB skips the row groups whose term range holds none of them, so a query reads
-- the postings of its own words instead of every item (2 s at 470,000 items with match_bm25 per item).
-- Rebuilt with the index (warehouse/reference.py build_search_index).
CREATE TABLE corpus.search_postings (
    termid BIGINT NOT NULL,
    docid  BIGINT NOT NULL,
    tf     INTEGER NOT NULL
);

-- an index built before this migration has no postings: the next ingest's plan rebuilds it
UPDATE corpus.ingest_state SET value = 'stale', updated_at = now()::TIMESTAMP WHERE key = 'search_index';
