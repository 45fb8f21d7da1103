-- liquidation_price_after_fill (doc/whatif.md): the liquidation price of the
-- position after_fill leaves, as one scalar figure.  The worked examples of
-- the docs, checked by hand there; the same answer as liquidation_price over
-- after_fill's row, row by row over a book (flat and tiers, linear and
-- inverse, every kind of fill, margin added and removed, a tick), by both
-- routes; bad input refused as after_fill and liquidation_price refuse it.
\set ECHO none
\i test/lib/try.sql
\set ECHO all
SET max_parallel_workers_per_gather = 0;

-- IMMUTABLE STRICT PARALLEL SAFE, a flat and a tiers form.
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args,
       p.provolatile AS vol, p.proisstrict AS strict, p.proparallel AS par
FROM pg_proc p
WHERE p.pronamespace = 'isomargin'::regnamespace AND p.proname = 'liquidation_price_after_fill'
ORDER BY 2;

-- The worked examples: A (1 at 30,000, margin 3,000, mmr 0.004) buying 1 more
-- at 31,000 (entry 30,500 to 16 decimals: 58,000 / 1.992), and with a tick of
-- 0.5; a partial close with fee 0.0005 (1 at 30,000, margin 1,500:
-- 28,500 / 0.9955), and with the tick; a full close (no liquidation price); a
-- flip to -1 at 31,000 with margin 500 (31,500 / 1.0045); C (inverse, 100 x
-- 100 USD at 40,000, 0.05 BTC) buying 100 more at 30,000; T2 adding 5 at
-- 20,000 (bracket 3: 193,950 / 14.7).
SELECT isomargin.liquidation_price_after_fill(1, 30000, 3000, 1, 31000, 0.004) AS increase,
       isomargin.liquidation_price_after_fill(1, 30000, 3000, 1, 31000, 0.004, tick_size => 0.5) AS increase_tick,
       isomargin.liquidation_price_after_fill(2, 30000, 3000, -1, 31000, 0.004, fee_rate => 0.0005) AS partial_close,
       isomargin.liquidation_price_after_fill(2, 30000, 3000, -1, 31000, 0.004, fee_rate => 0.0005,
                                              tick_size => 0.5) AS partial_close_tick,
       isomargin.liquidation_price_after_fill(1, 30000, 3000, -1, 27000, 0.004) AS full_close,
       isomargin.liquidation_price_after_fill(2, 30000, 3000, -3, 31000, 0.004, fee_rate => 0.0005,
                                              margin_added => 500) AS flip;
SELECT isomargin.liquidation_price_after_fill(100, 40000, 0.05, 100, 30000, 0.005, 100, 'inverse') AS inverse_increase,
       isomargin.liquidation_price_after_fill(10, 20000, 105000, 5, 20000,
           '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50;
             100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10;
             2000000..10000000 mmr=0.1 max_leverage=5}'::isomargin.tiers) AS tiers_increase;
-- Adding margin only (fill_size 0): the liquidation price with margin + x;
-- removing all of it leaves 30,000 / 0.996 (up).
SELECT isomargin.liquidation_price_after_fill(1, 30000, 3000, 0, 31000, 0.004, margin_added => 500) AS added,
       isomargin.liquidation_price(1, 30000, 3500, 0.004) AS with_margin_3500,
       isomargin.liquidation_price_after_fill(1, 30000, 3000, 0, 31000, 0.004, margin_added => -3000) AS removed_all;

-- A book: the same answer as liquidation_price over after_fill's row, for
-- every row, fill and rule, by the fast route and by the exact route.
\set ECHO none
\i test/lib/whatif_book.sql
\set ECHO all
-- fills: an increase, a partial close, a full close, a flip, margin only,
-- and an increase with margin added
CREATE TEMP TABLE fills AS
SELECT * FROM (VALUES ('increase', 0.5, 0.0), ('partial close', -0.4, 0.0), ('full close', -1.0, 0.0),
                      ('flip', -2.5, 0.1), ('margin only', 0.0, 0.2), ('increase, margin added', 1.0, 0.5))
    AS v(fill, part, added);

