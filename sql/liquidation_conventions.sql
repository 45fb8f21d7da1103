-- The liquidation engine under the instrument's venue conventions (issue 16,
-- doc/liquidation.md "Under venue conventions"): on attachments that map
-- mm_basis, fee_basis, maintenance_amount (a flat rate) and tier_basis,
-- bracket_basis (tiers), the engine's check, its sizing (smallest, okx's
-- tier by tier, whole), the worker and ADL agree with enforcement's status,
-- row by row.  Two attachments, because maintenance_amount goes with a flat
-- mmr and tier_basis / bracket_basis with tiers (doc/venues.md).  Every
-- figure is worked out by hand in the comments; the smallest closes are
-- checked again by a brute-force search over the lot grid with assess.
\set SHOW_CONTEXT never
TRUNCATE isomargin.events RESTART IDENTITY;
CREATE SCHEMA conv;

-- ---------------------------------------------------------------- 1. a flat rate

CREATE TABLE conv.instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL, fee_rate numeric NOT NULL,
                               mm_basis isomargin.mm_basis, fee_basis isomargin.fee_basis, cum numeric,
                               kind isomargin.contract_kind NOT NULL DEFAULT 'linear',
                               contract_size numeric NOT NULL DEFAULT 1);
CREATE TABLE conv.marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE conv.positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                             entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO conv.instruments VALUES
    ('BYBIT', 0.005, 0.00055, 'entry', 'bankruptcy', NULL),   -- Bybit's classic rule
    ('ENTRY', 0.005, 0, 'entry', NULL, NULL),
    ('FEEBP', 0.005, 0.001, NULL, 'bankruptcy', NULL),
    ('FEEADL', 0.005, 0.001, NULL, 'bankruptcy', NULL),
    ('CUM', 0.01, 0, NULL, NULL, 1300);                      -- the largest exchange's cum
-- inverse, contracts of 100 USD, all three conventions of a flat rate (cum in the coin)
INSERT INTO conv.instruments VALUES ('INV', 0.01, 0.001, 'entry', 'bankruptcy', 0.005, 'inverse', 100);
INSERT INTO conv.marks VALUES ('BYBIT', 20000), ('ENTRY', 20000), ('FEEBP', 20000), ('FEEADL', 20000),
                              ('CUM', 30000), ('INV', 40000);
INSERT INTO conv.positions VALUES
    (1, 'BYBIT', 1, 20000, 400),
    (2, 'ENTRY', 1, 20000, 400),
    (3, 'FEEBP', 1, 20000, 400),
    (4, 'CUM', 10, 30000, 30000),
    (5, 'FEEADL', 1, 20000, 400),
    (6, 'FEEADL', -2, 20000, 2000),
    (7, 'INV', 1000, 40000, 0.25);
SELECT isomargin.enforce('conv.positions', 'conv.marks', 'conv.instruments',
                         '{"maintenance_amount": "cum"}') IS NOT NULL AS enforced;
SELECT isomargin.liquidation_setup('conv.positions', '{"method": "smallest", "lot_size": 0.01}',
                                   '{"INV": {"method": "smallest", "lot_size": 1}}');

-- The marks move.  Q = M + q*(P - E); under each instrument's conventions:
--   1 BYBIT at 19,710: Q = 110; MM = N(E)*r + f*N(BP) = 100 + 0.00055*19,600 = 110.78 >= Q:
--     liquidate.  The mark basis (the engine before): 19,710*0.00555 = 109.3905 < Q: margin_call.
--   2 ENTRY at 19,699: Q = 99; MM = 20,000*0.005 = 100 >= Q: liquidate.  Mark basis:
--     19,699*0.005 = 98.495 < Q: margin_call.
--   3 FEEBP at 19,718.25: Q = 118.25; MM = 0.005*19,718.25 + 0.001*19,600 = 98.59125 + 19.6
--     = 118.19125 < Q, 118.19125 >= 0.8*Q: margin_call.  Mark basis: 0.006*19,718.25 =
--     118.3095 >= Q: liquidate.
--   4 CUM at 27,100: Q = 30,000 - 29,000 = 1,000; MM = 271,000*0.01 - 1,300 = 1,410: liquidate
--     (mark basis, no amount: 2,710, liquidate too, but it sizes differently, below).
--   5 FEEADL at 19,500: Q = 400 - 500 = -100: bankrupt.
--   6 FEEADL short 2 at 19,500: Q = 2,000 + 1,000 = 3,000; BP 21,000, fee 0.001*42,000 = 42,
--     MM = 0.005*39,000 + 42 = 237: ok.
--   7 INV long 1,000 x 100 USD at 40,000, M 0.25 BTC, at 36,600: Q = 0.25 + 100,000/40,000 -
--     100,000/36,600 = 2.75 - 2.7322404371.. = 0.0177595628..; BP = 100,000/2.75, the fee
--     0.001 x 2.75 = 0.00275; MM = N(E) r - A + fee = 2.5 x 0.01 - 0.005 + 0.00275 = 0.02275:
--     liquidate (mark basis: 2.7322404371.. x 0.011 = 0.0300546448..: liquidate too).
UPDATE conv.marks SET mark_price = CASE symbol WHEN 'BYBIT' THEN 19710 WHEN 'ENTRY' THEN 19699
                                   WHEN 'FEEBP' THEN 19718.25 WHEN 'CUM' THEN 27100
                                   WHEN 'INV' THEN 36600 ELSE 19500 END;

