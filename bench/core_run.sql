-- bench/core_run.sql: check that every competitor computes the same numbers as
-- the C functions, then time all variants of bench.variants round-robin and
-- print the table.  psql variables: reps (timed repetitions of each query).
-- Expects bench/core_load.sql and bench/core_formulas.sql (and, when the tiers
-- overload exists, bench/core_tiers.sql) to have run.

\set ON_ERROR_STOP on
\pset footer off

-- Differences between each competitor and the C function of its group, row
-- by row (a full join, so a row missing on either side counts too).
CREATE TEMP TABLE mismatches AS
SELECT o.name AS competitor, c.name AS reference, 0::bigint AS rows_that_differ
FROM bench.variants AS o
JOIN bench.variants AS c ON c.grp = o.grp AND c.impl = 'c' AND o.impl IN ('sql', 'plpgsql')
WHERE false;

DO $$
DECLARE
    pair record;
    n bigint;
BEGIN
    SET LOCAL work_mem = '512MB';
    FOR pair IN
        SELECT o.name AS competitor, o.rowsource AS theirs, c.name AS reference, c.rowsource AS ours
        FROM bench.variants AS o
        JOIN bench.variants AS c ON c.grp = o.grp AND c.impl = 'c' AND o.impl IN ('sql', 'plpgsql')
        ORDER BY o.ord
    LOOP
        EXECUTE format('SELECT count(*) FROM (%s) AS ours FULL JOIN (%s) AS theirs USING (id)
                        WHERE ours.v IS DISTINCT FROM theirs.v', pair.ours, pair.theirs)
        INTO n;
        INSERT INTO mismatches VALUES (pair.competitor, pair.reference, n);
    END LOOP;
END
$$;

\echo
\echo 'Rows where a competitor differs from the C function (must be 0):'
SELECT * FROM mismatches ORDER BY competitor;

SELECT count(*) <> 0 AS competitors_differ FROM mismatches WHERE rows_that_differ <> 0 \gset
\if :competitors_differ
    DO $$ BEGIN RAISE EXCEPTION 'a competitor computes different numbers: its timing would mean nothing'; END $$;
\endif

-- Round-robin (bench.time_variants, core_formulas.sql).
CREATE TEMP TABLE timings AS SELECT name, rep, ms FROM bench.time_variants(:reps);

-- Ratios are taken within each repetition (a query against the bare scan
-- with the same aggregate, or a competitor against the C function, timed
-- seconds apart in the same round), then the median over the repetitions: a
-- slow spell of a shared machine that lasts a round moves both sides of a
-- ratio alike, where a ratio of two medians would mix different rounds.
CREATE TEMP TABLE results AS
SELECT v.ord, v.name, v.grp, v.impl, v.wrapper,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY t.ms) AS median_ms,
       min(t.ms) AS min_ms
FROM bench.variants AS v JOIN timings AS t USING (name)
GROUP BY v.ord, v.name, v.grp, v.impl, v.wrapper;

-- Per repetition: each query over its bare scan, and the fastest plain SQL
-- and PL/pgSQL variants of its group over it.
CREATE TEMP TABLE ratios AS
SELECT r.name,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY t.ms / b.ms) AS x_bare,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY sq.ms / t.ms) AS sql_over,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY pl.ms / t.ms) AS plpgsql_over,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY t.ms / bs.ms) AS x_sum
FROM results AS r
JOIN timings AS t ON t.name = r.name
JOIN results AS rb ON rb.impl = 'bare' AND rb.wrapper = r.wrapper
JOIN timings AS b ON b.name = rb.name AND b.rep = t.rep
JOIN results AS rbs ON rbs.impl = 'bare' AND rbs.wrapper = 'sum'
JOIN timings AS bs ON bs.name = rbs.name AND bs.rep = t.rep
LEFT JOIN LATERAL (SELECT min(ts.ms) AS ms FROM timings AS ts JOIN results AS rs USING (name)
                   WHERE rs.grp = r.grp AND rs.impl = 'sql' AND ts.rep = t.rep) AS sq ON true
LEFT JOIN LATERAL (SELECT min(tp.ms) AS ms FROM timings AS tp JOIN results AS rp USING (name)
                   WHERE rp.grp = r.grp AND rp.impl = 'plpgsql' AND tp.rep = t.rep) AS pl ON true
GROUP BY r.name;

