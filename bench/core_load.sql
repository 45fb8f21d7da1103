-- bench/core_load.sql: a realistic book of isolated positions for the core
-- throughput benchmark.  psql variables: rows (number of positions), seed.
--
-- Seven instruments, 90% of positions on linear contracts and 10% on inverse
-- ones; 55% long; sizes log-uniform over each instrument's usual range with its
-- own lot decimals; entry prices within about 5% of the instrument's market;
-- leverage log-uniform from 1x to 100x (whole numbers), the initial margin
-- topped up by up to 50% on a third of the positions; mmr and fee per
-- instrument.  mark_price is the instrument's current mark, 2% under the
-- market, so that the book holds every margin status.  Deterministic for a
-- given seed and row count.

\set ON_ERROR_STOP on

DROP TABLE IF EXISTS bench_instruments, positions;

CREATE TABLE bench_instruments (
    symbol          text PRIMARY KEY,
    kind            isomargin.contract_kind NOT NULL,
    contract_size   numeric NOT NULL,
    market          numeric NOT NULL,
    price_decimals  int NOT NULL,
    size_min        numeric NOT NULL,
    size_max        numeric NOT NULL,
    size_decimals   int NOT NULL,
    margin_decimals int NOT NULL,
    mmr             numeric NOT NULL,
    fee_rate        numeric NOT NULL,
    weight_from     float8 NOT NULL,    -- share of the book: [weight_from, weight_to)
    weight_to       float8 NOT NULL
);

INSERT INTO bench_instruments VALUES
    ('BTCUSDT',      'linear',  1,    30000,   1, 0.001, 5,      3, 6, 0.004, 0.0005, 0.00, 0.35),
    ('ETHUSDT',      'linear',  1,    2000,    2, 0.01,  100,    2, 6, 0.005, 0.0005, 0.35, 0.60),
    ('SOLUSDT',      'linear',  1,    100,     3, 0.1,   2000,   1, 6, 0.01,  0.0005, 0.60, 0.75),
    ('DOGEUSDT',     'linear',  1,    0.08,    6, 1,     500000, 0, 6, 0.01,  0.0005, 0.75, 0.85),
    ('BTC-USDT-SWAP','linear',  0.01, 30000,   1, 1,     2000,   0, 6, 0.004, 0.0005, 0.85, 0.90),
    ('BTCUSD',       'inverse', 100,  30000,   1, 1,     20000,  0, 8, 0.005, 0.0005, 0.90, 0.97),
    ('ETHUSD',       'inverse', 10,   2000,    2, 1,     50000,  0, 8, 0.005, 0.0005, 0.97, 1.00);

CREATE TABLE positions (
    id              bigint PRIMARY KEY,
    symbol          text NOT NULL,
    kind            isomargin.contract_kind NOT NULL,
    contract_size   numeric NOT NULL,
    size            numeric NOT NULL,
    entry_price     numeric NOT NULL,
    margin          numeric NOT NULL,
    leverage        numeric NOT NULL,
    mmr             numeric NOT NULL,
    fee_rate        numeric NOT NULL,
    mark_price      numeric NOT NULL
);

SELECT setseed(:seed);

-- One row of uniform draws per position, drawn in a fixed order.
INSERT INTO positions
SELECT d.g, i.symbol, i.kind, i.contract_size, sz.size, px.entry, mg.margin, lv.leverage,
       i.mmr, i.fee_rate, round(i.market * 0.98, i.price_decimals)
FROM (SELECT g, random() AS u_inst, random() AS u_side, random() AS u_size,
             random() AS u_px1, random() AS u_px2, random() AS u_lev, random() AS u_top
      FROM generate_series(1, :rows) AS g) AS d
JOIN bench_instruments AS i ON d.u_inst >= i.weight_from AND d.u_inst < i.weight_to
CROSS JOIN LATERAL (
    SELECT (CASE WHEN d.u_side < 0.55 THEN 1 ELSE -1 END)
           * greatest(i.size_min,
                      round((i.size_min * exp(d.u_size * ln(i.size_max / i.size_min)))::numeric,
                            i.size_decimals)) AS size) AS sz
CROSS JOIN LATERAL (
    SELECT round(i.market * (1 + 0.05 * (d.u_px1 + d.u_px2 - 1))::numeric, i.price_decimals) AS entry) AS px
CROSS JOIN LATERAL (
    SELECT round(exp(d.u_lev * ln(100.0)))::numeric AS leverage) AS lv
CROSS JOIN LATERAL (
    SELECT round(CASE i.kind WHEN 'linear' THEN abs(sz.size) * i.contract_size * px.entry
                             ELSE abs(sz.size) * i.contract_size / px.entry END
                 / lv.leverage
                 * (CASE WHEN d.u_top < 0.33 THEN 1 + d.u_top * 1.5 ELSE 1 END)::numeric,
                 i.margin_decimals) AS margin) AS mg
ORDER BY d.g;

VACUUM (FREEZE, ANALYZE) bench_instruments, positions;
