-- demo/schema.sql: a small exchange, wired to isomargin's enforcement.
-- psql variables (set by demo/demo.sh): have_tiers, have_enforce (booleans).
--
--   exchange.brackets     each instrument's maintenance-margin brackets, as plain rows
--                         (the source the tiers values are built from, and what the demo
--                         test recomputes from, independently of the extension)
--   exchange.instruments  symbol, kind, contract_size, fee_rate, tick and lot, and the
--                         bracket schedule as isomargin.tiers (or the first bracket's
--                         flat mmr when this build has no tier-aware functions)
--   exchange.marks        one row per symbol, updated in place by the mark-price feed
--   exchange.positions    the book; isomargin.enforce adds and maintains
--                         liquidation_price, margin_call_price, bankruptcy_price,
--                         status and status_changed_at
--   demo.*                the demo's own scaffolding (random numbers, the mark path)
\set ON_ERROR_STOP on
SET client_min_messages = warning;

-- A previous run's enforcement is detached first: its tables cannot be dropped under it.
DO $$
BEGIN
    IF pg_catalog.to_regclass('isomargin.enforcement') IS NOT NULL THEN
        PERFORM isomargin.unenforce(e.positions)
           FROM isomargin.enforcement e
           JOIN pg_catalog.pg_class c ON c.oid = e.positions
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'exchange';
    END IF;
END $$;
DROP SCHEMA IF EXISTS exchange CASCADE;
DROP SCHEMA IF EXISTS demo CASCADE;
CREATE SCHEMA exchange;
CREATE SCHEMA demo;

-- A uniform number in [0, 1) from (seed, row, draw): a hash, so the same book and path
-- come out whatever order or plan evaluates it.
CREATE FUNCTION demo.u(seed bigint, i bigint, k integer) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN ((pg_catalog.hashint8extended(i * 64 + k, seed) >> 11) & 9007199254740991)::float8
       / 9007199254740992.0;

-- A standard normal number (Box-Muller on two uniform draws k and k + 1).
CREATE FUNCTION demo.z(seed bigint, i bigint, k integer) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN sqrt(-2 * ln(1 - demo.u(seed, i, k))) * cos(2 * pi() * demo.u(seed, i, k + 1));

CREATE TABLE exchange.instruments (
    symbol          text PRIMARY KEY,
    kind            isomargin.contract_kind NOT NULL,
    contract_size   numeric NOT NULL,
    settle          text NOT NULL,          -- settlement currency
    fee_rate        numeric NOT NULL,       -- taker fee to close
    tick_size       numeric NOT NULL,
    lot_size        numeric NOT NULL,       -- size step, in contracts
    share           numeric NOT NULL,       -- of the demo book's positions
    beta            numeric NOT NULL        -- of the demo path's moves, against BTC
);

CREATE TABLE exchange.brackets (
    symbol          text NOT NULL REFERENCES exchange.instruments,
    bracket         integer NOT NULL,
    notional_floor  numeric NOT NULL,       -- quote for linear, coin for inverse
    notional_cap    numeric NOT NULL,
    mmr             numeric NOT NULL,
    max_leverage    integer NOT NULL,
    PRIMARY KEY (symbol, bracket)
);

-- Three USDT-margined perpetuals and one coin-margined (inverse) perpetual of 100 USD
-- contracts; schedules shaped like the largest venues' published ones.
INSERT INTO exchange.instruments VALUES
    ('BTCUSDT', 'linear',  1,   'USDT', 0.0005, 0.1,  0.001, 0.40, 1.00),
    ('ETHUSDT', 'linear',  1,   'USDT', 0.0005, 0.01, 0.01,  0.27, 1.25),
    ('SOLUSDT', 'linear',  1,   'USDT', 0.0005, 0.01, 0.1,   0.18, 1.60),
    ('BTCUSD',  'inverse', 100, 'BTC',  0.0005, 0.1,  1,     0.15, 1.00);

