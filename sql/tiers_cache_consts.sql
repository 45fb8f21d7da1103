-- A tiers argument that is a CASE over constants (a schedule per kind, say)
-- is keyed in the rule cache by which constant the call received, without
-- reading its bytes (src/rule.h, rule_tiers_arg_key): each row must still
-- get its own schedule's rule, never the one an earlier row left.  The
-- reference is the same figure with the schedule as a plain constant (a
-- call site of one schedule, which keys nothing).
CREATE TEMP TABLE cc_pos AS
SELECT n,
       (CASE WHEN n % 2 = 0 THEN 1 ELSE -1 END) * (1 + n % 7)::numeric AS q,
       (20000 + 100 * (n % 5))::numeric AS e,
       (20000 + 100 * (n % 5) + 50 * (n % 3 - 1))::numeric AS mark,
       (1500 + 500 * (n % 9))::numeric AS m,
       (ARRAY[0, 0.0006, 0.0004])[1 + (n / 3) % 3]::numeric AS f,
       n % 3 AS pick
FROM generate_series(1, 300) n;

-- Three schedules that price every position differently: rows alternate
-- between them, whatever the fee (which changes every third row, so that
-- each schedule meets each fee), so a rule left by another row would be
-- wrong.
CREATE TEMP TABLE cc_sched (pick int PRIMARY KEY, t isomargin.tiers);
INSERT INTO cc_sched VALUES
    (0, '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50;
          100000..500000 mmr=0.02 max_leverage=20}'),
    (1, '{0..50000 mmr=0.03 max_leverage=25; 50000..1000000 mmr=0.04 max_leverage=20}'),
    (2, '{0..20000 mmr=0.06 max_leverage=10; 20000..1000000 mmr=0.08 max_leverage=8}');
SELECT t AS t0 FROM cc_sched WHERE pick = 0 \gset
SELECT t AS t1 FROM cc_sched WHERE pick = 1 \gset
SELECT t AS t2 FROM cc_sched WHERE pick = 2 \gset

-- The reference: each schedule a constant of its own call site.
CREATE TEMP TABLE cc_ref AS
SELECT n, isomargin.liquidation_price(q, e, m, :'t0'::isomargin.tiers, fee_rate => f) AS lp,
       isomargin.margin_call_price(q, e, m, :'t0'::isomargin.tiers, fee_rate => f, margin_call_ratio => 0.5) AS mcp,
       isomargin.margin_status(q, e, mark, m, :'t0'::isomargin.tiers, fee_rate => f) AS st
FROM cc_pos WHERE pick = 0
UNION ALL
SELECT n, isomargin.liquidation_price(q, e, m, :'t1'::isomargin.tiers, fee_rate => f),
       isomargin.margin_call_price(q, e, m, :'t1'::isomargin.tiers, fee_rate => f, margin_call_ratio => 0.5),
       isomargin.margin_status(q, e, mark, m, :'t1'::isomargin.tiers, fee_rate => f)
FROM cc_pos WHERE pick = 1
UNION ALL
SELECT n, isomargin.liquidation_price(q, e, m, :'t2'::isomargin.tiers, fee_rate => f),
       isomargin.margin_call_price(q, e, m, :'t2'::isomargin.tiers, fee_rate => f, margin_call_ratio => 0.5),
       isomargin.margin_status(q, e, mark, m, :'t2'::isomargin.tiers, fee_rate => f)
FROM cc_pos WHERE pick = 2;

-- The schedules tell the positions apart: the test can see a stale rule.
SELECT count(*) AS positions,
       count(*) FILTER (WHERE isomargin.liquidation_price(q, e, m, :'t0'::isomargin.tiers, fee_rate => f)
                        IS DISTINCT FROM isomargin.liquidation_price(q, e, m, :'t1'::isomargin.tiers, fee_rate => f)
                        AND isomargin.liquidation_price(q, e, m, :'t1'::isomargin.tiers, fee_rate => f)
                        IS DISTINCT FROM isomargin.liquidation_price(q, e, m, :'t2'::isomargin.tiers, fee_rate => f)
                        AND isomargin.liquidation_price(q, e, m, :'t0'::isomargin.tiers, fee_rate => f)
                        IS DISTINCT FROM isomargin.liquidation_price(q, e, m, :'t2'::isomargin.tiers, fee_rate => f))
         AS priced_differently_by_each,
       count(DISTINCT st) AS statuses_seen
