-- Exact or refused at the edge of numeric (issue 19 item 6).  numeric holds
-- at most 16383 decimals and magnitudes below 10^131072, and its
-- multiplication rounds a product of more decimals to 16383.  Every figure
-- is exact or refused with 22003 naming the figure (22023 for a bad
-- argument): never a rounded figure, never 22012 (division by zero, which
-- came from products rounded to zero).  Exact figures are compared with a
-- reference written here in plain SQL numeric: its products are checked to
-- be exact (pg_temp.mul), its divisions are integer divisions (div()).
-- Long values are shown clipped, with their length or scale.

-- 'ok: <value>' or 'SQLSTATE: message | detail | hint: hint', each part
-- clipped to 100 characters; the statement may use $1[i], the values in a.
CREATE FUNCTION pg_temp.clip(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN length(t) <= 100 THEN t
                ELSE left(t, 60) || '... (' || length(t) || ' characters)' END
$$;

CREATE FUNCTION pg_temp.try(stmt text, VARIADIC a numeric[] DEFAULT '{}') RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    res text;
    st text;
    msg text;
    det text;
    hnt text;
BEGIN
    EXECUTE stmt INTO res USING a;
    RETURN 'ok: ' || coalesce(pg_temp.clip(res), 'NULL');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                            det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
    RETURN st || ': ' || pg_temp.clip(msg)
        || CASE WHEN det <> '' THEN ' | ' || pg_temp.clip(det) ELSE '' END
        || CASE WHEN hnt <> '' THEN ' | hint: ' || pg_temp.clip(hnt) ELSE '' END;
END
$$;

-- The SQLSTATE of a statement, or 'ok'.
CREATE FUNCTION pg_temp.state(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$$;

-- a * b when numeric holds it exactly, else NULL (numeric would round it).
CREATE FUNCTION pg_temp.mul(a numeric, b numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN scale(a) + scale(b) <= 16383 THEN a * b END
$$;

-- n / d rounded to a whole number toward +infinity (up) or -infinity.
CREATE FUNCTION pg_temp.div_int(n numeric, d numeric, up boolean) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT div(n, d) + CASE WHEN mod(n, d) = 0 THEN 0
                            WHEN up AND (n > 0) = (d > 0) THEN 1
                            WHEN NOT up AND (n > 0) <> (d > 0) THEN -1
                            ELSE 0 END
$$;

-- The reference liquidation price (rate = mmr + fee_rate) or bankruptcy
-- price (rate = 0), from shared/domain/isolated-margin.md with c = 1 and a
-- flat rate:
--   linear   P = (s*E - M) / (a*(side - rate))
--   inverse  P = E*a*(side + rate) / (M*E + s)
-- s = size * contract_size, a = |s|; rounded up for a long and down for a
-- short, to max(8, scale of E) decimals or to a whole tick.  With
-- tick = T * 10^-ts (T an integer), num / (den * tick) = num * 10^ts / (den * T).
-- 'none' when there is no positive price, 'n/a' when numeric cannot hold
-- an intermediate value exactly.
CREATE FUNCTION pg_temp.ref_price(q numeric, e numeric, m numeric, rate numeric, cs numeric,
                                  inverse boolean, tick numeric) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    side int := sign(q);
    s numeric := pg_temp.mul(q, cs);
    a numeric := abs(s);
    num numeric;
    den numeric;
    ts int := scale(tick);
    t numeric;
    r numeric;
BEGIN
    IF side = 0 THEN
        RETURN 'none';
    END IF;
    IF NOT inverse THEN
        num := pg_temp.mul(s, e) - m;
        den := pg_temp.mul(a, side - rate);
    ELSE
        num := pg_temp.mul(pg_temp.mul(e, a), side + rate);
        den := pg_temp.mul(m, e) + s;
    END IF;
    IF num IS NULL OR den IS NULL THEN
        RETURN 'n/a';
    END IF;
    IF sign(num) * sign(den) <= 0 THEN
        RETURN 'none';
    END IF;
    IF tick > 0 THEN
        t := round(tick * ('1e' || ts)::numeric);
        r := pg_temp.mul(pg_temp.div_int(num * ('1e' || ts)::numeric, pg_temp.mul(den, t), side > 0), tick);
    ELSE
        ts := greatest(8, scale(e));
        r := pg_temp.div_int(num * ('1e' || ts)::numeric, den, side > 0) * ('1e-' || ts)::numeric;
    END IF;
    RETURN coalesce(r::text, 'n/a');
EXCEPTION WHEN numeric_value_out_of_range THEN
    RETURN 'n/a';
END
$$;

-- 1. The issue's tick: 1e-16383 used to be multiplied into the divisor,
-- whose product numeric rounded: 2736.73..., above the entry price.  The
-- tick's decimals no longer add to any intermediate value: the exact price,
-- 16383 decimals, just below the 8-decimal one (2519.72766117).
SELECT pg_temp.try($q$SELECT isomargin.liquidation_price(3.26, 2546.83025, 92.46981, mmr => 0.000001,
                       fee_rate => 0.0005, tick_size => 1e-16383)::text$q$) AS liquidation_price,
       pg_temp.try($q$SELECT isomargin.liquidation_price(3.26, 2546.83025, 92.46981, mmr => 0.000001,
                       fee_rate => 0.0005)::text$q$) AS without_tick;
SELECT v::text = pg_temp.ref_price(3.26, 2546.83025, 92.46981, 0.000501, 1, false, 1e-16383) AS equals_reference,
       scale(v) AS decimals,
       v < 2546.83025 AS below_entry,
       v <= 2519.72766117 AND v > 2519.72766116 AS within_the_8_decimal_price
FROM (SELECT isomargin.liquidation_price(3.26, 2546.83025, 92.46981, mmr => 0.000001,
                                         fee_rate => 0.0005, tick_size => 1e-16383) AS v) x;

-- The same tick for every price, both kinds, long and short, and through
-- assess: each equals the reference ('none': no price, NULL).
SELECT kind, q,
       coalesce(isomargin.liquidation_price(q, 2546.83025, m, mmr => 0.000001, contract_size => cs,
                                            kind => kind, fee_rate => 0.0005, tick_size => 1e-16383)::text, 'none')
           = pg_temp.ref_price(q, 2546.83025, m, 0.000501, cs, kind = 'inverse', 1e-16383) AS liquidation,
       coalesce(isomargin.bankruptcy_price(q, 2546.83025, m, contract_size => cs, kind => kind,
                                           tick_size => 1e-16383)::text, 'none')
           = pg_temp.ref_price(q, 2546.83025, m, 0, cs, kind = 'inverse', 1e-16383) AS bankruptcy,
       coalesce((isomargin.assess(q, 2546.83025, 2500, m, 0.000001, contract_size => cs, kind => kind,
                                  fee_rate => 0.0005, margin_call_ratio => 1,
                                  tick_size => 1e-16383)).liquidation_price::text, 'none')
           = pg_temp.ref_price(q, 2546.83025, m, 0.000501, cs, kind = 'inverse', 1e-16383) AS assess_liquidation,
       isomargin.margin_call_price(q, 2546.83025, m, mmr => 0.000001, contract_size => cs, kind => kind,
                                   fee_rate => 0.0005, margin_call_ratio => 1, tick_size => 1e-16383)
           = isomargin.liquidation_price(q, 2546.83025, m, mmr => 0.000001, contract_size => cs, kind => kind,
                                         fee_rate => 0.0005, tick_size => 1e-16383) AS call_ratio_1_is_liquidation
FROM (VALUES ('linear'::isomargin.contract_kind, 1, 92.46981), ('inverse', 100, 0.0123)) k(kind, cs, m),
     (VALUES (3.26), (-3.26)) s(q)
ORDER BY kind, q DESC;

-- 2. contract_size => 1e-16383: size * contract_size has more than 16383
-- decimals, which numeric would round (a short's price came out as
-- 3.08e16393 for size -3.26, NULL for size -0.4, whose s rounded to zero):
-- refused, 22003 naming the figure, the decimals in the detail.
SELECT q, pg_temp.try($q$SELECT isomargin.liquidation_price($1[1], 2546.83025, 92.46981, mmr => 0.000001,
                           fee_rate => 0.0005, contract_size => 1e-16383)::text$q$, q) AS result
FROM unnest('{-3.26,-0.4}'::numeric[]) q;
-- With decimals numeric does hold, the figure is exact: a whole size times
-- 1e-16383, and the short's price with contract_size => 1e-2000 (about
-- 2.8e2001, rounded down).
SELECT pg_temp.try($q$SELECT isomargin.notional(3, 2546, contract_size => 1e-16383)::text$q$) AS notional,
       isomargin.notional(3, 2546, contract_size => 1e-16383) = 7638e-16383 AS notional_exact,
       isomargin.liquidation_price(-3.26, 2546.83025, 92.46981, mmr => 0.000001, fee_rate => 0.0005,
                                   contract_size => 1e-2000)::text
           = pg_temp.ref_price(-3.26, 2546.83025, 92.46981, 0.000501, 1e-2000, false, 0) AS short_price_exact;

-- 3. Calls that failed with 22012 (division by zero) or with numeric's own
-- unnamed "value overflows numeric format": tiny prices (E * P rounded to
-- zero), small contract sizes with a fine tick, huge margins.  Each is now
-- exact (equal to the reference) or refused with 22003 naming the figure.
SELECT n, pg_temp.try(stmt) AS result
FROM (VALUES
    (1, $q$SELECT isomargin.unrealized_pnl(1, 1e-10000, 1e-10000, kind => 'inverse')::text$q$),
    (2, $q$SELECT isomargin.equity(1, 1e-10000, 1e-10000, 1, kind => 'inverse')::text$q$),
    (3, $q$SELECT isomargin.initial_margin(1, 1e-10000, 1e-10000, kind => 'inverse')::text$q$),
    (4, $q$SELECT isomargin.bankruptcy_price(3.26, 2546.83025, 0, contract_size => 1e-10000, tick_size => 1e-16383)::text$q$),
    (5, $q$SELECT isomargin.bankruptcy_price(-3.26, 2546.83025, 92.46981, contract_size => 1e-16383, tick_size => 1e-16383)::text$q$),
    (6, $q$SELECT isomargin.liquidation_price(-3.26, 2546.83025, 1e131000, 0.000001, contract_size => 1e-10000, tick_size => 1e-16383)::text$q$),
    (7, $q$SELECT isomargin.liquidation_price(3.26, 1e131000, 92.46981, 0.000001, contract_size => 1e-10000, tick_size => 1e-16383)::text$q$),
    (8, $q$SELECT isomargin.liquidation_price(1, 1e131000, 1, 0.01, tick_size => 1e-16383)::text$q$)
) v(n, stmt)
ORDER BY n;
SELECT isomargin.bankruptcy_price(3.26, 2546.83025, 0, contract_size => 1e-10000, tick_size => 1e-16383)
           = 2546.83025 AS margin_0_bankrupt_at_entry,
       isomargin.bankruptcy_price(3.26, 2546.83025, 0, contract_size => 1e-10000, tick_size => 1e-16383)::text
           = pg_temp.ref_price(3.26, 2546.83025, 0, 0, 1e-10000, false, 1e-16383) AS equals_reference;

-- 4. A sweep over values at numeric's limits (16383 and 8000 decimals,
-- 10^131000): the liquidation and bankruptcy prices of every combination,
-- against the reference.  An answer always equals the reference; a
-- refusal is always 22003; nothing else happens.
CREATE TEMP TABLE sweep AS
SELECT q, e, m, cs, kind, tick, fn,
       pg_temp.try(format('SELECT isomargin.%s($1[1], $1[2], $1[3], %scontract_size => $1[4], kind => %L, tick_size => $1[5])::text',
                          fn, CASE fn WHEN 'liquidation_price' THEN 'mmr => 0.000001, fee_rate => 0.0005, ' ELSE '' END, kind),
                   q, e, m, cs, tick) AS got,
       pg_temp.ref_price(q, e, m, CASE fn WHEN 'liquidation_price' THEN 0.000501 ELSE 0 END, cs,
                         kind = 'inverse', tick) AS want
FROM unnest('{3.26,-3.26,1e-16383,-1e-16383,-5e-8000}'::numeric[]) q,
     unnest('{2546.83025,1e-16383,3e-8000,1e131000}'::numeric[]) e,
     unnest('{0,92.46981,1e-16383,1e131000}'::numeric[]) m,
     unnest('{1,1e-16383,1e-8000}'::numeric[]) cs,
     unnest('{linear,inverse}'::text[]) kind,
     unnest('{0,1e-16383,1e-8000}'::numeric[]) tick,
     unnest('{liquidation_price,bankruptcy_price}'::text[]) fn;
SELECT fn,
       count(*) AS calls,
       count(*) FILTER (WHERE got = 'ok: ' || pg_temp.clip(want)) AS exact,
       count(*) FILTER (WHERE got = 'ok: NULL' AND want = 'none') AS no_price,
       count(*) FILTER (WHERE got LIKE '22003: ' || fn || ' is out of range for type numeric%') AS refused_22003,
       count(*) FILTER (WHERE got LIKE '22003: %' AND want NOT IN ('n/a', 'none')) AS refused_where_reference_holds,
       count(*) FILTER (WHERE got NOT LIKE '22003: ' || fn || ' is out of range for type numeric%'
                          AND got IS DISTINCT FROM 'ok: ' || pg_temp.clip(want)
                          AND NOT (got = 'ok: NULL' AND want = 'none')) AS anything_else
FROM sweep GROUP BY fn ORDER BY fn;
-- The answers, besides a NULL, are not only near-trivial ones.
SELECT fn, count(*) FILTER (WHERE got LIKE 'ok: %' AND got <> 'ok: NULL'
                              AND length(want) > 100) AS long_exact_answers
FROM sweep GROUP BY fn ORDER BY fn;
-- The details of a refusal: too many decimals, or beyond numeric's range.
SELECT regexp_replace(split_part(got, ' | ', 2), '[0-9]+ decimals,', 'N decimals,') AS detail, count(*)
FROM sweep WHERE got LIKE '22003: %' GROUP BY 1 ORDER BY 1;

-- 5. Arguments of at most 2000 decimals each are always exact: every
-- figure of assess, linear and inverse, long and short, a flat mmr and a
-- schedule of three brackets, with and without a tick, every argument with
-- 2000 decimals.  The longest product, in the bracket walk of the
-- margin-call price (a * (c*s*E - c*M - A)), adds the decimals of six
-- arguments: with 2731 decimals each it would need 16386, and is refused.
CREATE FUNCTION pg_temp.d(x numeric, decimals int) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT x + sign(x) * ('7e-' || decimals)::numeric $$;
CREATE FUNCTION pg_temp.d2000(x numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT pg_temp.d(x, 2000) $$;
CREATE TEMP TABLE wide AS
SELECT kind, q, rule, tick,
       pg_temp.try(format('SELECT isomargin.assess(%s, %s, %s, %s, %s, contract_size => %s, kind => %L,
                                                    fee_rate => %s, margin_call_ratio => %s, tick_size => %s,
                                                    leverage => %s)::text',
                          pg_temp.d2000(q), pg_temp.d2000(2546.83025), pg_temp.d2000(2400.5),
                          pg_temp.d2000(920.46981),
                          CASE rule WHEN 'mmr' THEN pg_temp.d2000(0.004)::text
                               ELSE quote_literal('{0..5000 mmr=0.005 max_leverage=100; 5000..50000 mmr=0.01 max_leverage=50; 50000..500000 mmr=0.02 max_leverage=20}')
                                    || '::isomargin.tiers' END,
                          pg_temp.d2000(cs), kind, pg_temp.d2000(0.0005), pg_temp.d2000(0.8),
                          CASE WHEN tick THEN pg_temp.d2000(0.5) ELSE 0 END,
                          pg_temp.d2000(10))) AS got
FROM (VALUES ('linear'::text, 1::numeric), ('inverse', 100)) k(kind, cs),
     unnest('{3.26,-3.26,300,-300}'::numeric[]) q,
     unnest('{mmr,tiers}'::text[]) rule,
     unnest('{false,true}'::boolean[]) tick;
SELECT count(*) AS calls, count(*) FILTER (WHERE got LIKE 'ok: (%') AS answered,
       count(*) FILTER (WHERE got NOT LIKE 'ok: %') AS errors
FROM wide;
SELECT pg_temp.try($q$SELECT isomargin.margin_call_price(pg_temp.d(-3.26, 2731), pg_temp.d(2546.83025, 2731),
                           pg_temp.d(920.46981, 2731), '{0..5000 mmr=0.005 max_leverage=100; 5000..50000 mmr=0.01 max_leverage=50}'::isomargin.tiers,
                           contract_size => pg_temp.d(1, 2731), margin_call_ratio => pg_temp.d(0.8, 2731))::text$q$)
       AS six_arguments_of_2731_decimals;
SELECT scale(pg_temp.d2000(-3.26)) AS decimals,
       isomargin.liquidation_price(pg_temp.d2000(-3.26), pg_temp.d2000(2546.83025), pg_temp.d2000(92.46981),
                                   pg_temp.d2000(0.000001), contract_size => pg_temp.d2000(1e-3),
                                   fee_rate => pg_temp.d2000(0.0005))::text
           = pg_temp.ref_price(pg_temp.d2000(-3.26), pg_temp.d2000(2546.83025), pg_temp.d2000(92.46981),
                               pg_temp.d2000(0.000001) + pg_temp.d2000(0.0005), pg_temp.d2000(1e-3), false, 0)
           AS liquidation_equals_reference;

-- 6. The tiers text form reads an exponent exactly, however long: it used
-- to stop at 100000, so that a cap written with 100000 decimals and the
-- exponent 1000000 (10^900000) was read as 1, and one with 100001 digits
-- and the exponent -1000000 (10^-899999) as 10.  Now both are out of
-- range; the exponent that does balance them (100005, -100000) reads back
-- as the value it writes.
SELECT n, pg_temp.try(format('SELECT %L::isomargin.tiers::text', '{0..' || cap || ' mmr=0.01 max_leverage=10}')) AS result
FROM (VALUES
    (1, '0.' || repeat('0', 99999) || '1e1000000'),
    (2, '1' || repeat('0', 100001) || 'e-1000000'),
    (3, '0.' || repeat('0', 99999) || '1e100005'),
    (4, '1' || repeat('0', 100001) || 'e-100000'),
    (5, '1e00000000000000000000000000000000000000004'),
    (6, '1e99999999999999999999'),
    (7, '1e-99999999999999999999')
) v(n, cap)
ORDER BY n;
-- A zero is zero with any exponent.
SELECT '{0e99999999999999999999999..10 mmr=0.01 max_leverage=10}'::isomargin.tiers AS zero_floor;

-- 7. The same value as a JSON number and as a JSON string: read alike.
-- Numbers with 20 to 40 trailing zeros after the point (a display scale of
-- up to 43) used to be refused when the string was read.
CREATE FUNCTION pg_temp.tiers_doc(z text, quoted boolean) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT replace(format('[{"notionalFloor": ~0~, "notionalCap": ~50000%s~, "maintMarginRatio": ~0.004%s~, "initialLeverage": ~125%s~},
                          {"notionalFloor": ~50000%s~, "notionalCap": ~250000~, "maintMarginRatio": ~0.005%s~, "initialLeverage": ~100~}]',
                          dz, z, dz, dz, z),
                   '~', CASE WHEN quoted THEN '"' ELSE '' END)::jsonb
    FROM (SELECT CASE WHEN z = '' THEN '' ELSE '.' || z END AS dz) d
