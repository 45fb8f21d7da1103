-- Venue conventions as explicit arguments (issue 14 items 1, 2, 3): each
-- against a value worked out by hand in the comment beside it; the defaults
-- are the mark basis, so every other test's output is unchanged.
SET extra_float_digits = 0;

-- mm_basis => 'entry' (Bybit classic): MM = N(E) * (r + f) - A, fixed.
-- Long 1 at 20,000, margin 400, r 0.5%: MM = 100.
-- Margin call (c = 0.8): 0.8 * (400 + P - 20000) = 100, P = 19,725.
SELECT isomargin.margin_call_price(1, 20000, 400, 0.005, mm_basis => 'entry') AS mcp_19725;
-- with a fee to close of 0.055% charged with maintenance, on the entry
-- notional too: MM = 20000 * 0.00555 = 111, LP = 20000 - (400 - 111) = 19,711.
SELECT isomargin.liquidation_price(1, 20000, 400, 0.005, fee_rate => 0.00055, mm_basis => 'entry') AS lp_19711;

-- fee_basis => 'bankruptcy' (Bybit): the fee on N(BP).  BP = 19,600,
-- fee = 19600 * 0.00055 = 10.78.
--   entry basis: MM = 100 + 10.78, LP = 20000 - (400 - 110.78) = 19,710.78
--   mark basis: 400 + P - 20000 = 0.005 P + 10.78, P = 19610.78 / 0.995
--     = 19709.32663316582... (up)
--   the default (fee at the mark): 19600 / 0.99445 = 19709.38709839609... (up)
SELECT isomargin.liquidation_price(1, 20000, 400, 0.005, fee_rate => 0.00055,
                                   mm_basis => 'entry', fee_basis => 'bankruptcy') AS entry_bankruptcy,
       isomargin.liquidation_price(1, 20000, 400, 0.005, fee_rate => 0.00055,
                                   fee_basis => 'bankruptcy') AS mark_bankruptcy,
       isomargin.liquidation_price(1, 20000, 400, 0.005, fee_rate => 0.00055) AS mark_mark;
-- the maintenance margin at 19,800 under each: 99 + 10.78; 100 + 10.78; 19800 * 0.00555
SELECT (isomargin.assess(1, 20000, 19800, 400, 0.005, fee_rate => 0.00055, fee_basis => 'bankruptcy')).maintenance_margin AS mark_bankruptcy,
       (isomargin.assess(1, 20000, 19800, 400, 0.005, fee_rate => 0.00055, mm_basis => 'entry',
                         fee_basis => 'bankruptcy')).maintenance_margin AS entry_bankruptcy,
       (isomargin.assess(1, 20000, 19800, 400, 0.005, fee_rate => 0.00055)).maintenance_margin AS mark_mark;
-- A short's bankruptcy notional is above its entry: -1 at 20,000, margin
-- 400: BP 20,400, fee 11.22; entry basis LP = 20000 + (400 - 100 - 11.22) = 20,288.78.
SELECT isomargin.liquidation_price(-1, 20000, 400, 0.005, fee_rate => 0.00055,
                                   mm_basis => 'entry', fee_basis => 'bankruptcy') AS short_20288_78;
-- No bankruptcy price (a long with margin at least its notional): no fee.
SELECT isomargin.liquidation_price(1, 100, 100, 0.01, fee_rate => 0.001,
                                   mm_basis => 'entry', fee_basis => 'bankruptcy') AS lp_1,
       isomargin.liquidation_price(1, 100, 100, 0.01, mm_basis => 'entry') AS same;
-- Inverse, long 8,000 USD at 8,000, margin 0.02 BTC, r 0.5%, f 0.075%:
-- N(BP) = 0.02 + 1 = 1.02 BTC, fee 0.000765 BTC.
--   mark basis: 1.02 - 8000/P = 40/P + 0.000765, P = 8040 / 1.019235 = 7888.26914303374... (up)
--   entry basis: 1.02 - 8000/P = 0.005 + 0.000765, P = 8000 / 1.014235 = 7887.71832957845... (up)
SELECT isomargin.liquidation_price(8000, 8000, 0.02, 0.005, kind => 'inverse', fee_rate => 0.00075,
                                   fee_basis => 'bankruptcy') AS inverse_mark_bankruptcy,
       isomargin.liquidation_price(8000, 8000, 0.02, 0.005, kind => 'inverse', fee_rate => 0.00075,
                                   mm_basis => 'entry', fee_basis => 'bankruptcy') AS inverse_entry_bankruptcy;
