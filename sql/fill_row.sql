-- after_fill's row (src/figure_row.h): the fast route forms it in place, with
-- the bytes heap_form_tuple gives; the exact route (isomargin.fast_route off)
-- forms it by heap_form_tuple.  Over a book of increases, partial and full
-- closes and flips, linear and inverse, with and without a fee and added
-- margin, the two rows must be equal field by field and in their binary
-- images (*=), and a row stored in a table must read back the same.
SELECT setseed(0.31);
CREATE TEMP TABLE fb AS
SELECT g AS id,
       round(((CASE WHEN random() < 0.45 THEN -1 ELSE 1 END) * 10 ^ (random() * 4 - 1))::numeric, 3) AS q,
       round((20000 + random() * 20000)::numeric, 1) AS e,
       round((random() * 40000)::numeric, 2) AS m,
       round((20000 + random() * 20000)::numeric, 1) AS px,
       g % 4 AS shape,
       CASE WHEN g % 5 = 0 THEN 'inverse' ELSE 'linear' END::isomargin.contract_kind AS kind,
       CASE WHEN g % 5 = 0 THEN 100 ELSE 1 END::numeric AS cs,
       CASE WHEN g % 3 = 0 THEN 0 ELSE 0.0005 END::numeric AS fee,
       CASE WHEN g % 7 = 0 THEN 25.5 ELSE 0 END::numeric AS added
FROM generate_series(1, 3000) g;
UPDATE fb SET m = round(m / 20000, 8) WHERE kind = 'inverse';
-- the fill: an increase, a partial close, a full close, a flip through zero
ALTER TABLE fb ADD COLUMN f numeric;
UPDATE fb SET f = CASE shape WHEN 0 THEN q WHEN 1 THEN -round(q / 3, 3) WHEN 2 THEN -q ELSE -2 * q END;

-- a full close first: its values pack, so the call site forms its rows in
-- place from the first on, and the rows whose entry or margin takes more
-- digits than the packed form (an increase, a partial close) are then formed
-- in place by the long path
CREATE TEMP TABLE fast_rows AS
SELECT id, isomargin.after_fill(q, e, m, f, px, cs, kind, fee, added) AS r
FROM (SELECT * FROM fb ORDER BY shape <> 2, id) AS fb;
SET isomargin.fast_route = off;
CREATE TEMP TABLE exact_rows AS
SELECT id, isomargin.after_fill(q, e, m, f, px, cs, kind, fee, added) AS r FROM fb;
RESET isomargin.fast_route;

-- every shape is there, and how many rows of each
SELECT shape, kind, count(*) FROM fb GROUP BY 1, 2 ORDER BY 1, 2;

SELECT count(*) AS rows,
       count(*) FILTER (WHERE f.r IS DISTINCT FROM x.r) AS differ,
       count(*) FILTER (WHERE NOT (f.r *= x.r)) AS differ_in_image,
       count(*) FILTER (WHERE (f.r).entry_price IS DISTINCT FROM (x.r).entry_price
                           OR (f.r).cash IS DISTINCT FROM (x.r).cash
                           OR scale((f.r).entry_price) IS DISTINCT FROM scale((x.r).entry_price)) AS differ_by_field
FROM fast_rows f JOIN exact_rows x USING (id);

-- the rows as a table stores them, and read back
CREATE TEMP TABLE stored (id int, r isomargin.fill_result);
INSERT INTO stored SELECT id, isomargin.after_fill(q, e, m, f, px, cs, kind, fee, added) FROM fb;
SELECT count(*) FILTER (WHERE NOT (s.r *= x.r)) AS stored_differ,
       count(DISTINCT s.r) = count(DISTINCT x.r) AS same_distinct
FROM stored s JOIN exact_rows x USING (id);
-- one row of each shape, expanded
SELECT fb.shape, r.* FROM fb CROSS JOIN LATERAL isomargin.after_fill(q, e, m, f, px, cs, kind, fee, added) r
WHERE fb.id IN (1, 2, 3, 4) ORDER BY fb.id;
