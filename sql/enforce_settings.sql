-- Per-attachment settings (issue 15 item 6): the margin-call ratio and the tick
-- of the stored prices are arguments of enforce(), checked as the figure
-- functions check theirs, and changed later with enforce_settings(), which
-- re-prices every position.
\set ECHO none
\i test/lib/try.sql
\set ECHO all
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE sql RETURN split_part(pg_temp.try(q), ' | ', 1);

CREATE TABLE instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO instruments VALUES ('BTC', 0.004);
INSERT INTO marks VALUES ('BTC', 27200);
INSERT INTO positions VALUES (1, 'BTC', 1, 30000, 3000), (2, 'BTC', -1, 30000, 3000);

-- Bad settings: the figure functions' messages.
SELECT pg_temp.err($$SELECT isomargin.enforce('positions', 'marks', 'instruments', margin_call_ratio => 0)$$);
SELECT pg_temp.err($$SELECT isomargin.enforce('positions', 'marks', 'instruments', margin_call_ratio => 1.5)$$);
SELECT pg_temp.err($$SELECT isomargin.enforce('positions', 'marks', 'instruments', margin_call_ratio => 'NaN')$$);
SELECT pg_temp.err($$SELECT isomargin.enforce('positions', 'marks', 'instruments', tick_size => -0.5)$$);
SELECT pg_temp.err($$SELECT isomargin.enforce('positions', 'marks', 'instruments', tick_size => NULL)$$);
SELECT count(*) AS attachments FROM isomargin.enforcement;

-- Ratio 0.5, tick 0.5.  The long (size 1, entry 30000, margin 3000, mmr 0.004),
-- by hand: liquidated at 27000/0.996 = 27108.433... -> 27108.5 (up to the tick);
-- margin call where 0.004 P = 0.5 (P - 27000): P = 13500/0.496 = 27217.741... ->
-- 27218.0; bankrupt at 27000.  The short: 33000/1.004 = 32868.525... -> 32868.5
-- (down); 0.004 P = 0.5 (33000 - P): 16500/0.504 = 32738.095... -> 32738.0.
-- At 27200 the long is margin_call (27200 < 27218).
-- The instruments table has no kind column: enforce() says so in its notes.
SELECT r -> 'settings' AS settings, r -> 'notes' AS notes
  FROM isomargin.enforce('positions', 'marks', 'instruments', margin_call_ratio => 0.5,
                         tick_size => 0.5) r;
SELECT id, liquidation_price, margin_call_price, bankruptcy_price, status FROM positions ORDER BY id;
SELECT margin_call_ratio, tick_size FROM isomargin.enforcement;
-- The same figures from the functions.
SELECT isomargin.liquidation_price(1, 30000, 3000, 0.004, tick_size => 0.5) AS lp,
       isomargin.margin_call_price(1, 30000, 3000, 0.004, margin_call_ratio => 0.5, tick_size => 0.5) AS mcp;

-- The candidate search is widened by the tick: at 27108.45 the long is still
-- margin_call (above 27108.433...) though its stored price 27108.5 lies above the
-- mark; 27108.44 is still safe; 27108.43 liquidates it (a range of one unit of
-- 1e-8 around the last move would miss the stored 27108.5).
UPDATE marks SET mark_price = 27108.45;
UPDATE marks SET mark_price = 27108.44;
SELECT id, status FROM positions ORDER BY id;
UPDATE marks SET mark_price = 27108.43;
SELECT id, status FROM positions ORDER BY id;
UPDATE marks SET mark_price = 27200;

-- enforce_settings: back to 0.8 and no tick; every position re-priced at once
-- (the long stays liquidate: flags do not step down on a settings change).
SELECT pg_temp.err($$SELECT isomargin.enforce_settings('positions', margin_call_ratio => 2)$$);
SELECT pg_temp.err($$SELECT isomargin.enforce_settings('instruments', tick_size => 1)$$);
SELECT isomargin.enforce_settings('positions', margin_call_ratio => 0.8, tick_size => 0);
SELECT id, liquidation_price, margin_call_price, bankruptcy_price, status FROM positions ORDER BY id;
-- A later session reads the new settings too (the triggers' cache is dropped).
\c
\set ECHO none
\i test/lib/try.sql
\set ECHO all
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE sql RETURN split_part(pg_temp.try(q), ' | ', 1);
INSERT INTO positions VALUES (3, 'BTC', 1, 30000, 3000);
SELECT id, liquidation_price, margin_call_price, status FROM positions WHERE id = 3;
-- Only the ratio; the tick stays.  A ratio at or below an instrument's mmr + fee
-- is refused by the instruments' rule check when the positions are re-priced.
SELECT isomargin.enforce_settings('positions', margin_call_ratio => 0.5) AS settings;
SELECT id, margin_call_price, status FROM positions ORDER BY id;
SELECT pg_temp.err($$SELECT isomargin.enforce_settings('positions', margin_call_ratio => 0.004)$$);
SELECT margin_call_ratio, tick_size FROM isomargin.enforcement;
SELECT position_key, old_status, new_status, mark_price FROM isomargin.events ORDER BY id;
-- the cause: position for a row's own change, enforce for the settings' re-pricing
SELECT position_key, new_status, cause FROM isomargin.events ORDER BY id;

SELECT isomargin.unenforce('positions');
DELETE FROM isomargin.events;
DROP TABLE positions, marks, instruments;
