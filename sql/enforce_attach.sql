-- isomargin.enforce / isomargin.unenforce: what attaching creates, the column
-- mapping, every validation error (22023), and what detaching leaves.
\set SHOW_CONTEXT never
TRUNCATE isomargin.events RESTART IDENTITY;
ALTER SEQUENCE isomargin.enforcement_id_seq RESTART;
CREATE TABLE instruments (symbol text PRIMARY KEY, kind isomargin.contract_kind NOT NULL DEFAULT 'linear',
                          contract_size numeric NOT NULL DEFAULT 1, mmr numeric NOT NULL,
                          fee_rate numeric NOT NULL DEFAULT 0);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE positions (id bigint PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO instruments (symbol, mmr) VALUES ('BTC', 0.004);
INSERT INTO marks VALUES ('BTC', 30000);
INSERT INTO positions VALUES (1, 'BTC', 1, 30000, 3000), (2, 'BTC', -2, 30000, 6000);

-- Attaching adds the maintained columns, one state table, four indexes and
-- four triggers, and computes every existing position at the current mark.
SELECT isomargin.enforce('positions', 'marks', 'instruments') - 'id' - 'state_table' AS created;
SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_attribute a WHERE a.attrelid = 'positions'::regclass AND a.attnum > 0 ORDER BY a.attnum;
SELECT c.relname, pg_get_indexdef(i.indexrelid) AS def
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = 'positions'::regclass AND c.relname LIKE 'isomargin%'
 ORDER BY 1;
SELECT t.tgrelid::regclass AS "table", regexp_replace(pg_get_triggerdef(t.oid), 'isomargin_[0-9]+_', 'isomargin_N_', 'g') AS def
  FROM pg_trigger t WHERE t.tgname LIKE 'isomargin%' ORDER BY 1, 2;
SELECT e.positions, e.marks, e.instruments, e.columns, e.margin_call_ratio,
       e.state_table::text LIKE 'isomargin.enforce_state_%' AS state_named
  FROM isomargin.enforcement e;
SELECT id, liquidation_price, margin_call_price, bankruptcy_price, status,
       status_changed_at IS NOT NULL AS changed_at_set
  FROM positions ORDER BY id;
-- the state table holds the current mark per instrument
SELECT format('SELECT symbol, mark_price FROM %s', state_table) AS q FROM isomargin.enforcement \gset
:q;

-- The same tables cannot be attached twice.
SELECT isomargin.enforce('positions', 'marks', 'instruments');

-- Detaching removes triggers, indexes and the state table; the columns and
-- their values stay, and so do the events.
SELECT isomargin.unenforce('positions');
SELECT count(*) AS triggers FROM pg_trigger WHERE tgname LIKE 'isomargin%';
SELECT count(*) AS indexes FROM pg_class WHERE relname LIKE 'isomargin\_%' AND relkind = 'i';
SELECT count(*) AS state_tables FROM pg_class WHERE relnamespace = 'isomargin'::regnamespace AND relname LIKE 'enforce_state%';
SELECT count(*) AS attachments FROM isomargin.enforcement;
SELECT id, liquidation_price, status FROM positions ORDER BY id;
SELECT isomargin.unenforce('positions');

-- Re-attaching to columns that exist adds nothing and keeps sticky statuses:
-- a position flagged liquidate stays liquidate though the mark recovered.
UPDATE positions SET status = 'liquidate' WHERE id = 1;
SELECT isomargin.enforce('positions', 'marks', 'instruments') -> 'added_columns' AS added;
SELECT id, status FROM positions ORDER BY id;
SELECT isomargin.unenforce('positions');
DROP TABLE positions, marks, instruments;

-- Mapped names: other column names, an integer symbol named differently in
-- each table, marks inserted one per tick (the latest by mark_time is the
-- current mark), instruments without kind, contract_size or fee_rate; an
-- instrument without a mark yet gets its state row too (mark NULL).
CREATE TABLE inst (code int4 PRIMARY KEY, maint numeric NOT NULL);
CREATE TABLE ticks (instrument int4 NOT NULL, px numeric NOT NULL, at timestamptz NOT NULL);
CREATE TABLE book ("Position Id" int4 PRIMARY KEY, instr int4 NOT NULL, qty int8 NOT NULL,
                   avg_px numeric NOT NULL, collateral numeric NOT NULL);
INSERT INTO inst VALUES (7, 0.004), (8, 0.005);
INSERT INTO ticks VALUES (7, 31000, '2026-01-01 00:00:00+00'), (7, 27120, '2026-01-01 00:00:02+00'),
                         (7, 30000, '2026-01-01 00:00:01+00');
INSERT INTO book VALUES (1, 7, 1, 30000, 3000);
SELECT isomargin.enforce('book', 'ticks', 'inst',
       '{"positions.symbol": "instr", "marks.symbol": "instrument", "instruments.symbol": "code",
         "size": "qty", "entry_price": "avg_px", "margin": "collateral", "mark_price": "px",
         "mark_time": "at", "mmr": "maint", "status": "risk", "liquidation_price": "liq"}') -> 'added_columns' AS added;
SELECT "Position Id", liq, margin_call_price, risk FROM book;
SELECT columns FROM isomargin.enforcement;
SELECT format('SELECT symbol, mark_price FROM %s ORDER BY symbol', state_table) AS q FROM isomargin.enforcement \gset
:q;
INSERT INTO ticks VALUES (7, 27100, now());
SELECT "Position Id", risk FROM book;
SELECT position_key, symbol, old_status, new_status, mark_price FROM isomargin.events
 WHERE positions = 'book'::regclass ORDER BY id;
SELECT isomargin.unenforce('book');
DROP TABLE book, ticks, inst;

-- Validation: every error names what is wrong (SQLSTATE 22023).
CREATE TABLE instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL, fee_rate text);
CREATE TABLE marks (symbol text, mark_price numeric);
CREATE TABLE positions (id int PRIMARY KEY, symbol text, size numeric, entry_price numeric, margin numeric);
\set VERBOSITY sqlstate
SELECT isomargin.enforce(NULL, 'marks', 'instruments');
SELECT isomargin.enforce('positions', 'marks', 'instruments', '[]');
SELECT isomargin.enforce('positions', 'positions', 'instruments');
SELECT isomargin.enforce('positions', 'marks', 'instruments', '{"price": "x"}');
SELECT isomargin.enforce('positions', 'marks', 'instruments', '{"mark_price": 1}');
SELECT isomargin.enforce('positions', 'marks', 'instruments', '{"mmr": "a", "tiers": "b"}');
\set VERBOSITY default
SELECT isomargin.enforce('positions', 'marks', 'instruments', '{"price": "x"}');
SELECT isomargin.enforce('positions', 'marks', 'instruments');
ALTER TABLE instruments DROP COLUMN fee_rate;
SELECT isomargin.enforce('positions', 'marks', 'instruments', '{"fee_rate": "fee"}');
SELECT isomargin.enforce('positions', 'marks', 'instruments', '{"size": "qty"}');
SELECT isomargin.enforce('positions', 'marks', 'instruments', '{"mmr": "maint"}');
ALTER TABLE positions ADD COLUMN status text;
SELECT isomargin.enforce('positions', 'marks', 'instruments');
ALTER TABLE positions DROP COLUMN status;
ALTER TABLE marks ALTER COLUMN symbol TYPE varchar;
SELECT isomargin.enforce('positions', 'marks', 'instruments');
ALTER TABLE marks ALTER COLUMN symbol TYPE text;
CREATE TABLE nopk (symbol text, size numeric, entry_price numeric, margin numeric);
SELECT isomargin.enforce('nopk', 'marks', 'instruments');
CREATE TABLE inst2 (symbol text, mmr numeric);
SELECT isomargin.enforce('positions', 'marks', 'inst2');
CREATE TABLE part (id int, symbol text, size numeric, entry_price numeric, margin numeric) PARTITION BY RANGE (id);
SELECT isomargin.enforce('part', 'marks', 'instruments');
INSERT INTO marks VALUES ('BTC', 30000), ('BTC', 30100);
SELECT isomargin.enforce('positions', 'marks', 'instruments');
DELETE FROM marks;
INSERT INTO marks VALUES ('BTC', 'NaN');
SELECT isomargin.enforce('positions', 'marks', 'instruments');
SELECT isomargin.unenforce('positions');
-- nothing was left behind by the failed attempts
SELECT count(*) AS attachments FROM isomargin.enforcement;
SELECT a.attname FROM pg_attribute a
 WHERE a.attrelid = 'positions'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum;
DROP TABLE positions, marks, instruments, nopk, inst2, part;
