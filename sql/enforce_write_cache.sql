-- The positions trigger takes an instrument's state lock, mark and rule once
-- per transaction (src/enforce_xact_cache.c).  What it learned must be
-- forgotten when this transaction moves the mark or changes the instrument,
-- and when a subtransaction ends: every row is still checked at the current
-- mark with the current rule.
\set SHOW_CONTEXT never
TRUNCATE isomargin.events RESTART IDENTITY;
ALTER SEQUENCE isomargin.enforcement_id_seq RESTART;
CREATE TABLE wc_instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE wc_marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE wc_positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                           entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO wc_instruments VALUES ('BTC', 0.004), ('ETH', 0.004);
INSERT INTO wc_marks VALUES ('BTC', 30000), ('ETH', 2000);
SELECT isomargin.enforce('wc_positions', 'wc_marks', 'wc_instruments') ->> 'id' AS id;

-- The mark moved in the same transaction: the next row is checked at it
-- (long 1 at 30000 with margin 3000: liquidated at 27108.43373494, so at 27100 the
-- second one is flagged on insert, the first by the mark update).
BEGIN;
INSERT INTO wc_positions VALUES (1, 'BTC', 1, 30000, 3000);
UPDATE wc_marks SET mark_price = 27100 WHERE symbol = 'BTC';
INSERT INTO wc_positions VALUES (2, 'BTC', 1, 30000, 3000);
COMMIT;
SELECT id, status FROM wc_positions ORDER BY id;

-- The instrument changed in the same transaction: the next row takes the
-- new rate (mmr 0.01: liquidated at 1800 / 0.99 = 1818.18181819, rounded up; at the old
-- rate, 0.004, it would be 1807.22891567).  Position 3 is recomputed by the change.
BEGIN;
INSERT INTO wc_positions VALUES (3, 'ETH', 1, 2000, 200);
UPDATE wc_instruments SET mmr = 0.01 WHERE symbol = 'ETH';
INSERT INTO wc_positions VALUES (4, 'ETH', 1, 2000, 200);
COMMIT;
SELECT id, liquidation_price, isomargin.liquidation_price(1, 2000, 200, 0.01) AS by_sql
  FROM wc_positions WHERE symbol = 'ETH' ORDER BY id;

-- Many rows of one statement and of several statements of a transaction:
-- each priced and checked as by the SQL functions.
BEGIN;
INSERT INTO wc_positions SELECT 100 + g, CASE WHEN g % 2 = 0 THEN 'BTC' ELSE 'ETH' END,
                                CASE WHEN g % 3 = 0 THEN -1 ELSE 1 END,
                                CASE WHEN g % 2 = 0 THEN 27000 ELSE 2000 END, 50 + 20 * g
  FROM generate_series(1, 40) g;
UPDATE wc_positions SET margin = margin + 100 WHERE id > 100 AND id % 4 = 0;
COMMIT;
SELECT count(*) AS positions,
       count(*) FILTER (WHERE (p.liquidation_price, p.status) IS NOT DISTINCT FROM
           (isomargin.liquidation_price(p.size, p.entry_price, p.margin, i.mmr),
            isomargin.margin_status(p.size, p.entry_price, m.mark_price, p.margin, i.mmr))) AS as_by_sql
  FROM wc_positions p JOIN wc_instruments i USING (symbol) JOIN wc_marks m USING (symbol)
 WHERE p.id > 100;

-- A savepoint rolled back: the next row locks and reads again (the race
-- itself: test/specs/enforce_write_cache.spec).
BEGIN;
SAVEPOINT s;
INSERT INTO wc_positions VALUES (5, 'BTC', -1, 27100, 3000);
ROLLBACK TO s;
INSERT INTO wc_positions VALUES (5, 'BTC', -1, 27100, 3000);
SELECT id, status, liquidation_price FROM wc_positions WHERE id = 5;
COMMIT;

SELECT isomargin.unenforce('wc_positions');
DROP TABLE wc_positions, wc_marks, wc_instruments;
TRUNCATE isomargin.events RESTART IDENTITY;
