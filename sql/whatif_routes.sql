-- The what-if figures by both routes (src/whatif.c): over a book (linear and
-- inverse, flat and tiers, long and short, every margin status, zero sizes
-- and a zero margin), every call is answered by the fast route by default,
-- by the exact route with isomargin.fast_route off, and the answers are the
-- same, figure by figure, digit for digit.  Values the fast route cannot take
-- (more than 18 digits) go to the exact route and still answer.
SET max_parallel_workers_per_gather = 0;
SELECT setseed(0.17);
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
-- the book holds every status
SELECT isomargin.margin_status(q, e, mark, m, mmr, cs, kind, fee) AS status, count(*)
FROM book GROUP BY 1 ORDER BY 1;

CREATE TEMP TABLE answers (route text, id int, figure text, v text);
CREATE FUNCTION pg_temp.figures(route text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO answers
    SELECT route, b.id, f.figure, f.v FROM book b, LATERAL (VALUES
        ('position_side', isomargin.position_side(q)::text),
        ('effective_leverage', isomargin.effective_leverage(q, e, mark, m, cs, kind)::text),
        ('return_on_equity', isomargin.return_on_equity(q, e, mark, m, cs, kind)::text),
        ('liquidation_distance', isomargin.liquidation_distance(q, e, mark, m, mmr, cs, kind, fee)::text),
        ('liquidation_distance, tick', isomargin.liquidation_distance(q, e, mark, m, mmr, cs, kind, fee, 0.5)::text),
        ('liquidation_distance, tiers', isomargin.liquidation_distance(q, e, mark, m, t, 0.001, 'linear', fee)::text),
        ('liquidation_distance_ratio', isomargin.liquidation_distance_ratio(q, e, mark, m, mmr, cs, kind, fee)::text),
        ('liquidation_distance_ratio, tiers', isomargin.liquidation_distance_ratio(q, e, mark, m, t, 0.001, 'linear', fee)::text),
        ('top_up_to_ok', isomargin.top_up_to_ok(q, e, mark, m, mmr, cs, kind, fee)::text),
        ('top_up_to_ok, tiers', isomargin.top_up_to_ok(q, e, mark, m, t, 0.001, 'linear', fee)::text),
        ('top_up_for_liquidation_price', isomargin.top_up_for_liquidation_price(q, e, m, mark, mmr, cs, kind, fee)::text),
        ('top_up_for_liquidation_price, tiers', isomargin.top_up_for_liquidation_price(q, e, m, mark, t, 0.001, 'linear', fee)::text),
        ('max_removable_margin', isomargin.max_removable_margin(q, e, mark, m, lev, mmr, cs, kind, fee)::text),
        ('max_removable_margin, tiers', isomargin.max_removable_margin(q, e, mark, m, lev, t, 0.001, 'linear', fee)::text),
        ('max_size', isomargin.max_size(m, mark, lev, cs, kind, fee)::text),
        ('max_size, lot', isomargin.max_size(m, mark, lev, cs, kind, fee, 0.001)::text),
        ('max_size, tiers', isomargin.max_size(m, mark, lev, t, 0.001, 'linear', fee, 1)::text),
        ('max_leverage_for_size', isomargin.max_leverage_for_size(q, mark, t, 0.001, 'linear')::text),
        ('after_fill', isomargin.after_fill(q, e, m, fill, mark, cs, kind, fee)::text),
        ('after_fill, margin added', isomargin.after_fill(q, e, m, fill, mark, cs, kind, fee, m)::text)) AS f(figure, v)
$$;

CREATE TEMP TABLE before AS SELECT * FROM isomargin.routes();
SELECT pg_temp.figures('default');
SELECT r.route, r.calls - b.calls AS calls FROM isomargin.routes() r JOIN before b USING (route) ORDER BY 1;

-- The same with the fast route off: every call by the exact route.
TRUNCATE before; INSERT INTO before SELECT * FROM isomargin.routes();
SET isomargin.fast_route = off;
SELECT pg_temp.figures('exact');
RESET isomargin.fast_route;
SELECT r.route, r.calls - b.calls AS calls FROM isomargin.routes() r JOIN before b USING (route) ORDER BY 1;

-- The answers of both, figure by figure: all 400 rows the same.
SELECT d.figure, count(*) AS rows, count(*) FILTER (WHERE d.v IS NOT DISTINCT FROM x.v) AS same,
       count(d.v) AS not_null
FROM answers d JOIN answers x USING (figure, id)
WHERE d.route = 'default' AND x.route = 'exact'
GROUP BY 1 ORDER BY 1;

-- Values of more than 18 digits: the fast route declines, the exact route answers.
TRUNCATE before; INSERT INTO before SELECT * FROM isomargin.routes();
SELECT isomargin.position_side(-12345678901234567890) AS side,
       isomargin.effective_leverage(12345678901234567890, 30000, 30000, 1e20) AS effective_leverage,
       isomargin.liquidation_distance(12345678901234567890, 30000, 27120, 1e22, 0.004) AS distance,
       isomargin.top_up_to_ok(12345678901234567890, 30000, 27120, 0, 0.004) AS top_up;
SELECT isomargin.max_size(1e25, 30000, 10) AS max_size,
       isomargin.after_fill(12345678901234567890, 30000, 1e22, -12345678901234567890, 31000) AS closed;
SELECT r.route, r.calls - b.calls AS calls FROM isomargin.routes() r JOIN before b USING (route) ORDER BY 1;
