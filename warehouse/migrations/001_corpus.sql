-- The corpus: one row per ingested report file and everything extracted from it.
-- Raw tables live in the `corpus` schema; the public views (002) are what users query.
CREATE SCHEMA IF NOT EXISTS corpus;

CREATE TABLE corpus.reports (
    report_id        VARCHAR PRIMARY KEY,   -- first 16 hex digits of the file's sha256
    file             VARCHAR NOT NULL,      -- file name as ingested
    sha256           VARCHAR NOT NULL UNIQUE,
    source_url       VARCHAR,
    published        DATE,
    title            VARCHAR,               -- "Area SEND inspection of X Local Area Partnership"
    registry_la_code VARCHAR,               -- 3-digit DfE code when the registry/manifest gave one
    n_pages          INTEGER,               -- NULL for plain-text input
    n_words          INTEGER NOT NULL,
    pipeline_version VARCHAR NOT NULL,
    loaded_at        TIMESTAMP NOT NULL
);

-- Report-level facts; one row per report, NULL where the report does not say.
CREATE TABLE corpus.facts (
    report_id                 VARCHAR PRIMARY KEY,
    local_authority           VARCHAR,
    icbs                      VARCHAR[],
    outcome                   VARCHAR,      -- positive | inconsistent | systemic_failings
    outcome_reason            VARCHAR,      -- why outcome is NULL, when it is
    inspection_start          DATE,
    inspection_end            DATE,
    previous_inspection_start DATE,
    previous_inspection_end   DATE,
    next_inspection           VARCHAR       -- the stated interval, e.g. "within approximately 3 years"
);

-- The text each fact came from, so a reader can check it.
CREATE TABLE corpus.fact_evidence (
    report_id VARCHAR NOT NULL,
    field     VARCHAR NOT NULL,
    value     VARCHAR,
    page      INTEGER,
    evidence  VARCHAR NOT NULL
);

CREATE TABLE corpus.pages (
    report_id VARCHAR NOT NULL,
    page      INTEGER NOT NULL,
    text      VARCHAR NOT NULL
);

CREATE TABLE corpus.items (
    report_id  VARCHAR NOT NULL,
    section    VARCHAR NOT NULL,   -- outcome | information | context | strength | weakness | recommendation | other
    subsection VARCHAR,            -- improvement | priority_action (recommendation only)
    item_no    INTEGER NOT NULL,   -- 1-based within the section
    page       INTEGER,            -- NULL for plain-text input
    text       VARCHAR NOT NULL
);

CREATE TABLE corpus.item_themes (
    report_id VARCHAR NOT NULL,
    section   VARCHAR NOT NULL,
    item_no   INTEGER NOT NULL,
    theme     VARCHAR NOT NULL,
    evidence  VARCHAR NOT NULL     -- the sentence the theme was found in
);

CREATE TABLE corpus.figures (
    report_id VARCHAR NOT NULL,
    section   VARCHAR NOT NULL,
    item_no   INTEGER NOT NULL,
    figure_no INTEGER NOT NULL,    -- 1-based within the item
    kind      VARCHAR NOT NULL,    -- percentage | duration | count
    value     DOUBLE,
    unit      VARCHAR,             -- percent | weeks | months | years | days | children | ...
    weeks     DOUBLE,              -- durations normalised to weeks
    theme     VARCHAR,             -- the theme of the sentence the figure sits in, when there is one
    text      VARCHAR NOT NULL,    -- the figure as written, e.g. "up to two years"
    evidence  VARCHAR NOT NULL     -- the sentence it came from
);

CREATE TABLE corpus.rejected (
    file     VARCHAR NOT NULL,
    sha256   VARCHAR,
    reason   VARCHAR NOT NULL,     -- short code: empty | corrupt | encrypted | scanned | not_a_report | ...
    detail   VARCHAR NOT NULL,     -- a sentence for a person
    seen_at  TIMESTAMP NOT NULL
);
