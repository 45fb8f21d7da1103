-- The probe locks the candidates it finds, without the search, on a positions
-- table partitioned by HASH (src/enforce_probe.c, src/enforce_probe_lock.c,
-- doc/enforcement.md "Partitioned positions tables").  Next to an ordinary
-- twin with the same composite primary key (account, id): moves crossing a
-- few positions spread over the partitions are settled without the
-- partitioned table's candidate search ever being prepared in the backend
-- (its cached plan would show in pg_backend_memory_contexts), and write the
-- same statuses and the same events in the same order (primary-key order
-- across the partitions); a move crossing more than 256 positions runs the
-- search, the next move too (a crash crossing many a tick), then the probe
-- again; rows changed earlier in the transaction, rows deleted, and a
-- partition of another column order read by their names.
\set SHOW_CONTEXT never
TRUNCATE isomargin.events RESTART IDENTITY;
CREATE SCHEMA pl;
CREATE TABLE pl.instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE pl.marks (symbol text PRIMARY KEY, mark_price numeric);
INSERT INTO pl.instruments VALUES ('BTC', 0.004);
INSERT INTO pl.marks VALUES ('BTC', 30000);
CREATE TABLE pl.flat (account text COLLATE "C", id int, symbol text NOT NULL, size numeric NOT NULL,
                      entry_price numeric NOT NULL, margin numeric NOT NULL, PRIMARY KEY (account, id));
CREATE TABLE pl.by_id (account text COLLATE "C", id int, symbol text NOT NULL, size numeric NOT NULL,
                       entry_price numeric NOT NULL, margin numeric NOT NULL, PRIMARY KEY (account, id))
    PARTITION BY HASH (id);
CREATE TABLE pl.by_id_0 PARTITION OF pl.by_id FOR VALUES WITH (MODULUS 4, REMAINDER 0);
CREATE TABLE pl.by_id_1 PARTITION OF pl.by_id FOR VALUES WITH (MODULUS 4, REMAINDER 1);
CREATE TABLE pl.by_id_2 PARTITION OF pl.by_id FOR VALUES WITH (MODULUS 4, REMAINDER 2);
-- a partition whose columns lie in another order
CREATE TABLE pl.by_id_3 (margin numeric NOT NULL, entry_price numeric NOT NULL, size numeric NOT NULL,
                         symbol text NOT NULL, id int NOT NULL, account text COLLATE "C" NOT NULL);
ALTER TABLE pl.by_id ATTACH PARTITION pl.by_id_3 FOR VALUES WITH (MODULUS 4, REMAINDER 3);
-- 40 longs and shorts, margins 4% to 23.5% of the notional, over four
-- accounts whose order ('B' before 'a' in "C") is not the ids' order; 300
-- longs of one more account whose thresholds all lie between 25000 and 24000
CREATE VIEW pl.book AS
SELECT (ARRAY['a', 'B', 'c', 'D'])[1 + (g / 2) % 4] AS account, 1000 - g AS id, 'BTC' AS symbol,
       CASE WHEN g % 2 = 0 THEN 1 ELSE -1 END AS size, 30000 AS entry_price, 1200 + 150 * (g / 2) AS margin
  FROM generate_series(1, 40) g
UNION ALL
SELECT 'Z', 2000 + g, 'BTC', 1, 30000, 5000 + g FROM generate_series(1, 300) g;
SELECT t AS positions, isomargin.enforce(t, 'pl.marks', 'pl.instruments') IS NOT NULL AS enforced
  FROM unnest(ARRAY['pl.flat', 'pl.by_id']::regclass[]) t;
BEGIN;  -- one transaction: the same status_changed_at in both
INSERT INTO pl.flat SELECT * FROM pl.book;
INSERT INTO pl.by_id SELECT * FROM pl.book;
COMMIT;
SELECT tableoid::regclass AS partition, count(*) FROM pl.by_id GROUP BY 1 ORDER BY 1;

-- What differs from the twin: positions, and events with their order.
CREATE VIEW pl.diff AS
WITH a AS (SELECT account, id, symbol, size, entry_price, margin, liquidation_price, margin_call_price,
                  bankruptcy_price, status, status_changed_at FROM pl.flat),
     b AS (SELECT account, id, symbol, size, entry_price, margin, liquidation_price, margin_call_price,
                  bankruptcy_price, status, status_changed_at FROM pl.by_id),
     ea AS (SELECT row_number() OVER (ORDER BY id) AS n, position_key, symbol, old_status, new_status,
                   mark_price, equity, maintenance_margin, cause
              FROM isomargin.events WHERE positions = 'pl.flat'::regclass),
     eb AS (SELECT row_number() OVER (ORDER BY id) AS n, position_key, symbol, old_status, new_status,
                   mark_price, equity, maintenance_margin, cause
              FROM isomargin.events WHERE positions = 'pl.by_id'::regclass)
