-- The what-if figures at their boundaries and, over a book, against what they
-- promise: each answer does what it says and is the smallest (or largest)
-- that does, checked with the core figures or with exact arithmetic written
-- out in SQL (fractions cross-multiplied: no division).
\pset null '(null)'
SET max_parallel_workers_per_gather = 0;
SELECT setseed(0.23);
CREATE TEMP TABLE book AS
SELECT g AS id,
       CASE WHEN g % 3 = 0 THEN 'inverse' ELSE 'linear' END::isomargin.contract_kind AS kind,
       CASE WHEN g % 3 = 0 THEN 100 ELSE 0.001 END::numeric AS cs,
       round((CASE WHEN g % 2 = 0 THEN -1 ELSE 1 END * (1 + random() * 30000))::numeric, 0) AS q,
       round((20000 + random() * 20000)::numeric, 1) AS e,
       random() AS u1, random() AS u2,
       round((1 + random() * 99)::numeric, 0) AS lev,
       0.004 AS mmr, 0.0005 AS fee
FROM generate_series(1, 300) g;
ALTER TABLE book ADD COLUMN mark numeric, ADD COLUMN m numeric, ADD COLUMN target numeric,
    ADD COLUMN t isomargin.tiers;
UPDATE book SET mark = round(e * (0.95 + 0.1 * u1)::numeric, 1),
                target = round(e * (0.8 + 0.4 * u2)::numeric, 2),
                m = CASE WHEN kind = 'linear' THEN round(abs(q) * cs * e / lev, 2)
                         ELSE round(abs(q) * cs / e / lev, 8) END,
                t = CASE WHEN kind = 'linear'
                         THEN '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50; 100000..1000000 mmr=0.02 max_leverage=20}'
                         ELSE '{0..5 mmr=0.005 max_leverage=100; 5..10 mmr=0.01 max_leverage=50; 10..20 mmr=0.025 max_leverage=20; 20..50 mmr=0.05 max_leverage=10}'
                    END::isomargin.tiers;
