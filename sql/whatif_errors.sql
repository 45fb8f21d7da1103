-- The what-if figures refuse bad input with its SQLSTATE, message and detail:
-- every bad value of every argument (22023), the rule's checks, a margin
-- taken below zero by after_fill, and results beyond numeric's range (22003,
-- naming the figure).  NULL in any argument gives NULL (STRICT).
\set ECHO none
\i test/lib/try.sql
\set ECHO all

-- The API: each function's arguments in order (the flat-rate forms).
CREATE TEMP TABLE api (fn_no int, fn text, args text[]);
INSERT INTO api VALUES
    (1, 'position_side', '{size}'),
    (2, 'effective_leverage', '{size,entry_price,mark_price,margin,contract_size,kind}'),
    (3, 'return_on_equity', '{size,entry_price,mark_price,margin,contract_size,kind}'),
    (4, 'liquidation_distance', '{size,entry_price,mark_price,margin,mmr,contract_size,kind,fee_rate,tick_size}'),
    (5, 'liquidation_distance_ratio', '{size,entry_price,mark_price,margin,mmr,contract_size,kind,fee_rate,tick_size}'),
    (6, 'top_up_to_ok', '{size,entry_price,mark_price,margin,mmr,contract_size,kind,fee_rate,margin_call_ratio}'),
    (7, 'top_up_for_liquidation_price', '{size,entry_price,margin,target_price,mmr,contract_size,kind,fee_rate}'),
    (8, 'max_removable_margin', '{size,entry_price,mark_price,margin,leverage,mmr,contract_size,kind,fee_rate}'),
    (9, 'max_size', '{collateral,price,leverage,contract_size,kind,fee_rate,lot_size}'),
    (10, 'after_fill', '{size,entry_price,margin,fill_size,fill_price,contract_size,kind,fee_rate,margin_added}');

-- This list is the catalog's, and every function is IMMUTABLE STRICT PARALLEL SAFE.
SELECT count(*) AS functions, bool_and(p.proargnames = a.args) AS same_arguments,
       bool_and(p.provolatile = 'i' AND p.proisstrict AND p.proparallel = 's') AS immutable_strict_safe
FROM api a
JOIN pg_proc p ON p.proname = a.fn AND p.pronamespace = 'isomargin'::regnamespace
WHERE NOT p.proargtypes::oid[] && ARRAY['isomargin.tiers'::regtype::oid];
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args,
       p.provolatile AS vol, p.proisstrict AS strict, p.proparallel AS par
FROM pg_proc p
WHERE p.pronamespace = 'isomargin'::regnamespace
  AND p.proargtypes::oid[] && ARRAY['isomargin.tiers'::regtype::oid]
  AND p.proname IN ('liquidation_distance', 'liquidation_distance_ratio', 'top_up_to_ok',
                    'top_up_for_liquidation_price', 'max_removable_margin', 'max_size',
                    'max_leverage_for_size')
ORDER BY 1, 2;

-- A valid value for every argument.
CREATE TEMP TABLE good (arg text PRIMARY KEY, val text);
INSERT INTO good VALUES
    ('size', '1'), ('entry_price', '30000'), ('mark_price', '29000'), ('margin', '3000'),
    ('mmr', '0.004'), ('contract_size', '1'), ('kind', 'linear'), ('fee_rate', '0.0006'),
    ('tick_size', '0.5'), ('margin_call_ratio', '0.8'), ('target_price', '25000'),
    ('leverage', '10'), ('collateral', '1000'), ('price', '30000'), ('lot_size', '0.001'),
    ('fill_size', '-0.5'), ('fill_price', '31000'), ('margin_added', '0');

-- pg_temp.call(fn, args, set): a call with the valid values, some replaced.
\set ECHO none
\i test/lib/call.sql
\set ECHO all

-- Every call with the valid values works.
SELECT fn, pg_temp.try(pg_temp.call(fn, args, '{}')) AS result FROM api ORDER BY fn_no;

