-- bench/core_dynamic.sql: the figures with dynamic add-ons (issue 18) in the
-- core throughput benchmark.  Runs bench/dynamic_load.sql's table
-- dyn_positions (the book with an addon_rate column: the instrument's
-- volatility add-on plus the position's liquidity add-on) and times each
-- dynamic figure against the bare scan of positions with the same aggregate
-- (dyn_positions is that table with one more column, so its own scan costs a
-- little more: the ratio is if anything overstated).  Target: within 2.5x.

\set ON_ERROR_STOP on
\ir dynamic_load.sql

INSERT INTO bench.variants VALUES
(90, 'liquidation_price on dyn_positions, no add-on: C', 'dynamic', 'c', 'sum',
 $q$SELECT id, isomargin.liquidation_price(size, entry_price, margin, mmr, contract_size, kind,
                                          fee_rate) AS v FROM dyn_positions$q$),
(91, 'dynamic_liquidation_price: C', 'dynamic', 'c', 'sum',
 $q$SELECT id, isomargin.dynamic_liquidation_price(size, entry_price, margin, addon_rate, mmr,
                                                  contract_size, kind, fee_rate) AS v
    FROM dyn_positions$q$),
(92, 'dynamic_margin_call_price: C', 'dynamic', 'c', 'sum',
 $q$SELECT id, isomargin.dynamic_margin_call_price(size, entry_price, margin, addon_rate, mmr,
                                                  contract_size, kind, fee_rate) AS v
    FROM dyn_positions$q$),
(93, 'dynamic_maintenance_margin: C', 'dynamic', 'c', 'sum',
 $q$SELECT id, isomargin.dynamic_maintenance_margin(size, mark_price, addon_rate, mmr,
                                                   contract_size, kind, fee_rate) AS v
    FROM dyn_positions$q$),
(94, 'dynamic_margin_status: C', 'dynamic', 'c', 'count',
 $q$SELECT id, isomargin.dynamic_margin_status(size, entry_price, mark_price, margin, addon_rate,
                                              mmr, contract_size, kind, fee_rate) AS v
    FROM dyn_positions$q$);
