-- How much to close (issue 16 item 2): liquidation_size by policy, against
-- hand-computed examples (doc/liquidation.md).
\set SHOW_CONTEXT never
CREATE TEMP TABLE t2 (tiers isomargin.tiers);
INSERT INTO t2 VALUES ('{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50; 100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10; 2000000..10000000 mmr=0.1 max_leverage=5}');

-- Presets.
SELECT p, isomargin.liquidation_policy(p) FROM unnest(ARRAY['whole', 'okx', 'hyperliquid', 'smallest']) AS p;
SELECT isomargin.liquidation_policy('largest');

-- Not flagged: 0 (A at 27,200: Q 200 > MM 108.8).  Flagged, policy whole: all of it.
SELECT isomargin.liquidation_size(1, 30000, 27200, 3000, 0.004),
       isomargin.liquidation_size(-2, 30000, 32900, 6000, 0.004),
       isomargin.liquidation_size(0, 30000, 27000, 3000, 0.004);

-- smallest, T2 at 9,590 (Q = 105,000 - 104,100 = 900, MM = 959 - 50 = 909: liquidate).
-- Closing k at the bankruptcy price keeps the rest's equity in proportion: Q' = 90*q_r.
-- In bracket 2, MM' = 95.9*q_r - 50; Q' > 1.25*MM' <=> 29.875*q_r < 62.5 <=> q_r < 2.0920502092...
-- and q_r > 10,000/9,590 = 1.0427... (still bracket 2): the largest q_r on the 1e-8 grid below
-- the root is 2.09205020, so k = 7.90794980.  With lot 1: q_r = 2 (Q' 180 > 1.25*141.8 =
-- 177.25), k = 8; q_r = 3 fails (270 < 1.25*237.7 = 297.125).
SELECT isomargin.liquidation_size(10, 20000, 9590, 105000, t2.tiers, policy => '{"method": "smallest"}'),
       isomargin.liquidation_size(10, 20000, 9590, 105000, t2.tiers, policy => '{"method": "smallest", "lot_size": 1}')
  FROM t2;
-- The rest it leaves, checked exactly: ok just below the root, margin_call at the root's lot above.
SELECT c.size, c.margin, a.equity, a.maintenance_margin, a.status
  FROM t2, unnest(ARRAY[7.90794980, 7.90794979]) k,
       LATERAL isomargin.liquidation_settlement(10, 20000, 105000, k, 9590) c,
       LATERAL isomargin.assess(c.size, c.entry_price, 9590, c.margin, t2.tiers) a
 ORDER BY k DESC;
-- With buffer 0: Q' > MM' <=> 90*q_r > 95.9*q_r - 50 <=> q_r < 8.4745762711...: k = 1.52542373.
SELECT isomargin.liquidation_size(10, 20000, 9590, 105000, t2.tiers, policy => '{"method": "smallest", "buffer": 0}')
  FROM t2;
-- A flat rate: no partial close helps (Q'/q_r = Q/q and MM'/q_r = MM/q): whole.
SELECT isomargin.liquidation_size(1, 30000, 27100, 3000, 0.004, policy => '{"method": "smallest"}');
-- Bankrupt: whole, whatever the policy (T2 at 9,400).
SELECT isomargin.liquidation_size(10, 20000, 9400, 105000, t2.tiers, policy => '{"method": "smallest"}') FROM t2;

-- okx (tier by tier): q = 50 at 20,000, M = 80,000, mark 19,000: N = 950,000 in bracket 4
-- (MM = 47,500 - 16,050 = 31,450 >= Q = 30,000: liquidate; Q > tier 1's 0.005*950,000 = 4,750).
-- Two brackets down: the cap of bracket 2, 100,000, is 100,000/19,000 = 5.2631578947... contracts:
-- the rest 5.26315789, k = 44.73684211; with lot 1, rest 5, k = 45.
SELECT isomargin.liquidation_size(50, 20000, 19000, 80000, t2.tiers, policy => isomargin.liquidation_policy('okx')),
       isomargin.liquidation_size(50, 20000, 19000, 80000, t2.tiers, policy => '{"method": "tiers", "lot_size": 1}')
  FROM t2;
-- In bracket 2 (T2 at 9,590): whole.  Below tier 1's requirement: whole.
SELECT isomargin.liquidation_size(10, 20000, 9590, 105000, t2.tiers, policy => '{"method": "tiers"}') FROM t2;
SELECT isomargin.liquidation_size(50, 20000, 19000, 54500, t2.tiers, policy => '{"method": "tiers"}') FROM t2;

-- hyperliquid (20% above 100,000 of notional; backstop below 2/3 of maintenance):
-- the okx example: 0.2*50 = 10.  With M = 70,000: Q = 20,000 < 0.6666666666666667*31,450
-- = 20,966.67: backstop, whole.  T2 at 9,590 (N = 95,900 <= 100,000): whole.
SELECT isomargin.liquidation_size(50, 20000, 19000, 80000, t2.tiers, policy => isomargin.liquidation_policy('hyperliquid')),
       isomargin.liquidation_size(50, 20000, 19000, 70000, t2.tiers, policy => isomargin.liquidation_policy('hyperliquid')),
       isomargin.liquidation_size(10, 20000, 9590, 105000, t2.tiers, policy => isomargin.liquidation_policy('hyperliquid'))
  FROM t2;
-- An inverse position by the fraction method with lot 1: 100 contracts at 40,000, M = 0.05,
-- mark 33,450 (between BP 33,333.33 and LP 33,500): 20 (threshold 0 here).
SELECT isomargin.liquidation_size(100, 40000, 33450, 0.05, 0.005, 100, 'inverse',
                                  policy => '{"method": "fraction", "lot_size": 1}');

-- Bad policies (22023).
SELECT isomargin.liquidation_size(1, 30000, 27100, 3000, 0.004, policy => '[]');
SELECT isomargin.liquidation_size(1, 30000, 27100, 3000, 0.004, policy => '{"method": "half"}');
SELECT isomargin.liquidation_size(1, 30000, 27100, 3000, 0.004, policy => '{"lot": 1}');
SELECT isomargin.liquidation_size(1, 30000, 27100, 3000, 0.004, policy => '{"lot_size": 0}');
SELECT isomargin.liquidation_size(1, 30000, 27100, 3000, 0.004, policy => '{"fraction": 1.5}');
SELECT isomargin.liquidation_size(1, 30000, 27100, 3000, 0.004, policy => '{"buffer": "big"}');
SELECT isomargin.liquidation_size(1, 30000, 27100, 3000, 0.004, policy => '{"adl_rank": "random"}');

-- ADL ranks.  B (short 2 at 30,000, M 6,000) at 29,000: U = 2,000, ROE 1/3 down to
-- 0.3333333333333333, effective leverage 58,000/8,000 = 7.25: rank 2.416666666666666425.
-- A long 1 at 30,000, M 3,000, at 29,000: ROE -1,000/3,000 down -> -0.3333333333333334 (losers last).
SELECT isomargin.adl_rank(-2, 30000, 29000, 6000), isomargin.adl_profit_rank(-2, 30000, 29000, 6000),
       isomargin.adl_rank(1, 30000, 29000, 3000), isomargin.adl_profit_rank(1, 30000, 29000, 3000);
