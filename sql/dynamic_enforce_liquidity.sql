-- Dynamic requirements, item 3 for the liquidity add-on: an instruments column
-- liquidity_curve (jsonb) that watch_liquidity keeps current from a book
-- snapshot table enters every stored price and status of the instrument's
-- positions, each by its own size; a snapshot change re-prices and re-flags
-- them set-based and is recorded in isomargin.addon_changes with its cause
-- (doc/dynamic.md "Enforcement", doc/enforcement.md).
\set ECHO none
\i test/lib/try.sql
\set ECHO all

-- 1. The curve gives liquidity_addon's digits at the curve's mark: the worked
-- example of doc/dynamic.md (a long of 3 at 100 against bids 99 x 1, 98 x 1,
-- 97 x 0.5, penalty 1%: 0.021667), its pieces, and every size of a sweep,
-- long and short, linear and inverse, inside and beyond the book's depth.
SELECT isomargin.liquidity_curve(100, '{98, 99, 97}', '{1, 1, 0.5}', '{101, 103}', '{2, 1}', 0.01) AS curve;
SELECT isomargin.liquidity_curve_addon(
           isomargin.liquidity_curve(100, '{98, 99, 97}', '{1, 1, 0.5}', '{101, 103}', '{2, 1}', 0.01), 3)
       AS long_3;
WITH books(kind, mark, bp, bs, ap, az) AS (
    VALUES ('linear'::isomargin.contract_kind, 100::numeric, '{98, 99, 97, 96}'::numeric[], '{1, 1, 0.5, 0}'::numeric[],
            '{101, 103, 102}'::numeric[], '{2, 1, 0.25}'::numeric[]),
           ('inverse', 20000, '{19960, 19990, 19900}', '{10, 3, 7}', '{20040}', '{4}'),
           ('linear', 50, '{}', '{}', '{49.5, 51}', '{3, 1}')),      -- no bids (a 51 ask: on the wrong side for a long)
sizes(q) AS (
    SELECT s * k * 0.25 FROM generate_series(0, 120) k, (VALUES (1), (-1)) AS v(s))
SELECT b.kind, count(*) AS sizes,
       count(*) FILTER (WHERE isomargin.liquidity_curve_addon(
                                  isomargin.liquidity_curve(b.mark, b.bp, b.bs, b.ap, b.az, 0.01, b.kind), s.q)
                              IS DISTINCT FROM
                              isomargin.liquidity_addon(s.q, b.mark, CASE WHEN s.q > 0 THEN b.bp ELSE b.ap END,
                                                        CASE WHEN s.q > 0 THEN b.bs ELSE b.az END, 0.01, b.kind)) AS differ,
       max(isomargin.liquidity_curve_addon(
               isomargin.liquidity_curve(b.mark, b.bp, b.bs, b.ap, b.az, 0.01, b.kind), s.q)) AS largest
  FROM books b CROSS JOIN sizes s GROUP BY b.kind, b.mark ORDER BY b.mark;

-- 2. An enforced book: BTC linear (mmr 0.004, volatility add-on 0.002), INV
-- inverse (contract size 100, mmr 0.005); the instruments have a
-- liquidity_curve column, NULL until the book is watched.
CREATE SCHEMA liq;
CREATE TABLE liq.instruments (symbol text PRIMARY KEY, kind isomargin.contract_kind NOT NULL,
                              contract_size numeric NOT NULL, mmr numeric NOT NULL,
                              addon_rate numeric NOT NULL DEFAULT 0, liquidity_curve jsonb);
CREATE TABLE liq.marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE liq.positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                            entry_price numeric NOT NULL, margin numeric NOT NULL);
CREATE TABLE liq.book (symbol text, side text, price numeric, size numeric);
INSERT INTO liq.instruments VALUES ('BTC', 'linear', 1, 0.004, 0.002), ('INV', 'inverse', 100, 0.005, 0);
INSERT INTO liq.marks VALUES ('BTC', 27300), ('INV', 20000);
INSERT INTO liq.positions VALUES
    (1, 'BTC', 1, 30000, 3000),       -- the worked example
    (2, 'BTC', -2, 30000, 6000),
    (3, 'BTC', 5, 30000, 15000),      -- beyond the bids' depth: the penalty
    (4, 'INV', 10, 20000, 0.005),
    (5, 'INV', -10, 20000, 0.005),    -- beyond the asks' depth
    (6, 'BTC', -1, 27500, 600);
