-- The decoded schedule is kept per call site (fn_extra) and rebuilt only
-- when the tiers argument's bytes or the fee change.  Results must not
-- depend on what earlier rows held, nor on how the value is stored
-- (inline, compressed, out of line).
CREATE TEMP TABLE cache_sched (id int PRIMARY KEY, t isomargin.tiers);
INSERT INTO cache_sched VALUES
    (1, '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50;
          100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10;
          2000000..10000000 mmr=0.1 max_leverage=5}'),
    (2, '{0..1000000000 mmr=0.004 max_leverage=100}'),
    (3, '{0..50000 mmr=0.004 max_leverage=125; 50000..250000 mmr=0.005 max_leverage=100;
          250000..1000000 mmr=0.01 max_leverage=50}');
INSERT INTO cache_sched
SELECT 4, ('{' || string_agg(format('%s..%s mmr=%s max_leverage=%s', (i - 1) * 5000, i * 5000, i / 10000.0, 65 - i),
                             '; ' ORDER BY i) || '}')::isomargin.tiers
FROM generate_series(1, 64) i;

-- 240 positions cycling through the schedules and four fees with
-- different periods, so consecutive rows change tiers, fee, or both.
CREATE TEMP TABLE cache_pos AS
SELECT n, 1 + n % 4 AS sid,
       (CASE WHEN n % 2 = 0 THEN 1 ELSE -1 END) * (1 + n % 7)::numeric AS q,
       (20000 + 100 * (n % 5))::numeric AS e,
       (2000 + 500 * (n % 9))::numeric AS m,
       (ARRAY[0, 0.0006, 0.0004, 0.0006])[1 + n % 3]::numeric AS f
FROM generate_series(1, 240) n;

CREATE TEMP TABLE lp_by_n AS
SELECT n, isomargin.liquidation_price(p.q, p.e, p.m, s.t, fee_rate => p.f) AS lp,
          isomargin.maintenance_margin(p.q, p.e * 0.97, s.t, fee_rate => p.f) AS mm
FROM (SELECT * FROM cache_pos ORDER BY n) p JOIN cache_sched s ON s.id = p.sid;
CREATE TEMP TABLE lp_by_sched AS
SELECT n, isomargin.liquidation_price(p.q, p.e, p.m, s.t, fee_rate => p.f) AS lp,
          isomargin.maintenance_margin(p.q, p.e * 0.97, s.t, fee_rate => p.f) AS mm
FROM (SELECT * FROM cache_pos ORDER BY sid, f, n) p JOIN cache_sched s ON s.id = p.sid;
SELECT count(*) AS rows, count(*) FILTER (WHERE a.lp IS NOT DISTINCT FROM b.lp AND a.mm = b.mm) AS same_in_both_orders,
       count(a.lp) AS with_a_price
FROM lp_by_n a JOIN lp_by_sched b USING (n);

-- Against call sites that each see one schedule only (one query branch
-- per schedule, the schedule an init-plan value).
CREATE TEMP TABLE lp_alone AS
SELECT n, isomargin.liquidation_price(q, e, m, (SELECT t FROM cache_sched WHERE id = 1), fee_rate => f) AS lp
FROM cache_pos WHERE sid = 1
UNION ALL
SELECT n, isomargin.liquidation_price(q, e, m, (SELECT t FROM cache_sched WHERE id = 2), fee_rate => f)
FROM cache_pos WHERE sid = 2
UNION ALL
SELECT n, isomargin.liquidation_price(q, e, m, (SELECT t FROM cache_sched WHERE id = 3), fee_rate => f)
FROM cache_pos WHERE sid = 3
UNION ALL
SELECT n, isomargin.liquidation_price(q, e, m, (SELECT t FROM cache_sched WHERE id = 4), fee_rate => f)
FROM cache_pos WHERE sid = 4;
SELECT count(*) AS rows, count(*) FILTER (WHERE a.lp IS NOT DISTINCT FROM b.lp) AS same_as_alone
FROM lp_by_n a JOIN lp_alone b USING (n);

