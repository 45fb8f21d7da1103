-- The event queue: every event carries its cause and a snapshot of the
-- position; claim_events filters by table, instruments, new status and
-- cause; workers acknowledge what they claimed (ack_events); claimed events
-- are purged by age (purge_events); every bad argument is 22023.
-- (One NOTIFY per transaction and attachment: test/specs/enforce_notify.spec.
-- Who may claim what: sql/enforce_privileges.sql.)
\set SHOW_CONTEXT never
TRUNCATE isomargin.events RESTART IDENTITY;
ALTER SEQUENCE isomargin.enforcement_id_seq RESTART;
\set ECHO none
\i test/lib/try.sql
\set ECHO all
CREATE TABLE instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
CREATE TABLE positions2 (id int PRIMARY KEY, symbol text NOT NULL, size int NOT NULL,
                         entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO instruments VALUES ('BTC', 0.004), ('ETH', 0.005);
INSERT INTO marks VALUES ('BTC', 30000), ('ETH', 2000);
-- position 1 is under water when enforcement is attached: cause 'enforce'
INSERT INTO positions VALUES (1, 'BTC', 1, 33000, 2000);
SELECT isomargin.enforce('positions', 'marks', 'instruments') ->> 'id' AS id;
SELECT isomargin.enforce('positions2', 'marks', 'instruments') ->> 'id' AS id;

-- 'position': the row's own change (a new position under water, a margin cut)
INSERT INTO positions VALUES (2, 'BTC', 1, 30000, 3000), (3, 'BTC', -1, 30000, 3000),
                             (4, 'ETH', 10, 2000, 150);
UPDATE positions SET margin = 100 WHERE id = 4;
-- 'mark': the long crosses its liquidation price 27108.43373494
UPDATE marks SET mark_price = 27100 WHERE symbol = 'BTC';
-- 'instrument': ETH's rate raised to 0.016, the other book's position (10 at
-- 2000, margin 300) needs 320 (position 4 stays liquidate: it only escalates)
INSERT INTO positions2 VALUES (1, 'ETH', 10, 2000, 300);
UPDATE instruments SET mmr = 0.016 WHERE symbol = 'ETH';
-- 'operator': an explicit write of another status, the reset after the mark
-- came back (liquidate never steps down on a mark move); the check at 28000
-- decides: position 2 is ok.  Position 1 stays bankrupt: no event.
UPDATE marks SET mark_price = 28000 WHERE symbol = 'BTC';
UPDATE positions SET status = 'ok' WHERE id IN (1, 2);
SELECT id, positions, position_key, symbol, cause, old_status, new_status, size, entry_price,
       margin, mark_price, liquidation_price, margin_call_price, bankruptcy_price, equity,
       maintenance_margin
  FROM isomargin.events ORDER BY id;
-- the snapshot's stored prices are the row's at the change
SELECT e.id, e.liquidation_price = p.liquidation_price AS lp, e.margin_call_price = p.margin_call_price AS mcp,
       e.bankruptcy_price = p.bankruptcy_price AS bp
  FROM isomargin.events e JOIN positions p ON e.positions = 'positions'::regclass
   AND e.position_key = jsonb_build_object('id', p.id)
 WHERE e.id IN (3, 5) ORDER BY e.id;
-- position 2's events, in order: its liquidation by the mark, its reset by the operator
SELECT id, cause, old_status, new_status, mark_price FROM isomargin.events
 WHERE position_key = '{"id": 2}' ORDER BY id;

-- Filters: by table, instruments, new status and cause (each claim rolled back).
BEGIN;
SELECT e.id, e.positions, e.cause FROM isomargin.claim_events('w', 10, positions => 'positions2') e;
ROLLBACK;
BEGIN;
SELECT e.id, e.symbol FROM isomargin.claim_events('w', 10, symbols => '{ETH}') e ORDER BY e.id;
ROLLBACK;
BEGIN;
SELECT e.id, e.new_status FROM isomargin.claim_events('w', 10, statuses => '{liquidate,bankrupt}') e ORDER BY e.id;
ROLLBACK;
BEGIN;
SELECT e.id, e.cause FROM isomargin.claim_events('w', 10, causes => '{position,operator}') e ORDER BY e.id;
ROLLBACK;
BEGIN;
SELECT e.id FROM isomargin.claim_events('w', 10, 'positions', '{BTC}', '{ok}', '{position,operator}') e ORDER BY e.id;
ROLLBACK;
BEGIN;
SELECT e.id FROM isomargin.claim_events('w', 10, 'positions2', '{BTC}') e ORDER BY e.id;
ROLLBACK;
-- A worker that skips the owner side's own changes and wants only flags to act on.
SELECT e.id, e.cause, e.new_status FROM isomargin.claim_events('w1', 10,
       statuses => '{liquidate,bankrupt}', causes => '{mark,instrument,operator,enforce}') e ORDER BY e.id;
-- The two-argument calls keep working: oldest unclaimed first.
SELECT e.id, e.claimed_by FROM isomargin.claim_events('w2') e;
SELECT e.id, e.claimed_by FROM isomargin.claim_events('w2', 2) e ORDER BY e.id;

-- Acknowledging: only events this worker claimed; again counts 0.
SELECT isomargin.ack_events('w1', ARRAY[1, 3]) AS acked;
SELECT isomargin.ack_events('w1', ARRAY[1]) AS acked_again;
SELECT a, pg_temp.try(format('SELECT isomargin.ack_events(%s)', a)) FROM (VALUES
    ($$'w1', '{}'$$),
    ($$'w1', ARRAY[2]$$),          -- claimed by w2
    ($$'w1', ARRAY[4, 99]$$),      -- no such event: nothing acknowledged (not 4)
    ($$NULL, ARRAY[1]$$), ($$'w1', NULL$$), ($$'w1', ARRAY[1, NULL]$$),
    ($$'w1', '{{1}}'::int8[]$$)) AS v(a);
SELECT id, claimed_by, acked_at IS NOT NULL AS acked FROM isomargin.events ORDER BY id;

-- Bad arguments of claim_events: 22023, nothing claimed (position 2, reset to
-- ok at 28000, is bankrupt at 27000: one unclaimed event).
UPDATE marks SET mark_price = 27000 WHERE symbol = 'BTC';
SELECT a, pg_temp.try(format('SELECT count(*) FROM isomargin.claim_events(%s)', a)) FROM (VALUES
    ($$'w', 0$$), ($$'w', -5$$), ($$'w', NULL$$), ($$NULL, 1$$), ($$NULL$$),
    ($$'w', 1, symbols => '{}'$$), ($$'w', 1, symbols => '{NULL}'$$),
    ($$'w', 1, statuses => '{}'$$), ($$'w', 1, statuses => '{ok,NULL}'$$),
    ($$'w', 1, causes => '{}'$$), ($$'w', 1, causes => '{{mark}}'$$)) AS v(a);
SELECT id, cause, new_status FROM isomargin.events WHERE claimed_at IS NULL;

-- Purging: claimed events older than the age; unclaimed ones stay (unless
-- unclaimed => true, by their age).
SELECT a, pg_temp.try(format('SELECT isomargin.purge_events(%s)', a)) FROM (VALUES
    ($$NULL$$), ($$'-1 second'$$), ($$'-1 day', 'positions'$$), ($$'0', NULL, NULL$$)) AS v(a);
SELECT isomargin.purge_events('1 hour') AS purged;
SELECT isomargin.purge_events('0', 'positions2') AS purged;
SELECT id, positions, claimed_by FROM isomargin.events ORDER BY id;
SELECT isomargin.purge_events('0') AS purged;
SELECT id, claimed_by FROM isomargin.events ORDER BY id;
SELECT isomargin.purge_events('1 hour', unclaimed => true) AS purged;
SELECT isomargin.purge_events('0', unclaimed => true) AS purged;
SELECT count(*) AS events_left FROM isomargin.events;

SELECT isomargin.unenforce('positions');
SELECT isomargin.unenforce('positions2');
DROP TABLE positions, positions2, marks, instruments;
TRUNCATE isomargin.events RESTART IDENTITY;
