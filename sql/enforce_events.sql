-- The event table and the worker claim pattern: isomargin.claim_events
-- hands each event to one worker, oldest first, with FOR UPDATE SKIP
-- LOCKED; a claim rolled back with the worker's transaction is claimable
-- again.  (Two workers racing: test/specs/enforce_claims.spec.)
\set SHOW_CONTEXT never
TRUNCATE isomargin.events RESTART IDENTITY;
ALTER SEQUENCE isomargin.enforcement_id_seq RESTART;
CREATE TABLE instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO instruments VALUES ('BTC', 0.004);
INSERT INTO marks VALUES ('BTC', 30000);
SELECT isomargin.enforce('positions', 'marks', 'instruments') ->> 'id' AS id;
INSERT INTO positions SELECT g, 'BTC', 1, 30000, 3000 - 10 * g FROM generate_series(1, 5) g;
UPDATE marks SET mark_price = 27100;
SELECT id, positions, position_key, symbol, old_status, new_status, mark_price, equity,
       maintenance_margin, created_at IS NOT NULL AS has_time, claimed_by, claimed_at
  FROM isomargin.events ORDER BY id;

-- Oldest first, at most max_events (default 1).
SELECT e.id, e.claimed_by, e.claimed_at IS NOT NULL AS claimed FROM isomargin.claim_events('w1') e;
SELECT e.id, e.claimed_by FROM isomargin.claim_events('w2', 3) e ORDER BY e.id;
-- A claim rolled back is returned to the pool.
BEGIN;
SELECT e.id, e.claimed_by FROM isomargin.claim_events('w3', 10) e ORDER BY e.id;
ROLLBACK;
SELECT e.id, e.claimed_by FROM isomargin.claim_events('w4', 10) e ORDER BY e.id;
-- Nothing left; a NULL worker is refused (22023).
SELECT count(*) AS claimed FROM isomargin.claim_events('w5', 10);
UPDATE marks SET mark_price = 26000;
SELECT count(*) AS claimed FROM isomargin.claim_events(NULL, 10);
-- max_events below 1 is refused (22023), nothing claimed.
\set ECHO none
\i test/lib/try.sql
\set ECHO all
SELECT m, pg_temp.try(format('SELECT count(*) FROM isomargin.claim_events(%L, %s)', 'w6', m))
  FROM (VALUES (0), (-5)) AS v(m);
SELECT count(*) AS unclaimed FROM isomargin.events WHERE claimed_at IS NULL;
SELECT id, claimed_by FROM isomargin.events ORDER BY id;

SELECT isomargin.unenforce('positions');
DROP TABLE positions, marks, instruments;
TRUNCATE isomargin.events RESTART IDENTITY;
