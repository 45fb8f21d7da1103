-- The instruments trigger: changing an instrument's maintenance rate, fee,
-- contract size or kind recomputes every one of its positions at the
-- current mark; bad parameters are refused (22023).
\set SHOW_CONTEXT never
TRUNCATE isomargin.events RESTART IDENTITY;
ALTER SEQUENCE isomargin.enforcement_id_seq RESTART;
CREATE TABLE instruments (symbol text PRIMARY KEY, kind isomargin.contract_kind NOT NULL DEFAULT 'linear',
                          contract_size numeric NOT NULL DEFAULT 1, mmr numeric NOT NULL,
                          fee_rate numeric NOT NULL DEFAULT 0, name text);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO instruments (symbol, mmr) VALUES ('BTC', 0.004), ('ETH', 0.005);
INSERT INTO marks VALUES ('BTC', 28000), ('ETH', 2500);
SELECT isomargin.enforce('positions', 'marks', 'instruments') -> 'added_columns' AS added;
INSERT INTO positions VALUES (1, 'BTC', 1, 30000, 3000), (2, 'BTC', -2, 30000, 6000), (3, 'ETH', 1, 2500, 250);
SELECT id, status, liquidation_price, margin_call_price, bankruptcy_price FROM positions ORDER BY id;

-- A higher maintenance rate: new prices for BTC's positions only, and the
-- long (Q = 1000 at 28000) is now in margin call: MM = 28000 * 0.03 = 840.
UPDATE instruments SET mmr = 0.03 WHERE symbol = 'BTC';
SELECT id, status, liquidation_price, margin_call_price, bankruptcy_price FROM positions ORDER BY id;
-- A closing fee on top: MM = 28000 * (0.03 + 0.006) = 1008 >= Q: liquidate.
UPDATE instruments SET fee_rate = 0.006 WHERE symbol = 'BTC';
SELECT id, status, liquidation_price FROM positions ORDER BY id;
-- Lowering the rate again recomputes the prices, but liquidate stays (an
-- instrument change is not a change of the position).
UPDATE instruments SET mmr = 0.004, fee_rate = 0 WHERE symbol = 'BTC';
SELECT id, status, liquidation_price FROM positions ORDER BY id;
-- Contract size and kind are parameters too.
UPDATE instruments SET contract_size = 10 WHERE symbol = 'ETH';
SELECT id, status, liquidation_price, bankruptcy_price FROM positions WHERE id = 3;
UPDATE instruments SET kind = 'inverse', contract_size = 100 WHERE symbol = 'ETH';
SELECT id, status, liquidation_price, bankruptcy_price FROM positions WHERE id = 3;
-- Columns enforcement does not read change nothing (no recompute, no event).
UPDATE instruments SET name = 'Bitcoin' WHERE symbol = 'BTC';
SELECT position_key, old_status, new_status, mark_price, equity, maintenance_margin
  FROM isomargin.events ORDER BY id;

-- Bad parameters are refused, on update and on insert; nothing changes.
\set VERBOSITY sqlstate
UPDATE instruments SET mmr = 1 WHERE symbol = 'BTC';
UPDATE instruments SET mmr = -0.01 WHERE symbol = 'BTC';
UPDATE instruments SET fee_rate = -0.001 WHERE symbol = 'BTC';
UPDATE instruments SET contract_size = 0 WHERE symbol = 'BTC';
UPDATE instruments SET mmr = 0.5, fee_rate = 0.5 WHERE symbol = 'BTC';
UPDATE instruments SET mmr = 0.79, fee_rate = 0.01 WHERE symbol = 'BTC';
UPDATE instruments SET mmr = 'NaN' WHERE symbol = 'BTC';
INSERT INTO instruments (symbol, mmr) VALUES ('SOL', 2);
UPDATE instruments SET symbol = 'XBT' WHERE symbol = 'BTC';
\set VERBOSITY default
UPDATE instruments SET mmr = 1 WHERE symbol = 'BTC';
UPDATE instruments SET contract_size = 0 WHERE symbol = 'BTC';
UPDATE instruments SET mmr = 0.5, fee_rate = 0.5 WHERE symbol = 'BTC';
UPDATE instruments SET mmr = 0.79, fee_rate = 0.01 WHERE symbol = 'BTC';
UPDATE instruments SET symbol = 'XBT' WHERE symbol = 'BTC';
SELECT symbol, kind, contract_size, mmr, fee_rate FROM instruments ORDER BY symbol;

SELECT isomargin.unenforce('positions');
DROP TABLE positions, marks, instruments;