-- D = E*P for an inverse contract, 1 for a linear one: the factor that makes
-- its figures exact (doc/formulas.md).
CREATE FUNCTION pg_temp.d(kind isomargin.contract_kind, e numeric, p numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN kind = 'inverse' THEN e * p ELSE 1 END $$;

-- top_up_to_ok: with the top-up the check at the mark says ok; with one unit
-- (10^-k, k = max(8, scale of margin)) less it does not.  0 exactly when ok.
SELECT rule, count(*) AS positions,
       count(*) FILTER (WHERE x > 0) AS topped_up,
       count(*) FILTER (WHERE after = 'ok') AS ok_after,
       count(*) FILTER (WHERE x > 0 AND less <> 'ok') AS not_ok_one_unit_less,
       count(*) FILTER (WHERE (x = 0) = (before = 'ok')) AS zero_iff_ok
FROM (SELECT 'flat' AS rule, x,
             isomargin.margin_status(q, e, mark, m, mmr, cs, kind, fee) AS before,
             isomargin.margin_status(q, e, mark, m + x, mmr, cs, kind, fee) AS after,
             isomargin.margin_status(q, e, mark, m + x - power(10::numeric, -greatest(8, scale(m))), mmr, cs, kind, fee) AS less
      FROM book, LATERAL (SELECT isomargin.top_up_to_ok(q, e, mark, m, mmr, cs, kind, fee) AS x) a
      UNION ALL
      SELECT 'tiers', x,
             isomargin.margin_status(q, e, mark, m, t, cs, kind, fee),
             isomargin.margin_status(q, e, mark, m + x, t, cs, kind, fee),
             isomargin.margin_status(q, e, mark, m + x - power(10::numeric, -greatest(8, scale(m))), t, cs, kind, fee)
      FROM book, LATERAL (SELECT isomargin.top_up_to_ok(q, e, mark, m, t, cs, kind, fee) AS x) a) s
GROUP BY rule ORDER BY rule;

-- top_up_for_liquidation_price: with the top-up the liquidation price is the
-- target (its decimals are within those liquidation_price prints) or on its
-- safe side; with no top-up it already was; a linear top-up is exact, so the
-- equity at the target is exactly the maintenance margin there.
SELECT rule, kind, count(*) AS positions,
       count(*) FILTER (WHERE x > 0) AS topped_up,
       count(*) FILTER (WHERE x > 0 AND lp_after = target) AS lp_is_target,
       count(*) FILTER (WHERE lp_after IS NULL OR sign(q) * (target - lp_after) >= 0) AS lp_on_safe_side,
       count(*) FILTER (WHERE x = 0 AND (lp_before IS NULL OR sign(q) * (target - lp_before) >= 0)) AS zero_and_already_safe,
       count(*) FILTER (WHERE kind = 'linear' AND x > 0 AND q_at_target = mm_at_target) AS equity_is_maintenance
FROM (SELECT 'flat' AS rule, kind, q, target, x,
             isomargin.liquidation_price(q, e, m, mmr, cs, kind, fee) AS lp_before,
             isomargin.liquidation_price(q, e, m + x, mmr, cs, kind, fee) AS lp_after,
             isomargin.equity(q, e, target, m + x, cs, kind) AS q_at_target,
             isomargin.maintenance_margin(q, target, mmr, cs, kind, fee) AS mm_at_target
      FROM book, LATERAL (SELECT isomargin.top_up_for_liquidation_price(q, e, m, target, mmr, cs, kind, fee) AS x) a
      UNION ALL
      SELECT 'tiers', kind, q, target, x,
             isomargin.liquidation_price(q, e, m, t, cs, kind, fee),
             isomargin.liquidation_price(q, e, m + x, t, cs, kind, fee),
             isomargin.equity(q, e, target, m + x, cs, kind),
             isomargin.maintenance_margin(q, target, t, cs, kind, fee)
      FROM book, LATERAL (SELECT isomargin.top_up_for_liquidation_price(q, e, m, target, t, cs, kind, fee) AS x) a) s
GROUP BY rule, kind ORDER BY rule, kind;

-- max_removable_margin x: after removing it the position keeps its initial
-- margin at the mark with unrealised profit not counted,
-- L*((M - x)*D + min(s*(P - E), 0)) >= a*E (inverse) or a*P (linear), and
-- stays above maintenance (the check says neither liquidate nor bankrupt);
-- 10^-16 more breaks one of the two, unless x is 0 or the whole margin.
CREATE TEMP TABLE removable AS
SELECT id, kind, q, e, mark, m, lev, cs, fee, t, x,
       isomargin.margin_status(q, e, mark, m - x, t, cs, kind, fee) AS status_after,
       isomargin.margin_status(q, e, mark, m - x - 1e-16, t, cs, kind, fee) AS status_more
FROM book, LATERAL (SELECT isomargin.max_removable_margin(q, e, mark, m, lev, t, cs, kind, fee) AS x) a;
CREATE FUNCTION pg_temp.keeps_initial(kind isomargin.contract_kind, q numeric, cs numeric, e numeric,
                                      p numeric, m numeric, lev numeric) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT lev * (m * pg_temp.d(kind, e, p) + least(q * cs * (p - e), 0))
           >= abs(q) * cs * CASE WHEN kind = 'inverse' THEN e ELSE p END
$$;
SELECT kind, count(*) AS positions, count(*) FILTER (WHERE x > 0) AS removable,
       count(*) FILTER (WHERE x > 0 AND pg_temp.keeps_initial(kind, q, cs, e, mark, m - x, lev)) AS keeps_initial,
       count(*) FILTER (WHERE x > 0 AND status_after IN ('ok', 'margin_call')) AS above_maintenance,
       count(*) FILTER (WHERE x > 0 AND (NOT pg_temp.keeps_initial(kind, q, cs, e, mark, m - x - 1e-16, lev)
                                         OR status_more NOT IN ('ok', 'margin_call'))) AS one_unit_more_breaks,
       count(*) FILTER (WHERE x = 0 AND NOT pg_temp.keeps_initial(kind, q, cs, e, mark, m - 1e-16, lev)) AS zero_and_nothing_free
FROM removable GROUP BY kind ORDER BY kind;
-- The maintenance bound at a leverage beyond 1/(mmr + fee): the only rows it binds.
-- (by initial margin: (3000*L - 30000)/L down to 16 decimals; equity less maintenance: 3000 - 30000*0.0046)
SELECT lev, isomargin.max_removable_margin(1, 30000, 30000, 3000, lev, 0.004, fee_rate => 0.0006) AS removable,
       div((3000 * lev - 30000) * 1e16, lev) * 1e-16 AS by_initial_margin,
       3000 - 30000 * 0.0046 AS equity_less_maintenance
FROM unnest(ARRAY[100, 217, 218, 1000]::numeric[]) lev ORDER BY lev;
-- A zero size frees the whole margin; a position in loss beyond its margin frees nothing.
SELECT isomargin.max_removable_margin(0, 30000, 31000, 123.45, 10, 0.004) AS closed,
       isomargin.max_removable_margin(1, 30000, 26000, 3000, 10, 0.004) AS bankrupt;

-- max_size: the initial margin and the opening fee of the size fit the
-- collateral, N/L + N*f <= C (as N*(1 + f*L) <= C*L), and within the
-- schedule's cap; one more lot does not fit one or the other.
CREATE TEMP TABLE sizing AS
SELECT b.id, b.kind, b.cs, b.mark, b.lev, b.fee, b.t, b.m AS c, l.lot,
       isomargin.max_size(b.m, b.mark, b.lev, b.t, b.cs, b.kind, b.fee, l.lot) AS q
FROM book b, unnest(ARRAY[0, 0.001, 1]::numeric[]) l(lot);
CREATE FUNCTION pg_temp.fits(kind isomargin.contract_kind, q numeric, cs numeric, p numeric,
                             c numeric, lev numeric, fee numeric, t isomargin.tiers) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    -- N = q*cs*P (linear) or q*cs/P (inverse), compared multiplied through by P
    SELECT CASE WHEN kind = 'linear'
                THEN q * cs * p * (1 + fee * lev) <= c * lev
                     AND q * cs * p <= coalesce(isomargin.max_notional(t, lev), -1)
                ELSE q * cs * (1 + fee * lev) <= c * lev * p
                     AND q * cs <= coalesce(isomargin.max_notional(t, lev), -1) * p END
$$;
SELECT kind, lot, count(*) AS positions,
       count(*) FILTER (WHERE pg_temp.fits(kind, q, cs, mark, c, lev, fee, t)) AS fits,
       count(*) FILTER (WHERE NOT pg_temp.fits(kind, q + CASE WHEN lot > 0 THEN lot ELSE 1e-16 END,
                                               cs, mark, c, lev, fee, t)) AS one_more_lot_does_not,
       count(*) FILTER (WHERE lot > 0 AND mod(q, lot) <> 0) AS off_the_lot
FROM sizing GROUP BY kind, lot ORDER BY kind, lot;
-- At the first bracket's leverage and one hundredth above it.
SELECT isomargin.max_size(1000, 20000, 100, t) AS at_first_bracket_leverage,
       isomargin.max_size(1000, 20000, 100.01, t) AS above
FROM book WHERE id = 1;

-- max_leverage_for_size at each bracket floor and one unit either side,
-- exactly (inverse: a/P against the floor without rounding a/P).
-- (linear: contract size 1 at price 1, so the size is the notional)
SELECT kind, q, p, isomargin.notional(q, p, cs, kind) AS notional,
       isomargin.max_leverage_for_size(q, p, t, cs, kind) AS max_leverage
FROM (SELECT DISTINCT ON (kind) kind, CASE WHEN kind = 'linear' THEN 1 ELSE cs END AS cs, t
      FROM book ORDER BY kind, id) b,
     LATERAL (VALUES (10000, 1), (10000.001, 1), (100000, 1), (100000.001, 1), (1000000, 1), (1000000.001, 1),
                     (500, 10000), (500, 9999.99999999), (1000, 10000), (1000, 9999.99999999),
                     (5000, 10000), (5000, 9999.99999999)) v(q, p)
WHERE (kind = 'linear' AND p = 1) OR (kind = 'inverse' AND p > 1)
ORDER BY kind, q, p DESC;

-- after_fill over the book, a fill of each kind: increase, partial close,
-- full close, flip.  The size is the sum; nothing negative but cash; the
-- cash is released margin + PnL - fee, plus what the deficit rule took from
-- the margin (then the cash is 0 or the margin is); at the fill price the
-- equity the position keeps plus the cash is its equity before, less the
-- fee, plus margin_added (linear exactly, inverse within its four 10^-16
-- roundings; not for an increase, whose entry is rounded); an increase's
-- entry sits on the trader's losing side of the exact average (linear by
-- notional, inverse harmonic), by less than 10^-16.
CREATE TEMP TABLE fills AS
SELECT b.id, b.kind, b.cs, b.q, b.e, b.m, b.mark, v.what, v.qf, v.added, f.*
FROM book b,
     LATERAL (VALUES ('increase', round(b.q * 0.37), 0), ('partial close', -round(b.q * 0.37), 0),
                     ('full close', -b.q, 0), ('flip', -2 * b.q, b.m)) v(what, qf, added),
     LATERAL isomargin.after_fill(b.q, b.e, b.m, v.qf, b.mark, b.cs, b.kind, b.fee,
                                  margin_added => v.added) f;
