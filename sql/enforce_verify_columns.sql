-- verify() computes what enforcement stores for every mapped instruments
-- column: the dynamic add-on (addon_rate, doc/dynamic.md) through the
-- dynamic_* figures, the venue conventions (mm_basis, fee_basis, tier_basis,
-- bracket_basis, maintenance_amount, doc/venues.md) as the figures' named
-- arguments.  A consistent table gives no row; a row made stale behind the
-- triggers' back is found and repaired.  Both at once: refused (0A000).
\set SHOW_CONTEXT never
\set ECHO none
\i test/lib/try.sql
\set ECHO all
CREATE SCHEMA vc;

-- 1. addon_rate.  BTC: mmr 0.004 + add-on 0.006; ETH: add-on 0.
CREATE TABLE vc.a_instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL,
                               addon_rate numeric NOT NULL DEFAULT 0);
CREATE TABLE vc.a_marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE vc.a_positions (id int PRIMARY KEY, symbol text, size numeric, entry_price numeric,
                             margin numeric);
INSERT INTO vc.a_instruments VALUES ('BTC', 0.004, 0.006), ('ETH', 0.005, 0);
INSERT INTO vc.a_marks VALUES ('BTC', 27300), ('ETH', 2000);
INSERT INTO vc.a_positions VALUES (1, 'BTC', 1, 30000, 3000), (2, 'BTC', -2, 30000, 6000),
                                  (3, 'ETH', 1, 2000, 200);
SELECT isomargin.enforce('vc.a_positions', 'vc.a_marks', 'vc.a_instruments') ? 'id' AS enforced;
-- stored with the add-on: #1 LP 27000/0.99 = 27272.72727273, MCP 21600/0.79 =
-- 27341.77215190, margin_call at 27300 (MM 273 >= 0.8 * 300); #2 LP
-- 66000/2.02 = 32673.26732673; without the add-on #1's LP would be 27108.43373494
SELECT id, liquidation_price, margin_call_price, bankruptcy_price, status FROM vc.a_positions ORDER BY id;
SELECT isomargin.liquidation_price(1, 30000, 3000, 0.004) AS without_addon,
       isomargin.dynamic_liquidation_price(1, 30000, 3000, 0.006, 0.004) AS with_addon;
SELECT * FROM isomargin.verify('vc.a_positions');
-- #1's margin 3000 -> 2000 under a replica role: the prices stay stale.
-- Expected: LP (30000 - 2000)/0.99 = 28282.82828283, MCP 0.8*28000/0.79 =
-- 28354.43037975 (up), BP 28000; at 27300 equity -700: bankrupt.
SET session_replication_role = replica;
UPDATE vc.a_positions SET margin = 2000 WHERE id = 1;
RESET session_replication_role;
SELECT position_key, symbol, mark_price, columns, stored, expected, repaired
  FROM isomargin.verify('vc.a_positions');
SELECT position_key, columns, repaired FROM isomargin.verify('vc.a_positions', repair => true);
SELECT id, liquidation_price, margin_call_price, bankruptcy_price, status FROM vc.a_positions ORDER BY id;
SELECT * FROM isomargin.verify('vc.a_positions');

-- 2. Venue conventions with a flat mmr (a NULL takes the default).
-- BYB: Bybit, entry basis, fee at the bankruptcy price: long 1 at 20,000,
-- margin 400, 0.5%, fee 0.055%: LP 19,710.78 (doc/venues.md).  BIN: the
-- largest exchange's amount 1,300 beside 1%: 10 at 30,000, margin 30,000:
-- LP 27,141.41414142.  PLN: every convention NULL, the mark basis.
CREATE TABLE vc.v_instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL,
                               fee_rate numeric NOT NULL DEFAULT 0,
                               mm_basis isomargin.mm_basis, fee_basis isomargin.fee_basis,
                               maintenance_amount numeric);
CREATE TABLE vc.v_marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE vc.v_positions (id int PRIMARY KEY, symbol text, size numeric, entry_price numeric,
                             margin numeric);
INSERT INTO vc.v_instruments VALUES ('BYB', 0.005, 0.00055, 'entry', 'bankruptcy', NULL),
                                    ('BIN', 0.01, 0, NULL, NULL, 1300),
                                    ('PLN', 0.005, 0.00055, NULL, NULL, NULL);
INSERT INTO vc.v_marks VALUES ('BYB', 20000), ('BIN', 30000), ('PLN', 20000);
INSERT INTO vc.v_positions VALUES (1, 'BYB', 1, 20000, 400), (2, 'BIN', 10, 30000, 30000),
                                  (3, 'PLN', 1, 20000, 400), (4, 'BYB', -1, 20000, 400);
SELECT isomargin.enforce('vc.v_positions', 'vc.v_marks', 'vc.v_instruments') ? 'id' AS enforced;
SELECT id, liquidation_price, margin_call_price, bankruptcy_price, status FROM vc.v_positions ORDER BY id;
-- the mark basis would put #1 at 19,709.38709840 and #2 at 27,272.72727273
SELECT isomargin.liquidation_price(1, 20000, 400, 0.005, fee_rate => 0.00055) AS byb_mark_basis,
       isomargin.liquidation_price(10, 30000, 30000, 0.01) AS bin_no_amount;
