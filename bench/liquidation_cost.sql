-- bench/liquidation_cost.sql: where a liquidation's time goes.  Run after one
-- worker emptied the book with track_functions = all (:ms its wall time,
-- :cpu_ms its backend's CPU time, in milliseconds): for each function the
-- worker called, its calls per liquidation and microseconds per liquidation,
-- its own (self) and with what it calls (total).  The worker procedure's own time is its loop and the
-- commits.  The exact figures (assess, after_fill, bankruptcy_price, close_part
-- and the PL/pgSQL around them) are the small lines at the bottom.  Then the
-- same by statement (pg_stat_statements, track = all in the worker's session):
-- each statement's calls and microseconds per liquidation, with the statements
-- it runs (the position's UPDATE with enforcement's trigger, say); the ones
-- under 2 microseconds left out.
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
WITH n AS (SELECT count(*)::numeric AS n FROM isomargin.insurance_ledger WHERE entry = 'liquidation')
SELECT round(s.calls / n.n, 2) AS calls_each,
       round((s.total_exec_time * 1000 / n.n)::numeric, 1) AS total_us,
       left(regexp_replace(regexp_replace(s.query, '\s+', ' ', 'g'), 'OPERATOR\(pg_catalog\.([^)]*)\)', '\1', 'g'), 110) AS statement
  FROM pg_stat_statements AS s, n
 WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND s.total_exec_time * 1000 / n.n >= 2
 ORDER BY s.total_exec_time DESC;
