-- isomargin.liquidation_ladder over the book of reports_shock (schema rpt).  Liquidation
-- prices at the marks, computed independently with exact fractions:
--   L (mark 30000):   1 long 27108.43373494, 2 short 32868.52589641, 3 never, 11 closed
--   F (mark 2500.25): 4 long 2011.51448110
--   I (mark 40000):   5 long 33500, 6 short 49750
--   Z (mark 30000):   7 long 28500, 8 long 30000 (at the mark: liquidatable now, left out),
--                     9 short 31500, 10 long 27000
-- A long in bucket -k and a short in bucket k lie at a distance from the mark in
-- ((k-1)*w, k*w] of the mark.  With w = 0.05:
--   1: (30000 - 27108.43373494) / 1500 = 1.93 -> -2     2: 2868.52589641 / 1500 = 1.91 -> 2
--   4: 488.7355189 / 125.0125 = 3.91 -> -4               5: 6500 / 2000 = 3.25 -> -4
--   6: 9750 / 2000 = 4.875 -> 5 (beyond 4 buckets: left out)
--   7: 1500 / 1500 = 1 -> -1 (the edge belongs to the nearer bucket)   9: 1 -> 1
--   10: 3000 / 1500 = 2 -> -2
-- Notional at the liquidation price: 1: 27108.43373494, 2: 2 * 32868.52589641 =
-- 65737.05179282, 4: 0.5 * 2011.51448110 = 1005.75724055, 5: 100 * 100 / 33500 =
-- 0.29850746268656716... (16 decimals, up), 7: 28500, 9: 31500, 10: 27000.
SELECT * FROM isomargin.liquidation_ladder('rpt.positions', 'rpt.marks', 'rpt.instruments',
                                           bucket_width => 0.05, buckets => 4);

-- Five buckets reach the inverse short (bucket 5: 48000 .. 50000).
SELECT symbol, side, bucket, price_low, price_high, position_count, size, notional
  FROM isomargin.liquidation_ladder('rpt.positions', 'rpt.marks', 'rpt.instruments', 0.05, 5)
 WHERE symbol = 'I' AND position_count > 0;

-- One bucket as wide as the mark: every long below it and every short up to twice it.
SELECT symbol, side, bucket, price_low, price_high, position_count, notional
  FROM isomargin.liquidation_ladder('rpt.positions', 'rpt.marks', 'rpt.instruments', 1, 1)
 ORDER BY symbol, bucket;

-- The status column keeps out what the liquidation engine already has (1 at liquidate);
-- a margin_call position (7) stays.
SELECT symbol, side, bucket, position_count, notional
  FROM isomargin.liquidation_ladder('rpt.flagged', 'rpt.marks', 'rpt.instruments', 0.05, 2)
 WHERE symbol IN ('L', 'Z') AND position_count > 0
 ORDER BY symbol, bucket;

-- Tiers: T2 of the domain reference (liquidated at 9590.90909091 in bracket 2) lies
-- (20000 - 9590.90909091) / 2000 = 5.2 buckets of 10% under the mark: bucket -6, notional
-- 95909.0909091; T3 (21794.55445544) lies 0.9 of a bucket above: bucket 1, notional
-- 4 * 21794.55445544 = 87178.21782176.
SELECT symbol, side, bucket, price_low, price_high, mark_price, position_count, notional,
       cumulative_notional
  FROM isomargin.liquidation_ladder('rpt.book', 'rpt.px', 'rpt.tiered', 0.1, 10,
       '{"symbol": "sym", "mark_price": "px", "size": "qty", "entry_price": "entry", "margin": "collateral"}')
 WHERE position_count > 0 OR bucket IN (-7, -5, 2);
