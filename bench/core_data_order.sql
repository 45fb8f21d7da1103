-- bench/core_data_order.sql: the queries of bench/core_data_order.sh, timed on
-- each table in turn, round after round.  psql variable: reps.
\set ON_ERROR_STOP on
\pset footer off

CREATE TEMP TABLE queries (ord int, name text, sql text);
INSERT INTO queries VALUES
(1, 'bare scan: sum(size)', 'SELECT sum(size) FROM %s'),
(2, 'liquidation_price', 'SELECT sum(isomargin.liquidation_price(size, entry_price, margin, mmr,
     contract_size, kind, fee_rate)) FROM %s'),
(3, 'margin_call_price with tiers', $q$SELECT sum(isomargin.margin_call_price(size, entry_price,
     margin, '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50;
     100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10;
     2000000..10000000 mmr=0.1 max_leverage=5}'::isomargin.tiers, contract_size, kind,
     fee_rate)) FROM %s$q$),
(4, 'assess, one call a row', 'SELECT sum((isomargin.assess(size, entry_price, mark_price, margin,
     mmr, contract_size, kind, fee_rate)).liquidation_price) FROM %s');

CREATE TEMP TABLE timings (rep int, tab text, name text, ms float8);
SET bench.reps = :reps;
DO $$
DECLARE
    q record;
    t0 timestamptz;
    tab text;
BEGIN
    FOR rep IN 1 .. current_setting('bench.reps')::int LOOP
        FOREACH tab IN ARRAY ARRAY['positions', 'by_kind', 'by_side', 'by_symbol'] LOOP
            FOR q IN SELECT * FROM queries ORDER BY ord LOOP
                t0 := clock_timestamp();
                EXECUTE format(q.sql, tab);
                INSERT INTO timings
                VALUES (rep, tab, q.name, 1000 * extract(epoch FROM clock_timestamp() - t0));
            END LOOP;
        END LOOP;
    END LOOP;
END
$$;

\echo
\echo 'Median ms over the rounds after the first; x bare: over the bare scan of the same table'
\echo 'in the same round, median; saved: the time the sorted copy saves over the book as loaded.'
SELECT t.name AS query, t.tab AS "table",
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY t.ms)::numeric, 1) AS median_ms,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY t.ms / b.ms)::numeric, 3) AS x_bare,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY o.ms - t.ms)::numeric, 1) AS saved_ms
FROM timings t
JOIN timings b ON b.rep = t.rep AND b.tab = t.tab AND b.name = 'bare scan: sum(size)'
JOIN timings o ON o.rep = t.rep AND o.tab = 'positions' AND o.name = t.name
JOIN queries q ON q.name = t.name
WHERE t.rep > 1
GROUP BY t.name, t.tab, q.ord
ORDER BY q.ord, array_position('{positions,by_kind,by_side,by_symbol}'::text[], t.tab);
