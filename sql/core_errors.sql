-- Bad input never yields a number: every bad value of every argument of
-- every core function, with its SQLSTATE, message, detail and hint.
-- NULL arguments give NULL (STRICT), and assess's NULL rules.

-- pg_temp.try(stmt): 'ok: <value>' or 'SQLSTATE: message | detail | hint: hint'.
\set ECHO none
\i test/lib/try.sql
\set ECHO all

-- The API: each function's arguments in order.
CREATE TEMP TABLE api (fn_no int, fn text, args text[]);
INSERT INTO api VALUES
    (1, 'notional', '{size,price,contract_size,kind}'),
    (2, 'unrealized_pnl', '{size,entry_price,mark_price,contract_size,kind}'),
    (3, 'equity', '{size,entry_price,mark_price,margin,contract_size,kind}'),
    (4, 'initial_margin', '{size,price,leverage,contract_size,kind}'),
    (5, 'maintenance_margin', '{size,mark_price,mmr,contract_size,kind,fee_rate,maintenance_amount}'),
    (6, 'margin_ratio', '{size,entry_price,mark_price,margin,mmr,contract_size,kind,fee_rate,mm_basis,fee_basis,maintenance_amount}'),
    (7, 'margin_status', '{size,entry_price,mark_price,margin,mmr,contract_size,kind,fee_rate,margin_call_ratio,mm_basis,fee_basis,maintenance_amount}'),
    (8, 'liquidation_price', '{size,entry_price,margin,mmr,contract_size,kind,fee_rate,tick_size,mm_basis,fee_basis,maintenance_amount}'),
    (9, 'margin_call_price', '{size,entry_price,margin,mmr,contract_size,kind,fee_rate,margin_call_ratio,tick_size,mm_basis,fee_basis,maintenance_amount}'),
    (10, 'bankruptcy_price', '{size,entry_price,margin,contract_size,kind,tick_size}'),
    (11, 'assess', '{size,entry_price,mark_price,margin,mmr,contract_size,kind,fee_rate,margin_call_ratio,tick_size,leverage,mm_basis,fee_basis,maintenance_amount}');

-- This list is the catalog's (the flat-rate signatures).
SELECT count(*) AS functions,
       bool_and(p.proargnames = a.args) AS same_arguments
FROM api a
JOIN pg_proc p ON p.proname = a.fn AND p.pronamespace = 'isomargin'::regnamespace
WHERE NOT p.proargtypes::oid[] && ARRAY(SELECT oid FROM pg_type WHERE typname = 'tiers'
                                          AND typnamespace = 'isomargin'::regnamespace);

-- A valid value for every argument.
CREATE TEMP TABLE good (arg text PRIMARY KEY, val text);
INSERT INTO good VALUES
    ('size', '1'), ('price', '30000'), ('entry_price', '30000'), ('mark_price', '29000'),
    ('margin', '3000'), ('mmr', '0.004'), ('leverage', '10'), ('contract_size', '1'),
    ('kind', 'linear'), ('fee_rate', '0.0006'), ('tick_size', '0.5'), ('margin_call_ratio', '0.8'),
    ('mm_basis', 'mark'), ('fee_basis', 'mark'), ('maintenance_amount', '0');

-- pg_temp.call(fn, args, set): a call with the valid values, some replaced.
\set ECHO none
\i test/lib/call.sql
\set ECHO all

-- Every call with the valid values works.
SELECT fn, pg_temp.try(pg_temp.call(fn, args, '{}')) AS result FROM api ORDER BY fn_no;

-- Bad values by argument: not finite for every numeric argument; then the
-- rules of each: prices, contract size and leverage > 0; margin, fee and
-- tick >= 0; 0 <= mmr < 1; 0 < margin_call_ratio <= 1.
CREATE TEMP TABLE bad (arg text, val_no int, val text);
INSERT INTO bad
SELECT arg, v.n, v.val
FROM good, (VALUES (1, 'NaN'), (2, 'Infinity'), (3, '-Infinity')) v(n, val)
WHERE arg NOT IN ('kind', 'mm_basis', 'fee_basis');
INSERT INTO bad VALUES
    ('price', 4, '0'), ('price', 5, '-1'), ('price', 6, '-0.00000001'),
    ('entry_price', 4, '0'), ('entry_price', 5, '-1'), ('entry_price', 6, '-0.00000001'),
    ('mark_price', 4, '0'), ('mark_price', 5, '-1'), ('mark_price', 6, '-0.00000001'),
    ('contract_size', 4, '0'), ('contract_size', 5, '-100'),
    ('leverage', 4, '0'), ('leverage', 5, '-10'),
    ('margin', 4, '-0.01'),
    ('fee_rate', 4, '-0.0001'),
    ('tick_size', 4, '-0.5'),
    ('mmr', 4, '-0.001'), ('mmr', 5, '1'), ('mmr', 6, '1.5'),
    ('margin_call_ratio', 4, '0'), ('margin_call_ratio', 5, '-0.1'), ('margin_call_ratio', 6, '1.0001'),
    ('maintenance_amount', 4, '-1'),
    ('kind', 1, 'spot');

SELECT a.fn, u.arg, b.val, pg_temp.try(pg_temp.call(a.fn, a.args, jsonb_build_object(u.arg, b.val))) AS result
FROM api a, unnest(a.args) WITH ORDINALITY u(arg, n), bad b
WHERE b.arg = u.arg
ORDER BY a.fn_no, u.n, b.val_no;

