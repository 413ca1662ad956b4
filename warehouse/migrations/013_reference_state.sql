-- What the reference tables (local authorities, the theme taxonomy, official figures loaded by
-- default) were last loaded from: a fingerprint of those files, so an ingest reloads them only when
-- one changed (the command line does it while Prefect's server starts; see warehouse/reference.py).
INSERT INTO corpus.ingest_state VALUES ('reference', '', now()::TIMESTAMP);
