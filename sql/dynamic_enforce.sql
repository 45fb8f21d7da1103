-- Dynamic requirements, item 3 (enforcement): an instruments column addon_rate
-- enters every stored price and status; a change of it re-prices and re-flags
-- the instrument's positions set-based, like a tiers change; watch_volatility
-- writes it and records the cause (doc/dynamic.md, doc/enforcement.md).
CREATE SCHEMA dyn;
CREATE TABLE dyn.instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL,
                              addon_rate numeric NOT NULL DEFAULT 0);
CREATE TABLE dyn.marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE dyn.positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                            entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO dyn.instruments VALUES ('BTC', 0.004), ('ETH', 0.005);
INSERT INTO dyn.marks VALUES ('BTC', 27300), ('ETH', 2000);
INSERT INTO dyn.positions VALUES (1, 'BTC', 1, 30000, 3000), (2, 'BTC', -2, 30000, 6000),
                                 (3, 'ETH', 1, 2000, 200);
SELECT isomargin.enforce('dyn.positions', 'dyn.marks', 'dyn.instruments') ->> 'id' AS id \gset
-- add-on 0: the base figures (27108.43373494, 27135.67839196; the short 32868.52589641)
SELECT id, liquidation_price, margin_call_price, status FROM dyn.positions ORDER BY id;
-- BTC's add-on to 0.006: #1 LP 27000/0.99 = 27272.72727273, MCP 21600/0.79 = 27341.77215190;
-- at the mark 27300 equity 300 and MM 273 >= 240: margin_call (an event); the short:
-- LP (-60000 - 6000)/(-2 - 2*0.01) = 32673.26732673 (down); ETH untouched
UPDATE dyn.instruments SET addon_rate = 0.006 WHERE symbol = 'BTC';
SELECT id, liquidation_price, margin_call_price, status FROM dyn.positions ORDER BY id;
SELECT position_key, old_status, new_status, mark_price, equity, maintenance_margin
  FROM isomargin.events WHERE positions = 'dyn.positions'::regclass ORDER BY id;
-- the mark crosses the new liquidation price: 27250 (MM 272.5 >= equity 250)
UPDATE dyn.marks SET mark_price = 27250 WHERE symbol = 'BTC';
SELECT id, status FROM dyn.positions ORDER BY id;
-- the add-on back to 0: liquidate stays (sticky), the prices go back
UPDATE dyn.instruments SET addon_rate = 0 WHERE symbol = 'BTC';
SELECT id, liquidation_price, status FROM dyn.positions ORDER BY id;

-- refused: a negative add-on, and one that leaves no margin-call price (0.004 + 0.796 = 0.8)
\set ECHO none
\i test/lib/try.sql
\set ECHO all
SELECT pg_temp.try($$WITH u AS (UPDATE dyn.instruments SET addon_rate = -0.001 WHERE symbol = 'ETH' RETURNING 1) SELECT count(*) FROM u$$);
SELECT pg_temp.try($$WITH u AS (UPDATE dyn.instruments SET addon_rate = 0.795 WHERE symbol = 'ETH' RETURNING 1) SELECT count(*) FROM u$$);

-- watch_volatility writes the add-on as marks arrive: the positions are re-priced and the
-- change is recorded with its cause.  ETH marks 2000, 2200 (return 0.1, variance 0.01,
-- volatility 0.1, capped at 0.08: add-on 0.5 * (0.08 - 0.05) = 0.015).  #3: LP
-- (2000 - 200) / (1 - 0.02) = 1836.73469388 (1809.04522614 without).
CREATE TABLE dyn.history (symbol text, mark_price numeric, mark_time timestamptz);
SELECT isomargin.watch_volatility('dyn.history', 1, 0.05, 0.08, 0.5, 'dyn.instruments') > 0 AS watching;
INSERT INTO dyn.history VALUES ('ETH', 2000, '2026-01-01 00:00+00'), ('ETH', 2200, '2026-01-01 00:01+00');
SELECT symbol, addon_rate FROM dyn.instruments ORDER BY symbol;
SELECT id, liquidation_price, status FROM dyn.positions WHERE id = 3;
SELECT symbol, old_rate, new_rate, cause ->> 'source' AS source, cause ->> 'volatility' AS volatility
  FROM isomargin.addon_changes WHERE instruments = 'dyn.instruments'::regclass ORDER BY id;
SELECT isomargin.unwatch_volatility('dyn.history');
SELECT isomargin.unenforce('dyn.positions');
DROP SCHEMA dyn CASCADE;
