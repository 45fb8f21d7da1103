-- Dynamic requirements, item 3: the figures with an add-on rate (doc/dynamic.md).
-- Hand-checked examples, then an oracle over a book: an add-on c is the same as
-- every bracket's rate raised by c, which the base figures compute with
-- fee_rate + c (maintenance, status, liquidation and margin-call prices).

-- A long of 1 BTC at 30000 with 3000 of margin, mmr 0.004, add-on 0.006: rate 0.01.
-- LP = (30000 - 3000) / (1 - 0.01) = 27272.7272... -> 27272.72727273 (up; 27108.43373494 without)
-- MCP = 0.8*(30000 - 3000) / (0.8 - 0.01) = 21600 / 0.79 = 27341.7721518987... -> 27341.77215190
SELECT isomargin.dynamic_liquidation_price(1, 30000, 3000, 0.006, mmr => 0.004) AS lp,
       isomargin.liquidation_price(1, 30000, 3000, 0.004) AS lp_without,
       isomargin.dynamic_margin_call_price(1, 30000, 3000, 0.006, mmr => 0.004) AS mcp;
-- MM at 27300: 27300 * 0.010 = 273.000; at 27300 equity 300: 273 >= 0.8*300 -> margin_call;
-- at 27250 equity 250 <= 272.5 -> liquidate (ok without the add-on: 109 < 200)
SELECT isomargin.dynamic_maintenance_margin(1, 27300, 0.006, mmr => 0.004) AS mm,
       isomargin.dynamic_margin_status(1, 30000, 27300, 3000, 0.006, mmr => 0.004) AS at_27300,
       isomargin.dynamic_margin_status(1, 30000, 27250, 3000, 0.006, mmr => 0.004) AS at_27250,
       isomargin.margin_status(1, 30000, 27250, 3000, 0.004) AS at_27250_without;
-- on either side of the rounded LP: 27272.72727273 is still above the root (margin_call),
-- 27272.72727272 below it (liquidate)
SELECT isomargin.dynamic_margin_status(1, 30000, 27272.72727273, 3000, 0.006, mmr => 0.004) AS at_lp,
       isomargin.dynamic_margin_status(1, 30000, 27272.72727272, 3000, 0.006, mmr => 0.004) AS below_lp;
-- initial margin at 10x: 30000 * (1/10 + 0.006) = 3180 (16 decimals, up)
SELECT isomargin.dynamic_initial_margin(1, 30000, 10, 0.006) AS im,
       isomargin.dynamic_initial_margin(1, 30000, 10, 0) AS im_without;
-- tiers: T1 of the domain reference (10 at 20000, margin 20000; bracket 3 r 0.02, A 1050)
-- with add-on 0.01: LP = (200000 - 20000 - 1050) / (10 - 10*0.03) = 178950 / 9.7
-- = 18448.4536082474... -> 18448.45360825; its notional 184484.5 is in bracket 3.
-- Without: 18260.20408164.
CREATE TEMP TABLE sched (t isomargin.tiers);
INSERT INTO sched VALUES ('{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50;
                 100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10;
                 2000000..10000000 mmr=0.1 max_leverage=5}');
SELECT isomargin.dynamic_liquidation_price(10, 20000, 20000, 0.01, tiers => t) AS t1_lp,
       isomargin.liquidation_price(10, 20000, 20000, tiers => t) AS t1_lp_without,
       isomargin.dynamic_maintenance_margin(10, 18448.45360825, 0.01, tiers => t) AS mm_at_lp
  FROM sched;
-- inverse, the reference's 100 x 100 USD at 40000 with 0.05 BTC, mmr 0.005, add-on 0.005:
-- LP = E*a*(1 + r') / (M*E + s) = 40000*10000*1.01 / (2000 + 10000) = 33666.666... -> 33666.66666667
SELECT isomargin.dynamic_liquidation_price(100, 40000, 0.05, 0.005, mmr => 0.005,
                                           contract_size => 100, kind => 'inverse') AS inverse_lp;

-- The oracle: over a book of linear and inverse positions, flat and tiers, add-ons
-- from 0 to 0.05, each dynamic figure equals the base figure with fee_rate + c.
CREATE TEMP TABLE book AS
SELECT i AS id,
       CASE WHEN i % 2 = 0 THEN 'linear' ELSE 'inverse' END::isomargin.contract_kind AS kind,
       CASE WHEN i % 2 = 0 THEN 1 ELSE 100 END::numeric AS cs,
       ((i % 7) - 3 + CASE WHEN i % 7 = 3 THEN 1 ELSE 0 END) * (1 + i % 5) * 0.5 AS q,
       (20000 + (i * 37) % 5000)::numeric AS e,
       CASE WHEN i % 2 = 0 THEN 1000 + (i * 13) % 4000 ELSE 0.01 + (i % 9) * 0.01 END::numeric AS m,
       (20000 + (i * 53) % 5000 - 2500)::numeric AS p,
       ((i * 7) % 51) * 0.001 AS c,
       (i % 3) * 0.0002 AS f
  FROM generate_series(1, 400) i;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE isomargin.dynamic_liquidation_price(q, e, m, c, 0.004, cs, kind, f)
                              IS DISTINCT FROM isomargin.liquidation_price(q, e, m, 0.004, cs, kind, f + c)) AS lp_differ,
       count(*) FILTER (WHERE isomargin.dynamic_margin_call_price(q, e, m, c, 0.004, cs, kind, f)
                              IS DISTINCT FROM isomargin.margin_call_price(q, e, m, 0.004, cs, kind, f + c)) AS mcp_differ,
       count(*) FILTER (WHERE isomargin.dynamic_maintenance_margin(q, p, c, 0.004, cs, kind, f)
                              IS DISTINCT FROM isomargin.maintenance_margin(q, p, 0.004, cs, kind, f + c)) AS mm_differ,
       count(*) FILTER (WHERE isomargin.dynamic_margin_status(q, e, p, m, c, 0.004, cs, kind, f)
                              IS DISTINCT FROM isomargin.margin_status(q, e, p, m, 0.004, cs, kind, f + c)) AS status_differ,
       count(*) FILTER (WHERE isomargin.dynamic_liquidation_price(q, e, m, c, 0.004, cs, kind, f)
                              IS DISTINCT FROM isomargin.liquidation_price(q, e, m, 0.004, cs, kind, f)) AS lp_moved_by_addon,
       count(DISTINCT isomargin.dynamic_margin_status(q, e, p, m, c, 0.004, cs, kind, f)) AS statuses_seen
  FROM book;
