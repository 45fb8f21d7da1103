-- bench/enforce_write_book.sql: the tables of bench/enforce_write_path.sh.
--
--   instruments   100 linear perpetuals S001..S100, flat mmr 0.004 and fee 0.0005 (the
--                 write-path note's book), mark 1000 * k for S<k>
--   positions     enforced (isomargin.enforce): the positions trigger computes the prices
--                 and status of every row written
--   twin          the same columns and the same indexes (primary key, symbol, the three
--                 partial price indexes), no trigger: its INSERT and UPDATE compute the
--                 prices and status with the SQL figure functions, joined to instruments
--                 and marks
--   marks_plain   a copy of marks without triggers (the pgbench baseline)
-- Positions: id, symbol S<1 + id % 100>, long or short 1..5 contracts at the mark, 5x to 20x
-- leverage: every threshold lies 4% or more from the mark, so the benchmark's mark moves
-- (0.05% at most) cross nothing.
CREATE TABLE instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL, fee_rate numeric NOT NULL);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric NOT NULL);
CREATE TABLE marks_plain (symbol text PRIMARY KEY, mark_price numeric NOT NULL);
CREATE TABLE positions (id bigint PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO instruments SELECT 'S' || lpad(k::text, 3, '0'), 0.004, 0.0005 FROM generate_series(1, 100) k;
INSERT INTO marks SELECT symbol, 1000 * substr(symbol, 2)::int FROM instruments;
INSERT INTO marks_plain SELECT * FROM marks;
SELECT isomargin.enforce('positions', 'marks', 'instruments') ->> 'id' AS attachment \gset
CREATE TABLE twin (LIKE positions INCLUDING ALL);
CREATE INDEX ON twin (symbol);
CREATE INDEX ON twin (symbol, margin_call_price) WHERE status < 'liquidate';
CREATE INDEX ON twin (symbol, liquidation_price) WHERE status = 'margin_call';
CREATE INDEX ON twin (symbol, bankruptcy_price) WHERE status = 'liquidate';

-- The rows both inserts write: :first .. :last.
CREATE VIEW new_positions AS
SELECT g AS id, 'S' || lpad((1 + g % 100)::text, 3, '0') AS symbol,
       CASE WHEN g % 2 = 0 THEN 1 ELSE -1 END * (1 + g % 5) AS size,
       1000 * (1 + g % 100) AS entry_price,
       round(1000 * (1 + g % 100) * (1 + g % 5) / (5 + g % 16)::numeric, 2) AS margin
  FROM generate_series(current_setting('bench.first')::bigint, current_setting('bench.last')::bigint) g;