-- The exact check turns at the exact root, 7888.2691430337...: the rounded
-- price (up, on the safe side of it) still says margin_call, 10^-8 below it
-- liquidate.
SELECT isomargin.margin_status(8000, 8000, 7888.26914304, 0.02, 0.005, kind => 'inverse', fee_rate => 0.00075,
                               fee_basis => 'bankruptcy') AS at_rounded_lp,
       isomargin.margin_status(8000, 8000, 7888.26914303, 0.02, 0.005, kind => 'inverse', fee_rate => 0.00075,
                               fee_basis => 'bankruptcy') AS below;

-- bracket_basis => 'entry': the bracket of the notional at entry for every
-- price, as calculators that do not iterate take it.  The domain reference's
-- tier examples T2, T4 and T6, column "LP with E's bracket" (the default, the
-- tier-consistent root, beside it).
\set lin '''{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50; 100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10; 2000000..10000000 mmr=0.1 max_leverage=5}''::isomargin.tiers'
\set coin '''{0..5 mmr=0.005 max_leverage=100; 5..10 mmr=0.01 max_leverage=50; 10..20 mmr=0.025 max_leverage=20; 20..50 mmr=0.05 max_leverage=10}''::isomargin.tiers'
SELECT t, isomargin.liquidation_price(q, e, m, tiers => tr, contract_size => cs, kind => k,
                                      bracket_basis => 'entry') AS entry_bracket,
       isomargin.liquidation_price(q, e, m, tiers => tr, contract_size => cs, kind => k) AS consistent
  FROM (VALUES ('T2', 10, 1, 20000, 105000, 'linear'::isomargin.contract_kind, :lin),
               ('T4', -4, 1, 20000, 21000, 'linear', :lin),
               ('T6', 800, 100, 10000, 2.5, 'inverse', :coin)) AS x(t, q, cs, e, m, k, tr)
 ORDER BY t;

-- tier_basis => 'contracts' (OKX): the bracket of |size| in contracts
-- against floors in contracts, its rate on the whole notional, no deduction:
-- a step schedule (amounts=none).  800 contracts of 0.01 BTC long at 20,000
-- (notional 160,000) with margin 3,200: bracket 2 (500 < 800 <= 1000), 0.6%:
-- LP = (160000 - 3200) / (8 * 0.994) = 19718.30985915492... (up)
\set okx '''{amounts=none; 0..500 mmr=0.004 max_leverage=100; 500..1000 mmr=0.006 max_leverage=75; 1000..2000 mmr=0.01 max_leverage=50}''::isomargin.tiers'
SELECT isomargin.liquidation_price(800, 20000, 3200, :okx, contract_size => 0.01,
                                   tier_basis => 'contracts') AS okx_lp,
       isomargin.maintenance_margin(800, 20000, :okx, contract_size => 0.01,
                                    tier_basis => 'contracts') AS mm_960,
       isomargin.maintenance_margin(1000, 20000, :okx, contract_size => 0.01,
                                    tier_basis => 'contracts') AS mm_at_cap_1200,
       isomargin.maintenance_margin(1001, 20000, :okx, contract_size => 0.01,
                                    tier_basis => 'contracts') AS mm_above_2002;
-- Its margin ratio as OKX prints it (item 3): equity / (MM with the fee),
-- at 19,800: Q = 3200 - 8 * 200 = 1600, MM = 158400 * 0.006 = 950.4,
-- 1600 / 950.4 = 1.68350168350168350... (down)
SELECT isomargin.okx_margin_ratio(800, 20000, 19800, 3200, :okx, contract_size => 0.01,
                                  tier_basis => 'contracts') AS okx_ratio,
       isomargin.margin_ratio(800, 20000, 19800, 3200, :okx, contract_size => 0.01,
                              tier_basis => 'contracts') AS mm_over_equity;
-- The README's position at 27,120: 120 / 108.48 = 1.10619469026548672... (down);
-- NULL for a zero size; negative past bankruptcy (Q = -30, MM = 107.88).
SELECT isomargin.okx_margin_ratio(1, 30000, 27120, 3000, 0.004) AS readme,
       isomargin.okx_margin_ratio(0, 30000, 27120, 3000, 0.004) AS zero_size,
       isomargin.okx_margin_ratio(1, 30000, 26970, 3000, 0.004) AS past_bankruptcy;

-- Step tiers by notional (amounts=none): MM jumps at a boundary, and two
-- brackets can each put the root in the other.  Short 4 at 20,000 (notional
-- 80,000, bracket 1 at 1%), margin 23,000: bracket 1's root 103000 / 4.04 =
-- 25,495.05 lies above its cap (N = 100,000 at P = 25,000), bracket 2's
-- (5%) 103000 / 4.2 = 24,523.81 below it.  The liquidation price is the
-- boundary, 25,000: there the check says ok (bracket 1: Q 3,000, MM 1,000),
-- a cent above it liquidate (bracket 2: Q 2,999.96, MM 5,000.002).
\set step '''{amounts=none; 0..100000 mmr=0.01 max_leverage=50; 100000..1000000 mmr=0.05 max_leverage=10}''::isomargin.tiers'
SELECT isomargin.liquidation_price(-4, 20000, 23000, :step) AS boundary,
       isomargin.margin_status(-4, 20000, 25000, 23000, :step) AS at_it,
       isomargin.margin_status(-4, 20000, 25000.01, 23000, :step) AS a_cent_above;
