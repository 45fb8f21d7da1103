-- The figures' planner support function (src/figure_support.c, issue 14
-- item 8): a call whose trailing convention arguments are constants equal to
-- their defaults is planned without them (EXPLAIN VERBOSE shows the shorter
-- call), every other argument is kept, and the answers are those of the call
-- with every argument.

-- Every C figure that takes a convention argument has the support function;
-- nothing else in the schema does.
SELECT p.oid::regprocedure AS figure
FROM pg_proc p
WHERE p.pronamespace = 'isomargin'::regnamespace AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c')
  AND p.proargnames && ARRAY['mm_basis', 'fee_basis', 'maintenance_amount', 'tier_basis', 'bracket_basis']
  AND p.prosupport <> 'isomargin._figure_support'::regproc
ORDER BY 1::text;
SELECT p.proname, count(*) AS overloads
FROM pg_proc p
WHERE p.prosupport = 'isomargin._figure_support'::regproc
GROUP BY 1 ORDER BY 1;

CREATE TEMP TABLE fs (size numeric, entry numeric, mark numeric, margin numeric, mmr numeric,
                      basis isomargin.mm_basis);
INSERT INTO fs VALUES (1, 20000, 19900, 400, 0.005, 'entry');

-- Defaults left out: every convention argument dropped.
EXPLAIN (VERBOSE, COSTS OFF)
SELECT isomargin.liquidation_price(size, entry, margin, mmr) FROM fs;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT isomargin.margin_status(size, entry, mark, margin, mmr, fee_rate => 0.0005) FROM fs;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT isomargin.maintenance_margin(size, mark, mmr) FROM fs;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT a.liquidation_price FROM fs CROSS JOIN LATERAL isomargin.assess(size, entry, mark, margin, mmr) a;
-- The defaults written out: dropped too.
EXPLAIN (VERBOSE, COSTS OFF)
SELECT isomargin.margin_call_price(size, entry, margin, mmr, mm_basis => 'mark', fee_basis => 'mark',
                                   maintenance_amount => 0) FROM fs;
