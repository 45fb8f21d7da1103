-- Dynamic requirements, item 2: the liquidity add-on (doc/dynamic.md).
-- Every expected figure is worked by hand in the comments.

-- A long of 3 at mark 100 sells into bids 99 x 1, 98 x 1, 97 x 0.5 (given in any order):
-- cost 1*1 + 1*2 + 0.5*3 = 4.5, the 0.5 beyond the book at the worst slippage 3
-- plus the penalty 0.01*100: 0.5*4 = 2; 6.5 / (3*100) = 0.021666... -> 0.021667 (up)
SELECT isomargin.liquidity_addon(3, 100, '{97, 99, 98}', '{0.5, 1, 1}', 0.01) AS beyond_depth;
-- 1.5 fills 1 at 99 and 0.5 at 98: (1 + 1) / 150 = 0.013333... -> 0.013334
SELECT isomargin.liquidity_addon(1.5, 100, '{97, 99, 98}', '{0.5, 1, 1}', 0.01) AS within_depth;
-- exactly the book's depth: no penalty: 4.5 / 250 = 0.018
SELECT isomargin.liquidity_addon(2.5, 100, '{97, 99, 98}', '{0.5, 1, 1}', 0.01) AS at_depth;
-- a short of 2 buys asks from the lowest: 99.9 (below the mark: no credit, 0), then 100.5
-- (0.5): 0.5 / 200 = 0.0025
SELECT isomargin.liquidity_addon(-2, 100, '{101, 100.5, 99.9}', '{1, 1, 1}', 0.01) AS short_close;
-- an empty book: everything at the penalty: 2 * 0.05 * 100 / 200 = 0.05
SELECT isomargin.liquidity_addon(2, 100, '{}', '{}', 0.05) AS empty_book,
       isomargin.liquidity_addon(0, 100, '{99}', '{1}', 0.05) AS closed;
-- inverse long of 100 at 40000 into bids 39960 x 50, 39900 x 100: slippages (P - p)/p
-- rounded up to 20 decimals: 40/39960 -> 0.00100100100100100101, 100/39900 ->
-- 0.00250626566416040101; (50*0.00100100100100100101 + 50*0.00250626566416040101) / 100
-- = 0.00175363333258070101 -> 0.001754
SELECT isomargin.liquidity_addon(100, 40000, '{39960, 39900}', '{50, 100}', 0.01, 'inverse') AS inverse_long;
-- the same independently: the exact fraction of the cost over the notional, rounded up
SELECT ceil(((50 * 40.0 / 39960 + 50 * 100.0 / 39900) / 100) * 1e6) * 1e-6 AS inverse_check;

\set ECHO none
\i test/lib/try.sql
\set ECHO all
SELECT pg_temp.try($$SELECT isomargin.liquidity_addon(1, 0, '{99}', '{1}', 0.01)$$);
SELECT pg_temp.try($$SELECT isomargin.liquidity_addon(1, 100, '{99}', '{1}', -0.01)$$);
SELECT pg_temp.try($$SELECT isomargin.liquidity_addon(1, 100, '{99, 98}', '{1}', 0.01)$$);
SELECT pg_temp.try($$SELECT isomargin.liquidity_addon(1, 100, '{99}', '{-1}', 0.01)$$);
SELECT pg_temp.try($$SELECT isomargin.liquidity_addon(1, 100, '{0}', '{1}', 0.01)$$);

-- Over a book: every position's add-on against a snapshot table of levels.
CREATE SCHEMA liq;
CREATE TABLE liq.instruments (symbol text PRIMARY KEY, kind isomargin.contract_kind,
                              contract_size numeric, mmr numeric);
CREATE TABLE liq.marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE liq.positions (id int PRIMARY KEY, symbol text, size numeric,
                            entry_price numeric, margin numeric);
CREATE TABLE liq.book (symbol text, side text, price numeric, qty numeric);
INSERT INTO liq.instruments VALUES ('L', 'linear', 1, 0.004), ('I', 'inverse', 100, 0.005),
                                   ('N', 'linear', 1, 0.004);
INSERT INTO liq.marks VALUES ('L', 100), ('I', 40000), ('N', 100);
INSERT INTO liq.book VALUES ('L', 'bid', 99, 1), ('L', 'bid', 98, 1), ('L', 'bid', 97, 0.5),
                            ('L', 'ask', 101, 1), ('L', 'ask', 100.5, 1), ('L', 'ask', 99.9, 1),
                            ('I', 'bid', 39960, 50), ('I', 'bid', 39900, 100);
INSERT INTO liq.positions VALUES (1, 'L', 3, 100, 50), (2, 'L', 1.5, 100, 50),
                                 (3, 'L', -2, 100, 50), (4, 'I', 100, 40000, 1),
                                 (5, 'I', -1, 40000, 1),     -- no asks: all at the penalty 0.01
                                 (6, 'N', 2, 100, 50);       -- no book at all: 0.01
-- 1: 0.021667, 2: 0.013334, 3: 0.0025, 4: 0.001754, 5: 0.01, 6: 0.01 (as above)
SELECT position_key, symbol, size, addon_rate
  FROM isomargin.liquidity_addons('liq.positions', 'liq.marks', 'liq.instruments', 'liq.book',
                                  0.01, '{"book.size": "qty"}');
DROP SCHEMA liq CASCADE;
