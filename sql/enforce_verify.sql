-- No silent bypass (issue 19 item 3, doc/enforcement.md "Bypasses and verify"):
-- isomargin.verify() finds every position whose stored prices or status differ
-- from the exact figures at the state table's mark, and repairs them with
-- events; a user BEFORE trigger that would fire after isomargin's is refused
-- when it is created, renamed or enabled, and at run time; disabling one of
-- enforcement's triggers warns.
\set SHOW_CONTEXT never
TRUNCATE isomargin.events RESTART IDENTITY;
ALTER SEQUENCE isomargin.enforcement_id_seq RESTART;
CREATE SCHEMA vf;
CREATE TABLE vf.instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL, fee_rate numeric NOT NULL DEFAULT 0);
CREATE TABLE vf.marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE vf.positions (id int PRIMARY KEY, symbol text, size numeric, entry_price numeric,
                           margin numeric, note text);
INSERT INTO vf.instruments VALUES ('BTC', 0.004, 0), ('ETH', 0.005, 0.0005);
INSERT INTO vf.marks VALUES ('BTC', 30000), ('ETH', 2000);
INSERT INTO vf.positions VALUES (1, 'BTC', 1, 30000, 3000), (2, 'BTC', -2, 30000, 6000),
                                (3, 'ETH', 10, 2000, 2000);
SELECT isomargin.enforce('vf.positions', 'vf.marks', 'vf.instruments') ->> 'id' AS id;

-- A consistent table: no row.
SELECT * FROM isomargin.verify('vf.positions');
SELECT * FROM isomargin.verify('vf.positions', repair => true);

-- 1. The issue's user trigger: margin 3000 -> 300 in a BEFORE trigger that
-- fires after isomargin's (triggers fire in name order).
CREATE FUNCTION vf.cut_margin() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.margin := NEW.margin / 10; RETURN NEW; END $$;
-- refused when created ...
CREATE TRIGGER zz_cut BEFORE INSERT OR UPDATE ON vf.positions FOR EACH ROW EXECUTE FUNCTION vf.cut_margin();
\echo :LAST_ERROR_SQLSTATE
-- ... and, created behind the event trigger's back, at run time: no row goes
-- through with stale prices.
ALTER EVENT TRIGGER isomargin_ddl_check DISABLE;
CREATE TRIGGER zz_cut BEFORE INSERT OR UPDATE ON vf.positions FOR EACH ROW EXECUTE FUNCTION vf.cut_margin();
ALTER EVENT TRIGGER isomargin_ddl_check ENABLE ALWAYS;
INSERT INTO vf.positions VALUES (4, 'BTC', 1, 30000, 3000);
\echo :LAST_ERROR_SQLSTATE
UPDATE vf.positions SET margin = 3000 WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
-- Under a replica role that trigger does not fire (it is ORIGIN): no refusal.
-- Renamed to sort after isomargin's again: refused; to sort before it: it
-- changes the margin before the prices are computed, which then fit it
-- (liquidation price 29819.27710844 for margin 300).
ALTER TRIGGER zz_cut ON vf.positions RENAME TO zz_cut2;
\echo :LAST_ERROR_SQLSTATE
ALTER TRIGGER zz_cut ON vf.positions RENAME TO a_cut;
INSERT INTO vf.positions VALUES (4, 'BTC', 1, 30000, 3000);
SELECT id, margin, liquidation_price, margin_call_price, bankruptcy_price, status FROM vf.positions WHERE id = 4;
SELECT isomargin.liquidation_price(1, 30000, 300, 0.004) AS by_sql;
SELECT * FROM isomargin.verify('vf.positions');
DROP TRIGGER a_cut ON vf.positions;
-- A disabled later trigger is no bypass; enabling it is refused.  An AFTER
-- trigger or a statement trigger sorts anywhere.
ALTER EVENT TRIGGER isomargin_ddl_check DISABLE;
CREATE TRIGGER zz_cut BEFORE INSERT OR UPDATE ON vf.positions FOR EACH ROW EXECUTE FUNCTION vf.cut_margin();
ALTER TABLE vf.positions DISABLE TRIGGER zz_cut;
ALTER EVENT TRIGGER isomargin_ddl_check ENABLE ALWAYS;
UPDATE vf.positions SET note = 'disabled zz_cut is no bypass', margin = margin WHERE id = 4;
ALTER TABLE vf.positions ENABLE TRIGGER zz_cut;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE vf.positions ENABLE ALWAYS TRIGGER zz_cut;
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER zz_cut ON vf.positions;
CREATE FUNCTION vf.noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER zz_after AFTER INSERT OR UPDATE ON vf.positions FOR EACH ROW EXECUTE FUNCTION vf.noop();
CREATE TRIGGER zz_statement BEFORE INSERT OR UPDATE ON vf.positions FOR EACH STATEMENT EXECUTE FUNCTION vf.noop();
CREATE TRIGGER zz_delete BEFORE DELETE ON vf.positions FOR EACH ROW EXECUTE FUNCTION vf.cut_margin();
DROP TRIGGER zz_after ON vf.positions;
DROP TRIGGER zz_statement ON vf.positions;
DROP TRIGGER zz_delete ON vf.positions;
-- enforce() itself refuses a table that has such a trigger.
CREATE TABLE vf.book (id int PRIMARY KEY, symbol text, size numeric, entry_price numeric, margin numeric);
CREATE TRIGGER zz_cut BEFORE UPDATE ON vf.book FOR EACH ROW EXECUTE FUNCTION vf.cut_margin();
SELECT isomargin.enforce('vf.book', 'vf.marks', 'vf.instruments');
\echo :LAST_ERROR_SQLSTATE
DROP TABLE vf.book;

