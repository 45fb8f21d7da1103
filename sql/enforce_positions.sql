-- The positions trigger: inserting or changing a position recomputes its
-- stored prices and checks it at the current mark at once.
\set SHOW_CONTEXT never
TRUNCATE isomargin.events RESTART IDENTITY;
ALTER SEQUENCE isomargin.enforcement_id_seq RESTART;
CREATE TABLE instruments (symbol text PRIMARY KEY, kind isomargin.contract_kind NOT NULL,
                          contract_size numeric NOT NULL, mmr numeric NOT NULL, fee_rate numeric NOT NULL);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE positions (id int PRIMARY KEY, symbol text, size numeric, entry_price numeric, margin numeric,
                        note text);
INSERT INTO instruments VALUES ('BTCUSDT', 'linear', 1, 0.004, 0), ('ETHUSDT', 'linear', 1, 0.005, 0.0006),
                               ('BTCUSD', 'inverse', 100, 0.005, 0), ('XRPUSDT', 'linear', 1, 0.01, 0),
                               ('NEW', 'linear', 1, 0.004, 0);
INSERT INTO marks VALUES ('BTCUSDT', 30000), ('ETHUSDT', 2500.25), ('BTCUSD', 40000), ('XRPUSDT', 100);
SELECT isomargin.enforce('positions', 'marks', 'instruments') -> 'added_columns' AS added;

-- The worked examples of the reference, digit for digit, and equal to the
-- SQL functions' figures (margin-call ratio 0.8).
INSERT INTO positions (id, symbol, size, entry_price, margin) VALUES
    (1, 'BTCUSDT', 1, 30000, 3000), (2, 'BTCUSDT', -2, 30000, 6000), (3, 'ETHUSDT', 0.5, 2500.25, 250),
    (4, 'BTCUSD', 100, 40000, 0.05), (5, 'BTCUSD', -100, 40000, 0.05), (6, 'XRPUSDT', 1, 100, 150);
SELECT p.id, p.liquidation_price, p.margin_call_price, p.bankruptcy_price, p.status,
       p.liquidation_price IS NOT DISTINCT FROM
           isomargin.liquidation_price(p.size, p.entry_price, p.margin, i.mmr, i.contract_size, i.kind, i.fee_rate)
       AND p.margin_call_price IS NOT DISTINCT FROM
           isomargin.margin_call_price(p.size, p.entry_price, p.margin, i.mmr, i.contract_size, i.kind, i.fee_rate)
       AND p.bankruptcy_price IS NOT DISTINCT FROM
           isomargin.bankruptcy_price(p.size, p.entry_price, p.margin, i.contract_size, i.kind) AS same_as_sql
  FROM positions p JOIN instruments i USING (symbol) ORDER BY p.id;
SELECT count(*) AS events FROM isomargin.events;

-- An insert already under water is flagged on insert, with one event each
-- (old_status NULL): margin call, liquidation, bankruptcy.
INSERT INTO positions (id, symbol, size, entry_price, margin) VALUES
    (10, 'BTCUSDT', 1, 32864.33, 3000),   -- Q = 135.67, MM = 120, c*Q = 108.536
    (11, 'BTCUSDT', 1, 32880, 3000),      -- Q = 120 <= MM = 120
    (12, 'BTCUSDT', 1, 33000, 3000);      -- Q = 0
SELECT id, status, liquidation_price FROM positions WHERE id >= 10 ORDER BY id;
SELECT position_key, symbol, old_status, new_status, mark_price, equity, maintenance_margin
  FROM isomargin.events ORDER BY id;

-- Changing the margin (or size, or entry) recomputes and re-checks: adding
-- margin takes a liquidating position back to ok, with an event.
UPDATE positions SET margin = 3200 WHERE id = 11;
SELECT id, status, liquidation_price, margin_call_price FROM positions WHERE id = 11;
-- Closing it (size 0): no prices, ok.
UPDATE positions SET size = 0 WHERE id = 12;
SELECT id, status, liquidation_price, margin_call_price, bankruptcy_price FROM positions WHERE id = 12;
SELECT position_key, old_status, new_status, equity FROM isomargin.events WHERE id > 3 ORDER BY id;