SELECT count(*) FILTER (WHERE isomargin.dynamic_liquidation_price(b.q, b.e, b.m * 30, b.c, tiers => s.t, contract_size => b.cs, kind => b.kind, fee_rate => b.f)
                              IS DISTINCT FROM isomargin.liquidation_price(b.q, b.e, b.m * 30, tiers => s.t, contract_size => b.cs, kind => b.kind, fee_rate => b.f + b.c)) AS tiers_lp_differ,
       count(*) FILTER (WHERE isomargin.dynamic_margin_status(b.q, b.e, b.p, b.m * 30, b.c, tiers => s.t, contract_size => b.cs, kind => b.kind, fee_rate => b.f)
                              IS DISTINCT FROM isomargin.margin_status(b.q, b.e, b.p, b.m * 30, tiers => s.t, contract_size => b.cs, kind => b.kind, fee_rate => b.f + b.c)) AS tiers_status_differ
  FROM book b, sched s WHERE b.kind = 'linear';
-- the exact route gives the same answers as the fast one
SET isomargin.fast_route = off;
CREATE TEMP TABLE exact_answers AS
SELECT id, isomargin.dynamic_liquidation_price(q, e, m, c, 0.004, cs, kind, f) AS lp,
       isomargin.dynamic_margin_call_price(q, e, m, c, 0.004, cs, kind, f) AS mcp,
       isomargin.dynamic_maintenance_margin(q, p, c, 0.004, cs, kind, f) AS mm,
       isomargin.dynamic_margin_status(q, e, p, m, c, 0.004, cs, kind, f) AS st,
       isomargin.dynamic_initial_margin(q, p, 20, c, cs, kind) AS im
  FROM book;
RESET isomargin.fast_route;
SELECT count(*) FILTER (WHERE (x.lp, x.mcp, x.mm, x.st, x.im) IS DISTINCT FROM
           (isomargin.dynamic_liquidation_price(q, e, m, c, 0.004, cs, kind, f),
            isomargin.dynamic_margin_call_price(q, e, m, c, 0.004, cs, kind, f),
            isomargin.dynamic_maintenance_margin(q, p, c, 0.004, cs, kind, f),
            isomargin.dynamic_margin_status(q, e, p, m, c, 0.004, cs, kind, f),
            isomargin.dynamic_initial_margin(q, p, 20, c, cs, kind))) AS routes_differ
  FROM book b JOIN exact_answers x USING (id);
-- the initial margin against plain SQL: N*(1/L + c), up to 16 decimals
SELECT count(*) FILTER (WHERE isomargin.dynamic_initial_margin(q, p, 20, c, cs, kind)
           <> ceil(abs(q) * cs * CASE WHEN kind = 'linear' THEN p ELSE 1 / p END * (1 + c * 20) / 20 * 1e16) * 1e-16
           AND kind = 'linear') AS linear_im_differ
  FROM book;

\set ECHO none
\i test/lib/try.sql
\set ECHO all
SELECT pg_temp.try($$SELECT isomargin.dynamic_liquidation_price(1, 30000, 3000, -0.001, mmr => 0.004)$$);
SELECT pg_temp.try($$SELECT isomargin.dynamic_liquidation_price(1, 30000, 3000, 0.996, mmr => 0.004)$$);
SELECT pg_temp.try($$SELECT isomargin.dynamic_margin_status(1, 30000, 29000, 3000, 0.796, mmr => 0.004)$$);
SELECT pg_temp.try($$SELECT isomargin.dynamic_margin_call_price(1, 30000, 3000, 0.5, mmr => 0.004, margin_call_ratio => 0.5)$$);
-- an add-on below the margin-call ratio is fine for the liquidation price
SELECT pg_temp.try($$SELECT isomargin.dynamic_liquidation_price(1, 30000, 3000, 0.796, mmr => 0.004)$$);
