-- The probe before a mark's candidate search on a positions table partitioned
-- by HASH (id) (src/enforce_probe.c, doc/enforcement.md "Partitioned positions
-- tables"): one instrument's mark update asks each partition's three partial
-- indexes for an entry in range and runs the search only when one holds one.
-- Next to an ordinary twin, single-instrument moves down and up cross the
-- margin-call, liquidation and bankruptcy prices of positions spread over the
-- partitions (each index kind, in every partition), or nothing; positions
-- written earlier in the same transaction (READ COMMITTED and REPEATABLE READ)
-- are crossed; a sub-partitioned partition (no probe: the search runs) and a
-- look-alike index (same columns, another predicate) change nothing.  After
-- each step the two tables hold the same prices, statuses and events.
\set SHOW_CONTEXT never
TRUNCATE isomargin.events RESTART IDENTITY;
CREATE SCHEMA pp;
CREATE TABLE pp.instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE pp.marks (symbol text PRIMARY KEY, mark_price numeric);
INSERT INTO pp.instruments VALUES ('BTC', 0.004), ('ETH', 0.005);
INSERT INTO pp.marks VALUES ('BTC', 30000), ('ETH', 2000);
CREATE TABLE pp.flat (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                      entry_price numeric NOT NULL, margin numeric NOT NULL);
CREATE TABLE pp.by_id (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                       entry_price numeric NOT NULL, margin numeric NOT NULL) PARTITION BY HASH (id);
CREATE TABLE pp.by_id_0 PARTITION OF pp.by_id FOR VALUES WITH (MODULUS 4, REMAINDER 0);
CREATE TABLE pp.by_id_1 PARTITION OF pp.by_id FOR VALUES WITH (MODULUS 4, REMAINDER 1);
CREATE TABLE pp.by_id_2 PARTITION OF pp.by_id FOR VALUES WITH (MODULUS 4, REMAINDER 2);
CREATE TABLE pp.by_id_3 PARTITION OF pp.by_id FOR VALUES WITH (MODULUS 4, REMAINDER 3);
-- 40 BTC longs and shorts, margins 4% to 23.5% of the notional; 20 ETH longs
CREATE VIEW pp.book AS
SELECT g AS id, 'BTC' AS symbol, CASE WHEN g % 2 = 0 THEN 1 ELSE -1 END AS size,
       30000 AS entry_price, 1200 + 150 * (g / 2) AS margin
  FROM generate_series(1, 40) g
UNION ALL
SELECT g, 'ETH', 10, 2000, 1000 + 50 * (g - 40) FROM generate_series(41, 60) g;
SELECT t AS positions, isomargin.enforce(t, 'pp.marks', 'pp.instruments') IS NOT NULL AS enforced
  FROM unnest(ARRAY['pp.flat', 'pp.by_id']::regclass[]) t;
-- a look-alike of the margin-call price index on one partition: not the probe's
CREATE INDEX by_id_2_lookalike ON pp.by_id_2 (symbol, margin_call_price) WHERE status = 'ok';
BEGIN;  -- one transaction: the same status_changed_at in both
INSERT INTO pp.flat SELECT * FROM pp.book;
INSERT INTO pp.by_id SELECT * FROM pp.book;
COMMIT;
-- where the BTC positions are: every partition holds some
SELECT tableoid::regclass AS partition, count(*) FROM pp.by_id WHERE symbol = 'BTC' GROUP BY 1 ORDER BY 1;

-- What differs from the twin: positions and events, each way; events and statuses of by_id.
CREATE VIEW pp.diff AS
WITH a AS (SELECT id, symbol, size, entry_price, margin, liquidation_price, margin_call_price,
                  bankruptcy_price, status, status_changed_at FROM pp.flat),
     b AS (SELECT id, symbol, size, entry_price, margin, liquidation_price, margin_call_price,
                  bankruptcy_price, status, status_changed_at FROM pp.by_id),
     ea AS (SELECT (position_key ->> 'id')::int AS id, symbol, old_status, new_status, mark_price,
                   equity, maintenance_margin, cause FROM isomargin.events WHERE positions = 'pp.flat'::regclass),
     eb AS (SELECT (position_key ->> 'id')::int AS id, symbol, old_status, new_status, mark_price,
                   equity, maintenance_margin, cause FROM isomargin.events WHERE positions = 'pp.by_id'::regclass)
SELECT (SELECT count(*) FROM ((TABLE a EXCEPT ALL TABLE b) UNION ALL (TABLE b EXCEPT ALL TABLE a)) x) AS positions,
       (SELECT count(*) FROM ((TABLE ea EXCEPT ALL TABLE eb) UNION ALL (TABLE eb EXCEPT ALL TABLE ea)) y) AS events,
       (SELECT count(*) FROM eb) AS events_of_by_id,
       (SELECT string_agg(status || ' ' || n, ', ' ORDER BY status)
          FROM (SELECT status, count(*) AS n FROM pp.by_id GROUP BY status) s) AS statuses;
-- The events a step added to by_id, in the order written.
CREATE TABLE pp.seen (n bigint);
INSERT INTO pp.seen VALUES (0);
CREATE VIEW pp.step AS
SELECT e.position_key ->> 'id' AS id, p.tableoid::regclass AS partition, e.old_status, e.new_status
  FROM isomargin.events e JOIN pp.by_id p ON p.id = (e.position_key ->> 'id')::int
 WHERE e.positions = 'pp.by_id'::regclass AND e.id > (SELECT n FROM pp.seen)
 ORDER BY e.id;
CREATE FUNCTION pp.next() RETURNS void LANGUAGE sql
    AS $$ UPDATE pp.seen SET n = (SELECT coalesce(max(id), 0) FROM isomargin.events) $$;
SELECT * FROM pp.diff;

-- Down, then up, in steps of 40, one update each, crossing every threshold
-- kind in every partition: margin calls, liquidations, bankruptcies, calls
-- stepping back to ok.
SELECT format('UPDATE pp.marks SET mark_price = %s WHERE symbol = ''BTC''', p)
  FROM generate_series(29960, 27000, -40) p \gexec
SELECT old_status, new_status, count(*) AS n, count(DISTINCT partition) AS partitions
  FROM pp.step GROUP BY 1, 2 ORDER BY 1, 2;
SELECT pp.next(); SELECT * FROM pp.diff;
-- crossing nothing: no events
UPDATE pp.marks SET mark_price = 27000.01 WHERE symbol = 'BTC';
UPDATE pp.marks SET mark_price = 26999.99 WHERE symbol = 'BTC';
SELECT * FROM pp.step;
SELECT format('UPDATE pp.marks SET mark_price = %s WHERE symbol = ''BTC''', p)
  FROM generate_series(27040, 33000, 40) p \gexec
SELECT old_status, new_status, count(*) AS n, count(DISTINCT partition) AS partitions
  FROM pp.step GROUP BY 1, 2 ORDER BY 1, 2;
SELECT pp.next(); SELECT * FROM pp.diff;

-- Positions written earlier in the mark update's transaction are crossed.
BEGIN;
INSERT INTO pp.flat VALUES (101, 'BTC', 1, 33000, 800);
INSERT INTO pp.by_id VALUES (101, 'BTC', 1, 33000, 800);
UPDATE pp.marks SET mark_price = 32000 WHERE symbol = 'BTC';
COMMIT;
SELECT * FROM pp.step; SELECT pp.next(); SELECT * FROM pp.diff;
BEGIN ISOLATION LEVEL REPEATABLE READ;
INSERT INTO pp.flat VALUES (102, 'BTC', -1, 32000, 800);
INSERT INTO pp.by_id VALUES (102, 'BTC', -1, 32000, 800);
UPDATE pp.marks SET mark_price = 33000 WHERE symbol = 'BTC';
COMMIT;
SELECT * FROM pp.step; SELECT pp.next(); SELECT * FROM pp.diff;

-- A sub-partitioned partition: no probe, the search runs (same results);
-- ETH's mark, not moved so far, moves down across its positions.
CREATE TABLE pp.by_id_3s (LIKE pp.by_id) PARTITION BY HASH (id);
CREATE TABLE pp.by_id_3s_0 PARTITION OF pp.by_id_3s FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE pp.by_id_3s_1 PARTITION OF pp.by_id_3s FOR VALUES WITH (MODULUS 2, REMAINDER 1);
BEGIN;
CREATE TEMP TABLE keep ON COMMIT DROP AS SELECT * FROM pp.by_id_3;
ALTER TABLE pp.by_id DETACH PARTITION pp.by_id_3;
DROP TABLE pp.by_id_3;
INSERT INTO pp.by_id_3s SELECT * FROM keep;
ALTER TABLE pp.by_id ATTACH PARTITION pp.by_id_3s FOR VALUES WITH (MODULUS 4, REMAINDER 3);
COMMIT;
SELECT tableoid::regclass AS partition, count(*) FROM pp.by_id WHERE symbol = 'ETH' GROUP BY 1 ORDER BY 1;
SELECT pp.next();
SELECT format('UPDATE pp.marks SET mark_price = %s WHERE symbol = ''ETH''', p)
  FROM generate_series(1995, 1700, -5) p \gexec
SELECT old_status, new_status, count(*) AS n, count(DISTINCT partition) AS partitions
  FROM pp.step GROUP BY 1, 2 ORDER BY 1, 2;
SELECT pp.next();
-- the twin's statuses and events at the same marks
SELECT (SELECT count(*) FROM ((SELECT id, status FROM pp.flat EXCEPT SELECT id, status FROM pp.by_id)
                              UNION ALL (SELECT id, status FROM pp.by_id EXCEPT SELECT id, status FROM pp.flat)) x) AS statuses_differ;
UPDATE pp.marks SET mark_price = 1700.5 WHERE symbol = 'ETH';
SELECT * FROM pp.step;
SELECT * FROM pp.diff;

SELECT isomargin.unenforce(t) FROM unnest(ARRAY['pp.flat', 'pp.by_id']::regclass[]) t;
DROP SCHEMA pp CASCADE;
TRUNCATE isomargin.events RESTART IDENTITY;
