-- The marks trigger: a mark update flags the positions it crosses.  The
-- stored prices (rounded against the position) only choose candidates; the
-- exact maintenance check at the mark decides.
\set SHOW_CONTEXT never
TRUNCATE isomargin.events RESTART IDENTITY;
ALTER SEQUENCE isomargin.enforcement_id_seq RESTART;
CREATE TABLE instruments (symbol text PRIMARY KEY, kind isomargin.contract_kind NOT NULL DEFAULT 'linear',
                          contract_size numeric NOT NULL DEFAULT 1, mmr numeric NOT NULL,
                          fee_rate numeric NOT NULL DEFAULT 0);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO instruments (symbol, kind, contract_size, mmr) VALUES
    ('BTC', 'linear', 1, 0.004), ('ETH', 'linear', 1, 0.005), ('BTCUSD', 'inverse', 100, 0.005);
INSERT INTO marks VALUES ('BTC', 30000), ('ETH', 2000), ('BTCUSD', 40000);
SELECT isomargin.enforce('positions', 'marks', 'instruments') -> 'added_columns' AS added;
INSERT INTO positions VALUES (1, 'BTC', 1, 30000, 3000), (2, 'BTC', -2, 30000, 6000),
                             (3, 'ETH', 10, 2000, 2000), (4, 'BTCUSD', 100, 40000, 0.05),
                             (5, 'BTCUSD', -100, 40000, 0.05);
CREATE VIEW book AS
    SELECT id, size, status, margin_call_price AS mcp, liquidation_price AS lp, bankruptcy_price AS bp
      FROM positions ORDER BY id;
SELECT * FROM book WHERE id <= 2;

-- The long (id 1) as BTC falls.  Its stored margin-call price 27135.67839196
-- is rounded up from 27135.678391959798...: at the stored price itself the
-- exact check still says ok (MM 108.54271356784 < 0.8 * Q 108.542713568),
-- one unit lower it says margin_call.
UPDATE marks SET mark_price = 27135.67839196 WHERE symbol = 'BTC';
SELECT id, status FROM book WHERE id = 1;
UPDATE marks SET mark_price = 27135.67839195 WHERE symbol = 'BTC';
SELECT id, status FROM book WHERE id = 1;
-- Likewise at the stored liquidation price 27108.43373494 (exact
-- 27108.433734939759...): still margin_call there, liquidate one unit lower.
UPDATE marks SET mark_price = 27108.43373494 WHERE symbol = 'BTC';
SELECT id, status FROM book WHERE id = 1;
UPDATE marks SET mark_price = 27108.43373493 WHERE symbol = 'BTC';
SELECT id, status FROM book WHERE id = 1;
-- liquidate does not step down when the mark recovers ...
UPDATE marks SET mark_price = 30000 WHERE symbol = 'BTC';
SELECT id, status FROM book WHERE id = 1;
-- ... and escalates to bankrupt at the bankruptcy price (equity 0).
UPDATE marks SET mark_price = 27000 WHERE symbol = 'BTC';
SELECT id, status FROM book WHERE id = 1;

-- The short (id 2) as BTC rises: stored margin-call price 32835.82089552 is
-- rounded down from 32835.820895522...: ok there, margin_call one unit up;
-- margin_call returns to ok when the mark moves back.
UPDATE marks SET mark_price = 32835.82089552 WHERE symbol = 'BTC';
SELECT id, status FROM book WHERE id = 2;
UPDATE marks SET mark_price = 32835.82089553 WHERE symbol = 'BTC';
SELECT id, status FROM book WHERE id = 2;
UPDATE marks SET mark_price = 31000 WHERE symbol = 'BTC';
SELECT id, status FROM book WHERE id = 2;
-- One jump across every threshold: ok straight to bankrupt.
UPDATE marks SET mark_price = 33000 WHERE symbol = 'BTC';
SELECT id, status FROM book WHERE id <= 2;

-- Inverse contracts: the long (id 4, LP 33500, MCP 33541.66666667) and the
-- short (id 5, LP 49750, MCP 49687.5).
UPDATE marks SET mark_price = 33541.66666667 WHERE symbol = 'BTCUSD';
SELECT id, status FROM book WHERE id IN (4, 5);
UPDATE marks SET mark_price = 33500 WHERE symbol = 'BTCUSD';
SELECT id, status FROM book WHERE id IN (4, 5);
UPDATE marks SET mark_price = 49750 WHERE symbol = 'BTCUSD';
SELECT id, status FROM book WHERE id IN (4, 5);

-- One statement moving several instruments: one set-based pass.
UPDATE marks SET mark_price = CASE symbol WHEN 'ETH' THEN 1810 WHEN 'BTCUSD' THEN 40000 ELSE mark_price END;
SELECT id, status FROM book WHERE id IN (3, 4, 5);

-- The events, in order: position, old and new status, the mark, equity and
-- maintenance margin at that mark.
SELECT position_key, symbol, old_status, new_status, mark_price, equity, maintenance_margin
  FROM isomargin.events ORDER BY id;

-- A NULL mark is refused (23502), and so is a mark that is not a positive
-- finite price (22023); nothing changes.
UPDATE marks SET mark_price = NULL WHERE symbol = 'ETH';
SELECT mark_price FROM marks WHERE symbol = 'ETH';
SELECT id, status FROM book WHERE id = 3;
\set VERBOSITY sqlstate
UPDATE marks SET mark_price = 0 WHERE symbol = 'BTC';
UPDATE marks SET mark_price = 'NaN' WHERE symbol = 'BTC';
\set VERBOSITY default
UPDATE marks SET mark_price = -1 WHERE symbol = 'BTC';
UPDATE marks SET mark_price = 'Infinity' WHERE symbol = 'BTC';
SELECT symbol, mark_price FROM marks ORDER BY symbol;

SELECT isomargin.unenforce('positions');
DROP VIEW book;
DROP TABLE positions, marks, instruments;

-- Marks inserted one row per tick, and a symbol of an enum type: the last
-- row of a statement per symbol is the mark; a tick for an instrument with
-- no positions is recorded and harmless.
CREATE TYPE coin AS ENUM ('BTC', 'ETH', 'SOL');
CREATE TABLE instruments (symbol coin PRIMARY KEY, mmr numeric NOT NULL);
CREATE TABLE ticks (symbol coin NOT NULL, mark_price numeric NOT NULL, at timestamptz DEFAULT now());
CREATE TABLE positions (id int PRIMARY KEY, symbol coin NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO instruments VALUES ('BTC', 0.004), ('ETH', 0.004), ('SOL', 0.004);
SELECT isomargin.enforce('positions', 'ticks', 'instruments', '{"mark_time": "at"}') -> 'added_columns' AS added;
INSERT INTO positions VALUES (1, 'BTC', 1, 30000, 3000), (2, 'ETH', 1, 30000, 3000);
INSERT INTO ticks (symbol, mark_price) VALUES ('BTC', 30000), ('ETH', 30000), ('SOL', 100);
INSERT INTO ticks (symbol, mark_price) VALUES ('BTC', 27000), ('BTC', 29000), ('ETH', 29000), ('ETH', 27100);
SELECT id, symbol, status FROM positions ORDER BY id;
SELECT format('SELECT symbol, mark_price FROM %s ORDER BY symbol', state_table) AS q FROM isomargin.enforcement \gset
:q;
SELECT isomargin.unenforce('positions');
DROP TABLE positions, ticks, instruments;
DROP TYPE coin;
