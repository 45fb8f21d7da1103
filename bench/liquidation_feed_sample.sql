-- bench/liquidation_feed_sample.sql: what the feed's backend (:feed, a pid) is
-- doing, sampled about every millisecond for :ms milliseconds (the snapshot of
-- pg_stat_activity cleared before each read).  Prints one row per state: its
-- samples and their share.  "running or runnable" is a backend with no wait
-- event: on a core, or waiting for one (the OS does not tell them apart here;
-- the schedstat figures of liquidation_feed_latency.sh do); idle so is one
-- between its statements, before or after its wait for the client.
\set ON_ERROR_STOP 1
\pset footer off
SELECT set_config('bench.feed', :'feed', false), set_config('bench.ms', :'ms', false) \gset
CREATE TEMP TABLE samples (state text);
DO $$
DECLARE
    feed int := current_setting('bench.feed')::int;
    stop timestamptz := clock_timestamp() + make_interval(secs => current_setting('bench.ms')::int / 1000.0);
    seen text[] := '{}';
    s text;
BEGIN
    WHILE clock_timestamp() < stop LOOP
        PERFORM pg_stat_clear_snapshot();
        SELECT CASE WHEN a.state = 'active' AND a.wait_event IS NULL THEN 'active, running or runnable'
                    WHEN a.wait_event IS NULL THEN a.state || ', running or runnable'
                    ELSE a.state || coalesce(': ' || a.wait_event_type || ' ' || a.wait_event, '') END
          INTO s FROM pg_stat_activity AS a WHERE a.pid = feed;
        seen := seen || coalesce(s, 'gone');
        PERFORM pg_sleep(0.001);
    END LOOP;
    INSERT INTO samples SELECT unnest(seen);
END
$$;
SELECT state, count(*) AS samples, round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS pct
  FROM samples GROUP BY state ORDER BY count(*) DESC;