-- A one-bracket schedule gives what the flat mmr gives, fee by fee.
SELECT p.f, count(*) AS rows,
       count(*) FILTER (WHERE isomargin.liquidation_price(p.q, p.e, p.m, s.t, fee_rate => p.f)
                              IS NOT DISTINCT FROM isomargin.liquidation_price(p.q, p.e, p.m, 0.004, fee_rate => p.f)) AS same_as_flat
FROM cache_pos p JOIN cache_sched s ON s.id = p.sid WHERE p.sid = 2 GROUP BY p.f ORDER BY p.f;

-- Stored out of line (uncompressed, 3080 bytes) and compressed inline.
CREATE TABLE cache_external (id int PRIMARY KEY, t isomargin.tiers);
ALTER TABLE cache_external ALTER COLUMN t SET STORAGE external;
INSERT INTO cache_external SELECT id, t::text::isomargin.tiers FROM cache_sched;
CREATE TEMP TABLE cache_compressed (id int PRIMARY KEY, t isomargin.tiers);
INSERT INTO cache_compressed SELECT * FROM cache_sched;
SELECT reltoastrelid::regclass AS toast FROM pg_class WHERE oid = 'cache_external'::regclass \gset
SELECT count(DISTINCT chunk_id) AS values_out_of_line FROM :toast;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE a.lp IS NOT DISTINCT FROM isomargin.liquidation_price(p.q, p.e, p.m, x.t, fee_rate => p.f)) AS same_out_of_line,
       count(*) FILTER (WHERE a.lp IS NOT DISTINCT FROM isomargin.liquidation_price(p.q, p.e, p.m, c.t, fee_rate => p.f)) AS same_compressed
FROM lp_by_n a JOIN cache_pos p USING (n)
     JOIN cache_external x ON x.id = p.sid JOIN cache_compressed c ON c.id = p.sid;
DROP TABLE cache_external;

-- More distinct schedules than the cache holds (16), interleaved row by
-- row: entries are replaced and decoded again, results stay right.  Each
-- schedule k has one bracket of mmr k/1000 (so the flat mmr is the
-- reference) or two brackets split at 100 * k (so the bracket is known).
CREATE TEMP TABLE many AS
SELECT k, format('{0..1000000000 mmr=%s max_leverage=1}', k / 1000.0)::isomargin.tiers AS flat_t,
       (k / 1000.0)::numeric AS mmr,
       format('{0..%s mmr=0.001 max_leverage=10; %s..1000000 mmr=0.002 max_leverage=5}', 100 * k, 100 * k)::isomargin.tiers AS split_t
FROM generate_series(1, 40) k;
CREATE TEMP TABLE many_rows AS
SELECT n, 1 + (n * 7) % 40 AS k, (50 + n % 4000)::numeric AS notional FROM generate_series(1, 2000) n;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE isomargin.liquidation_price(1, 20000, 3000, m.flat_t)
                              = isomargin.liquidation_price(1, 20000, 3000, m.mmr)) AS same_as_flat,
       count(*) FILTER (WHERE isomargin.bracket(m.split_t, r.notional)
                              = CASE WHEN r.notional <= 100 * m.k THEN 1 ELSE 2 END) AS right_bracket,
       count(*) FILTER (WHERE isomargin.max_leverage(m.split_t, r.notional)
                              = CASE WHEN r.notional <= 100 * m.k THEN 10 ELSE 5 END) AS right_leverage
FROM (SELECT * FROM many_rows ORDER BY n) r JOIN many m USING (k);

-- A fee that pushes a bracket's mmr + fee to 1 is refused, also after the
-- schedule was cached for a smaller fee.
SELECT v.f, isomargin.liquidation_price(10, 20000, 20000, s.t, fee_rate => v.f)
FROM cache_sched s, (VALUES (1, 0.0006), (2, 0.9)) v(k, f) WHERE s.id = 1 ORDER BY v.k;
SELECT isomargin.maintenance_margin(1, 100, '{0..10 mmr=0.5 max_leverage=1.5}'::isomargin.tiers, fee_rate => 0.5);
