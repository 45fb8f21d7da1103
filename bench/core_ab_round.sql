-- bench/core_ab_round.sql: one round of bench/core_ab.sh for one build, in a
-- session of its own (the library is loaded by its first call).  psql
-- variables: side (A or B), round, reps.  Every query runs once untimed (its
-- answer kept), then `reps` times round-robin, as core_run.sql does.

\set ON_ERROR_STOP on
SET bench.side = :'side';
SET bench.round = :round;
SET bench.reps = :reps;

DO $$
DECLARE
    v record;
    t0 timestamptz;
    answer text;
BEGIN
    FOR v IN SELECT * FROM bench.variants ORDER BY ord LOOP
        EXECUTE format('SELECT %s(v)::text FROM (%s) AS q', v.wrapper, v.rowsource) INTO answer;
        INSERT INTO bench.ab_answers VALUES (current_setting('bench.side'), v.name, answer);
    END LOOP;
    FOR rep IN 1 .. current_setting('bench.reps')::int LOOP
        FOR v IN SELECT * FROM bench.variants ORDER BY ord LOOP
            t0 := clock_timestamp();
            EXECUTE format('SELECT %s(v) FROM (%s) AS q', v.wrapper, v.rowsource);
            INSERT INTO bench.ab_times
            VALUES (current_setting('bench.side'), current_setting('bench.round')::int, rep, v.name,
                    1000 * extract(epoch FROM clock_timestamp() - t0));
        END LOOP;
    END LOOP;
END
$$;
