-- Enforcement and the reports honour each instrument's venue conventions
-- (issue 14 item 6): columns mm_basis, fee_basis, maintenance_amount (and
-- tier_basis, bracket_basis with tiers) of the instruments table, found by
-- name or mapped like the others; NULL or absent takes the default.
\set SHOW_CONTEXT never
TRUNCATE isomargin.events RESTART IDENTITY;
ALTER SEQUENCE isomargin.enforcement_id_seq RESTART;
CREATE TABLE instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL, fee_rate numeric NOT NULL,
                          mm_basis isomargin.mm_basis, fee_basis isomargin.fee_basis,
                          cum numeric);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE positions (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
-- BYBIT: Bybit's classic rule; BINANCE: a flat rate with its cum; PLAIN: the defaults.
INSERT INTO instruments VALUES ('BYBIT', 0.005, 0.00055, 'entry', 'bankruptcy', NULL),
                               ('BINANCE', 0.01, 0, NULL, NULL, 1300),
                               ('PLAIN', 0.005, 0.00055, NULL, NULL, NULL);
INSERT INTO marks VALUES ('BYBIT', 20000), ('BINANCE', 30000), ('PLAIN', 20000);
SELECT isomargin.enforce('positions', 'marks', 'instruments', '{"maintenance_amount": "cum"}') -> 'added_columns' AS added;
SELECT columns #> '{instruments}' AS instruments FROM isomargin.enforcement;
-- stored prices (venues_conventions worked them out by hand):
--   1 BYBIT entry basis, fee at bankruptcy: 19,710.78
--   2 BINANCE (300000 - 30000 - 1300) / 9.9 = 27,141.41414142 (up)
--   3 PLAIN, the default: 19600 / 0.99445 = 19,709.38709840 (up)
INSERT INTO positions VALUES (1, 'BYBIT', 1, 20000, 400), (2, 'BINANCE', 10, 30000, 30000),
                             (3, 'PLAIN', 1, 20000, 400);
SELECT p.id, p.liquidation_price, p.margin_call_price, p.status,
       p.liquidation_price = isomargin.liquidation_price(p.size, p.entry_price, p.margin, i.mmr,
                               fee_rate => i.fee_rate, mm_basis => coalesce(i.mm_basis, 'mark'),
                               fee_basis => coalesce(i.fee_basis, 'mark'),
                               maintenance_amount => coalesce(i.cum, 0))
       AND p.margin_call_price = isomargin.margin_call_price(p.size, p.entry_price, p.margin, i.mmr,
                               fee_rate => i.fee_rate, mm_basis => coalesce(i.mm_basis, 'mark'),
                               fee_basis => coalesce(i.fee_basis, 'mark'),
                               maintenance_amount => coalesce(i.cum, 0)) AS same_as_sql
  FROM positions p JOIN instruments i USING (symbol) ORDER BY p.id;
-- A change of convention recomputes the instrument's positions: BYBIT to the
-- mark basis with the fee at bankruptcy, 19610.78 / 0.995 = 19,709.32663317 (up).
UPDATE instruments SET mm_basis = 'mark' WHERE symbol = 'BYBIT';
SELECT id, liquidation_price FROM positions WHERE id = 1;
-- The mark trigger flags by the stored price: 19,709.33 leaves it a margin
-- call, 19,709.32 liquidates it.
UPDATE marks SET mark_price = 19709.33 WHERE symbol = 'BYBIT';
SELECT id, status FROM positions WHERE id = 1;
UPDATE marks SET mark_price = 19709.32 WHERE symbol = 'BYBIT';
SELECT id, status FROM positions WHERE id = 1;
UPDATE marks SET mark_price = 20000 WHERE symbol = 'BYBIT';
UPDATE positions SET status = 'ok' WHERE id = 1;

-- The reports take the same conventions.  A fall of 1.46% puts both longs at
-- 20,000 at 19,708: equity 108; maintenance 19708 * 0.005 + 10.78 = 109.32
-- (BYBIT, fee at bankruptcy) and 19708 * 0.00555 = 109.3794 (PLAIN): both
-- liquidate; BINANCE (equity 25,620, maintenance 295620 * 0.01 - 1300 = 1,656.2) not.
SELECT position_key, shocked_price, status, equity, maintenance_margin, shortfall
  FROM isomargin.shock('positions', 'marks', 'instruments', -0.0146, '{"maintenance_amount": "cum"}')
 ORDER BY position_key::text;
-- The ladder (1% buckets): both longs lie 1.45% under the mark, bucket -2,
-- notional at their own liquidation prices 19709.32663317 + 19709.38709840.
SELECT symbol, bucket, position_count, notional
  FROM isomargin.liquidation_ladder('positions', 'marks', 'instruments', 0.01, 2, '{"maintenance_amount": "cum"}')
 WHERE position_count > 0 ORDER BY symbol, bucket;

-- A column of the wrong type is refused like any other.
CREATE TABLE instruments2 (symbol text PRIMARY KEY, mmr numeric NOT NULL, mm_basis text);
CREATE TABLE positions2 (id int PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                         entry_price numeric NOT NULL, margin numeric NOT NULL);
SELECT isomargin.enforce('positions2', 'marks', 'instruments2');

SELECT isomargin.unenforce('positions');
DROP TABLE positions, marks, instruments, positions2, instruments2;
