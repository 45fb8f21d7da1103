-- bench/core_ab_setup.sql: the queries bench/core_ab.sh times, from the
-- variants of core_throughput.sh: the C functions whose name matches the psql
-- variable `only`, and the bare scans; the tables the rounds write.

\set ON_ERROR_STOP on

DELETE FROM bench.variants
WHERE impl <> 'bare' AND (impl <> 'c' OR name !~ :'only');

CREATE TABLE bench.ab_times (side text, round int, rep int, name text, ms float8);
CREATE TABLE bench.ab_answers (side text, name text, answer text);

\echo
\echo 'Queries timed:'
SELECT name AS query, wrapper || '()' AS aggregate FROM bench.variants ORDER BY ord;
