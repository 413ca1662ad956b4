-- Official statistics beside the reports: DfE SEN2 EHC plan timeliness, DfE suspensions and permanent
-- exclusions by SEN status, the ONS 0-25 population, and Ofsted's published inspection outcomes.
-- Rows are loaded "as published" by warehouse/official_stats.py (suppressed `x` becomes NULL, never 0);
-- the views below join them to corpus.local_authorities on DfE or ONS codes, never on names.

-- DfE SEN2 "Education, health and care plans": one row per year x geography x breakdown, as published.
CREATE TABLE corpus.ehcp_timeliness_published (
    time_period                       INTEGER NOT NULL,   -- calendar year
    time_identifier                   VARCHAR,
    geographic_level                  VARCHAR NOT NULL,   -- National | Regional | Local authority
    country_code                      VARCHAR,
    region_code                       VARCHAR,
    region_name                       VARCHAR,
    new_la_code                       VARCHAR,            -- ONS code
    old_la_code                       VARCHAR,            -- 3-digit DfE code
    la_name                           VARCHAR,
    breakdown_topic                   VARCHAR,
    breakdown                         VARCHAR,
    plans_issued_den                  BIGINT,
    plans_issued_den_ex               BIGINT,
    plans_issued_within_20_weeks      BIGINT,
    plans_issued_20_weeks_ex          BIGINT,
    pc_plans_issued_within_20_weeks   DOUBLE,
    pc_plans_issued_20_weeks_ex       DOUBLE
);

-- DfE "Suspensions and permanent exclusions in England" by SEN status, one row per authority x metric x
-- term x phase x SEN status; `value` is the rate per 100 pupils, `no_sen_value` the same authority's rate
-- for pupils with no SEN.
CREATE TABLE corpus.exclusions_by_sen (
    new_la_code     VARCHAR NOT NULL,   -- ONS code
    la_name         VARCHAR,
    region_name     VARCHAR,
    metric          VARCHAR NOT NULL,   -- perm_excl_rate | susp_rate | one_plus_susp_rate
    metric_label    VARCHAR,
    time_period     INTEGER NOT NULL,   -- academic year as 202324
    time_identifier VARCHAR NOT NULL,   -- Autumn term | Spring term | Summer term
    education_phase VARCHAR NOT NULL,
    sen_status      VARCHAR NOT NULL,   -- EHC plan | SEN support
    value           DOUBLE,
    no_sen_value    DOUBLE
);

-- ONS population aged 0-25 (from ../shared/reference/local_authorities.csv).
CREATE TABLE corpus.la_population (
    la_code         VARCHAR PRIMARY KEY,
    ons_code        VARCHAR,
    population_0_25 BIGINT
);

-- Ofsted's official statistics on full area SEND inspections (seeds/official_inspection_outcomes.csv).
CREATE TABLE corpus.official_inspection_outcomes (
    period            VARCHAR PRIMARY KEY,  -- e.g. 2023-2024
    started_from      DATE NOT NULL,
    started_before    DATE NOT NULL,        -- inspections that started before this date
    inspections       INTEGER NOT NULL,
    positive          INTEGER NOT NULL,
    inconsistent      INTEGER NOT NULL,
    systemic_failings INTEGER NOT NULL,
    source            VARCHAR NOT NULL,
    source_url        VARCHAR NOT NULL,
    published         DATE NOT NULL
);

-- What is loaded, from which file and release, for the outputs' "about" notes.
CREATE TABLE corpus.official_sources (
    dataset   VARCHAR PRIMARY KEY,
    file      VARCHAR NOT NULL,
    release   VARCHAR NOT NULL,
    rows      BIGINT NOT NULL,
    sha256    VARCHAR NOT NULL,
    loaded_at TIMESTAMP NOT NULL
);

-- ONS codes retired when a county became a unitary authority under the same DfE code; older rows of
-- the published files still carry them.
CREATE TABLE corpus.ons_code_changes (
    old_ons_code VARCHAR PRIMARY KEY,
    ons_code     VARCHAR NOT NULL,
    changed      DATE NOT NULL
);
INSERT INTO corpus.ons_code_changes VALUES
    ('E10000002', 'E06000060', DATE '2020-04-01'),  -- Buckinghamshire
    ('E10000023', 'E06000065', DATE '2023-04-01'),  -- North Yorkshire
    ('E10000027', 'E06000066', DATE '2023-04-01');  -- Somerset

-- Every ONS code an authority has been published under -> its DfE code.
CREATE OR REPLACE VIEW corpus.ons_to_la AS
SELECT ons_code, la_code FROM corpus.local_authorities WHERE ons_code IS NOT NULL
UNION
SELECT c.old_ons_code, la.la_code
FROM corpus.ons_code_changes AS c JOIN corpus.local_authorities AS la ON la.ons_code = c.ons_code;

-- England's local areas (153 since April 2023): the denominator of corpus coverage.
CREATE MACRO corpus.england_areas() AS 153;

-- Wilson score interval for k successes of n at 95% (z = 1.959964); NULL when n = 0.
CREATE MACRO corpus.wilson_low(k, n) AS CASE WHEN n > 0 THEN greatest(0.0,
    (k / n + 1.959964 ^ 2 / (2 * n)
     - 1.959964 * sqrt((k / n) * (1 - k / n) / n + 1.959964 ^ 2 / (4 * n * n)))
    / (1 + 1.959964 ^ 2 / n)) END;
