-- liquidation_distance, its ratio and max_size with tiers on edge values, by
-- both routes: the shorter route of the common rule (src/whatif_distance.h:
-- linear, one bracket without an amount, no tick), the general fast route
-- (what it declines: inverse, several brackets, a tick, products beyond 64
-- bits) and the exact route (isomargin.fast_route off) give the same
-- answers, digit for digit and scale for scale.
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE cases (id int, q numeric, e numeric, mark numeric, m numeric, mmr numeric,
                         cs numeric, kind isomargin.contract_kind, fee numeric, tick numeric);
INSERT INTO cases VALUES
    -- the common rule: a long, a short, past the liquidation price, at it
    (1, 1, 30000, 29000, 3000, 0.004, 1, 'linear', 0.0005, 0),
    (2, -1, 30000, 31000, 3000, 0.004, 1, 'linear', 0.0005, 0),
    (3, 2, 30000, 26000, 3000, 0.004, 1, 'linear', 0.0005, 0),
    (4, -2, 30000, 33500, 3000, 0.004, 1, 'linear', 0.0005, 0),
    -- the mark at the liquidation price: 27000 / 0.9945 = 27149.32126696..., up
    (5, 1, 30000, 27149.32126697, 3000, 0.005, 1, 'linear', 0.0005, 0),
    -- no liquidation price: zero size, margin above the position's value (long)
    (6, 0, 30000, 29000, 3000, 0.004, 1, 'linear', 0.0005, 0),
    (7, 1, 30000, 29000, 40000, 0.004, 1, 'linear', 0.0005, 0),
    -- a zero margin, a contract size other than 1, a fractional size
    (8, 3, 2000.25, 1990, 0, 0.005, 0.001, 'linear', 0.0005, 0),
    (9, -0.125, 0.081234, 0.08, 0.001, 0.01, 100, 'linear', 0.0006, 0),
    -- the mark with more decimals than the price's 8, the entry with more than 8
    (10, 1.5, 30000.5, 29876.0123456789, 2500, 0.004, 1, 'linear', 0.0005, 0),
    (11, -7, 0.123456789012, 0.13, 0.09, 0.004, 1, 'linear', 0.0005, 0),
    -- rates of many decimals
    (12, 4, 1234.5678, 1200, 600.123456, 0.004123456789, 1, 'linear', 0.000512345678, 0),
    -- products beyond 64 bits: the general fast route (or the exact one)
    (13, 999999999999, 999999.999999, 999000, 12345678.9, 0.004, 1, 'linear', 0.0005, 0),
    (14, -123456789012345678, 30000, 30100, 1e9, 0.004, 1, 'linear', 0.0005, 0),
    -- a tick, an inverse contract: the general fast route
    (15, 1, 30000, 29000, 3000, 0.004, 1, 'linear', 0.0005, 0.5),
    (16, 100, 30000, 29000, 0.05, 0.005, 100, 'inverse', 0.0005, 0),
    (17, -100, 30000, 31000, 0.05, 0.005, 100, 'inverse', 0.0005, 0);

CREATE TEMP TABLE answers (route text, id int, d numeric, ratio numeric, d_tiers numeric,
                           d_one_bracket numeric);
CREATE FUNCTION pg_temp.answer(route text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO answers
    SELECT route, id,
           isomargin.liquidation_distance(q, e, mark, m, mmr, cs, kind, fee, tick),
           isomargin.liquidation_distance_ratio(q, e, mark, m, mmr, cs, kind, fee, tick),
           isomargin.liquidation_distance(q, e, mark, m,
               '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50}'::isomargin.tiers,
               cs, kind, fee, tick),
           isomargin.liquidation_distance(q, e, mark, m, '{0..1e15 mmr=0.004 max_leverage=100}'::isomargin.tiers,
               cs, kind, fee, tick)
    FROM cases
$$;
SELECT pg_temp.answer('default');
SET isomargin.fast_route = off;
SELECT pg_temp.answer('exact');
RESET isomargin.fast_route;

-- a schedule of one bracket is the flat rate's rule: the same distance where the rates agree
SELECT count(*) AS cases, count(*) FILTER (WHERE d::text IS NOT DISTINCT FROM d_one_bracket::text) AS same
FROM answers JOIN cases USING (id) WHERE route = 'default' AND mmr = 0.004;
-- the answers (by hand: case 1, LP = (30000 - 3000) / (1 - 0.0045) = 27122.04922149...,
-- up: 27122.04922150, distance 29000 - 27122.04922150 = 1877.95077850, over the mark
-- 0.0647569233965517 (down); case 2, LP = (30000 + 3000) / 1.0045 = 32852.16525634...
-- down: 32852.16525634, distance 32852.16525634 - 31000 = 1852.16525634)
SELECT id, d, ratio, d_tiers FROM answers WHERE route = 'default' ORDER BY id;
-- both routes, digit for digit (text: the display scale too)
SELECT count(*) AS cases,
       count(*) FILTER (WHERE f.d::text IS NOT DISTINCT FROM x.d::text) AS same_distance,
       count(*) FILTER (WHERE f.ratio::text IS NOT DISTINCT FROM x.ratio::text) AS same_ratio,
       count(*) FILTER (WHERE f.d_tiers::text IS NOT DISTINCT FROM x.d_tiers::text) AS same_tiers,
       count(*) FILTER (WHERE f.d_one_bracket::text IS NOT DISTINCT FROM x.d_one_bracket::text)
           AS same_one_bracket
FROM answers f JOIN answers x USING (id)
WHERE f.route = 'default' AND x.route = 'exact';

-- max_size with tiers: a leverage of another scale than the brackets'
-- (fractional, trailing zeros, many decimals), at a bracket's maximum
-- leverage exactly, above the first's (NULL), and a lot_size 0 of any scale.
CREATE TEMP TABLE sizing (route text, lev numeric, lot numeric, v numeric);
CREATE FUNCTION pg_temp.sizing(route text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO sizing
    SELECT route, lev, lot,
           isomargin.max_size(10000, 20000, lev,
               '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50.5; 100000..1000000 mmr=0.02 max_leverage=20}'::isomargin.tiers,
               fee_rate => 0.0005, lot_size => lot)
    FROM unnest('{1, 20, 20.0, 20.000000000000000001, 19.99, 50.5, 50.50, 50.51, 100, 100.000, 100.01, 0.5}'::numeric[]) lev,
         unnest('{0, 0.000, 0.001}'::numeric[]) lot
$$;
SELECT pg_temp.sizing('default');
SET isomargin.fast_route = off;
SELECT pg_temp.sizing('exact');
RESET isomargin.fast_route;
SELECT lev, v FROM sizing WHERE route = 'default' AND lot = 0.001 ORDER BY lev, lev::text;
SELECT count(*) AS cases, count(*) FILTER (WHERE f.v::text IS NOT DISTINCT FROM x.v::text) AS same
FROM sizing f JOIN sizing x ON f.lev::text = x.lev::text AND f.lot::text = x.lot::text
WHERE f.route = 'default' AND x.route = 'exact';
