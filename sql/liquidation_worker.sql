-- The liquidation worker (issue 16 items 3, 4, 5): a flat BTC book crashes,
-- the worker liquidates every flagged position at the mark, settles it at the
-- bankruptcy price, books the insurance fund, deleverages the top-ranked
-- short when the fund cannot cover, and acknowledges its own events.
\set SHOW_CONTEXT never
CREATE TABLE instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO instruments VALUES ('BTC', 0.004);
INSERT INTO marks VALUES ('BTC', 30000);
INSERT INTO positions VALUES
    (1, 'BTC', 1, 30000, 3000),     -- BP 27,000
    (2, 'BTC', 1, 30000, 2050),     -- BP 27,950
    (3, 'BTC', 2, 30000, 2500),     -- BP 28,750
    (4, 'BTC', 1, 30000, 2300),     -- BP 27,700
    (5, 'BTC', 1, 30000, 2700),     -- BP 27,300, LP 27,409.63855...
    (10, 'BTC', -1, 31000, 3000),
    (11, 'BTC', -2, 30000, 1000),
    (12, 'BTC', -0.5, 27000, 2000);
SELECT isomargin.enforce('positions', 'marks', 'instruments') IS NOT NULL AS enforced;

-- Not enforced, unknown keys, a bad policy: refused.
SELECT isomargin.liquidation_setup('marks');
SELECT isomargin.liquidation_setup('positions', '{"method": "all"}');
SELECT isomargin.liquidation_setup('positions', symbol_policies => '{"BTC": {"buffer": -1}}');
SELECT isomargin.liquidation_setup('positions', isomargin.liquidation_policy('whole'));
SELECT isomargin.insurance_deposit('positions', 'BTC', 1000);

-- The crash to 27,400.  Equity Q = M + q*(27,400 - 30,000):
--   1: 400 > MM 109.6, 0.8*400 >= 109.6: ok
--   2: 2,050 - 2,600 = -550: bankrupt      3: 2,500 - 5,200 = -2,700: bankrupt
--   4: 2,300 - 2,600 = -300: bankrupt      5: 2,700 - 2,600 = 100 <= 109.6: liquidate
UPDATE marks SET mark_price = 27400;
SELECT id, status FROM positions ORDER BY id;

-- Nothing claimed before the worker runs; every event is the worker's.
CALL isomargin.liquidation_worker('w1');

-- The ledger, in event order (2, 3, 4, 5), policy whole, fill at the mark 27,400:
--   2: released 2,050, PnL -2,600, to the fund -550: the fund (1,000) pays: 450 left
--   3: released 2,500, PnL -5,200, -2,700 > 450: ADL, settlement 0, shortfall 2,700, 2 contracts
--      at BP 28,750
--   4: released 2,300, PnL -2,600: the fund pays 300: 150 left
--   5: released 2,700, PnL -2,600: the fund receives 100: 250
SELECT id, entry, position_key ->> 'id' AS pos, method, mark_price, closed_size, bankruptcy_price,
       released_margin, realized_pnl, settlement, liquidation_fee, amount, adl_size, shortfall,
       size_after, margin_after
  FROM isomargin.insurance_ledger ORDER BY id;
-- The balance is the sum of the rows: 1,000 - 550 + 0 - 300 + 100 = 250.
SELECT f.fund, f.balance, b.balance AS sum_of_rows, b.rows
  FROM isomargin.insurance_funds f JOIN isomargin.insurance_balances b USING (positions, fund);

-- ADL: at 27,400 the shorts rank (ROE x effective leverage):
--   11: U = 5,200, ROE 5.2, N/Q = 54,800/6,200 = 8.8387096774193548... up -> 8.8387096774193549:
--       45.96129032258064548
--   10: U = 3,600, ROE 1.2, N/Q = 27,400/6,600 = 4.1515151515151515... up: 4.98181818181818192
--   12: U = -250: ROE -0.125 (last)
-- 11 takes both contracts at 28,750: released 1,000, PnL -2*(28,750 - 30,000) = 2,500, cash 3,500.
SELECT side, size, price, shortfall, assigned_size, assigned_at IS NOT NULL AS assigned FROM isomargin.adl_queue;
SELECT position_key ->> 'id' AS pos, rank, closed_size, price, released_margin, realized_pnl, cash,
       size_after, margin_after
  FROM isomargin.adl_fills ORDER BY id;

