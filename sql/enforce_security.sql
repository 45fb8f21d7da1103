-- Enforcement never calls objects planted on the search path: every table,
-- function and operator in the SQL its triggers run (and in enforce,
-- unenforce and claim_events) is schema-qualified.  Then the privileges
-- doc/enforcement.md documents: a price feed needs only SELECT/INSERT/UPDATE
-- on marks, a liquidation worker only an event grant from the positions
-- owner (isomargin.grant_events; sql/enforce_privileges.sql runs every role).
\set SHOW_CONTEXT never
TRUNCATE isomargin.events RESTART IDENTITY;
ALTER SEQUENCE isomargin.enforcement_id_seq RESTART;

CREATE SCHEMA evil;
CREATE TABLE evil.calls (what text);
CREATE FUNCTION evil.log(what text) RETURNS void LANGUAGE plpgsql AS
$$BEGIN INSERT INTO evil.calls VALUES (what); END$$;
CREATE FUNCTION evil.num_op(numeric, numeric) RETURNS boolean LANGUAGE plpgsql AS
$$BEGIN PERFORM evil.log('numeric operator'); RETURN true; END$$;
CREATE FUNCTION evil.text_op(text, text) RETURNS boolean LANGUAGE plpgsql AS
$$BEGIN PERFORM evil.log('text operator'); RETURN true; END$$;
CREATE FUNCTION evil.int_op(int4, int4) RETURNS boolean LANGUAGE plpgsql AS
$$BEGIN PERFORM evil.log('int4 operator'); RETURN true; END$$;
CREATE FUNCTION evil.int8_op(int8, int8) RETURNS boolean LANGUAGE plpgsql AS
$$BEGIN PERFORM evil.log('int8 operator'); RETURN true; END$$;
CREATE FUNCTION evil.tid_op(tid, tid) RETURNS boolean LANGUAGE plpgsql AS
$$BEGIN PERFORM evil.log('tid operator'); RETURN true; END$$;
CREATE FUNCTION evil.status_op(isomargin.margin_status, isomargin.margin_status) RETURNS boolean
LANGUAGE plpgsql AS $$BEGIN PERFORM evil.log('status operator'); RETURN true; END$$;
CREATE FUNCTION evil.jsonb_path(jsonb, text[]) RETURNS text LANGUAGE plpgsql AS
$$BEGIN PERFORM evil.log('jsonb operator'); RETURN NULL; END$$;
CREATE OPERATOR evil.= (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = evil.num_op);
CREATE OPERATOR evil.< (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = evil.num_op);
CREATE OPERATOR evil.> (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = evil.num_op);
CREATE OPERATOR evil.<= (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = evil.num_op);
CREATE OPERATOR evil.>= (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = evil.num_op);
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.text_op);
CREATE OPERATOR evil.= (LEFTARG = int4, RIGHTARG = int4, FUNCTION = evil.int_op);
CREATE OPERATOR evil.= (LEFTARG = int8, RIGHTARG = int8, FUNCTION = evil.int8_op);
CREATE OPERATOR evil.= (LEFTARG = tid, RIGHTARG = tid, FUNCTION = evil.tid_op);
CREATE OPERATOR evil.< (LEFTARG = isomargin.margin_status, RIGHTARG = isomargin.margin_status,
                        FUNCTION = evil.status_op);
CREATE OPERATOR evil.= (LEFTARG = isomargin.margin_status, RIGHTARG = isomargin.margin_status,
                        FUNCTION = evil.status_op);
CREATE OPERATOR evil.#>> (LEFTARG = jsonb, RIGHTARG = text[], FUNCTION = evil.jsonb_path);
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE plpgsql AS
$$BEGIN PERFORM evil.log('now()'); RETURN '2000-01-01'; END$$;
CREATE FUNCTION evil.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql AS
$$BEGIN PERFORM evil.log('clock_timestamp()'); RETURN '2000-01-01'; END$$;
CREATE FUNCTION evil.unnest(anyarray) RETURNS SETOF anyelement LANGUAGE plpgsql AS
$$BEGIN PERFORM evil.log('unnest()'); END$$;
CREATE FUNCTION evil.nextval(regclass) RETURNS int8 LANGUAGE plpgsql AS
$$BEGIN PERFORM evil.log('nextval()'); RETURN 0; END$$;
CREATE FUNCTION evil.jsonb_build_object(text, int4) RETURNS jsonb LANGUAGE plpgsql AS
$$BEGIN PERFORM evil.log('jsonb_build_object()'); RETURN '{}'; END$$;
CREATE FUNCTION evil.format(text, VARIADIC "any") RETURNS text LANGUAGE plpgsql AS
$$BEGIN PERFORM evil.log('format()'); RETURN ''; END$$;
CREATE TABLE evil.events (id int);
CREATE TABLE evil.enforcement (id int);

