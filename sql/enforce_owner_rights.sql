-- Code a positions owner writes never runs with more rights than the owner's.
-- An unprivileged role owns an enforced book and plants a hostile cast (its
-- key type to json: the event key), a hostile trigger, a hostile operator
-- (in a CHECK constraint) and a hostile type (a domain whose CHECK calls the
-- same function) on it; a superuser attaches enforcement, moves marks and
-- changes instruments.  Every hostile call is logged with the role it ran
-- as, and each tries to make its owner superuser when it can.
\set SHOW_CONTEXT never
TRUNCATE isomargin.events RESTART IDENTITY;
ALTER SEQUENCE isomargin.enforcement_id_seq RESTART;

CREATE ROLE regress_alice;
CREATE SCHEMA alice AUTHORIZATION regress_alice;
GRANT USAGE ON SCHEMA isomargin TO regress_alice;
CREATE TABLE public.hostile_calls (what text, ran_as name, superuser boolean);
GRANT INSERT ON public.hostile_calls TO PUBLIC;

SET ROLE regress_alice;
CREATE FUNCTION alice.hostile(what text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    super boolean := (SELECT r.rolsuper FROM pg_catalog.pg_roles r
                       WHERE r.rolname OPERATOR(pg_catalog.=) current_user);
BEGIN
    INSERT INTO public.hostile_calls VALUES (what, current_user, super);
    IF super THEN
        EXECUTE 'ALTER ROLE regress_alice SUPERUSER';
    END IF;
    RETURN true;
END $$;
-- the hostile cast: the primary key's type to json
CREATE TYPE alice.pk_t AS ENUM ('p1', 'p2', 'p3', 'p4');
CREATE FUNCTION alice.pk_json(alice.pk_t) RETURNS json LANGUAGE plpgsql AS $$
BEGIN PERFORM alice.hostile('cast pk_t to json'); RETURN pg_catalog.to_json($1::text); END $$;
CREATE CAST (alice.pk_t AS json) WITH FUNCTION alice.pk_json(alice.pk_t);
-- the hostile type: the symbol's domain checks every value it is given
CREATE DOMAIN alice.sym_t AS text CHECK (alice.hostile('domain sym_t check'));
-- the hostile operator, in a CHECK constraint of positions
CREATE FUNCTION alice.op_fn(numeric, numeric) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RETURN alice.hostile('operator ===='); END $$;
CREATE OPERATOR alice.==== (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = alice.op_fn);

CREATE TABLE alice.instruments (symbol alice.sym_t PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE alice.marks (symbol alice.sym_t PRIMARY KEY, mark_price numeric);
CREATE TABLE alice.positions (
    id alice.pk_t PRIMARY KEY, symbol alice.sym_t NOT NULL, size numeric NOT NULL,
    entry_price numeric NOT NULL,
    margin numeric NOT NULL CHECK (margin OPERATOR(alice.====) margin));
-- the hostile trigger (named to fire before isomargin's: enforcement refuses a BEFORE
-- ROW trigger that fires after it, sql/enforce_verify.sql)
CREATE FUNCTION alice.on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM alice.hostile('trigger ' || TG_NAME); RETURN NEW; END $$;
CREATE TRIGGER a_hostile BEFORE UPDATE ON alice.positions
    FOR EACH ROW EXECUTE FUNCTION alice.on_update();
INSERT INTO alice.instruments VALUES ('BTC', 0.004);
INSERT INTO alice.marks VALUES ('BTC', 30000);
INSERT INTO alice.positions VALUES ('p1', 'BTC', 1, 30000, 3000), ('p2', 'BTC', -1, 30000, 3000);
RESET ROLE;
TRUNCATE public.hostile_calls;

-- A superuser attaches enforcement: the recompute of every position runs as
-- the owner, so the owner's trigger and constraint run with the owner's rights.
SELECT isomargin.enforce('alice.positions', 'alice.marks', 'alice.instruments') ->> 'id' AS id;
SELECT what, ran_as, superuser, count(*) FROM public.hostile_calls GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
TRUNCATE public.hostile_calls;

-- The owner inserts a position under water at once: its event key is built
-- with the owner's cast, as the owner, not as the events table's owner.
SET ROLE regress_alice;
INSERT INTO alice.positions VALUES ('p3', 'BTC', 1, 33000, 2000);
RESET ROLE;
SELECT what, ran_as, superuser, count(*) FROM public.hostile_calls GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
TRUNCATE public.hostile_calls;

-- A superuser feed moves the mark (the statement itself calls none of the
-- owner's code): the flags, their keys and the status writes run as the owner.
UPDATE alice.marks SET mark_price = 27100;
SELECT what, ran_as, superuser, count(*) FROM public.hostile_calls GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
TRUNCATE public.hostile_calls;

-- A superuser changes the instrument: the recompute runs as the owner.
UPDATE alice.instruments SET mmr = 0.005;
SELECT what, ran_as, superuser, count(*) FROM public.hostile_calls GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;

-- Enforcement did its job all the same, and the owner is still not superuser.
SELECT id, status, liquidation_price FROM alice.positions ORDER BY id;
SELECT position_key, old_status, new_status FROM isomargin.events ORDER BY id;
SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = 'regress_alice';

-- run_as_owner, the step enforce() runs statements through, drops rights
-- and never adds them: a caller who does not own the table is refused.
CREATE ROLE regress_mallory;
GRANT USAGE ON SCHEMA isomargin, alice TO regress_mallory;
SET ROLE regress_mallory;
SELECT isomargin.run_as_owner('alice.positions', 'SELECT 1');
RESET ROLE;
SELECT isomargin.run_as_owner('alice.positions', 'SELECT current_user::text');
SELECT isomargin.run_as_owner('alice.positions', 'SELECT 1 WHERE false') IS NULL AS no_row;
-- a security-restricted operation: the owner's code cannot change roles
SELECT isomargin.run_as_owner('alice.positions', 'SET ROLE regress_alice');

SELECT isomargin.unenforce('alice.positions');
SET client_min_messages = warning;
DROP SCHEMA alice CASCADE;
RESET client_min_messages;
DROP TABLE public.hostile_calls;
REVOKE ALL ON SCHEMA isomargin FROM regress_alice, regress_mallory;
DROP ROLE regress_alice, regress_mallory;
TRUNCATE isomargin.events RESTART IDENTITY;