\echo
\echo 'Times: median and best of' :reps 'runs.  Ratios: taken within each run (the query and its'
\echo 'bare scan with the same aggregate; the fastest plain SQL / PL/pgSQL variant and the C'
\echo 'function), median over the runs.'
SELECT r.name AS query,
       r.wrapper || '()' AS aggregate,
       round(r.median_ms::numeric, 1) AS median_ms,
       round(r.min_ms::numeric, 1) AS best_ms,
       round(x.x_bare::numeric, 2) AS x_bare_scan,
       CASE WHEN r.impl = 'c' THEN round(x.sql_over::numeric, 2) END AS c_faster_than_sql,
       CASE WHEN r.impl = 'c' THEN round(x.plpgsql_over::numeric, 2) END AS c_faster_than_plpgsql
FROM results AS r JOIN ratios AS x USING (name)
ORDER BY r.ord;

-- The issue's targets, from the same ratios.
SELECT t.target,
       round(t.value::numeric, 2) AS measured,
       CASE WHEN t.ok THEN 'met' ELSE 'MISSED' END AS result
FROM (
    SELECT 'liquidation_price within 2x the bare scan' AS target, 1 AS ord,
           x.x_bare AS value, x.x_bare <= 2 AS ok
    FROM results c JOIN ratios x USING (name)
    WHERE c.grp = 'liquidation_price' AND c.impl = 'c'
    UNION ALL
    SELECT 'liquidation_price at least 3.5x faster than plain SQL', 2,
           x.sql_over, x.sql_over >= 3.5
    FROM results c JOIN ratios x USING (name)
    WHERE c.grp = 'liquidation_price' AND c.impl = 'c'
    UNION ALL
    SELECT 'tier-aware liquidation_price (' || substr(c.name, strpos(c.name, 'C, ') + 3)
           || ') within 2.5x the bare scan', 3 + c.ord,
           x.x_bare, x.x_bare <= 2.5
    FROM results c JOIN ratios x USING (name)
    WHERE c.grp = 'tiers' AND c.impl = 'c'
    UNION ALL
    SELECT substr(c.name, 1, strpos(c.name, ':') - 1)
           || CASE WHEN c.wrapper = 'count' THEN ' counted, within 2x the bare count(size) scan (stricter than sum(size))'
                   ELSE ' within 2x the bare scan' END, 100 + c.ord,
           x.x_bare, x.x_bare <= 2
    FROM results c JOIN ratios x USING (name)
    WHERE c.grp IN ('whatif', 'figures') AND c.impl = 'c'
    UNION ALL
    -- a position after a fill is a row, not a figure (doc/whatif.md): as assess
    SELECT substr(c.name, 1, strpos(c.name, ':') - 1) || ', a row, within 4x the bare scan',
           100 + c.ord, x.x_bare, x.x_bare <= 4
    FROM results c JOIN ratios x USING (name)
    WHERE c.grp = 'whatif_row' AND c.impl = 'c'
    UNION ALL
    SELECT 'tier-aware liquidation_price (' || substr(c.name, strpos(c.name, 'C, ') + 3)
           || ') within 2x the bare scan (issue 13)', 200 + c.ord,
           x.x_bare, x.x_bare <= 2
    FROM results c JOIN ratios x USING (name)
    WHERE c.grp = 'tiers' AND c.impl = 'c'
    UNION ALL
    -- issue 13 names one baseline for every scalar figure, "a bare sum(size) of
    -- the same table": a status, which has no sum, counted against it too
    SELECT substr(c.name, 1, strpos(c.name, ':') - 1)
           || ' counted, within 2x the bare sum(size) scan (issue 13''s baseline)', 250 + c.ord,
           x.x_sum, x.x_sum <= 2
    FROM results c JOIN ratios x USING (name)
    WHERE c.grp = 'figures' AND c.impl = 'c' AND c.wrapper = 'count'
    UNION ALL
    SELECT 'assess, one call a row, within 4x the bare scan', 300, x.x_bare, x.x_bare <= 4
    FROM results c JOIN ratios x USING (name)
    WHERE c.grp = 'assess_once' AND c.impl = 'c'
    UNION ALL
    -- dynamic requirements (issue 18, bench/core_dynamic.sql)
    SELECT substr(c.name, 1, strpos(c.name, ':') - 1) || ' within 2.5x the bare scan (issue 18)',
           400 + c.ord, x.x_bare, x.x_bare <= 2.5
    FROM results c JOIN ratios x USING (name)
    WHERE c.grp = 'dynamic' AND c.impl = 'c'
) AS t
ORDER BY t.ord;
