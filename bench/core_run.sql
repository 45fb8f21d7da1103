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

-- Round-robin: every repetition runs each query once, in order, so that a
-- slow spell of the machine hits every query alike.
CREATE TEMP TABLE timings (name text, rep int, ms float8);
SET bench.reps = :reps;

DO $$
DECLARE
    v record;
    t0 timestamptz;
BEGIN
    FOR rep IN 1 .. current_setting('bench.reps')::int LOOP
        FOR v IN SELECT * FROM bench.variants ORDER BY ord LOOP
            t0 := clock_timestamp();
            EXECUTE format('SELECT %s(v) FROM (%s) AS q', v.wrapper, v.rowsource);
            INSERT INTO timings
            VALUES (v.name, rep, 1000 * extract(epoch FROM clock_timestamp() - t0));
        END LOOP;
    END LOOP;
END
$$;

CREATE TEMP TABLE results AS
SELECT v.ord, v.name, v.grp, v.impl, v.wrapper,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY t.ms) AS median_ms,
       min(t.ms) AS min_ms
FROM bench.variants AS v JOIN timings AS t USING (name)
GROUP BY v.ord, v.name, v.grp, v.impl, v.wrapper;

\echo
\echo 'Median of' :reps 'runs each; "x bare scan": median over the bare scan with the same aggregate;'
\echo '"C is ... faster": median of the fastest plain SQL / PL/pgSQL variant over the C function.'
SELECT r.name AS query,
       r.wrapper || '()' AS aggregate,
       round(r.median_ms::numeric, 1) AS median_ms,
       round(r.min_ms::numeric, 1) AS best_ms,
       round((r.median_ms / b.median_ms)::numeric, 2) AS x_bare_scan,
       CASE WHEN r.impl = 'c' THEN
           round((sq.median_ms / r.median_ms)::numeric, 2) END AS c_faster_than_sql,
       CASE WHEN r.impl = 'c' THEN
           round((pl.median_ms / r.median_ms)::numeric, 2) END AS c_faster_than_plpgsql
FROM results AS r
JOIN results AS b ON b.impl = 'bare' AND b.wrapper = r.wrapper
LEFT JOIN LATERAL (SELECT min(median_ms) AS median_ms FROM results
                   WHERE grp = r.grp AND impl = 'sql') AS sq ON true
LEFT JOIN LATERAL (SELECT min(median_ms) AS median_ms FROM results
                   WHERE grp = r.grp AND impl = 'plpgsql') AS pl ON true
ORDER BY r.ord;

-- The issue's targets, from the same medians.
SELECT t.target,
       round(t.value::numeric, 2) AS measured,
       CASE WHEN t.ok THEN 'met' ELSE 'MISSED' END AS result
FROM (
    SELECT 'liquidation_price within 2x the bare scan' AS target, 1 AS ord,
           c.median_ms / b.median_ms AS value, c.median_ms / b.median_ms <= 2 AS ok
    FROM results c, results b
    WHERE c.grp = 'liquidation_price' AND c.impl = 'c' AND b.impl = 'bare' AND b.wrapper = c.wrapper
    UNION ALL
    SELECT 'liquidation_price at least 3.5x faster than plain SQL', 2,
           s.m / c.median_ms, s.m / c.median_ms >= 3.5
    FROM results c, (SELECT min(median_ms) AS m FROM results
                     WHERE grp = 'liquidation_price' AND impl = 'sql') s
    WHERE c.grp = 'liquidation_price' AND c.impl = 'c'
    UNION ALL
    SELECT 'tier-aware liquidation_price (' || substr(c.name, strpos(c.name, 'C, ') + 3)
           || ') within 2.5x the bare scan', 3 + c.ord,
           c.median_ms / b.median_ms, c.median_ms / b.median_ms <= 2.5
    FROM results c, results b
    WHERE c.grp = 'tiers' AND c.impl = 'c' AND b.impl = 'bare' AND b.wrapper = c.wrapper
) AS t
ORDER BY t.ord;
