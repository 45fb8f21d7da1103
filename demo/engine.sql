-- demo/engine.sql: the liquidation engine on the demo's exchange (demo.sh --engine).
-- One policy per instrument, so the report compares them: BTCUSDT tier by tier (okx),
-- ETHUSDT 20% steps above 100,000 USDT (hyperliquid, without the cooldown: the replay
-- is seconds long), SOLUSDT the smallest close with a 0.25 buffer, BTCUSD whole; each
-- with the instrument's lot size and a 0.5% liquidation fee.  One fund per settlement
-- currency (USDT, BTC), seeded (BTC thinly, so that the crash needs ADL).  demo.engine_log keeps each fund's balance after each
-- step's worker run.
\set ON_ERROR_STOP on
\pset footer off
SELECT isomargin.liquidation_setup('exchange.positions',
           '{"method": "whole", "liquidation_fee_rate": 0.005}',
           jsonb_object_agg(i.symbol,
               isomargin.liquidation_policy(CASE i.symbol WHEN 'BTCUSDT' THEN 'okx'
                                                          WHEN 'ETHUSDT' THEN 'hyperliquid'
                                                          WHEN 'SOLUSDT' THEN 'smallest'
                                                          ELSE 'whole' END)
               || jsonb_build_object('lot_size', i.lot_size, 'liquidation_fee_rate', 0.005)
               || CASE WHEN i.symbol = 'ETHUSDT' THEN '{"cooldown": 0}'::jsonb ELSE '{}' END),
           fund_column => 'settle')
  FROM exchange.instruments i;
SELECT isomargin.insurance_deposit('exchange.positions', 'USDT', 250000),
       isomargin.insurance_deposit('exchange.positions', 'BTC', 0.05);
CREATE TABLE demo.engine_log (step integer, fund text, balance numeric, liquidations bigint,
                              last_ledger_id bigint);
SELECT key AS symbol, value ->> 'method' AS method, value - 'method' AS settings
  FROM isomargin.liquidation_settings s, jsonb_each(s.symbol_policies)
 WHERE s.positions = 'exchange.positions'::regclass ORDER BY 1;
