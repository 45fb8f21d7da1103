-- Least privilege: each role of doc/enforcement.md's privileges table runs
-- with exactly the grants listed there, and shows what it can and cannot
-- do; a missing grant fails with a message that names it.
--   operator        the extension's owner (this test's superuser): enforce, purge
--   book owner      owns the positions table: USAGE on schema isomargin,
--                   SELECT on marks and instruments
--   feed            USAGE on the marks' schema; SELECT, INSERT, UPDATE on marks
--   worker          USAGE on schema isomargin; an event grant (grant_events);
--                   SELECT, UPDATE on positions to liquidate
--   analyst         USAGE on schema isomargin, SELECT on isomargin.events;
--                   a read-only event grant (grant_events ... claim => false)
\set SHOW_CONTEXT never
TRUNCATE isomargin.events RESTART IDENTITY;
ALTER SEQUENCE isomargin.enforcement_id_seq RESTART;
CREATE ROLE regress_book;
CREATE ROLE regress_book2;
CREATE ROLE regress_feed;
CREATE ROLE regress_worker;
CREATE ROLE regress_analyst;
CREATE SCHEMA desk;
GRANT USAGE ON SCHEMA desk TO regress_book, regress_book2, regress_feed, regress_worker, regress_analyst;
GRANT CREATE ON SCHEMA desk TO regress_book, regress_book2;
-- marks and instruments belong to the operator (the risk desk's tables)
CREATE TABLE desk.instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE desk.marks (symbol text PRIMARY KEY, mark_price numeric);
INSERT INTO desk.instruments VALUES ('BTC', 0.004), ('ETH', 0.004);
INSERT INTO desk.marks VALUES ('BTC', 30000), ('ETH', 30000);
SET ROLE regress_book;
CREATE TABLE desk.positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                             entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO desk.positions SELECT g, 'BTC', 1, 30000, 3000 - 10 * g FROM generate_series(1, 3) g;
SET ROLE regress_book2;
CREATE TABLE desk.positions2 (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                              entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO desk.positions2 VALUES (1, 'BTC', 1, 30000, 2990);
RESET ROLE;

-- The operator attaches enforcement.  Each grant the book owner lacks is
-- named, before anything is created.
SELECT isomargin.enforce('desk.positions', 'desk.marks', 'desk.instruments');
GRANT USAGE ON SCHEMA isomargin TO regress_book, regress_book2;
SELECT isomargin.enforce('desk.positions', 'desk.marks', 'desk.instruments');
GRANT SELECT ON desk.marks TO regress_book, regress_book2;
SELECT isomargin.enforce('desk.positions', 'desk.marks', 'desk.instruments');
GRANT SELECT ON desk.instruments TO regress_book, regress_book2;
SELECT isomargin.enforce('desk.positions', 'desk.marks', 'desk.instruments') ->> 'id' AS id;
SELECT isomargin.enforce('desk.positions2', 'desk.marks', 'desk.instruments') ->> 'id' AS id;
SELECT count(*) AS attachments FROM isomargin.enforcement;
-- the state tables are the extension owner's; the book owner may read, lock and write them
SELECT s.state_table, pg_get_userbyid(c.relowner) = current_user AS extension_owner,
       has_table_privilege(p.relowner, s.state_table, 'SELECT, INSERT, UPDATE') AS book_rights,
       has_table_privilege(p.relowner, s.state_table, 'DELETE') AS book_delete,
       has_table_privilege(p.relowner, s.state_table, 'TRUNCATE') AS book_truncate
  FROM isomargin.enforcement s JOIN pg_class c ON c.oid = s.state_table
  JOIN pg_class p ON p.oid = s.positions ORDER BY s.id;

-- The feed.  INSERT and UPDATE alone do not let it run UPDATE ... WHERE or
-- an upsert: both read marks (PostgreSQL names the table).
GRANT INSERT, UPDATE ON desk.marks TO regress_feed;
SET ROLE regress_feed;
UPDATE desk.marks SET mark_price = 29000 WHERE symbol = 'BTC';
INSERT INTO desk.marks VALUES ('BTC', 29000) ON CONFLICT (symbol) DO UPDATE SET mark_price = EXCLUDED.mark_price;
RESET ROLE;
GRANT SELECT ON desk.marks TO regress_feed;
SET ROLE regress_feed;
UPDATE desk.marks SET mark_price = 29000 WHERE symbol = 'BTC';
-- the upsert crosses the three longs of the book (27108.4..., 27118.4..., 27128.5...) and the other book's
INSERT INTO desk.marks VALUES ('BTC', 27100) ON CONFLICT (symbol) DO UPDATE SET mark_price = EXCLUDED.mark_price;
-- nothing else: positions, instruments, the state, the events, the catalog
SELECT count(*) FROM desk.positions;
UPDATE desk.instruments SET mmr = 0.005;
UPDATE isomargin.enforce_state_1 SET mark_price = 1;
SELECT count(*) FROM isomargin.events;
SELECT count(*) FROM isomargin.enforcement;
SELECT count(*) FROM isomargin.claim_events('feed', 10);
RESET ROLE;
SELECT id, status FROM desk.positions ORDER BY id;
SELECT id, positions, position_key, cause, new_status FROM isomargin.events ORDER BY id;

-- The book owner: its positions; it cannot move a mark behind the feed's
-- back, nor write the queue or the catalog; it grants its events.
SET ROLE regress_book;
INSERT INTO desk.positions VALUES (4, 'ETH', 1, 30000, 3000);
UPDATE isomargin.enforce_state_1 SET mark_price = 1 WHERE symbol = 'BTC';
INSERT INTO isomargin.enforce_state_1 VALUES ('SOL', 1);
DELETE FROM isomargin.enforce_state_1;
TRUNCATE isomargin.enforce_state_1;
SELECT symbol, mark_price FROM isomargin.enforce_state_1 ORDER BY symbol;
UPDATE isomargin.events SET claimed_by = 'me';
DELETE FROM isomargin.events;
UPDATE isomargin.enforcement SET margin_call_ratio = 0.9;
INSERT INTO isomargin.event_grants VALUES ('desk.positions', 'regress_book', true);
SELECT isomargin.grant_events('desk.positions', 'regress_worker');
SELECT isomargin.grant_events('desk.positions', 'regress_analyst', claim => false);
-- not its table
SELECT isomargin.grant_events('desk.positions2', 'regress_worker');
RESET ROLE;
SELECT positions, grantee, can_claim FROM isomargin.event_grants ORDER BY 1, 2;

-- The worker: claims and acknowledges the events granted to it, through the
-- functions only; sees nothing of the other book.
GRANT USAGE ON SCHEMA isomargin TO regress_worker;
GRANT SELECT, UPDATE ON desk.positions TO regress_worker;
SET ROLE regress_worker;
SELECT e.id, e.positions, e.position_key, e.new_status FROM isomargin.claim_events('w1', 10) e ORDER BY e.id;
SELECT count(*) FROM isomargin.claim_events('w1', 10, positions => 'desk.positions2');
SELECT isomargin.ack_events('w1', ARRAY[1, 2]) AS acked;
SELECT isomargin.ack_events('w1', ARRAY[4]) AS acked;
-- it closes a position: the step-down is the owner side's (cause position)
UPDATE desk.positions SET size = 0 WHERE id = 1;
SELECT e.id, e.cause, e.old_status, e.new_status FROM isomargin.claim_events('w1', 10, causes => '{mark,instrument,operator,enforce}') e;
-- no table-wide rights on the queue
SELECT count(*) FROM isomargin.events;
UPDATE isomargin.events SET claimed_at = NULL;
SELECT isomargin.purge_events('0', 'desk.positions');
SELECT isomargin.purge_events('0') AS purged_nothing;
SELECT isomargin.grant_events('desk.positions', 'regress_worker');
RESET ROLE;
SELECT id, positions, cause, new_status, claimed_by, acked_at IS NOT NULL AS acked
  FROM isomargin.events ORDER BY id;

-- The analyst reads the granted book's events, and cannot claim them.
GRANT USAGE ON SCHEMA isomargin TO regress_analyst;
GRANT SELECT ON isomargin.events TO regress_analyst;
SET ROLE regress_analyst;
SELECT id, positions, new_status FROM isomargin.events ORDER BY id;
SELECT count(*) FROM isomargin.claim_events('a', 10);
SELECT count(*) FROM isomargin.claim_events('a', 10, positions => 'desk.positions');
UPDATE isomargin.events SET claimed_by = 'a';
RESET ROLE;
-- revoked: it sees nothing
SET ROLE regress_book;
SELECT isomargin.revoke_events('desk.positions', 'regress_analyst') AS revoked;
SELECT isomargin.revoke_events('desk.positions', 'regress_analyst') AS revoked_again;
SET ROLE regress_analyst;
SELECT count(*) AS visible FROM isomargin.events;
RESET ROLE;

-- The book changes hands: the new owner gets the state table's rights at the
-- next trigger, the old owner loses them; a grant the new owner lacks is named.
CREATE ROLE regress_book3;
ALTER TABLE desk.positions OWNER TO regress_book3;
UPDATE desk.marks SET mark_price = 27000 WHERE symbol = 'BTC';
GRANT USAGE ON SCHEMA isomargin TO regress_book3;
UPDATE desk.marks SET mark_price = 27000 WHERE symbol = 'BTC';
GRANT USAGE ON SCHEMA desk TO regress_book3;
UPDATE desk.marks SET mark_price = 27000 WHERE symbol = 'BTC';
GRANT SELECT ON desk.instruments TO regress_book3;
UPDATE desk.marks SET mark_price = 27000 WHERE symbol = 'BTC';
SELECT has_table_privilege('regress_book', 'isomargin.enforce_state_1', 'UPDATE') AS old_owner,
       has_table_privilege('regress_book3', 'isomargin.enforce_state_1', 'SELECT, INSERT, UPDATE') AS new_owner;
SELECT id, status FROM desk.positions ORDER BY id;

-- No role needs a right on isomargin.events to claim (the liquidation
-- engine's worker claims through claim_events too): a table-wide UPDATE or
-- DELETE granted by mistake changes no row, row security has no policy for
-- them (the superuser's count below is unchanged: 3 of desk.positions' 6
-- claimed, 1 of them ok).
GRANT SELECT, UPDATE, DELETE ON isomargin.events TO regress_worker;
SET ROLE regress_worker;
WITH u AS (UPDATE isomargin.events e SET claimed_by = NULL, claimed_at = NULL, new_status = 'ok'
           RETURNING 1)
SELECT count(*) AS updated FROM u;
WITH d AS (DELETE FROM isomargin.events RETURNING 1)
SELECT count(*) AS deleted FROM d;
RESET ROLE;
SELECT positions, count(*), count(claimed_at) AS claimed, count(*) FILTER (WHERE new_status = 'ok') AS ok
  FROM isomargin.events GROUP BY 1 ORDER BY 1;
REVOKE SELECT, UPDATE, DELETE ON isomargin.events FROM regress_worker;

-- The operator purges claimed events of every book.
SELECT isomargin.purge_events('0') AS purged;
SELECT id, positions, cause, new_status, claimed_by FROM isomargin.events ORDER BY id;

SELECT isomargin.unenforce('desk.positions');
SELECT isomargin.unenforce('desk.positions2');
SET client_min_messages = warning;
DROP SCHEMA desk CASCADE;
RESET client_min_messages;
REVOKE ALL ON isomargin.events FROM regress_analyst;
REVOKE ALL ON SCHEMA isomargin FROM regress_book, regress_book2, regress_book3, regress_worker, regress_analyst;
DROP ROLE regress_book, regress_book2, regress_book3, regress_feed, regress_worker, regress_analyst;
TRUNCATE isomargin.events RESTART IDENTITY;
SELECT count(*) AS grants_left FROM isomargin.event_grants;
