-- Dynamic requirements, item 3 (the reports): shock and liquidation_ladder
-- charge the instruments' add-on rate as enforcement does, through the
-- dynamic_* figures (doc/dynamic.md).  The numbers are those of
-- sql/dynamic_enforce.sql, worked out by hand there and below.
CREATE SCHEMA dynr;
CREATE TABLE dynr.instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL,
                               addon_rate numeric NOT NULL DEFAULT 0);
CREATE TABLE dynr.marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE dynr.positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                             entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO dynr.instruments VALUES ('BTC', 0.004, 0.006), ('ETH', 0.005, 0);
INSERT INTO dynr.marks VALUES ('BTC', 27300), ('ETH', 2000);
INSERT INTO dynr.positions VALUES (1, 'BTC', 1, 30000, 3000), (2, 'BTC', -2, 30000, 6000),
                                  (3, 'ETH', 1, 2000, 200);
SELECT isomargin.enforce('dynr.positions', 'dynr.marks', 'dynr.instruments') IS NOT NULL AS enforced;
-- stored with the add-on: #1 LP 27000/0.99 = 27272.72727273 (27108.43373494 without),
-- margin_call at 27300; #2 LP (-60000 - 6000)/(-2 - 0.02) = 32673.26732673; #3 ETH, no add-on,
-- LP 1800/0.995 = 1809.04522614
SELECT id, liquidation_price, status FROM dynr.positions ORDER BY id;

-- shock -0.2%: BTC at 27245.4, #1's equity 3000 - 2754.6 = 245.4 and maintenance
-- 27245.4 * (0.004 + 0.006) = 272.454 >= 245.4: liquidate (without the add-on
-- 108.9816 < 0.8 * 245.4, ok, and the position would not be listed).
SELECT position_key, shocked_price, status, equity, maintenance_margin, shortfall
  FROM isomargin.shock('dynr.positions', 'dynr.marks', 'dynr.instruments', -0.002)
 ORDER BY (position_key ->> 'id')::int;
-- Over a range of moves the report lists exactly the positions the dynamic_*
-- figures put at liquidate or bankrupt, with their maintenance margin; the
-- figures without the add-on would list others (the test can fail).
WITH moves AS (SELECT m FROM unnest('{-0.002, -0.005, -0.01, 0.19, 0.197, 0.2}'::numeric[]) m),
direct AS (
    SELECT mv.m, p.id, mk.mark_price * (1 + mv.m) AS px, i.addon_rate, i.mmr, p.size,
           p.entry_price, p.margin
      FROM moves mv, dynr.positions p JOIN dynr.instruments i USING (symbol)
      JOIN dynr.marks mk USING (symbol)),
want AS (
    SELECT m, id, isomargin.dynamic_maintenance_margin(size, px, addon_rate, mmr) AS mm
      FROM direct
     WHERE isomargin.dynamic_margin_status(size, entry_price, px, margin, addon_rate, mmr) >= 'liquidate'),
base AS (
    SELECT m, id FROM direct
     WHERE isomargin.margin_status(size, entry_price, px, margin, mmr) >= 'liquidate'),
got AS (
    SELECT mv.m, (s.position_key ->> 'id')::int AS id, s.maintenance_margin AS mm
      FROM moves mv
     CROSS JOIN LATERAL isomargin.shock('dynr.positions', 'dynr.marks', 'dynr.instruments', mv.m) s)
SELECT (SELECT count(*) FROM want) AS listed,
       (SELECT count(*) FROM (SELECT * FROM want EXCEPT SELECT * FROM got
                              UNION ALL SELECT * FROM got EXCEPT SELECT * FROM want) d) AS differ,
       (SELECT count(*) FROM (SELECT m, id FROM want EXCEPT SELECT m, id FROM base) d) AS only_with_addon;

-- The ladder places #1 by its stored liquidation price: (27300 - 27272.72727273) / 27300
-- = 0.000999 of the mark, bucket -1 of width 0.001 (without the add-on,
-- 191.56626506 / 27300 = 0.0070: bucket -8); its notional there is the price itself.
-- #2 (0.197 away) and #3 (0.095) lie beyond 20 buckets.
SELECT l.symbol, l.side, l.bucket, l.position_count, l.notional,
       l.notional = p.liquidation_price AS notional_at_stored_price
  FROM isomargin.liquidation_ladder('dynr.positions', 'dynr.marks', 'dynr.instruments',
                                    0.001, 20) l
  LEFT JOIN dynr.positions p ON p.id = 1
 WHERE l.position_count > 0
 ORDER BY l.symbol, l.bucket;

-- An add-on column under another name, mapped, on tables that are not enforced.
CREATE TABLE dynr.instr2 (symbol text PRIMARY KEY, mmr numeric NOT NULL, vol_addon numeric);
CREATE TABLE dynr.pos2 (id int PRIMARY KEY, symbol text, size numeric, entry_price numeric,
                        margin numeric);
INSERT INTO dynr.instr2 VALUES ('BTC', 0.004, 0.006);
INSERT INTO dynr.pos2 VALUES (1, 'BTC', 1, 30000, 3000);
SELECT bucket, notional
  FROM isomargin.liquidation_ladder('dynr.pos2', 'dynr.marks', 'dynr.instr2', 0.001, 20,
                                    columns => '{"addon_rate": "vol_addon"}')
 WHERE position_count > 0;
-- unmapped, the column is not the add-on: the rule's figures (bucket -8, 27108.43373494)
SELECT bucket, notional
  FROM isomargin.liquidation_ladder('dynr.pos2', 'dynr.marks', 'dynr.instr2', 0.001, 20)
 WHERE position_count > 0;

-- An add-on and a venue convention together: no figure computes both (0A000,
-- as verify); the liquidity and backtest readers of the same book are not affected.
\set ECHO none
\i test/lib/try.sql
\set ECHO all
ALTER TABLE dynr.instr2 RENAME vol_addon TO addon_rate;
ALTER TABLE dynr.instr2 ADD COLUMN mm_basis isomargin.mm_basis;
SELECT pg_temp.try($$SELECT count(*) FROM isomargin.shock('dynr.pos2', 'dynr.marks', 'dynr.instr2', -0.1)$$) AS shock,
       pg_temp.try($$SELECT count(*) FROM isomargin.liquidation_ladder('dynr.pos2', 'dynr.marks', 'dynr.instr2')$$) AS ladder;
CREATE TABLE dynr.book (symbol text, side text, price numeric, size numeric);
INSERT INTO dynr.book VALUES ('BTC', 'bid', 27299, 0.5), ('BTC', 'bid', 27290, 1);
-- long 1 at mark 27300 against bids 27299 x 0.5, then 0.5 of 27290 x 1: (0.5 + 5) / 27300 = 0.000202 up
SELECT position_key, addon_rate
  FROM isomargin.liquidity_addons('dynr.pos2', 'dynr.marks', 'dynr.instr2', 'dynr.book', 0.01);

SELECT isomargin.unenforce('dynr.positions');
DROP SCHEMA dynr CASCADE;