-- liquidate is sticky: a mark recovery does not clear it, nor does a write of
-- a maintained column (its value is recomputed) ...
UPDATE marks SET mark_price = 27000.5 WHERE symbol = 'BTCUSDT';
SELECT id, status FROM positions WHERE symbol = 'BTCUSDT' ORDER BY id;
UPDATE marks SET mark_price = 30000 WHERE symbol = 'BTCUSDT';
UPDATE positions SET liquidation_price = 1, status_changed_at = NULL WHERE id = 1;
SELECT id, status, liquidation_price, status_changed_at IS NOT NULL AS changed_at_kept
  FROM positions WHERE id = 1;
-- ... nor an update of a column enforcement does not read.
UPDATE positions SET note = 'reviewed' WHERE id = 1;
SELECT id, status FROM positions WHERE id = 1;
-- An explicit status write is an operator's reset: the check at the mark decides.
UPDATE positions SET status = 'ok' WHERE id = 1;
SELECT id, status FROM positions WHERE id = 1;
-- Writing a false status is corrected at once (and is no change: no event).
UPDATE positions SET status = 'bankrupt' WHERE id = 2;
SELECT id, status FROM positions WHERE id = 2;
SELECT position_key, old_status, new_status, mark_price FROM isomargin.events WHERE id > 5 ORDER BY id;

-- Moving a position to another instrument checks it there.
UPDATE positions SET symbol = 'ETHUSDT', entry_price = 2500.25, margin = 1 WHERE id = 2;
SELECT id, symbol, status, liquidation_price FROM positions WHERE id = 2;

-- An instrument without a mark yet: prices, status ok, no event; its first
-- mark checks every position (there is no previous mark to bound the search).
INSERT INTO positions (id, symbol, size, entry_price, margin) VALUES (20, 'NEW', 1, 30000, 3000),
                                                                     (21, 'NEW', -1, 30000, 3000);
SELECT id, status, liquidation_price FROM positions WHERE id >= 20 ORDER BY id;
INSERT INTO marks VALUES ('NEW', 27100);
SELECT id, status FROM positions WHERE id >= 20 ORDER BY id;

-- Bad rows: a message naming the column (23502 for NULL, 22023 for values),
-- 23503 for an instrument that does not exist; nothing is written.
\set VERBOSITY sqlstate
INSERT INTO positions (id, symbol, size, entry_price, margin) VALUES (30, 'BTCUSDT', NULL, 30000, 3000);
INSERT INTO positions (id, symbol, size, entry_price, margin) VALUES (30, NULL, 1, 30000, 3000);
INSERT INTO positions (id, symbol, size, entry_price, margin) VALUES (30, 'BTCUSDT', 1, 0, 3000);
INSERT INTO positions (id, symbol, size, entry_price, margin) VALUES (30, 'BTCUSDT', 1, 30000, -1);
INSERT INTO positions (id, symbol, size, entry_price, margin) VALUES (30, 'BTCUSDT', 'NaN', 30000, 1);
INSERT INTO positions (id, symbol, size, entry_price, margin) VALUES (30, 'DOGE', 1, 30000, 3000);
\set VERBOSITY default
INSERT INTO positions (id, symbol, size, entry_price, margin) VALUES (30, 'BTCUSDT', NULL, 30000, 3000);
INSERT INTO positions (id, symbol, size, entry_price, margin) VALUES (30, NULL, 1, 30000, 3000);
INSERT INTO positions (id, symbol, size, entry_price, margin) VALUES (30, 'BTCUSDT', 1, 0, 3000);
INSERT INTO positions (id, symbol, size, entry_price, margin) VALUES (30, 'BTCUSDT', 1, 30000, -1);
INSERT INTO positions (id, symbol, size, entry_price, margin) VALUES (30, 'BTCUSDT', 'Infinity', 30000, 1);
INSERT INTO positions (id, symbol, size, entry_price, margin) VALUES (30, 'DOGE', 1, 30000, 3000);
SELECT count(*) AS rows_30 FROM positions WHERE id = 30;

SELECT isomargin.unenforce('positions');
DROP TABLE positions, marks, instruments;
