-- isomargin.bracket, max_leverage and max_notional at every bracket
-- boundary of the domain reference's schedules, and one unit either side
-- (1 and 10^-8 of the notional; 1 and 0.01 of the leverage).
CREATE TEMP TABLE sched (name text PRIMARY KEY, t isomargin.tiers);
INSERT INTO sched VALUES
    ('linear',  '{0..10000 mmr=0.005 max_leverage=100; 10000..100000 mmr=0.01 max_leverage=50;
                  100000..500000 mmr=0.02 max_leverage=20; 500000..2000000 mmr=0.05 max_leverage=10;
                  2000000..10000000 mmr=0.1 max_leverage=5}'),
    ('inverse', '{0..5 mmr=0.005 max_leverage=100; 5..10 mmr=0.01 max_leverage=50;
                  10..20 mmr=0.025 max_leverage=20; 20..50 mmr=0.05 max_leverage=10}');

-- Bracket i holds floor < N <= cap; N = 0 is in bracket 1.  Above the last
-- cap, bracket() is the last bracket and max_leverage() is NULL, or an error
-- with strict => true (below).
SELECT n, isomargin.bracket(t, n) AS bracket, isomargin.max_leverage(t, n) AS max_leverage
FROM sched, unnest(ARRAY[0, 0.00000001, 1,
                         9999, 9999.99999999, 10000, 10000.00000001, 10001,
                         99999, 99999.99999999, 100000, 100000.00000001, 100001,
                         499999, 499999.99999999, 500000, 500000.00000001, 500001,
                         1999999, 1999999.99999999, 2000000, 2000000.00000001, 2000001,
                         9999999, 9999999.99999999, 10000000]::numeric[]) n
WHERE name = 'linear' ORDER BY n;

SELECT n, isomargin.bracket(t, n) AS bracket, isomargin.max_leverage(t, n) AS max_leverage
FROM sched, unnest(ARRAY[0, 0.00000001, 1,
                         4, 4.99999999, 5, 5.00000001, 6,
                         9, 9.99999999, 10, 10.00000001, 11,
                         19, 19.99999999, 20, 20.00000001, 21,
                         49, 49.99999999, 50]::numeric[]) n
WHERE name = 'inverse' ORDER BY n;

-- Above the last cap.
SELECT name, n, isomargin.bracket(t, n) AS bracket
FROM sched, unnest(ARRAY[50.00000001, 51, 10000000.00000001, 10000001, 1e30]::numeric[]) n
WHERE (name = 'inverse' AND n < 100) OR (name = 'linear' AND n > 100) ORDER BY name, n;
-- NULL, so that a report over a whole book carries on ...
\pset null '(null)'
SELECT name, n, isomargin.max_leverage(t, n) AS max_leverage,
       isomargin.max_leverage(t, n, strict => false) AS not_strict
FROM sched, unnest(ARRAY[50, 50.00000001, 51, 10000000, 10000000.00000001, 1e30]::numeric[]) n
WHERE (name = 'inverse' AND n < 100) OR (name = 'linear' AND n > 100) ORDER BY name, n;
-- ... and the error with strict => true (at the cap itself, the last bracket's leverage).
SELECT isomargin.max_leverage(t, 10000000, strict => true) FROM sched WHERE name = 'linear';
SELECT isomargin.max_leverage(t, 10000000.00000001, strict => true) FROM sched WHERE name = 'linear';
SELECT isomargin.max_leverage(t, 51, true) FROM sched WHERE name = 'inverse';

-- The largest notional a leverage is allowed at: the cap of the last
-- bracket whose max_leverage is at least that leverage.
SELECT l, isomargin.max_notional(t, l) AS max_notional
FROM sched, unnest(ARRAY[0.01, 1, 4, 4.99, 5, 5.01, 6,
                         9, 9.99, 10, 10.01, 11,
                         19, 19.99, 20, 20.01, 21,
                         49, 49.99, 50, 50.01, 51,
                         99, 99.99, 100]::numeric[]) l
WHERE name = 'linear' ORDER BY l;
-- Above the first bracket's maximum leverage: NULL, or the error with strict => true.
SELECT l, isomargin.max_notional(t, l) AS max_notional,
       isomargin.max_notional(t, l, strict => false) AS not_strict
FROM sched, unnest(ARRAY[100, 100.01, 125]::numeric[]) l
WHERE name = 'linear' ORDER BY l;
SELECT isomargin.max_notional(t, 100, strict => true) FROM sched WHERE name = 'linear';
SELECT isomargin.max_notional(t, 100.01, strict => true) FROM sched WHERE name = 'linear';
\pset null ''

-- Consistency: at its max_notional, a leverage is allowed; just above, it is not.
SELECT l, isomargin.max_leverage(t, isomargin.max_notional(t, l)) >= l AS allowed_at_max,
       isomargin.max_notional(t, l) = 10000000
           OR isomargin.max_leverage(t, isomargin.max_notional(t, l) + 0.00000001) < l AS refused_above
FROM sched, unnest(ARRAY[1, 5, 7.5, 10, 20, 35, 50, 100]::numeric[]) l
WHERE name = 'linear' ORDER BY l;

-- Bad arguments: 22023, naming the argument.
SELECT isomargin.bracket(t, -1) FROM sched WHERE name = 'linear';
SELECT isomargin.bracket(t, 'NaN') FROM sched WHERE name = 'linear';
SELECT isomargin.max_leverage(t, 'Infinity') FROM sched WHERE name = 'linear';
SELECT isomargin.max_leverage(t, -0.00000001) FROM sched WHERE name = 'linear';
SELECT isomargin.max_notional(t, 0) FROM sched WHERE name = 'linear';
SELECT isomargin.max_notional(t, -5) FROM sched WHERE name = 'linear';
SELECT isomargin.max_notional(t, 'NaN') FROM sched WHERE name = 'linear';
-- The strict form checks its arguments the same way, before the schedule.
SELECT isomargin.max_leverage(t, -1, strict => true) FROM sched WHERE name = 'linear';
SELECT isomargin.max_notional(t, 0, strict => false) FROM sched WHERE name = 'linear';
-- NULL in, NULL out (STRICT).
SELECT isomargin.bracket(t, NULL) IS NULL AS null_notional, isomargin.max_notional(NULL, 5) IS NULL AS null_tiers,
       isomargin.max_leverage(t, 1, NULL) IS NULL AS null_strict
FROM sched WHERE name = 'linear';