$$;
SELECT count(*) AS trailing_zero_counts,
       count(*) FILTER (WHERE pg_temp.try(format('SELECT isomargin.tiers(%L::jsonb)::text', pg_temp.tiers_doc(repeat('0', z), false)))
                              = 'ok: ' || isomargin.tiers(pg_temp.tiers_doc('', false))::text) AS numbers_read,
       count(*) FILTER (WHERE pg_temp.try(format('SELECT isomargin.tiers(%L::jsonb)::text', pg_temp.tiers_doc(repeat('0', z), true)))
                              = 'ok: ' || isomargin.tiers(pg_temp.tiers_doc('', false))::text) AS strings_read,
       min(scale((pg_temp.tiers_doc(repeat('0', z), false) -> 0 ->> 'notionalCap')::numeric)) AS min_scale,
       max(scale((pg_temp.tiers_doc(repeat('0', z), false) -> 0 ->> 'maintMarginRatio')::numeric)) AS max_scale
FROM generate_series(0, 40) z;
-- Other spellings of one value, and values out of range, alike both ways.
SELECT v AS value,
       pg_temp.state(format($f$SELECT isomargin.tiers('[{"notionalFloor": 0, "notionalCap": %s, "maintMarginRatio": 0.004, "initialLeverage": 125}]'::jsonb)$f$, v)) AS as_number,
       pg_temp.state(format($f$SELECT isomargin.tiers('[{"notionalFloor": 0, "notionalCap": "%s", "maintMarginRatio": 0.004, "initialLeverage": 125}]'::jsonb)$f$, v)) AS as_string,
       isomargin.tiers(format('[{"notionalFloor": 0, "notionalCap": %s, "maintMarginRatio": 0.004, "initialLeverage": 125}]', v)::jsonb)::text
           = isomargin.tiers(format('[{"notionalFloor": 0, "notionalCap": "%s", "maintMarginRatio": 0.004, "initialLeverage": 125}]', v)::jsonb)::text
           AS same_value
