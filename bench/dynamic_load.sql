-- bench/dynamic_load.sql: the book of core_load.sql with dynamic add-ons, as a
-- second table dyn_positions (positions itself is left as it is, so the other
-- queries' counts do not move).  addon_rate = the instrument's volatility
-- add-on (a fixed rate per instrument, as volatility_addon leaves it between
-- two marks) + the position's liquidity add-on against a uniform book: the
-- slippage grows linearly with the size, up to 0.5% for the instrument's
-- largest size (6 decimals, rounded up, as liquidity_addon rounds).  Run after
-- core_load.sql.

\set ON_ERROR_STOP on

DROP TABLE IF EXISTS dyn_positions;
CREATE TABLE dyn_positions AS
SELECT p.*,
       CASE p.symbol WHEN 'BTCUSDT' THEN 0.0021 WHEN 'ETHUSDT' THEN 0.0034
                     WHEN 'SOLUSDT' THEN 0.0062 WHEN 'DOGEUSDT' THEN 0.0105
                     WHEN 'BTC-USDT-SWAP' THEN 0.0021 WHEN 'BTCUSD' THEN 0.0021
                     ELSE 0.0034 END
       + ceil(0.005 * abs(p.size) / i.size_max * 1e6) * 1e-6 AS addon_rate
  FROM positions p JOIN bench_instruments i USING (symbol)
 ORDER BY p.id;
VACUUM (FREEZE, ANALYZE) dyn_positions;