-- The same brackets with derived amounts (A_2 = 4,000) are continuous:
-- 103000 + 4000 = 4.2 P, P = 25,476.19047619... (down)
SELECT isomargin.liquidation_price(-4, 20000, 23000,
         '{0..100000 mmr=0.01 max_leverage=50; 100000..1000000 mmr=0.05 max_leverage=10}'::isomargin.tiers) AS continuous;

-- A flat mmr with the bracket's maintenance amount beside it (item 1): the
-- largest exchange's liquidation price with cum: long 10 at 30,000, margin
-- 30,000, r 1%, A 1,300: (300000 - 30000 - 1300) / (10 * 0.99) = 27141.41414141... (up)
SELECT isomargin.liquidation_price(10, 30000, 30000, 0.01, maintenance_amount => 1300) AS with_cum,
       isomargin.liquidation_price(10, 30000, 30000,
         '{0..50000 mmr=0.004 max_leverage=125; 50000..250000 mmr=0.005 max_leverage=100; 250000..1000000 mmr=0.01 max_leverage=50}'::isomargin.tiers) AS tiers_same;

-- Conventions from columns, changing row by row (the rule cache keys them):
-- equal to the same calls with constants, by both routes.
CREATE TEMP TABLE book AS
SELECT i, (ARRAY[1, -1, 3, -2])[1 + i % 4] * (1 + i % 7) AS size, 20000 + i AS entry,
       400 + 10 * (i % 13) AS margin,
       (ARRAY['mark', 'entry'])[1 + i % 2]::isomargin.mm_basis AS mb,
       (ARRAY['mark', 'bankruptcy'])[1 + (i / 2) % 2]::isomargin.fee_basis AS fb,
       (ARRAY['notional', 'contracts'])[1 + (i / 3) % 2]::isomargin.tier_basis AS tb,
       (ARRAY['price', 'entry'])[1 + (i / 5) % 2]::isomargin.bracket_basis AS bb
  FROM generate_series(1, 400) AS i;
