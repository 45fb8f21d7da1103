-- Every worked example of doc/whatif.md, digit for digit (the arithmetic is
-- written out there).  A: linear long 1 @ 30000, margin 3000, mmr 0.004.
-- B: linear short -2 @ 30000, margin 6000.  C: inverse long 100 contracts of
-- 100 USD @ 40000, margin 0.05, mmr 0.005.  T2: the domain reference's tier
-- example, linear long 10 @ 20000, margin 105000, under sched 'linear'.
\pset null '(null)'
CREATE TEMP TABLE sched (name text PRIMARY KEY, t isomargin.tiers);
INSERT INTO sched VALUES
    ('linear', '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50;
                 100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10;
                 2000000..10000000 mmr=0.1 max_leverage=5}');

-- position_side
SELECT q, isomargin.position_side(q) AS side
FROM unnest(ARRAY[1, -2, 0.00000001, -0.00000001, 0, 0.000]::numeric[]) q;
SELECT 'long'::isomargin.position_side < 'short' AS long_sorts_first;

-- effective_leverage: A at 27120, B at 31000, C at 38000, T2 at 9600; A at 27000 (equity 0).
SELECT 'A' AS ex, isomargin.effective_leverage(1, 30000, 27120, 3000) AS effective_leverage
UNION ALL SELECT 'B', isomargin.effective_leverage(-2, 30000, 31000, 6000)
UNION ALL SELECT 'C', isomargin.effective_leverage(100, 40000, 38000, 0.05, 100, 'inverse')
UNION ALL SELECT 'T2', isomargin.effective_leverage(10, 20000, 9600, 105000)
UNION ALL SELECT 'A at 27000', isomargin.effective_leverage(1, 30000, 27000, 3000)
UNION ALL SELECT 'size 0', isomargin.effective_leverage(0, 30000, 27000, 3000);

-- return_on_equity: A, B (rounded down, toward minus infinity), C; margin 0 gives NULL.
SELECT 'A' AS ex, isomargin.return_on_equity(1, 30000, 27120, 3000) AS roe
UNION ALL SELECT 'B', isomargin.return_on_equity(-2, 30000, 31000, 6000)
UNION ALL SELECT 'C', isomargin.return_on_equity(100, 40000, 38000, 0.05, 100, 'inverse')
UNION ALL SELECT 'margin 0', isomargin.return_on_equity(1, 30000, 27120, 0)
UNION ALL SELECT 'size 0', isomargin.return_on_equity(0, 30000, 27120, 3000);

-- liquidation_distance and its ratio: the mark less the printed liquidation price.
SELECT ex, lp, d AS liquidation_distance, dr AS liquidation_distance_ratio
FROM (VALUES
    ('A', isomargin.liquidation_price(1, 30000, 3000, 0.004),
          isomargin.liquidation_distance(1, 30000, 27120, 3000, 0.004),
          isomargin.liquidation_distance_ratio(1, 30000, 27120, 3000, 0.004)),
    ('A past it', isomargin.liquidation_price(1, 30000, 3000, 0.004),
          isomargin.liquidation_distance(1, 30000, 27100, 3000, 0.004),
          isomargin.liquidation_distance_ratio(1, 30000, 27100, 3000, 0.004)),
    ('B', isomargin.liquidation_price(-2, 30000, 6000, 0.004),
          isomargin.liquidation_distance(-2, 30000, 31000, 6000, 0.004),
          isomargin.liquidation_distance_ratio(-2, 30000, 31000, 6000, 0.004)),
    ('C', isomargin.liquidation_price(100, 40000, 0.05, 0.005, 100, 'inverse'),
          isomargin.liquidation_distance(100, 40000, 38000, 0.05, 0.005, 100, 'inverse'),
          isomargin.liquidation_distance_ratio(100, 40000, 38000, 0.05, 0.005, 100, 'inverse'))) v(ex, lp, d, dr);
SELECT isomargin.liquidation_price(10, 20000, 105000, t) AS lp,
       isomargin.liquidation_distance(10, 20000, 9600, 105000, t) AS t2_distance,
       isomargin.liquidation_distance_ratio(10, 20000, 9600, 105000, t) AS t2_ratio
FROM sched;

-- top_up_to_ok: A at 27120, T2 at 9600, C at 33520.
SELECT 'A' AS ex, isomargin.margin_status(1, 30000, 27120, 3000, 0.004) AS status,
       isomargin.top_up_to_ok(1, 30000, 27120, 3000, 0.004) AS top_up
