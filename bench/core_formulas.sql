-- bench/core_formulas.sql: the competitors of isomargin's C functions in the
-- core throughput benchmark, each computing the same numbers:
--   * the formulas written as plain SQL (numeric arithmetic, exact rounding
--     with div() and mod()), in two shapes: one expression per row, and the
--     same with the shared terms computed once per row in a subquery;
--   * the same formulas as PL/pgSQL functions.
-- bench.variants lists every timed query as a row source (id, v) over the
-- positions table; bench/core_run.sql wraps each in one aggregate, checks
-- that the competitors agree with the C functions on every row, and times them.
--
-- Formulas: doc/formulas.md.  With s = size * contract_size, a = |s|,
-- r' = mmr + fee_rate, c = margin_call_ratio, each price is num / den for
--   linear:  num = c*s*E - c*M,      den = c*s - a*r'
--   inverse: num = E*(c*s + a*r'),   den = c*(M*E + s)
-- (c = 1: liquidation price; r' = 0, c = 1: bankruptcy price), NULL unless
-- num / den > 0, rounded to 8 decimals up for a long and down for a short.
-- The C functions round to max(8, scale of entry_price) decimals; the book of
-- bench/core_load.sql has entry prices of at most 6 decimals.
-- Amounts that need a division (inverse contracts, initial margin, margin
-- ratio) are rounded to 16 decimals: requirements up, gains down.

\set ON_ERROR_STOP on

DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;

-- Exact rounding of a quotient n/d (d > 0 unless stated) in plain SQL:
-- div() truncates toward zero, mod() has the sign of n.
--   floor(n/d) = div(n, d) - (mod(n, d) < 0)
--   ceil(n/d)  = div(n, d) + (mod(n, d) > 0)
--   for a positive quotient with d of either sign: floor = div, ceil = div + (mod <> 0)

-- The rounding of bench.price_plpgsql below, written out here on purpose:
-- a nested PL/pgSQL call per row would charge the PL/pgSQL competitor for a
-- call a careful author would not make.
CREATE FUNCTION bench.liquidation_price_plpgsql(
    size numeric, entry_price numeric, margin numeric, mmr numeric,
    contract_size numeric, kind isomargin.contract_kind, fee_rate numeric)
RETURNS numeric
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
    s numeric := size * contract_size;
    a numeric := abs(s);
    n numeric;
    d numeric;
BEGIN
    IF kind = 'linear' THEN
        n := s * entry_price - margin;
        d := s - a * (mmr + fee_rate);
    ELSE
        n := entry_price * (s + a * (mmr + fee_rate));
        d := margin * entry_price + s;
    END IF;
    IF d = 0 OR n = 0 OR (n > 0) <> (d > 0) THEN
        RETURN NULL;
    END IF;
    n := n * 100000000;
    IF size > 0 AND mod(n, d) <> 0 THEN
        RETURN (div(n, d) + 1) * 0.00000001;
    END IF;
    RETURN div(n, d) * 0.00000001;
END
$$;

-- num/den > 0 rounded to 8 decimals, up for a long; NULL when not positive.
CREATE FUNCTION bench.price_plpgsql(n numeric, d numeric, side int)
RETURNS numeric
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
BEGIN
    IF d = 0 OR n = 0 OR (n > 0) <> (d > 0) THEN
        RETURN NULL;
    END IF;
    n := n * 100000000;
    IF side > 0 AND mod(n, d) <> 0 THEN
        RETURN (div(n, d) + 1) * 0.00000001;
    END IF;
    RETURN div(n, d) * 0.00000001;
END
$$;

-- n/d (d > 0) rounded to 16 decimals, up or down.
CREATE FUNCTION bench.quotient_plpgsql(n numeric, d numeric, up boolean)
RETURNS numeric
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
    r numeric;
BEGIN
    n := n * 10000000000000000;
    r := mod(n, d);
    IF up AND r > 0 THEN
        RETURN (div(n, d) + 1) * 0.0000000000000001;
    ELSIF NOT up AND r < 0 THEN
        RETURN (div(n, d) - 1) * 0.0000000000000001;
    END IF;
    RETURN div(n, d) * 0.0000000000000001;
END
$$;

CREATE FUNCTION bench.assess_plpgsql(
    size numeric, entry_price numeric, mark_price numeric, margin numeric, mmr numeric,
    contract_size numeric, kind isomargin.contract_kind, fee_rate numeric,
    margin_call_ratio numeric, leverage numeric)
RETURNS isomargin.assessment
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    s numeric := size * contract_size;
    a numeric := abs(s);
    rf numeric := mmr + fee_rate;
    c numeric := margin_call_ratio;
    side int := sign(size);
    ep numeric;
    qn numeric;
    mmn numeric;
    r isomargin.assessment;
BEGIN
    IF size IS NULL OR entry_price IS NULL OR mark_price IS NULL OR margin IS NULL
       OR mmr IS NULL OR contract_size IS NULL OR kind IS NULL OR fee_rate IS NULL
       OR margin_call_ratio IS NULL THEN
        RETURN NULL;
    END IF;
    IF kind = 'linear' THEN
        qn := margin + s * (mark_price - entry_price);
        mmn := a * mark_price * rf;
        r.notional := a * mark_price;
        r.unrealized_pnl := s * (mark_price - entry_price);
        r.equity := qn;
        r.initial_margin := bench.quotient_plpgsql(a * entry_price, leverage, true);
        r.maintenance_margin := mmn;
        r.liquidation_price := bench.price_plpgsql(s * entry_price - margin, s - a * rf, side);
        IF c > rf THEN
            r.margin_call_price := bench.price_plpgsql(c * s * entry_price - c * margin,
                                                       c * s - a * rf, side);
        END IF;
        r.bankruptcy_price := bench.price_plpgsql(s * entry_price - margin, s, side);
    ELSE
        ep := entry_price * mark_price;
        qn := margin * ep + s * (mark_price - entry_price);
        mmn := entry_price * (a * rf);
        r.notional := bench.quotient_plpgsql(a, mark_price, true);
        r.unrealized_pnl := bench.quotient_plpgsql(s * (mark_price - entry_price), ep, false);
        r.equity := bench.quotient_plpgsql(qn, ep, false);
        r.initial_margin := bench.quotient_plpgsql(a, entry_price * leverage, true);
        r.maintenance_margin := bench.quotient_plpgsql(mmn, ep, true);
        r.liquidation_price := bench.price_plpgsql(entry_price * (s + a * rf),
                                                   margin * entry_price + s, side);
        IF c > rf THEN
            r.margin_call_price := bench.price_plpgsql(entry_price * (c * s + a * rf),
                                                       c * (margin * entry_price + s), side);
        END IF;
        r.bankruptcy_price := bench.price_plpgsql(entry_price * s, margin * entry_price + s, side);
    END IF;
    IF side = 0 THEN
        r.margin_ratio := 0;
        r.status := 'ok';
        RETURN r;
    END IF;
    IF qn > 0 THEN
        r.margin_ratio := bench.quotient_plpgsql(mmn, qn, true);
    END IF;
    r.status := CASE WHEN qn <= 0 THEN 'bankrupt'
                     WHEN qn <= mmn THEN 'liquidate'
                     WHEN mmn >= c * qn THEN 'margin_call'
                     ELSE 'ok' END;
    RETURN r;
END
$$;

-- The timed queries.  grp: which figure; baseline: the bare scan its ratio is
-- taken against (same aggregate); wrapper: the aggregate over v.
CREATE TABLE bench.variants (
    ord         int PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    grp         text NOT NULL,          -- 'scan', 'liquidation_price', 'assess', 'tiers', 'whatif', 'whatif_row', 'figures', 'assess_once', 'dynamic'
    impl        text NOT NULL,          -- 'bare', 'c', 'sql', 'plpgsql'
    wrapper     text NOT NULL,          -- aggregate applied to v
    rowsource   text NOT NULL           -- SELECT id, <figure> AS v FROM ... positions ...
);

-- One timed pass of every variant, `reps` times round-robin (each repetition
-- runs each query once, in order, so that a slow spell of the machine hits
-- every query alike): core_run.sql's and core_ab_round.sql's timing.
CREATE FUNCTION bench.time_variants(reps int)
RETURNS TABLE (rep int, name text, ms float8)
LANGUAGE plpgsql AS $fn$
DECLARE
    v record;
    t0 timestamptz;
BEGIN
    FOR r IN 1 .. reps LOOP
        FOR v IN SELECT * FROM bench.variants AS bv ORDER BY bv.ord LOOP
            t0 := clock_timestamp();
            EXECUTE format('SELECT %s(v) FROM (%s) AS q', v.wrapper, v.rowsource);
            rep := r;
            name := v.name;
            ms := 1000 * extract(epoch FROM clock_timestamp() - t0);
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$fn$;

INSERT INTO bench.variants VALUES
(10, 'bare scan: sum(size)', 'scan', 'bare', 'sum',
 $q$SELECT id, size AS v FROM positions$q$),

(11, 'bare scan: count(size)', 'scan', 'bare', 'count',
 $q$SELECT id, size AS v FROM positions$q$),
-- the bare scan once more, last in each round: how far the machine drifts
-- between a round's first query and its last (each query's ratio is taken
-- against the bare scan at the round's start)
(999, 'bare scan again, last in the round: sum(size)', 'scan', 'drift', 'sum',
 $q$SELECT id, size AS v FROM positions$q$),

(20, 'liquidation_price: C', 'liquidation_price', 'c', 'sum',
 $q$SELECT id, isomargin.liquidation_price(size, entry_price, margin, mmr,
                                          contract_size, kind, fee_rate) AS v
    FROM positions$q$),

-- One expression; the planner evaluates num and den once per use.
(21, 'liquidation_price: plain SQL, one expression', 'liquidation_price', 'sql', 'sum',
 $q$SELECT id,
        CASE WHEN kind = 'linear' THEN
            CASE WHEN size > 0 AND size * contract_size * entry_price - margin > 0 THEN
                     (div((size * contract_size * entry_price - margin) * 100000000,
                          size * contract_size - abs(size) * contract_size * (mmr + fee_rate))
                      + CASE WHEN mod((size * contract_size * entry_price - margin) * 100000000,
                                      size * contract_size - abs(size) * contract_size * (mmr + fee_rate)) <> 0
                             THEN 1 ELSE 0 END) * 0.00000001
                 WHEN size < 0 THEN
                     div((size * contract_size * entry_price - margin) * 100000000,
                         size * contract_size - abs(size) * contract_size * (mmr + fee_rate)) * 0.00000001
            END
        ELSE
            CASE WHEN size > 0 THEN
                     (div(entry_price * (size * contract_size + abs(size) * contract_size * (mmr + fee_rate)) * 100000000,
                          margin * entry_price + size * contract_size)
                      + CASE WHEN mod(entry_price * (size * contract_size + abs(size) * contract_size * (mmr + fee_rate)) * 100000000,
                                      margin * entry_price + size * contract_size) <> 0
                             THEN 1 ELSE 0 END) * 0.00000001
                 WHEN size < 0 AND margin * entry_price + size * contract_size < 0 THEN
                     div(entry_price * (size * contract_size + abs(size) * contract_size * (mmr + fee_rate)) * 100000000,
                         margin * entry_price + size * contract_size) * 0.00000001
            END
        END AS v
    FROM positions$q$),

-- num and den computed once per row (OFFSET 0 keeps the subquery from being
-- flattened), then one general rounding expression.
(22, 'liquidation_price: plain SQL, terms once', 'liquidation_price', 'sql', 'sum',
 $q$SELECT id,
        CASE WHEN d <> 0 AND n <> 0 AND (n > 0) = (d > 0) THEN
            (div(n, d) + CASE WHEN size > 0 AND mod(n, d) <> 0 THEN 1 ELSE 0 END) * 0.00000001
        END AS v
    FROM (SELECT id, size,
                 CASE WHEN kind = 'linear'
                      THEN size * contract_size * entry_price - margin
                      ELSE entry_price * (size * contract_size + abs(size) * contract_size * (mmr + fee_rate))
                 END * 100000000 AS n,
                 CASE WHEN kind = 'linear'
                      THEN size * contract_size - abs(size) * contract_size * (mmr + fee_rate)
                      ELSE margin * entry_price + size * contract_size
                 END AS d
          FROM positions OFFSET 0) AS f$q$),

(23, 'liquidation_price: PL/pgSQL', 'liquidation_price', 'plpgsql', 'sum',
 $q$SELECT id, bench.liquidation_price_plpgsql(size, entry_price, margin, mmr,
                                              contract_size, kind, fee_rate) AS v
    FROM positions$q$),

(30, 'assess: C', 'assess', 'c', 'count',
 $q$SELECT id, isomargin.assess(size, entry_price, mark_price, margin, mmr, contract_size,
                               kind, fee_rate, 0.8, 0, leverage) AS v
    FROM positions$q$),

-- Three levels, each term computed once per row; the last builds the row.
(31, 'assess: plain SQL, terms once', 'assess', 'sql', 'count',
 $q$SELECT id, ROW(
        notional, unrealized_pnl, equity, initial_margin, maintenance_margin,
        CASE WHEN side = 0 THEN 0
             WHEN qn > 0 THEN (div(mmn * 10000000000000000, qn)
                               + CASE WHEN mod(mmn * 10000000000000000, qn) > 0 THEN 1 ELSE 0 END)
                              * 0.0000000000000001
        END,
        CASE WHEN side = 0 THEN 'ok'
             WHEN qn <= 0 THEN 'bankrupt'
             WHEN qn <= mmn THEN 'liquidate'
             WHEN mmn >= 0.8 * qn THEN 'margin_call'
             ELSE 'ok' END::isomargin.margin_status,
        CASE WHEN lp_d <> 0 AND lp_n <> 0 AND (lp_n > 0) = (lp_d > 0) THEN
            (div(lp_n, lp_d) + CASE WHEN side > 0 AND mod(lp_n, lp_d) <> 0 THEN 1 ELSE 0 END) * 0.00000001
        END,
        CASE WHEN 0.8 > rf AND mc_d <> 0 AND mc_n <> 0 AND (mc_n > 0) = (mc_d > 0) THEN
            (div(mc_n, mc_d) + CASE WHEN side > 0 AND mod(mc_n, mc_d) <> 0 THEN 1 ELSE 0 END) * 0.00000001
        END,
        CASE WHEN bp_d <> 0 AND bp_n <> 0 AND (bp_n > 0) = (bp_d > 0) THEN
            (div(bp_n, bp_d) + CASE WHEN side > 0 AND mod(bp_n, bp_d) <> 0 THEN 1 ELSE 0 END) * 0.00000001
        END)::isomargin.assessment AS v
    FROM (
        SELECT id, side, rf, qn, mmn,
               CASE WHEN lin THEN a * p ELSE
                   (div(a * 10000000000000000, p)
                    + CASE WHEN mod(a * 10000000000000000, p) > 0 THEN 1 ELSE 0 END) * 0.0000000000000001
               END AS notional,
               CASE WHEN lin THEN u ELSE
                   (div(u * 10000000000000000, ep)
                    - CASE WHEN mod(u * 10000000000000000, ep) < 0 THEN 1 ELSE 0 END) * 0.0000000000000001
               END AS unrealized_pnl,
               CASE WHEN lin THEN qn ELSE
                   (div(qn * 10000000000000000, ep)
                    - CASE WHEN mod(qn * 10000000000000000, ep) < 0 THEN 1 ELSE 0 END) * 0.0000000000000001
               END AS equity,
               (div(im_n * 10000000000000000, im_d)
                + CASE WHEN mod(im_n * 10000000000000000, im_d) > 0 THEN 1 ELSE 0 END) * 0.0000000000000001
                   AS initial_margin,
               CASE WHEN lin THEN mmn ELSE
                   (div(mmn * 10000000000000000, ep)
                    + CASE WHEN mod(mmn * 10000000000000000, ep) > 0 THEN 1 ELSE 0 END) * 0.0000000000000001
               END AS maintenance_margin,
               CASE WHEN lin THEN s * e - m ELSE e * (s + a * rf) END * 100000000 AS lp_n,
               CASE WHEN lin THEN s - a * rf ELSE m * e + s END AS lp_d,
               CASE WHEN lin THEN 0.8 * s * e - 0.8 * m ELSE e * (0.8 * s + a * rf) END * 100000000 AS mc_n,
               CASE WHEN lin THEN 0.8 * s - a * rf ELSE 0.8 * (m * e + s) END AS mc_d,
               CASE WHEN lin THEN s * e - m ELSE e * s END * 100000000 AS bp_n,
               CASE WHEN lin THEN s ELSE m * e + s END AS bp_d
        FROM (
            SELECT id, lin, side, s, a, rf, e, p, m, ep, u,
                   CASE WHEN lin THEN m + u ELSE m * ep + u END AS qn,
                   CASE WHEN lin THEN a * p * rf ELSE e * (a * rf) END AS mmn,
                   CASE WHEN lin THEN a * e ELSE a END AS im_n,
                   CASE WHEN lin THEN l ELSE e * l END AS im_d
            FROM (
                SELECT id, kind = 'linear' AS lin, sign(size) AS side,
                       size * contract_size AS s, abs(size * contract_size) AS a,
                       mmr + fee_rate AS rf, entry_price AS e, mark_price AS p, margin AS m,
                       leverage AS l, entry_price * mark_price AS ep,
                       size * contract_size * (mark_price - entry_price) AS u
                FROM positions OFFSET 0) AS t1
            OFFSET 0) AS t2
        OFFSET 0) AS t3$q$),

(32, 'assess: PL/pgSQL', 'assess', 'plpgsql', 'count',
 $q$SELECT id, bench.assess_plpgsql(size, entry_price, mark_price, margin, mmr, contract_size,
                                   kind, fee_rate, 0.8, leverage) AS v
    FROM positions$q$);
