-- The liquidation engine under venue conventions, the cases
-- sql/liquidation_conventions.sql leaves out (issue 16, doc/liquidation.md
-- "Under venue conventions"): inverse contracts with tiers by contracts
-- (tier_basis 'contracts', sizing smallest and the okx preset) and with tiers
-- in the coin under mm_basis 'entry' (smallest), and the
-- hyperliquid preset on tiers under mm_basis 'entry' (its fraction and its
-- backstop).  Each decision beside enforcement's stored status, assess under
-- the conventions and what the engine decides with no convention; every
-- figure worked out by hand in the comments; the worker's ledger rows
-- recomputed independently; the rests left ok or margin_call.
\set SHOW_CONTEXT never
TRUNCATE isomargin.events RESTART IDENTITY;
CREATE SCHEMA convinv;

-- Inverse, contracts of 100 USD, OKX's step tiers by contracts (amounts=none):
-- 0..500 contracts 0.4%, 500..1,000 0.6%, 1,000..2,000 1%; margin in BTC.
-- INVE: inverse, contracts of 100 USD, tiers in BTC (derived amounts A = 0, 0.005, 0.105:
-- 0..1 BTC 0.5%, 1..10 1%, 10..50 2%), mm_basis 'entry' (the rate on the entry's notional,
-- the bracket by it).
-- HYPE: linear, T2 (derived amounts A = 0, 50, 1,050, 16,050), mm_basis 'entry'.
\set okx '''{amounts=none; 0..500 mmr=0.004 max_leverage=100; 500..1000 mmr=0.006 max_leverage=75; 1000..2000 mmr=0.01 max_leverage=50}''::isomargin.tiers'
\set coin '''{0..1 mmr=0.005 max_leverage=100; 1..10 mmr=0.01 max_leverage=50; 10..50 mmr=0.02 max_leverage=25}''::isomargin.tiers'
\set lin '''{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50; 100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10; 2000000..10000000 mmr=0.1 max_leverage=5}''::isomargin.tiers'
CREATE TABLE convinv.instruments (symbol text PRIMARY KEY, tiers isomargin.tiers NOT NULL,
                                  kind isomargin.contract_kind NOT NULL, contract_size numeric NOT NULL,
                                  fee_rate numeric NOT NULL, mm_basis isomargin.mm_basis,
                                  tier_basis isomargin.tier_basis);
CREATE TABLE convinv.marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE convinv.positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                                entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO convinv.instruments VALUES
    ('INV', :okx, 'inverse', 100, 0, NULL, 'contracts'),
    ('INVOKX', :okx, 'inverse', 100, 0, NULL, 'contracts'),
    ('INVE', :coin, 'inverse', 100, 0, 'entry', NULL),
    ('HYPE', :lin, 'linear', 1, 0, 'entry', NULL);
INSERT INTO convinv.marks VALUES ('INV', 40000), ('INVOKX', 40000), ('INVE', 40000), ('HYPE', 20000);
INSERT INTO convinv.positions VALUES
    (1, 'INV', 800, 40000, 0.1165),
    (2, 'INVOKX', 1500, 40000, 0.23),
    (3, 'HYPE', 10, 20000, 12900),
    (4, 'HYPE', 10, 20000, 11900),
    (5, 'INVE', 3900, 40000, 0.6);
SELECT isomargin.enforce('convinv.positions', 'convinv.marks', 'convinv.instruments') IS NOT NULL AS enforced;
SELECT isomargin.liquidation_setup('convinv.positions', '{"method": "smallest", "lot_size": 1}',
           jsonb_build_object('INVOKX', isomargin.liquidation_policy('okx') || '{"lot_size": 1}',
                              'HYPE', isomargin.liquidation_policy('hyperliquid')));

-- The marks move.  Inverse: N(P) = q x 100/P BTC, PnL = q x 100 x (1/E - 1/P).
--   1 INV long 800 at 40,000, M 0.1165, at 38,000: PnL = 2 - 2.1052631578.. =
--     -0.1052631578..; Q = 0.0112368421..; 800 contracts are in bracket 2 (500 < 800 <=
--     1,000): MM = 2.1052631578.. x 0.006 = 0.0126315789..: liquidate.  By notional (the
--     default tier basis) 2.1 BTC is bracket 1: MM 0.0084210526.., 0.749 of Q: margin_call.
--   2 INVOKX long 1,500 at 40,000, M 0.23, at 38,000: PnL = 3.75 - 3.9473684210.. =
--     -0.1973684210..; Q = 0.0326315789..; bracket 3: MM = 3.9473684210.. x 0.01 =
--     0.0394736842..: liquidate (by notional: bracket 1, MM 0.0157894736.., 0.484: ok).
--   3 HYPE long 10 at 20,000, M 12,900, at 19,000: Q = 2,900; the entry basis: N(E)
--     200,000, bracket 3: MM = 4,000 - 1,050 = 2,950 >= Q: liquidate (mark basis: 3,800 -
--     1,050 = 2,750 < 2,900, >= 0.8 x 2,900: margin_call).
--   4 HYPE long 10 at 20,000, M 11,900, at 19,000: Q = 1,900, MM 2,950: liquidate (mark
--     basis: 2,750: liquidate too).
--   5 INVE long 3,900 at 40,000, M 0.6, at 38,000: PnL = 9.75 - 10.2631578947.. =
--     -0.5131578947..; Q = 0.0868421052..; the entry basis: N(E) 9.75 BTC, bracket 2:
--     MM = 9.75 x 0.01 - 0.005 = 0.0925 >= Q: liquidate (mark basis: N(P) 10.2631578947..,
--     bracket 3: MM = 0.2052631578.. - 0.105 = 0.1002631578..: liquidate too, sized otherwise).
UPDATE convinv.marks SET mark_price = CASE symbol WHEN 'HYPE' THEN 19000 ELSE 38000 END;

-- The hand figures, by an independent query (plain numeric arithmetic, no
-- isomargin function): equity and the maintenance under each instrument's
-- convention, the same under the mark basis by notional.
SELECT p.id, round(q.eq, 16) AS equity, round(q.mm, 16) AS mm_convention, round(q.mm_mark, 16) AS mm_mark_basis,
       CASE WHEN q.mm >= q.eq THEN 'liquidate' WHEN q.mm >= 0.8 * q.eq THEN 'margin_call' ELSE 'ok' END AS by_hand
  FROM convinv.positions p JOIN convinv.marks m USING (symbol),
       LATERAL (SELECT CASE p.symbol WHEN 'HYPE' THEN p.margin + p.size * (m.mark_price - p.entry_price)
                       ELSE p.margin + p.size * 100 * (1 / p.entry_price::numeric - 1 / m.mark_price) END AS eq,
                       CASE p.symbol WHEN 'HYPE' THEN p.size * p.entry_price * 0.02 - 1050
                       WHEN 'INVE' THEN p.size * 100 / p.entry_price * 0.01 - 0.005
                       ELSE p.size * 100 / m.mark_price
                            * CASE WHEN p.size <= 500 THEN 0.004 WHEN p.size <= 1000 THEN 0.006 ELSE 0.01 END END AS mm,
                       CASE p.symbol WHEN 'HYPE' THEN p.size * m.mark_price * 0.02 - 1050
                       WHEN 'INVE' THEN p.size * 100 / m.mark_price * 0.02 - 0.105
                       ELSE p.size * 100 / m.mark_price * 0.004 END AS mm_mark) q
 ORDER BY p.id;

-- The sizing:
--   1 (smallest, buffer 0.25, lot 1): per contract Q/q = 0.0000140460526..; n_P = 100/38,000
--     = 0.0026315789..; bracket 2 (q_r in (500, 800)): 1.25 x 0.006 x n_P = 0.0000197368.. >
--     Q/q: no rest; bracket 1 (q_r <= 500): 1.25 x 0.004 x n_P = 0.0000131578.. < Q/q: every
--     rest up to 500 is healthy: rest 500, close 300.  (Mark basis, by notional: a margin
--     call, 0.)
--   2 (okx: tiers_down 2): bracket 3 -> down to bracket 1's cap, 500 contracts: close 1,000
--     (Q 0.0326.. > the whole at bracket 1's rate, 0.0157..: not whole).  (Mark basis: ok, 0.)
--   3 (hyperliquid: fraction 0.2 above 100,000 of notional at the mark, backstop Q < 2/3 MM):
--     notional 190,000 > 100,000; 2,900 >= 2/3 x 2,950 = 1,966.67: close 20%, 2.  (Mark
--     basis: margin_call, 0.)
--   4: 1,900 < 1,966.67: the backstop, whole, 10.  (Mark basis: MM 2,750, 2/3 = 1,833.33 <
--     1,900: one 20% step, 2.)
--   5 (smallest, lot 1): Q/q = 0.0000222672064..; the rate on n_E = 100/40,000 = 0.0025, the
--     bracket of q_r n_E, bracket 2 for q_r in (400, 4,000]: 0.0000222672064.. q_r > 1.25
--     (0.000025 q_r - 0.005) <=> 0.0000089827935.. q_r < 0.00625 <=> q_r < 695.77..: rest
--     695, close 3,205 (rest 695: Q 0.0154757085.., MM 0.012375, x 1.25 = 0.01546875 < Q;
--     696: Q 0.0154979757.., 1.25 x 0.0124 = 0.0155: no).  (Mark basis: n_P = 100/38,000,
--     bracket 2 by q_r n_P for q_r in (380, 3,800]: 0.0000222672064.. q_r > 1.25 (0.0000263157894..
--     q_r - 0.005) <=> q_r < 588.09..: rest 588, close 3,312.)
CREATE VIEW convinv.decisions AS
SELECT p.id, p.symbol, p.status AS enforcement, a.status AS assess_status,
       isomargin.liquidation_size(p.size, p.entry_price, m.mark_price, p.margin, i.tiers,
           i.contract_size, i.kind, fee_rate => i.fee_rate,
           policy => coalesce(s.symbol_policies -> p.symbol, s.policy),
           mm_basis => coalesce(i.mm_basis, 'mark'), tier_basis => coalesce(i.tier_basis, 'notional')) AS engine,
       isomargin.liquidation_size(p.size, p.entry_price, m.mark_price, p.margin, i.tiers,
           i.contract_size, i.kind, fee_rate => i.fee_rate,
           policy => coalesce(s.symbol_policies -> p.symbol, s.policy)) AS mark_basis
  FROM convinv.positions p JOIN convinv.instruments i USING (symbol) JOIN convinv.marks m USING (symbol),
       isomargin.liquidation_settings s,
       LATERAL isomargin.assess(p.size, p.entry_price, m.mark_price, p.margin, i.tiers, i.contract_size, i.kind,
           fee_rate => i.fee_rate, mm_basis => coalesce(i.mm_basis, 'mark'),
           tier_basis => coalesce(i.tier_basis, 'notional')) a
 WHERE s.positions = 'convinv.positions'::regclass;
SELECT * FROM convinv.decisions ORDER BY id;

-- 1 and 5 by brute force: every close k on the lot grid, the rest with its
-- share of the margin assessed under the instrument's convention; the smallest
-- whose rest is healthy (not flagged, equity > 1.25 x maintenance).  Closing
-- 299 of 1 leaves 501 in bracket 2: 0.0000140460526.. < 1.25 x 0.006 x n_P.
SELECT min(k) AS brute_force_1
  FROM generate_series(1, 799) AS k,
       LATERAL isomargin.assess(800 - k, 40000, 38000, 0.1165 * (800 - k) / 800, :okx, 100, 'inverse',
                                tier_basis => 'contracts') AS r
 WHERE r.status < 'liquidate' AND r.equity > 1.25 * r.maintenance_margin;
SELECT min(k) AS brute_force_5
  FROM generate_series(1, 3899) AS k,
       LATERAL isomargin.assess(3900 - k, 40000, 38000, 0.6 * (3900 - k) / 3900, :coin, 100, 'inverse',
                                mm_basis => 'entry') AS r
 WHERE r.status < 'liquidate' AND r.equity > 1.25 * r.maintenance_margin;

-- ---------------------------------------------------------------- the worker

CALL isomargin.liquidation_worker('w1');

-- The ledger, one step per flagged position, settled at the bankruptcy price
-- (no convention changes it): released M k/|q|, PnL k cs (1/E - 1/P) inverse,
-- k (P - E) linear, recomputed here:
--   1: released 0.1165 x 300/800 = 0.0436875, PnL 30,000 x (1/40,000 - 1/38,000) =
--     -0.0394736842..: 0.0042138157.. to the fund; 1/BP = 1/E + M/(q cs): BP = 80,000/2.1165 =
--     37,798.2518308.. (up)
--   2: released 0.23 x 1,000/1,500 = 0.1533333.., PnL 100,000 x (..) = -0.1315789473..:
--     0.0217543859..; BP = 150,000/3.98 = 37,688.4422110.. (the released margin to 16
--     decimals, 0.1533333333333333: recomputed to within 10^-15)
--   3: released 12,900 x 0.2 = 2,580, PnL 2 x -1,000 = -2,000: 580; BP 20,000 - 1,290 = 18,710
--   4: released 11,900, PnL -10,000: 1,900; BP 18,810
--   5: released 0.6 x 3,205/3,900 = 0.4930769230.., PnL 320,500 x (1/40,000 - 1/38,000) =
--     8.0125 - 8.4342105263.. = -0.4217105263..: 0.0713663967..; 1/BP = 1/40,000 + 0.6/390,000:
--     BP = 37,681.1594202.. (up)
SELECT l.position_key ->> 'id' AS pos, l.method, l.closed_size, l.released_margin, l.realized_pnl,
       l.settlement, l.bankruptcy_price, l.size_after, l.margin_after,
       l.bankruptcy_price = isomargin.bankruptcy_price(l.size_before, l.entry_price, l.margin_before,
           i.contract_size, i.kind) AS bp_convention_free,
       abs(l.released_margin - l.margin_before * l.closed_size / abs(l.size_before)) < 1e-15
       AND abs(l.realized_pnl - sign(l.size_before) * l.closed_size * i.contract_size
               * CASE i.kind WHEN 'inverse' THEN 1 / l.entry_price - 1 / l.mark_price
                             ELSE l.mark_price - l.entry_price END) < 1e-15
       AND l.settlement = l.released_margin + l.realized_pnl AS recomputed
  FROM isomargin.insurance_ledger l JOIN convinv.instruments i USING (symbol)
 WHERE l.entry = 'liquidation' AND l.positions = 'convinv.positions'::regclass
 ORDER BY (l.position_key ->> 'id')::int;

-- After: every rest is stored as its conventions give it (verify finds no row
-- to differ), not flagged, and the engine closes nothing more:
--   1: rest 500 with 0.0728125: Q = 0.0728125 - 0.0657894736.. = 0.0070230263..; bracket 1:
--     MM = 1.3157894736.. x 0.004 = 0.0052631578.., 0.749 of Q: ok
--   2: rest 500 with 0.0766666..: Q = 0.0108771929..; MM 0.0052631578.., 0.484: ok
--   3: rest 8 with 10,320: Q = 2,320; N(E) 160,000, bracket 3: MM = 3,200 - 1,050 = 2,150,
--     0.927 of Q: margin_call, no step and no follow-up (by the mark basis the engine
--     would have left it alone from the start)
--   4: closed: size 0, margin 0
--   5: rest 695 with 0.1069230769..: Q 0.0154757085.., MM 0.012375 (N(E) 1.7375, bracket
--     2), 0.7996 of Q: ok
SELECT d.id, p.size, p.margin, d.enforcement, d.assess_status, d.engine
  FROM convinv.decisions d JOIN convinv.positions p USING (id) ORDER BY d.id;
SELECT count(*) AS differ FROM isomargin.verify('convinv.positions');
SELECT count(*) AS followups FROM isomargin.liquidation_followups;
SELECT count(*) AS unclaimed_flags FROM isomargin.events
 WHERE claimed_at IS NULL AND new_status >= 'liquidate';

SELECT isomargin.unenforce('convinv.positions');
TRUNCATE isomargin.adl_fills, isomargin.adl_queue, isomargin.insurance_ledger, isomargin.insurance_funds,
         isomargin.liquidation_followups, isomargin.liquidation_settings, isomargin.events;
DROP SCHEMA convinv CASCADE;
