-- Row security of the liquidation engine's tables (issue 16 with issue 19's
-- model): two books of two owners, a worker granted the events of one.  The
-- worker sees and writes only its book's ledger, fund, ADL and follow-up
-- rows, and still liquidates its book end to end; the other book's owner
-- sees its own; a read-only event grant reads but does not write.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_rbook;
CREATE ROLE regress_rbook2;
CREATE ROLE regress_rworker;
CREATE ROLE regress_ranalyst;
RESET client_min_messages;
CREATE SCHEMA rls;
GRANT USAGE ON SCHEMA rls TO regress_rbook, regress_rbook2, regress_rworker, regress_ranalyst;
CREATE TABLE rls.instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE rls.marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE rls.book (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                       entry_price numeric NOT NULL, margin numeric NOT NULL);
CREATE TABLE rls.book2 (LIKE rls.book INCLUDING ALL);
ALTER TABLE rls.book OWNER TO regress_rbook;
ALTER TABLE rls.book2 OWNER TO regress_rbook2;
GRANT USAGE ON SCHEMA isomargin TO regress_rbook, regress_rbook2, regress_rworker, regress_ranalyst;
GRANT SELECT ON rls.marks, rls.instruments TO regress_rbook, regress_rbook2, regress_rworker;
INSERT INTO rls.instruments VALUES ('BTC', 0.004);
INSERT INTO rls.marks VALUES ('BTC', 30000);
-- Both books alike: 1 long, BP 27,950; 3 long, BP 28,100; 2 the short ADL reduces.
INSERT INTO rls.book VALUES (1, 'BTC', 1, 30000, 2050), (2, 'BTC', -1, 30000, 3000),
                            (3, 'BTC', 1, 30000, 1900);
INSERT INTO rls.book2 SELECT * FROM rls.book;
SELECT isomargin.enforce('rls.book', 'rls.marks', 'rls.instruments') IS NOT NULL AS enforced,
       isomargin.enforce('rls.book2', 'rls.marks', 'rls.instruments') IS NOT NULL AS enforced2;
SELECT isomargin.liquidation_setup('rls.book'), isomargin.liquidation_setup('rls.book2');
SELECT isomargin.insurance_deposit('rls.book', 'BTC', 100) AS deposit,
       isomargin.insurance_deposit('rls.book2', 'BTC', 100) AS deposit2;
-- A follow-up in each book, not due for an hour (no worker takes it).
INSERT INTO isomargin.liquidation_followups
VALUES ('rls.book', '{"id": 2}', now() + interval '1 hour'),
       ('rls.book2', '{"id": 2}', now() + interval '1 hour');

-- Each owner grants its book's events: book to the worker, book to the
-- analyst only to read.  The worker holds the documented grants
-- (doc/liquidation.md, Rights), table-wide; the owner of book2 runs a
-- worker of its own with the same engine grants; the analyst may read
-- every engine table and was granted INSERT on the ledger.
SET ROLE regress_rbook;
SELECT isomargin.grant_events('rls.book', 'regress_rworker'),
       isomargin.grant_events('rls.book', 'regress_ranalyst', claim => false);
RESET ROLE;
GRANT SELECT, UPDATE ON rls.book TO regress_rworker;
GRANT SELECT ON isomargin.liquidation_settings, isomargin.enforcement TO regress_rworker, regress_rbook2;
GRANT SELECT, INSERT, UPDATE ON isomargin.insurance_funds TO regress_rworker, regress_rbook2;
GRANT SELECT, INSERT ON isomargin.insurance_ledger, isomargin.adl_queue, isomargin.adl_fills
    TO regress_rworker, regress_rbook2;
GRANT UPDATE ON isomargin.adl_queue TO regress_rworker, regress_rbook2;
GRANT SELECT, INSERT, UPDATE, DELETE ON isomargin.liquidation_followups TO regress_rworker, regress_rbook2;
GRANT USAGE ON SEQUENCE isomargin.insurance_ledger_id_seq, isomargin.adl_queue_id_seq,
    isomargin.adl_fills_id_seq TO regress_rworker, regress_rbook2;
