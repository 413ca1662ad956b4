-- name: national-picture
-- description: The corpus beside Ofsted's official statistics: full inspections that started before 1 January 2025 and their outcomes, the corpus's coverage of them, and the share whose recommendations name EHC plans
-- parameters:
--
-- Official figures: corpus.official_inspection_outcomes (seeds/official_inspection_outcomes.csv, with its
-- source). A corpus inspection is counted once per area and start date, whichever files hold it.
-- "Name EHC plans" = a recommendation item tagged ehcp_timeliness or ehcp_quality.
WITH periods AS (
    SELECT * FROM corpus.official_inspection_outcomes
),
inspections AS (
    SELECT
        coalesce(la_code, report_id) AS area,
        inspection_start,
        coalesce(any_value(outcome), 'not stated') AS outcome,
        bool_or(report_id IN (
            SELECT report_id FROM item_themes
            WHERE section = 'recommendation' AND theme IN ('ehcp_timeliness', 'ehcp_quality')
        )) AS names_ehc_plans
    FROM reports
    WHERE inspection_start IS NOT NULL
    GROUP BY ALL
),
counted AS (
    SELECT
        p.period,
        count(i.area) AS inspections,
        count(i.area) FILTER (WHERE i.outcome = 'positive') AS positive,
        count(i.area) FILTER (WHERE i.outcome = 'inconsistent') AS inconsistent,
        count(i.area) FILTER (WHERE i.outcome = 'systemic_failings') AS systemic_failings,
        count(i.area) FILTER (WHERE i.outcome = 'not stated') AS not_stated,
        count(i.area) FILTER (WHERE i.names_ehc_plans) AS names_ehc_plans
    FROM periods AS p
    LEFT JOIN inspections AS i
        ON i.inspection_start >= p.started_from AND i.inspection_start < p.started_before
    GROUP BY p.period
),
measures AS (
    SELECT p.period, p.started_from, p.started_before, p.source, p.source_url, p.published, p.inspections AS total,
           c.inspections AS corpus_total, m.*
    FROM periods AS p
    JOIN counted AS c USING (period)
    CROSS JOIN LATERAL (
        VALUES
            (1, 'full inspections', c.inspections, p.inspections),
            (2, 'positive experiences and outcomes', c.positive, p.positive),
            (3, 'inconsistent experiences and outcomes', c.inconsistent, p.inconsistent),
            (4, 'widespread and/or systemic failings', c.systemic_failings, p.systemic_failings),
            (5, 'outcome not stated', c.not_stated, NULL),
            (6, 'recommendations name EHC plans (timeliness or quality)', c.names_ehc_plans, NULL)
    ) AS m(ord, measure, corpus, official)
)
SELECT
    period,
    measure,
    corpus,
    corpus_total AS corpus_of,
    corpus / nullif(corpus_total, 0) AS corpus_share,
    corpus.wilson_low(corpus, corpus_total) AS corpus_share_low,
    corpus.wilson_high(corpus, corpus_total) AS corpus_share_high,
    official,
    CASE WHEN official IS NOT NULL THEN total END AS official_of,
    official / nullif(total, 0) AS official_share,
    corpus / nullif(official, 0) AS coverage,
    started_from,
    started_before,
    source,
    source_url,
    published
FROM measures
WHERE ord <> 5 OR corpus > 0
ORDER BY started_from, started_before DESC, ord;
