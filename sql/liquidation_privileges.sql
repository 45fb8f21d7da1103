-- The liquidation worker with exactly the rights doc/liquidation.md lists
-- (issue 19 item 2): it claims and acknowledges through claim_events and
-- ack_events, holds no right on isomargin.events, and reaches only the
-- books whose events were granted to it.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_lbook;
CREATE ROLE regress_lbook2;
CREATE ROLE regress_lworker;
RESET client_min_messages;
CREATE SCHEMA lq;
GRANT USAGE ON SCHEMA lq TO regress_lbook, regress_lbook2, regress_lworker;
CREATE TABLE lq.instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE lq.marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE lq.book (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                      entry_price numeric NOT NULL, margin numeric NOT NULL);
CREATE TABLE lq.book2 (LIKE lq.book INCLUDING ALL);
ALTER TABLE lq.book OWNER TO regress_lbook;
ALTER TABLE lq.book2 OWNER TO regress_lbook2;
-- the positions owners' grants (doc/enforcement.md, Privileges)
GRANT USAGE ON SCHEMA isomargin TO regress_lbook, regress_lbook2;
GRANT SELECT ON lq.marks, lq.instruments TO regress_lbook, regress_lbook2;
INSERT INTO lq.instruments VALUES ('BTC', 0.004);
INSERT INTO lq.marks VALUES ('BTC', 30000);
INSERT INTO lq.book VALUES (1, 'BTC', 1, 30000, 3000), (2, 'BTC', 1, 30000, 2050),
                           (3, 'BTC', -1, 29000, 3000);
INSERT INTO lq.book2 VALUES (1, 'BTC', 1, 30000, 2050);
SELECT isomargin.enforce('lq.book', 'lq.marks', 'lq.instruments') IS NOT NULL AS enforced,
       isomargin.enforce('lq.book2', 'lq.marks', 'lq.instruments') IS NOT NULL AS enforced2;
SELECT isomargin.liquidation_setup('lq.book'), isomargin.liquidation_setup('lq.book2');
SELECT isomargin.insurance_deposit('lq.book', 'BTC', 1000) IS NOT NULL AS deposited;

-- The worker's grants: the schema, its event grant on lq.book only (by the
-- book's owner), what a position change needs, and the engine's own tables.
GRANT USAGE ON SCHEMA isomargin TO regress_lworker;
SET ROLE regress_lbook;
SELECT isomargin.grant_events('lq.book', 'regress_lworker');
RESET ROLE;
GRANT SELECT, UPDATE ON lq.book TO regress_lworker;
GRANT SELECT ON lq.marks, lq.instruments TO regress_lworker;
GRANT SELECT ON isomargin.liquidation_settings, isomargin.enforcement TO regress_lworker;
GRANT SELECT, INSERT, UPDATE ON isomargin.insurance_funds TO regress_lworker;
GRANT SELECT, INSERT ON isomargin.insurance_ledger, isomargin.adl_queue, isomargin.adl_fills
    TO regress_lworker;
GRANT UPDATE ON isomargin.adl_queue TO regress_lworker;
GRANT SELECT, INSERT, UPDATE, DELETE ON isomargin.liquidation_followups TO regress_lworker;
GRANT USAGE ON SEQUENCE isomargin.insurance_ledger_id_seq, isomargin.adl_queue_id_seq,
    isomargin.adl_fills_id_seq TO regress_lworker;
SELECT has_table_privilege('regress_lworker', 'isomargin.events', 'SELECT, INSERT, UPDATE, DELETE')
       AS any_right_on_events;

-- The crash to 27,900: book's 2 (BP 27,950) and book2's 1 are bankrupt.
UPDATE lq.marks SET mark_price = 27900;
SELECT 'book' AS t, id, status FROM lq.book UNION ALL SELECT 'book2', id, status FROM lq.book2
 ORDER BY 1, 2;

-- The worker liquidates book's position 2, and only that: book2 was not granted to it.
SET ROLE regress_lworker;
CALL isomargin.liquidation_worker('w');
-- Reading or rewriting the events directly is refused.
SELECT count(*) FROM isomargin.events;
UPDATE isomargin.events SET claimed_at = NULL;
-- Claiming book2's events through the function names the missing grant.
SELECT count(*) FROM isomargin.claim_events('w', 1, positions => 'lq.book2');
-- The mark it fills at, read through checked_mark (the state row locked FOR
-- SHARE, no right on the state table): its book's, not book2's.
SELECT isomargin.checked_mark('lq.book', 'BTC');
SELECT isomargin.checked_mark('lq.book2', 'BTC');
DO $$
BEGIN
    EXECUTE format('SELECT count(*) FROM %s', (SELECT e.state_table FROM isomargin.enforcement e
                                                WHERE e.positions = 'lq.book'::regclass));
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'reading the state table: %', regexp_replace(SQLERRM, '_[0-9]+$', '_<n>');
END $$;
RESET ROLE;
SELECT 'book' AS t, id, size, margin, status FROM lq.book
 UNION ALL SELECT 'book2', id, size, margin, status FROM lq.book2 ORDER BY 1, 2;
-- 2: released 2,050, PnL 27,900 - 30,000 = -2,100: the fund pays 50: 950.
SELECT position_key ->> 'id' AS pos, worker, closed_size, settlement, amount
  FROM isomargin.insurance_ledger WHERE entry = 'liquidation' ORDER BY id;
SELECT fund, balance FROM isomargin.insurance_funds ORDER BY positions;
-- Its events claimed and acknowledged as the worker; book2's left for whoever may claim them.
SELECT positions, position_key ->> 'id' AS pos, new_status, claimed_by, acked_at IS NOT NULL AS acked
  FROM isomargin.events ORDER BY id;

-- checked_mark's bad inputs: a table that is not enforced, an instrument the
-- book does not have (no state row is made for it); NULL in, NULL out (STRICT).
SELECT isomargin.checked_mark('lq.marks', 'BTC');
\echo :LAST_ERROR_SQLSTATE
SELECT isomargin.checked_mark('lq.book', 'ETH');
\echo :LAST_ERROR_SQLSTATE
SELECT isomargin.checked_mark('lq.book', NULL) IS NULL AS null_in_null_out;
DO $$
DECLARE n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM %s WHERE symbol = %L',
                   (SELECT e.state_table FROM isomargin.enforcement e
                     WHERE e.positions = 'lq.book'::regclass), 'ETH') INTO n;
    RAISE NOTICE 'state rows for ETH: %', n;
END $$;

SELECT isomargin.unenforce('lq.book'), isomargin.unenforce('lq.book2');
SET client_min_messages = warning;
DROP SCHEMA lq CASCADE;
RESET client_min_messages;
TRUNCATE isomargin.events, isomargin.insurance_ledger, isomargin.insurance_funds,
         isomargin.liquidation_settings, isomargin.event_grants RESTART IDENTITY;
REVOKE ALL ON ALL TABLES IN SCHEMA isomargin FROM regress_lworker;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA isomargin FROM regress_lworker;
REVOKE ALL ON SCHEMA isomargin FROM regress_lbook, regress_lbook2, regress_lworker;
DROP ROLE regress_lbook, regress_lbook2, regress_lworker;
