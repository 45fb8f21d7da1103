-- The forms a report can take to read several columns of assess's row
-- (README.md, "Every figure of a book"): how many times each calls assess a
-- row (isomargin.routes() counts the calls), and that all give the same rows.
--   (assess(...)).*                    PostgreSQL expands it into one call per column: 10
--   CROSS JOIN LATERAL assess(...) a   one call
--   a subquery with OFFSET 0           one call; the columns read outside it
--   the same subquery without OFFSET 0 flattened into the outer query: one call per column read
-- and doc/whatif.md's report after a fill (after_fill, then assess of its row) both ways.
SET max_parallel_workers_per_gather = 0;
SELECT setseed(0.47);
CREATE TEMP TABLE rf AS
SELECT g AS id,
       round(((CASE WHEN g % 2 = 0 THEN -1 ELSE 1 END) * (0.1 + random() * 5))::numeric, 3) AS q,
       round((20000 + random() * 20000)::numeric, 1) AS e,
       round((20000 + random() * 20000)::numeric, 1) AS k,
       round((500 + random() * 20000)::numeric, 2) AS m
FROM generate_series(1, 200) g;

CREATE TEMP TABLE before AS SELECT * FROM isomargin.routes();
CREATE FUNCTION pg_temp.calls_per_row() RETURNS numeric LANGUAGE sql AS $$
    SELECT round(sum(r.calls - b.calls) / 200, 2) FROM isomargin.routes() r JOIN before b USING (route)
$$;
CREATE FUNCTION pg_temp.reset_calls() RETURNS void LANGUAGE sql AS $$
    DELETE FROM before; INSERT INTO before SELECT * FROM isomargin.routes();
$$;

CREATE TEMP TABLE by_star AS
SELECT id, (isomargin.assess(q, e, k, m, 0.005, 1, 'linear', 0.0006)).* FROM rf;
SELECT 'star' AS form, pg_temp.calls_per_row() AS calls_per_row;

SELECT pg_temp.reset_calls();
CREATE TEMP TABLE by_lateral AS
SELECT id, a.* FROM rf CROSS JOIN LATERAL isomargin.assess(q, e, k, m, 0.005, 1, 'linear', 0.0006) a;
SELECT 'lateral' AS form, pg_temp.calls_per_row() AS calls_per_row;

SELECT pg_temp.reset_calls();
CREATE TEMP TABLE by_fence AS
SELECT id, (a).* FROM (SELECT id, isomargin.assess(q, e, k, m, 0.005, 1, 'linear', 0.0006) AS a
                         FROM rf OFFSET 0) s;
SELECT 'subquery with OFFSET 0' AS form, pg_temp.calls_per_row() AS calls_per_row;

-- four columns read, without the fence: the subquery is pulled up, and each
-- column read is a call of its own
SELECT pg_temp.reset_calls();
CREATE TEMP TABLE by_flattened AS
SELECT id, (a).equity, (a).margin_ratio, (a).status, (a).liquidation_price
FROM (SELECT id, isomargin.assess(q, e, k, m, 0.005, 1, 'linear', 0.0006) AS a FROM rf) s;
SELECT 'subquery without OFFSET 0, four columns' AS form, pg_temp.calls_per_row() AS calls_per_row;

-- doc/whatif.md's report after a fill: after_fill, then assess of its row;
-- with LATERAL and with two fenced subqueries, each a call of each a row
SELECT pg_temp.reset_calls();
CREATE TEMP TABLE chain_lateral AS
SELECT id, f.cash, a.status, a.liquidation_price
FROM rf CROSS JOIN LATERAL isomargin.after_fill(q, e, m, -q * 0.5, k) f
        CROSS JOIN LATERAL isomargin.assess(f.size, f.entry_price, k, f.margin, 0.005) a;
SELECT 'after_fill then assess, lateral' AS form, pg_temp.calls_per_row() AS calls_per_row;
SELECT pg_temp.reset_calls();
CREATE TEMP TABLE chain_fence AS
SELECT id, (f).cash, (a).status, (a).liquidation_price
FROM (SELECT id, f, isomargin.assess((f).size, (f).entry_price, k, (f).margin, 0.005) AS a
        FROM (SELECT id, k, isomargin.after_fill(q, e, m, -q * 0.5, k) AS f FROM rf OFFSET 0) s1
      OFFSET 0) s2;