CREATE TABLE instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL, fee_rate numeric NOT NULL DEFAULT 0);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE positions (id int4 PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO instruments VALUES ('BTC', 0.004), ('ETH', 0.004);
INSERT INTO marks VALUES ('BTC', 30000), ('ETH', 30000);
INSERT INTO positions VALUES (1, 'BTC', 1, 30000, 3000), (2, 'ETH', -1, 30000, 3000);

-- pg_catalog after evil: an unqualified name anywhere would resolve to evil.
-- The test's own statements below name their operators explicitly.
SET search_path = evil, pg_catalog, public;
SELECT isomargin.enforce('positions', 'marks', 'instruments') ->> 'id' AS id;
INSERT INTO positions VALUES (3, 'BTC', 1, 33000, 3000);
UPDATE positions SET margin = 3100 WHERE id OPERATOR(pg_catalog.=) 3;
UPDATE marks SET mark_price = 27100 WHERE symbol OPERATOR(pg_catalog.=) 'BTC';
UPDATE marks SET mark_price = 31000;
UPDATE instruments SET mmr = 0.005 WHERE symbol OPERATOR(pg_catalog.=) 'ETH';
UPDATE positions SET status = 'ok' WHERE id OPERATOR(pg_catalog.=) 1;
SELECT id, status FROM positions ORDER BY id;
SELECT e.id, e.position_key, e.old_status, e.new_status FROM isomargin.claim_events('w', 10) e ORDER BY 1;
SELECT isomargin.unenforce('positions');
RESET search_path;
SELECT count(*) AS hostile_calls FROM evil.calls;
SELECT what, count(*) FROM evil.calls GROUP BY 1 ORDER BY 1;
SET client_min_messages = warning;
DROP SCHEMA evil CASCADE;
RESET client_min_messages;

-- Privileges.  The triggers' statements run as the positions table's owner
-- and write events as the events table's owner, so a price feed that may
-- only write marks still flags positions it cannot read.
TRUNCATE isomargin.events RESTART IDENTITY;
SELECT isomargin.enforce('positions', 'marks', 'instruments') ->> 'id' AS id;
CREATE ROLE regress_isomargin_feed;
CREATE ROLE regress_isomargin_worker;
CREATE ROLE regress_isomargin_nobody;
GRANT SELECT, INSERT, UPDATE ON marks TO regress_isomargin_feed;
GRANT USAGE ON SCHEMA isomargin TO regress_isomargin_worker;
SELECT isomargin.grant_events('positions', 'regress_isomargin_worker');
GRANT USAGE ON SCHEMA isomargin TO regress_isomargin_nobody;
SET ROLE regress_isomargin_feed;
SELECT id FROM positions;
UPDATE marks SET mark_price = 27000 WHERE symbol = 'BTC';
RESET ROLE;
SELECT id, status FROM positions ORDER BY id;
-- a role with no event grant claims nothing
SET ROLE regress_isomargin_nobody;
SELECT count(*) FROM isomargin.claim_events('nobody');
RESET ROLE;
SET ROLE regress_isomargin_worker;
SELECT e.id, e.position_key, e.new_status, e.claimed_by FROM isomargin.claim_events('worker-1', 10) e ORDER BY 1;
RESET ROLE;
SELECT count(*) AS unclaimed FROM isomargin.events WHERE claimed_at IS NULL;

SELECT isomargin.unenforce('positions');
DROP TABLE positions, marks, instruments;
REVOKE ALL ON SCHEMA isomargin FROM regress_isomargin_worker, regress_isomargin_nobody;
DROP ROLE regress_isomargin_feed, regress_isomargin_worker, regress_isomargin_nobody;
TRUNCATE isomargin.events RESTART IDENTITY;
