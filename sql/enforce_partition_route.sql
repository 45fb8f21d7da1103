-- Statements addressed to one partition (src/enforce_partition_route.c,
-- doc/enforcement.md "Partitioned positions tables"): a positions table
-- partitioned by LIST (symbol), with a DEFAULT partition and a partition of
-- another owner, enforced next to an ordinary twin.  A mark update searches the
-- partition that holds its symbol and locks no other; the statuses are written
-- back per partition; a partition of another owner than the partitioned table,
-- a renamed partition and the default partition keep the same results as the twin.
\set SHOW_CONTEXT never
TRUNCATE isomargin.events RESTART IDENTITY;
CREATE SCHEMA pr;
CREATE ROLE regress_isomargin_book;
CREATE ROLE regress_isomargin_desk;
GRANT USAGE ON SCHEMA isomargin, pr TO regress_isomargin_book;
CREATE TABLE pr.instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE pr.marks (symbol text PRIMARY KEY, mark_price numeric);
INSERT INTO pr.instruments VALUES ('BTC', 0.004), ('ETH', 0.005), ('SOL', 0.01);
INSERT INTO pr.marks VALUES ('BTC', 30000), ('ETH', 2000), ('SOL', 100);
GRANT SELECT ON pr.instruments, pr.marks TO regress_isomargin_book;
CREATE TABLE pr.flat (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                      entry_price numeric NOT NULL, margin numeric NOT NULL);
CREATE TABLE pr.by_sym (id int, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL,
                        PRIMARY KEY (symbol, id)) PARTITION BY LIST (symbol);
CREATE TABLE pr.by_sym_btc PARTITION OF pr.by_sym FOR VALUES IN ('BTC');
CREATE TABLE pr.by_sym_eth PARTITION OF pr.by_sym FOR VALUES IN ('ETH');
CREATE TABLE pr.by_sym_rest PARTITION OF pr.by_sym DEFAULT;
-- the partitioned table and two partitions are the book's; ETH's is the desk's,
-- on which the book's owner has no rights at all
ALTER TABLE pr.by_sym OWNER TO regress_isomargin_book;
ALTER TABLE pr.by_sym_btc OWNER TO regress_isomargin_book;
ALTER TABLE pr.by_sym_rest OWNER TO regress_isomargin_book;
ALTER TABLE pr.by_sym_eth OWNER TO regress_isomargin_desk;
-- 30 longs and shorts of BTC, ETH and SOL (SOL's in the default partition)
CREATE VIEW pr.book AS
SELECT g AS id, (ARRAY['BTC', 'ETH', 'SOL'])[1 + g % 3] AS symbol,
       (CASE WHEN g % 2 = 0 THEN 1 ELSE -1 END) * (1 + g % 4) AS size,
       (ARRAY[30000, 2000, 100])[1 + g % 3] AS entry_price,
       round((1 + g % 4) * (ARRAY[30000, 2000, 100])[1 + g % 3] / (10.0 + 10 * (g % 5)), 2) AS margin
  FROM generate_series(1, 30) g;
SELECT t AS positions, isomargin.enforce(t, 'pr.marks', 'pr.instruments') IS NOT NULL AS enforced
  FROM unnest(ARRAY['pr.flat', 'pr.by_sym']::regclass[]) t;
BEGIN;  -- one transaction: the same status_changed_at in both
INSERT INTO pr.flat SELECT * FROM pr.book;
INSERT INTO pr.by_sym SELECT * FROM pr.book;
COMMIT;

-- What differs from the twin: positions and events, each way; and how many events.
CREATE VIEW pr.diff AS
WITH a AS (SELECT id, symbol, size, entry_price, margin, liquidation_price, margin_call_price,
                  bankruptcy_price, status, status_changed_at FROM pr.flat),
     b AS (SELECT id, symbol, size, entry_price, margin, liquidation_price, margin_call_price,
                  bankruptcy_price, status, status_changed_at FROM pr.by_sym),
     ea AS (SELECT (position_key ->> 'id')::int AS id, symbol, old_status, new_status, mark_price,
                   equity, maintenance_margin, cause FROM isomargin.events WHERE positions = 'pr.flat'::regclass),
     eb AS (SELECT (position_key ->> 'id')::int AS id, symbol, old_status, new_status, mark_price,
                   equity, maintenance_margin, cause FROM isomargin.events WHERE positions = 'pr.by_sym'::regclass)
SELECT (SELECT count(*) FROM ((TABLE a EXCEPT ALL TABLE b) UNION ALL (TABLE b EXCEPT ALL TABLE a)) x) AS positions,
       (SELECT count(*) FROM ((TABLE ea EXCEPT ALL TABLE eb) UNION ALL (TABLE eb EXCEPT ALL TABLE ea)) y) AS events,
       (SELECT count(*) FROM eb) AS events_of_by_sym,
       (SELECT string_agg(status || ' ' || n, ', ' ORDER BY status)
          FROM (SELECT status, count(*) n FROM pr.by_sym GROUP BY status) s) AS statuses;
SELECT * FROM pr.diff;

-- The partitions of pr.by_sym a mark update of BTC locks: its own alone, and the
-- partitioned table (crossing nothing, then crossing some).
CREATE FUNCTION pr.locked() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(DISTINCT relation::regclass::text, ', ')
      FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation' AND relation IN
           ('pr.by_sym'::regclass, 'pr.by_sym_btc'::regclass, 'pr.by_sym_eth'::regclass,
            'pr.by_sym_rest'::regclass)
$$;
BEGIN;
UPDATE pr.marks SET mark_price = 30000.01 WHERE symbol = 'BTC';
SELECT pr.locked() AS crossing_nothing;
COMMIT;
BEGIN;
UPDATE pr.marks SET mark_price = 28000 WHERE symbol = 'BTC';
SELECT pr.locked() AS crossing;
COMMIT;
SELECT * FROM pr.diff;

-- SOL's positions, in the default partition; then ETH's, in the desk's partition:
-- through the partitioned table, as the book's owner has no rights on it.
UPDATE pr.marks SET mark_price = 93 WHERE symbol = 'SOL';
SELECT * FROM pr.diff;
UPDATE pr.marks SET mark_price = 1880 WHERE symbol = 'ETH';
SELECT * FROM pr.diff;
-- several instruments at once (the candidate search over the partitioned table),
-- crossing positions in three partitions, one of them the desk's
UPDATE pr.marks SET mark_price = CASE symbol WHEN 'BTC' THEN 27200 WHEN 'ETH' THEN 1820 ELSE 90 END;
SELECT * FROM pr.diff;

-- A partition renamed after its statements were prepared: they are prepared again
-- under the new name.
ALTER TABLE pr.by_sym_btc RENAME TO by_sym_bitcoin;
CREATE TABLE pr.by_sym_btc (id int);
UPDATE pr.marks SET mark_price = 26500 WHERE symbol = 'BTC';
SELECT * FROM pr.diff;
SELECT count(*) AS rows_in_the_decoy FROM pr.by_sym_btc;
-- an instrument change writes figures back per partition too
UPDATE pr.instruments SET mmr = 0.05 WHERE symbol IN ('BTC', 'SOL', 'ETH');
SELECT * FROM pr.diff;

SELECT isomargin.unenforce(t) FROM unnest(ARRAY['pr.flat', 'pr.by_sym']::regclass[]) t;
DROP SCHEMA pr CASCADE;
REVOKE USAGE ON SCHEMA isomargin FROM regress_isomargin_book;
DROP ROLE regress_isomargin_book, regress_isomargin_desk;
TRUNCATE isomargin.events RESTART IDENTITY;