-- what the deficit rule took from the margin left after the release
ALTER TABLE fills ADD COLUMN taken numeric;
UPDATE fills SET taken = CASE WHEN what = 'increase' THEN 0 ELSE m - released_margin - (margin - added) END;
SELECT what, kind, count(*) AS fills,
       count(*) FILTER (WHERE size = q + qf) AS size_is_sum,
       count(*) FILTER (WHERE margin >= 0 AND released_margin >= 0 AND fee >= 0) AS not_negative,
       count(*) FILTER (WHERE taken > 0) AS deficit_from_margin,
       count(*) FILTER (WHERE cash = released_margin + realized_pnl - fee + taken AND taken >= 0
                        AND (taken = 0 OR cash = 0 OR margin - added = 0)) AS cash_settles,
       CASE WHEN what <> 'increase' THEN
       count(*) FILTER (WHERE abs(isomargin.equity(size, entry_price, mark, margin, cs, kind) + cash
                                  - (isomargin.equity(q, e, mark, m, cs, kind) - fee + added))
                              <= CASE WHEN kind = 'linear' THEN 0 ELSE 4e-16 END) END AS value_kept,
       CASE WHEN what = 'increase' THEN
       count(*) FILTER (WHERE kind = 'linear'
                        AND entry_price * (q + qf) - (q * e + qf * mark) >= 0
                        AND entry_price * (q + qf) - (q * e + qf * mark) < abs(q + qf) * 1e-16
                        OR kind = 'inverse'
                        AND entry_price * (q * mark + qf * e) - (q + qf) * e * mark >= 0
                        AND entry_price * (q * mark + qf * e) - (q + qf) * e * mark
                            < abs(q * mark + qf * e) * 1e-16) END AS entry_rounded_against
