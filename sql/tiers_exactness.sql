-- Tier-aware liquidation and margin-call prices against an independent
-- plain-SQL solver: solve the flat formula with every bracket's rate and
-- amount, keep the solution whose notional falls in that bracket (exact
-- cross-multiplied comparisons), round it with exact integer division.
SELECT setseed(0.42);

-- Exact directed rounding of n/d to s decimals (div() truncates toward zero).
CREATE FUNCTION pg_temp.round_dir(n numeric, d numeric, s int, up boolean) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT (q + CASE WHEN r = 0 THEN 0
                     WHEN up AND (n * d > 0) THEN 1
                     WHEN NOT up AND (n * d < 0) THEN -1
                     ELSE 0 END) / (10::numeric ^ s)
    FROM (SELECT div(n * 10::numeric ^ s, d) AS q, mod(n * 10::numeric ^ s, d) AS r) x
$$;

CREATE TEMP TABLE brackets (kind isomargin.contract_kind, i int, f numeric, c numeric, r numeric, a numeric);
INSERT INTO brackets VALUES
    ('linear', 1, 0, 10000, 0.005, 0), ('linear', 2, 10000, 100000, 0.01, 50),
    ('linear', 3, 100000, 500000, 0.02, 1050), ('linear', 4, 500000, 2000000, 0.05, 16050),
    ('linear', 5, 2000000, NULL, 0.1, 116050),
    ('inverse', 1, 0, 5, 0.005, 0), ('inverse', 2, 5, 10, 0.01, 0.025),
    ('inverse', 3, 10, 20, 0.025, 0.175), ('inverse', 4, 20, NULL, 0.05, 0.675);
CREATE TEMP TABLE sched (kind isomargin.contract_kind PRIMARY KEY, t isomargin.tiers);
INSERT INTO sched VALUES
    ('linear', '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50;
                 100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10;
                 2000000..10000000 mmr=0.1 max_leverage=5}'),
    ('inverse', '{0..5 mmr=0.005 max_leverage=100; 5..10 mmr=0.01 max_leverage=50;
                  10..20 mmr=0.025 max_leverage=20; 20..50 mmr=0.05 max_leverage=10}');

-- Random positions of every size class, long and short, at leverages from
-- 1x to 100x, with fees and margin-call ratios.
CREATE TEMP TABLE pos AS
SELECT g AS id,
       k.kind,
       round(((CASE WHEN random() < 0.5 THEN -1 ELSE 1 END) *
              (CASE k.kind WHEN 'linear' THEN 10 ^ (random() * 3 - 1) ELSE 10 ^ (random() * 4 + 1) END))::numeric, 3) AS q,
       CASE k.kind WHEN 'linear' THEN 1 ELSE 100 END::numeric AS cs,
       round((CASE k.kind WHEN 'linear' THEN 20000 ELSE 10000 END * (0.5 + random()))::numeric, 2) AS e,
       round((1 + random() * 99)::numeric, 1) AS lev,
       (ARRAY[0, 0.0004, 0.0006])[1 + (random() * 2.99)::int]::numeric AS fee,
       (ARRAY[0.8, 0.5, 1])[1 + (random() * 2.99)::int]::numeric AS c
FROM generate_series(1, 1500) g,
     LATERAL (SELECT (ARRAY['linear', 'inverse'])[1 + (g % 2)]::isomargin.contract_kind AS kind) k;
-- margin = notional at entry / leverage (coin for inverse), rounded to 8 decimals
ALTER TABLE pos ADD COLUMN m numeric;
UPDATE pos SET m = round(CASE kind WHEN 'linear' THEN abs(q) * cs * e ELSE abs(q) * cs / e END / lev, 8);

