-- The quick route (src/quick.c) serves liquidation_price and bankruptcy_price
-- at call sites whose rule arguments are constants; with the same values in
-- columns the general route answers.  Both must agree on every row: small
-- and huge numbers (the quick route declines those), many decimals, zero
-- sizes, positions never liquidated, ticks, linear and inverse, flat and tiers.
SELECT setseed(0.7);
CREATE TEMP TABLE qp AS
SELECT g AS id,
       round(((CASE WHEN random() < 0.5 THEN -1 ELSE 1 END) * 10 ^ (random() * 6 - 2))::numeric,
             (random() * 6)::int) * (CASE WHEN g % 50 = 0 THEN 0 WHEN g % 97 = 0 THEN 1e20 ELSE 1 END) AS q,
       round((1000 + random() * 60000)::numeric, (random() * 12)::int) AS e,
       round((random() * 20000)::numeric, (random() * 10)::int) AS m
FROM generate_series(1, 3000) g;
ALTER TABLE qp ADD COLUMN mc numeric;          -- margin in coin, for inverse contracts
UPDATE qp SET mc = round(m * 0.0001, 8);

CREATE TEMP TABLE rules (kind isomargin.contract_kind, cs numeric, r numeric, f numeric, tick numeric,
                         t isomargin.tiers);
INSERT INTO rules VALUES ('linear', 1, 0.004, 0.0006, 0, '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50; 100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10; 2000000..10000000 mmr=0.1 max_leverage=5}'),
                         ('inverse', 100, 0.005, 0, 0.5, '{0..5 mmr=0.005 max_leverage=100; 5..10 mmr=0.01 max_leverage=50; 10..20 mmr=0.025 max_leverage=20; 20..50 mmr=0.05 max_leverage=10}');

-- Constants (quick route) against the same values from the rules table (general route).
SELECT 'linear flat' AS route,
       count(*) FILTER (WHERE isomargin.liquidation_price(q, e, m, 0.004, 1, 'linear', 0.0006, 0)
                        IS DISTINCT FROM isomargin.liquidation_price(q, e, m, r.r, r.cs, r.kind, r.f, r.tick)) AS lp_mismatches,
       count(*) FILTER (WHERE isomargin.bankruptcy_price(q, e, m, 1, 'linear', 0)
                        IS DISTINCT FROM isomargin.bankruptcy_price(q, e, m, r.cs, r.kind, r.tick)) AS bp_mismatches,
       count(*) FILTER (WHERE isomargin.liquidation_price(q, e, m, 0.004, 1, 'linear', 0.0006, 0) IS NULL) AS lp_nulls
FROM qp, rules r WHERE r.kind = 'linear'
UNION ALL
SELECT 'linear tiers',
       count(*) FILTER (WHERE isomargin.liquidation_price(q, e, m, '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50; 100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10; 2000000..10000000 mmr=0.1 max_leverage=5}'::isomargin.tiers, 1, 'linear', 0.0006, 0.01)
                        IS DISTINCT FROM isomargin.liquidation_price(q, e, m, r.t, r.cs, r.kind, r.f, 0.01 + 0 * r.tick)),
       count(*) FILTER (WHERE isomargin.bankruptcy_price(q, e, m, 1, 'linear', 0.01)
                        IS DISTINCT FROM isomargin.bankruptcy_price(q, e, m, r.cs, r.kind, 0.01 + 0 * r.tick)),
       NULL
FROM qp, rules r WHERE r.kind = 'linear'
UNION ALL
SELECT 'inverse flat',
       count(*) FILTER (WHERE isomargin.liquidation_price(q, e, mc, 0.005, 100, 'inverse', 0, 0.5)
                        IS DISTINCT FROM isomargin.liquidation_price(q, e, mc, r.r, r.cs, r.kind, r.f, r.tick)),
       count(*) FILTER (WHERE isomargin.bankruptcy_price(q, e, mc, 100, 'inverse', 0.5)
                        IS DISTINCT FROM isomargin.bankruptcy_price(q, e, mc, r.cs, r.kind, r.tick)),
       count(*) FILTER (WHERE isomargin.liquidation_price(q, e, mc, 0.005, 100, 'inverse', 0, 0.5) IS NULL)
FROM qp, rules r WHERE r.kind = 'inverse'
UNION ALL
SELECT 'inverse tiers',
       count(*) FILTER (WHERE isomargin.liquidation_price(q, e, mc, '{0..5 mmr=0.005 max_leverage=100; 5..10 mmr=0.01 max_leverage=50; 10..20 mmr=0.025 max_leverage=20; 20..50 mmr=0.05 max_leverage=10}'::isomargin.tiers, 100, 'inverse', 0, 0)
                        IS DISTINCT FROM isomargin.liquidation_price(q, e, mc, r.t, r.cs, r.kind, r.f, 0 * r.tick)),
       NULL, NULL
FROM qp, rules r WHERE r.kind = 'inverse';

-- A bad row at a quick call site still gets its error from the general route.
SELECT isomargin.liquidation_price(q, e, m, 0.004) FROM (VALUES (1, 30000, 3000), (1, 0, 3000)) v(q, e, m);