GRANT SELECT ON isomargin.insurance_balances TO regress_rworker, regress_rbook2, regress_ranalyst;
GRANT SELECT ON isomargin.insurance_funds, isomargin.adl_queue, isomargin.adl_fills,
    isomargin.liquidation_followups, isomargin.liquidation_settings TO regress_ranalyst;
GRANT SELECT, INSERT ON isomargin.insurance_ledger TO regress_ranalyst;
GRANT USAGE ON SEQUENCE isomargin.insurance_ledger_id_seq TO regress_ranalyst;

-- The crash to 27,900: 1 and 3 of both books are bankrupt, 2 is ok.
UPDATE rls.marks SET mark_price = 27900;
SELECT 'book' AS t, id, status FROM rls.book UNION ALL SELECT 'book2', id, status FROM rls.book2
 ORDER BY 1, 2;

-- The owner of book2 liquidates its book; then the worker, its own.  In
-- each book: 1 owes the fund 2,050 - 2,100 = -50, 3 owes 1,900 - 2,100 =
-- -200; whichever comes first, 1 is paid by the fund (100 -> 50) and 3 goes
-- to ADL (200 > the fund's 100 or 50), taken by the short 2 at 3's BP 28,100.
SET ROLE regress_rbook2;
CALL isomargin.liquidation_worker('owner2');
RESET ROLE;
-- Then a follow-up due now in each book: the worker takes its book's (1 is
-- closed: nothing to do) and leaves book2's, which it cannot see.
INSERT INTO isomargin.liquidation_followups
VALUES ('rls.book', '{"id": 1}', now() - interval '1 minute'),
       ('rls.book2', '{"id": 1}', now() - interval '1 minute');
SET ROLE regress_rworker;
CALL isomargin.liquidation_worker('w');

-- What the worker sees: its book's rows only.
SELECT positions, entry, position_key ->> 'id' AS pos, worker, amount, adl_size, shortfall
  FROM isomargin.insurance_ledger ORDER BY entry, pos;
SELECT positions, fund, balance FROM isomargin.insurance_funds;
SELECT positions, fund, balance, rows FROM isomargin.insurance_balances;
SELECT positions, symbol, side, size, price, shortfall, assigned_size FROM isomargin.adl_queue;
SELECT position_key ->> 'id' AS pos, closed_size, price, released_margin, realized_pnl, cash
  FROM isomargin.adl_fills;
SELECT positions, position_key FROM isomargin.liquidation_followups;
SELECT positions FROM isomargin.liquidation_settings;

-- Its direct writes for book2, with every table right: refused, 42501.
INSERT INTO isomargin.insurance_ledger (positions, fund, entry, amount)
VALUES ('rls.book2', 'BTC', 'deposit', -100);
SELECT isomargin.insurance_deposit('rls.book2', 'BTC', -100);
INSERT INTO isomargin.insurance_funds AS f (positions, fund, balance) VALUES ('rls.book2', 'BTC', 0)
    ON CONFLICT (positions, fund) DO UPDATE SET balance = f.balance - 100;
INSERT INTO isomargin.insurance_funds (positions, fund, balance) VALUES ('rls.book2', 'ETH', 1000);
-- moving its own fund's row to book2
UPDATE isomargin.insurance_funds SET positions = 'rls.book2' WHERE positions = 'rls.book'::regclass;
INSERT INTO isomargin.adl_queue (ledger_id, positions, symbol, side, size, price, shortfall)
VALUES (1, 'rls.book2', 'BTC', 'short', 1, 28100, 200);
INSERT INTO isomargin.liquidation_followups VALUES ('rls.book2', '{"id": 1}', now());
-- a fill for book2's queue entry (an id the worker cannot see)
DO $$
BEGIN
    INSERT INTO isomargin.adl_fills (queue_id, position_key, closed_size, price, released_margin,
                                     realized_pnl, cash, size_after, margin_after)
    SELECT q.id, '{"id": 2}', 1, 28100, 0, 0, 0, 0, 0
      FROM isomargin.adl_queue q
     WHERE q.positions = 'rls.book'::regclass;   -- its own: allowed, rolled back below
    RAISE NOTICE 'a fill for its own queue entry: inserted';
    INSERT INTO isomargin.adl_fills (queue_id, position_key, closed_size, price, released_margin,
                                     realized_pnl, cash, size_after, margin_after)
    VALUES ((SELECT max(id) FROM isomargin.adl_queue) + 1, '{"id": 2}', 1, 28100, 0, 0, 0, 0, 0);
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'a fill for another queue entry: % (%)', SQLERRM, SQLSTATE;
END $$;
-- Updates and deletes of rows it cannot see change nothing.
UPDATE isomargin.insurance_funds SET balance = balance + 1000 WHERE positions = 'rls.book2'::regclass;
UPDATE isomargin.adl_queue SET assigned_size = 0 WHERE positions = 'rls.book2'::regclass;
DELETE FROM isomargin.liquidation_followups WHERE positions = 'rls.book2'::regclass;
RESET ROLE;