SELECT * FROM isomargin.verify('vc.v_positions');
-- stale: #1's margin 400 -> 500 (entry basis, fee on BP 19,500 = 10.725:
-- LP 20000 - (500 - 100 - 10.725) = 19,610.725, MCP 19500 + 110.725/0.8 =
-- 19,638.40625, BP 19,500), #2's
-- margin 30000 -> 20000 (LP (300000 - 20000 - 1300)/(10 * 0.99) = 28,151.51515152)
SET session_replication_role = replica;
UPDATE vc.v_positions SET margin = 500 WHERE id = 1;
UPDATE vc.v_positions SET margin = 20000 WHERE id = 2;
RESET session_replication_role;
SELECT position_key, symbol, columns, stored, expected FROM isomargin.verify('vc.v_positions');
SELECT position_key, columns, repaired FROM isomargin.verify('vc.v_positions', repair => true);
SELECT id, liquidation_price, margin_call_price, bankruptcy_price, status FROM vc.v_positions ORDER BY id;
SELECT * FROM isomargin.verify('vc.v_positions');

-- 2b. Venue conventions with tiers.  T2: the domain reference's example T2,
-- bracket_basis 'entry': LP 9,586.73469388 (the default 9,590.90909091).
-- OKX: tier_basis 'contracts', 800 contracts of 0.01 at 20,000, margin 3,200:
-- bracket 2 (0.6%), LP 156800 / (8 * 0.994) = 19,718.30985916 (doc/venues.md).
CREATE TABLE vc.t_instruments (symbol text PRIMARY KEY, tiers isomargin.tiers NOT NULL,
                               contract_size numeric NOT NULL,
                               tier_basis isomargin.tier_basis, bracket_basis isomargin.bracket_basis);
CREATE TABLE vc.t_marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE vc.t_positions (id int PRIMARY KEY, symbol text, size numeric, entry_price numeric,
                             margin numeric);
INSERT INTO vc.t_instruments VALUES
    ('T2', '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50; 100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10; 2000000..10000000 mmr=0.1 max_leverage=5}',
     1, NULL, 'entry'),
    ('OKX', '{amounts=none; 0..500 mmr=0.004 max_leverage=100; 500..1000 mmr=0.006 max_leverage=75; 1000..2000 mmr=0.01 max_leverage=50}',
     0.01, 'contracts', NULL);
INSERT INTO vc.t_marks VALUES ('T2', 20000), ('OKX', 20000);
INSERT INTO vc.t_positions VALUES (1, 'T2', 10, 20000, 105000), (2, 'OKX', 800, 20000, 3200);
SELECT isomargin.enforce('vc.t_positions', 'vc.t_marks', 'vc.t_instruments') ? 'id' AS enforced;
SELECT id, liquidation_price, margin_call_price, bankruptcy_price, status FROM vc.t_positions ORDER BY id;
SELECT * FROM isomargin.verify('vc.t_positions');
-- stale: T2's margin 105000 -> 100000: E's bracket 3 (2%, A 1,050):
-- 10P - 100000 = 0.2P - 1050, P = 98950 / 9.8 = 10,096.93877552 (up)
SET session_replication_role = replica;
UPDATE vc.t_positions SET margin = 100000 WHERE id = 1;
RESET session_replication_role;
SELECT position_key, symbol, columns, stored, expected FROM isomargin.verify('vc.t_positions');
SELECT position_key, columns, repaired FROM isomargin.verify('vc.t_positions', repair => true);
SELECT id, liquidation_price, margin_call_price, bankruptcy_price, status FROM vc.t_positions ORDER BY id;
SELECT * FROM isomargin.verify('vc.t_positions');

-- 3. addon_rate and a convention on one attachment: no figure function takes
-- both, so verify refuses it rather than report every position.
CREATE TABLE vc.b_instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL,
                               addon_rate numeric NOT NULL DEFAULT 0, mm_basis isomargin.mm_basis);
CREATE TABLE vc.b_marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE vc.b_positions (id int PRIMARY KEY, symbol text, size numeric, entry_price numeric,
                             margin numeric);
INSERT INTO vc.b_instruments VALUES ('BTC', 0.004, 0.006, 'entry');
INSERT INTO vc.b_marks VALUES ('BTC', 30000);
INSERT INTO vc.b_positions VALUES (1, 'BTC', 1, 30000, 3000);
SELECT isomargin.enforce('vc.b_positions', 'vc.b_marks', 'vc.b_instruments') ? 'id' AS enforced;
SELECT pg_temp.try($$SELECT count(*) FROM isomargin.verify('vc.b_positions')$$);

SELECT isomargin.unenforce('vc.a_positions');
SELECT isomargin.unenforce('vc.v_positions');
SELECT isomargin.unenforce('vc.t_positions');
SELECT isomargin.unenforce('vc.b_positions');
DROP SCHEMA vc CASCADE;
TRUNCATE isomargin.events RESTART IDENTITY;
