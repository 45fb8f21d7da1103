-- Every flat-rate worked example of the domain reference
-- (shared/domain/isolated-margin.md, "Worked examples"), digit for digit.
SET extra_float_digits = 0;

CREATE TEMP TABLE flat_examples (
    id int, kind isomargin.contract_kind, q numeric, cs numeric, e numeric, m numeric,
    r numeric, f numeric, lp_ref numeric, bp_ref numeric, mcp_ref numeric);
INSERT INTO flat_examples VALUES
    (1, 'linear',    1,   1, 30000,   3000,  0.004, 0,      27108.43373494, 27000.00000000, 27135.67839196),
    (2, 'linear',   -2,   1, 30000,   6000,  0.004, 0,      32868.52589641, 33000.00000000, 32835.82089552),
    (3, 'linear',  0.5,   1, 2500.25,  250,  0.005, 0.0006, 2011.51448110,  2000.25000000,  NULL),
    (4, 'inverse', 100, 100, 40000,   0.05,  0.005, 0,      33500.00000000, 33333.33333334, 33541.66666667),
    (5, 'inverse',-100, 100, 40000,   0.05,  0.005, 0,      49750.00000000, 50000.00000000, 49687.50000000),
    (6, 'linear',    1,   1, 100,      150,  0.01,  0,      NULL,           NULL,           NULL);

-- The computed prices, printed, and compared as text with the reference
-- (the same digits and the same number of decimals).
SELECT id, kind, q,
       isomargin.liquidation_price(size => q, entry_price => e, margin => m, mmr => r,
                                   contract_size => cs, kind => kind, fee_rate => f) AS lp,
       isomargin.bankruptcy_price(size => q, entry_price => e, margin => m,
                                  contract_size => cs, kind => kind) AS bp,
       isomargin.margin_call_price(size => q, entry_price => e, margin => m, mmr => r,
                                   contract_size => cs, kind => kind, fee_rate => f) AS mcp
FROM flat_examples ORDER BY id;

SELECT id,
       isomargin.liquidation_price(q, e, m, r, cs, kind, f)::text IS NOT DISTINCT FROM lp_ref::text AS lp_ok,
       isomargin.bankruptcy_price(q, e, m, cs, kind)::text IS NOT DISTINCT FROM bp_ref::text AS bp_ok,
       (id = 3 OR isomargin.margin_call_price(q, e, m, r, cs, kind, f)::text
                  IS NOT DISTINCT FROM mcp_ref::text) AS mcp_ok
FROM flat_examples ORDER BY id;

-- Example 1 evaluated at its own prices.  The liquidation price is rounded up
-- (a long), so at the rounded price itself the exact check still says
-- margin_call, as the reference notes; 1e-8 lower it says liquidate.  At the
-- bankruptcy price equity is exactly zero.
SELECT p AS mark,
       isomargin.equity(1, 30000, p, 3000) AS equity,
       isomargin.maintenance_margin(1, p, 0.004) AS mm,
       isomargin.margin_ratio(1, 30000, p, 3000, 0.004) AS ratio,
       isomargin.margin_status(1, 30000, p, 3000, 0.004) AS status
FROM (VALUES (30000), (27135.68), (27135.67839196), (27108.44), (27108.43373494), (27108.43373493), (27000.00000001), (27000), (26000)) v(p)
ORDER BY p DESC;

-- The same for the inverse long (example 4), amounts in coin.
SELECT p AS mark,
       isomargin.notional(100, p, 100, 'inverse') AS notional,
       isomargin.unrealized_pnl(100, 40000, p, 100, 'inverse') AS pnl,
       isomargin.equity(100, 40000, p, 0.05, 100, 'inverse') AS equity,
       isomargin.maintenance_margin(100, p, 0.005, 100, 'inverse') AS mm,
       isomargin.margin_status(100, 40000, p, 0.05, 0.005, 100, 'inverse') AS status
FROM (VALUES (40000), (33541.67), (33541.66666667), (33500.01), (33500), (33333.33333334), (33333.33333333)) v(p)
ORDER BY p DESC;

-- Everything in one row.
SELECT * FROM isomargin.assess(size => 1, entry_price => 30000, mark_price => 27120, margin => 3000,
                               mmr => 0.004, leverage => 10);
SELECT * FROM isomargin.assess(size => -100, entry_price => 40000, mark_price => 49700, margin => 0.05,
                               mmr => 0.005, contract_size => 100, kind => 'inverse');
