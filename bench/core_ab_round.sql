-- bench/core_ab_round.sql: one round of bench/core_ab.sh for one build, in a
-- session of its own (the library is loaded by its first call).  psql
-- variables: side (A or B), round, reps.  Every query runs once untimed (its
-- answer kept), then `reps` times round-robin (bench.time_variants, as
-- core_run.sql).

\set ON_ERROR_STOP on
SET bench.side = :'side';

DO $$
DECLARE
    v record;
    answer text;
BEGIN
    FOR v IN SELECT * FROM bench.variants ORDER BY ord LOOP
        EXECUTE format('SELECT %s(v)::text FROM (%s) AS q', v.wrapper, v.rowsource) INTO answer;
        INSERT INTO bench.ab_answers VALUES (current_setting('bench.side'), v.name, answer);
    END LOOP;
END
$$;

INSERT INTO bench.ab_times
SELECT :'side', :round, rep, name, ms FROM bench.time_variants(:reps);
