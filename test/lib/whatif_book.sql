-- The what-if figures' test book (sql/whatif_routes.sql,
-- sql/whatif_after_fill_price.sql): 400 positions, linear and inverse, flat
-- and tiers, long and short, every margin status, zero sizes and a zero
-- margin, and a fill of each (temp table book; seed 0.17).
SELECT setseed(0.17) AS seeded \gset
CREATE TEMP TABLE book AS
SELECT g AS id,
       CASE WHEN g % 4 = 0 THEN 'inverse' ELSE 'linear' END::isomargin.contract_kind AS kind,
       CASE WHEN g % 4 = 0 THEN 100 ELSE 0.001 END::numeric AS cs,
       CASE WHEN g % 37 = 0 THEN 0
            ELSE round((CASE WHEN g % 2 = 0 THEN -1 ELSE 1 END * (1 + random() * 30000))::numeric, 0) END AS q,
       round((20000 + random() * 20000)::numeric, 1) AS e,
       random() AS u,
       round((1 + random() * 99)::numeric, 0) AS lev,
       0.004 AS mmr, 0.0005 AS fee,
       round((CASE WHEN g % 3 = 0 THEN -1 ELSE 1 END * (1 + random() * 2000))::numeric, 0) AS fill
FROM generate_series(1, 400) g;
ALTER TABLE book ADD COLUMN mark numeric, ADD COLUMN m numeric;
UPDATE book SET mark = round(e * (0.95 + 0.1 * u)::numeric, 1);
UPDATE book SET m = CASE WHEN id % 53 = 0 THEN 0
                         WHEN kind = 'linear' THEN round(abs(q) * cs * e / lev, 2)
                         ELSE round(abs(q) * cs / e / lev, 8) END;
ALTER TABLE book ADD COLUMN t isomargin.tiers NOT NULL
    DEFAULT '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50; 100000..1000000 mmr=0.02 max_leverage=20}';
