-- bench/core_ab_report.sql: bench/core_ab.sh's table.  For each query and
-- build: the median time, and the median over every repetition of the query
-- over its session's bare scan with the same aggregate (timed seconds apart);
-- B against A over the same round: B's median time over A's, and the same
-- with each side's time first divided by its own session's bare scan (a new
-- session's scan alone moves by a few percent: the fairer of the two), the
-- median over the rounds.  Then whether both builds gave every query the same
-- answer.

\set ON_ERROR_STOP on
\pset footer off

CREATE TEMP TABLE per_rep AS
SELECT t.side, t.round, t.rep, t.name, v.ord, t.ms, t.ms / b.ms AS x_bare
FROM bench.ab_times AS t
JOIN bench.variants AS v USING (name)
JOIN bench.variants AS vb ON vb.impl = 'bare' AND vb.wrapper = v.wrapper
JOIN bench.ab_times AS b ON b.name = vb.name AND b.side = t.side AND b.round = t.round
                         AND b.rep = t.rep;

CREATE TEMP TABLE per_round AS
SELECT side, round, name, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY x_bare) AS x_bare
FROM per_rep GROUP BY side, round, name;

\echo
\echo 'Median ms; x bare: the query over its own session''s bare scan, median over every'
\echo 'repetition; B / A: B''s time over A''s in each round, median over the rounds; B / A over'
\echo 'bare: the same of the x bare ratios, and its value in each round (below 1: B is faster).'
SELECT r.name AS query,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY r.ms) FILTER (WHERE r.side = 'A')::numeric, 1) AS a_ms,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY r.ms) FILTER (WHERE r.side = 'B')::numeric, 1) AS b_ms,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY r.x_bare) FILTER (WHERE r.side = 'A')::numeric, 3) AS a_x_bare,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY r.x_bare) FILTER (WHERE r.side = 'B')::numeric, 3) AS b_x_bare,
       (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY b.ms / a.ms)::numeric, 3)
        FROM per_round AS a JOIN per_round AS b USING (round, name)
        WHERE a.side = 'A' AND b.side = 'B' AND a.name = r.name) AS b_over_a,
       (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY b.x_bare / a.x_bare)::numeric, 3)
        FROM per_round AS a JOIN per_round AS b USING (round, name)
        WHERE a.side = 'A' AND b.side = 'B' AND a.name = r.name) AS b_over_a_over_bare,
       (SELECT string_agg(round((b.x_bare / a.x_bare)::numeric, 3)::text, ' ' ORDER BY round)
        FROM per_round AS a JOIN per_round AS b USING (round, name)
        WHERE a.side = 'A' AND b.side = 'B' AND a.name = r.name) AS b_over_a_by_round
FROM per_rep AS r
GROUP BY r.name, r.ord
ORDER BY r.ord;

\echo 'Queries whose answer differs between A and B (must be none):'
SELECT a.name AS query, a.answer AS a_answer, b.answer AS b_answer
FROM bench.ab_answers AS a
JOIN bench.ab_answers AS b ON b.name = a.name AND b.side = 'B'
WHERE a.side = 'A' AND a.answer IS DISTINCT FROM b.answer;
