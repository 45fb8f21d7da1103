-- The liquidation engine charges the maintenance enforcement charges (issue 18
-- item 3, issue 16 items 2-3): with an instruments column addon_rate, and
-- with a liquidity_curve, every check and sizing of the worker takes the
-- position's add-on (addon_rate + liquidity_curve_addon(curve, size)), so a
-- position flagged because of the add-on is liquidated, and a partial close
-- leaves a rest that enforcement does not flag again (doc/liquidation.md,
-- "With dynamic add-ons").  Books without the columns: the other
-- liquidation tests, unchanged.
\set SHOW_CONTEXT never
CREATE SCHEMA dyn;

-- ---------------------------------------------------------------- 1. addon_rate, tiers

-- T2 (doc/liquidation.md), mapped addon_rate; policy smallest, buffer 0.25, lot 0.01.
CREATE TABLE dyn.instruments (symbol text PRIMARY KEY, tiers isomargin.tiers NOT NULL,
                              addon_rate numeric NOT NULL DEFAULT 0);
CREATE TABLE dyn.marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE dyn.positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                            entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO dyn.instruments VALUES ('ETH', '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50; 100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10; 2000000..10000000 mmr=0.1 max_leverage=5}');
INSERT INTO dyn.marks VALUES ('ETH', 20000);
INSERT INTO dyn.positions VALUES
    (1, 'ETH', 10, 20000, 105000),     -- BP 20,000 - 10,500 = 9,500
    (2, 'ETH', 10, 20000, 104900),     -- BP 9,510
    (3, 'ETH', -1, 20000, 2000);
SELECT isomargin.enforce('dyn.positions', 'dyn.marks', 'dyn.instruments') IS NOT NULL AS enforced;
SELECT isomargin.liquidation_setup('dyn.positions', '{"method": "smallest", "lot_size": 0.01}');
SELECT isomargin.insurance_deposit('dyn.positions', 'ETH', 1000);

-- The add-on 0.002 (a volatility watch would write it), then the mark 9,600.
-- At 9,600 a long of 10 has N = 96,000 (bracket 2: r 0.01, A 50):
--   1: Q = 105,000 - 104,000 = 1,000; static MM 960 - 50 = 910 < Q: margin_call;
--      with c: 96,000 * 0.012 - 50 = 1,102 >= Q: liquidate (flagged because of the add-on)
--   2: Q = 900 <= 910 already: liquidate either way
--   3: Q = 2,000 + 10,400 = 12,400: ok
UPDATE dyn.instruments SET addon_rate = 0.002;
UPDATE dyn.marks SET mark_price = 9600;
SELECT p.id, p.status, a.status AS static_status, a.maintenance_margin AS static_mm,
       isomargin.dynamic_maintenance_margin(p.size, 9600, 0.002, i.tiers) AS dynamic_mm
  FROM dyn.positions p JOIN dyn.instruments i USING (symbol),
       LATERAL isomargin.assess(p.size, p.entry_price, 9600, p.margin, i.tiers) a
 ORDER BY p.id;