UNION ALL
SELECT 'T2', isomargin.margin_status(10, 20000, 9600, 105000, t),
       isomargin.top_up_to_ok(10, 20000, 9600, 105000, t) FROM sched
UNION ALL
SELECT 'C', isomargin.margin_status(100, 40000, 33520, 0.05, 0.005, 100, 'inverse'),
       isomargin.top_up_to_ok(100, 40000, 33520, 0.05, 0.005, 100, 'inverse');
-- ... and the check after each: ok with the top-up; margin_call with 1e-8 less
-- (A: exactly at the margin-call level, MM = c*Q).
SELECT 'A' AS ex,
       isomargin.margin_status(1, 30000, 27120, 3000 + 15.60000001, 0.004) AS with_top_up,
       isomargin.margin_status(1, 30000, 27120, 3000 + 15.6, 0.004) AS one_unit_less,
       isomargin.maintenance_margin(1, 27120, 0.004) = 0.8 * isomargin.equity(1, 30000, 27120, 3015.6) AS mm_is_c_times_q
UNION ALL
SELECT 'T2', isomargin.margin_status(10, 20000, 9600, 105000 + 137.50000001, t),
       isomargin.margin_status(10, 20000, 9600, 105000 + 137.5, t), NULL FROM sched
UNION ALL
SELECT 'C', isomargin.margin_status(100, 40000, 33520, 0.05 + 0.00019392, 0.005, 100, 'inverse'),
       isomargin.margin_status(100, 40000, 33520, 0.05 + 0.00019391, 0.005, 100, 'inverse'), NULL;

-- top_up_for_liquidation_price, and the liquidation price with the margin it asks for.
SELECT ex, top_up, lp_after
FROM (VALUES
    ('A to 26000', isomargin.top_up_for_liquidation_price(1, 30000, 3000, 26000, 0.004),
                   isomargin.liquidation_price(1, 30000, 3000 + 1104, 0.004)),
    ('C to 32000', isomargin.top_up_for_liquidation_price(100, 40000, 0.05, 32000, 0.005, 100, 'inverse'),
                   isomargin.liquidation_price(100, 40000, 0.05 + 0.0140625, 0.005, 100, 'inverse'))) v(ex, top_up, lp_after);
SELECT isomargin.top_up_for_liquidation_price(10, 20000, 105000, 9000, t) AS t2_to_9000,
       isomargin.liquidation_price(10, 20000, 105000 + 5850, t) AS lp_after,
       isomargin.top_up_for_liquidation_price(10, 20000, 105000, 11000, t) AS t2_to_11000
FROM sched;

-- max_removable_margin: A at 31000 and 27120 (20x), A at 30000 with 1000x
-- (the maintenance bound), C at 42000 (25x).
SELECT 'A, 31000, 20x' AS ex, isomargin.max_removable_margin(1, 30000, 31000, 3000, 20, 0.004) AS removable
UNION ALL SELECT 'A, 27120, 20x', isomargin.max_removable_margin(1, 30000, 27120, 3000, 20, 0.004)
UNION ALL SELECT 'A, 30000, 1000x', isomargin.max_removable_margin(1, 30000, 30000, 3000, 1000, 0.004)
UNION ALL SELECT 'C, 42000, 25x', isomargin.max_removable_margin(100, 40000, 42000, 0.05, 25, 0.005, 100, 'inverse');
-- After removing the 1000x answer the position is still above maintenance
-- (margin_call, not liquidate); 1e-16 more would take it to its liquidation level.
SELECT isomargin.margin_status(1, 30000, 30000, 3000 - 2879.9999999999999999, 0.004) AS after_removal,
       isomargin.margin_status(1, 30000, 30000, 3000 - 2880, 0.004) AS one_unit_more;

-- max_size: flat (linear, with fee and lot, inverse), then with the schedule.
SELECT isomargin.max_size(1000, 30000, 10) AS linear,
       isomargin.max_size(1000, 30000, 10, fee_rate => 0.0005, lot_size => 0.001) AS fee_and_lot,
       isomargin.max_size(0.01, 30000, 20, 100, 'inverse', lot_size => 1) AS inverse;
SELECT l AS leverage, isomargin.max_size(10000, 20000, l, t) AS max_size,
       isomargin.max_notional(t, l) AS max_notional
FROM sched, unnest(ARRAY[20, 50, 100, 101]::numeric[]) l ORDER BY l;
SELECT isomargin.max_size(10000, 20000, 20, t, fee_rate => 0.0005, lot_size => 0.001) AS fee_and_lot
FROM sched;

