-- The liquidation engine applies enforcement's rule: every status it asks
-- for is at the attachment's margin_call_ratio (enforce's setting), not at
-- assess's default 0.8 (doc/liquidation.md, "The attachment's margin-call ratio").
\set SHOW_CONTEXT never

-- ---------------------------------------------------------------- 1. a rest at a ratio of 0.7
-- T2, policy smallest (buffer 0.25), ratio 0.7.  q = 10 at 20,000 with M = 105,000.
CREATE TABLE lr_instruments (symbol text PRIMARY KEY, tiers isomargin.tiers NOT NULL);
CREATE TABLE lr_marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE lr_positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                           entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO lr_instruments VALUES ('ETH', '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50; 100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10; 2000000..10000000 mmr=0.1 max_leverage=5}');
INSERT INTO lr_marks VALUES ('ETH', 20000);
INSERT INTO lr_positions VALUES (1, 'ETH', 10, 20000, 105000);
SELECT isomargin.enforce('lr_positions', 'lr_marks', 'lr_instruments', margin_call_ratio => 0.7)
       ->> 'id' IS NOT NULL AS enforced;
SELECT isomargin.liquidation_setup('lr_positions', isomargin.liquidation_policy('smallest'));
SELECT isomargin.insurance_deposit('lr_positions', 'ETH', 1000);
-- At 9,590: Q = 105,000 - 104,100 = 900 <= MM = 959 - 50 = 909: liquidate.
UPDATE lr_marks SET mark_price = 9590;
SELECT id, status FROM lr_positions;
CALL isomargin.liquidation_worker('w1');
-- smallest: 90 q_r > 1.25 (95.9 q_r - 50) <=> q_r < 2.0920502092...: k = 7.90794980, the rest
-- 2.09205020 with M' = 105,000 * 0.209205020 = 21,966.5271: Q' = 21,966.5271 - 2.0920502 * 10,410
-- = 188.284518, MM' = 2.0920502 * 95.9 - 50 = 150.62761418.  MM'/Q' = 0.79999999...:
-- margin_call at 0.7 (150.62761418 >= 131.7991626), ok at 0.8 (< 150.6276144).
SELECT id, size, margin, status FROM lr_positions;
SELECT closed_size, size_after, margin_after FROM isomargin.insurance_ledger
 WHERE positions = 'lr_positions'::regclass AND entry = 'liquidation';
-- The status of that rest: the old engine asked at 0.8 (ok), enforcement stores margin_call;
-- the engine now asks at the attachment's 0.7, and agrees.
SELECT (isomargin.assess_rule(p.size, p.entry_price, 9590, p.margin, NULL, i.tiers, 1, 'linear', 0, 0, 0.8)).status
         AS at_0_8,
       (isomargin.assess_rule(p.size, p.entry_price, 9590, p.margin, NULL, i.tiers, 1, 'linear', 0, 0,
                              e.margin_call_ratio)).status AS at_attachment,
       p.status AS stored
  FROM lr_positions p JOIN lr_instruments i USING (symbol),
       isomargin.enforcement e WHERE e.positions = 'lr_positions'::regclass;
SELECT count(*) AS differ FROM isomargin.verify('lr_positions');

-- enforce_settings changes the ratio (and re-prices): the engine reads it with the settings
-- on every call.  The rest at 0.85: MM'/Q' = 0.7999... < 0.85: ok.
SELECT isomargin.enforce_settings('lr_positions', margin_call_ratio => 0.85) ->> 'margin_call_ratio' AS ratio;
SELECT id, status FROM lr_positions;
SELECT (isomargin.assess_rule(p.size, p.entry_price, 9590, p.margin, NULL, i.tiers, 1, 'linear', 0, 0,
                              e.margin_call_ratio)).status AS at_attachment,
       p.status AS stored
  FROM lr_positions p JOIN lr_instruments i USING (symbol),
       isomargin.enforcement e WHERE e.positions = 'lr_positions'::regclass;
SELECT count(*) AS differ FROM isomargin.verify('lr_positions');

-- ---------------------------------------------------------------- 2. a ratio the default cannot stand in for
-- mmr 0.85 with ratio 0.9 (enforce accepts it: 0.9 > 0.85).  assess's default 0.8 is not
-- above 0.85, so the old engine's check raised 22023 and its worker failed on every claim,
-- leaving the position flagged.  A short of 1 at 100 with M = 100: at 110 Q = 200 - 110 = 90
-- <= MM = 0.85 * 110 = 93.5: liquidate.
CREATE TABLE lr_instruments2 (symbol text PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE lr_marks2 (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE lr_positions2 (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                            entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO lr_instruments2 VALUES ('HI', 0.85);
INSERT INTO lr_marks2 VALUES ('HI', 100);
-- at 100: Q = 100, MM = 85 < 0.9 * 100: ok
INSERT INTO lr_positions2 VALUES (1, 'HI', -1, 100, 100), (2, 'HI', -1, 100, 200);
SELECT isomargin.enforce('lr_positions2', 'lr_marks2', 'lr_instruments2', margin_call_ratio => 0.9)
       ->> 'id' IS NOT NULL AS enforced;
SELECT isomargin.liquidation_setup('lr_positions2');
SELECT isomargin.insurance_deposit('lr_positions2', 'HI', 1000);
-- 2 at 110: Q = 190, MM = 93.5 < 0.9 * 190 = 171: ok.
UPDATE lr_marks2 SET mark_price = 110;
SELECT id, status FROM lr_positions2 ORDER BY id;
-- What the old engine asked (the default ratio): refused.  At the attachment's ratio: 1.
SELECT isomargin.liquidation_size(-1, 100, 110, 100, 0.85);
SELECT isomargin.liquidation_size(-1, 100, 110, 100, 0.85, margin_call_ratio => 0.9);
CALL isomargin.liquidation_worker('w1');
-- 1 closed whole at 110: released 100, PnL -10, to the fund 90.
SELECT position_key ->> 'id' AS pos, closed_size, released_margin, realized_pnl, amount, size_after
  FROM isomargin.insurance_ledger WHERE positions = 'lr_positions2'::regclass AND entry = 'liquidation'
 ORDER BY id;
SELECT id, size, margin, status FROM lr_positions2 ORDER BY id;
SELECT count(*) AS differ FROM isomargin.verify('lr_positions2');
-- Nothing left to claim.
SELECT isomargin.liquidate_next('w2');

-- The public sizing takes the ratio too: a NULL one gives NULL.
SELECT isomargin.liquidation_size(-1, 100, 110, 100, 0.85, margin_call_ratio => NULL) IS NULL AS null_ratio;

SELECT isomargin.unenforce('lr_positions');
SELECT isomargin.unenforce('lr_positions2');
TRUNCATE isomargin.adl_fills, isomargin.adl_queue, isomargin.insurance_ledger, isomargin.insurance_funds,
         isomargin.liquidation_followups, isomargin.liquidation_settings, isomargin.events RESTART IDENTITY;
DROP TABLE lr_positions, lr_marks, lr_instruments, lr_positions2, lr_marks2, lr_instruments2;