-- The static sizing leaves position 2 flagged: Q' = 90 q_r, static MM' = 96 q_r - 50,
-- 90 q_r > 1.25 (96 q_r - 50) <=> q_r < 2.0833..: rest 2.08, close 7.92; but under the
-- add-on the rest 2.08 has MM' = 19,968 * 0.012 - 50 = 189.616 >= Q' = 187.2: liquidate.
-- The engine's sizing with the add-on: 90 q_r > 1.25 (115.2 q_r - 50) <=> 54 q_r < 62.5
-- <=> q_r < 1.157407..: rest 1.15 (N 11,040, bracket 2), close 8.85.  Position 1:
-- 100 q_r > 1.25 (115.2 q_r - 50) <=> 44 q_r < 62.5 <=> q_r < 1.420454..: rest 1.42,
-- close 8.58 (statically 0: not flagged).
SELECT isomargin.liquidation_size(10, 20000, 9600, 104900, i.tiers,
                                  policy => '{"method": "smallest", "lot_size": 0.01}') AS static_2,
       isomargin.dynamic_margin_status(2.08, 20000, 9600, 104900 * 0.208, 0.002, i.tiers) AS static_rest_2_with_addon,
       isomargin.liquidation_size(10, 20000, 9600, 104900, i.tiers,
                                  policy => '{"method": "smallest", "lot_size": 0.01}',
                                  addon_rate => 0.002) AS dynamic_2,
       isomargin.liquidation_size(10, 20000, 9600, 105000, i.tiers,
                                  policy => '{"method": "smallest", "lot_size": 0.01}') AS static_1,
       isomargin.liquidation_size(10, 20000, 9600, 105000, i.tiers,
                                  policy => '{"method": "smallest", "lot_size": 0.01}',
                                  addon_rate => 0.002) AS dynamic_1
  FROM dyn.instruments i;
-- The other policies see the same flag: whole closes all 10 of position 1 (statically 0);
-- okx (tiers, two down; bracket 2 is at most two) closes it whole too.
SELECT isomargin.liquidation_size(10, 20000, 9600, 105000, i.tiers, addon_rate => 0.002) AS whole_1,
       isomargin.liquidation_size(10, 20000, 9600, 105000, i.tiers, policy => isomargin.liquidation_policy('okx'),
                                  addon_rate => 0.002) AS okx_1,
       isomargin.liquidation_size(10, 20000, 9600, 105000, i.tiers, policy => isomargin.liquidation_policy('okx')) AS okx_static_1
  FROM dyn.instruments i;

CALL isomargin.liquidation_worker('w1');

-- The ledger, fill 9,600:
--   1: closed 8.58, released 105,000 * 0.858 = 90,090, PnL 8.58 * (9,600 - 20,000) = -89,232,
--      to the fund 858 = 8.58 * (9,600 - 9,500); the rest 1.42 with 14,910
--   2: closed 8.85, released 104,900 * 0.885 = 92,836.5, PnL 8.85 * -10,400 = -92,040,
--      to the fund 796.5 = 8.85 * (9,600 - 9,510); the rest 1.15 with 12,063.5
SELECT position_key ->> 'id' AS pos, method, mark_price, size_before, closed_size, bankruptcy_price,
       released_margin, realized_pnl, settlement, amount, size_after, margin_after
  FROM isomargin.insurance_ledger WHERE positions = 'dyn.positions'::regclass AND entry = 'liquidation'
 ORDER BY id;
-- The rests, as enforcement re-priced them: 1 (Q' 142, MM' 13,632 * 0.012 - 50 = 113.584,
-- 0.8 * 142 = 113.6 > 113.584) and 2 (Q' 103.5, MM' 11,040 * 0.012 - 50 = 82.48 < 0.8 * 103.5
-- = 82.8) are ok; one lot more rest would fail the buffer (1.43: 1.25 * 114.736 = 143.42 > 143;
-- 1.16: 1.25 * 83.632 = 104.54 > 104.4).
SELECT p.id, p.size, p.margin, p.status,
       isomargin.dynamic_maintenance_margin(p.size, 9600, 0.002, i.tiers) AS dynamic_mm,
       isomargin.equity(p.size, p.entry_price, 9600, p.margin) AS equity
  FROM dyn.positions p JOIN dyn.instruments i USING (symbol) ORDER BY p.id;

-- ---------------------------------------------------------------- 2. liquidity_curve

