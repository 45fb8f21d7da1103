-- Every figure of the core against a reference written here in plain SQL
-- from shared/domain/isolated-margin.md and the rounding rules of
-- src/margin.h, over a few thousand random positions: linear and inverse,
-- long, short and flat, fees, ticks, call ratios, and values far beyond the
-- int128 fast path.  The reference rounds with exact integer division
-- (div() and mod() on numeric), never numeric '/' (which rounds itself):
--   - a figure that needs a division is rounded once, to 16 decimals, up for
--     requirements (notional, initial and maintenance margin, margin ratio),
--     down for gains (unrealized PnL, equity);
--   - prices are rounded up for longs and down for shorts, to
--     max(8, scale of entry_price) decimals or to a whole tick;
--   - the maintenance check is exact.
SET extra_float_digits = 0;
SELECT setseed(0.271828);

-- n / d * 10^scale rounded to an integer toward +infinity (up) or -infinity,
-- times 10^-scale: a result with exactly `scale` decimals.
CREATE FUNCTION pg_temp.div_dir(n numeric, d numeric, scale int, up boolean) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT (div(n * ('1e' || scale)::numeric, d)
            + CASE WHEN mod(n * ('1e' || scale)::numeric, d) = 0 THEN 0
                   WHEN up AND (n > 0) = (d > 0) THEN 1
                   WHEN NOT up AND (n > 0) <> (d > 0) THEN -1
                   ELSE 0 END) * ('1e-' || scale)::numeric
$$;

-- A price num/den (> 0) rounded against the trader: up for a long, down for a
-- short, to `scale` decimals, or to a multiple of tick when tick > 0.
CREATE FUNCTION pg_temp.price_dir(num numeric, den numeric, is_long boolean, scale int, tick numeric)
RETURNS numeric LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN tick > 0 THEN pg_temp.div_dir(num, den * tick, 0, is_long) * tick
                ELSE pg_temp.div_dir(num, den, scale, is_long) END
$$;