SELECT isomargin.enforce('liq.positions', 'liq.marks', 'liq.instruments') ->> 'id' IS NOT NULL AS enforced;
-- without a curve: the add-on rate alone (#1: (30000 - 3000) / (1 - 0.006) = 27162.97786721)
SELECT id, liquidation_price, margin_call_price, status FROM liq.positions ORDER BY id;

-- The snapshot, at the marks 27300 and 20000.  Worked example (doc/dynamic.md):
-- #1, a long of 1 against the bid 27190.8: slippage 109.2, 109.2 / 27300 =
-- 0.004; with the add-on 0.002, c = 0.006: LP 27000 / 0.99 = 27272.72727273,
-- MCP 21600 / 0.79 = 27341.77215190; at 27300 MM 27300 * 0.010 = 273 >=
-- 0.8 * 300: margin_call.  #2, a short of 2 against the ask 27354.6: 54.6 /
-- 27300 = 0.002, c = 0.004: LP 66000 / (2 + 2 * 0.008) = 32738.09523809
-- (down).  #3, a long of 5: 1 at 109.2, 4 beyond at 109.2 + 0.01 * 27300 =
-- 382.2, (109.2 + 1528.8) / 136500 = 0.012, c = 0.014: MM at 27300 136500 *
-- 0.018 = 2457 >= equity 1500: liquidate (ok without the curve: 819 < 1200).
INSERT INTO liq.book VALUES ('BTC', 'bid', 27190.8, 1), ('BTC', 'ask', 27354.6, 5),
                            ('INV', 'bid', 19960, 10), ('INV', 'ask', 20040, 4);
SELECT isomargin.watch_liquidity('liq.positions', 'liq.book', 0.01) > 0 AS watching;
SELECT id, liquidation_price, margin_call_price, status FROM liq.positions ORDER BY id;
SELECT position_key, old_status, new_status, cause, mark_price, equity, maintenance_margin
  FROM isomargin.events WHERE positions = 'liq.positions'::regclass ORDER BY id;
SELECT symbol, old_rate, new_rate, cause ->> 'source' AS source, cause ->> 'mark_price' AS mark_price,
       cause ->> 'bid_levels' AS bids, cause ->> 'ask_levels' AS asks, cause -> 'curve' -> 'bid' AS bid_pieces
  FROM isomargin.addon_changes WHERE instruments = 'liq.instruments'::regclass ORDER BY id;

-- Every stored price and status against the dynamic_* figures with the add-on
-- computed independently: the instrument's addon_rate plus liquidity_addon
-- (the level walk) of the position's size against the book at the mark the
-- snapshot was taken at (snap); the status is the check at the mark, but a
-- stored liquidate or bankrupt stays unless the check is more severe (sticky,
-- doc/enforcement.md "Status semantics").
CREATE FUNCTION liq.disagreements(snap jsonb) RETURNS TABLE (id int, what text)
LANGUAGE sql AS $$
    WITH b AS (
        SELECT symbol,
               coalesce(array_agg(price) FILTER (WHERE side = 'bid'), '{}') AS bp,
               coalesce(array_agg(size) FILTER (WHERE side = 'bid'), '{}') AS bs,
               coalesce(array_agg(price) FILTER (WHERE side = 'ask'), '{}') AS ap,
               coalesce(array_agg(size) FILTER (WHERE side = 'ask'), '{}') AS az
          FROM liq.book GROUP BY symbol),
    x AS (
        SELECT p.*, i.kind, i.contract_size, i.mmr, m.mark_price,
               i.addon_rate + isomargin.liquidity_addon(
                   p.size, (snap ->> p.symbol)::numeric,
                   CASE WHEN p.size > 0 THEN b.bp ELSE b.ap END,
                   CASE WHEN p.size > 0 THEN b.bs ELSE b.az END, 0.01, i.kind) AS c
          FROM liq.positions p JOIN liq.instruments i USING (symbol)
          JOIN liq.marks m USING (symbol)
          LEFT JOIN (SELECT * FROM b UNION ALL
                     SELECT s, '{}', '{}', '{}', '{}' FROM unnest('{BTC,INV}'::text[]) s
                      WHERE s NOT IN (SELECT symbol FROM b)) b USING (symbol))
    SELECT x.id, w.what FROM x CROSS JOIN LATERAL (
        SELECT 'liquidation_price' WHERE x.liquidation_price IS DISTINCT FROM
               isomargin.dynamic_liquidation_price(x.size, x.entry_price, x.margin, x.c, x.mmr,
                                                   x.contract_size, x.kind)
        UNION ALL
        SELECT 'margin_call_price' WHERE x.margin_call_price IS DISTINCT FROM
               isomargin.dynamic_margin_call_price(x.size, x.entry_price, x.margin, x.c, x.mmr,
                                                   x.contract_size, x.kind)
        UNION ALL
        SELECT 'status' WHERE x.status IS DISTINCT FROM (
               SELECT CASE WHEN x.status >= 'liquidate' THEN greatest(x.status, chk) ELSE chk END
                 FROM isomargin.dynamic_margin_status(x.size, x.entry_price, x.mark_price, x.margin, x.c,
                                                      x.mmr, x.contract_size, x.kind) AS chk)) AS w(what)
     ORDER BY 1, 2
$$;
SELECT * FROM liq.disagreements('{"BTC": 27300, "INV": 20000}');
-- and the two routes of the add-on agree row by row
SELECT p.id, p.size, isomargin.liquidity_curve_addon(i.liquidity_curve, p.size) AS liquidity
  FROM liq.positions p JOIN liq.instruments i USING (symbol) ORDER BY p.id;

-- 3. A mark move: the add-on stays the snapshot's (built at 27300); 27250
-- crosses #1's stored liquidation price (MM 27250 * 0.010 = 272.5 >= 250).
UPDATE liq.marks SET mark_price = 27250 WHERE symbol = 'BTC';
SELECT id, status FROM liq.positions ORDER BY id;
SELECT * FROM liq.disagreements('{"BTC": 27300, "INV": 20000}');

-- 4. A snapshot change: BTC's ask thins to 27795 x 0.5 (one statement), the
-- curve is rebuilt at the mark 27250 and BTC's positions re-priced at once.
-- #6, a short of 1 at 27500 with 600: 0.5 at 545 and 0.5 beyond at 545 +
-- 272.5, (272.5 + 408.75) / 27250 = 0.025, c = 0.027: MM 27250 * 0.031 =
-- 844.75 >= 0.8 * 850, below 850: ok -> margin_call (MM 218 before).  INV's
-- curve does not change; the sticky liquidate of #1 and #3 stays.
UPDATE liq.book SET price = 27795, size = 0.5 WHERE symbol = 'BTC' AND side = 'ask';
SELECT id, liquidation_price, margin_call_price, status FROM liq.positions ORDER BY id;
-- a position written under the curve takes it by its own size (the positions
-- trigger): #7, a long of 2 (1 at 59.2, 1 beyond at 59.2 + 272.5: 390.9 / 54500
-- = 0.007173 at 27250); #4 grows to 12 contracts (2 beyond the bid's depth)
INSERT INTO liq.positions VALUES (7, 'BTC', 2, 30000, 6000);
UPDATE liq.positions SET size = 12, margin = 0.006 WHERE id = 4;
SELECT p.id, p.size, isomargin.liquidity_curve_addon(i.liquidity_curve, p.size) AS liquidity, p.liquidation_price
  FROM liq.positions p JOIN liq.instruments i USING (symbol) WHERE p.id IN (4, 7) ORDER BY p.id;
