-- Enforcement with tiered instruments (a column of type isomargin.tiers):
-- stored prices are the tier-consistent roots, and the mark check takes the
-- bracket of the notional at the mark.  Worked examples T1-T7 and the
-- maintenance check of T2 from the domain reference, digit for digit.
\set SHOW_CONTEXT never
TRUNCATE isomargin.events RESTART IDENTITY;
ALTER SEQUENCE isomargin.enforcement_id_seq RESTART;
CREATE TABLE instruments (symbol text PRIMARY KEY, kind isomargin.contract_kind NOT NULL,
                          contract_size numeric NOT NULL, tiers isomargin.tiers NOT NULL);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TABLE positions (id text PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO instruments VALUES
    ('LIN', 'linear', 1, '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50;
                          100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10;
                          2000000..10000000 mmr=0.1 max_leverage=5}'),
    ('INV', 'inverse', 100, '{0..5 mmr=0.005 max_leverage=100; 5..10 mmr=0.01 max_leverage=50;
                             10..20 mmr=0.025 max_leverage=20; 20..50 mmr=0.05 max_leverage=10}');
INSERT INTO marks VALUES ('LIN', 20000), ('INV', 10000);
SELECT isomargin.enforce('positions', 'marks', 'instruments') -> 'added_columns' AS added;
SELECT columns #> '{instruments}' AS instruments FROM isomargin.enforcement;
INSERT INTO positions VALUES
    ('T1', 'LIN', 10, 20000, 20000), ('T2', 'LIN', 10, 20000, 105000), ('T3', 'LIN', -4, 20000, 8000),
    ('T4', 'LIN', -4, 20000, 21000), ('T5', 'INV', 800, 10000, 0.8), ('T6', 'INV', 800, 10000, 2.5),
    ('T7', 'INV', -800, 10000, 0.8);
SELECT p.id, p.liquidation_price, p.bankruptcy_price, p.margin_call_price, p.status,
       p.liquidation_price = isomargin.liquidation_price(p.size, p.entry_price, p.margin, i.tiers,
                                                         i.contract_size, i.kind)
       AND p.margin_call_price = isomargin.margin_call_price(p.size, p.entry_price, p.margin, i.tiers,
                                                             i.contract_size, i.kind) AS same_as_sql
  FROM positions p JOIN instruments i USING (symbol) ORDER BY p.id;

-- The maintenance check of T2 as the mark falls (only T2 and T1 are longs
-- on LIN; T1's liquidation price is far above, so it is flagged on the way).
UPDATE marks SET mark_price = 12000 WHERE symbol = 'LIN';
SELECT id, status FROM positions WHERE id = 'T2';
UPDATE marks SET mark_price = 9800 WHERE symbol = 'LIN';
SELECT id, status FROM positions WHERE id = 'T2';
UPDATE marks SET mark_price = 9600 WHERE symbol = 'LIN';
SELECT id, status FROM positions WHERE id = 'T2';
UPDATE marks SET mark_price = 9590.90909091 WHERE symbol = 'LIN';
SELECT id, status FROM positions WHERE id = 'T2';
UPDATE marks SET mark_price = 9590 WHERE symbol = 'LIN';
SELECT id, status FROM positions WHERE id = 'T2';
UPDATE marks SET mark_price = 9500 WHERE symbol = 'LIN';
SELECT id, status FROM positions WHERE id = 'T2';
SELECT position_key ->> 'id' AS id, old_status, new_status, mark_price, equity, maintenance_margin
  FROM isomargin.events ORDER BY events.id;

-- Replacing an instrument's schedule recomputes its positions: one flat
-- bracket of 0.5% makes T5's liquidation price the flat formula's.
UPDATE instruments SET tiers = '{0..1000 mmr=0.005 max_leverage=100}' WHERE symbol = 'INV';
SELECT id, liquidation_price,
       liquidation_price = isomargin.liquidation_price(800, 10000, 0.8, 0.005, 100, 'inverse') AS flat
  FROM positions WHERE id = 'T5';
-- A bracket whose rate reaches the margin-call ratio is refused (22023).
UPDATE instruments SET tiers = '{0..10 mmr=0.4 max_leverage=2; 10..20 mmr=0.8 max_leverage=1}' WHERE symbol = 'INV';

SELECT isomargin.unenforce('positions');
DROP TABLE positions, marks, instruments;