-- Bad values by argument: not finite for every numeric argument; then the
-- rules of each: prices, contract size and leverage > 0; margin, fee, tick,
-- collateral and lot size >= 0; 0 <= mmr < 1; 0 < margin_call_ratio <= 1.
-- size, fill_size and margin_added take any finite value.
CREATE TEMP TABLE bad (arg text, val_no int, val text);
INSERT INTO bad
SELECT arg, v.n, v.val
FROM good, (VALUES (1, 'NaN'), (2, 'Infinity'), (3, '-Infinity')) v(n, val)
WHERE arg <> 'kind';
INSERT INTO bad VALUES
    ('entry_price', 4, '0'), ('entry_price', 5, '-1'),
    ('mark_price', 4, '0'), ('mark_price', 5, '-0.00000001'),
    ('target_price', 4, '0'), ('target_price', 5, '-1'),
    ('price', 4, '0'), ('price', 5, '-1'),
    ('fill_price', 4, '0'), ('fill_price', 5, '-1'),
    ('contract_size', 4, '0'), ('contract_size', 5, '-100'),
    ('leverage', 4, '0'), ('leverage', 5, '-10'),
    ('margin', 4, '-0.01'),
    ('collateral', 4, '-0.01'),
    ('lot_size', 4, '-0.001'),
    ('fee_rate', 4, '-0.0001'),
    ('tick_size', 4, '-0.5'),
    ('mmr', 4, '-0.001'), ('mmr', 5, '1'),
    ('margin_call_ratio', 4, '0'), ('margin_call_ratio', 5, '1.0001'),
    ('kind', 1, 'spot');

SELECT a.fn, u.arg, b.val, pg_temp.try(pg_temp.call(a.fn, a.args, jsonb_build_object(u.arg, b.val))) AS result
FROM api a, unnest(a.args) WITH ORDINALITY u(arg, n), bad b
WHERE b.arg = u.arg
ORDER BY a.fn_no, u.n, b.val_no;

-- Values at the edge of each rule are accepted: a zero margin, collateral,
-- lot, fee and tick; any sign of size, fill_size and margin_added.
SELECT pg_temp.try('SELECT isomargin.top_up_to_ok(1, 30000, 29000, 0, 0.004)::text') AS margin_0,
       pg_temp.try('SELECT isomargin.max_size(0, 30000, 10, lot_size => 0)::text') AS collateral_0,
       pg_temp.try('SELECT isomargin.liquidation_distance(-1, 30000, 29000, 3000, 0, fee_rate => 0, tick_size => 0)::text') AS mmr_fee_tick_0,
       pg_temp.try('SELECT isomargin.after_fill(-1, 30000, 3000, 0.5, 31000, margin_added => -1500)::text') AS margin_added_negative;

-- The rule's checks: mmr + fee_rate below 1 (flat and in every bracket), and
-- margin_call_ratio above mmr + fee_rate.
SELECT a.fn, pg_temp.try(pg_temp.call(a.fn, a.args, '{"mmr": "0.9", "fee_rate": "0.1"}')) AS result
FROM api a WHERE 'mmr' = ANY (a.args) ORDER BY a.fn_no;
SELECT pg_temp.try($q$SELECT isomargin.top_up_to_ok(1, 30000, 29000, 3000, 0.004, fee_rate => 0.0006, margin_call_ratio => 0.0046)::text$q$) AS call_ratio_at_mmr_fee,
       pg_temp.try($q$SELECT isomargin.liquidation_distance(1, 30000, 29000, 3000,
                        '{0..10 mmr=0.5 max_leverage=1.5; 10..20 mmr=0.9 max_leverage=1}'::isomargin.tiers, fee_rate => 0.1)::text$q$) AS tiers_mmr_fee;

-- The tiers-only function and the tiers overloads check their arguments the same way.
SELECT v.what, pg_temp.try(v.stmt) AS result
FROM (VALUES
    (1, 'max_leverage_for_size, size NaN', $q$SELECT isomargin.max_leverage_for_size('NaN', 1, '{0..5 mmr=0.005 max_leverage=100}')::text$q$),
    (2, 'max_leverage_for_size, price 0', $q$SELECT isomargin.max_leverage_for_size(1, 0, '{0..5 mmr=0.005 max_leverage=100}')::text$q$),
    (3, 'max_leverage_for_size, contract_size 0', $q$SELECT isomargin.max_leverage_for_size(1, 1, '{0..5 mmr=0.005 max_leverage=100}', 0)::text$q$),
    (4, 'max_size with tiers, lot_size -1', $q$SELECT isomargin.max_size(1000, 30000, 10, '{0..5 mmr=0.005 max_leverage=100}'::isomargin.tiers, lot_size => -1)::text$q$),
    (5, 'max_size with tiers, collateral NaN', $q$SELECT isomargin.max_size('NaN', 30000, 10, '{0..5 mmr=0.005 max_leverage=100}'::isomargin.tiers)::text$q$),
    (6, 'max_size with tiers, fee_rate -1', $q$SELECT isomargin.max_size(1000, 30000, 10, '{0..5 mmr=0.005 max_leverage=100}'::isomargin.tiers, fee_rate => -1)::text$q$),
    (7, 'top_up_to_ok with tiers, margin_call_ratio at the top bracket', $q$SELECT isomargin.top_up_to_ok(1, 30000, 29000, 3000, '{0..5 mmr=0.005 max_leverage=100; 5..10 mmr=0.01 max_leverage=50}'::isomargin.tiers, margin_call_ratio => 0.01)::text$q$),
    (8, 'max_removable_margin with tiers, leverage 0', $q$SELECT isomargin.max_removable_margin(1, 30000, 29000, 3000, 0, '{0..5 mmr=0.005 max_leverage=100}'::isomargin.tiers)::text$q$)
) v(n, what, stmt)
ORDER BY v.n;

