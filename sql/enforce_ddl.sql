-- Dropping and renaming the tables of an attachment (doc/enforcement.md,
-- "Dropping and renaming tables").  Dropping positions, marks, instruments
-- or the state table of an attachment fails with 2BP01 and a hint naming
-- isomargin.unenforce(); renamed or moved to another schema, the tables stay
-- enforced and the catalog names them by their new names (what pg_dump
-- writes); the events of a dropped table go with it.
\set SHOW_CONTEXT never
TRUNCATE isomargin.events RESTART IDENTITY;
ALTER SEQUENCE isomargin.enforcement_id_seq RESTART;
CREATE SCHEMA desk;
CREATE TABLE desk.instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE desk.marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE desk.positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                             entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO desk.instruments VALUES ('BTC', 0.004), ('ETH', 0.004);
INSERT INTO desk.marks VALUES ('BTC', 30000), ('ETH', 2000);
INSERT INTO desk.positions VALUES (1, 'BTC', 1, 30000, 3000), (2, 'BTC', -1, 30000, 3000);
SELECT isomargin.enforce('desk.positions', 'desk.marks', 'desk.instruments') ->> 'id' AS id;

-- Each of the three tables, and the state table, alone or together, by
-- DROP TABLE, DROP SCHEMA ... CASCADE or DROP OWNED: refused.
DROP TABLE desk.positions;
\echo :LAST_ERROR_SQLSTATE
DROP TABLE desk.marks;
\echo :LAST_ERROR_SQLSTATE
DROP TABLE desk.instruments;
\echo :LAST_ERROR_SQLSTATE
DROP TABLE isomargin.enforce_state_1;
\echo :LAST_ERROR_SQLSTATE
DROP TABLE desk.positions, desk.marks, desk.instruments;
DROP SCHEMA desk CASCADE;
-- as a replica (logical replication, pg_restore --disable-triggers) too
SET session_replication_role = replica;
DROP TABLE desk.marks;
RESET session_replication_role;
CREATE ROLE regress_isomargin_ddl;
ALTER TABLE desk.instruments OWNER TO regress_isomargin_ddl;
DROP OWNED BY regress_isomargin_ddl;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE desk.instruments OWNER TO CURRENT_USER;
DROP ROLE regress_isomargin_ddl;
-- other tables drop as before
CREATE TABLE desk.other (id int);
CREATE TEMP TABLE scratch (id int);
DROP TABLE desk.other, scratch;

-- Everything is still there and enforced: the long is liquidated.
SELECT count(*) AS triggers FROM pg_trigger WHERE tgname LIKE 'isomargin%';
UPDATE desk.marks SET mark_price = 27100 WHERE symbol = 'BTC';
SELECT id, status FROM desk.positions ORDER BY id;

-- Renamed: the triggers follow (a new position is checked, a mark update
-- flags, an instrument change recomputes), and the catalog row names the
-- new tables, as pg_dump writes it (search_path empty: qualified names).
ALTER TABLE desk.positions RENAME TO book;
ALTER TABLE desk.marks RENAME TO ticks;
ALTER TABLE desk.instruments RENAME TO contracts;
INSERT INTO desk.book VALUES (3, 'ETH', 10, 2000, 1060);
UPDATE desk.ticks SET mark_price = 1900 WHERE symbol = 'ETH';
UPDATE desk.contracts SET mmr = 0.01 WHERE symbol = 'BTC';
SELECT id, symbol, status, liquidation_price FROM desk.book ORDER BY id;
SET search_path = '';
SELECT positions, marks, instruments, state_table FROM isomargin.enforcement;
RESET search_path;
-- still refused, under the new names
DROP TABLE desk.ticks;

-- Moved to other schemas, one by one: the same.
CREATE SCHEMA feed;
CREATE SCHEMA risk;
CREATE SCHEMA book;
ALTER TABLE desk.ticks SET SCHEMA feed;
ALTER TABLE desk.contracts SET SCHEMA risk;
ALTER TABLE desk.book SET SCHEMA book;
INSERT INTO book.book VALUES (4, 'ETH', -10, 2000, 1000);
UPDATE feed.ticks SET mark_price = 1950 WHERE symbol = 'ETH';
SET search_path = '';
SELECT positions, marks, instruments, state_table FROM isomargin.enforcement;
RESET search_path;

-- A schema renamed under the triggers: statements they prepare afterwards
-- use the new name (this mark update, which bankrupts the short, is the
-- first since the move to read instruments).
ALTER SCHEMA risk RENAME TO risk_desk;
UPDATE feed.ticks SET mark_price = 2210 WHERE symbol = 'ETH';
UPDATE risk_desk.contracts SET mmr = 0.005 WHERE symbol = 'ETH';
SELECT id, symbol, status, liquidation_price FROM book.book ORDER BY id;
SELECT position_key ->> 'id' AS id, symbol, old_status, new_status, mark_price FROM isomargin.events ORDER BY id;

-- unenforce removes everything, wherever the indexes moved; then the
-- tables drop, and the events of the dropped positions table go with it.
SELECT isomargin.unenforce('book.book');
SELECT count(*) AS triggers FROM pg_trigger WHERE tgname LIKE 'isomargin%';
SELECT count(*) AS indexes FROM pg_class WHERE relname LIKE 'isomargin\_%' AND relkind = 'i';
SELECT count(*) AS state_tables FROM pg_class WHERE relnamespace = 'isomargin'::regnamespace AND relname LIKE 'enforce_state%';
SELECT count(*) AS events FROM isomargin.events;
DROP SCHEMA book CASCADE;
SELECT count(*) AS events FROM isomargin.events;
-- the surviving tables take writes
UPDATE feed.ticks SET mark_price = 2000;
UPDATE risk_desk.contracts SET mmr = 0.006;
DROP TABLE feed.ticks, risk_desk.contracts;
DROP SCHEMA desk, feed, risk_desk;

-- If the event trigger was disabled (or in single-user mode, where event
-- triggers do not fire), a table can be dropped under an attachment: the
-- other triggers then fail with 42P01 and a hint that works with the table
-- gone, and unenforce still detaches.
CREATE TABLE instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO instruments VALUES ('BTC', 0.004);
INSERT INTO marks VALUES ('BTC', 30000);
SELECT isomargin.enforce('positions', 'marks', 'instruments') ->> 'id' AS id;
INSERT INTO positions VALUES (1, 'BTC', 1, 30000, 3000);
ALTER EVENT TRIGGER isomargin_sql_drop DISABLE;
DROP TABLE marks;
ALTER EVENT TRIGGER isomargin_sql_drop ENABLE ALWAYS;
UPDATE positions SET margin = 2900;
\echo :LAST_ERROR_SQLSTATE
UPDATE instruments SET mmr = 0.005;
\echo :LAST_ERROR_SQLSTATE
SELECT isomargin.unenforce(e.positions) FROM isomargin.enforcement e WHERE e.id = 2;
UPDATE positions SET margin = 2900;
UPDATE instruments SET mmr = 0.005;
SELECT count(*) AS attachments FROM isomargin.enforcement;
SELECT count(*) AS triggers FROM pg_trigger WHERE tgname LIKE 'isomargin%';
SELECT count(*) AS state_tables FROM pg_class WHERE relnamespace = 'isomargin'::regnamespace AND relname LIKE 'enforce_state%';
DROP TABLE positions, instruments;

-- The event trigger's function is for sql_drop only.
SELECT isomargin.enforcement_sql_drop();
\echo :LAST_ERROR_SQLSTATE