FROM cc_pos JOIN cc_ref USING (n);

-- 1. A CASE over three constants, rows in order (the schedule changes every
-- row), and the same with a nested CASE.
SELECT count(*) AS rows,
       count(*) FILTER (WHERE x.lp IS NOT DISTINCT FROM r.lp) AS same_lp,
       count(*) FILTER (WHERE x.mcp IS NOT DISTINCT FROM r.mcp) AS same_mcp,
       count(*) FILTER (WHERE x.st = r.st) AS same_status
FROM (SELECT n,
             isomargin.liquidation_price(q, e, m,
                 CASE pick WHEN 0 THEN :'t0'::isomargin.tiers WHEN 1 THEN :'t1'::isomargin.tiers
                           ELSE :'t2'::isomargin.tiers END, fee_rate => f) AS lp,
             isomargin.margin_call_price(q, e, m,
                 CASE WHEN pick = 0 THEN :'t0'::isomargin.tiers
                      ELSE CASE WHEN pick = 1 THEN :'t1'::isomargin.tiers ELSE :'t2'::isomargin.tiers END END,
                 fee_rate => f, margin_call_ratio => 0.5) AS mcp,
             isomargin.margin_status(q, e, mark, m,
                 CASE pick WHEN 2 THEN :'t2'::isomargin.tiers WHEN 1 THEN :'t1'::isomargin.tiers
                           ELSE :'t0'::isomargin.tiers END, fee_rate => f) AS st
      FROM (SELECT * FROM cc_pos ORDER BY n) o) x
JOIN cc_ref r USING (n);

-- 2. Constants and a column in one CASE: rows of pick 1 take the schedule
-- from the table (the same bytes as the constant t1, another datum each row).
SELECT count(*) AS rows,
       count(*) FILTER (WHERE x.lp IS NOT DISTINCT FROM r.lp) AS same_lp
FROM (SELECT o.n,
             isomargin.liquidation_price(o.q, o.e, o.m,
                 CASE o.pick WHEN 0 THEN :'t0'::isomargin.tiers WHEN 1 THEN s.t
                             ELSE :'t2'::isomargin.tiers END, fee_rate => o.f) AS lp
      FROM (SELECT * FROM cc_pos ORDER BY n) o JOIN cc_sched s ON s.pick = 1) x
JOIN cc_ref r USING (n);

-- 3. Two constants of the same bytes and one other: the two equal ones are
-- two keys of one rule.
SELECT count(*) AS rows,
       count(*) FILTER (WHERE x.lp IS NOT DISTINCT FROM r.lp) AS same_lp
FROM (SELECT n,
             isomargin.liquidation_price(q, e, m,
                 CASE WHEN pick = 0 AND n % 2 = 0 THEN :'t0'::isomargin.tiers
                      WHEN pick = 0 THEN :'t0'::isomargin.tiers
                      WHEN pick = 1 THEN :'t1'::isomargin.tiers
                      ELSE :'t2'::isomargin.tiers END, fee_rate => f) AS lp
      FROM (SELECT * FROM cc_pos ORDER BY n) o) x
JOIN cc_ref r USING (n);

-- 4. A prepared statement run twice (its plan, and so its constants, kept
-- between the runs).
PREPARE cc_prep AS
SELECT count(*) FILTER (WHERE x.lp IS NOT DISTINCT FROM r.lp) AS same_lp
FROM (SELECT n,
             isomargin.liquidation_price(q, e, m,
                 CASE pick WHEN 0 THEN '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50; 100000..500000 mmr=0.02 max_leverage=20}'::isomargin.tiers
                           WHEN 1 THEN '{0..50000 mmr=0.03 max_leverage=25; 50000..1000000 mmr=0.04 max_leverage=20}'::isomargin.tiers
                           ELSE '{0..20000 mmr=0.06 max_leverage=10; 20000..1000000 mmr=0.08 max_leverage=8}'::isomargin.tiers END,
                 fee_rate => f) AS lp
      FROM (SELECT * FROM cc_pos ORDER BY n) o) x
JOIN cc_ref r USING (n);
EXECUTE cc_prep;
EXECUTE cc_prep;
DEALLOCATE cc_prep;
