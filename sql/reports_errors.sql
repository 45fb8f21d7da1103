-- Bad arguments to the reports: each one's SQLSTATE and message; nothing runs half-way.
-- Uses the tables of reports_shock (schema rpt) and drops them at the end.
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- Moves and buckets.
SELECT pg_temp.err($$SELECT * FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', -1)$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', -1.5)$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', 'NaN')$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', 'Infinity')$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.liquidation_ladder('rpt.positions', 'rpt.marks', 'rpt.instruments', 0)$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.liquidation_ladder('rpt.positions', 'rpt.marks', 'rpt.instruments', -0.01)$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.liquidation_ladder('rpt.positions', 'rpt.marks', 'rpt.instruments', 1.01)$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.liquidation_ladder('rpt.positions', 'rpt.marks', 'rpt.instruments', 'NaN')$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.liquidation_ladder('rpt.positions', 'rpt.marks', 'rpt.instruments', 0.01, 0)$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.liquidation_ladder('rpt.positions', 'rpt.marks', 'rpt.instruments', 0.01, 10001)$$);
-- Details and hints say what was given and what is wanted.
\set SHOW_CONTEXT never
SELECT * FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', -1);
SELECT * FROM isomargin.liquidation_ladder('rpt.positions', 'rpt.marks', 'rpt.instruments', 2);
SELECT * FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', -0.1, '{"margin": "collateral"}');
SELECT * FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', -0.1, '{"price": "px"}');
\set SHOW_CONTEXT errors
-- STRICT: a NULL argument gives no rows.
SELECT count(*) FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', NULL);
SELECT count(*) FROM isomargin.liquidation_ladder('rpt.positions', 'rpt.marks', 'rpt.instruments', 0.01, NULL);

-- The columns mapping.
SELECT pg_temp.err($$SELECT * FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', -0.1, '[]')$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', -0.1, '{"price": "px"}')$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', -0.1, '{"mark_price": 1}')$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', -0.1, '{"margin": "collateral"}')$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', -0.1, '{"kind": "k"}')$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', -0.1, '{"marks.symbol": "sym"}')$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', -0.1, '{"mmr": "mmr", "tiers": "tiers"}')$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', -0.1, '{"mark_time": "at"}')$$);

-- Tables and columns.
CREATE TABLE rpt.float_book (id integer PRIMARY KEY, symbol text, size numeric, entry_price numeric, margin float8);
CREATE TABLE rpt.text_kind (symbol text PRIMARY KEY, kind text, mmr numeric);
CREATE TABLE rpt.no_rate (symbol text PRIMARY KEY);
CREATE TABLE rpt.no_key (symbol text, size numeric, entry_price numeric, margin numeric);
CREATE TABLE rpt.int_symbols (symbol integer PRIMARY KEY, mark_price numeric);
CREATE TABLE rpt.ticks2 (symbol text, mark_price numeric);
INSERT INTO rpt.ticks2 VALUES ('L', 30000), ('L', 30001), ('F', 2500);
CREATE SEQUENCE rpt.seq;
SELECT pg_temp.err($$SELECT * FROM isomargin.shock('rpt.float_book', 'rpt.marks', 'rpt.instruments', -0.1)$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.text_kind', -0.1)$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.no_rate', -0.1)$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.shock('rpt.no_key', 'rpt.marks', 'rpt.instruments', -0.1)$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.shock('rpt.positions', 'rpt.int_symbols', 'rpt.instruments', -0.1)$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.shock('rpt.positions', 'rpt.ticks2', 'rpt.instruments', -0.1)$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.shock('rpt.seq', 'rpt.marks', 'rpt.instruments', -0.1)$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.liquidation_ladder('rpt.positions', 'rpt.ticks2', 'rpt.instruments')$$);
SELECT pg_temp.err($$SELECT * FROM isomargin.liquidation_ladder('rpt.positions', 'rpt.marks', 'rpt.no_rate')$$);
-- A bad value in the book is the margin functions' error, named by its argument.
INSERT INTO rpt.positions VALUES (12, 'L', 1, 0, 10);
SELECT pg_temp.err($$SELECT * FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', -0.1)$$);

SET client_min_messages = warning;
DROP SCHEMA rpt CASCADE;
RESET client_min_messages;
