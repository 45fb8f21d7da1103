-- lower_backend_priority and the worker's nice (issue 16 item 8): a backend
-- raises its own nice value, one way, and liquidation_worker does so before
-- its loop.  The kernel's value is read by the backend itself, field 19 of
-- /proc/self/stat (Linux), so every answer is checked against the kernel's.
-- Values are relative to the niceness the server started with (:start); the
-- test needs it below 15.
\set SHOW_CONTEXT never
\set ECHO none
\i test/lib/try.sql
\set ECHO all
CREATE FUNCTION public.kernel_nice() RETURNS int
LANGUAGE sql VOLATILE
AS $$ SELECT (pg_catalog.string_to_array(
                  (pg_catalog.regexp_match(pg_catalog.pg_read_file('/proc/self/stat'), '\) (.*)$'))[1],
                  ' '))[17]::int $$;
SELECT public.kernel_nice() AS start \gset
SELECT :start BETWEEN 0 AND 14 AS room_to_raise;

-- Raised by 3: the function returns the value in effect, the kernel's.
SELECT isomargin.lower_backend_priority(:start + 3) - :start AS returned;
SELECT public.kernel_nice() - :start AS kernel;
-- The same value again, a lower one, 0: nothing changes, the same answer.
SELECT isomargin.lower_backend_priority(:start + 3) - :start AS returned;
SELECT isomargin.lower_backend_priority(:start + 1) - :start AS returned;
SELECT isomargin.lower_backend_priority(0) - :start AS returned;
SELECT public.kernel_nice() - :start AS kernel;

-- Outside 0..19: 22023, nothing changed; NULL: NULL (STRICT).
SELECT pg_temp.try('SELECT isomargin.lower_backend_priority(-1)');
SELECT pg_temp.try('SELECT isomargin.lower_backend_priority(20)');
SELECT isomargin.lower_backend_priority(NULL) IS NULL AS null_for_null;
SELECT public.kernel_nice() - :start AS kernel;
SELECT provolatile, proisstrict, proparallel,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_execute
  FROM pg_proc AS p
 WHERE p.oid = 'isomargin.lower_backend_priority(int)'::regprocedure;

-- A role without the grant: 42501, from the function and from a worker
-- given a nice, which calls it before claiming anything; with the grant it may.
CREATE ROLE regress_nice_role;
GRANT USAGE ON SCHEMA isomargin TO regress_nice_role;
SET ROLE regress_nice_role;
SELECT pg_temp.try('SELECT isomargin.lower_backend_priority(19)');
CALL isomargin.liquidation_worker('nogrant', nice => 10);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT public.kernel_nice() - :start AS kernel;
GRANT EXECUTE ON FUNCTION isomargin.lower_backend_priority(int) TO regress_nice_role;
SET ROLE regress_nice_role;
SELECT isomargin.lower_backend_priority(:start + 5) - :start AS returned;
RESET ROLE;
SELECT public.kernel_nice() - :start AS kernel;
REVOKE ALL ON FUNCTION isomargin.lower_backend_priority(int) FROM regress_nice_role;
REVOKE ALL ON SCHEMA isomargin FROM regress_nice_role;
DROP ROLE regress_nice_role;

-- The worker, each in a new backend (at :start).  A flat BTC book crashed to
-- 27,400: 2 (Q = 2,050 - 2,600 = -550) and 4 (2,300 - 2,600 = -300) are
-- bankrupt, the fund (1,000) pays both; 1 (Q = 400 > MM 109.6) is ok.
\c
CREATE TABLE instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO instruments VALUES ('BTC', 0.004);
INSERT INTO marks VALUES ('BTC', 30000);
INSERT INTO positions VALUES (1, 'BTC', 1, 30000, 3000), (2, 'BTC', 1, 30000, 2050),
                             (4, 'BTC', 1, 30000, 2300);
SELECT isomargin.enforce('positions', 'marks', 'instruments') IS NOT NULL AS enforced;
SELECT isomargin.liquidation_setup('positions', isomargin.liquidation_policy('whole'));
SELECT isomargin.insurance_deposit('positions', 'BTC', 1000) IS NOT NULL AS deposited;
UPDATE marks SET mark_price = 27400;
SELECT id, status FROM positions ORDER BY id;

-- A bad nice: 22023 before any work; nothing claimed, nothing booked.
CALL isomargin.liquidation_worker('w', nice => 20);
\echo :LAST_ERROR_SQLSTATE
SELECT id, size, status FROM positions ORDER BY id;
SELECT count(*) AS claimed FROM isomargin.events WHERE claimed_at IS NOT NULL;
SELECT public.kernel_nice() - :start AS kernel;

-- nice => NULL: the priority is left alone; one position liquidated.
CALL isomargin.liquidation_worker('w', max_positions => 1, nice => NULL);
SELECT public.kernel_nice() - :start AS kernel;
SELECT count(*) AS liquidated FROM isomargin.insurance_ledger WHERE entry = 'liquidation';
-- nice => start + 4: raised before the loop; the other one liquidated.
CALL isomargin.liquidation_worker('w', nice => :start + 4);
SELECT public.kernel_nice() - :start AS kernel;
SELECT id, size, status FROM positions ORDER BY id;
SELECT position_key ->> 'id' AS pos, worker, closed_size, settlement, amount
  FROM isomargin.insurance_ledger WHERE entry = 'liquidation' ORDER BY id;
SELECT balance FROM isomargin.insurance_funds;

-- By default (NULL) the priority is left alone; nice => 10 raises it even
-- with no work to do.
\c
CALL isomargin.liquidation_worker('w');
SELECT public.kernel_nice() - :start AS kernel;
CALL isomargin.liquidation_worker('w', nice => 10);
SELECT public.kernel_nice() = greatest(:start, 10) AS ten;

SELECT isomargin.unenforce('positions');
TRUNCATE isomargin.adl_fills, isomargin.adl_queue, isomargin.insurance_ledger, isomargin.insurance_funds,
         isomargin.liquidation_followups, isomargin.liquidation_settings, isomargin.events;
DROP TABLE positions, marks, instruments;
DROP FUNCTION public.kernel_nice();
