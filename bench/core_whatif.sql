-- bench/core_whatif.sql: adds the per-row what-if figures (issue 17,
-- doc/whatif.md) to the core throughput benchmark when the extension has
-- them; otherwise says so and adds nothing.  Each is timed against the bare
-- scan with the same aggregate (sum), on the same book, with the rule
-- arguments from the row as the other C variants have them; the issue's
-- target for each is 2x the bare scan.  position_side is timed with count()
-- (an enum has no sum).

\set ON_ERROR_STOP on

SELECT pg_catalog.to_regprocedure('isomargin.liquidation_distance_ratio(numeric, numeric, numeric, numeric, numeric, numeric, isomargin.contract_kind, numeric, numeric)') IS NOT NULL
   AND pg_catalog.to_regprocedure('isomargin.position_side(numeric)') IS NOT NULL AS has_whatif \gset

\if :has_whatif
INSERT INTO bench.variants VALUES
(50, 'effective_leverage: C', 'whatif', 'c', 'sum',
 $q$SELECT id, isomargin.effective_leverage(size, entry_price, mark_price, margin,
                                           contract_size, kind) AS v
    FROM positions$q$),
(51, 'return_on_equity: C', 'whatif', 'c', 'sum',
 $q$SELECT id, isomargin.return_on_equity(size, entry_price, mark_price, margin,
                                         contract_size, kind) AS v
    FROM positions$q$),
(52, 'liquidation_distance: C', 'whatif', 'c', 'sum',
 $q$SELECT id, isomargin.liquidation_distance(size, entry_price, mark_price, margin, mmr,
                                             contract_size, kind, fee_rate) AS v
    FROM positions$q$),
(53, 'liquidation_distance_ratio: C', 'whatif', 'c', 'sum',
 $q$SELECT id, isomargin.liquidation_distance_ratio(size, entry_price, mark_price, margin, mmr,
                                                   contract_size, kind, fee_rate) AS v
    FROM positions$q$),
(54, 'position_side: C', 'whatif', 'c', 'count',
 $q$SELECT id, isomargin.position_side(size) AS v FROM positions$q$);
\else
\echo 'isomargin has no what-if figures yet: that part of the benchmark is skipped'
\endif