-- The reference, for a threshold ratio cc (1: liquidation price).
CREATE FUNCTION pg_temp.ref_price(p pos, cc numeric) RETURNS numeric LANGUAGE sql AS $$
    SELECT pg_temp.round_dir(num, den, greatest(8, scale(p.e)), p.q > 0)
    FROM (SELECT b.i, b.f, b.c, b.r + p.fee AS rf, b.a,
                 CASE p.kind WHEN 'linear' THEN cc * p.q * p.cs * p.e - cc * p.m - b.a
                      ELSE p.e * (cc * p.q * p.cs + abs(p.q) * p.cs * (b.r + p.fee)) END AS num,
                 CASE p.kind WHEN 'linear' THEN cc * p.q * p.cs - abs(p.q) * p.cs * (b.r + p.fee)
                      ELSE cc * (p.m * p.e + p.q * p.cs) + b.a * p.e END AS den
          FROM brackets b WHERE b.kind = p.kind) s
    WHERE den <> 0 AND num * den > 0
      AND cc > rf
      -- N(num/den) in (f, c]: linear N = a*num/den, inverse N = a*den/num
      AND CASE p.kind WHEN 'linear'
               THEN (abs(p.q) * p.cs * num * sign(den) > f * den * sign(den) OR i = 1)
                    AND (c IS NULL OR abs(p.q) * p.cs * num * sign(den) <= c * den * sign(den))
               ELSE (abs(p.q) * p.cs * den * sign(num) > f * num * sign(num) OR i = 1)
                    AND (c IS NULL OR abs(p.q) * p.cs * den * sign(num) <= c * num * sign(num)) END
    LIMIT 1
$$;

SELECT count(*) AS positions,
       count(*) FILTER (WHERE lp IS NULL) AS lp_null,
       count(*) FILTER (WHERE lp IS DISTINCT FROM ref_lp) AS lp_mismatches,
       count(*) FILTER (WHERE mcp IS DISTINCT FROM ref_mcp) AS mcp_mismatches,
       count(DISTINCT bracket_at_lp) AS brackets_reached,
       count(*) FILTER (WHERE bracket_at_lp <> bracket_at_e) AS crossed_a_boundary
FROM (SELECT p.id,
             isomargin.liquidation_price(p.q, p.e, p.m, s.t, p.cs, p.kind, p.fee) AS lp,
             pg_temp.ref_price(p, 1) AS ref_lp,
             isomargin.margin_call_price(p.q, p.e, p.m, s.t, p.cs, p.kind, p.fee, p.c) AS mcp,
             CASE WHEN p.c = 1 THEN pg_temp.ref_price(p, 1) ELSE pg_temp.ref_price(p, p.c) END AS ref_mcp,
             isomargin.bracket(s.t, isomargin.notional(p.q, p.e, p.cs, p.kind)) AS bracket_at_e,
             isomargin.bracket(s.t, isomargin.notional(p.q,
                 coalesce(isomargin.liquidation_price(p.q, p.e, p.m, s.t, p.cs, p.kind, p.fee), p.e), p.cs, p.kind)) AS bracket_at_lp
      FROM pos p JOIN sched s USING (kind)) x;

-- Show a few mismatches, if any, for diagnosis.
SELECT p.*, isomargin.liquidation_price(p.q, p.e, p.m, s.t, p.cs, p.kind, p.fee) AS lp, pg_temp.ref_price(p, 1) AS ref
FROM pos p JOIN sched s USING (kind)
WHERE isomargin.liquidation_price(p.q, p.e, p.m, s.t, p.cs, p.kind, p.fee) IS DISTINCT FROM pg_temp.ref_price(p, 1)
ORDER BY p.id LIMIT 5;

-- The conservative direction at every computed price: one unit of the last
-- decimal beyond the rounded price, the exact check liquidates.
SELECT count(*) FILTER (WHERE st NOT IN ('liquidate', 'bankrupt')) AS not_liquidated_beyond_lp
FROM (SELECT isomargin.margin_status(p.q, p.e,
             lp + CASE WHEN p.q > 0 THEN -1 ELSE 1 END * 10::numeric ^ (-scale(lp)),
             p.m, s.t, p.cs, p.kind, p.fee) AS st
      FROM pos p JOIN sched s USING (kind),
           LATERAL (SELECT isomargin.liquidation_price(p.q, p.e, p.m, s.t, p.cs, p.kind, p.fee) AS lp) l
      WHERE l.lp IS NOT NULL AND l.lp > 10::numeric ^ (-scale(l.lp))) x;