FROM fills GROUP BY what, kind ORDER BY what, kind;

-- The cases one by one: no fill, a fill from size 0 (the entry is the fill
-- price), a flip exactly to zero (a full close), margin added and removed.
SELECT ex, f.*
FROM (VALUES
    (1, 'no fill, margin added'),
    (2, 'no fill, margin removed'),
    (3, 'open from size 0'),
    (4, 'short opened from 0'),
    (5, 'close exactly to 0'),
    (6, 'inverse flip'),
    (7, 'inverse full close')) v(n, ex)
CROSS JOIN LATERAL (
    SELECT * FROM isomargin.after_fill(1, 30000, 3000, 0, 31000, margin_added => 500) WHERE n = 1
    UNION ALL SELECT * FROM isomargin.after_fill(1, 30000, 3000, 0, 31000, margin_added => -1450) WHERE n = 2
    UNION ALL SELECT * FROM isomargin.after_fill(0, 30000, 100, 2, 31000.5, fee_rate => 0.0005, margin_added => 3000) WHERE n = 3
    UNION ALL SELECT * FROM isomargin.after_fill(0, 1, 0, -2, 31000.5) WHERE n = 4
    UNION ALL SELECT * FROM isomargin.after_fill(-2, 30000, 6000, 2, 29000, fee_rate => 0.0005) WHERE n = 5
    UNION ALL SELECT * FROM isomargin.after_fill(100, 40000, 0.05, -300, 38000, 100, 'inverse', 0.0005, 0.1) WHERE n = 6
    UNION ALL SELECT * FROM isomargin.after_fill(100, 40000, 0.05, -100, 30000, 100, 'inverse') WHERE n = 7) f