-- after_fill: margin_added may take the margin to zero, not below.
SELECT pg_temp.try('SELECT isomargin.after_fill(2, 30000, 3000, 0, 31000, margin_added => -3000)::text') AS to_zero,
       pg_temp.try('SELECT isomargin.after_fill(2, 30000, 3000, 0, 31000, margin_added => -3000.01)::text') AS below_zero,
       pg_temp.try('SELECT isomargin.after_fill(2, 30000, 3000, -1, 31000, margin_added => -1500.0000000000000001)::text') AS below_zero_after_close;

-- Results beyond numeric's range: 22003, naming the figure.
SELECT fn, pg_temp.try(stmt) AS result
FROM (VALUES
    (1, 'effective_leverage', 'SELECT isomargin.effective_leverage(1e131071, 1, 1e131071, 0)::text'),
    (2, 'return_on_equity', 'SELECT isomargin.return_on_equity(1e131071, 1, 1e131071, 1)::text'),
    (3, 'liquidation_distance', 'SELECT isomargin.liquidation_distance(1e131071, 1e131071, 1, 0, 0.01)::text'),
    (4, 'liquidation_distance_ratio', 'SELECT isomargin.liquidation_distance_ratio(1e131071, 1e131071, 1, 0, 0.01)::text'),
    (5, 'top_up_to_ok', 'SELECT isomargin.top_up_to_ok(1e131071, 1, 1e131071, 0, 0.01)::text'),
    (6, 'top_up_for_liquidation_price', 'SELECT isomargin.top_up_for_liquidation_price(1e131071, 1, 0, 1e131071, 0.01)::text'),
    (7, 'max_removable_margin', 'SELECT isomargin.max_removable_margin(1e131071, 1, 1e131071, 0, 1, 0.01)::text'),
    (8, 'max_size', 'SELECT isomargin.max_size(1e131071, 1, 1e131071)::text'),
    (9, 'max_leverage_for_size', $q$SELECT isomargin.max_leverage_for_size(1e131071, 1e131071, '{0..5 mmr=0.005 max_leverage=100}')::text$q$),
    (10, 'after_fill', 'SELECT isomargin.after_fill(1e131071, 1e131071, 0, 1e131071, 1e131071)::text')
) v(n, fn, stmt)
ORDER BY n;

-- NULL in any argument gives NULL, even next to a bad value.
SELECT a.fn, count(*) AS arguments,
       count(*) FILTER (WHERE pg_temp.try(pg_temp.call(a.fn, a.args, jsonb_build_object(u.arg, NULL))) = 'ok: NULL') AS null_results
FROM api a, unnest(a.args) u(arg)
GROUP BY a.fn_no, a.fn ORDER BY a.fn_no;
SELECT isomargin.top_up_to_ok(1, 30000, 29000, NULL, 1.5) IS NULL AS null_and_bad_mmr,
       isomargin.max_size(NULL, 30000, 10, lot_size => -1) IS NULL AS null_and_bad_lot,
       isomargin.max_leverage_for_size(1, 1, NULL) IS NULL AS null_tiers;

-- max_leverage and max_notional beyond the schedule (item 5): NULL in a query
-- over many rows, which carries on; the strict form raises 22023 with the
-- value in the detail.  T: {0..10000 mmr=0.005 max_leverage=100; 10000..100000
-- mmr=0.01 max_leverage=50}.
SELECT x, isomargin.max_leverage(t, x) AS max_leverage, isomargin.max_notional(t, x) AS max_notional
FROM (SELECT '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50}'::isomargin.tiers) s(t),
     unnest(ARRAY[50, 100, 100.01, 100000, 100000.01]::numeric[]) x
ORDER BY x;
SELECT pg_temp.try($q$SELECT isomargin.max_leverage('{0..10000 mmr=0.005 max_leverage=100}', 10000.01, strict => true)::text$q$) AS strict_max_leverage,
       pg_temp.try($q$SELECT isomargin.max_notional('{0..10000 mmr=0.005 max_leverage=100}', 100.01, strict => true)::text$q$) AS strict_max_notional,
       pg_temp.try($q$SELECT isomargin.max_leverage('{0..10000 mmr=0.005 max_leverage=100}', 10000.01, strict => false)::text$q$) AS not_strict;
