-- bench/enforce_book.sql: one instrument holding :n open positions, for
-- bench/enforce_latency.sh.  psql variables: n (positions, >= 4000);
-- hash_partitions (optional): the positions table partitioned by HASH (id).
--
-- Every position is long 1 contract at 30000 on a linear instrument with a
-- flat mmr of 5% (margin-call ratio 0.8), so its margin-call price is
-- exactly mcp = (30000 - margin) / 0.9375 and margin = 30000 - 0.9375 * mcp.
-- The book, with the mark at 30000:
--   ids 1..1000      the crossing band: mcp = 29100 + 0.28 * (id - 1), exact,
--                    liquidation prices below 29000, so between 29099 and
--                    29400 they only move between ok and margin_call:
--                      29400 <-> 29099     crosses all 1000
--                      29202.8 <-> 29200   crosses ids 359..368 (10)
--                      29600 <-> 29500     crosses none
--   a third of n     already flagged liquidate (bankruptcy price in
--                    [28600, 28990], liquidation price above 30100), as after
--                    a crash: never candidates again while the mark stays above
--                    29000
--   the rest         ok, mcp spread over [5000, 28000): never crossed
CREATE TABLE instruments (symbol text PRIMARY KEY, kind isomargin.contract_kind NOT NULL DEFAULT 'linear',
                          contract_size numeric NOT NULL DEFAULT 1, mmr numeric NOT NULL,
                          fee_rate numeric NOT NULL DEFAULT 0);
CREATE TABLE marks (symbol text PRIMARY KEY, mark_price numeric NOT NULL);
\if :{?hash_partitions}
-- the same book in a table partitioned by HASH (id) into :hash_partitions partitions
CREATE TABLE positions (id bigint PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL) PARTITION BY HASH (id);
SELECT format('CREATE TABLE positions_p%s PARTITION OF positions FOR VALUES WITH (MODULUS %s, REMAINDER %s)',
              r, :hash_partitions, r)
  FROM generate_series(0, :hash_partitions - 1) r \gexec
\else
CREATE TABLE positions (id bigint PRIMARY KEY, symbol text NOT NULL, size numeric NOT NULL,
                        entry_price numeric NOT NULL, margin numeric NOT NULL);
\endif
INSERT INTO instruments (symbol, mmr) VALUES ('BTC', 0.05);
INSERT INTO marks VALUES ('BTC', 30000);
SELECT isomargin.enforce('positions', 'marks', 'instruments') ->> 'id' AS attachment \gset
INSERT INTO positions
SELECT g, 'BTC', 1, 30000,
       CASE WHEN g <= 1000 THEN 30000 - 0.9375 * (29100 + 0.28 * (g - 1))
            WHEN g <= 1000 + :n / 3 THEN 30000 - (28600 + (g * 7919) % 391)
            ELSE 30000 - 0.9375 * (5000 + (g * 7919) % 23000) END
  FROM generate_series(1::bigint, :n) g;
TRUNCATE isomargin.events;
VACUUM ANALYZE positions;
SELECT status, count(*) FROM positions GROUP BY 1 ORDER BY 1;
