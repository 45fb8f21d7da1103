-- bench/liquidation_book.sql: the book of bench/liquidation_throughput.sh.
-- :n positions, longs of 1 contract at 100 on 4 flat instruments (mmr 0.004),
-- margins 9, 9.5, 10, 10.5 in turn: at the crash to 90 their equities are -1,
-- -0.5, 0 and 0.5 against a maintenance of 0.36, so three in four are
-- flagged (bankrupt, bankrupt, bankrupt, ok).  A fifth instrument, QUIET,
-- holds 10,000 positions far from the mark: the feed of the latency test
-- moves it crossing nothing.  Whole policy, funds deep enough for no ADL.
SELECT isomargin.unenforce(e.positions) FROM isomargin.enforcement e WHERE e.positions = to_regclass('positions');
DROP TABLE IF EXISTS positions, marks, instruments;
CREATE TABLE instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO instruments VALUES ('A', 0.004), ('B', 0.004), ('C', 0.004), ('D', 0.004), ('QUIET', 0.004);
INSERT INTO marks VALUES ('A', 100), ('B', 100), ('C', 100), ('D', 100), ('QUIET', 100);
INSERT INTO positions
SELECT i, (ARRAY['A', 'B', 'C', 'D'])[1 + i % 4], 1, 100, 9 + (i / 4 % 4) * 0.5
  FROM generate_series(1, :n) AS i;
INSERT INTO positions SELECT :n + i, 'QUIET', 1, 100, 50 FROM generate_series(1, 10000) AS i;
SELECT isomargin.enforce('positions', 'marks', 'instruments') IS NOT NULL AS enforced;
TRUNCATE isomargin.events, isomargin.insurance_ledger, isomargin.insurance_funds, isomargin.adl_queue,
         isomargin.adl_fills, isomargin.liquidation_followups, isomargin.liquidation_settings RESTART IDENTITY;
SELECT isomargin.liquidation_setup('positions');
SELECT isomargin.insurance_deposit('positions', s, 1000000) FROM unnest(ARRAY['A', 'B', 'C', 'D']) AS s;
VACUUM ANALYZE positions;
UPDATE marks SET mark_price = 90 WHERE symbol <> 'QUIET';
-- A live events table has statistics; one just truncated and flooded has
-- none until autovacuum comes, and the planner then reads the flagged events
-- through events_positions (every event of the table) instead of the
-- partial indexes of the claims: analyze it, as autovacuum would.
ANALYZE isomargin.events;
SELECT count(*) AS flagged FROM positions WHERE status >= 'liquidate';
