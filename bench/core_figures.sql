-- bench/core_figures.sql: adds every scalar figure (issue 13, item 5) to the
-- core throughput benchmark, each timed against the bare scan with the same
-- aggregate on the same book: with the flat rule of each row (mmr, fee_rate,
-- contract_size, kind from its columns) and with one tiers schedule (the
-- linear schedule of bench/core_tiers.sql for every row), plus assess called
-- once a row with one field summed, and the two forms a report can take to
-- read every column of assess's row (no target: which form is cheaper).
-- Targets: each scalar figure within 2x the bare scan, assess within 4x.
-- Expects bench/core_tiers.sql to have run (it leaves the schedule in
-- bench.tier_schedules); without tiers the tiered variants are skipped.  The
-- queries are those of bench/core_instructions.sh, so instructions and time
-- speak of the same calls.

\set ON_ERROR_STOP on

INSERT INTO bench.variants VALUES
(60, 'notional: C', 'figures', 'c', 'sum',
 $q$SELECT id, isomargin.notional(size, mark_price, contract_size, kind) AS v FROM positions$q$),
(61, 'unrealized_pnl: C', 'figures', 'c', 'sum',
 $q$SELECT id, isomargin.unrealized_pnl(size, entry_price, mark_price, contract_size, kind) AS v
    FROM positions$q$),
(62, 'equity: C', 'figures', 'c', 'sum',
 $q$SELECT id, isomargin.equity(size, entry_price, mark_price, margin, contract_size, kind) AS v
    FROM positions$q$),
(63, 'maintenance_margin: C', 'figures', 'c', 'sum',
 $q$SELECT id, isomargin.maintenance_margin(size, mark_price, mmr, contract_size, kind, fee_rate) AS v
    FROM positions$q$),
(64, 'margin_ratio: C', 'figures', 'c', 'sum',
 $q$SELECT id, isomargin.margin_ratio(size, entry_price, mark_price, margin, mmr, contract_size,
                                     kind, fee_rate) AS v
    FROM positions$q$),
(65, 'margin_status: C', 'figures', 'c', 'count',
 $q$SELECT id, isomargin.margin_status(size, entry_price, mark_price, margin, mmr, contract_size,
                                      kind, fee_rate) AS v
    FROM positions$q$),
(66, 'margin_call_price: C', 'figures', 'c', 'sum',
 $q$SELECT id, isomargin.margin_call_price(size, entry_price, margin, mmr, contract_size, kind,
                                          fee_rate) AS v
    FROM positions$q$),
(67, 'bankruptcy_price: C', 'figures', 'c', 'sum',
 $q$SELECT id, isomargin.bankruptcy_price(size, entry_price, margin, contract_size, kind) AS v
    FROM positions$q$),
(68, 'assess, one call a row: C', 'assess_once', 'c', 'sum',
 $q$SELECT id, (isomargin.assess(size, entry_price, mark_price, margin, mmr, contract_size, kind,
                                fee_rate)).liquidation_price AS v
    FROM positions$q$),
-- A report reads every column of the row: the two forms that call assess once
-- a row (README.md, "Every figure of a book"), each column's value read.
(69, 'assess, every column, CROSS JOIN LATERAL: C', 'report', 'c', 'sum',
 $q$SELECT p.id, num_nonnulls(a.notional, a.unrealized_pnl, a.equity, a.initial_margin,
                 a.maintenance_margin, a.margin_ratio, a.status, a.liquidation_price,
                 a.margin_call_price, a.bankruptcy_price) AS v
    FROM positions p
    CROSS JOIN LATERAL isomargin.assess(p.size, p.entry_price, p.mark_price, p.margin, p.mmr,
                                        p.contract_size, p.kind, p.fee_rate) a$q$),
(75, 'assess, every column, subquery with OFFSET 0: C', 'report', 'c', 'sum',
 $q$SELECT id, num_nonnulls((a).notional, (a).unrealized_pnl, (a).equity, (a).initial_margin,
                 (a).maintenance_margin, (a).margin_ratio, (a).status,
                 (a).liquidation_price, (a).margin_call_price, (a).bankruptcy_price) AS v
    FROM (SELECT id, isomargin.assess(size, entry_price, mark_price, margin, mmr, contract_size,
                                      kind, fee_rate) AS a
            FROM positions OFFSET 0) s$q$);

-- The tiered forms, with the schedule core_tiers.sql stored (one constant).
SELECT to_regclass('bench.tier_schedules') IS NOT NULL AS has_schedules \gset
\if :has_schedules
SELECT schedule AS lin FROM bench.tier_schedules WHERE kind = 'linear' \gset
INSERT INTO bench.variants
SELECT 70 + n, name || ' with tiers: C', 'figures', 'c', wrapper,
       format(q, pg_catalog.quote_literal(:'lin') || '::isomargin.tiers')
FROM (VALUES
    (1, 'maintenance_margin', 'sum',
     $q$SELECT id, isomargin.maintenance_margin(size, mark_price, %s, contract_size, kind, fee_rate) AS v
        FROM positions$q$),
    (2, 'margin_ratio', 'sum',
     $q$SELECT id, isomargin.margin_ratio(size, entry_price, mark_price, margin, %s, contract_size,
                                         kind, fee_rate) AS v
        FROM positions$q$),
    (3, 'margin_status', 'count',
     $q$SELECT id, isomargin.margin_status(size, entry_price, mark_price, margin, %s, contract_size,
                                          kind, fee_rate) AS v
        FROM positions$q$),
    (4, 'margin_call_price', 'sum',
     $q$SELECT id, isomargin.margin_call_price(size, entry_price, margin, %s, contract_size, kind,
                                              fee_rate) AS v
        FROM positions$q$)
) AS t (n, name, wrapper, q);
\else
\echo 'no tiers schedule stored by core_tiers.sql: the tiered figures are skipped'
\endif
