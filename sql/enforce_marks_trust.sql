-- Marks an exchange can trust (issue 15 items 1 and 2): a tick older than the
-- current mark is recorded but moves nothing, in the triggers as in the
-- reports; a NULL mark is refused; a price band holds an outlier back until an
-- operator confirms it or a mark within the band supersedes it; recheck steps
-- flags a bad tick raised back down, with events naming who and why.
\set ECHO none
\i test/lib/try.sql
\set ECHO all
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE sql RETURN split_part(pg_temp.try(q), ' | ', 1);

-- Figures used below (mmr 0.004, entry 30000, size 1, margin 3000; checked by hand):
--   long:  liquidated at 30000 - 3000 + 0.004 P = P  ->  P = 27000/0.996 = 27108.43373494 (up)
--   short: liquidated at 33000 - P = 0.004 P  ->  P = 33000/1.004 = 32868.52589641 (down),
--          bankrupt at 33000.
CREATE TABLE instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL, price_band numeric);
CREATE TABLE ticks (symbol text, mark_price numeric, at timestamptz);
CREATE TABLE positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO instruments VALUES ('BTC', 0.004, NULL), ('ETH', 0.004, NULL);
INSERT INTO ticks VALUES ('BTC', 30000, '2026-01-01 00:00:00+00'), ('ETH', 30000, '2026-01-01 00:00:00+00');
INSERT INTO positions VALUES (1, 'BTC', 1, 30000, 3000), (2, 'BTC', -1, 30000, 3000),
                             (3, 'ETH', 1, 30000, 3000);
SELECT isomargin.enforce('positions', 'ticks', 'instruments', '{"mark_time": "at"}') -> 'added_columns' AS added;
SELECT format('SELECT symbol, mark_price, mark_time, held_price, held_time FROM %s ORDER BY symbol',
              state_table) AS state FROM isomargin.enforcement \gset

-- 1. A late tick: 29000 at 00:00:02, then 27000 stamped 00:00:01 (older than the
-- current mark): recorded, ignored; the long stays ok (27000 is below its
-- liquidation price).  The report over the enforced book uses 29000 too.
INSERT INTO ticks VALUES ('BTC', 29000, '2026-01-01 00:00:02+00');
INSERT INTO ticks VALUES ('BTC', 27000, '2026-01-01 00:00:01+00');
SELECT id, status FROM positions ORDER BY id;
:state;
SELECT DISTINCT symbol, mark_price FROM isomargin.liquidation_ladder('positions', 'ticks', 'instruments', 0.01, 1)
 ORDER BY 1;
SELECT count(*) AS ticks_recorded FROM ticks WHERE symbol = 'BTC';
-- A tick at the current mark's own time moves it (the last written wins).
INSERT INTO ticks VALUES ('BTC', 27100, '2026-01-01 00:00:02+00');
SELECT id, status FROM positions ORDER BY id;
-- One statement, two ticks of ETH: the later stamp wins though written first.
INSERT INTO ticks VALUES ('ETH', 27100, '2026-01-01 00:00:05+00'), ('ETH', 29500, '2026-01-01 00:00:04+00');
SELECT id, status FROM positions WHERE symbol = 'ETH';
:state;

-- 2. A NULL mark or mark_time is refused (23502), and nothing is recorded.
SELECT pg_temp.err($$INSERT INTO ticks VALUES ('BTC', NULL, '2026-01-01 00:00:09+00')$$);
SELECT pg_temp.err($$INSERT INTO ticks VALUES ('BTC', 30000, NULL)$$);
SELECT pg_temp.err($$UPDATE ticks SET mark_price = NULL WHERE symbol = 'ETH'$$);
SELECT count(*) AS null_ticks FROM ticks WHERE mark_price IS NULL OR at IS NULL;
-- A row without a symbol is no instrument's mark: recorded, ignored.
INSERT INTO ticks VALUES (NULL, 1, '2026-01-01 00:00:09+00');
SELECT isomargin.unenforce('positions');
DELETE FROM ticks;
UPDATE positions SET status = 'ok';