SELECT position_key, old_status, new_status, cause, maintenance_margin
  FROM isomargin.events WHERE positions = 'liq.positions'::regclass ORDER BY id;
SELECT symbol, cause ->> 'mark_price' AS mark_price, cause -> 'curve' -> 'ask' AS ask_pieces
  FROM isomargin.addon_changes WHERE instruments = 'liq.instruments'::regclass ORDER BY id;
SELECT * FROM liq.disagreements('{"BTC": 27250, "INV": 20000}');
-- #1 and #3 stay liquidate (sticky) though the new curve charges #1 less:
-- 59.2 / 27250 = 0.002173 at the mark 27250, LP 27000 / 0.991827 = 27222.48940592.
-- verify recomputes the same figures; the reports charge the same add-on:
-- the ladder (buckets of 10% from the mark 27250) holds #6 (27255.09) in
-- bucket 1 and #2 (31930.33, 32803.18 without the curve: past the 2 buckets)
-- in bucket 2; a shock of +0.02% (27255.45) takes #6 past its stored
-- liquidation price (MM 27255.45 * 0.031 = 844.91895 >= equity 844.55)
SELECT count(*) AS verify_rows FROM isomargin.verify('liq.positions');
SELECT bucket, price_low, price_high, position_count
  FROM isomargin.liquidation_ladder('liq.positions', 'liq.marks', 'liq.instruments', 0.1, 2)
 WHERE symbol = 'BTC' AND side = 'short' AND position_count > 0 ORDER BY bucket;