ORDER BY n;

-- The distance and its ratio: NULL where there is no liquidation price (an
-- over-collateralized long, an inverse short with margin >= its notional at
-- entry, a zero size); with a tick, the mark less the tick-rounded price.  A
-- short's price rounded down to a tick above it is 0 (doc/formulas.md): every
-- mark is past it, and the distance says so.
SELECT isomargin.liquidation_distance(1, 100, 99, 150, 0.01) AS overcollateralized_long,
       isomargin.liquidation_distance_ratio(-100, 40000, 41000, 0.3, 0.005, 100, 'inverse') AS inverse_short_never,
       isomargin.liquidation_distance(0, 30000, 29000, 3000, 0.004) AS size_0,
       isomargin.liquidation_distance(-2, 30000, 31000, 6000, 0.004, tick_size => 0.5) AS short_tick,
       isomargin.liquidation_price(-2, 30000, 6000, 0.004, tick_size => 0.5) AS short_tick_lp,
       isomargin.liquidation_distance(-2, 30000, 31000, 6000, 0.004, tick_size => 100000) AS short_tick_to_0;
-- On the liquidation price itself the distance is 0; one tick further, negative.
SELECT isomargin.liquidation_distance(1, 30000, 27108.43373494, 3000, 0.004) AS at_lp,
       isomargin.liquidation_distance(1, 30000, 27108.43373493, 3000, 0.004) AS past_lp,
       isomargin.margin_status(1, 30000, 27108.43373493, 3000, 0.004) AS status_past;

-- effective_leverage and return_on_equity against the core figures (linear:
-- notional / equity rounded up, pnl / margin rounded down, written as div/mod).
SELECT count(*) AS positions,
       count(*) FILTER (WHERE el IS NOT DISTINCT FROM
                        CASE WHEN eq > 0 THEN (div(n * 1e16, eq) + CASE WHEN mod(n * 1e16, eq) > 0 THEN 1 ELSE 0 END) * 1e-16 END)
           AS effective_leverage_same,
       count(*) FILTER (WHERE roe IS NOT DISTINCT FROM
                        CASE WHEN m > 0 THEN (div(u * 1e16, m) - CASE WHEN mod(u * 1e16, m) < 0 THEN 1 ELSE 0 END) * 1e-16 END)
           AS return_on_equity_same
FROM (SELECT m, isomargin.notional(q, mark, cs) AS n, isomargin.equity(q, e, mark, m, cs) AS eq,
             isomargin.unrealized_pnl(q, e, mark, cs) AS u,
             isomargin.effective_leverage(q, e, mark, m, cs) AS el,
             isomargin.return_on_equity(q, e, mark, m, cs) AS roe
      FROM book WHERE kind = 'linear') s;