-- A flat mmr 0.01, addon_rate 0.001 and a liquidity curve at the mark 100 (bids
-- 99 x 1, 98 x 1, 97 x 0.5; asks 101 x 2, 103 x 1; penalty 1%).  Closing q of a long
-- costs q (q <= 1), 1 + 2 (q - 1) (q <= 2), 3 + 3 (q - 2) (q <= 2.5), then
-- 4.5 + 4 (q - 2.5); of a short 1 q (q <= 2), 2 + 3 (q - 2) (q <= 3), then 5 + 4 (q - 3);
-- the rate is that over 100 q, up to 6 decimals.  Policy smallest with lot 0.1;
-- SOL: fraction 0.5 with a cooldown of 30 s.  The columns have other names, mapped.
CREATE TABLE dyn.instruments2 (symbol text PRIMARY KEY, mmr numeric NOT NULL,
                               vol_addon numeric NOT NULL, curve jsonb);
CREATE TABLE dyn.marks2 (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE dyn.positions2 (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                             entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO dyn.instruments2 VALUES ('BTC', 0.01, 0.001, NULL), ('SOL', 0.01, 0.001, NULL);
INSERT INTO dyn.marks2 VALUES ('BTC', 100), ('SOL', 100);
INSERT INTO dyn.positions2 VALUES
    (1, 'BTC', 10, 100, 30),     -- BP 97
    (2, 'BTC', -4, 100, 12),     -- BP 103
    (3, 'BTC', 1, 100, 30),
    (4, 'SOL', 10, 100, 30);
SELECT isomargin.enforce('dyn.positions2', 'dyn.marks2', 'dyn.instruments2',
                         '{"addon_rate": "vol_addon", "liquidity_curve": "curve"}') IS NOT NULL AS enforced;
SELECT isomargin.liquidation_setup('dyn.positions2', '{"method": "smallest", "lot_size": 0.1}',
           '{"SOL": {"method": "fraction", "fraction": 0.5, "lot_size": 0.1, "cooldown": 30}}');

-- The snapshot arrives: c = 0.001 + the curve's rate of the size.
--   1: long 10: (4.5 + 4 * 7.5) / 1,000 = 0.0345, c 0.0355: MM 1,000 * 0.0455 = 45.5 >= Q 30:
--      liquidate (static: MM 10, 0.8 * 30 >= 10: ok)
--   2: short 4: (5 + 4) / 400 = 0.0225, c 0.0235: MM 400 * 0.0335 = 13.4 >= Q 12: liquidate
--      (static MM 4: ok)
--   3: long 1: 1 / 100 = 0.01, c 0.011: MM 2.1 < 0.8 * 30: ok
--   4: as 1: liquidate
UPDATE dyn.instruments2
   SET curve = isomargin.liquidity_curve(100, '{99, 98, 97}', '{1, 1, 0.5}', '{101, 103}', '{2, 1}', 0.01);
SELECT p.id, p.status, p.liquidation_price,
       isomargin.liquidity_curve_addon(i.curve, p.size) AS liquidity_addon,
       isomargin.margin_status(p.size, p.entry_price, 100, p.margin, i.mmr) AS static_status
  FROM dyn.positions2 p JOIN dyn.instruments2 i USING (symbol) ORDER BY p.id;

-- The sizes (smallest, buffer 0.25: the rest needs Q' > 1.25 MM'):
--   1: Q' = 3 q_r, MM' = 100 q_r (0.011 + rate(q_r)): rate(q_r) < 0.013; in (1, 2]
--      (2 q_r - 1) / (100 q_r) < 0.013 <=> q_r < 1.42857..: rest 1.4 (2.8 - 1 = 1.8,
--      1.8 / 140 = 0.0128571.. up 0.012858 < 0.013; 1.5: 2 / 150 = 0.013334 >= 0.013):
--      close 8.6.  A flat rate with a constant add-on could not be helped by a partial
--      close; the curve's rate falls with the size.
--   2: Q' = 3 q_r, the same bound rate(q_r) < 0.013; in (2, 3] (2 + 3 (q_r - 2)) /
--      (100 q_r) < 0.013 <=> q_r < 2.3529..: rest 2.3 (2.9 / 230 = 0.0126086.. up 0.012609;
--      2.4: 3.2 / 240 = 0.013334): close 1.7.
--   4: fraction 0.5: close 5, the rest 5 with 15 still flagged (rate (4.5 + 10) / 500 = 0.029,
--      MM 500 * 0.04 = 20 >= 15): one step, a follow-up due 30 s later.
CALL isomargin.liquidation_worker('w1');
SELECT position_key ->> 'id' AS pos, method, mark_price, size_before, closed_size, bankruptcy_price,
       released_margin, realized_pnl, settlement, amount, size_after, margin_after
  FROM isomargin.insurance_ledger WHERE positions = 'dyn.positions2'::regclass ORDER BY id;
SELECT position_key ->> 'id' AS pos, due_at - now() > '29 s' AS due_later
  FROM isomargin.liquidation_followups WHERE positions = 'dyn.positions2'::regclass;

-- The rests: 1 (1.4 with 4.2: MM 140 * 0.023858 = 3.34012 < 0.8 * 4.2 = 3.36) and 2 (2.3
-- with 6.9: MM 230 * 0.023609 = 5.43007 < 5.52) ok; 4 (5 with 15) liquidate until its
-- follow-up.  Each status against the dynamic figures with the add-on recomputed from the
-- levels themselves (liquidity_addon, not the curve).
SELECT p.id, p.size, p.margin, p.status,
       isomargin.dynamic_margin_status(p.size, p.entry_price, 100, p.margin,
           0.001 + isomargin.liquidity_addon(p.size, 100,
                       CASE WHEN p.size > 0 THEN '{99, 98, 97}' ELSE '{101, 103}' END::numeric[],
                       CASE WHEN p.size > 0 THEN '{1, 1, 0.5}' ELSE '{2, 1}' END::numeric[], 0.01),
           0.01) AS recomputed
  FROM dyn.positions2 p ORDER BY p.id;
-- The public sizing takes the same add-on and curve: 8.6 and 1.7 with lot 0.1; with lot 1
-- (a rest of whole contracts) 9 and 2 (rests 1 and 2: rate 0.01 < 0.013); without the
-- curve both positions are ok (0); a NULL curve is none; any other NULL gives NULL.
SELECT isomargin.liquidation_size(10, 100, 100, 30, 0.01, policy => '{"method": "smallest", "lot_size": 0.1}',
                                  addon_rate => 0.001, liquidity_curve => i.curve) AS long_1,
       isomargin.liquidation_size(-4, 100, 100, 12, 0.01, policy => '{"method": "smallest", "lot_size": 0.1}',
                                  addon_rate => 0.001, liquidity_curve => i.curve) AS short_2,
       isomargin.liquidation_size(10, 100, 100, 30, 0.01, policy => '{"method": "smallest", "lot_size": 1}',
                                  addon_rate => 0.001, liquidity_curve => i.curve) AS long_1_lot_1,
       isomargin.liquidation_size(-4, 100, 100, 12, 0.01, policy => '{"method": "smallest", "lot_size": 1}',
                                  addon_rate => 0.001, liquidity_curve => i.curve) AS short_2_lot_1,
       isomargin.liquidation_size(10, 100, 100, 30, 0.01, policy => '{"method": "smallest", "lot_size": 0.1}',
                                  addon_rate => 0.001) AS long_1_no_curve,
       isomargin.liquidation_size(10, 100, 100, 30, 0.01, addon_rate => 0.001, liquidity_curve => NULL) AS null_curve,
       isomargin.liquidation_size(10, 100, 100, 30, 0.01, addon_rate => NULL, liquidity_curve => i.curve) AS null_addon
  FROM dyn.instruments2 i WHERE i.symbol = 'BTC';
-- Refused: a negative add-on, a curve of the other kind (22023).
SELECT isomargin.liquidation_size(10, 100, 100, 30, 0.01, addon_rate => -0.001);
SELECT isomargin.liquidation_size(10, 100, 100, 30, 0.01, kind => 'inverse', liquidity_curve => i.curve)
  FROM dyn.instruments2 i WHERE i.symbol = 'BTC';

-- Smallest: one lot less closed would leave a flagged-or-thin rest (1: 8.5 leaves 1.5,
-- 2: 1.6 leaves 2.4), as liquidation_rest_ok says with the rest's own add-on.
SELECT isomargin.liquidation_rest_ok(10, 100, 100, 30, 8.5, 0.01, NULL, 1, 'linear', 0, 0, 0.25,
                                     0.001, i.curve, 0.8) AS rest_1_5,
       isomargin.liquidation_rest_ok(10, 100, 100, 30, 8.6, 0.01, NULL, 1, 'linear', 0, 0, 0.25,
                                     0.001, i.curve, 0.8) AS rest_1_4,
       isomargin.liquidation_rest_ok(-4, 100, 100, 12, 1.6, 0.01, NULL, 1, 'linear', 0, 0, 0.25,
                                     0.001, i.curve, 0.8) AS rest_2_4,
       isomargin.liquidation_rest_ok(-4, 100, 100, 12, 1.7, 0.01, NULL, 1, 'linear', 0, 0, 0.25,
                                     0.001, i.curve, 0.8) AS rest_2_3
  FROM dyn.instruments2 i WHERE i.symbol = 'BTC';

-- ---------------------------------------------------------------- 3. nothing flagged again

-- Enforcement agrees with every stored status and price; the worker's own events are
-- acknowledged as settled; nothing is left to claim but SOL's follow-up, not yet due.
SELECT count(*) AS differ FROM isomargin.verify('dyn.positions');
SELECT count(*) AS differ FROM isomargin.verify('dyn.positions2');
SELECT positions::text, position_key ->> 'id' AS pos, old_status, new_status, cause, claimed_by
  FROM isomargin.events WHERE positions IN ('dyn.positions'::regclass, 'dyn.positions2'::regclass)
 ORDER BY id;
SELECT isomargin.liquidate_next('w2') AS more_work;

-- Every ledger row recomputed from its inputs: released M k / |q|, PnL sign(q) k (fill - E),
-- the bankruptcy price E - M / q (contract size 1, linear), the fund covers or receives every
-- step (no fee), and the rest.
SELECT count(*) AS rows,
       count(*) FILTER (WHERE released_margin <> margin_before * closed_size / abs(size_before)
                           OR realized_pnl <> sign(size_before) * closed_size * (mark_price - entry_price)
                           OR bankruptcy_price <> entry_price - margin_before / size_before
                           OR settlement <> released_margin + realized_pnl
                           OR amount <> settlement OR liquidation_fee <> 0 OR adl_size <> 0
                           OR size_after <> size_before - sign(size_before) * closed_size
                           OR margin_after <> margin_before - released_margin
                           OR amount <> sign(size_before) * closed_size * (mark_price - bankruptcy_price)) AS differ
  FROM isomargin.insurance_ledger
 WHERE positions IN ('dyn.positions'::regclass, 'dyn.positions2'::regclass) AND entry = 'liquidation';
SELECT f.positions::text, f.fund, f.balance, b.balance AS sum_of_rows
  FROM isomargin.insurance_funds f JOIN isomargin.insurance_balances b USING (positions, fund)
 WHERE f.positions IN ('dyn.positions'::regclass, 'dyn.positions2'::regclass) ORDER BY 1, 2;

SELECT isomargin.unenforce('dyn.positions');
SELECT isomargin.unenforce('dyn.positions2');
TRUNCATE isomargin.events, isomargin.insurance_ledger, isomargin.insurance_funds,
         isomargin.liquidation_settings, isomargin.liquidation_followups RESTART IDENTITY;
DROP SCHEMA dyn CASCADE;
