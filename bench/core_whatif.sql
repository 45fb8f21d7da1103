-- bench/core_whatif.sql: adds the per-row what-if figures (issue 17,
-- doc/whatif.md) to the core throughput benchmark when the extension has
-- them; otherwise says so and adds nothing.  Each is timed against the bare
-- scan with the same aggregate (sum), on the same book, with the rule
-- arguments from the row as the other C variants have them; the issue's
-- target for each is 2x the bare scan.  position_side is timed with count()
-- (an enum has no sum).  The tiered forms take the linear schedule of
-- bench/core_tiers.sql as one constant (skipped without it); after_fill, a
-- composite, is called once a row with one field summed, and held to assess's
-- 4x (group whatif_row: a position after a fill is a row of seven values, not
-- a figure; doc/whatif.md).  The queries are those of
-- bench/core_instructions.sh.

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
 $q$SELECT id, isomargin.position_side(size) AS v FROM positions$q$),
(55, 'top_up_to_ok: C', 'whatif', 'c', 'sum',
 $q$SELECT id, isomargin.top_up_to_ok(size, entry_price, mark_price, margin, mmr,
                                     contract_size, kind, fee_rate) AS v
    FROM positions$q$),
-- the target is the row's mark: the margin that puts the liquidation price there
(56, 'top_up_for_liquidation_price: C', 'whatif', 'c', 'sum',
 $q$SELECT id, isomargin.top_up_for_liquidation_price(size, entry_price, margin, mark_price, mmr,
                                                     contract_size, kind, fee_rate) AS v
    FROM positions$q$),
(57, 'max_removable_margin: C', 'whatif', 'c', 'sum',
 $q$SELECT id, isomargin.max_removable_margin(size, entry_price, mark_price, margin, leverage, mmr,
                                             contract_size, kind, fee_rate) AS v
    FROM positions$q$),
-- the row's margin as the collateral, at its mark and leverage
(58, 'max_size: C', 'whatif', 'c', 'sum',
 $q$SELECT id, isomargin.max_size(margin, mark_price, leverage, contract_size, kind, fee_rate) AS v
    FROM positions$q$),
-- a fill of the row's own size at the mark: an increase (the average entry
-- summed) and a full close (the cash summed); one call a row, one field
(76, 'after_fill, increase, one field: C', 'whatif_row', 'c', 'sum',
 $q$SELECT id, (isomargin.after_fill(size, entry_price, margin, size, mark_price, contract_size,
                                    kind, fee_rate)).entry_price AS v
    FROM positions$q$),
(77, 'after_fill, full close, one field: C', 'whatif_row', 'c', 'sum',
 $q$SELECT id, (isomargin.after_fill(size, entry_price, margin, -size, mark_price, contract_size,
                                    kind, fee_rate)).cash AS v
    FROM positions$q$);

-- The tiered forms, with the schedule core_tiers.sql stored (one constant).
SELECT to_regclass('bench.tier_schedules') IS NOT NULL AS has_schedules \gset
\if :has_schedules
SELECT schedule AS lin FROM bench.tier_schedules WHERE kind = 'linear' \gset
INSERT INTO bench.variants
SELECT 80 + n, name, 'whatif', 'c', 'sum',
       format(q, pg_catalog.quote_literal(:'lin') || '::isomargin.tiers')
FROM (VALUES
    (1, 'liquidation_distance with tiers: C',
     $q$SELECT id, isomargin.liquidation_distance(size, entry_price, mark_price, margin, %s,
                                                 contract_size, kind, fee_rate) AS v
        FROM positions$q$),
    (2, 'top_up_to_ok with tiers: C',
     $q$SELECT id, isomargin.top_up_to_ok(size, entry_price, mark_price, margin, %s,
                                         contract_size, kind, fee_rate) AS v
        FROM positions$q$),
    (3, 'top_up_for_liquidation_price with tiers: C',
     $q$SELECT id, isomargin.top_up_for_liquidation_price(size, entry_price, margin, mark_price, %s,
                                                         contract_size, kind, fee_rate) AS v
        FROM positions$q$),
    (4, 'max_removable_margin with tiers: C',
     $q$SELECT id, isomargin.max_removable_margin(size, entry_price, mark_price, margin, leverage, %s,
                                                 contract_size, kind, fee_rate) AS v
        FROM positions$q$),
    (5, 'max_size with tiers: C',
     $q$SELECT id, isomargin.max_size(margin, mark_price, leverage, %s, contract_size, kind,
                                     fee_rate) AS v
        FROM positions$q$),
    (6, 'max_leverage_for_size: C',
     $q$SELECT id, isomargin.max_leverage_for_size(size, mark_price, %s, contract_size, kind) AS v
        FROM positions$q$),
    -- the schedule's own questions, one a row: the row's leverage, and its
    -- margin column standing for a notional (NULL beyond the schedule)
    (7, 'max_notional: C',
     $q$SELECT id, isomargin.max_notional(%s, leverage, false) AS v FROM positions$q$),
    (8, 'max_leverage: C',
     $q$SELECT id, isomargin.max_leverage(%s, margin, false) AS v FROM positions$q$),
    (9, 'liquidation_distance_ratio with tiers: C',
     $q$SELECT id, isomargin.liquidation_distance_ratio(size, entry_price, mark_price, margin, %s,
                                                       contract_size, kind, fee_rate) AS v
        FROM positions$q$)
) AS t (n, name, q);
\else
\echo 'no tiers schedule stored by core_tiers.sql: the tiered what-if figures are skipped'
\endif
\else
\echo 'isomargin has no what-if figures yet: that part of the benchmark is skipped'
\endif