FROM unnest('{5e4,50000E+0,5000000000000000000000e-17,0.00000000000000000000005e27,123456789012345678,0.123456789012345678e18}'::text[]) v
ORDER BY v;
SELECT v AS value,
       pg_temp.state(format($f$SELECT isomargin.tiers('[{"notionalFloor": 0, "notionalCap": %s, "maintMarginRatio": 0.004, "initialLeverage": 125}]'::jsonb)$f$, v)) AS as_number,
       pg_temp.state(format($f$SELECT isomargin.tiers('[{"notionalFloor": 0, "notionalCap": "%s", "maintMarginRatio": 0.004, "initialLeverage": 125}]'::jsonb)$f$, v)) AS as_string
FROM unnest('{1e18,1000000000000000000.000,1234567890123456789e-1,1e-19,50000.0000000000000000001}'::text[]) v
ORDER BY v;

-- 8. Enforcement computes with the same engine: a position whose prices
-- would need a rounded product is refused when written (it was stored with
-- a NULL liquidation price, and never flagged), and one whose values numeric
-- holds gets the exact prices of the SQL functions.  (The refusal names no
-- figure, "result": enforcement names one only once the position is read.)
CREATE TABLE nl_instruments (symbol text PRIMARY KEY, kind isomargin.contract_kind NOT NULL,
                             contract_size numeric NOT NULL, mmr numeric NOT NULL, fee_rate numeric NOT NULL);
