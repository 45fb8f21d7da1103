-- The fast route and the exact route (src/functions.c; both compiled from
-- src/formulas_template.h) must agree on every row: liquidation_price and
-- bankruptcy_price by default (the fast route, declining to the exact one for
-- what it cannot take) against assess by the exact route alone: small and huge
-- numbers (the fast route declines those), many decimals, zero sizes,
-- positions never liquidated, ticks, linear and inverse, flat and tiers, rule
-- arguments as constants and as columns.
-- The oracle: assess by the exact route alone (pg_temp.exact_assess).
\set ECHO none
\i test/lib/exact_assess.sql
\set ECHO all
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
INSERT INTO rules VALUES
    ('linear', 1, 0.004, 0.0006, 0,
     '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50; 100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10; 2000000..10000000 mmr=0.1 max_leverage=5}'),
    ('inverse', 100, 0.005, 0, 0.5,
     '{0..5 mmr=0.005 max_leverage=100; 5..10 mmr=0.01 max_leverage=50; 10..20 mmr=0.025 max_leverage=20; 20..50 mmr=0.05 max_leverage=10}');

-- Rule arguments from columns.
SELECT r.kind,
       count(*) FILTER (WHERE isomargin.liquidation_price(q, x.m, x.mm, r.r, r.cs, r.kind, r.f, r.tick)
                        IS DISTINCT FROM (pg_temp.exact_assess(q, x.m, x.m, x.mm, r.r, r.cs, r.kind, r.f, 1, r.tick)).liquidation_price) AS flat_lp_mismatches,
       count(*) FILTER (WHERE isomargin.liquidation_price(q, x.m, x.mm, r.t, r.cs, r.kind, r.f, r.tick)
                        IS DISTINCT FROM (pg_temp.exact_assess(q, x.m, x.m, x.mm, r.t, r.cs, r.kind, r.f, 1, r.tick)).liquidation_price) AS tiers_lp_mismatches,
       count(*) FILTER (WHERE isomargin.bankruptcy_price(q, x.m, x.mm, r.cs, r.kind, r.tick)
                        IS DISTINCT FROM (pg_temp.exact_assess(q, x.m, x.m, x.mm, r.r, r.cs, r.kind, r.f, 1, r.tick)).bankruptcy_price) AS bp_mismatches,
       count(*) FILTER (WHERE isomargin.liquidation_price(q, x.m, x.mm, r.r, r.cs, r.kind, r.f, r.tick) IS NULL) AS lp_nulls
FROM rules r, LATERAL (SELECT q, e AS m, CASE r.kind WHEN 'linear' THEN m ELSE mc END AS mm FROM qp) x
GROUP BY r.kind ORDER BY r.kind;

-- Rule arguments as constants (the same values).
SELECT count(*) FILTER (WHERE isomargin.liquidation_price(q, e, m, 0.004, 1, 'linear', 0.0006, 0)
                        IS DISTINCT FROM (pg_temp.exact_assess(q, e, e, m, 0.004, 1, 'linear', 0.0006, 1, 0)).liquidation_price) AS linear_lp_mismatches,
       count(*) FILTER (WHERE isomargin.liquidation_price(q, e, mc, 0.005, 100, 'inverse', 0, 0.5)
                        IS DISTINCT FROM (pg_temp.exact_assess(q, e, e, mc, 0.005, 100, 'inverse', 0, 1, 0.5)).liquidation_price) AS inverse_lp_mismatches,
       count(*) FILTER (WHERE isomargin.bankruptcy_price(q, e, mc, 100, 'inverse', 0.5)
                        IS DISTINCT FROM (pg_temp.exact_assess(q, e, e, mc, 0.005, 100, 'inverse', 0, 1, 0.5)).bankruptcy_price) AS inverse_bp_mismatches
FROM qp;

-- A bad row still gets its error.
SELECT isomargin.liquidation_price(q, e, m, 0.004) FROM (VALUES (1, 30000, 3000), (1, 0, 3000)) v(q, e, m);

-- Rule arguments that change from row to row (instruments interleaved, as in
-- a book ordered by position id): after the first row they are read straight
-- from their datums; the answers must still be those of assess.
CREATE TEMP TABLE book AS
SELECT g AS id, q, e,
       CASE g % 4 WHEN 3 THEN mc ELSE m END AS m,
       (ARRAY['linear', 'linear', 'linear', 'inverse'])[g % 4 + 1]::isomargin.contract_kind AS kind,
       (ARRAY[1, 0.01, 1, 100])[g % 4 + 1]::numeric AS cs,
       (ARRAY[0.004, 0.005, 0.01, 0.005])[g % 4 + 1]::numeric AS r,
       (ARRAY[0.0005, 0, 0.0006, 0.0005])[g % 4 + 1]::numeric AS f,
       (ARRAY[0, 0.1, 0, 0.5])[g % 4 + 1]::numeric AS tick
FROM qp JOIN generate_series(1, 3000) AS g ON g = qp.id;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE isomargin.liquidation_price(q, e, m, r, cs, kind, f, tick)
                        IS DISTINCT FROM (pg_temp.exact_assess(q, e, e, m, r, cs, kind, f, 1, tick)).liquidation_price) AS lp_mismatches,
       count(*) FILTER (WHERE isomargin.bankruptcy_price(q, e, m, cs, kind, tick)
                        IS DISTINCT FROM (pg_temp.exact_assess(q, e, e, m, r, cs, kind, f, 1, tick)).bankruptcy_price) AS bp_mismatches,
       count(*) FILTER (WHERE isomargin.liquidation_price(q, e, m, r, cs, kind, f, tick) IS NULL) AS lp_nulls
FROM book;

-- A bad rule value after many good rows still gets its own error, and an
-- unusual one (many decimals, a kind first seen late) its exact answer.
SELECT count(isomargin.liquidation_price(q, e, m, CASE WHEN id = 2000 THEN 1 ELSE r END, cs, kind, f)) FROM book;
SELECT count(isomargin.liquidation_price(q, e, m, r, cs, kind, CASE WHEN id = 2000 THEN -0.001 ELSE f END)) FROM book;
SELECT count(isomargin.liquidation_price(q, e, m, r, cs, kind, CASE WHEN id = 2000 THEN 1 - r ELSE f END)) FROM book;
SELECT count(isomargin.liquidation_price(q, e, m, r, CASE WHEN id = 2000 THEN 0 ELSE cs END, kind, f)) FROM book;
SELECT count(isomargin.bankruptcy_price(q, e, m, cs, kind, CASE WHEN id = 2000 THEN -1 ELSE tick END)) FROM book;
SELECT count(isomargin.liquidation_price(q, e, m, CASE WHEN id = 2000 THEN 'NaN' ELSE r END, cs, kind, f)) FROM book;
SELECT count(*) FILTER (WHERE isomargin.liquidation_price(q, e, m, rr, cs, kk, ff)
                        IS DISTINCT FROM (pg_temp.exact_assess(q, e, e, m, rr, cs, kk, ff, 1)).liquidation_price) AS late_mismatches
FROM (SELECT *, CASE WHEN id > 2500 THEN kind ELSE 'linear' END AS kk,
             CASE WHEN id % 7 = 0 THEN r + 0.0000000000000000001 ELSE r END AS rr,
             CASE WHEN id % 11 = 0 THEN 0.00050000000000000000000001 ELSE f END AS ff
      FROM book) AS b;