SELECT 'after_fill then assess, fenced' AS form, pg_temp.calls_per_row() AS calls_per_row;
SELECT count(*) AS rows,
       (SELECT count(*) FROM (SELECT * FROM chain_lateral EXCEPT SELECT * FROM chain_fence) d) AS lateral_not_fence,
       (SELECT count(*) FROM (SELECT * FROM chain_fence EXCEPT SELECT * FROM chain_lateral) d) AS fence_not_lateral
FROM chain_lateral;

-- the same rows, whichever the form
SELECT (SELECT count(*) FROM by_star) AS star_rows,
       (SELECT count(*) FROM (SELECT * FROM by_star EXCEPT SELECT * FROM by_lateral) d) AS star_not_lateral,
       (SELECT count(*) FROM (SELECT * FROM by_lateral EXCEPT SELECT * FROM by_star) d) AS lateral_not_star,
       (SELECT count(*) FROM (SELECT * FROM by_fence EXCEPT SELECT * FROM by_lateral) d) AS fence_not_lateral,
       (SELECT count(*) FROM (SELECT * FROM by_lateral EXCEPT SELECT * FROM by_fence) d) AS lateral_not_fence,
       (SELECT count(*) FROM by_flattened f JOIN by_lateral l USING (id)
         WHERE (f.equity, f.margin_ratio, f.status, f.liquidation_price)
               IS DISTINCT FROM (l.equity, l.margin_ratio, l.status, l.liquidation_price)) AS flattened_differ;

-- a filter on the fenced subquery's output is not pushed into it (OFFSET
-- stops that): the scan below the fence reads every row, so a report's
-- WHERE goes inside the subquery
EXPLAIN (COSTS OFF)
SELECT id, (a).status FROM (SELECT id, isomargin.assess(q, e, k, m, 0.005, 1, 'linear', 0.0006) AS a
                              FROM rf OFFSET 0) s
WHERE id = 7;
EXPLAIN (COSTS OFF)
SELECT id, (a).status FROM (SELECT id, isomargin.assess(q, e, k, m, 0.005, 1, 'linear', 0.0006) AS a
                              FROM rf WHERE id = 7 OFFSET 0) s;

-- README.md's report, both forms, on its getting-started tables
CREATE TEMP TABLE instruments (symbol text PRIMARY KEY, kind isomargin.contract_kind,
                               contract_size numeric, mmr numeric, fee_rate numeric);
CREATE TEMP TABLE marks (symbol text PRIMARY KEY, mark_price numeric);
CREATE TEMP TABLE positions (id int PRIMARY KEY, symbol text, size numeric, entry_price numeric,
                             margin numeric);
INSERT INTO instruments VALUES ('BTCUSDT', 'linear', 1, 0.004, 0);
INSERT INTO marks VALUES ('BTCUSDT', 30000);
INSERT INTO positions VALUES (1, 'BTCUSDT', 1, 30000, 3000), (2, 'BTCUSDT', -2, 30000, 6000),
                             (3, 'BTCUSDT', 0, 30000, 0);
SELECT p.id, a.equity, a.margin_ratio, a.status, a.liquidation_price
  FROM positions p
  JOIN instruments i USING (symbol)
  JOIN marks m USING (symbol)
  CROSS JOIN LATERAL isomargin.assess(p.size, p.entry_price, m.mark_price, p.margin, i.mmr,
                                      i.contract_size, i.kind, i.fee_rate) a
 ORDER BY p.id;
SELECT id, (a).equity, (a).margin_ratio, (a).status, (a).liquidation_price
  FROM (SELECT p.id, isomargin.assess(p.size, p.entry_price, m.mark_price, p.margin, i.mmr,
                                      i.contract_size, i.kind, i.fee_rate) AS a
          FROM positions p JOIN instruments i USING (symbol) JOIN marks m USING (symbol)
         WHERE p.size <> 0
        OFFSET 0) s
 ORDER BY id;