-- 2. The same stale state, by a disabled positions trigger (a warning says
-- so, and what to run): margin 3000 -> 300 leaves liquidation price
-- 27108.43373494 (should be 29819.27710844); at mark 29500 the status stays
-- ok while the position is bankrupt (equity 300 - 500 = -200).
ALTER TABLE vf.positions DISABLE TRIGGER isomargin_1_positions;
UPDATE vf.positions SET margin = 300 WHERE id = 1;
ALTER TABLE vf.positions ENABLE TRIGGER isomargin_1_positions;
UPDATE vf.marks SET mark_price = 29500 WHERE symbol = 'BTC';
SELECT id, margin, liquidation_price, status FROM vf.positions WHERE id = 1;
SELECT position_key, symbol, mark_price, columns, stored, expected, repaired
  FROM isomargin.verify('vf.positions');
-- by hand: bankruptcy 30000 - 300 = 29700; margin call 30000 - 300 / (1 - 0.8 * 0.004) rounded up
SELECT isomargin.margin_call_price(1, 30000, 300, 0.004) AS mcp_by_sql,
       isomargin.margin_status(1, 30000, 29500, 300, 0.004) AS status_by_sql;
TRUNCATE isomargin.events RESTART IDENTITY;
SELECT position_key, columns, repaired FROM isomargin.verify('vf.positions', repair => true);
SELECT id, margin, liquidation_price, margin_call_price, bankruptcy_price, status FROM vf.positions WHERE id = 1;
SELECT position_key, old_status, new_status, mark_price, equity FROM isomargin.events ORDER BY id;
-- the repair rechecks at the current mark without a change of the row: cause enforce
SELECT cause, count(*) FROM isomargin.events GROUP BY cause;
SELECT * FROM isomargin.verify('vf.positions');

-- 3. Rows written with session_replication_role = replica (logical
-- replication, pg_restore --disable-triggers): enforcement's triggers do not
-- fire.  New rows get NULL prices and status, changed rows keep stale ones;
-- rows whose inputs enforcement refuses are reported, and left to you.
SET session_replication_role = replica;
INSERT INTO vf.positions (id, symbol, size, entry_price, margin) VALUES
    (20, 'BTC', 1, 30000, 3000),       -- ok at 29500
    (21, 'ETH', -5, 2000, 50),         -- short: equity 50 <= maintenance 55 at 2000
    (22, 'XRP', 1, 1, 1),              -- no such instrument
    (23, 'BTC', 1, 30000, -1),         -- negative margin
    (24, 'BTC', NULL, 0, 5);           -- no size, zero entry price
UPDATE vf.positions SET size = 2 WHERE id = 3;
RESET session_replication_role;
SELECT position_key, symbol, mark_price, columns, stored, expected
  FROM isomargin.verify('vf.positions');
TRUNCATE isomargin.events RESTART IDENTITY;
SELECT position_key, columns, repaired FROM isomargin.verify('vf.positions', repair => true);
SELECT position_key, old_status, new_status, mark_price, equity, maintenance_margin
  FROM isomargin.events ORDER BY id;
