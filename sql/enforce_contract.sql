-- The attachment contract (src/enforce_contract.c), one for enforce(), the
-- triggers and the reports: the same mapping gives the same columns and the
-- same error, whoever reads it; the reports over an enforced book take the
-- mark enforcement checked the positions against.
\set ECHO none
\i test/lib/try.sql
\set ECHO all
-- the message alone
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE sql RETURN split_part(pg_temp.try(q), ' | ', 1);

CREATE TABLE instruments (symbol text PRIMARY KEY, kind text, mmr numeric NOT NULL, price_band numeric);
CREATE TABLE marks (symbol text, mark_price numeric, at timestamptz);
CREATE TABLE positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
CREATE TABLE bad_types (id int PRIMARY KEY, symbol text, size float8, entry_price numeric,
                        margin numeric, status text);
INSERT INTO instruments VALUES ('BTC', 'linear', 0.004, NULL), ('INV', 'inverse', 0.005, NULL);
INSERT INTO marks VALUES ('BTC', 30000, '2026-01-01 00:00:00+00'), ('INV', 40000, '2026-01-01 00:00:00+00');
INSERT INTO positions VALUES (1, 'BTC', 1, 30000, 3000), (2, 'INV', 100, 40000, 0.05);
CREATE VIEW positions_view AS SELECT * FROM positions;

-- The same broken mapping or table, to enforce() and to a report: one message
-- each.  What differs is what each accepts: a report reads a view (12).
CREATE TEMP TABLE cases (n int, tables text, cols text);
INSERT INTO cases VALUES
    (1, $$'positions', 'marks', 'instruments'$$, '[]'),
    (2, $$'positions', 'marks', 'instruments'$$, '{"price": "px"}'),
    (3, $$'positions', 'marks', 'instruments'$$, '{"size": 1}'),
    (4, $$'positions', 'marks', 'instruments'$$, '{"mmr": "mmr", "tiers": "t"}'),
    (5, $$'positions', 'marks', 'instruments'$$, '{"margin": "collateral"}'),
    (6, $$'positions', 'marks', 'instruments'$$, '{"mark_time": "ts"}'),
    (7, $$'positions', 'marks', 'instruments'$$, '{"mmr": "kind"}'),
    (8, $$'positions', 'marks', 'instruments'$$, '{"kind": "mmr"}'),
    (9, $$'positions', 'marks', 'instruments'$$, '{"mark_time": "mark_price", "fee_rate": "missing"}'),
    (10, $$'bad_types', 'marks', 'instruments'$$, '{}'),
    (11, $$'positions', 'marks', 'instruments'$$, '{"instruments.symbol": "mmr"}'),
    (12, $$'positions_view', 'marks', 'instruments'$$, '{}'),
    (13, $$'positions', 'marks', 'instruments'$$, '{"tiers": "mmr"}');
SELECT n,
       pg_temp.err(format('SELECT isomargin.enforce(%s, %L)', tables, cols)) AS enforce,
       pg_temp.err(format('SELECT * FROM isomargin.shock(%s, -0.1, %L)', tables, cols)) AS shock
  FROM cases ORDER BY n;

-- What the contract resolves for that book: a text kind, a price_band column
-- found by its name, mark_time mapped; the SQL the reports run.
SELECT jsonb_pretty(c - 'current_marks') AS contract, c ->> 'current_marks' AS current_marks
  FROM isomargin._attachment_contract('positions', 'marks', 'instruments', '{"mark_time": "at"}', 'report') c;
-- Without a kind column enforce() says every instrument is linear.
SELECT (isomargin._attachment_contract('positions', 'marks', 'instruments', '{"mark_time": "at"}', 'enforce')) -> 'notes' AS with_kind;
ALTER TABLE instruments RENAME kind TO contract_type;
SELECT (isomargin._attachment_contract('positions', 'marks', 'instruments', '{"mark_time": "at"}', 'enforce')) -> 'notes' AS without_kind;
ALTER TABLE instruments RENAME contract_type TO kind;
SELECT pg_temp.err($$SELECT isomargin._attachment_contract('positions', 'marks', 'instruments', '{}', 'other')$$);

-- A text kind reads as the enum, in the triggers as in the reports: the
-- inverse position's prices are the inverse formula's: 0.05 + 100 (1/40000 - 1/P)
-- = 100 * 0.005 / P at P = 100.5 / 0.0525 = 1914.285714285..., rounded up
-- (the linear formula would put it above 40000).
SELECT isomargin.enforce('positions', 'marks', 'instruments', '{"mark_time": "at"}') -> 'notes' AS notes;
SELECT id, liquidation_price, status FROM positions ORDER BY id;
SELECT symbol, mark_price FROM isomargin.shock('positions', 'marks', 'instruments', -0.5) ORDER BY 1;
SELECT pg_temp.err($$UPDATE instruments SET kind = 'Inverse' WHERE symbol = 'INV'$$) AS bad_kind_enforced;
BEGIN;
ALTER TABLE instruments DISABLE TRIGGER USER;
UPDATE instruments SET kind = 'Inverse' WHERE symbol = 'INV';
SELECT pg_temp.err($$SELECT * FROM isomargin.shock('positions', 'marks', 'instruments', -0.5)$$) AS bad_kind_report;
ROLLBACK;

-- The current mark: two ticks with the same mark_time in one statement; the
-- last written is the mark the positions are checked against, and the one
-- the report over the enforced book uses.
INSERT INTO marks VALUES ('BTC', 27100, '2026-01-01 00:00:01+00'), ('BTC', 29000, '2026-01-01 00:00:01+00');
SELECT id, status FROM positions ORDER BY id;
SELECT DISTINCT symbol, mark_price FROM isomargin.liquidation_ladder('positions', 'marks', 'instruments', 0.01, 1)
 ORDER BY 1;
-- The same tables, not enforced: the report reads the marks table.
SELECT isomargin.unenforce('positions');
DELETE FROM marks WHERE mark_price = 27100;
SELECT DISTINCT symbol, mark_price FROM isomargin.liquidation_ladder('positions', 'marks', 'instruments', 0.01, 1,
                                                                      '{"mark_time": "at"}')
 ORDER BY 1;

DROP VIEW positions_view;
DROP TABLE positions, marks, instruments, bad_types;