SELECT position_key, shocked_price, status, equity, maintenance_margin
  FROM isomargin.shock('liq.positions', 'liq.marks', 'liq.instruments', 0.0002) ORDER BY 1;

-- 5. Refused (22023), nothing written: a book so thin that a position's
-- mmr + addon_rate + liquidity add-on reaches the margin-call ratio; a curve of
-- the other kind and a malformed one written by hand.
SELECT pg_temp.try($$WITH u AS (UPDATE liq.book SET price = 60000 WHERE symbol = 'BTC' AND side = 'ask' RETURNING 1) SELECT count(*) FROM u$$);
SELECT pg_temp.try($$WITH u AS (UPDATE liq.instruments SET liquidity_curve = isomargin.liquidity_curve(20000, '{}', '{}', '{}', '{}', 0.01, 'inverse') WHERE symbol = 'BTC' RETURNING 1) SELECT count(*) FROM u$$);
SELECT pg_temp.try($$WITH u AS (UPDATE liq.instruments SET liquidity_curve = '{"kind": "linear", "mark_price": 1, "bid": [[1, 0, 0]], "ask": [[0, 0, 0]]}' WHERE symbol = 'BTC' RETURNING 1) SELECT count(*) FROM u$$);
SELECT pg_temp.try($$SELECT isomargin.liquidity_curve_addon('{"kind": "linear", "mark_price": 0, "bid": [[0, 0, 0]], "ask": [[0, 0, 0]]}', 1)$$);
SELECT pg_temp.try($$SELECT isomargin.watch_liquidity('liq.positions', 'liq.book', 0.01)$$);
SELECT count(*) AS changes FROM isomargin.addon_changes WHERE instruments = 'liq.instruments'::regclass;

-- 5b. Deleting INV's asks leaves its curve the empty side's (the short of 10
-- all at the penalty: 0.01); truncating the book rebuilds every curve as an
-- empty book's, each at its current mark (#6: 0.002 + 0.01, MM 436 < 680:
-- back to ok).  Each rebuilt curve is one addon_changes row.
DELETE FROM liq.book WHERE symbol = 'INV' AND side = 'ask';
SELECT id, isomargin.liquidity_curve_addon(i.liquidity_curve, p.size) AS liquidity, liquidation_price
  FROM liq.positions p JOIN liq.instruments i USING (symbol) WHERE p.id = 5;
SELECT * FROM liq.disagreements('{"BTC": 27250, "INV": 20000}');
TRUNCATE liq.book;
SELECT id, status FROM liq.positions ORDER BY id;
SELECT * FROM liq.disagreements('{"BTC": 27250, "INV": 20000}');
SELECT symbol, cause ->> 'mark_price' AS mark_price, cause ->> 'bid_levels' AS bids,
       cause ->> 'ask_levels' AS asks
  FROM isomargin.addon_changes WHERE instruments = 'liq.instruments'::regclass ORDER BY id;

-- 6. A curve set to NULL stops charging the liquidity add-on.
SELECT isomargin.unwatch_liquidity('liq.book');
UPDATE liq.instruments SET liquidity_curve = NULL WHERE symbol = 'BTC';
SELECT id, liquidation_price, status FROM liq.positions WHERE symbol = 'BTC' ORDER BY id;
SELECT isomargin.unenforce('liq.positions');

-- 7. The contract's line: a liquidity_curve column of another type is refused
-- (22023), and another name is mapped with the key liquidity_curve.
CREATE TABLE liq.instruments2 (symbol text PRIMARY KEY, mmr numeric NOT NULL, liquidity_curve text);
SELECT pg_temp.try($$SELECT isomargin.enforce('liq.positions', 'liq.marks', 'liq.instruments2')$$);
ALTER TABLE liq.instruments2 DROP COLUMN liquidity_curve, ADD COLUMN depth jsonb;
INSERT INTO liq.instruments2 VALUES ('BTC', 0.004, isomargin.liquidity_curve(27300, '{27190.8}', '{1}', '{}', '{}', 0.01)),
                                    ('INV', 0.005, NULL);
DELETE FROM liq.positions WHERE symbol = 'INV';
SELECT isomargin.enforce('liq.positions', 'liq.marks', 'liq.instruments2',
                         '{"liquidity_curve": "depth"}') -> 'id' IS NOT NULL AS enforced;
-- #1: c = 0.004 (no addon_rate column): LP 27000 / (1 - 0.008) = 27217.74193549
SELECT id, liquidation_price FROM liq.positions WHERE id = 1;
SELECT isomargin.unenforce('liq.positions');
DROP SCHEMA liq CASCADE;
