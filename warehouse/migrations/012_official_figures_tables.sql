-- Official figures kept as tables (issue 11). `ehcp_timeliness` and `exclusion_rates_by_year` depend only on
-- the official figures and the local authorities, which change only when they are loaded, yet as views they
-- cost 10-40 ms every time a query reads them. Their SQL now lives in the corpus.*_computed views below
-- (corpus.*_ranked adds each authority's rank in England); warehouse/official_stats.refresh_derived_figures
-- copies those into corpus.*_figures in the same transaction as every load of figures or authorities, when
-- corpus.official_figures_fingerprint says an input changed. The public views keep their names, columns and
-- rows.

-- As migration 006's view; the joins' "Local authority rows only" conditions moved into the join keys
-- (a NULL key matches nothing, as the false condition did) so DuckDB can hash-join them.
CREATE VIEW corpus.ehcp_timeliness_computed AS
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
    ON by_dfe.la_code = CASE WHEN t.geographic_level = 'Local authority' THEN t.old_la_code END
LEFT JOIN corpus.ons_to_la AS by_ons
    ON by_ons.ons_code = CASE WHEN t.geographic_level = 'Local authority' THEN t.new_la_code END
LEFT JOIN corpus.local_authorities AS la ON la.la_code = coalesce(by_dfe.la_code, by_ons.la_code)
WHERE t.breakdown = 'All EHC plans issued';

-- As migration 006's view; `terms` is built by sorting a list rather than by an ordered string_agg, which
-- sorted each of the ≈ 6,000 groups on its own (4 times slower). Terms of the same rank (neither autumn nor
-- spring) were in no set order before; now they are in alphabetical order.
CREATE VIEW corpus.exclusion_rates_by_year_computed AS
SELECT
    la_code, ons_code, area, region, metric, metric_label, time_period, academic_year, phase, sen_status,
    count(*) AS n_terms,
    array_to_string(list_transform(list_sort(list({
        'rank': CASE term WHEN 'Autumn term' THEN 1 WHEN 'Spring term' THEN 2 ELSE 3 END,
        'name': lower(replace(term, ' term', ''))})), entry -> entry.name), ' + ') AS terms,
    -- a year with a suppressed term has no total (a partial sum would look like a low rate)
    CASE WHEN count(rate) = count(*) THEN sum(rate) END AS rate,
    CASE WHEN count(no_sen_rate) = count(*) THEN sum(no_sen_rate) END AS no_sen_rate,
    CASE WHEN count(rate) = count(*) AND count(no_sen_rate) = count(*)
         THEN sum(rate) / nullif(sum(no_sen_rate), 0) END AS ratio_to_no_sen
FROM main.exclusion_rates
WHERE metric IN ('perm_excl_rate', 'susp_rate')
GROUP BY ALL;

-- What the tables were computed from: every row of every input, hashed (≈ 15 ms for the 52,000 rows);
-- a sum, so the order rows were loaded in does not count.
CREATE VIEW corpus.official_figures_fingerprint AS
SELECT concat_ws(':',
    (SELECT coalesce(sum(hash(t)::HUGEINT), 0) FROM corpus.ehcp_timeliness_published AS t),
    (SELECT coalesce(sum(hash(e)::HUGEINT), 0) FROM corpus.exclusions_by_sen AS e),
    (SELECT coalesce(sum(hash(la)::HUGEINT), 0) FROM corpus.local_authorities AS la),
    (SELECT coalesce(sum(hash(c)::HUGEINT), 0) FROM corpus.ons_code_changes AS c),
    (SELECT count(*) FROM corpus.ehcp_timeliness_published),
    (SELECT count(*) FROM corpus.exclusions_by_sen),
    (SELECT count(*) FROM corpus.local_authorities)) AS fingerprint;

-- Beside each row, what official-benchmark and claims-vs-stats rank it by: among England's authorities with
-- a figure that year (and metric, phase and SEN status), rank 1 is the best (most plans on time; lowest
-- rate) and ranked_of counts the ranked authorities; both NULL for rows not ranked (England, regions,
-- authorities without a code or a figure).
CREATE VIEW corpus.ehcp_timeliness_ranked AS
WITH rows AS (
    SELECT *, level = 'Local authority' AND la_code IS NOT NULL AND pct_within_20_weeks IS NOT NULL AS ranked
    FROM corpus.ehcp_timeliness_computed
)
SELECT * EXCLUDE (ranked),
    CASE WHEN ranked THEN rank() OVER (PARTITION BY year, ranked ORDER BY pct_within_20_weeks DESC) END
        AS england_rank,
    CASE WHEN ranked THEN count(*) OVER (PARTITION BY year, ranked) END AS ranked_of
FROM rows;

CREATE VIEW corpus.exclusion_rates_by_year_ranked AS
WITH rows AS (
    SELECT *, la_code IS NOT NULL AND rate IS NOT NULL AS ranked FROM corpus.exclusion_rates_by_year_computed
)
SELECT * EXCLUDE (ranked),
    CASE WHEN ranked THEN rank() OVER (
        PARTITION BY metric, time_period, phase, sen_status, ranked ORDER BY rate) END AS england_rank,
    CASE WHEN ranked THEN count(*) OVER (PARTITION BY metric, time_period, phase, sen_status, ranked) END
        AS ranked_of
FROM rows;

CREATE TABLE corpus.ehcp_timeliness_figures AS SELECT * FROM corpus.ehcp_timeliness_ranked;
CREATE TABLE corpus.exclusion_rates_by_year_figures AS SELECT * FROM corpus.exclusion_rates_by_year_ranked;
CREATE TABLE corpus.official_figures_built (fingerprint VARCHAR NOT NULL, built_at TIMESTAMP NOT NULL);
INSERT INTO corpus.official_figures_built
SELECT fingerprint, now()::TIMESTAMP FROM corpus.official_figures_fingerprint;

CREATE OR REPLACE VIEW ehcp_timeliness AS
SELECT * EXCLUDE (england_rank, ranked_of) FROM corpus.ehcp_timeliness_figures;
CREATE OR REPLACE VIEW exclusion_rates_by_year AS
SELECT * EXCLUDE (england_rank, ranked_of) FROM corpus.exclusion_rates_by_year_figures;