-- Values at the edge of each rule are accepted.
SELECT pg_temp.try('SELECT isomargin.liquidation_price(1, 30000, 3000, mmr => 0)::text') AS mmr_0,
       pg_temp.try('SELECT isomargin.liquidation_price(1, 30000, 3000, mmr => 0.99)::text') AS mmr_0_99,
       pg_temp.try('SELECT isomargin.liquidation_price(1, 30000, 3000, 0.004, fee_rate => 0, tick_size => 0)::text') AS fee_0_tick_0,
       pg_temp.try('SELECT isomargin.liquidation_price(-1, 30000, 0, 0.004)::text') AS margin_0;
SELECT pg_temp.try('SELECT isomargin.margin_status(1, 30000, 29000, 3000, 0.004, margin_call_ratio => 1)::text') AS call_ratio_1,
       pg_temp.try('SELECT isomargin.margin_status(1, 30000, 29000, 3000, 0.004, margin_call_ratio => 0.0001)::text') AS call_ratio_0_0001,
       pg_temp.try('SELECT isomargin.notional(size => 0, price => 1)::text') AS size_0,
       pg_temp.try('SELECT isomargin.notional(size => -2, price => 1)::text') AS size_negative;

-- mmr + fee_rate must stay below 1, wherever both are arguments.
SELECT a.fn, v.mmr, v.fee,
       pg_temp.try(pg_temp.call(a.fn, a.args, jsonb_build_object('mmr', v.mmr, 'fee_rate', v.fee))) AS result
FROM api a, (VALUES (1, '0.9', '0.1'), (2, '0.5', '0.6'), (3, '0.9999', '0.0001'), (4, '0.9999', '0.00009')) v(n, mmr, fee)
WHERE 'fee_rate' = ANY (a.args)
ORDER BY a.fn_no, v.n;

-- Results beyond numeric's range: 22003, from every function.
SELECT fn, pg_temp.try(stmt) AS result
FROM (VALUES
    (1, 'notional', 'SELECT isomargin.notional(1e131071, 1e131071)::text'),
    (2, 'notional (inverse)', $q$SELECT isomargin.notional(1e131071, 1e-16383, kind => 'inverse')::text$q$),
    (3, 'unrealized_pnl', 'SELECT isomargin.unrealized_pnl(1e131071, 1, 1e131071)::text'),
    (4, 'equity', 'SELECT isomargin.equity(1e131071, 1, 1e131071, 0)::text'),
    (5, 'initial_margin', 'SELECT isomargin.initial_margin(1e131071, 1e131071, 1)::text'),
    (6, 'maintenance_margin', 'SELECT isomargin.maintenance_margin(1e131071, 1e131071, 0.01)::text'),
    (7, 'margin_ratio', 'SELECT isomargin.margin_ratio(1e131071, 1, 1e131071, 0, 0.01)::text'),
    (8, 'margin_status', 'SELECT isomargin.margin_status(1e131071, 1, 1e131071, 0, 0.01)::text'),
    (9, 'liquidation_price', 'SELECT isomargin.liquidation_price(1e131071, 1e131071, 0, 0.01)::text'),
    (10, 'margin_call_price', 'SELECT isomargin.margin_call_price(1e131071, 1e131071, 0, 0.01)::text'),
    (11, 'bankruptcy_price', 'SELECT isomargin.bankruptcy_price(1e131071, 1e131071, 0)::text'),
    (12, 'assess', 'SELECT isomargin.assess(1e131071, 1, 1e131071, 0, 0.01)::text')
) v(n, fn, stmt)
ORDER BY n;

-- NULL in any argument of a STRICT function gives NULL, even next to a bad value.
SELECT a.fn, count(*) AS arguments,
       count(*) FILTER (WHERE pg_temp.try(pg_temp.call(a.fn, a.args, jsonb_build_object(u.arg, NULL))) = 'ok: NULL') AS null_results,
       bool_and(p.proisstrict) AS strict
FROM api a JOIN pg_proc p ON p.proname = a.fn AND p.proargnames = a.args, unnest(a.args) u(arg)
WHERE a.fn <> 'assess'
GROUP BY a.fn_no, a.fn ORDER BY a.fn_no;
SELECT isomargin.notional(NULL, 'NaN') AS null_and_nan,
       isomargin.liquidation_price(1, 30000, NULL, 1.5) AS null_and_bad_mmr;

-- assess is not STRICT, for its optional leverage: NULL in any of its first
-- ten arguments gives a NULL row (before any check); a NULL leverage only
-- leaves initial_margin NULL.
SELECT u.arg, pg_temp.try(pg_temp.call(a.fn, a.args, jsonb_build_object(u.arg, NULL))) AS result
FROM api a, unnest(a.args) WITH ORDINALITY u(arg, n)
WHERE a.fn = 'assess'
ORDER BY u.n;
SELECT isomargin.assess(NULL, 30000, 29000, 3000, 'NaN') IS NULL AS null_row_before_checks,
       (isomargin.assess(1, 30000, 29000, 3000, 0.004)).initial_margin IS NULL AS default_leverage_null;
SELECT pg_temp.try($q$SELECT isomargin.assess(1, 30000, 29000, 3000, 'NaN', leverage => NULL)::text$q$) AS bad_mmr_null_leverage;