CREATE MACRO corpus.wilson_high(k, n) AS CASE WHEN n > 0 THEN least(1.0,
    (k / n + 1.959964 ^ 2 / (2 * n)
     + 1.959964 * sqrt((k / n) * (1 - k / n) / n + 1.959964 ^ 2 / (4 * n * n)))
    / (1 + 1.959964 ^ 2 / n)) END;

-- The academic year (as 202425) a date falls in: September to August.
CREATE MACRO corpus.academic_year(d) AS CASE WHEN month(d) >= 9
    THEN year(d) * 100 + (year(d) + 1) % 100 ELSE (year(d) - 1) * 100 + year(d) % 100 END;

-- EHC plans issued within 20 weeks, all plans, per calendar year: England and regions as published,
-- and every authority (la_code from its DfE code, else its ONS code).
CREATE OR REPLACE VIEW ehcp_timeliness AS
SELECT
    t.time_period AS year,
    CASE t.geographic_level WHEN 'National' THEN 'England' WHEN 'Regional' THEN 'Region'
         ELSE 'Local authority' END AS level,
    coalesce(by_dfe.la_code, by_ons.la_code) AS la_code,
    t.new_la_code AS ons_code,
    t.region_code,
    CASE t.geographic_level WHEN 'National' THEN 'England' WHEN 'Regional' THEN t.region_name
         ELSE coalesce(la.name, t.la_name) END AS area,
    coalesce(la.region, t.region_name) AS region,
    t.plans_issued_den AS plans_issued,
    t.plans_issued_within_20_weeks AS within_20_weeks,
    t.pc_plans_issued_within_20_weeks AS pct_within_20_weeks,
    t.pc_plans_issued_20_weeks_ex AS pct_within_20_weeks_excluding_exceptions
FROM corpus.ehcp_timeliness_published AS t
LEFT JOIN corpus.local_authorities AS by_dfe
    ON t.geographic_level = 'Local authority' AND by_dfe.la_code = t.old_la_code
LEFT JOIN corpus.ons_to_la AS by_ons
    ON t.geographic_level = 'Local authority' AND by_ons.ons_code = t.new_la_code
LEFT JOIN corpus.local_authorities AS la ON la.la_code = coalesce(by_dfe.la_code, by_ons.la_code)
WHERE t.breakdown = 'All EHC plans issued';

-- Permanent exclusion and suspension rates (per 100 pupils) for pupils with an EHC plan or SEN support,
-- per authority, term and phase, beside the same authority's no-SEN rate.
CREATE OR REPLACE VIEW exclusion_rates AS
SELECT
    m.la_code,
    e.new_la_code AS ons_code,
    coalesce(la.name, e.la_name) AS area,
    coalesce(la.region, e.region_name) AS region,
    e.metric,
    e.metric_label,
    e.time_period,
    substr(e.time_period::VARCHAR, 1, 4) || '/' || substr(e.time_period::VARCHAR, 5, 2) AS academic_year,
    e.time_identifier AS term,
    e.education_phase AS phase,
    e.sen_status,
    e.value AS rate,
    e.no_sen_value AS no_sen_rate,
    e.value / nullif(e.no_sen_value, 0) AS ratio_to_no_sen
FROM corpus.exclusions_by_sen AS e
LEFT JOIN corpus.ons_to_la AS m ON m.ons_code = e.new_la_code
LEFT JOIN corpus.local_authorities AS la ON la.la_code = m.la_code;

-- The same rates per academic year: the sum of the termly rates (events per 100 pupils add up over
-- terms; DfE's termly rates share one pupil headcount). Pupils with one or more suspensions do not add
-- up over terms, so that metric is left out. `terms` says which terms a year holds (2024/25 has two).
CREATE OR REPLACE VIEW exclusion_rates_by_year AS
SELECT
    la_code, ons_code, area, region, metric, metric_label, time_period, academic_year, phase, sen_status,
    count(*) AS n_terms,
    string_agg(lower(replace(term, ' term', '')), ' + ' ORDER BY
        CASE term WHEN 'Autumn term' THEN 1 WHEN 'Spring term' THEN 2 ELSE 3 END) AS terms,
    -- a year with a suppressed term has no total (a partial sum would look like a low rate)
    CASE WHEN count(rate) = count(*) THEN sum(rate) END AS rate,
    CASE WHEN count(no_sen_rate) = count(*) THEN sum(no_sen_rate) END AS no_sen_rate,
    CASE WHEN count(rate) = count(*) AND count(no_sen_rate) = count(*)
         THEN sum(rate) / nullif(sum(no_sen_rate), 0) END AS ratio_to_no_sen
FROM exclusion_rates
WHERE metric IN ('perm_excl_rate', 'susp_rate')
GROUP BY ALL;

CREATE OR REPLACE VIEW la_population AS
SELECT p.la_code, la.ons_code, la.name, la.region, p.population_0_25
FROM corpus.la_population AS p JOIN corpus.local_authorities AS la USING (la_code);

CREATE OR REPLACE VIEW official_inspection_outcomes AS
SELECT * FROM corpus.official_inspection_outcomes;

CREATE OR REPLACE VIEW official_sources AS
SELECT * FROM corpus.official_sources;