-- 3. The fat finger, without a band: 1e30, then back to 30000.  The short goes
-- bankrupt at 1e30 and stays bankrupt (flags never step down on a mark move).
-- Two more shorts: one bankrupt at 30000 too (-1 at 29000, margin 100: equity
-- -900), one liquidated there (-1 at 29900, margin 150: equity 50, maintenance 120).
DROP TABLE ticks;
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric);
INSERT INTO marks VALUES ('BTC', 30000), ('ETH', 30000);
INSERT INTO positions VALUES (4, 'BTC', -1, 29000, 100), (5, 'BTC', -1, 29900, 150);
UPDATE positions SET margin = 3000 WHERE id = 3;
SELECT isomargin.enforce('positions', 'marks', 'instruments') -> 'added_columns' AS added;
SELECT id, status FROM positions ORDER BY id;
UPDATE marks SET mark_price = 1e30 WHERE symbol = 'BTC';
UPDATE marks SET mark_price = 30000 WHERE symbol = 'BTC';
SELECT id, status FROM positions ORDER BY id;
-- recheck: who may, and bad arguments.
CREATE ROLE im_outsider;
GRANT USAGE ON SCHEMA isomargin TO im_outsider;
SET ROLE im_outsider;
SELECT pg_temp.err($$SELECT isomargin.recheck('positions', 'BTC', 'I am not the owner')$$);
RESET ROLE;
SELECT pg_temp.err($$SELECT isomargin.recheck('positions', 'BTC', '  ')$$);
SELECT pg_temp.err($$SELECT isomargin.recheck('positions', ARRAY['BTC', NULL], 'null in the list')$$);
SELECT pg_temp.err($$SELECT isomargin.recheck('instruments', 'BTC', 'not enforced')$$);
SELECT pg_temp.err($$SELECT isomargin.recheck('positions', 'XRP', 'no such instrument')$$);
SELECT isomargin.recheck('positions', 'BTC', NULL) AS strict_null;
-- The operator re-checks BTC: 2 steps down to ok, 5 to liquidate, 4 stays bankrupt.
SELECT isomargin.recheck('positions', ARRAY['BTC', 'ETH', 'BTC'], 'fat finger: BTC mark 1e30 at 12:00, ticket 42') AS stepped;
SELECT id, status FROM positions ORDER BY id;
SELECT position_key, old_status, new_status, mark_price, equity, maintenance_margin,
       actor = current_user AS by_me, reason
  FROM isomargin.events WHERE reason IS NOT NULL ORDER BY id;
-- Their cause is the operator's, with the position's snapshot at the recheck
-- (the shorts' prices by hand: lp 33000/1.004 = 32868.52589641 and 30050/1.004 =
-- 29930.27888446, rounded down; bp 33000 and 30050), the stored prices unchanged.
SELECT e.position_key, e.cause, e.size, e.entry_price, e.margin, e.liquidation_price,
       e.bankruptcy_price, e.margin_call_price = p.margin_call_price
       AND e.liquidation_price = p.liquidation_price AND e.bankruptcy_price = p.bankruptcy_price AS as_stored
  FROM isomargin.events e JOIN positions p ON p.id = (e.position_key ->> 'id')::int
 WHERE e.reason IS NOT NULL ORDER BY e.id;
-- Nothing is left to step down: a second recheck changes nothing.
SELECT isomargin.recheck('positions', 'BTC', 'again') AS stepped_again;
-- The mark moves on from there as usual: 32900 liquidates the short (its price 32868.52...).
UPDATE marks SET mark_price = 32900 WHERE symbol = 'BTC';
SELECT id, status FROM positions ORDER BY id;
UPDATE marks SET mark_price = 30000 WHERE symbol = 'BTC';
SELECT isomargin.recheck('positions', 'BTC', 'reset for the band test') AS stepped;
SELECT isomargin.unenforce('positions');

-- 4. With a price band of 20% on BTC: the fat finger is held back, with an
-- event, and flags nothing.
UPDATE instruments SET price_band = 0.2 WHERE symbol = 'BTC';
SELECT isomargin.enforce('positions', 'marks', 'instruments') -> 'added_columns' AS added;
SELECT format('SELECT symbol, mark_price, held_price FROM %s ORDER BY symbol', state_table) AS state
  FROM isomargin.enforcement \gset
SELECT id, status FROM positions ORDER BY id;
UPDATE marks SET mark_price = 1e30 WHERE symbol = 'BTC';
SELECT id, status FROM positions ORDER BY id;
:state;
-- A mark within 20% of 30000 supersedes it: 30100 moves, the held mark goes.
UPDATE marks SET mark_price = 30100 WHERE symbol = 'BTC';
:state;
SELECT id, status FROM positions ORDER BY id;
-- One unit beyond 20% of 30000 is held; 20% exactly passes (ETH, 30000 -> 24000:
-- the long's equity 3000 - 6000, bankrupt).
UPDATE marks SET mark_price = 30000 WHERE symbol = 'BTC';
UPDATE marks SET mark_price = 36000.01 WHERE symbol = 'BTC';
UPDATE instruments SET price_band = 0.2 WHERE symbol = 'ETH';
UPDATE marks SET mark_price = 24000 WHERE symbol = 'ETH';
:state;
SELECT id, status FROM positions ORDER BY id;
-- Confirmed by the operator: it becomes the mark and flags what it crosses.
SELECT pg_temp.err($$SELECT isomargin.confirm_mark('positions', 'ETH', 'nothing held')$$);
SELECT pg_temp.err($$SELECT isomargin.confirm_mark('positions', 'BTC', '')$$);
SELECT isomargin.confirm_mark('positions', 'BTC', 'checked against two venues');
:state;
SELECT id, status FROM positions ORDER BY id;
SELECT symbol, event, mark_price, current_mark, actor = current_user AS by_me, reason FROM isomargin.mark_events ORDER BY id;
-- A band on an instrument must be positive.
SELECT pg_temp.err($$UPDATE instruments SET price_band = 0 WHERE symbol = 'BTC'$$);

SELECT isomargin.unenforce('positions');
DELETE FROM isomargin.events;
DELETE FROM isomargin.mark_events;
DROP TABLE positions, marks, instruments;
DROP OWNED BY im_outsider;
DROP ROLE im_outsider;
