-- What `update` saw on Ofsted's site, and the history of ingest and update runs.

-- One row per area SEND publication seen on a provider page, keyed by its file URL.
CREATE TABLE corpus.sources (
    url             VARCHAR PRIMARY KEY,
    ofsted_urn      VARCHAR NOT NULL,
    la_code         VARCHAR,              -- 3-digit DfE code, when the provider's name resolves
    local_authority VARCHAR NOT NULL,     -- the provider's name as the site gives it
    kind            VARCHAR NOT NULL,     -- full_inspection | monitoring_inspection | joint_inspection_letter | revisit_letter
    title           VARCHAR NOT NULL,     -- the link's own words
    published       DATE,
    first_seen      TIMESTAMP NOT NULL,
    last_seen       TIMESTAMP NOT NULL,
    status          VARCHAR NOT NULL,     -- loaded | rejected: <reason> | skipped kind | download failed: <why> | new
    report_id       VARCHAR               -- set once loaded
);

CREATE TABLE corpus.runs (
    run_id      VARCHAR PRIMARY KEY,
    flow_run_id VARCHAR,
    kind        VARCHAR NOT NULL,         -- ingest | update
    started     TIMESTAMP NOT NULL,
    finished    TIMESTAMP,
    status      VARCHAR NOT NULL,         -- completed | failed: <why>
    discovered  INTEGER,
    new         INTEGER,
    unchanged   INTEGER,
    rejected    INTEGER,
    failed      INTEGER
);

CREATE OR REPLACE VIEW sources AS
SELECT url, ofsted_urn, la_code, local_authority, kind, title, published, first_seen, last_seen, status,
       report_id
FROM corpus.sources;

CREATE OR REPLACE VIEW runs AS
SELECT run_id, flow_run_id, kind, started, finished, status, discovered, new, unchanged, rejected, failed
FROM corpus.runs;