INSERT INTO exchange.brackets VALUES
    ('BTCUSDT', 1,          0,      50000, 0.004,  125),
    ('BTCUSDT', 2,      50000,     600000, 0.005,  100),
    ('BTCUSDT', 3,     600000,    3000000, 0.0065,  75),
    ('BTCUSDT', 4,    3000000,   12000000, 0.01,    50),
    ('BTCUSDT', 5,   12000000,   70000000, 0.02,    25),
    ('BTCUSDT', 6,   70000000,  100000000, 0.025,   20),
    ('BTCUSDT', 7,  100000000,  230000000, 0.05,    10),
    ('BTCUSDT', 8,  230000000,  480000000, 0.1,      5),
    ('BTCUSDT', 9,  480000000,  600000000, 0.125,    4),
    ('BTCUSDT', 10, 600000000,  800000000, 0.15,     3),
    ('BTCUSDT', 11, 800000000, 1200000000, 0.25,     2),
    ('BTCUSDT', 12, 1200000000, 1800000000, 0.5,     1),
    ('ETHUSDT', 1,          0,      50000, 0.005,  100),
    ('ETHUSDT', 2,      50000,     500000, 0.0065,  75),
    ('ETHUSDT', 3,     500000,    1000000, 0.01,    50),
    ('ETHUSDT', 4,    1000000,   10000000, 0.02,    25),
    ('ETHUSDT', 5,   10000000,   20000000, 0.05,    10),
    ('ETHUSDT', 6,   20000000,   50000000, 0.1,      5),
    ('ETHUSDT', 7,   50000000,  100000000, 0.125,    4),
    ('ETHUSDT', 8,  100000000,  200000000, 0.15,     3),
    ('ETHUSDT', 9,  200000000,  300000000, 0.25,     2),
    ('ETHUSDT', 10, 300000000,  500000000, 0.5,      1),
    ('SOLUSDT', 1,          0,      10000, 0.01,    50),
    ('SOLUSDT', 2,      10000,     100000, 0.02,    25),
    ('SOLUSDT', 3,     100000,    1000000, 0.025,   20),
    ('SOLUSDT', 4,    1000000,    5000000, 0.05,    10),
    ('SOLUSDT', 5,    5000000,   10000000, 0.1,      5),
    ('SOLUSDT', 6,   10000000,   20000000, 0.125,    4),
    ('SOLUSDT', 7,   20000000,   50000000, 0.25,     2),
    ('SOLUSDT', 8,   50000000,  100000000, 0.5,      1),
    ('BTCUSD',  1,          0,          5, 0.004,  125),
    ('BTCUSD',  2,          5,         10, 0.005,  100),
    ('BTCUSD',  3,         10,         20, 0.01,    50),
    ('BTCUSD',  4,         20,         50, 0.025,   20),
    ('BTCUSD',  5,         50,        100, 0.05,    10),
    ('BTCUSD',  6,        100,        200, 0.1,      5),
    ('BTCUSD',  7,        200,        400, 0.125,    4),
    ('BTCUSD',  8,        400,       1000, 0.15,     3),
    ('BTCUSD',  9,       1000,       1500, 0.25,     2);

\if :have_tiers
ALTER TABLE exchange.instruments ADD COLUMN tiers isomargin.tiers;
-- The raw bracket list of the largest futures exchange, as its API returns it.
UPDATE exchange.instruments i
   SET tiers = isomargin.tiers((
        SELECT jsonb_agg(jsonb_build_object(
                   'bracket', b.bracket, 'notionalFloor', b.notional_floor,
                   'notionalCap', b.notional_cap, 'maintMarginRatio', b.mmr,
                   'initialLeverage', b.max_leverage) ORDER BY b.bracket)
          FROM exchange.brackets b WHERE b.symbol = i.symbol));
ALTER TABLE exchange.instruments ALTER COLUMN tiers SET NOT NULL;
\else
-- No tier-aware functions in this build: a flat rate, the first bracket's.
ALTER TABLE exchange.instruments ADD COLUMN mmr numeric;
UPDATE exchange.instruments i
   SET mmr = (SELECT b.mmr FROM exchange.brackets b WHERE b.symbol = i.symbol AND b.bracket = 1);
ALTER TABLE exchange.instruments ALTER COLUMN mmr SET NOT NULL;
\endif

CREATE TABLE exchange.marks (
    symbol          text PRIMARY KEY REFERENCES exchange.instruments,
    mark_price      numeric NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- The market when the book is loaded (step 0 of the replay).
INSERT INTO exchange.marks (symbol, mark_price) VALUES
    ('BTCUSDT', 64250.5),
    ('ETHUSDT', 3150.25),
    ('SOLUSDT', 142.35),
    ('BTCUSD',  64230.5);

CREATE TABLE exchange.positions (
    id              bigint PRIMARY KEY,
    account_id      integer NOT NULL,
    symbol          text NOT NULL REFERENCES exchange.instruments,
    size            numeric NOT NULL,       -- contracts: > 0 long, < 0 short
    entry_price     numeric NOT NULL,
    margin          numeric NOT NULL,       -- isolated collateral, settlement currency
    leverage        numeric NOT NULL        -- chosen at open
);

\if :have_enforce
SELECT isomargin.enforce('exchange.positions', 'exchange.marks', 'exchange.instruments') AS enforcement \gset
\endif

-- The replay's mark-price path: one row per step and symbol (step 0: the marks above).
CREATE TABLE demo.mark_path (
    step            integer NOT NULL,
    symbol          text NOT NULL REFERENCES exchange.instruments,
    mark_price      numeric NOT NULL CHECK (mark_price > 0),
    PRIMARY KEY (step, symbol)
);
