-- Partitioned positions tables (issue 15 item 5, doc/enforcement.md "Partitioned
-- positions tables"): a table partitioned by LIST (symbol) and one partitioned by
-- HASH (id) are enforced next to an ordinary twin holding the same positions,
-- against the same marks and instruments.  Every step below (inserts, marks
-- crossing positions in several partitions, a funding update, an instrument
-- change, a move between partitions, a fat finger and its recheck) leaves the
-- same prices, statuses and events in the three; partitions created or attached
-- later are enforced, a detached one leaves enforcement; what cannot be
-- supported is refused.
\set SHOW_CONTEXT never
TRUNCATE isomargin.events RESTART IDENTITY;
ALTER SEQUENCE isomargin.enforcement_id_seq RESTART;
CREATE SCHEMA pt;
CREATE TABLE pt.instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL, fee_rate numeric NOT NULL DEFAULT 0);
CREATE TABLE pt.marks (symbol text PRIMARY KEY, mark_price numeric);
INSERT INTO pt.instruments VALUES ('BTC', 0.004, 0.0005), ('ETH', 0.005, 0.0005), ('SOL', 0.01, 0), ('XRP', 0.01, 0);
INSERT INTO pt.marks VALUES ('BTC', 30000), ('ETH', 2000), ('SOL', 100), ('XRP', 1);

-- The twin, and the two partitioned tables.  by_sym has a dropped column before its
-- partitions exist, so its partitions hold the columns at other attnums than it.
CREATE TABLE pt.flat (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                      entry_price numeric NOT NULL, margin numeric NOT NULL);
CREATE TABLE pt.by_sym (gone int, id int, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL,
                        PRIMARY KEY (symbol, id)) PARTITION BY LIST (symbol);
ALTER TABLE pt.by_sym DROP COLUMN gone;
CREATE TABLE pt.by_sym_btc PARTITION OF pt.by_sym FOR VALUES IN ('BTC');
CREATE TABLE pt.by_sym_eth PARTITION OF pt.by_sym FOR VALUES IN ('ETH');
CREATE TABLE pt.by_id (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                       entry_price numeric NOT NULL, margin numeric NOT NULL) PARTITION BY HASH (id);
CREATE TABLE pt.by_id_0 PARTITION OF pt.by_id FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE TABLE pt.by_id_1 PARTITION OF pt.by_id FOR VALUES WITH (MODULUS 3, REMAINDER 1);
CREATE TABLE pt.by_id_2 PARTITION OF pt.by_id FOR VALUES WITH (MODULUS 3, REMAINDER 2);
SELECT a.attrelid::regclass AS rel, a.attnum FROM pg_attribute a
 WHERE a.attrelid IN ('pt.by_sym'::regclass, 'pt.by_sym_btc'::regclass) AND a.attname = 'size';

-- 40 positions, longs and shorts, 5x to 50x, BTC and ETH; half before enforce().
CREATE VIEW pt.book AS
SELECT g AS id, (ARRAY['BTC', 'ETH'])[1 + g % 2] AS symbol,
       (CASE WHEN g % 4 < 2 THEN 1 ELSE -1 END) * (1 + g % 3) AS size,
       CASE WHEN g % 2 = 0 THEN 30000 ELSE 2000 END AS entry_price,
       round((1 + g % 3) * CASE WHEN g % 2 = 0 THEN 30000 ELSE 2000 END / (5.0 + 5 * (g % 10)), 2) AS margin
  FROM generate_series(1, 40) g;
CREATE FUNCTION pt.load(lo int, hi int) RETURNS void LANGUAGE sql AS $$
    INSERT INTO pt.flat SELECT * FROM pt.book WHERE id BETWEEN lo AND hi;
    INSERT INTO pt.by_sym (id, symbol, size, entry_price, margin) SELECT * FROM pt.book WHERE id BETWEEN lo AND hi;
    INSERT INTO pt.by_id SELECT * FROM pt.book WHERE id BETWEEN lo AND hi;