-- Linear: N = |q|*cs*P, U = q*cs*(P - E), Q = M + U, IM = N(P)/L,
-- MM = N*(r + f).  Inverse: N = |q|*cs/P, U = q*cs*(1/E - 1/P), the rest as
-- linear; each inverse figure is written as one fraction and divided once.
CREATE FUNCTION pg_temp.ref_notional(inv boolean, q numeric, cs numeric, p numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN inv THEN pg_temp.div_dir(abs(q) * cs, p, 16, true) ELSE abs(q) * cs * p END
$$;
CREATE FUNCTION pg_temp.ref_pnl(inv boolean, q numeric, cs numeric, e numeric, p numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN inv THEN pg_temp.div_dir(q * cs * (p - e), e * p, 16, false) ELSE q * cs * (p - e) END
$$;
CREATE FUNCTION pg_temp.ref_equity(inv boolean, q numeric, cs numeric, e numeric, p numeric, m numeric)
RETURNS numeric LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN inv THEN pg_temp.div_dir(m * e * p + q * cs * (p - e), e * p, 16, false)
                ELSE m + q * cs * (p - e) END
$$;
CREATE FUNCTION pg_temp.ref_initial(inv boolean, q numeric, cs numeric, p numeric, l numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN inv THEN pg_temp.div_dir(abs(q) * cs, p * l, 16, true)
                ELSE pg_temp.div_dir(abs(q) * cs * p, l, 16, true) END
$$;
CREATE FUNCTION pg_temp.ref_maintenance(inv boolean, q numeric, cs numeric, p numeric, r numeric, f numeric)
RETURNS numeric LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN inv THEN pg_temp.div_dir(abs(q) * cs * (r + f), p, 16, true)
                ELSE abs(q) * cs * p * (r + f) END
$$;
-- Q and MM multiplied by E*P (> 0) for inverse contracts: exact, same signs.
CREATE FUNCTION pg_temp.ref_q(inv boolean, q numeric, cs numeric, e numeric, p numeric, m numeric)
RETURNS numeric LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN inv THEN m * e * p + q * cs * (p - e) ELSE m + q * cs * (p - e) END
$$;
CREATE FUNCTION pg_temp.ref_mm(inv boolean, q numeric, cs numeric, e numeric, p numeric, r numeric, f numeric)
RETURNS numeric LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN inv THEN abs(q) * cs * (r + f) * e ELSE abs(q) * cs * p * (r + f) END
$$;
-- R = MM/Q, NULL when Q <= 0; 0 for a flat position.
CREATE FUNCTION pg_temp.ref_ratio(inv boolean, q numeric, cs numeric, e numeric, p numeric, m numeric,
                                  r numeric, f numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN q = 0 THEN 0
                WHEN pg_temp.ref_q(inv, q, cs, e, p, m) <= 0 THEN NULL
                ELSE pg_temp.div_dir(pg_temp.ref_mm(inv, q, cs, e, p, r, f),
                                     pg_temp.ref_q(inv, q, cs, e, p, m), 16, true) END
$$;
-- bankrupt if Q <= 0, liquidate if Q <= MM, margin_call if MM >= c*Q, else ok;
-- a flat position is ok.
CREATE FUNCTION pg_temp.ref_status(inv boolean, q numeric, cs numeric, e numeric, p numeric, m numeric,
                                   r numeric, f numeric, c numeric) RETURNS isomargin.margin_status
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN q = 0 THEN 'ok'
                WHEN qq <= 0 THEN 'bankrupt'
                WHEN qq <= mm THEN 'liquidate'
                WHEN mm >= c * qq THEN 'margin_call'
                ELSE 'ok' END::isomargin.margin_status
    FROM (SELECT pg_temp.ref_q(inv, q, cs, e, p, m) AS qq, pg_temp.ref_mm(inv, q, cs, e, p, r, f) AS mm) x
$$;
-- The price where c*Q = MM (c = 1: liquidation; r = f = 0, c = 1: bankruptcy)
-- as num/den:
--   linear:  (c*q*cs*E - c*M) / (c*q*cs - |q|*cs*(r + f))
--   inverse: (c*q*cs + |q|*cs*(r + f)) / (c*(M + q*cs/E)), times E/E
-- NULL for a flat position, when c <= r + f (the ratio never crosses c the
-- usual way), or when there is no positive solution.
CREATE FUNCTION pg_temp.ref_threshold(inv boolean, q numeric, cs numeric, e numeric, m numeric,
                                      r numeric, f numeric, c numeric, tick numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN q = 0 OR c <= r + f OR den = 0 OR sign(num) * sign(den) <= 0 THEN NULL
                ELSE pg_temp.price_dir(num, den, q > 0, greatest(8, scale(e)), tick) END
    FROM (SELECT CASE WHEN inv THEN e * (c * q * cs + abs(q) * cs * (r + f)) ELSE c * q * cs * e - c * m END AS num,
                 CASE WHEN inv THEN c * (m * e + q * cs) ELSE c * q * cs - abs(q) * cs * (r + f) END AS den) x
$$;
CREATE FUNCTION pg_temp.ref_bankruptcy(inv boolean, q numeric, cs numeric, e numeric, m numeric, tick numeric)
RETURNS numeric LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN q = 0 OR sign(num) * sign(den) <= 0 THEN NULL
                ELSE pg_temp.price_dir(num, den, q > 0, greatest(8, scale(e)), tick) END
    FROM (SELECT CASE WHEN inv THEN e * q * cs ELSE q * cs * e - m END AS num,
                 CASE WHEN inv THEN m * e + q * cs ELSE q * cs END AS den) x
$$;

-- The reference against the worked examples of the domain reference first,
-- so that it is itself checked before it checks anything.
SELECT pg_temp.ref_threshold(false, 1, 1, 30000, 3000, 0.004, 0, 1, 0) AS lp1,
       pg_temp.ref_threshold(false, -2, 1, 30000, 6000, 0.004, 0, 1, 0) AS lp2,
       pg_temp.ref_threshold(false, 0.5, 1, 2500.25, 250, 0.005, 0.0006, 1, 0) AS lp3,
       pg_temp.ref_threshold(true, 100, 100, 40000, 0.05, 0.005, 0, 1, 0) AS lp4,
       pg_temp.ref_threshold(true, -100, 100, 40000, 0.05, 0.005, 0, 1, 0) AS lp5,
       pg_temp.ref_threshold(false, 1, 1, 100, 150, 0.01, 0, 1, 0) AS lp6;
SELECT pg_temp.ref_bankruptcy(false, 1, 1, 30000, 3000, 0) AS bp1,
       pg_temp.ref_bankruptcy(false, -2, 1, 30000, 6000, 0) AS bp2,
       pg_temp.ref_bankruptcy(false, 0.5, 1, 2500.25, 250, 0) AS bp3,
       pg_temp.ref_bankruptcy(true, 100, 100, 40000, 0.05, 0) AS bp4,
       pg_temp.ref_bankruptcy(true, -100, 100, 40000, 0.05, 0) AS bp5,
       pg_temp.ref_bankruptcy(false, 1, 1, 100, 150, 0) AS bp6;
SELECT pg_temp.ref_threshold(false, 1, 1, 30000, 3000, 0.004, 0, 0.8, 0) AS mcp1,
       pg_temp.ref_threshold(false, -2, 1, 30000, 6000, 0.004, 0, 0.8, 0) AS mcp2,
       pg_temp.ref_threshold(true, 100, 100, 40000, 0.05, 0.005, 0, 0.8, 0) AS mcp4,
       pg_temp.ref_threshold(true, -100, 100, 40000, 0.05, 0.005, 0, 0.8, 0) AS mcp5;

-- Random inputs: d digits, the first non-zero, `frac` of them after the point.
CREATE FUNCTION pg_temp.rand_num(d int, frac int) RETURNS numeric
LANGUAGE sql VOLATILE AS $$
    SELECT (string_agg(CASE WHEN i = 1 THEN 1 + floor(random() * 9)::int
                            ELSE floor(random() * 10)::int END::text, '' ORDER BY i)
            || 'e-' || frac)::numeric
    FROM generate_series(1, d) i
$$;
CREATE FUNCTION pg_temp.rand_int(lo int, hi int) RETURNS int
LANGUAGE sql VOLATILE AS $$ SELECT lo + floor(random() * (hi - lo + 1))::int $$;
CREATE FUNCTION pg_temp.pick(a numeric[]) RETURNS numeric
LANGUAGE sql VOLATILE AS $$ SELECT a[1 + floor(random() * array_length(a, 1))::int] $$;

CREATE TEMP TABLE pos (
    id int PRIMARY KEY, class text, kind isomargin.contract_kind, q numeric, cs numeric, e numeric,
    p numeric, m numeric, r numeric, f numeric, c numeric, tick numeric, l numeric);

-- Sizes, prices and margins by class:
--   linear: 1,200 positions, sizes to 999.9999, prices to 99,999.9999;
--   inverse: 800, whole contracts of 1, 10 or 100 quote units;
--   many decimals: 400, prices with 9 to 30 decimals, sizes with 8;
--   huge: 400, sizes around 1e25 and prices with 30 decimals (numeric
--     fallback inside decimal.c), margins to 1e32;
--   flat: 200 positions of size 0 or 0.000.
-- The margin is a random fraction (0.3% to 100%; for 10% of them 100% to 200%) of the
-- entry notional; the mark is 50% to 150% of the entry price.
INSERT INTO pos (id, class, kind, q, cs, e)
SELECT i, class,
       CASE WHEN class = 'linear' THEN 'linear'
            WHEN class = 'inverse' THEN 'inverse'
            WHEN random() < 0.5 THEN 'linear' ELSE 'inverse' END::isomargin.contract_kind,
       CASE class
           WHEN 'flat' THEN pg_temp.pick('{0, 0.000}')
           ELSE (CASE WHEN random() < 0.5 THEN -1 ELSE 1 END) *
                CASE class
                    WHEN 'linear' THEN pg_temp.rand_num(pg_temp.rand_int(1, 7), pg_temp.rand_int(0, 4))
                    WHEN 'inverse' THEN pg_temp.rand_num(pg_temp.rand_int(1, 5), 0)
                    WHEN 'many decimals' THEN pg_temp.rand_num(pg_temp.rand_int(1, 12), 8)
                    ELSE pg_temp.rand_num(pg_temp.rand_int(24, 36), pg_temp.rand_int(0, 10))
                END
       END,
       CASE class
           WHEN 'linear' THEN pg_temp.pick('{1, 1, 1, 0.001, 0.01, 10}')
           WHEN 'inverse' THEN pg_temp.pick('{1, 10, 100, 100}')
           ELSE pg_temp.pick('{1, 100, 0.001}')
       END,
       CASE class
           WHEN 'linear' THEN pg_temp.rand_num(pg_temp.rand_int(1, 9), pg_temp.rand_int(0, 4))
           WHEN 'inverse' THEN pg_temp.rand_num(pg_temp.rand_int(4, 7), pg_temp.rand_int(0, 2))
           WHEN 'many decimals' THEN pg_temp.rand_num(pg_temp.rand_int(10, 33), pg_temp.rand_int(9, 30))
           WHEN 'huge' THEN pg_temp.rand_num(pg_temp.rand_int(31, 36), 30)
           ELSE pg_temp.rand_num(pg_temp.rand_int(1, 9), pg_temp.rand_int(0, 8))
       END
FROM generate_series(1, 3000) i,
     LATERAL (SELECT CASE WHEN i <= 1200 THEN 'linear' WHEN i <= 2000 THEN 'inverse'
                          WHEN i <= 2400 THEN 'many decimals' WHEN i <= 2800 THEN 'huge'
                          ELSE 'flat' END AS class) k
ORDER BY i;

UPDATE pos SET
    m = round(CASE WHEN kind = 'linear' THEN abs(q) * cs * e ELSE abs(q) * cs / e END
              * CASE WHEN random() < 0.1 THEN 1 + random() ELSE power(10, -2.5 * random()) END::numeric,
              CASE WHEN class = 'huge' THEN pg_temp.rand_int(0, 5) ELSE pg_temp.rand_int(0, 10) END)
            + CASE WHEN class = 'flat' THEN pg_temp.pick('{0, 0, 1, 12.5}') ELSE 0 END,
    p = round(e * (0.5 + random())::numeric, scale(e)) + ('1e-' || scale(e))::numeric,
    r = pg_temp.pick('{0, 0.004, 0.005, 0.01, 0.025, 0.1, 0.5}')
        + CASE WHEN random() < 0.3 THEN round(random()::numeric * 0.2, 6) ELSE 0 END,
    f = pg_temp.pick('{0, 0, 0, 0.0004, 0.0006, 0.00075, 0.001}'),
    tick = CASE WHEN random() < 0.65 THEN 0
                ELSE pg_temp.pick('{0.01, 0.5, 1, 7, 25, 0.0005, 0.00000001, 1e-30}') END,
    l = CASE WHEN random() < 0.1 THEN NULL ELSE pg_temp.pick('{1, 2, 3, 10, 20, 33.3, 50, 100, 125}') END;
-- margin_call_ratio must exceed mmr + fee_rate (core_errors pins the error);
-- some ratios sit just above it.
UPDATE pos SET c = CASE WHEN random() < 0.6 THEN 0.8
                        WHEN random() < 0.25 THEN 1
                        WHEN random() < 0.2 THEN r + f + 0.0001
                        ELSE least(1, r + f + 0.0001 + round(random()::numeric * (1 - r - f), 4)) END;

-- What the data covers (all t).
SELECT count(*) AS positions,
       bool_and(r + f < 1 AND c > 0 AND c <= 1 AND p > 0 AND e > 0 AND m >= 0) AS inputs_valid,
       count(*) FILTER (WHERE kind = 'linear' AND q > 0) > 300 AS linear_longs,
       count(*) FILTER (WHERE kind = 'linear' AND q < 0) > 300 AS linear_shorts,
       count(*) FILTER (WHERE kind = 'inverse' AND q > 0) > 300 AS inverse_longs,
       count(*) FILTER (WHERE kind = 'inverse' AND q < 0) > 300 AS inverse_shorts,
       count(*) FILTER (WHERE tick > 0) > 500 AS with_tick,
       count(*) FILTER (WHERE f > 0) > 500 AS with_fee,
       count(*) FILTER (WHERE c <> 0.8) > 500 AS other_call_ratios,
       count(*) FILTER (WHERE c <= r + f + 0.0001) > 20 AS call_ratio_just_above_mmr_fee,
       count(*) FILTER (WHERE scale(e) > 8) > 500 AS entry_scale_over_8,
       count(*) FILTER (WHERE abs(q * cs * e * p) * ('1e' || (scale(q) + scale(cs) + scale(e) + scale(p)))::numeric >= 1e38) > 500
           AS products_beyond_int128
FROM pos;

-- Every figure, from the C functions and from the reference.
CREATE TEMP TABLE fig AS
SELECT pos.*,
       isomargin.notional(q, p, cs, kind) AS notional,
       pg_temp.ref_notional(kind = 'inverse', q, cs, p) AS ref_notional,
       isomargin.unrealized_pnl(q, e, p, cs, kind) AS pnl,
       pg_temp.ref_pnl(kind = 'inverse', q, cs, e, p) AS ref_pnl,
       isomargin.equity(q, e, p, m, cs, kind) AS equity,
       pg_temp.ref_equity(kind = 'inverse', q, cs, e, p, m) AS ref_equity,
       isomargin.initial_margin(q, p, coalesce(l, 1), cs, kind) AS im,
       pg_temp.ref_initial(kind = 'inverse', q, cs, p, coalesce(l, 1)) AS ref_im,
       isomargin.maintenance_margin(q, p, r, cs, kind, f) AS mm,
       pg_temp.ref_maintenance(kind = 'inverse', q, cs, p, r, f) AS ref_mm,
       isomargin.margin_ratio(q, e, p, m, r, cs, kind, f) AS ratio,
       pg_temp.ref_ratio(kind = 'inverse', q, cs, e, p, m, r, f) AS ref_ratio,
       isomargin.margin_status(q, e, p, m, r, cs, kind, f, c) AS status,
       pg_temp.ref_status(kind = 'inverse', q, cs, e, p, m, r, f, c) AS ref_status,
       isomargin.liquidation_price(q, e, m, r, cs, kind, f, tick) AS lp,
       pg_temp.ref_threshold(kind = 'inverse', q, cs, e, m, r, f, 1, tick) AS ref_lp,
       isomargin.margin_call_price(q, e, m, r, cs, kind, f, c, tick) AS mcp,
       pg_temp.ref_threshold(kind = 'inverse', q, cs, e, m, r, f, c, tick) AS ref_mcp,
       isomargin.bankruptcy_price(q, e, m, cs, kind, tick) AS bp,
       pg_temp.ref_bankruptcy(kind = 'inverse', q, cs, e, m, tick) AS ref_bp,
       isomargin.assess(q, e, p, m, r, cs, kind, f, c, tick, l) AS a
FROM pos;

-- Mismatches, compared as text (same digits, same display scale): all 0.
SELECT figure, count(*) AS positions, count(*) FILTER (WHERE got IS DISTINCT FROM want) AS mismatches
FROM fig, LATERAL (VALUES
    (1, 'notional', notional::text, ref_notional::text),
    (2, 'unrealized_pnl', pnl::text, ref_pnl::text),
    (3, 'equity', equity::text, ref_equity::text),
    (4, 'initial_margin', im::text, ref_im::text),
    (5, 'maintenance_margin', mm::text, ref_mm::text),
    (6, 'margin_ratio', ratio::text, ref_ratio::text),
    (7, 'margin_status', status::text, ref_status::text),
    (8, 'liquidation_price', lp::text, ref_lp::text),
    (9, 'margin_call_price', mcp::text, ref_mcp::text),
    (10, 'bankruptcy_price', bp::text, ref_bp::text),
    (11, 'assess', a::text,
     ROW(ref_notional, ref_pnl, ref_equity,
         CASE WHEN l IS NOT NULL THEN pg_temp.ref_initial(kind = 'inverse', q, cs, e, l) END,
         ref_mm, ref_ratio, ref_status, ref_lp, ref_mcp, ref_bp)::isomargin.assessment::text)
) v(n, figure, got, want)
GROUP BY n, figure ORDER BY n;

-- The first few mismatches, if any (none expected).
SELECT id, class, kind, q, cs, e, p, m, r, f, c, tick, figure, got, want
FROM fig, LATERAL (VALUES
    ('notional', notional::text, ref_notional::text), ('unrealized_pnl', pnl::text, ref_pnl::text),
    ('equity', equity::text, ref_equity::text), ('initial_margin', im::text, ref_im::text),
    ('maintenance_margin', mm::text, ref_mm::text), ('margin_ratio', ratio::text, ref_ratio::text),
    ('margin_status', status::text, ref_status::text), ('liquidation_price', lp::text, ref_lp::text),
    ('margin_call_price', mcp::text, ref_mcp::text), ('bankruptcy_price', bp::text, ref_bp::text)
) v(figure, got, want)
WHERE got IS DISTINCT FROM want
ORDER BY id, figure LIMIT 10;

-- How often each case occurs (so that a check above is not vacuous).
SELECT count(*) FILTER (WHERE lp IS NOT NULL) > 1500 AS lps,
       count(*) FILTER (WHERE lp IS NULL AND q <> 0) > 50 AS never_liquidated,
       count(*) FILTER (WHERE mcp IS NOT NULL AND c <= r + f + 0.0001) > 20 AS mcp_near_mmr_fee,
       count(*) FILTER (WHERE bp IS NOT NULL) > 1500 AS bps,
       count(*) FILTER (WHERE ratio IS NULL) > 100 AS ratio_null,
       count(DISTINCT status) = 4 AS every_status,
       count(*) FILTER (WHERE class = 'huge' AND lp IS NOT NULL) > 100 AS huge_lps,
       count(*) FILTER (WHERE lp = 0) > 0 AS short_lps_rounded_to_zero
FROM fig;

-- Rounding direction, checked by the C functions themselves at the returned
-- price and one unit (a tick, or 10^-scale) toward the trader:
--   conservative: at the returned price the position is not yet past the
--     threshold, unless the price is the exact root;
--   tight: one unit further it is;
--   at an exact root the check flags the position (the comparisons include
--   equality).
-- For longs "further" is lower, for shorts higher.  A price rounded the other
-- way fails the first check whenever the root is not exact.  A short's price
-- below one tick rounds down to 0 (conservative: every mark is at or above
-- it); there is no status at 0 to check.
CREATE TEMP TABLE dir AS
SELECT id, kind, q, cs, e, m, r, f, c, tick, figure, price, exact, price + side * unit AS beyond,
       CASE WHEN price > 0 THEN isomargin.margin_status(q, e, price, m, r, cs, kind, f, c) END AS at_price,
       CASE WHEN price + side * unit > 0
            THEN isomargin.margin_status(q, e, price + side * unit, m, r, cs, kind, f, c) END AS at_beyond,
       threshold
FROM (SELECT fig.*, CASE WHEN q > 0 THEN -1 ELSE 1 END AS side,
             CASE WHEN tick > 0 THEN tick ELSE ('1e-' || greatest(8, scale(e)))::numeric END AS unit
      FROM fig) f,
     LATERAL (VALUES
        ('liquidation_price', lp, 'liquidate'::isomargin.margin_status,
         pg_temp.ref_q(kind = 'inverse', q, cs, e, lp, m) = pg_temp.ref_mm(kind = 'inverse', q, cs, e, lp, r, f)),
        ('margin_call_price', mcp, 'margin_call',
         c * pg_temp.ref_q(kind = 'inverse', q, cs, e, mcp, m) = pg_temp.ref_mm(kind = 'inverse', q, cs, e, mcp, r, f)),
        ('bankruptcy_price', bp, 'bankrupt',
         pg_temp.ref_q(kind = 'inverse', q, cs, e, bp, m) = 0)
     ) v(figure, price, threshold, exact)
WHERE price IS NOT NULL;

SELECT figure, count(*) > 1000 AS many_prices, count(*) FILTER (WHERE exact) > 0 AS some_exact_roots,
       count(*) FILTER (WHERE at_price >= threshold AND NOT exact) AS not_conservative,
       count(*) FILTER (WHERE at_price < threshold AND exact) AS exact_root_not_flagged,
       count(*) FILTER (WHERE at_beyond < threshold) AS not_tight
FROM dir GROUP BY figure ORDER BY figure;

-- The checks can fail: a price one unit toward the trader (what rounding the
-- wrong way returns for an inexact root) is past the threshold, every time.
SELECT figure, count(*) > 1000 AS many_inexact,
       bool_and(isomargin.margin_status(q, e, beyond, m, r, cs, kind, f, c) >= threshold) AS flipped_rounding_caught
FROM dir WHERE NOT exact AND beyond > 0
GROUP BY figure ORDER BY figure;

-- The same figures through PL/pgSQL variables (one expression state per
-- transaction, arguments changing from call to call) as from the table.
CREATE FUNCTION pg_temp.plpgsql_figures(q numeric, e numeric, p numeric, m numeric, r numeric, cs numeric,
                                        kind isomargin.contract_kind, f numeric, c numeric, tick numeric)
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN format('%s|%s|%s|%s|%s|%s', isomargin.notional(q, p, cs, kind), isomargin.maintenance_margin(q, p, r, cs, kind, f),
                     isomargin.margin_status(q, e, p, m, r, cs, kind, f, c),
                     isomargin.liquidation_price(q, e, m, r, cs, kind, f, tick),
                     isomargin.margin_call_price(q, e, m, r, cs, kind, f, c, tick),
                     isomargin.bankruptcy_price(q, e, m, cs, kind, tick));
END
$$;
SELECT count(*) AS positions,
       count(*) FILTER (WHERE pg_temp.plpgsql_figures(q, e, p, m, r, cs, kind, f, c, tick)
                              IS DISTINCT FROM format('%s|%s|%s|%s|%s|%s', notional, mm, status, lp, mcp, bp)) AS mismatches
FROM fig;

-- The smallest cases: the contract size, then the mmr, change from one call
-- to the next (2 and 3; 27108.43373494 and 54000.00000000).
CREATE FUNCTION pg_temp.notional_of(cs numeric) RETURNS numeric LANGUAGE plpgsql AS
$$ BEGIN RETURN isomargin.notional(size => 1, price => 1, contract_size => cs); END $$;
SELECT cs, pg_temp.notional_of(cs) FROM (VALUES (2), (3)) v(cs);
CREATE FUNCTION pg_temp.lp_of(r numeric) RETURNS numeric LANGUAGE plpgsql AS
$$ BEGIN RETURN isomargin.liquidation_price(1, 30000, 3000, r); END $$;
SELECT r, pg_temp.lp_of(r) FROM (VALUES (0.004), (0.5)) v(r);

-- A few positions printed in full, checked by hand with exact fractions:
-- a linear long with fee and tick, an inverse short, and a huge linear
-- short whose every product leaves the int128 range.
SELECT * FROM isomargin.assess(size => 0.5, entry_price => 2500.25, mark_price => 2100.1, margin => 250,
                               mmr => 0.005, fee_rate => 0.0006, tick_size => 0.05, leverage => 3);
SELECT * FROM isomargin.assess(size => -37, entry_price => 61234.5, mark_price => 65000, margin => 0.0123,
                               mmr => 0.004, contract_size => 100, kind => 'inverse', margin_call_ratio => 0.7);
SELECT * FROM isomargin.assess(size => -12345678901234567890123.45, entry_price => 0.000123456789012345678901234567,
                               mark_price => 0.000125, margin => 100000000000000000,
                               mmr => 0.01, fee_rate => 0.0005, leverage => 20);
