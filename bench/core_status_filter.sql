-- bench/core_status_filter.sql: the statuses as a report filters a book by
-- them, timed on top of the very aggregate of the bare sum(size) scan that
-- issue 13 item 5 names as the baseline: sum(size) of the rows whose status is
-- not bankrupt.  The rows of core_figures.sql and core_dynamic.sql count the
-- statuses with count(), against the cheaper count(size) scan; both are
-- printed.  The same queries are counted in bench/core_instructions.sh (the
-- "status filter" rows, written there with FILTER: the same per-row work).
-- Expects core_tiers.sql (the schedule) and core_dynamic.sql (dyn_positions).

\set ON_ERROR_STOP on

INSERT INTO bench.variants VALUES
(95, 'margin_status as a filter on sum(size): C', 'figures', 'c', 'sum',
 $q$SELECT id, size AS v FROM positions
    WHERE isomargin.margin_status(size, entry_price, mark_price, margin, mmr, contract_size,
                                  kind, fee_rate) <> 'bankrupt'$q$),
(97, 'dynamic_margin_status as a filter on sum(size): C', 'dynamic', 'c', 'sum',
 $q$SELECT id, size AS v FROM dyn_positions
    WHERE isomargin.dynamic_margin_status(size, entry_price, mark_price, margin, addon_rate, mmr,
                                          contract_size, kind, fee_rate) <> 'bankrupt'$q$);

SELECT to_regclass('bench.tier_schedules') IS NOT NULL AS has_schedules \gset
\if :has_schedules
SELECT schedule AS lin FROM bench.tier_schedules WHERE kind = 'linear' \gset
INSERT INTO bench.variants VALUES
(96, 'margin_status with tiers as a filter on sum(size): C', 'figures', 'c', 'sum',
 format($q$SELECT id, size AS v FROM positions
           WHERE isomargin.margin_status(size, entry_price, mark_price, margin, %s::isomargin.tiers,
                                         contract_size, kind, fee_rate) <> 'bankrupt'$q$,
        pg_catalog.quote_literal(:'lin')));
\endif
