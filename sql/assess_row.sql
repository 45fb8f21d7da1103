-- assess's row (src/figure_row.c): the fast route forms it in place, with the
-- bytes heap_form_tuple gives; the exact route (isomargin.fast_route off)
-- forms it by heap_form_tuple.  Over a book that takes every pattern of NULL
-- fields (no leverage: initial_margin NULL; an over-collateralized long: no
-- liquidation or margin-call price; a zero size; a bankrupt position), the
-- two rows must be equal field by field and in their binary images (*=), and
-- a row stored in a table must read back the same.
SELECT setseed(0.23);
CREATE TEMP TABLE ab AS
SELECT g AS id,
       round(((CASE WHEN random() < 0.45 THEN -1 ELSE 1 END) * 10 ^ (random() * 4 - 1))::numeric, 3)
         * (CASE WHEN g % 41 = 0 THEN 0 ELSE 1 END) AS q,
       round((20000 + random() * 20000)::numeric, 1) AS e,
       round((20000 + random() * 20000)::numeric, 1) AS k,
       round((random() * 40000)::numeric, 4) * (CASE WHEN g % 7 = 0 THEN 100 ELSE 1 END) AS m,
       CASE WHEN g % 3 = 0 THEN NULL ELSE round((1 + random() * 99)::numeric, 0) END AS lev,
       CASE WHEN g % 5 = 0 THEN 'inverse' ELSE 'linear' END::isomargin.contract_kind AS kind,
       CASE WHEN g % 5 = 0 THEN 100 ELSE 1 END::numeric AS cs
FROM generate_series(1, 3000) g;
UPDATE ab SET m = round(m / 20000, 8) WHERE kind = 'inverse';

CREATE TEMP TABLE fast_rows AS
SELECT id, isomargin.assess(q, e, k, m, 0.005, cs, kind, 0.0006, 0.8, 0.1, lev) AS a FROM ab;
SET isomargin.fast_route = off;
CREATE TEMP TABLE exact_rows AS
SELECT id, isomargin.assess(q, e, k, m, 0.005, cs, kind, 0.0006, 0.8, 0.1, lev) AS a FROM ab;
RESET isomargin.fast_route;

-- how many rows of each NULL pattern the book has (each must be > 0)
SELECT (a).initial_margin IS NULL AS no_im, (a).liquidation_price IS NULL AS no_lp,
       (a).margin_ratio IS NULL AS no_ratio, count(*)
FROM fast_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;

SELECT count(*) AS rows,
       count(*) FILTER (WHERE f.a IS DISTINCT FROM x.a) AS differ,
       count(*) FILTER (WHERE NOT (f.a *= x.a)) AS differ_in_image,
       count(*) FILTER (WHERE (f.a).liquidation_price IS DISTINCT FROM (x.a).liquidation_price
                           OR (f.a).status IS DISTINCT FROM (x.a).status
                           OR (f.a).bankruptcy_price IS DISTINCT FROM (x.a).bankruptcy_price) AS differ_by_field
FROM fast_rows f JOIN exact_rows x USING (id);

-- the rows as a table stores them, and read back
CREATE TEMP TABLE stored (id int, a isomargin.assessment);
INSERT INTO stored SELECT id, isomargin.assess(q, e, k, m, 0.005, cs, kind, 0.0006, 0.8, 0.1, lev) FROM ab;
SELECT count(*) FILTER (WHERE NOT (s.a *= x.a)) AS stored_differ,
       count(DISTINCT s.a) = count(DISTINCT x.a) AS same_distinct
FROM stored s JOIN exact_rows x USING (id);
-- every field of one row (an over-collateralized long without leverage), expanded
SELECT (isomargin.assess(1, 20000, 19900, 25000, 0.005)).*;
SELECT a.* FROM ab CROSS JOIN LATERAL isomargin.assess(q, e, k, m, 0.005, cs, kind, 0.0006, 0.8, 0.1, lev) a
WHERE ab.id IN (3, 7, 41) ORDER BY ab.id;