-- As a superuser: both books liquidated end to end, and book2's rows as its
-- owner's worker left them (no row of the worker's in book2).
SELECT 'book' AS t, id, size, margin, status FROM rls.book
 UNION ALL SELECT 'book2', id, size, margin, status FROM rls.book2 ORDER BY 1, 2;
SELECT positions, entry, position_key ->> 'id' AS pos, worker, amount, adl_size, shortfall
  FROM isomargin.insurance_ledger ORDER BY positions, entry, pos;
SELECT positions, fund, balance FROM isomargin.insurance_funds ORDER BY positions, fund;
SELECT positions, side, size, price, shortfall, assigned_size FROM isomargin.adl_queue ORDER BY positions;
SELECT q.positions, f.position_key ->> 'id' AS pos, f.closed_size, f.cash
  FROM isomargin.adl_fills f JOIN isomargin.adl_queue q ON q.id = f.queue_id ORDER BY q.positions;
SELECT positions, position_key, due_at < now() AS due FROM isomargin.liquidation_followups
 ORDER BY positions, position_key;
-- The events: each book's claimed and acknowledged by its own worker.
SELECT positions, position_key ->> 'id' AS pos, new_status, claimed_by
  FROM isomargin.events WHERE new_status >= 'liquidate' ORDER BY positions, pos;

-- The owner of book2 sees its own rows, not book's.
SET ROLE regress_rbook2;
SELECT DISTINCT positions FROM isomargin.insurance_ledger;
SELECT positions, fund, balance FROM isomargin.insurance_funds;
SELECT positions, fund, balance, rows FROM isomargin.insurance_balances;
SELECT positions, size FROM isomargin.adl_queue;
SELECT count(*) AS fills FROM isomargin.adl_fills;
SELECT positions FROM isomargin.liquidation_followups;

-- The analyst, granted book's events to read: reads book's rows; its
-- INSERT on the ledger writes no row even for book (no claim grant).
SET ROLE regress_ranalyst;
SELECT DISTINCT positions FROM isomargin.insurance_ledger;
SELECT positions, fund, balance, rows FROM isomargin.insurance_balances;
SELECT count(*) AS fills FROM isomargin.adl_fills;
INSERT INTO isomargin.insurance_ledger (positions, fund, entry, amount)
VALUES ('rls.book', 'BTC', 'deposit', 1);

-- The worker's statements on its fund, its ADL queue entry and its ledger
-- stay index lookups under the policies (as the worker prepares them: the
-- table and the key as parameters; enable_seqscan off: the tables are tiny).
SET ROLE regress_rworker;
SET enable_seqscan = off;
SET plan_cache_mode = force_generic_plan;
PREPARE fund_lock(regclass, text) AS
SELECT f.balance FROM isomargin.insurance_funds AS f WHERE f.positions = $1 AND f.fund = $2 FOR UPDATE;
EXPLAIN (COSTS OFF) EXECUTE fund_lock('rls.book', 'BTC');
PREPARE fund_move(regclass, text, numeric) AS
UPDATE isomargin.insurance_funds AS f SET balance = f.balance + $3 WHERE f.positions = $1 AND f.fund = $2;
EXPLAIN (COSTS OFF) EXECUTE fund_move('rls.book', 'BTC', 1);
PREPARE queue_lock(int8) AS SELECT * FROM isomargin.adl_queue AS q WHERE q.id = $1 FOR UPDATE;
EXPLAIN (COSTS OFF) EXECUTE queue_lock(1);
-- Its position's last step (a cooldown policy's read): under the policy the
-- key's jsonb equality (not leakproof) is only a filter over the book's
-- rows, so liquidate_position reads it as the ledger's owner, where it is
-- an index condition.
PREPARE last_step(regclass, jsonb) AS
SELECT max(l.created_at) FROM isomargin.insurance_ledger AS l
 WHERE l.positions = $1 AND l.position_key = $2 AND l.entry = 'liquidation';
