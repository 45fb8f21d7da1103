-- isomargin.shortfall and isomargin.shock: a small book whose figures are the domain
-- reference's worked examples (flat rates), shocked by hand-picked moves.  Every expected
-- figure was computed independently with exact fractions (linear: equity
-- M + q*cs*(P - E), maintenance |q|*cs*P*(r + f); inverse: M + q*cs*(1/E - 1/P) and
-- |q|*cs/P*(r + f), 16 decimals, equity down and maintenance up).
CREATE SCHEMA rpt;
CREATE TABLE rpt.instruments (
    symbol text PRIMARY KEY, kind isomargin.contract_kind NOT NULL,
    contract_size numeric NOT NULL, mmr numeric NOT NULL, fee_rate numeric NOT NULL);
CREATE TABLE rpt.marks (symbol text PRIMARY KEY, mark_price numeric NOT NULL);
CREATE TABLE rpt.positions (
    id integer PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
    entry_price numeric NOT NULL, margin numeric NOT NULL);
INSERT INTO rpt.instruments VALUES
    ('L', 'linear', 1, 0.004, 0),
    ('F', 'linear', 1, 0.005, 0.0006),
    ('I', 'inverse', 100, 0.005, 0),
    ('Z', 'linear', 1, 0, 0);
INSERT INTO rpt.marks VALUES ('L', 30000), ('F', 2500.25), ('I', 40000), ('Z', 30000);
-- liquidation prices at the marks: 1: 27108.43373494, 2: 32868.52589641, 3: never,
-- 4: 2011.51448110, 5: 33500, 6: 49750, 7: 28500, 8: 30000 (at the mark), 9: 31500,
-- 10: 27000, 11: none (closed)
INSERT INTO rpt.positions VALUES
    (1, 'L', 1, 30000, 3000),
    (2, 'L', -2, 30000, 6000),
    (3, 'L', 1, 100, 150),
    (4, 'F', 0.5, 2500.25, 250),
    (5, 'I', 100, 40000, 0.05),
    (6, 'I', -100, 40000, 0.05),
    (7, 'Z', 1, 30000, 1500),
    (8, 'Z', 1, 30000, 0),
    (9, 'Z', -1, 30000, 1500),
    (10, 'Z', 1, 30000, 3000),
    (11, 'L', 0, 30000, 10);

-- shortfall: the equity below zero, else 0; inverse equity rounds down, so the
-- shortfall rounds up (0.05 + 100*100*(1/40000 - 1/33333) = -0.0000030000300003000...).
SELECT isomargin.shortfall(1, 30000, 26000, 3000) AS long_gap,
       isomargin.shortfall(1, 30000, 27000, 3000) AS long_at_bankruptcy,
       isomargin.shortfall(1, 30000, 28000, 3000) AS long_above,
       isomargin.shortfall(-2, 30000, 34000.5, 6000) AS short_gap,
       isomargin.shortfall(100, 40000, 33333, 0.05, 100, 'inverse') AS inverse_gap,
       isomargin.shortfall(100, 40000, 32000, 0.05, 100, 'inverse') AS inverse_exact,
       isomargin.shortfall(1, 30000, NULL, 3000) AS strict_null;

-- Every instrument's mark moves by `move`; the open positions that end at liquidate or
-- bankrupt.  At -9.65% the long of 1 at 30000 sits at 27105, 3.43 under its liquidation
-- price: equity 105, maintenance 108.42.
SELECT position_key, symbol, kind, size, mark_price, shocked_price, status, equity,
       maintenance_margin, shortfall
  FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', -0.0965)
 ORDER BY (position_key ->> 'id')::int;
-- -10%: the long of 1 at exactly its bankruptcy price (equity 0, shortfall 0); the two
-- zero-rate longs at 28500 and 30000 cross theirs.
SELECT position_key, symbol, shocked_price, status, equity, maintenance_margin, shortfall
  FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', -0.1)
 ORDER BY (position_key ->> 'id')::int;
-- -20%: gaps past bankruptcy on every kind of long.
SELECT position_key, symbol, shocked_price, status, equity, maintenance_margin, shortfall
  FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', -0.2)
 ORDER BY (position_key ->> 'id')::int;
-- +10% and +25%: the shorts.
SELECT position_key, symbol, shocked_price, status, equity, maintenance_margin, shortfall
  FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', 0.1)
 ORDER BY (position_key ->> 'id')::int;
SELECT position_key, symbol, shocked_price, status, equity, maintenance_margin, shortfall
  FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', 0.25)
 ORDER BY (position_key ->> 'id')::int;
-- No move: the position already at its liquidation price (8) is the only one.
SELECT position_key, status, shortfall
  FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', 0);
-- Totals compose with plain SQL: per instrument, per settlement currency.
SELECT symbol, count(*) AS liquidated, sum(shortfall) AS shortfall
  FROM isomargin.shock('rpt.positions', 'rpt.marks', 'rpt.instruments', -0.2)
 GROUP BY symbol ORDER BY symbol;

