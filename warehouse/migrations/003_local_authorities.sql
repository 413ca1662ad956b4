-- Reference data: English local authorities, the names they go by, the theme taxonomy, and the
-- table the full-text index is built on. Rows are loaded from Python (warehouse/reference.py).

CREATE TABLE corpus.local_authorities (
    la_code         VARCHAR PRIMARY KEY,   -- 3-digit DfE code
    ons_code        VARCHAR,
    name            VARCHAR NOT NULL,      -- official (ONS) name
    region          VARCHAR NOT NULL,
    stat_neighbours VARCHAR[] NOT NULL     -- la_codes of the ten DfE statistical neighbours
);

-- One row per spelling of an authority's name, keyed by name_key() (reference.py / the macro below).
CREATE TABLE corpus.la_aliases (
    alias_key VARCHAR NOT NULL,
    la_code   VARCHAR NOT NULL
);

CREATE TABLE corpus.themes (
    theme VARCHAR PRIMARY KEY,
    label VARCHAR NOT NULL,
    ord   INTEGER NOT NULL                 -- position in themes.yaml
);

CREATE TABLE corpus.search_items (
    item_key  VARCHAR PRIMARY KEY,         -- report_id:section:item_no
    report_id VARCHAR NOT NULL,
    section   VARCHAR NOT NULL,
    item_no   INTEGER NOT NULL,
    page      INTEGER,
    text      VARCHAR NOT NULL
);

-- The same steps as reference.name_key(): lower case, no accents, '&' as 'and', punctuation as spaces,
-- and the words that name the kind of council ("London Borough of", "City of", "Council", ...) dropped.
CREATE MACRO corpus.name_key(name) AS trim(regexp_replace(regexp_replace(
    ' ' || regexp_replace(replace(strip_accents(lower(name)), '&', ' and '), '[^a-z0-9]+', ' ', 'g') || ' ',
    '\b(london borough of|royal borough of|metropolitan borough of|borough of|city of|county of'
    || '|council|borough|city|county|metropolitan|royal|the)\b', '', 'g'),
    '\s+', ' ', 'g'));

CREATE OR REPLACE VIEW local_authorities AS
SELECT la_code, ons_code, name, region, stat_neighbours FROM corpus.local_authorities;

-- Each report's area: the registry's DfE code when the report came with one, otherwise the
-- authority named in the report. `is_latest` marks the newest inspection per resolved area, so a
-- report read from text and the same area's PDF count as one area.
CREATE OR REPLACE VIEW report_areas AS
WITH matched AS (
    SELECT
        r.report_id,
        coalesce(by_code.la_code, by_name.la_code) AS la_code,
        CASE WHEN by_code.la_code IS NOT NULL THEN 'registry'
             WHEN by_name.la_code IS NOT NULL THEN 'name' END AS matched_by,
        f.local_authority AS name_in_report,
        f.inspection_start,
        r.published,
        r.loaded_at
    FROM corpus.reports AS r
    LEFT JOIN corpus.facts AS f USING (report_id)
    LEFT JOIN corpus.local_authorities AS by_code ON by_code.la_code = r.registry_la_code
    LEFT JOIN (
        SELECT alias_key, min(la_code) AS la_code FROM corpus.la_aliases GROUP BY alias_key
    ) AS by_name ON by_name.alias_key = corpus.name_key(f.local_authority)
)
SELECT
    m.report_id,
    m.la_code,
    coalesce(la.name, m.name_in_report) AS local_authority,
    la.region,
    m.matched_by,
    row_number() OVER (
        PARTITION BY coalesce(m.la_code, m.report_id)
        ORDER BY m.inspection_start DESC NULLS LAST, m.published DESC NULLS LAST, m.loaded_at DESC
    ) = 1 AS is_latest
FROM matched AS m
LEFT JOIN corpus.local_authorities AS la USING (la_code);