-- Positions after: the liquidated ones closed (size 0, ok), 11 deleveraged to 0, the rest as before.
SELECT id, size, margin, status FROM positions ORDER BY id;

-- Every event claimed and acknowledged (through claim_events and ack_events): the
-- crash's by w1, the ones the worker's own closes made by 'w1 (settled)' (and 'adl
-- (settled)' for the deleveraged short; its status did not change).
SELECT position_key ->> 'id' AS pos, old_status, new_status, claimed_by, acked_at IS NOT NULL AS acked
  FROM isomargin.events ORDER BY id;
-- A second worker finds nothing.
SELECT isomargin.liquidate_next('w2');

-- The ledger is append-only.
UPDATE isomargin.insurance_ledger SET amount = 0;
DELETE FROM isomargin.insurance_ledger;

-- Tiers, okx policy: an ETH position in bracket 4 steps down two brackets in one
-- transaction, the rest stays open and ok.  Schedule T2's; q = 50 at 20,000, M = 80,000.
CREATE TABLE instruments2 (symbol text PRIMARY KEY, tiers isomargin.tiers NOT NULL, fee_rate numeric NOT NULL DEFAULT 0);
CREATE TABLE marks2 (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE positions2 (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                         entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO instruments2 VALUES ('ETH', '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50; 100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10; 2000000..10000000 mmr=0.1 max_leverage=5}');
INSERT INTO marks2 VALUES ('ETH', 20000);
INSERT INTO positions2 VALUES (1, 'ETH', 50, 20000, 80000), (2, 'ETH', 50, 20000, 80000);
SELECT isomargin.enforce('positions2', 'marks2', 'instruments2') IS NOT NULL AS enforced;
SELECT isomargin.liquidation_setup('positions2', '{"method": "tiers", "lot_size": 1}',
                                   '{"ETH": {"method": "fraction", "lot_size": 1, "cooldown": 30}}');
SELECT isomargin.liquidation_setup('positions2', '{"method": "tiers", "lot_size": 1}');
UPDATE marks2 SET mark_price = 19000;
-- At 19,000: Q = 30,000, MM 31,450: liquidate.  okx closes 45 (the rest 5, N = 95,000 in
-- bracket 2): released 80,000*45/50 = 72,000, PnL 45*(19,000 - 20,000) = -45,000, to the fund
-- 27,000; the rest 5 with 8,000: Q = 3,000 > MM 950 - 50 = 900, 0.8*3,000 >= 900: ok.
SELECT isomargin.liquidate_next('w1');
SELECT id, size, margin, status FROM positions2 ORDER BY id;
SELECT position_key ->> 'id' AS pos, method, closed_size, released_margin, realized_pnl, settlement, amount, size_after, margin_after
  FROM isomargin.insurance_ledger WHERE positions = 'positions2'::regclass ORDER BY id;

-- A cooldown: fraction 2% (1 contract) with 30 s for position 2: one step (released
-- 80,000/50 = 1,600, PnL -1,000, to the fund 600); the rest, 49 with 78,400, is still flagged
-- (Q = 78,400 - 49,000 = 29,400 <= MM 46,550 - 16,050 = 30,500), so a follow-up is due 30 s
-- after the step, not now: the next call finds nothing.
SELECT isomargin.liquidation_setup('positions2', '{"method": "fraction", "fraction": 0.02, "lot_size": 1, "cooldown": 30}');
BEGIN;
SELECT isomargin.liquidate_next('w1');
SELECT id, size, margin, status FROM positions2 ORDER BY id;
SELECT position_key ->> 'id' AS pos, closed_size, amount FROM isomargin.insurance_ledger
 WHERE positions = 'positions2'::regclass ORDER BY id;
SELECT position_key ->> 'id' AS pos, due_at - now() AS due_in FROM isomargin.liquidation_followups;
COMMIT;
SELECT isomargin.liquidate_next('w1');

SELECT isomargin.unenforce('positions');
SELECT isomargin.unenforce('positions2');
TRUNCATE isomargin.adl_fills, isomargin.adl_queue, isomargin.insurance_ledger, isomargin.insurance_funds,
         isomargin.liquidation_followups, isomargin.liquidation_settings, isomargin.events;
DROP TABLE positions, marks, instruments, positions2, marks2, instruments2;