-- A status column (as isomargin.enforce adds): positions already at liquidate or
-- bankrupt are the liquidation engine's, and are left out; margin_call stays in.
CREATE TABLE rpt.flagged (LIKE rpt.positions INCLUDING ALL, status isomargin.margin_status);
INSERT INTO rpt.flagged SELECT p.*, NULL FROM rpt.positions p;
UPDATE rpt.flagged SET status = 'liquidate' WHERE id = 1;
UPDATE rpt.flagged SET status = 'margin_call' WHERE id = 7;
UPDATE rpt.flagged SET status = 'bankrupt' WHERE id = 8;
SELECT position_key, status FROM isomargin.shock('rpt.flagged', 'rpt.marks', 'rpt.instruments', -0.1)
 ORDER BY (position_key ->> 'id')::int;

-- Tiers in place of mmr (the instrument's tiers column wins), and other column names
-- through `columns`; a composite primary key.  T2 of the domain reference: a long of 10
-- at 20000 with 105000 of margin, liquidated at 9590.90909091 in bracket 2.  At 9590
-- (mark 20000, move -0.5205): equity 900, maintenance 95900*0.01 - 50 = 909, liquidate.
CREATE TABLE rpt.tiered (sym text PRIMARY KEY, tiers isomargin.tiers NOT NULL);
INSERT INTO rpt.tiered VALUES ('T', isomargin.tiers('[{"minNotional": 0, "maxNotional": 10000, "maintenanceMarginRate": 0.005, "maxLeverage": 100},
    {"minNotional": 10000, "maxNotional": 100000, "maintenanceMarginRate": 0.01, "maxLeverage": 50},
    {"minNotional": 100000, "maxNotional": 500000, "maintenanceMarginRate": 0.02, "maxLeverage": 20},
    {"minNotional": 500000, "maxNotional": 2000000, "maintenanceMarginRate": 0.05, "maxLeverage": 10},
    {"minNotional": 2000000, "maxNotional": 10000000, "maintenanceMarginRate": 0.1, "maxLeverage": 5}]'::jsonb));
CREATE TABLE rpt.px (sym text PRIMARY KEY, px numeric NOT NULL);
INSERT INTO rpt.px VALUES ('T', 20000);
CREATE TABLE rpt.book (acct integer, n integer, sym text, qty numeric, entry numeric, collateral numeric,
                       PRIMARY KEY (acct, n));
INSERT INTO rpt.book VALUES (7, 1, 'T', 10, 20000, 105000), (7, 2, 'T', -4, 20000, 8000);
SELECT position_key, symbol, shocked_price, status, equity, maintenance_margin, shortfall
  FROM isomargin.shock('rpt.book', 'rpt.px', 'rpt.tiered', -0.5205,
       '{"symbol": "sym", "mark_price": "px", "size": "qty", "entry_price": "entry", "margin": "collateral"}');
-- T3: the short of 4 at 20000 with 8000, liquidated at 21794.55445544; at 21800 (+9%):
-- equity 8000 - 4*1800 = 800, maintenance 87200*0.01 - 50 = 822.
SELECT position_key, shocked_price, status, equity, maintenance_margin
  FROM isomargin.shock('rpt.book', 'rpt.px', 'rpt.tiered', 0.09,
       '{"symbol": "sym", "mark_price": "px", "size": "qty", "entry_price": "entry", "margin": "collateral"}');

-- A tick table passed as a view that keeps each symbol's latest mark.
CREATE TABLE rpt.ticks (symbol text, at integer, mark_price numeric, PRIMARY KEY (symbol, at));
INSERT INTO rpt.ticks SELECT symbol, 1, mark_price * 2 FROM rpt.marks;
INSERT INTO rpt.ticks SELECT symbol, 2, mark_price FROM rpt.marks;
CREATE VIEW rpt.latest AS SELECT DISTINCT ON (symbol) symbol, mark_price FROM rpt.ticks ORDER BY symbol, at DESC;
SELECT symbol, count(*) AS liquidated, sum(shortfall) AS shortfall
  FROM isomargin.shock('rpt.positions', 'rpt.latest', 'rpt.instruments', -0.2)
 GROUP BY symbol ORDER BY symbol;
-- Or the tick table itself, mark_time naming the column that orders a symbol's rows
-- (as for isomargin.enforce): the same book, the same figures.
SELECT symbol, count(*) AS liquidated, sum(shortfall) AS shortfall
  FROM isomargin.shock('rpt.positions', 'rpt.ticks', 'rpt.instruments', -0.2, '{"mark_time": "at"}')
 GROUP BY symbol ORDER BY symbol;
-- A symbol column named differently in one table: "<table>.symbol".
CREATE TABLE rpt.px2 (instrument text PRIMARY KEY, px numeric NOT NULL);
INSERT INTO rpt.px2 VALUES ('T', 20000);
SELECT position_key, shocked_price, status
  FROM isomargin.shock('rpt.book', 'rpt.px2', 'rpt.tiered', 0.09,
       '{"symbol": "sym", "marks.symbol": "instrument", "mark_price": "px", "size": "qty", "entry_price": "entry", "margin": "collateral"}');
