-- demo/path.sql: the replay's mark-price path, steps 1 .. 40, from a seed.
-- psql variable: seed.
--
-- BTC's log-return per step: chop (sd 0.25%) for 10 steps; a crash of 10-15% (by the
-- seed) over 6 steps shaped like a liquidation cascade; a rebound that wins back 45-65%
-- of the fall over 12 steps; chop again to step 40.  Every other instrument moves with
-- its beta against BTC plus noise of its own; prices are rounded to the tick.
\set ON_ERROR_STOP on

INSERT INTO demo.mark_path (step, symbol, mark_price)
WITH shape AS (
    SELECT ln(1 - (0.10 + 0.05 * demo.u(:seed, 0, 1))) AS fall,           -- log of the crash
           0.45 + 0.20 * demo.u(:seed, 0, 2) AS recovered                  -- share won back
), btc AS (
    SELECT s AS step,
           CASE WHEN s BETWEEN 11 AND 16
                THEN (ARRAY[0.06, 0.12, 0.30, 0.28, 0.16, 0.08])[s - 10] * sh.fall
                     + 0.002 * demo.z(:seed, s, 1)
                WHEN s BETWEEN 17 AND 28
                THEN -(ARRAY[0.20, 0.16, 0.13, 0.11, 0.09, 0.08, 0.06, 0.05, 0.04, 0.03, 0.03, 0.02])[s - 16]
                     * sh.fall * sh.recovered + 0.002 * demo.z(:seed, s, 1)
                ELSE 0.0025 * demo.z(:seed, s, 1)
           END AS r
      FROM generate_series(1, 40) s CROSS JOIN shape sh
), moves AS (
    SELECT b.step, i.symbol, i.tick_size, m.mark_price AS p0,
           i.beta * b.r
           + CASE i.symbol WHEN 'BTCUSD' THEN 0.0003 ELSE 0.0015 * i.beta END
             * demo.z(:seed, b.step, 10 + 2 * (row_number() OVER (PARTITION BY b.step ORDER BY i.symbol))::int)
             AS r
      FROM btc b CROSS JOIN exchange.instruments i JOIN exchange.marks m USING (symbol)
)
SELECT step, symbol,
       greatest(round((p0::float8 * exp(sum(r) OVER (PARTITION BY symbol ORDER BY step))
                       / tick_size::float8)::numeric), 1) * tick_size
  FROM moves;