-- The engine's decision beside enforcement's stored status and assess's
-- (the C figures with the instrument's conventions, an independent route);
-- mark_basis is what the engine decided before (no conventions): it differs
-- for 1, 2 (0: it would leave them flagged), 3 (it would liquidate a
-- margin_call) and 4 (the whole position).  mark_basis calls liquidation_size
-- with no convention, as main's engine was called (its default path is
-- unchanged: the other liquidation tests' outputs are).
--   1, 2: a flat rate, no amount, the fee in proportion: equity and
--     maintenance both scale with the rest, so no partial close helps: 1.
--   4 (smallest, buffer 0.25, lot 0.01): the rest q_r keeps Q/q = 100 per
--     contract; MM' = 271 q_r - 1,300;  100 q_r > 1.25 (271 q_r - 1,300)
--     <=> 238.75 q_r < 1,625 <=> q_r < 6.8062827...: rest 6.80, close 3.20.
--   5: bankrupt: 1.  6: ok: 0.
--   7 (smallest, lot 1): per contract Q/q = 0.0000177595628..; n_r = 100/40,000 = 0.0025
--     (the entry), g = 0.001 x (100/40,000 + 0.25/1,000) = 0.00000275; 0.0000177595628.. q_r >
--     1.25 (0.0025 x 0.01 q_r + 0.00000275 q_r - 0.005) <=> 0.0000169279371.. q_r < 0.00625
--     <=> q_r < 369.21..: rest 369, close 631 (mark basis, no amount: everything in
--     proportion, 1,000).
CREATE VIEW conv.decisions AS
SELECT p.id, p.symbol, p.status AS enforcement, a.status AS assess_status,
       isomargin.liquidation_size(p.size, p.entry_price, m.mark_price, p.margin, i.mmr,
           i.contract_size, i.kind, fee_rate => i.fee_rate,
           policy => coalesce(s.symbol_policies -> p.symbol, s.policy), mm_basis => coalesce(i.mm_basis, 'mark'),
           fee_basis => coalesce(i.fee_basis, 'mark'), maintenance_amount => coalesce(i.cum, 0)) AS engine,
       isomargin.liquidation_size(p.size, p.entry_price, m.mark_price, p.margin, i.mmr,
           i.contract_size, i.kind, fee_rate => i.fee_rate,
           policy => coalesce(s.symbol_policies -> p.symbol, s.policy)) AS mark_basis
  FROM conv.positions p JOIN conv.instruments i USING (symbol) JOIN conv.marks m USING (symbol),
       isomargin.liquidation_settings s,
       LATERAL isomargin.assess(p.size, p.entry_price, m.mark_price, p.margin, i.mmr,
           i.contract_size, i.kind, fee_rate => i.fee_rate, mm_basis => coalesce(i.mm_basis, 'mark'),
           fee_basis => coalesce(i.fee_basis, 'mark'), maintenance_amount => coalesce(i.cum, 0)) a
 WHERE s.positions = 'conv.positions'::regclass;
SELECT * FROM conv.decisions ORDER BY id;

-- The boundary of 4, by the exact check: closing 3.19 leaves 6.81 (Q 681,
-- MM 545.51, 1.25 x 545.51 = 681.8875 > 681: not healthy); 3.20 leaves 6.80
-- (Q 680, MM 542.8, 678.5 < 680).
SELECT isomargin.liquidation_rest_ok(10, 30000, 27100, 30000, 3.19, 0.01, NULL, 1, 'linear', 0, 0, 0.25,
                                     0, NULL, 0.8, maintenance_amount => 1300) AS close_3_19,
       isomargin.liquidation_rest_ok(10, 30000, 27100, 30000, 3.20, 0.01, NULL, 1, 'linear', 0, 0, 0.25,
                                     0, NULL, 0.8, maintenance_amount => 1300) AS close_3_20;

-- ---------------------------------------------------------------- 2. tiers

-- OKX's step tiers by contracts (amounts=none), contract 0.01:
--   0..500 contracts 0.4%, 500..1,000 0.6%, 1,000..2,000 1%.
-- The T2 schedule (derived amounts: A = 0, 50, 1,050, ...) by the entry's
-- bracket (ENTRYB), and by the entry basis with the fee at bankruptcy (BYBT).
\set okx '''{amounts=none; 0..500 mmr=0.004 max_leverage=100; 500..1000 mmr=0.006 max_leverage=75; 1000..2000 mmr=0.01 max_leverage=50}''::isomargin.tiers'
\set lin '''{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50; 100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10; 2000000..10000000 mmr=0.1 max_leverage=5}''::isomargin.tiers'
CREATE TABLE conv.tinstruments (symbol text PRIMARY KEY, tiers isomargin.tiers NOT NULL,
                                contract_size numeric NOT NULL, fee_rate numeric NOT NULL,
                                mm_basis isomargin.mm_basis, fee_basis isomargin.fee_basis,
                                tier_basis isomargin.tier_basis, bracket_basis isomargin.bracket_basis);
CREATE TABLE conv.tmarks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE conv.tpositions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                              entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO conv.tinstruments VALUES
    ('OKX', :okx, 0.01, 0, NULL, NULL, 'contracts', NULL),
    ('OKXT', :okx, 0.01, 0, NULL, NULL, 'contracts', NULL),
    ('ENTRYB', :lin, 1, 0, NULL, NULL, NULL, 'entry'),
    ('BYBT', :lin, 1, 0.00055, 'entry', 'bankruptcy', NULL, NULL);
INSERT INTO conv.tmarks VALUES ('OKX', 20000), ('OKXT', 20000), ('ENTRYB', 20000), ('BYBT', 20000);
INSERT INTO conv.tpositions VALUES
    (1, 'OKX', 800, 20000, 3200),
    (2, 'OKXT', 1500, 20000, 6500),
    (3, 'ENTRYB', 10, 20000, 104850),
    (4, 'ENTRYB', 10, 20000, 104900),
    (5, 'BYBT', 10, 20000, 7900);
SELECT isomargin.enforce('conv.tpositions', 'conv.tmarks', 'conv.tinstruments') IS NOT NULL AS enforced;
SELECT isomargin.liquidation_setup('conv.tpositions', '{"method": "smallest", "lot_size": 0.01}',
           '{"OKX": {"method": "smallest", "lot_size": 1},
             "OKXT": {"method": "tiers", "tiers_down": 2, "lot_size": 1}}');

-- The marks move:
--   1 OKX at 19,700: Q = 3,200 - 8*300 = 800; 800 contracts are in bracket 2 (500 < 800 <=
--     1,000): MM = 157,600*0.006 = 945.6 >= Q: liquidate.
--   2 OKXT at 19,700: Q = 6,500 - 15*300 = 2,000; bracket 3: MM = 295,500*0.01 = 2,955: liquidate.
--   3 ENTRYB at 9,600: Q = 104,850 - 104,000 = 850; the entry's bracket (N(E) 200,000: 3):
--     MM = 96,000*0.02 - 1,050 = 870 >= Q: liquidate (the price's bracket, 2: 960 - 50 = 910).
--   4 ENTRYB at 9,600: Q = 900 > 870, 870 >= 0.8*900: margin_call; the price's bracket: 910 >=
--     900: liquidate (the engine before would have liquidated it).
--   5 BYBT at 19,500: Q = 7,900 - 5,000 = 2,900; bracket of N(E) 200,000: 3; BP = 19,210,
--     fee 0.00055*192,100 = 105.655; MM = 4,000 - 1,050 + 105.655 = 3,055.655: liquidate.
UPDATE conv.tmarks SET mark_price = CASE symbol WHEN 'ENTRYB' THEN 9600 WHEN 'BYBT' THEN 19500 ELSE 19700 END;

-- The sizing (doc/liquidation.md, "Under venue conventions": per contract,
-- the rest's equity Q/q against (1 + buffer) (n_r (r_i + f_in) + g) - A_i
-- in the bracket of the rest by its own unit):
--   1 (smallest, lot 1): Q/q = 1; n_r = 197 per contract; bracket 1 (q_r <= 500 contracts):
--     1.25*197*0.004 = 0.985 < 1, every rest up to 500 is healthy; bracket 2: 1.4775 > 1, none:
--     rest 500, close 300.  (By notional, the engine before read the floors as notional: rest
--     500/197 = 2.53.. contracts, close 798; main's engine failed on this schedule before
--     sizing: tiers_to_jsonb wraps amounts=none as an object, 22023 cannot get array length
--     of a non-array, for 1 and 2 alike, as this test did before the fix.)
--   2 (okx, tiers_down 2): bracket 3 > 2 and Q = 2,000 > 1,500*197*0.004 = 1,182: close down
--     to bracket 1's cap, 500 contracts: close 1,000 (before: cap 500 of notional, close 1,498).
--   3 (smallest, lot 0.01): Q/q = 85; the rate on the mark's notional (9,600/contract), the
--     bracket of the entry's (20,000/contract): bracket 3 holds q_r in (5, 25]:
--     85 q_r > 1.25 (192 q_r - 1,050) <=> 155 q_r < 1,312.5 <=> q_r < 8.4677..: rest 8.46,
--     close 1.54 (rest 8.47: Q 719.95, 1.25 x 576.24 = 720.3: no; 8.46: Q 719.1, MM 574.32,
--     717.9 < 719.1: yes).  (The price's bracket: 85 q_r > 1.25 (96 q_r - 50), rest 1.78, close 8.22.)
--   4: margin_call: 0 (before: flagged by the price's bracket, 90 q_r > 1.25 (96 q_r - 50),
--     rest 2.08, it would have closed 7.92 of a position enforcement does not flag).
--   5 (smallest): Q/q = 290; n_r = N(E)/contract = 20,000; fee at BP per contract g = 0.00055*
--     (20,000 - 7,900/10) = 10.5655; bracket of N(E) q_r, bracket 3 for q_r in (5, 25]:
--     290 q_r > 1.25 (400 q_r + 10.5655 q_r - 1,050) <=> 223.206875 q_r < 1,312.5 <=>
--     q_r < 5.8801..: rest 5.88, close 4.12.  Rest 5.88: margin 4,645.2, Q = 1,705.2,
--     MM = 2,352 - 1,050 + 0.00055*(117,600 - 4,645.2) = 1,364.12514, x 1.25 = 1,705.156425
--     < 1,705.2: yes (rest 5.89: Q 1,708.1, MM 1,368.2307.., x 1.25 = 1,710.28.. : no).
CREATE VIEW conv.tdecisions AS
SELECT p.id, p.symbol, p.status AS enforcement, a.status AS assess_status,
       isomargin.liquidation_size(p.size, p.entry_price, m.mark_price, p.margin, i.tiers,
           i.contract_size, fee_rate => i.fee_rate, policy => coalesce(s.symbol_policies -> p.symbol, s.policy),
           mm_basis => coalesce(i.mm_basis, 'mark'), fee_basis => coalesce(i.fee_basis, 'mark'),
           tier_basis => coalesce(i.tier_basis, 'notional'),
           bracket_basis => coalesce(i.bracket_basis, 'price')) AS engine,
       isomargin.liquidation_size(p.size, p.entry_price, m.mark_price, p.margin, i.tiers,
           i.contract_size, fee_rate => i.fee_rate,
           policy => coalesce(s.symbol_policies -> p.symbol, s.policy)) AS mark_basis
  FROM conv.tpositions p JOIN conv.tinstruments i USING (symbol) JOIN conv.tmarks m USING (symbol),
       isomargin.liquidation_settings s,
       LATERAL isomargin.assess(p.size, p.entry_price, m.mark_price, p.margin, i.tiers, i.contract_size,
           fee_rate => i.fee_rate, mm_basis => coalesce(i.mm_basis, 'mark'),
           fee_basis => coalesce(i.fee_basis, 'mark'), tier_basis => coalesce(i.tier_basis, 'notional'),
           bracket_basis => coalesce(i.bracket_basis, 'price')) a
 WHERE s.positions = 'conv.tpositions'::regclass;
SELECT * FROM conv.tdecisions ORDER BY id;

-- The smallest closes again, by brute force: every close k on the lot grid,
-- the rest q - k with its share of the margin, assessed by the C figures
-- under the conventions; the smallest k whose rest is healthy (not flagged,
-- equity > 1.25 x maintenance), else the whole position.  Independent of
-- the engine's closed form and search.
WITH b AS (
    SELECT 'flat' AS book, p.id, p.size, p.entry_price, p.margin, m.mark_price,
           CASE p.symbol WHEN 'INV' THEN 1 ELSE 0.01 END AS lot, i.mmr, NULL::isomargin.tiers AS tiers,
           i.contract_size AS cs, i.kind, i.fee_rate, coalesce(i.mm_basis, 'mark') AS mb,
           coalesce(i.fee_basis, 'mark') AS fb, 'notional'::isomargin.tier_basis AS tb,
           'price'::isomargin.bracket_basis AS bb, coalesce(i.cum, 0) AS ma
      FROM conv.positions p JOIN conv.instruments i USING (symbol) JOIN conv.marks m USING (symbol)
     WHERE p.id IN (1, 2, 4, 7)
    UNION ALL
    SELECT 'tiers', p.id, p.size, p.entry_price, p.margin, m.mark_price, CASE p.symbol WHEN 'OKX' THEN 1 ELSE 0.01 END,
           NULL, i.tiers, i.contract_size, 'linear', i.fee_rate, coalesce(i.mm_basis, 'mark'),
           coalesce(i.fee_basis, 'mark'), coalesce(i.tier_basis, 'notional'),
           coalesce(i.bracket_basis, 'price'), 0
      FROM conv.tpositions p JOIN conv.tinstruments i USING (symbol) JOIN conv.tmarks m USING (symbol)
     WHERE p.id IN (1, 3, 5))
SELECT b.book, b.id,
       coalesce((SELECT min(k.k)
                   FROM generate_series(1, (abs(b.size) / b.lot)::int - 1) AS g(n),
                        LATERAL (SELECT g.n * b.lot AS k) k,
                        LATERAL (SELECT CASE WHEN b.tiers IS NULL
                            THEN isomargin.assess(b.size - k.k, b.entry_price, b.mark_price,
                                     b.margin * (abs(b.size) - k.k) / abs(b.size), b.mmr, b.cs, b.kind,
                                     fee_rate => b.fee_rate, mm_basis => b.mb, fee_basis => b.fb,
                                     maintenance_amount => b.ma)
                            ELSE isomargin.assess(b.size - k.k, b.entry_price, b.mark_price,
                                     b.margin * (abs(b.size) - k.k) / abs(b.size), b.tiers, b.cs, b.kind,
                                     fee_rate => b.fee_rate, mm_basis => b.mb, fee_basis => b.fb,
                                     tier_basis => b.tb, bracket_basis => b.bb) END AS r) x
                  WHERE (x.r).status < 'liquidate' AND (x.r).equity > 1.25 * (x.r).maintenance_margin),
                abs(b.size)) AS brute_force
  FROM b ORDER BY b.book, b.id;

-- ---------------------------------------------------------------- 3. the worker

CALL isomargin.liquidation_worker('w1');

-- The ledger: one step per flagged position, each the size above; settled
-- at the bankruptcy price, which no convention changes (doc/venues.md):
-- E - M/(q cs), checked against bankruptcy_price with no convention.
--   flat 1: released 400, PnL -290, to the fund 110; BP 19,600
--   flat 2: released 400, PnL -301: 99; BP 19,600
--   flat 4: released 30,000 x 0.32 = 9,600, PnL 3.2 x -2,900 = -9,280: 320; BP 27,000
--   flat 5: released 400, PnL -500: -100, no fund: ADL of 1 contract at BP 19,600, shortfall 100
--   flat 7: released 0.25 x 0.631 = 0.15775, PnL 63,100 x (1/40,000 - 1/36,600) =
--     1.5775 - 1.7240437158.. = -0.1465437158..: 0.0112062841..; BP 100,000/2.75 = 36,363.64 (up)
--   tiers 1: released 3,200 x 300/800 = 1,200, PnL 3 x -300 = -900: 300; BP 19,600
--   tiers 2: released 6,500 x 1,000/1,500 = 4,333.33.., PnL 10 x -300 = -3,000; BP 19,566.67 (up)
--   tiers 3: released 104,850 x 0.154 = 16,146.9, PnL 1.54 x -10,400 = -16,016: 130.9; BP 9,515
--   tiers 5: released 7,900 x 0.412 = 3,254.8, PnL 4.12 x -500 = -2,060: 1,194.8; BP 19,210
SELECT CASE l.positions WHEN 'conv.positions'::regclass THEN 'flat' ELSE 'tiers' END AS book,
       l.position_key ->> 'id' AS pos, l.method, l.closed_size, l.released_margin, l.realized_pnl,
       l.settlement, l.amount, l.bankruptcy_price, l.adl_size, l.shortfall, l.size_after, l.margin_after,
       l.bankruptcy_price = isomargin.bankruptcy_price(l.size_before, l.entry_price, l.margin_before,
           coalesce(t.contract_size, i.contract_size), coalesce(i.kind, 'linear')) AS bp_convention_free,
       abs(l.released_margin - l.margin_before * l.closed_size / abs(l.size_before)) < 1e-15
       AND abs(l.realized_pnl - sign(l.size_before) * l.closed_size * coalesce(t.contract_size, i.contract_size)
               * CASE i.kind WHEN 'inverse' THEN 1 / l.entry_price - 1 / l.mark_price
                             ELSE l.mark_price - l.entry_price END) < 1e-15 AS recomputed
  FROM isomargin.insurance_ledger l
  LEFT JOIN conv.tinstruments t ON l.positions = 'conv.tpositions'::regclass AND t.symbol = l.symbol
  LEFT JOIN conv.instruments i ON l.positions = 'conv.positions'::regclass AND i.symbol = l.symbol
 WHERE l.entry = 'liquidation'
 ORDER BY book, (l.position_key ->> 'id')::int;

-- ADL: 6 (short 2 at 20,000, 2,000) takes flat 5's contract at 19,600: released 1,000, PnL
-- -1 x (19,600 - 20,000) = 400; the rest -1 with 1,000, re-priced under fee_basis
-- bankruptcy: BP 21,000, fee 21; 21,000 - P = 0.005 P + 21, P = 20,979 / 1.005 =
-- 20,874.6268656.. (down, a short).
SELECT position_key ->> 'id' AS pos, closed_size, price, released_margin, realized_pnl, size_after, margin_after
  FROM isomargin.adl_fills ORDER BY id;

-- After: every rest is ok or margin_call under its conventions, as enforcement
-- stores it (verify finds no row to differ), and the engine closes nothing more.
--   flat 4: rest 6.80 with 20,400: Q 680, MM 542.8, 542.8/680 = 0.798: ok
--   flat 7: rest 369 with 0.09225: Q 0.0065532786.., MM 0.0092250 - 0.005 + fee 0.00101475
--     (0.001 x (0.9225 + 0.09225)) = 0.00523975 (0.7996 of Q): ok
--   tiers 1: rest 500 with 2,000: Q 500, MM 98,500 x 0.004 = 394, 0.788: ok
--   tiers 2: rest 500 with 2,166.67: Q 666.67, MM 394: ok
--   tiers 3: rest 8.46 with 88,703.1: Q 719.1, MM 574.32, 0.7987: ok
--   tiers 5: rest 5.88 with 4,645.2: Q 1,705.2, MM 1,364.12514, 0.79998: ok
SELECT 'flat' AS book, id, p.size, p.margin, enforcement, assess_status, engine
  FROM conv.decisions d JOIN conv.positions p USING (id)
UNION ALL
SELECT 'tiers', id, p.size, p.margin, enforcement, assess_status, engine
  FROM conv.tdecisions d JOIN conv.tpositions p USING (id)
 ORDER BY 1, 2;
SELECT p.id, p.liquidation_price,
       p.liquidation_price = isomargin.liquidation_price(p.size, p.entry_price, p.margin, 0.005,
                                 fee_rate => 0.001, fee_basis => 'bankruptcy') AS same_as_sql
  FROM conv.positions p WHERE p.id = 6;
SELECT count(*) AS differ FROM isomargin.verify('conv.positions');
SELECT count(*) AS differ FROM isomargin.verify('conv.tpositions');
-- Every liquidate or bankrupt event claimed (the two unclaimed are the
-- margin calls of flat 3 and tiers 4, no worker's); a second worker finds nothing.
SELECT e.positions::regclass AS book, e.position_key ->> 'id' AS pos, e.new_status
  FROM isomargin.events e WHERE e.claimed_at IS NULL ORDER BY 1, 2;
SELECT isomargin.liquidate_next('w2');

-- The worker's path with a cooldown (its own check, then the sizing) under the
-- conventions: ENTRYB with fraction 20%, cooldown 30 s.  Position 4 at 9,600 is a
-- margin call (870 < 900): no step (by the price's bracket, 910 >= 900, it would
-- take one).  At 9,590: Q = 104,900 - 104,100 = 800, MM = 95,900 x 0.02 - 1,050 =
-- 868: liquidate (the price's bracket: 959 - 50 = 909).  One step closes 2; the rest 8
-- with 83,920: Q = 83,920 - 83,280 = 640, MM = 76,720 x 0.02 - 1,050 = 484.4, 0.757: ok,
-- so the worker stops and leaves no follow-up (by the price's bracket the rest would
-- still be liquidate: 767.2 - 50 = 717.2 >= 640).
SELECT isomargin.liquidation_setup('conv.tpositions', '{"method": "smallest", "lot_size": 0.01}',
           '{"ENTRYB": {"method": "fraction", "fraction": 0.2, "lot_size": 0.01, "cooldown": 30}}');
SELECT isomargin.liquidate_position('conv.tpositions', '{"id": 4}', 'w3') AS steps_at_9600;
UPDATE conv.tmarks SET mark_price = 9590 WHERE symbol = 'ENTRYB';
SELECT id, status FROM conv.tpositions WHERE id IN (3, 4) ORDER BY id;
SELECT isomargin.liquidate_position('conv.tpositions', '{"id": 4}', 'w3') AS steps_at_9590;
SELECT l.position_key ->> 'id' AS pos, l.method, l.closed_size, l.size_after, l.margin_after
  FROM isomargin.insurance_ledger l
 WHERE l.positions = 'conv.tpositions'::regclass AND l.worker = 'w3';
SELECT p.id, p.size, p.margin, p.status, d.assess_status, d.engine
  FROM conv.tpositions p JOIN conv.tdecisions d USING (id) WHERE p.id IN (3, 4) ORDER BY p.id;
SELECT count(*) AS followups FROM isomargin.liquidation_followups;
SELECT count(*) AS differ FROM isomargin.verify('conv.tpositions');

-- ---------------------------------------------------------------- 4. refused

-- An add-on beside the fee at the bankruptcy price: no figure charges that
-- pair (0A000); a negative maintenance amount (22023); a NULL convention: NULL.
SELECT isomargin.liquidation_size(1, 20000, 19700, 400, 0.005, fee_rate => 0.001, addon_rate => 0.001,
                                  fee_basis => 'bankruptcy');
SELECT isomargin.liquidation_size(1, 20000, 19700, 400, 0.005, maintenance_amount => -1);
SELECT isomargin.liquidation_size(1, 20000, 19700, 400, 0.005, mm_basis => NULL) IS NULL AS null_basis;
-- the same two refusals with their SQLSTATEs
\set ECHO none
\i test/lib/try.sql
\set ECHO all
SELECT pg_temp.try($$SELECT isomargin.liquidation_size(1, 20000, 19700, 400, 0.005, fee_rate => 0.001,
                       addon_rate => 0.001, fee_basis => 'bankruptcy')$$) AS refused
UNION ALL
SELECT pg_temp.try($$SELECT isomargin.liquidation_size(1, 20000, 19700, 400, 0.005,
                       maintenance_amount => -1)$$);

SELECT isomargin.unenforce('conv.positions');
SELECT isomargin.unenforce('conv.tpositions');
TRUNCATE isomargin.adl_fills, isomargin.adl_queue, isomargin.insurance_ledger, isomargin.insurance_funds,
         isomargin.liquidation_followups, isomargin.liquidation_settings, isomargin.events;
DROP SCHEMA conv CASCADE;