$$;
SELECT pt.load(1, 20);
SELECT isomargin.enforce(t, 'pt.marks', 'pt.instruments') -> 'indexes' AS indexes
  FROM unnest(ARRAY['pt.flat', 'pt.by_sym', 'pt.by_id']::regclass[]) t;
SELECT pt.load(21, 40);

-- What differs from the twin: positions (prices, status, status_changed_at) and
-- events (all but id, table and key's other columns), each way.
CREATE FUNCTION pt.diff(t regclass) RETURNS TABLE (positions bigint, events bigint) LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
        WITH a AS (SELECT id, symbol, size, entry_price, margin, liquidation_price, margin_call_price,
                          bankruptcy_price, status, status_changed_at FROM pt.flat),
             b AS (SELECT id, symbol, size, entry_price, margin, liquidation_price, margin_call_price,
                          bankruptcy_price, status, status_changed_at FROM %s),
             ea AS (SELECT (position_key ->> 'id')::int AS id, symbol, old_status, new_status, mark_price,
                           equity, maintenance_margin, cause, size, entry_price, margin, liquidation_price,
                           margin_call_price, bankruptcy_price, actor, reason
                      FROM isomargin.events WHERE positions = 'pt.flat'::regclass),
             eb AS (SELECT (position_key ->> 'id')::int AS id, symbol, old_status, new_status, mark_price,
                           equity, maintenance_margin, cause, size, entry_price, margin, liquidation_price,
                           margin_call_price, bankruptcy_price, actor, reason
                      FROM isomargin.events WHERE positions = %L::regclass)
        SELECT (SELECT count(*) FROM ((TABLE a EXCEPT ALL TABLE b) UNION ALL (TABLE b EXCEPT ALL TABLE a)) x),
               (SELECT count(*) FROM ((TABLE ea EXCEPT ALL TABLE eb) UNION ALL (TABLE eb EXCEPT ALL TABLE ea)) y)$q$, t, t);
END $$;
CREATE VIEW pt.compare AS
SELECT t AS positions_table, d.*,
       (SELECT count(*) FROM isomargin.events e WHERE e.positions = t) AS events_of_table
  FROM unnest(ARRAY['pt.by_sym', 'pt.by_id']::regclass[]) t, pt.diff(t) d;
CREATE VIEW pt.statuses AS
SELECT status, count(*) FROM pt.flat GROUP BY status ORDER BY status;

-- 1. Prices and statuses at enforce() and on insert, the same.
SELECT * FROM pt.compare;
SELECT * FROM pt.statuses;
SELECT id, symbol, liquidation_price, margin_call_price, bankruptcy_price, status
  FROM pt.by_id WHERE id IN (9, 10, 19, 20) ORDER BY id;
-- the rows are where they belong, with the maintained columns at their attnums
SELECT tableoid::regclass AS partition, count(*), count(status) AS priced
  FROM pt.by_sym GROUP BY 1 ORDER BY 1;

-- 2. One mark statement crossing positions of both instruments, in every partition.
UPDATE pt.marks SET mark_price = CASE symbol WHEN 'BTC' THEN 28900 WHEN 'ETH' THEN 2090 ELSE mark_price END;
SELECT * FROM pt.compare;
SELECT * FROM pt.statuses;
SELECT tableoid::regclass AS partition, status, count(*) FROM pt.by_id
 WHERE status <> 'ok' GROUP BY 1, 2 ORDER BY 1, 2;
-- each event names the partitioned table, not a partition, and is notified as such
SELECT DISTINCT positions FROM isomargin.events ORDER BY 1;