CREATE TEMP TABLE answers AS
SELECT i, isomargin.liquidation_price(size, entry, margin, 0.005, fee_rate => 0.0006, mm_basis => mb, fee_basis => fb) AS lp,
       isomargin.margin_status(size, entry, entry - 50, margin, 0.005, fee_rate => 0.0006, mm_basis => mb, fee_basis => fb) AS st,
       isomargin.liquidation_price(size, entry, margin, :okx, fee_rate => 0.0006, mm_basis => mb, fee_basis => fb,
                                   tier_basis => tb, bracket_basis => bb) AS lp_tiers
  FROM book;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE a.lp IS DISTINCT FROM c.lp) AS lp_differ,
       count(*) FILTER (WHERE a.st IS DISTINCT FROM c.st) AS status_differ,
       count(*) FILTER (WHERE a.lp_tiers IS DISTINCT FROM c.lp_tiers) AS tiers_differ,
       count(DISTINCT a.lp) AS distinct_prices
  FROM answers a JOIN (
    SELECT i,
           CASE WHEN mb = 'mark' AND fb = 'mark' THEN isomargin.liquidation_price(size, entry, margin, 0.005, fee_rate => 0.0006)
                WHEN mb = 'mark' THEN isomargin.liquidation_price(size, entry, margin, 0.005, fee_rate => 0.0006, fee_basis => 'bankruptcy')
                WHEN fb = 'mark' THEN isomargin.liquidation_price(size, entry, margin, 0.005, fee_rate => 0.0006, mm_basis => 'entry')
                ELSE isomargin.liquidation_price(size, entry, margin, 0.005, fee_rate => 0.0006, mm_basis => 'entry', fee_basis => 'bankruptcy') END AS lp,
           CASE WHEN mb = 'mark' AND fb = 'mark' THEN isomargin.margin_status(size, entry, entry - 50, margin, 0.005, fee_rate => 0.0006)
                WHEN mb = 'mark' THEN isomargin.margin_status(size, entry, entry - 50, margin, 0.005, fee_rate => 0.0006, fee_basis => 'bankruptcy')
                WHEN fb = 'mark' THEN isomargin.margin_status(size, entry, entry - 50, margin, 0.005, fee_rate => 0.0006, mm_basis => 'entry')
                ELSE isomargin.margin_status(size, entry, entry - 50, margin, 0.005, fee_rate => 0.0006, mm_basis => 'entry', fee_basis => 'bankruptcy') END AS st,
           CASE WHEN tb = 'notional' AND bb = 'price' THEN isomargin.liquidation_price(size, entry, margin, :okx, fee_rate => 0.0006, mm_basis => mb, fee_basis => fb)
                WHEN tb = 'notional' THEN isomargin.liquidation_price(size, entry, margin, :okx, fee_rate => 0.0006, mm_basis => mb, fee_basis => fb, bracket_basis => 'entry')
                WHEN bb = 'price' THEN isomargin.liquidation_price(size, entry, margin, :okx, fee_rate => 0.0006, mm_basis => mb, fee_basis => fb, tier_basis => 'contracts')
                ELSE isomargin.liquidation_price(size, entry, margin, :okx, fee_rate => 0.0006, mm_basis => mb, fee_basis => fb, tier_basis => 'contracts', bracket_basis => 'entry') END AS lp_tiers
      FROM book) c USING (i);
-- the exact route agrees with the fast one
SET isomargin.fast_route = off;
SELECT count(*) FILTER (WHERE a.lp IS DISTINCT FROM isomargin.liquidation_price(size, entry, margin, 0.005, fee_rate => 0.0006, mm_basis => mb, fee_basis => fb)) AS exact_lp_differ,
       count(*) FILTER (WHERE a.lp_tiers IS DISTINCT FROM isomargin.liquidation_price(size, entry, margin, :okx, fee_rate => 0.0006, mm_basis => mb, fee_basis => fb,
                                   tier_basis => tb, bracket_basis => bb)) AS exact_tiers_differ
  FROM answers a JOIN book USING (i);
RESET isomargin.fast_route;

-- Errors (22023): a negative maintenance amount; floors in contracts with
-- amounts derived from them.
\set ECHO none
\i test/lib/try.sql
\set ECHO all
SELECT pg_temp.try($$SELECT isomargin.liquidation_price(1, 30000, 3000, 0.004, maintenance_amount => -1)$$);
SELECT pg_temp.try($$SELECT isomargin.liquidation_price(800, 20000, 3200,
    '{0..500 mmr=0.004 max_leverage=100; 500..1000 mmr=0.006 max_leverage=75}'::isomargin.tiers,
    tier_basis => 'contracts')$$);

-- Item 7, side by side: the position above (long 1 at 20,000, margin 400,
-- r 0.5%, f 0.055%) under each convention; the spread is 19,711 -
-- 19,709.32663317 = 1.67336683.
SELECT * FROM isomargin.liquidation_price_by_convention(1, 20000, 400, 0.005, fee_rate => 0.00055);
-- with tiers (T4 of the domain reference, no fee): the bracket at entry moves
-- the mark basis's price from 25,012.25490196 to 25,012.37623762; the entry
-- basis takes N(E) = 80,000 in bracket 2 (1%, A 50): MM = 750,
-- LP = 20000 + (21000 - 750) / 4 = 25,062.5.
SELECT * FROM isomargin.liquidation_price_by_convention(-4, 20000, 21000, :lin);
-- no liquidation price under any convention: NULL rows, NULL spread
SELECT mm_basis, fee_basis, liquidation_price, spread
  FROM isomargin.liquidation_price_by_convention(1, 100, 150, 0.01);
