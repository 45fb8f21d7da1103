-- Trigger misuse: anyone who may create triggers can attach the trigger
-- functions anywhere, with any arguments.  Wrong timing, level or event, a
-- missing transition table or argument fail with 39P01 (trigger protocol);
-- a bad argument or a table whose columns no longer fit fails with 22023.
\set SHOW_CONTEXT never
TRUNCATE isomargin.events RESTART IDENTITY;
ALTER SEQUENCE isomargin.enforcement_id_seq RESTART;
CREATE TABLE instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
CREATE TABLE other (id int PRIMARY KEY, symbol text, size numeric, entry_price numeric, margin numeric,
                    mark_price numeric, mmr numeric);
INSERT INTO instruments VALUES ('BTC', 0.004);
INSERT INTO marks VALUES ('BTC', 30000);
SELECT isomargin.enforce('positions', 'marks', 'instruments') ->> 'id' AS id;

-- Not as a trigger.
SELECT isomargin.enforce_positions_trigger();
\echo :LAST_ERROR_SQLSTATE

-- Wrong timing, level or event.
CREATE TRIGGER bad AFTER INSERT ON other FOR EACH ROW EXECUTE FUNCTION isomargin.enforce_positions_trigger('1');
INSERT INTO other (id) VALUES (1);
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER bad ON other;
CREATE TRIGGER bad BEFORE INSERT ON other FOR EACH STATEMENT EXECUTE FUNCTION isomargin.enforce_positions_trigger('1');
INSERT INTO other (id) VALUES (1);
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER bad ON other;
CREATE TRIGGER bad BEFORE DELETE ON other FOR EACH ROW EXECUTE FUNCTION isomargin.enforce_positions_trigger('1');
INSERT INTO other (id) VALUES (1);
DELETE FROM other;
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER bad ON other;
CREATE TRIGGER bad BEFORE INSERT ON other FOR EACH STATEMENT EXECUTE FUNCTION isomargin.enforce_marks_trigger('1');
INSERT INTO other (id) VALUES (2);
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER bad ON other;
CREATE TRIGGER bad AFTER INSERT ON other FOR EACH ROW EXECUTE FUNCTION isomargin.enforce_marks_trigger('1');
INSERT INTO other (id) VALUES (2);
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER bad ON other;
CREATE TRIGGER bad AFTER INSERT ON other FOR EACH STATEMENT EXECUTE FUNCTION isomargin.enforce_marks_trigger('1');
INSERT INTO other (id) VALUES (2);
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER bad ON other;
CREATE TRIGGER bad AFTER DELETE ON other REFERENCING OLD TABLE AS o FOR EACH STATEMENT
    EXECUTE FUNCTION isomargin.enforce_marks_trigger('1');
DELETE FROM other;
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER bad ON other;
CREATE TRIGGER bad BEFORE UPDATE ON other FOR EACH ROW EXECUTE FUNCTION isomargin.enforce_instruments_trigger('1');
INSERT INTO other (id) VALUES (3);
UPDATE other SET mmr = 0;
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER bad ON other;
CREATE TRIGGER bad AFTER UPDATE ON other FOR EACH STATEMENT EXECUTE FUNCTION isomargin.enforce_instruments_trigger('1');
UPDATE other SET mmr = 0;
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER bad ON other;

-- Arguments: exactly one, the id of an attachment, whose table for the
-- function's role is the table the trigger fires on.
CREATE TRIGGER bad BEFORE INSERT ON other FOR EACH ROW EXECUTE FUNCTION isomargin.enforce_positions_trigger();
INSERT INTO other (id) VALUES (4);
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER bad ON other;
CREATE TRIGGER bad BEFORE INSERT ON other FOR EACH ROW EXECUTE FUNCTION isomargin.enforce_positions_trigger('1', '2');
INSERT INTO other (id) VALUES (4);
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER bad ON other;
CREATE TRIGGER bad BEFORE INSERT ON other FOR EACH ROW EXECUTE FUNCTION isomargin.enforce_positions_trigger('1; DROP TABLE positions');
INSERT INTO other (id) VALUES (4);
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER bad ON other;
CREATE TRIGGER bad BEFORE INSERT ON other FOR EACH ROW EXECUTE FUNCTION isomargin.enforce_positions_trigger('999');
INSERT INTO other (id) VALUES (4);
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER bad ON other;
CREATE TRIGGER bad BEFORE INSERT ON other FOR EACH ROW EXECUTE FUNCTION isomargin.enforce_positions_trigger('1');
INSERT INTO other (id, symbol, size, entry_price, margin) VALUES (4, 'BTC', 1, 30000, 3000);
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER bad ON other;
CREATE TRIGGER bad AFTER INSERT ON other REFERENCING NEW TABLE AS n FOR EACH STATEMENT
    EXECUTE FUNCTION isomargin.enforce_marks_trigger('1');
INSERT INTO other (id, symbol, mark_price) VALUES (4, 'BTC', 1);
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER bad ON other;
CREATE TRIGGER bad AFTER INSERT ON marks FOR EACH ROW EXECUTE FUNCTION isomargin.enforce_instruments_trigger('1');
INSERT INTO marks VALUES ('ETH', 1);
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER bad ON marks;
SELECT count(*) AS rows_in_other FROM other;

-- The attached tables changed under enforcement: a renamed or retyped
-- column is found at the next trigger call.
ALTER TABLE positions RENAME COLUMN margin TO collateral;
INSERT INTO positions VALUES (1, 'BTC', 1, 30000, 3000);
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE positions RENAME COLUMN collateral TO margin;
INSERT INTO positions VALUES (1, 'BTC', 1, 30000, 3000);
ALTER TABLE marks ALTER COLUMN mark_price TYPE text;
UPDATE marks SET mark_price = '27000';
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE marks ALTER COLUMN mark_price TYPE numeric USING mark_price::numeric;
-- a maintained column cannot be dropped while the trigger depends on it (2BP01)
ALTER TABLE positions DROP COLUMN status;
\echo :LAST_ERROR_SQLSTATE
UPDATE marks SET mark_price = 27000;
SELECT id, liquidation_price FROM positions;

SELECT isomargin.unenforce('positions');
DROP TABLE positions, marks, instruments, other;