CREATE TABLE nl_marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE nl_positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                           entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO nl_instruments VALUES ('TINY', 'linear', 1e-16383, 0.000001, 0.0005),
                                  ('FINE', 'linear', 1e-2000, 0.000001, 0.0005);
INSERT INTO nl_marks VALUES ('TINY', 2546.83025), ('FINE', 2546.83025);
SELECT isomargin.enforce('nl_positions', 'nl_marks', 'nl_instruments') IS NOT NULL AS enforced;
SELECT symbol, pg_temp.try(format($q$INSERT INTO nl_positions VALUES (%s, %L, -0.4, 2546.83025, 92.46981)
                                      RETURNING coalesce(liquidation_price::text, 'NULL')$q$, n, symbol)) AS result
FROM (VALUES (1, 'TINY'), (2, 'FINE')) v(n, symbol)
ORDER BY n;
SELECT p.id, p.liquidation_price = isomargin.liquidation_price(p.size, p.entry_price, p.margin, i.mmr,
                                       i.contract_size, i.kind, i.fee_rate) AS same_as_sql,
       p.liquidation_price::text = pg_temp.ref_price(p.size, p.entry_price, p.margin, i.mmr + i.fee_rate,
                                                     i.contract_size, false, 0) AS equals_reference,
       p.status
FROM nl_positions p JOIN nl_instruments i USING (symbol) ORDER BY p.id;
SELECT isomargin.unenforce('nl_positions') IS NOT NULL AS unenforced;
DROP TABLE nl_positions, nl_marks, nl_instruments;