-- Not the default: kept, with every argument before it (mm_basis here).
EXPLAIN (VERBOSE, COSTS OFF)
SELECT isomargin.liquidation_price(size, entry, margin, mmr, fee_basis => 'bankruptcy') FROM fs;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT isomargin.liquidation_price(size, entry, margin, mmr, mm_basis => 'entry') FROM fs;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT isomargin.liquidation_price(size, entry, margin, mmr, maintenance_amount => 0.5) FROM fs;
-- the same value in another spelling (0.0) is another constant: kept
EXPLAIN (VERBOSE, COSTS OFF)
SELECT isomargin.liquidation_price(size, entry, margin, mmr, maintenance_amount => 0.0) FROM fs;
-- Not a constant: kept.
EXPLAIN (VERBOSE, COSTS OFF)
SELECT isomargin.liquidation_price(size, entry, margin, mmr, mm_basis => basis) FROM fs;
-- Arguments that are not conventions stay, defaults or not (tick_size, leverage).
EXPLAIN (VERBOSE, COSTS OFF)
SELECT isomargin.assess(size, entry, mark, margin, mmr, tick_size => 0, leverage => NULL) FROM fs;
-- With tiers: tier_basis and bracket_basis are conventions too.
\set lin '''{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50; 100000..500000 mmr=0.02 max_leverage=20}''::isomargin.tiers'
EXPLAIN (VERBOSE, COSTS OFF)
SELECT isomargin.liquidation_price(size, entry, margin, :lin, tier_basis => 'notional') FROM fs;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT isomargin.margin_ratio(size, entry, mark, margin, :lin, bracket_basis => 'entry') FROM fs;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT isomargin.maintenance_margin(size, mark, :lin) FROM fs;
-- A view keeps the call as written; its plan has the shorter call.
CREATE TEMP VIEW fs_lp AS SELECT isomargin.liquidation_price(size, entry, margin, mmr) AS lp FROM fs;
SELECT pg_get_viewdef('fs_lp'::regclass);
EXPLAIN (VERBOSE, COSTS OFF) SELECT lp FROM fs_lp;

-- The answers: a call planned without its convention arguments against the
-- same call with every one passed as a value the planner cannot fold (a
-- subquery's), which keeps them all; longs and shorts, linear and inverse,
-- flat and tiers, every convention.  Any difference is counted.
SELECT setseed(0.31);
CREATE TEMP TABLE fb AS
SELECT g AS id,
       round(((CASE WHEN random() < 0.45 THEN -1 ELSE 1 END) * 10 ^ (random() * 4 - 1))::numeric, 3) AS q,
       round((20000 + random() * 20000)::numeric, 1) AS e,
       round((20000 + random() * 20000)::numeric, 1) AS k,
       round((random() * 40000)::numeric, 4) AS m,
       CASE WHEN g % 5 = 0 THEN 'inverse' ELSE 'linear' END::isomargin.contract_kind AS kind,
       CASE WHEN g % 5 = 0 THEN 100 ELSE 1 END::numeric AS cs
FROM generate_series(1, 2000) g;
UPDATE fb SET m = round(m / 20000, 8) WHERE kind = 'inverse';

SELECT count(*) AS rows,
       count(*) FILTER (WHERE isomargin.liquidation_price(q, e, m, 0.005, cs, kind, 0.0006, 0.1)
           IS DISTINCT FROM isomargin.liquidation_price(q, e, m, 0.005, cs, kind, 0.0006, 0.1,
               (SELECT 'mark'::isomargin.mm_basis), (SELECT 'mark'::isomargin.fee_basis), (SELECT 0::numeric))) AS lp,
       count(*) FILTER (WHERE isomargin.margin_call_price(q, e, m, 0.005, cs, kind, 0.0006)
           IS DISTINCT FROM isomargin.margin_call_price(q, e, m, 0.005, cs, kind, 0.0006, 0.8, 0,
               (SELECT 'mark'::isomargin.mm_basis), (SELECT 'mark'::isomargin.fee_basis), (SELECT 0::numeric))) AS mcp,
       count(*) FILTER (WHERE isomargin.margin_status(q, e, k, m, 0.005, cs, kind, 0.0006)
           IS DISTINCT FROM isomargin.margin_status(q, e, k, m, 0.005, cs, kind, 0.0006, 0.8,
               (SELECT 'mark'::isomargin.mm_basis), (SELECT 'mark'::isomargin.fee_basis), (SELECT 0::numeric))) AS status,
       count(*) FILTER (WHERE isomargin.margin_ratio(q, e, k, m, 0.005, cs, kind, 0.0006)
           IS DISTINCT FROM isomargin.margin_ratio(q, e, k, m, 0.005, cs, kind, 0.0006,
               (SELECT 'mark'::isomargin.mm_basis), (SELECT 'mark'::isomargin.fee_basis), (SELECT 0::numeric))) AS ratio,
       count(*) FILTER (WHERE isomargin.okx_margin_ratio(q, e, k, m, 0.005, cs, kind, 0.0006)
           IS DISTINCT FROM isomargin.okx_margin_ratio(q, e, k, m, 0.005, cs, kind, 0.0006,
               (SELECT 'mark'::isomargin.mm_basis), (SELECT 'mark'::isomargin.fee_basis), (SELECT 0::numeric))) AS okx,
       count(*) FILTER (WHERE isomargin.maintenance_margin(q, k, 0.005, cs, kind, 0.0006)
           IS DISTINCT FROM isomargin.maintenance_margin(q, k, 0.005, cs, kind, 0.0006, (SELECT 0::numeric))) AS mm,
       count(*) FILTER (WHERE isomargin.assess(q, e, k, m, 0.005, cs, kind, 0.0006, 0.8, 0.1, 20)
           IS DISTINCT FROM isomargin.assess(q, e, k, m, 0.005, cs, kind, 0.0006, 0.8, 0.1, 20,
               (SELECT 'mark'::isomargin.mm_basis), (SELECT 'mark'::isomargin.fee_basis), (SELECT 0::numeric))) AS assess
FROM fb;

-- Every convention given as a constant (only what follows the last
-- non-default one is dropped) against the same value not folded.
SELECT count(*) FILTER (WHERE isomargin.liquidation_price(q, e, m, 0.005, cs, kind, 0.0006, mm_basis => 'entry')
           IS DISTINCT FROM isomargin.liquidation_price(q, e, m, 0.005, cs, kind, 0.0006,
               mm_basis => (SELECT 'entry'::isomargin.mm_basis), maintenance_amount => (SELECT 0::numeric))) AS entry,
       count(*) FILTER (WHERE isomargin.liquidation_price(q, e, m, 0.005, cs, kind, 0.0006, fee_basis => 'bankruptcy')
           IS DISTINCT FROM isomargin.liquidation_price(q, e, m, 0.005, cs, kind, 0.0006,
               fee_basis => (SELECT 'bankruptcy'::isomargin.fee_basis), maintenance_amount => (SELECT 0::numeric))) AS bankruptcy,
       count(*) FILTER (WHERE isomargin.liquidation_price(q, e, m, 0.005, cs, kind, 0.0006) =
           isomargin.liquidation_price(q, e, m, 0.005, cs, kind, 0.0006, mm_basis => 'entry')) AS entry_same_as_mark
FROM fb WHERE kind = 'linear';

-- With tiers: every convention argument left out, or passed unfolded.
SELECT count(*) FILTER (WHERE isomargin.liquidation_price(q, e, m, :lin, cs, kind, 0.0006)
           IS DISTINCT FROM isomargin.liquidation_price(q, e, m, :lin, cs, kind, 0.0006, 0,
               (SELECT 'mark'::isomargin.mm_basis), (SELECT 'mark'::isomargin.fee_basis),
               (SELECT 'notional'::isomargin.tier_basis), (SELECT 'price'::isomargin.bracket_basis))) AS lp,
       count(*) FILTER (WHERE isomargin.margin_status(q, e, k, m, :lin, cs, kind, 0.0006)
           IS DISTINCT FROM isomargin.margin_status(q, e, k, m, :lin, cs, kind, 0.0006, 0.8,
               (SELECT 'mark'::isomargin.mm_basis), (SELECT 'mark'::isomargin.fee_basis),
               (SELECT 'notional'::isomargin.tier_basis), (SELECT 'price'::isomargin.bracket_basis))) AS status,
       count(*) FILTER (WHERE isomargin.maintenance_margin(q, k, :lin, cs, kind, 0.0006)
           IS DISTINCT FROM isomargin.maintenance_margin(q, k, :lin, cs, kind, 0.0006,
               (SELECT 'notional'::isomargin.tier_basis))) AS mm,
       count(*) FILTER (WHERE isomargin.liquidation_price(q, e, m, :lin, cs, kind, 0.0006, bracket_basis => 'entry')
           IS DISTINCT FROM isomargin.liquidation_price(q, e, m, :lin, cs, kind, 0.0006,
               bracket_basis => (SELECT 'entry'::isomargin.bracket_basis))) AS bracket_entry
FROM fb WHERE kind = 'linear';