CREATE TEMP TABLE answers (route text, id int, fill text, rule text, v numeric, via_row numeric);
CREATE FUNCTION pg_temp.answers(route text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO answers
    SELECT route, b.id, x.fill, 'mmr',
           isomargin.liquidation_price_after_fill(b.q, b.e, b.m, b.q * x.part, b.mark, b.mmr, b.cs, b.kind,
                                                  b.fee, b.m * x.added),
           isomargin.liquidation_price(f.size, f.entry_price, f.margin, b.mmr, b.cs, b.kind, b.fee)
    FROM book b CROSS JOIN fills x
    CROSS JOIN LATERAL isomargin.after_fill(b.q, b.e, b.m, b.q * x.part, b.mark, b.cs, b.kind, b.fee,
                                            b.m * x.added) f;
    INSERT INTO answers
    SELECT route, b.id, x.fill, 'tiers',
           isomargin.liquidation_price_after_fill(b.q, b.e, b.m, b.q * x.part, b.mark, b.t, 0.001, 'linear',
                                                  b.fee, b.m * x.added),
           isomargin.liquidation_price(f.size, f.entry_price, f.margin, b.t, 0.001, 'linear', b.fee)
    FROM book b CROSS JOIN fills x
    CROSS JOIN LATERAL isomargin.after_fill(b.q, b.e, b.m, b.q * x.part, b.mark, 0.001, 'linear', b.fee,
                                            b.m * x.added) f;
    INSERT INTO answers
    SELECT route, b.id, x.fill, 'mmr, tick 0.5',
           isomargin.liquidation_price_after_fill(b.q, b.e, b.m, b.q * x.part, b.mark, b.mmr, b.cs, b.kind,
                                                  b.fee, b.m * x.added, 0.5),
           isomargin.liquidation_price(f.size, f.entry_price, f.margin, b.mmr, b.cs, b.kind, b.fee, 0.5)
    FROM book b CROSS JOIN fills x
    CROSS JOIN LATERAL isomargin.after_fill(b.q, b.e, b.m, b.q * x.part, b.mark, b.cs, b.kind, b.fee,
                                            b.m * x.added) f
$$;

CREATE TEMP TABLE before AS SELECT * FROM isomargin.routes();
SELECT pg_temp.answers('default');
-- the fast route answers (after_fill and liquidation_price may decline an
-- entry of more than 18 digits to the exact route; liquidation_price_after_fill
-- takes it as it is)
SELECT r.route, r.calls - b.calls > 0 AS some_calls FROM isomargin.routes() r JOIN before b USING (route) ORDER BY 1;
SET isomargin.fast_route = off;
SELECT pg_temp.answers('exact');
RESET isomargin.fast_route;

-- every row, fill and rule: the scalar equals liquidation_price of the
-- row, and both routes agree
SELECT a.rule, a.fill, count(*) AS rows,
       count(*) FILTER (WHERE a.v IS NOT DISTINCT FROM a.via_row) AS same_as_row,
       count(*) FILTER (WHERE a.v IS NOT DISTINCT FROM x.v) AS same_by_exact_route,
       count(a.v) AS not_null
FROM answers a JOIN answers x USING (id, fill, rule)
WHERE a.route = 'default' AND x.route = 'exact'
GROUP BY 1, 2 ORDER BY 1, 2;

-- Bad input: after_fill's refusals and the rule's, with their SQLSTATEs;
-- NULL in any argument gives NULL (STRICT).
SELECT pg_temp.try('SELECT isomargin.liquidation_price_after_fill(2, 30000, 3000, -1, 31000, 0.004, margin_added => -1500.0000000000000001)') AS margin_below_zero,
       pg_temp.try('SELECT isomargin.liquidation_price_after_fill(2, 30000, 3000, -1, 0, 0.004)') AS fill_price_zero,
       pg_temp.try('SELECT isomargin.liquidation_price_after_fill(2, 0, 3000, -1, 31000, 0.004)') AS entry_zero;
SELECT pg_temp.try('SELECT isomargin.liquidation_price_after_fill(2, 30000, -1, 1, 31000, 0.004)') AS margin_negative,
       pg_temp.try('SELECT isomargin.liquidation_price_after_fill(2, 30000, 3000, ''NaN'', 31000, 0.004)') AS fill_size_nan,
       pg_temp.try('SELECT isomargin.liquidation_price_after_fill(2, 30000, 3000, 1, 31000, 1.5)') AS mmr_too_high;
SELECT pg_temp.try('SELECT isomargin.liquidation_price_after_fill(2, 30000, 3000, 1, 31000, 0.004, 0)') AS contract_size_zero,
       pg_temp.try('SELECT isomargin.liquidation_price_after_fill(2, 30000, 3000, 1, 31000, 0.004, fee_rate => -0.1)') AS fee_negative,
       pg_temp.try('SELECT isomargin.liquidation_price_after_fill(2, 30000, 3000, 1, 31000, 0.004, tick_size => -1)') AS tick_negative;
SELECT isomargin.liquidation_price_after_fill(NULL, 30000, 3000, 1, 31000, 0.004) IS NULL AS null_size,
       isomargin.liquidation_price_after_fill(2, 30000, 3000, 1, 31000, 0.004, margin_added => NULL) IS NULL AS null_margin_added;
