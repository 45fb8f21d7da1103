-- Dynamic requirements, item 1: the volatility add-on (doc/dynamic.md).
-- Every expected figure is worked by hand in the comments.

-- decay of a half-life of h observations: 0.5^(1/h), 16 decimals
SELECT isomargin.ewma_decay(1) AS h1,          -- 0.5
       isomargin.ewma_decay(2) AS h2,          -- 0.7071067811865475(244...) -> ...475
       isomargin.ewma_decay(11.2) AS h11_2;    -- about 0.94 (RiskMetrics)

-- seed: the first squared return, rounded up to 24 decimals: (4-3)^2/3^2 = 1/9
SELECT isomargin.ewma_variance(NULL, 3, 4, 0.5) AS seed_ninth;
-- 0.5*0.01 + 0.5*(11/110)^2 = 0.01 exactly
SELECT isomargin.ewma_variance(0.01, 110, 99, 0.5) AS step;
-- no move: 0.5*0.01 = 0.005
SELECT isomargin.ewma_variance(0.01, 99, 99, 0.5) AS halved;
-- sqrt rounded up to 12 decimals: sqrt(0.005) = 0.07071067811865475... -> 0.070710678119;
-- sqrt(0.01) = 0.1 exactly; sqrt(1/9 rounded up) = 0.333333333333333333... -> 0.333333333334
SELECT isomargin.ewma_volatility(0.005) AS v1, isomargin.ewma_volatility(0.01) AS v2,
       isomargin.ewma_volatility(0.111111111111111111111112) AS v3,
       isomargin.ewma_volatility(0) AS v0;
-- add-on: multiplier * (clamp(vol, floor, cap) - floor), up to 6 decimals
-- 0.5*(0.070710678119 - 0.05) = 0.0103553390595 -> 0.010356; above the cap 0.5*(0.08-0.05) = 0.015;
-- below the floor 0
SELECT isomargin.volatility_addon(0.070710678119, 0.05, 0.08, 0.5) AS mid,
       isomargin.volatility_addon(0.1, 0.05, 0.08, 0.5) AS capped,
       isomargin.volatility_addon(0.01, 0.05, 0.08, 0.5) AS floored,
       isomargin.volatility_addon(0.050000000001, 0.05, 0.08, 1) AS one_unit_up;  -- 1e-12 -> 0.000001

\set ECHO none
\i test/lib/try.sql
\set ECHO all
SELECT pg_temp.try($$SELECT isomargin.ewma_decay(0)$$);
SELECT pg_temp.try($$SELECT isomargin.ewma_variance(NULL, 0, 4, 0.5)$$);
SELECT pg_temp.try($$SELECT isomargin.ewma_variance(NULL, 3, 4, 1)$$);
SELECT pg_temp.try($$SELECT isomargin.ewma_volatility(-1)$$);
SELECT pg_temp.try($$SELECT isomargin.volatility_addon(0.1, 0.09, 0.08, 0.5)$$);
SELECT pg_temp.try($$SELECT isomargin.volatility_addon(0.1, 0.05, 0.08, -1)$$);

-- A watched history: the state follows each new mark, the add-on goes to the
-- instruments table, the change is recorded with its cause.
CREATE SCHEMA vol;
CREATE TABLE vol.instruments (symbol text PRIMARY KEY, mmr numeric NOT NULL,
                              addon_rate numeric NOT NULL DEFAULT 0);
INSERT INTO vol.instruments VALUES ('BTC', 0.004), ('ETH', 0.005);
CREATE TABLE vol.history (sym text, px numeric, at timestamptz);
INSERT INTO vol.history VALUES ('BTC', 100, '2026-01-01 00:00+00'),
                               ('BTC', 110, '2026-01-01 00:01+00');
SELECT isomargin.watch_volatility('vol.history', half_life => 1, vol_floor => 0.05,
                                  vol_cap => 0.08, multiplier => 0.5,
                                  instruments => 'vol.instruments',
                                  columns => '{"symbol": "sym", "mark_price": "px", "mark_time": "at"}')
       AS watch \gset
-- the history so far folded: 100 -> 110, v = 0.01, vol 0.1 capped: add-on 0.015
SELECT symbol, last_price, observations, variance, volatility, addon_rate
  FROM isomargin.volatility_state ORDER BY symbol;
SELECT symbol, addon_rate FROM vol.instruments ORDER BY symbol;
-- Forget the history: the state alone carries the estimate (the trigger reads only new rows).
DELETE FROM vol.history;
-- 110 -> 99 (v stays 0.01), then 99 -> 99 (v halves to 0.005, vol 0.070710678119,
-- add-on 0.010356); an ETH mark only seeds ETH; a BTC mark older than the last is ignored
INSERT INTO vol.history VALUES ('BTC', 99, '2026-01-01 00:03+00'),
                               ('ETH', 2000, '2026-01-01 00:03+00'),
                               ('BTC', 99, '2026-01-01 00:04+00'),
                               ('BTC', 1, '2026-01-01 00:00:30+00');
SELECT symbol, last_price, observations, variance, volatility, addon_rate
  FROM isomargin.volatility_state ORDER BY symbol;
SELECT symbol, addon_rate FROM vol.instruments ORDER BY symbol;
-- every change and its cause: 0 -> 0.015 when the watch started, 0.015 -> 0.010356 at 00:04
-- (the step at 00:03 kept 0.015, and is not recorded)
SELECT symbol, old_rate, new_rate, cause - 'watch' AS cause
  FROM isomargin.addon_changes ORDER BY id;
-- a table updated in place (one row per symbol, as a marks table) feeds the watch too:
-- ETH 2000 -> 2200 is a return of 0.1 (variance 0.01, volatility 0.1, capped: 0.015)
UPDATE vol.history SET px = 2200, at = '2026-01-01 00:05+00' WHERE sym = 'ETH';
SELECT symbol, last_price, observations, volatility, addon_rate
  FROM isomargin.volatility_state WHERE symbol = 'ETH';
-- a mark that is not a positive price fails the insert
SELECT pg_temp.try($$WITH i AS (INSERT INTO vol.history VALUES ('BTC', -5, '2026-01-01 00:05+00')
                     RETURNING 1) SELECT count(*) FROM i$$);
SELECT pg_temp.try($$SELECT isomargin.watch_volatility('vol.history', 1, 0.05, 0.08, 0.5)$$);
SELECT pg_temp.try($$SELECT isomargin.watch_volatility('vol.instruments', 1, 0.05, 0.08, 0.5)$$);
SELECT pg_temp.try($$SELECT isomargin.watch_volatility('vol.history', 1, 0.05, 0.08, 0.5,
                     columns => '{"bogus": "x"}')$$);
SELECT isomargin.unwatch_volatility('vol.history');
SELECT count(*) AS states_left FROM isomargin.volatility_state;
SELECT pg_temp.try($$SELECT isomargin.unwatch_volatility('vol.history')$$);
DROP SCHEMA vol CASCADE;
