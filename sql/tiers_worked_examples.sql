-- The tier worked examples of the domain reference (T1-T7 and the
-- maintenance check of T2), digit for digit, and the tier-aware figures at
-- every bracket boundary.
CREATE TEMP TABLE sched (kind isomargin.contract_kind PRIMARY KEY, t isomargin.tiers);
INSERT INTO sched VALUES
    ('linear', '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50;
                 100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10;
                 2000000..10000000 mmr=0.1 max_leverage=5}'),
    ('inverse', '{0..5 mmr=0.005 max_leverage=100; 5..10 mmr=0.01 max_leverage=50;
                  10..20 mmr=0.025 max_leverage=20; 20..50 mmr=0.05 max_leverage=10}');

CREATE TEMP TABLE tex (id text, kind isomargin.contract_kind, q numeric, cs numeric, e numeric, m numeric,
                       bracket_at_e int, lp_ref numeric, bracket_at_lp int, bp_ref numeric);
INSERT INTO tex VALUES
    ('T1', 'linear',   10,   1, 20000, 20000,  3, 18260.20408164, 3, 18000.00000000),
    ('T2', 'linear',   10,   1, 20000, 105000, 3,  9590.90909091, 2,  9500.00000000),
    ('T3', 'linear',   -4,   1, 20000, 8000,   2, 21794.55445544, 2, 22000.00000000),
    ('T4', 'linear',   -4,   1, 20000, 21000,  2, 25012.25490196, 3, 25250.00000000),
    ('T5', 'inverse',  800, 100, 10000, 0.8,   2,  9155.80736544, 2,  9090.90909091),
    ('T6', 'inverse',  800, 100, 10000, 2.5,   2,  7681.49882904, 3,  7619.04761905),
    ('T7', 'inverse', -800, 100, 10000, 0.8,   2, 11038.32752613, 2, 11111.11111111);

SELECT x.id,
       isomargin.liquidation_price(size => x.q, entry_price => x.e, margin => x.m, tiers => s.t,
                                   contract_size => x.cs, kind => x.kind) AS lp,
       isomargin.bankruptcy_price(x.q, x.e, x.m, x.cs, x.kind) AS bp,
       isomargin.bracket(s.t, isomargin.notional(x.q, x.e, x.cs, x.kind)) AS bracket_at_e,
       isomargin.bracket(s.t, isomargin.notional(x.q,
           isomargin.liquidation_price(x.q, x.e, x.m, s.t, x.cs, x.kind), x.cs, x.kind)) AS bracket_at_lp
FROM tex x JOIN sched s USING (kind) ORDER BY x.id;

-- The same, compared as text with the reference columns.
SELECT x.id,
       isomargin.liquidation_price(x.q, x.e, x.m, s.t, x.cs, x.kind)::text = x.lp_ref::text AS lp_ok,
       isomargin.bankruptcy_price(x.q, x.e, x.m, x.cs, x.kind)::text = x.bp_ref::text AS bp_ok,
       isomargin.bracket(s.t, isomargin.notional(x.q, x.e, x.cs, x.kind)) = x.bracket_at_e AS at_e_ok,
       isomargin.bracket(s.t, isomargin.notional(x.q, x.lp_ref, x.cs, x.kind)) = x.bracket_at_lp AS at_lp_ok
FROM tex x JOIN sched s USING (kind) ORDER BY x.id;

-- Margin-call prices (c = 0.8), tier-consistent like the liquidation price;
-- independently computed: T1 18326.92307693, T2 9613.92405064, T3 21743.82716049,
-- T4 24953.70370370, T5 9171.97452230, T6 7696.79300292, T7 11020.05231037.
SELECT x.id, isomargin.margin_call_price(x.q, x.e, x.m, s.t, x.cs, x.kind) AS mcp
FROM tex x JOIN sched s USING (kind) ORDER BY x.id;

-- The maintenance check of T2 (f = 0, c = 0.8) as the mark falls.
SELECT mark,
       isomargin.notional(10, mark) AS n,
       isomargin.equity(10, 20000, mark, 105000) AS q,
       isomargin.maintenance_margin(10, mark, s.t) AS mm,
       isomargin.margin_ratio(10, 20000, mark, 105000, s.t) AS r,
       isomargin.margin_status(10, 20000, mark, 105000, s.t) AS status
FROM sched s, (VALUES (12000), (9800), (9600), (9590.90909091), (9590), (9500)) v(mark)
WHERE s.kind = 'linear' ORDER BY mark DESC;

-- The maintenance margin is continuous at every bracket boundary: at the
-- boundary notional and one unit either side (linear: size 1, price = notional).
SELECT n, isomargin.bracket(s.t, n) AS bracket, isomargin.maintenance_margin(1, n, s.t) AS mm
FROM sched s, (VALUES (9999), (10000), (10001), (99999), (100000), (100001), (499999), (500000), (500001),
                      (1999999), (2000000), (2000001), (9999999), (10000000), (10000001)) v(n)
WHERE s.kind = 'linear' ORDER BY n;

-- Inverse: notional = 100*cs/P coin; boundaries 5, 10, 20 coin at P = 2000, 1000, 500 (q = 100, cs = 100).
SELECT p, isomargin.notional(100, p, 100, 'inverse') AS n,
       isomargin.bracket(s.t, isomargin.notional(100, p, 100, 'inverse')) AS bracket,
       isomargin.maintenance_margin(100, p, s.t, 100, 'inverse') AS mm
FROM sched s, (VALUES (2001), (2000), (1999), (1001), (1000), (999), (501), (500), (499)) v(p)
WHERE s.kind = 'inverse' ORDER BY p DESC;

-- A liquidation exactly on a boundary: a long of 10 at 20000 whose root is
-- N = 100000 (P = 10000): Q(10000) = M - 100000 = MM = 100000*0.01 - 50 = 950
-- (bracket 2) gives M = 100950; both brackets' formulas agree there.
SELECT isomargin.liquidation_price(10, 20000, 100950, s.t) AS lp,
       isomargin.margin_status(10, 20000, 10000, 100950, s.t) AS at_lp,
       isomargin.margin_status(10, 20000, 10000.00000001, 100950, s.t) AS just_above
FROM sched s WHERE s.kind = 'linear';

-- Above the last cap the last bracket applies.
SELECT isomargin.maintenance_margin(1, 20000000, s.t) AS mm_beyond_cap FROM sched s WHERE s.kind = 'linear';

-- Tier-aware assess and the fee.
SELECT * FROM isomargin.assess(10, 20000, 9600, 105000, (SELECT t FROM sched WHERE kind = 'linear'));
SELECT isomargin.liquidation_price(10, 20000, 105000, s.t, fee_rate => 0.0005) AS lp_with_fee
FROM sched s WHERE s.kind = 'linear';

-- A fee that makes some bracket's mmr + fee reach 1 is refused.  (A tiers
-- literal needs its type, or the parameter name, to pick the overload.)
SELECT isomargin.liquidation_price(1, 100, 10, tiers => '{0..10 mmr=0.4 max_leverage=2; 10..20 mmr=0.9 max_leverage=1}', fee_rate => 0.1);
SELECT isomargin.liquidation_price(1, 100, 10, '{0..10 mmr=0.4 max_leverage=2; 10..20 mmr=0.9 max_leverage=1}'::isomargin.tiers, fee_rate => 0.09);
