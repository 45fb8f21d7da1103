-- The fast route answers the common case: over a realistic book (linear and
-- inverse, flat and tiers, rule arguments from columns and as constants),
-- every figure's calls are answered by it (isomargin.routes() counts the
-- calls each route answered in this backend), and the exact route takes
-- only what the fast one cannot: a value of more than 18 digits, or every
-- call when isomargin.fast_route is off.  The answers are the same.
SET max_parallel_workers_per_gather = 0;
SELECT setseed(0.31);
CREATE TEMP TABLE book AS
SELECT g AS id,
       CASE WHEN g % 4 = 0 THEN 'inverse' ELSE 'linear' END::isomargin.contract_kind AS kind,
       CASE WHEN g % 4 = 0 THEN 100 ELSE 0.001 END::numeric AS cs,
       round((CASE WHEN g % 2 = 0 THEN -1 ELSE 1 END * (1 + random() * 500))::numeric, 0) AS q,
       round((20000 + random() * 20000)::numeric, 1) AS e,
       round((20000 + random() * 20000)::numeric, 1) AS mark,
       0.004 AS mmr, 0.0005 AS fee
FROM generate_series(1, 400) g;
ALTER TABLE book ADD COLUMN m numeric;
UPDATE book SET m = CASE kind WHEN 'linear' THEN round(abs(q) * cs * e / 20, 2)
                              ELSE round(abs(q) * cs / e / 20, 8) END;
ALTER TABLE book ADD COLUMN t isomargin.tiers NOT NULL
    DEFAULT '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50; 100000..1000000 mmr=0.02 max_leverage=20}';

CREATE TEMP TABLE answers (route text, id int, figure text, v text);
CREATE FUNCTION pg_temp.figures(route text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO answers
    SELECT route, b.id, f.figure, f.v FROM book b, LATERAL (VALUES
        ('notional', isomargin.notional(q, mark, cs, kind)::text),
        ('unrealized_pnl', isomargin.unrealized_pnl(q, e, mark, cs, kind)::text),
        ('equity', isomargin.equity(q, e, mark, m, cs, kind)::text),
        ('initial_margin', isomargin.initial_margin(q, e, 20, cs, kind)::text),
        ('maintenance_margin', isomargin.maintenance_margin(q, mark, mmr, cs, kind, fee)::text),
        ('margin_ratio', isomargin.margin_ratio(q, e, mark, m, mmr, cs, kind, fee)::text),
        ('margin_status', isomargin.margin_status(q, e, mark, m, mmr, cs, kind, fee)::text),
        ('liquidation_price', isomargin.liquidation_price(q, e, m, mmr, cs, kind, fee)::text),
        ('liquidation_price, constants', isomargin.liquidation_price(q, e, m, 0.004, 100, 'inverse', 0.0005)::text),
        ('liquidation_price, tick', isomargin.liquidation_price(q, e, m, mmr, cs, kind, fee, 0.5)::text),
        ('margin_call_price', isomargin.margin_call_price(q, e, m, mmr, cs, kind, fee)::text),
        ('bankruptcy_price', isomargin.bankruptcy_price(q, e, m, cs, kind)::text),
        ('margin_ratio, tiers', isomargin.margin_ratio(q, e, mark, m, t, 0.001, 'linear', fee)::text),
        ('liquidation_price, tiers', isomargin.liquidation_price(q, e, m, t, 0.001, 'linear', fee)::text),
        ('margin_call_price, tiers', isomargin.margin_call_price(q, e, m, t, 0.001, 'linear', fee)::text),
        ('assess', isomargin.assess(q, e, mark, m, mmr, cs, kind, fee, 0.8, 0, 20)::text)) AS f(figure, v)
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

-- A size of 20 digits does not fit the fast route: the exact route answers.
TRUNCATE before; INSERT INTO before SELECT * FROM isomargin.routes();
SELECT isomargin.liquidation_price(12345678901234567890, 30000, 3000, 0.004) AS lp,
       isomargin.liquidation_price(1, 30000, 3000, 0.004) AS lp_small;
SELECT r.route, r.calls - b.calls AS calls FROM isomargin.routes() r JOIN before b USING (route) ORDER BY 1;