SELECT cause, count(*) FROM isomargin.events GROUP BY cause;
SELECT id, liquidation_price, margin_call_price, bankruptcy_price, status, status_changed_at IS NOT NULL AS stamped
  FROM vf.positions WHERE id IN (3, 20, 21) ORDER BY id;
-- what is left is what enforcement refuses
SELECT position_key, columns FROM isomargin.verify('vf.positions');
DELETE FROM vf.positions WHERE id IN (22, 23, 24);
SELECT * FROM isomargin.verify('vf.positions');

-- 4. A disabled marks trigger: the marks move, the state table and the
-- positions do not.  verify compares positions with the state table's mark
-- (the mark they were checked against), so it finds nothing; the remedy is
-- to write the marks again once the trigger is enabled (doc/enforcement.md).
ALTER TABLE vf.marks DISABLE TRIGGER isomargin_1_marks_update;
UPDATE vf.marks SET mark_price = 27000 WHERE symbol = 'BTC';
ALTER TABLE vf.marks ENABLE TRIGGER isomargin_1_marks_update;
SELECT id, status FROM vf.positions WHERE symbol = 'BTC' ORDER BY id;
SELECT count(*) AS differing FROM isomargin.verify('vf.positions');
UPDATE vf.marks SET mark_price = mark_price;
SELECT id, status FROM vf.positions WHERE symbol = 'BTC' ORDER BY id;
-- ENABLE REPLICA: fires only on a replica, a warning too
ALTER TABLE vf.instruments ENABLE REPLICA TRIGGER isomargin_1_instruments;
ALTER TABLE vf.instruments ENABLE TRIGGER isomargin_1_instruments;
-- another table's DDL says nothing
CREATE TABLE vf.other (id int);
ALTER TABLE vf.other ADD COLUMN x int;

-- 5. verify runs as the positions owner (run_as_owner): its caller must own
-- the table; bad arguments.
CREATE ROLE regress_isomargin_verify;
GRANT USAGE ON SCHEMA isomargin, vf TO regress_isomargin_verify;
GRANT SELECT ON isomargin.enforcement TO regress_isomargin_verify;
SET ROLE regress_isomargin_verify;
SELECT * FROM isomargin.verify('vf.positions');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP OWNED BY regress_isomargin_verify;
DROP ROLE regress_isomargin_verify;
SELECT * FROM isomargin.verify('vf.other');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM isomargin.verify(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM isomargin.verify('vf.positions', NULL);
\echo :LAST_ERROR_SQLSTATE

-- The owner's code that repair fires runs as the owner, not as the caller.
CREATE ROLE regress_isomargin_owner;
GRANT USAGE ON SCHEMA isomargin, vf TO regress_isomargin_owner;
GRANT SELECT ON vf.marks, vf.instruments TO regress_isomargin_owner;
CREATE TABLE vf.owned (id int PRIMARY KEY, symbol text, size numeric, entry_price numeric, margin numeric);
CREATE TABLE vf.who (name text);
ALTER TABLE vf.owned OWNER TO regress_isomargin_owner;
ALTER TABLE vf.who OWNER TO regress_isomargin_owner;
CREATE FUNCTION vf.who() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO vf.who VALUES (current_user); RETURN NEW; END $$;
CREATE TRIGGER a_who BEFORE UPDATE ON vf.owned FOR EACH ROW EXECUTE FUNCTION vf.who();
SELECT isomargin.enforce('vf.owned', 'vf.marks', 'vf.instruments') ->> 'id' AS id;
SET session_replication_role = replica;
INSERT INTO vf.owned VALUES (1, 'BTC', 1, 30000, 3000);
RESET session_replication_role;
TRUNCATE vf.who;
SELECT position_key, columns, repaired FROM isomargin.verify('vf.owned', repair => true);
SELECT name, name = current_user AS as_caller FROM vf.who;
SELECT isomargin.unenforce('vf.owned');
DROP TABLE vf.owned, vf.who;
REVOKE ALL ON SCHEMA isomargin FROM regress_isomargin_owner;
DROP OWNED BY regress_isomargin_owner;
DROP ROLE regress_isomargin_owner;

SELECT isomargin.unenforce('vf.positions');
DROP SCHEMA vf CASCADE;
TRUNCATE isomargin.events RESTART IDENTITY;
