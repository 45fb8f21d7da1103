-- bench/liquidation_cost.sql: where a liquidation's time goes.  Run after one
-- worker emptied the book with track_functions = all (:ms its wall time,
-- :cpu_ms its backend's CPU time, in milliseconds): for each function the
-- worker called, its calls per liquidation and microseconds per liquidation,
-- its own (self) and with what it calls (total).  The worker procedure's own time is its loop and the
-- commits.  The exact figures (assess, after_fill, bankruptcy_price, close_part
-- and the PL/pgSQL around them) are the small lines at the bottom.
\set ON_ERROR_STOP 1
\pset footer off
WITH n AS (SELECT count(*)::numeric AS n FROM isomargin.insurance_ledger WHERE entry = 'liquidation')
SELECT f.funcname AS function,
       round(f.calls / n.n, 2) AS calls_each,
       round((f.self_time * 1000 / n.n)::numeric, 1) AS self_us,
       round((f.total_time * 1000 / n.n)::numeric, 1) AS total_us
  FROM pg_stat_user_functions AS f, n
 WHERE f.schemaname = 'isomargin' AND f.calls > 0
 ORDER BY f.self_time DESC;
SELECT count(*) AS liquidations, :ms AS wall_ms,
       round(:ms * 1000.0 / count(*), 1) AS wall_us_each,
       :cpu_ms AS backend_cpu_ms, round(:cpu_ms * 1000.0 / count(*), 1) AS cpu_us_each
  FROM isomargin.insurance_ledger WHERE entry = 'liquidation';