SELECT (SELECT count(*) FROM ((TABLE a EXCEPT ALL TABLE b) UNION ALL (TABLE b EXCEPT ALL TABLE a)) x) AS positions,
       (SELECT count(*) FROM ((TABLE ea EXCEPT ALL TABLE eb) UNION ALL (TABLE eb EXCEPT ALL TABLE ea)) y) AS events,
       (SELECT count(*) FROM eb) AS events_of_by_id,
       (SELECT string_agg(status || ' ' || n, ', ' ORDER BY status)
          FROM (SELECT status, count(*) AS n FROM pl.by_id GROUP BY status) s) AS statuses;
-- Whether this backend has prepared the candidate search on pl.by_id itself.
CREATE VIEW pl.searched AS
SELECT count(*) AS search_plans FROM pg_backend_memory_contexts
 WHERE name = 'CachedPlanSource' AND ident LIKE 'SELECT CAST(1 AS pg_catalog.int8), p.ctid, %'
   AND ident LIKE '% FROM pl.by_id p WHERE %';
-- The events a step added to by_id, in the order written.
CREATE TABLE pl.seen (n bigint);
INSERT INTO pl.seen VALUES (0);
CREATE VIEW pl.step AS
SELECT e.position_key ->> 'account' AS account, e.position_key ->> 'id' AS id,
       p.tableoid::regclass AS partition, e.old_status, e.new_status
  FROM isomargin.events e
  JOIN pl.by_id p ON p.account = e.position_key ->> 'account' AND p.id = (e.position_key ->> 'id')::int
 WHERE e.positions = 'pl.by_id'::regclass AND e.id > (SELECT n FROM pl.seen)
 ORDER BY e.id;
CREATE FUNCTION pl.next() RETURNS void LANGUAGE sql
    AS $$ UPDATE pl.seen SET n = (SELECT coalesce(max(id), 0) FROM isomargin.events) $$;
SELECT * FROM pl.diff;

-- A new backend: nothing prepared yet.
\c
SELECT * FROM pl.searched;
-- Down 2000 in one move: liquidations and bankruptcies over the partitions,
-- written in primary-key order (account in "C", then id) whatever the partition.
UPDATE pl.marks SET mark_price = 28000 WHERE symbol = 'BTC';
SELECT * FROM pl.step;
SELECT pl.next(); SELECT * FROM pl.diff;
-- then in steps of 200, crossing a few each, and one crossing nothing
SELECT format('UPDATE pl.marks SET mark_price = %s WHERE symbol = ''BTC''', p)
  FROM generate_series(27800, 27000, -200) p \gexec
UPDATE pl.marks SET mark_price = 26999.99 WHERE symbol = 'BTC';
SELECT old_status, new_status, count(*) AS n, count(DISTINCT partition) AS partitions
  FROM pl.step GROUP BY 1, 2 ORDER BY 1, 2;
SELECT pl.next(); SELECT * FROM pl.diff;
-- none of these ran the search
SELECT * FROM pl.searched;

-- A row changed (974: liquidate instead of bankrupt), one deleted (972) and
-- one inserted ('B', 1) earlier in the transaction.
BEGIN;
UPDATE pl.flat SET margin = margin + 400 WHERE id = 974;
UPDATE pl.by_id SET margin = margin + 400 WHERE id = 974;
DELETE FROM pl.flat WHERE id = 972;
DELETE FROM pl.by_id WHERE id = 972;
INSERT INTO pl.flat VALUES ('B', 1, 'BTC', 1, 27000, 500);
INSERT INTO pl.by_id VALUES ('B', 1, 'BTC', 1, 27000, 500);
UPDATE pl.marks SET mark_price = 26500 WHERE symbol = 'BTC';
COMMIT;
SELECT * FROM pl.step; SELECT pl.next(); SELECT * FROM pl.diff;
SELECT * FROM pl.searched;

-- Down across the 300 of account Z in one move: more than the probe locks
-- itself, so the search runs (its plan appears), with the twin's results.
UPDATE pl.marks SET mark_price = 24000 WHERE symbol = 'BTC';
SELECT old_status, new_status, count(*) AS n, count(DISTINCT partition) AS partitions
  FROM pl.step GROUP BY 1, 2 ORDER BY 1, 2;
SELECT pl.next(); SELECT * FROM pl.diff;
SELECT * FROM pl.searched;
-- and back up, crossing the shorts and the margin calls the other way
SELECT format('UPDATE pl.marks SET mark_price = %s WHERE symbol = ''BTC''', p)
  FROM generate_series(23000, 33000, 500) p \gexec
SELECT old_status, new_status, count(*) AS n, count(DISTINCT partition) AS partitions
  FROM pl.step GROUP BY 1, 2 ORDER BY 1, 2;
SELECT pl.next(); SELECT * FROM pl.diff;

SELECT isomargin.unenforce(t) FROM unnest(ARRAY['pl.flat', 'pl.by_id']::regclass[]) t;
DROP SCHEMA pl CASCADE;
TRUNCATE isomargin.events RESTART IDENTITY;