-- max_leverage_for_size at 20000: the bracket of |size| * 20000.
SELECT q, isomargin.max_leverage_for_size(q, 20000, t) AS max_leverage
FROM sched, unnest(ARRAY[10, -10, 500, 500.00000001, 0]::numeric[]) q;

-- after_fill: increases (linear long and short, inverse), a partial close, a
-- loss beyond the released margin, an inverse partial close, a flip, a full close.
SELECT ex, f.*
FROM (VALUES
    (1, 'linear increase, long'),
    (2, 'linear increase, short'),
    (3, 'linear increase with fee'),
    (4, 'inverse increase'),
    (5, 'partial close'),
    (6, 'loss beyond the released margin'),
    (7, 'inverse partial close'),
    (8, 'flip'),
    (9, 'full close')) v(n, ex)
CROSS JOIN LATERAL (
    SELECT * FROM isomargin.after_fill(1, 30000, 3000, 2, 31000) WHERE n = 1
    UNION ALL SELECT * FROM isomargin.after_fill(-1, 30000, 3000, -2, 31000) WHERE n = 2
    UNION ALL SELECT * FROM isomargin.after_fill(1, 30000, 3000, 1, 31000, fee_rate => 0.0005) WHERE n = 3
    UNION ALL SELECT * FROM isomargin.after_fill(100, 40000, 0.05, 100, 30000, 100, 'inverse') WHERE n = 4
    UNION ALL SELECT * FROM isomargin.after_fill(2, 30000, 3000, -1, 31000, fee_rate => 0.0005) WHERE n = 5
    UNION ALL SELECT * FROM isomargin.after_fill(3, 30000, 900, -1, 29000) WHERE n = 6
    UNION ALL SELECT * FROM isomargin.after_fill(100, 40000, 0.05, -40, 38000, 100, 'inverse', 0.0005) WHERE n = 7
    UNION ALL SELECT * FROM isomargin.after_fill(2, 30000, 3000, -3, 31000, fee_rate => 0.0005, margin_added => 500) WHERE n = 8
    UNION ALL SELECT * FROM isomargin.after_fill(1, 30000, 3000, -1, 27000) WHERE n = 9) f
ORDER BY n;

-- The book after a fill, with assess, through CROSS JOIN LATERAL (doc/whatif.md).
CREATE TEMP TABLE instruments (symbol text PRIMARY KEY, kind isomargin.contract_kind,
                               contract_size numeric, fee_rate numeric, tiers isomargin.tiers);
INSERT INTO instruments SELECT 'BTCUSDT', 'linear', 1, 0.0005, t FROM sched;
CREATE TEMP TABLE positions (id int PRIMARY KEY, symbol text, size numeric, entry_price numeric,
                             margin numeric);
INSERT INTO positions VALUES (1, 'BTCUSDT', 2, 30000, 3000), (2, 'BTCUSDT', -4, 32000, 6400);
SELECT p.id, f.size, f.entry_price, f.margin, f.cash, a.status, a.liquidation_price
FROM positions p
JOIN instruments i USING (symbol)
CROSS JOIN LATERAL isomargin.after_fill(p.size, p.entry_price, p.margin,
                                        fill_size => -p.size * 0.5, fill_price => 31000,
                                        contract_size => i.contract_size, kind => i.kind,
                                        fee_rate => i.fee_rate) f
CROSS JOIN LATERAL isomargin.assess(f.size, f.entry_price, 31000, f.margin, i.tiers,
                                    i.contract_size, i.kind, i.fee_rate) a
ORDER BY p.id;
-- The same report in the fenced form (doc/whatif.md): the same rows.
SELECT id, (f).size, (f).entry_price, (f).margin, (f).cash, (a).status, (a).liquidation_price
FROM (SELECT id, f, isomargin.assess((f).size, (f).entry_price, 31000, (f).margin, tiers,
                                     contract_size, kind, fee_rate) AS a
        FROM (SELECT p.id, i.tiers, i.contract_size, i.kind, i.fee_rate,
                     isomargin.after_fill(p.size, p.entry_price, p.margin,
                                          fill_size => -p.size * 0.5, fill_price => 31000,
                                          contract_size => i.contract_size, kind => i.kind,
                                          fee_rate => i.fee_rate) AS f
                FROM positions p JOIN instruments i USING (symbol)
              OFFSET 0) s1
      OFFSET 0) s2
ORDER BY id;
