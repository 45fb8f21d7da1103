-- Upgrades: every released version, updated step by step to the current one,
-- has the catalog of a fresh install of the current one (functions with
-- their bodies, settings and grants; tables with their columns, defaults,
-- constraints, indexes and triggers; types; casts; operators; comments; the
-- schema's grants and the initial privileges; what pg_dump
-- keeps), and an enforced book keeps being enforced across the update.
-- Runs after zz_drop, on an empty database, and leaves it empty.
\set SHOW_CONTEXT never
CREATE TEMP TABLE catalog_of (install text, item text);
-- extension_catalog: one line per fact of the catalog (shared with test/t/001_upgrade.pl).
\set ECHO none
\i test/lib/extension_catalog.sql
\set ECHO all

-- 0.1.0, with an enforced book, updated to the current version.
CREATE EXTENSION isomargin VERSION '0.1.0';
CREATE TABLE instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO instruments VALUES ('BTC', 0.004);
INSERT INTO marks VALUES ('BTC', 30000);
INSERT INTO positions VALUES (1, 'BTC', 1, 30000, 3000), (2, 'BTC', -1, 30000, 3000);
SELECT isomargin.enforce('positions', 'marks', 'instruments') ->> 'id' AS id;
ALTER EXTENSION isomargin UPDATE;
SELECT extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'isomargin') AS current
  FROM pg_extension WHERE extname = 'isomargin';
-- the book is still enforced: the long crosses its liquidation price (27108.43...)
UPDATE marks SET mark_price = 27100;
INSERT INTO positions VALUES (3, 'BTC', 1, 33000, 2000);
SELECT id, status, liquidation_price FROM positions ORDER BY id;
SELECT position_key, old_status, new_status FROM isomargin.events ORDER BY id;
SELECT isomargin.unenforce('positions');
DROP TABLE positions, marks, instruments;
INSERT INTO catalog_of SELECT 'updated', item FROM extension_catalog;
DROP EXTENSION isomargin;

-- A fresh install of the current version.
CREATE EXTENSION isomargin;
INSERT INTO catalog_of SELECT 'fresh', item FROM extension_catalog;
DROP EXTENSION isomargin;
DROP SCHEMA isomargin;

SELECT count(*) >= 50 AS described FROM catalog_of WHERE install = 'fresh';
-- what one install has and the other lacks: nothing
(SELECT 'only fresh' AS install, item FROM catalog_of WHERE install = 'fresh'
 EXCEPT ALL SELECT 'only fresh', item FROM catalog_of WHERE install = 'updated')
UNION ALL
(SELECT 'only updated', item FROM catalog_of WHERE install = 'updated'
 EXCEPT ALL SELECT 'only updated', item FROM catalog_of WHERE install = 'fresh')
ORDER BY 1, 2;

-- The event queue across the update (issue 15 item 4, issue 19 item 2): an
-- event written under 0.1.0 keeps working (no cause, no snapshot: NULL), and
-- the state table passes to the extension's owner behind its guard.
CREATE EXTENSION isomargin VERSION '0.1.0';
CREATE ROLE regress_upgrade_book;
GRANT USAGE ON SCHEMA isomargin TO regress_upgrade_book;
CREATE TABLE instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
GRANT SELECT ON instruments, marks TO regress_upgrade_book;
ALTER TABLE positions OWNER TO regress_upgrade_book;
INSERT INTO instruments VALUES ('BTC', 0.004);
INSERT INTO marks VALUES ('BTC', 30000);
SELECT isomargin.enforce('positions', 'marks', 'instruments') ->> 'id' AS id;
INSERT INTO positions VALUES (1, 'BTC', 1, 33000, 2000);
SELECT pg_get_userbyid(relowner) AS state_owner FROM pg_class WHERE oid = 'isomargin.enforce_state_1'::regclass;
ALTER EXTENSION isomargin UPDATE;
SELECT pg_get_userbyid(relowner) = current_user AS state_owner_is_extension_owner,
       has_table_privilege('regress_upgrade_book', 'isomargin.enforce_state_1', 'SELECT, INSERT, UPDATE') AS book_rights
  FROM pg_class WHERE oid = 'isomargin.enforce_state_1'::regclass;
UPDATE isomargin.enforce_state_1 SET mark_price = 1;
INSERT INTO positions VALUES (2, 'BTC', 1, 30000, 3000);
UPDATE marks SET mark_price = 27100;
SELECT id, position_key, cause, old_status, new_status, size, liquidation_price, claimed_by
  FROM isomargin.claim_events('w', 10) ORDER BY id;
SELECT isomargin.ack_events('w', ARRAY[1, 2]) AS acked;
SELECT symbol, mark_price FROM isomargin.enforce_state_1;
SELECT isomargin.unenforce('positions');
DROP TABLE positions, marks, instruments;
DROP EXTENSION isomargin;
DROP SCHEMA isomargin;
DROP ROLE regress_upgrade_book;