-- 3. A funding update of every position, then an instrument change.  (The
-- statements on the three tables run in one transaction: status_changed_at, the
-- transaction's start, is compared too.)
BEGIN;
UPDATE pt.flat SET margin = margin - 5;
UPDATE pt.by_sym SET margin = margin - 5;
UPDATE pt.by_id SET margin = margin - 5;
COMMIT;
SELECT * FROM pt.compare;
UPDATE pt.instruments SET mmr = 0.02 WHERE symbol = 'ETH';
SELECT * FROM pt.compare;
SELECT * FROM pt.statuses;

-- 4. A position moved to another instrument: under LIST (symbol) its row moves to
-- another partition (an update, then an insert there); one event, as on the twin.
BEGIN;
UPDATE pt.flat SET symbol = 'ETH', entry_price = 2100, size = -1 WHERE id = 4;
UPDATE pt.by_sym SET symbol = 'ETH', entry_price = 2100, size = -1 WHERE id = 4;
UPDATE pt.by_id SET symbol = 'ETH', entry_price = 2100, size = -1 WHERE id = 4;
COMMIT;
SELECT tableoid::regclass AS partition, id, symbol, status FROM pt.by_sym WHERE id = 4;
SELECT positions, old_status, new_status, cause FROM isomargin.events
 WHERE position_key ->> 'id' = '4' ORDER BY id;
SELECT * FROM pt.compare;

-- 5. A fat finger and the operator's recheck, on the partitioned tables as on the twin.
UPDATE pt.marks SET mark_price = 1 WHERE symbol = 'BTC';
UPDATE pt.marks SET mark_price = 29500 WHERE symbol = 'BTC';
SELECT * FROM pt.statuses;
SELECT t AS positions_table, isomargin.recheck(t, 'BTC', 'bad tick') AS stepped_down
  FROM unnest(ARRAY['pt.flat', 'pt.by_sym', 'pt.by_id']::regclass[]) t;
SELECT * FROM pt.compare;
SELECT * FROM pt.statuses;

-- 6. verify on the parent.  A tid names a row within one partition only: after
-- VACUUM FULL both list partitions hold rows at (0,1) .. (0,n), so the row written
-- around the triggers in by_sym_btc shares its tid with a row of by_sym_eth; the
-- repair rewrites the first only (the second keeps its tid).
VACUUM FULL pt.by_sym;
SET session_replication_role = replica;
UPDATE pt.by_sym_btc SET liquidation_price = 1 WHERE id = 2;
UPDATE pt.by_sym SET margin = margin + 100 WHERE id = 1;
SET session_replication_role = origin;
CREATE TABLE pt.same_tid AS
SELECT p.tableoid::regclass AS partition, p.id, p.ctid AS t FROM pt.by_sym p
 WHERE p.ctid = (SELECT ctid FROM pt.by_sym_btc WHERE id = 2);
SELECT partition, id FROM pt.same_tid ORDER BY 1;
SELECT position_key, columns, repaired FROM isomargin.verify('pt.by_sym');
BEGIN;
SELECT position_key, columns, repaired FROM isomargin.verify('pt.by_sym', repair => true);
UPDATE pt.flat SET margin = margin + 100 WHERE id = 1;
UPDATE pt.by_id SET margin = margin + 100 WHERE id = 1;
COMMIT;
SELECT * FROM isomargin.verify('pt.by_sym');
SELECT s.partition, s.id, s.t = p.ctid AS same_tid_as_before
  FROM pt.same_tid s JOIN pt.by_sym p ON p.id = s.id AND p.tableoid = s.partition ORDER BY 1;
SELECT * FROM pt.compare;

-- The reports read the partitioned tables as the twin (position_key aside).
SELECT t AS positions_table,
       (SELECT count(*) FROM (
           (SELECT (s.position_key ->> 'id')::int, s.symbol, s.size, s.status, s.equity, s.shortfall
              FROM isomargin.shock(t, 'pt.marks', 'pt.instruments', -0.05) s
            EXCEPT ALL
            SELECT (s.position_key ->> 'id')::int, s.symbol, s.size, s.status, s.equity, s.shortfall
              FROM isomargin.shock('pt.flat', 'pt.marks', 'pt.instruments', -0.05) s)) x) AS shock_differ,
       (SELECT count(*) FROM (
           SELECT * FROM isomargin.liquidation_ladder(t, 'pt.marks', 'pt.instruments')
           EXCEPT ALL
           SELECT * FROM isomargin.liquidation_ladder('pt.flat', 'pt.marks', 'pt.instruments')) y) AS ladder_differ,
       (SELECT count(*) FROM isomargin.shock(t, 'pt.marks', 'pt.instruments', -0.05)) AS shocked,
       (SELECT count(*) FROM isomargin.liquidation_ladder(t, 'pt.marks', 'pt.instruments')) AS ladder_rows
  FROM unnest(ARRAY['pt.by_sym', 'pt.by_id']::regclass[]) t;

-- 7. Partitions made later.  CREATE TABLE ... PARTITION OF: its rows are enforced
-- as they come in.
CREATE TABLE pt.by_sym_sol PARTITION OF pt.by_sym FOR VALUES IN ('SOL');
BEGIN;
INSERT INTO pt.flat VALUES (41, 'SOL', 10, 100, 25), (42, 'SOL', -10, 100, 12);
INSERT INTO pt.by_sym (id, symbol, size, entry_price, margin) VALUES (41, 'SOL', 10, 100, 25), (42, 'SOL', -10, 100, 12);
INSERT INTO pt.by_id VALUES (41, 'SOL', 10, 100, 25), (42, 'SOL', -10, 100, 12);
COMMIT;
-- ATTACH PARTITION of a table holding positions (another column order, stale
-- figures): they are computed when it is attached, as enforce() computes a table.
CREATE TABLE pt.xrp (size numeric NOT NULL, symbol text NOT NULL, id int NOT NULL,
                     entry_price numeric NOT NULL, margin numeric NOT NULL,
                     liquidation_price numeric, margin_call_price numeric, bankruptcy_price numeric,
                     status isomargin.margin_status, status_changed_at timestamptz);
INSERT INTO pt.xrp (id, symbol, size, entry_price, margin, liquidation_price, status)
VALUES (43, 'XRP', 1000, 1, 100, 7, NULL), (44, 'XRP', -1000, 1, 200, NULL, NULL);
BEGIN;
ALTER TABLE pt.by_sym ATTACH PARTITION pt.xrp FOR VALUES IN ('XRP');
INSERT INTO pt.flat VALUES (43, 'XRP', 1000, 1, 100), (44, 'XRP', -1000, 1, 200);
INSERT INTO pt.by_id VALUES (43, 'XRP', 1000, 1, 100), (44, 'XRP', -1000, 1, 200);
COMMIT;
SELECT tableoid::regclass AS partition, id, liquidation_price, margin_call_price, bankruptcy_price, status
  FROM pt.by_sym WHERE id > 40 ORDER BY id;
-- marks crossing positions of both new partitions
UPDATE pt.marks SET mark_price = CASE symbol WHEN 'SOL' THEN 91 WHEN 'XRP' THEN 1.21 ELSE mark_price END;
SELECT (position_key ->> 'id')::int AS id, positions, old_status, new_status, cause
  FROM isomargin.events WHERE (position_key ->> 'id')::int > 40 ORDER BY 1, 2;
SELECT * FROM pt.compare;

-- 8. DETACH PARTITION: the detached table leaves enforcement (its copies of the
-- triggers go with it; its rows keep what they had), the parent stays consistent.
ALTER TABLE pt.by_id DETACH PARTITION pt.by_id_2;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'pt.by_id_2'::regclass;
SELECT count(*) AS detached_rows, count(*) FILTER (WHERE status <> 'ok') AS flagged FROM pt.by_id_2;
UPDATE pt.marks SET mark_price = 28700 WHERE symbol = 'BTC';
SELECT count(*) FILTER (WHERE status <> 'ok') AS flagged FROM pt.by_id_2;
SELECT * FROM isomargin.verify('pt.by_id');
-- attached again, its rows are checked at the current mark: the statuses of the
-- twin (the flags the marks raised meanwhile come as cause enforce)
ALTER TABLE pt.by_id ATTACH PARTITION pt.by_id_2 FOR VALUES WITH (MODULUS 3, REMAINDER 2);
SELECT count(*) AS differ FROM pt.flat f JOIN pt.by_id b USING (id)
 WHERE (f.liquidation_price, f.margin_call_price, f.bankruptcy_price, f.status)
       IS DISTINCT FROM (b.liquidation_price, b.margin_call_price, b.bankruptcy_price, b.status);
SELECT * FROM isomargin.verify('pt.by_id');

-- 9. Refused: enforcing a partition of an enforced table, or a partitioned table
-- with an enforced partition; attaching an enforced table; a BEFORE ROW trigger
-- on a partition that fires after isomargin's.
SELECT isomargin.enforce('pt.by_sym_btc', 'pt.marks', 'pt.instruments');
CREATE TABLE pt.lone (id int, symbol text NOT NULL, size numeric NOT NULL,
                      entry_price numeric NOT NULL, margin numeric NOT NULL, PRIMARY KEY (symbol, id));
INSERT INTO pt.instruments VALUES ('ADA', 0.01, 0);
SELECT isomargin.enforce('pt.lone', 'pt.marks', 'pt.instruments') ->> 'id' AS id;
ALTER TABLE pt.by_sym ATTACH PARTITION pt.lone FOR VALUES IN ('ADA');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE pt.outer_book (LIKE pt.lone) PARTITION BY LIST (symbol);
ALTER TABLE pt.outer_book ADD PRIMARY KEY (symbol, id);
ALTER TABLE pt.outer_book ATTACH PARTITION pt.lone FOR VALUES IN ('ADA');
SELECT isomargin.enforce('pt.outer_book', 'pt.marks', 'pt.instruments');
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION pt.cut_margin() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.margin := NEW.margin / 10; RETURN NEW; END $$;
CREATE TRIGGER zz_cut BEFORE INSERT OR UPDATE ON pt.by_sym_eth FOR EACH ROW EXECUTE FUNCTION pt.cut_margin();
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE pt.by_sym_eth DISABLE TRIGGER isomargin_2_positions;
ALTER TABLE pt.by_sym_eth ENABLE TRIGGER isomargin_2_positions;

-- 10. A partitioned instruments table: its row trigger fires on a partition, whose
-- columns lie elsewhere too; an instrument change re-prices its positions.
CREATE TABLE pt.ins_p (gone int, symbol text PRIMARY KEY, mmr numeric NOT NULL) PARTITION BY LIST (symbol);
ALTER TABLE pt.ins_p DROP COLUMN gone;
CREATE TABLE pt.ins_p_btc PARTITION OF pt.ins_p FOR VALUES IN ('BTC');
CREATE TABLE pt.ins_p_eth PARTITION OF pt.ins_p FOR VALUES IN ('ETH');
INSERT INTO pt.ins_p VALUES ('BTC', 0.004), ('ETH', 0.005);
CREATE TABLE pt.small (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                       entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO pt.small VALUES (1, 'BTC', 1, 30000, 3000), (2, 'ETH', 1, 2000, 100);
SELECT isomargin.enforce('pt.small', 'pt.marks', 'pt.ins_p') ->> 'id' AS id;
UPDATE pt.ins_p SET mmr = 0.01 WHERE symbol = 'ETH';
SELECT id, liquidation_price, status,
       liquidation_price = isomargin.liquidation_price(size, entry_price, margin, mmr => 0.01) AS at_new_mmr
  FROM pt.small WHERE id = 2;
SELECT isomargin.unenforce('pt.small');

-- 11. unenforce drops what enforce created, on the partitions too.
SELECT isomargin.unenforce(t) FROM unnest(ARRAY['pt.flat', 'pt.by_sym', 'pt.by_id', 'pt.lone']::regclass[]) t;
SELECT count(*) AS triggers_left FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 'pt'::regnamespace AND t.tgname LIKE 'isomargin%';
SELECT count(*) AS indexes_left FROM pg_class c
 WHERE c.relnamespace = 'pt'::regnamespace AND c.relkind IN ('i', 'I')
   AND c.relname ~ '(isomargin|_price_idx|symbol_idx)';
DROP SCHEMA pt CASCADE;
TRUNCATE isomargin.events RESTART IDENTITY;