EXPLAIN (COSTS OFF) EXECUTE last_step('rls.book', '{"id": 1}');
-- liquidate_next's take of a due follow-up finds it again by its ctid.
EXPLAIN (COSTS OFF)
DELETE FROM isomargin.liquidation_followups AS f
 USING (SELECT u.ctid FROM isomargin.liquidation_followups AS u
         WHERE u.due_at <= clock_timestamp() ORDER BY u.due_at LIMIT 1 FOR UPDATE SKIP LOCKED) AS c
 WHERE f.ctid = c.ctid RETURNING f.positions::oid, f.position_key;
RESET ROLE;
EXPLAIN (COSTS OFF) EXECUTE last_step('rls.book', '{"id": 1}');
DEALLOCATE ALL;
RESET plan_cache_mode;
RESET enable_seqscan;
RESET ROLE;

-- The policies' function is parallel safe: the worker's and the analyst's
-- scans of the ledger may run in a parallel worker, which asks the same
-- grants (read-only queries as the events' owner) and sees the same rows
-- (the leader not participating: the worker scans).
SELECT count(*) AS all_rows FROM isomargin.insurance_ledger;
SET ROLE regress_rworker;
SELECT count(*) AS serial_rows, sum(amount) AS serial_sum FROM isomargin.insurance_ledger;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 1;
SET parallel_leader_participation = off;
SET force_parallel_mode = on;
EXPLAIN (COSTS OFF) SELECT count(*), sum(amount) FROM isomargin.insurance_ledger;
SELECT count(*) AS parallel_rows, sum(amount) AS parallel_sum FROM isomargin.insurance_ledger;
SET ROLE regress_ranalyst;
SELECT count(*) AS analyst_parallel_rows FROM isomargin.insurance_ledger;
RESET ROLE;
RESET force_parallel_mode;
RESET parallel_leader_participation;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;

-- Still append-only for the worker: no UPDATE policy, and no right.
SET ROLE regress_rworker;
UPDATE isomargin.insurance_ledger SET amount = 0;
RESET ROLE;

SELECT isomargin.unenforce('rls.book'), isomargin.unenforce('rls.book2');
SET client_min_messages = warning;
DROP SCHEMA rls CASCADE;
RESET client_min_messages;
-- The rows of a dropped book: the owner's and superusers' only (none for the worker).
SET ROLE regress_rworker;
SELECT count(*) AS rows_of_dropped_books FROM isomargin.insurance_ledger;
RESET ROLE;
SELECT count(*) AS rows_of_dropped_books FROM isomargin.insurance_ledger;
TRUNCATE isomargin.events, isomargin.insurance_ledger, isomargin.insurance_funds, isomargin.adl_queue,
         isomargin.adl_fills, isomargin.liquidation_followups, isomargin.liquidation_settings,
         isomargin.event_grants RESTART IDENTITY;
REVOKE ALL ON ALL TABLES IN SCHEMA isomargin FROM regress_rworker, regress_rbook2, regress_ranalyst;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA isomargin FROM regress_rworker, regress_rbook2, regress_ranalyst;
REVOKE ALL ON SCHEMA isomargin FROM regress_rbook, regress_rbook2, regress_rworker, regress_ranalyst;
DROP ROLE regress_rbook, regress_rbook2, regress_rworker, regress_ranalyst;
