-- demo/dynamic.sql: the crash of the replay backtested under three rules for the main
-- instrument (doc/dynamic.md): its first bracket's rate flat, its tiers, and its tiers
-- with the dynamic add-ons (volatility: half-life 4 steps, floor 0.3%, cap 3% per step,
-- multiplier 0.5; liquidity against a book snapshot taken before the crash: 25 levels a
-- side 0.02% apart, each 0.5% of the open size, 1% beyond).  One position in 10 of the
-- book, as it was loaded (a view: the replay's flags do not hide any).  psql variables:
-- main (the instrument), out (the directory for dynamic.dat).
\set ON_ERROR_STOP on

CREATE VIEW demo.bt_positions AS
SELECT id, symbol, size, entry_price, margin FROM exchange.positions
 WHERE symbol = :'main' AND id % 10 = 0;
CREATE TABLE demo.bt_path AS
SELECT symbol, mark_price, timestamptz '2026-01-01 00:00+00' + step * interval '1 minute' AS mark_time
  FROM demo.mark_path WHERE symbol = :'main';
CREATE TABLE demo.bt_book AS
SELECT m.symbol, s.side, m.mark_price * (1 + sgn * 0.0002 * l) AS price,
       round(0.005 * (SELECT sum(abs(size)) FROM exchange.positions WHERE symbol = :'main'), 3) AS size,
       timestamptz '2026-01-01 00:00+00' AS snapshot_time
  FROM demo.mark_path m
 CROSS JOIN (VALUES ('bid', -1), ('ask', 1)) AS s(side, sgn)
 CROSS JOIN generate_series(1, 25) AS l
 WHERE m.step = 0 AND m.symbol = :'main';
SELECT tiers::text AS main_tiers FROM exchange.instruments WHERE symbol = :'main' \gset
SELECT min(mmr) AS main_flat FROM exchange.brackets WHERE symbol = :'main' \gset
SELECT fee_rate AS main_fee FROM exchange.instruments WHERE symbol = :'main' \gset

CREATE TABLE demo.bt_rules AS
SELECT * FROM (VALUES
    (1, jsonb_build_object('name', 'flat ' || :'main_flat', 'mmr', :'main_flat'::numeric,
                           'fee_rate', :'main_fee'::numeric)),
    (2, jsonb_build_object('name', 'tiers', 'tiers', :'main_tiers', 'fee_rate', :'main_fee'::numeric)),
    (3, jsonb_build_object('name', 'tiers + dynamic', 'tiers', :'main_tiers', 'liquidity', true,
                           'fee_rate', :'main_fee'::numeric,
                           'volatility', jsonb_build_object('half_life', 4, 'floor', 0.003,
                                                            'cap', 0.03, 'multiplier', 0.5)))
) AS r(ord, rule);
CREATE TABLE demo.bt_result AS
SELECT r.ord, b.*
  FROM demo.bt_rules r
 CROSS JOIN LATERAL isomargin.backtest('demo.bt_positions', 'exchange.instruments',
                                       'demo.bt_path', 'demo.bt_book', r.rule) b;

\echo
\echo 'Backtest of the crash, one position in 10 of' :main '(isomargin.backtest, one query over three rules):'
SELECT r.rule ->> 'name' AS rule,
       count(b.position_key) AS liquidated,
       min(extract(epoch FROM b.liquidated_at - '2026-01-01 00:00+00') / 60)::int AS first_step,
       count(*) FILTER (WHERE b.status = 'bankrupt') AS bankrupt_first,
       round(coalesce(sum(b.shortfall), 0), 2) AS shortfall_usdt
  FROM demo.bt_rules r LEFT JOIN demo.bt_result b USING (ord)
 GROUP BY r.ord, r.rule ORDER BY r.ord;

-- per step: the mark and the shortfall beyond bankruptcy so far under each rule
CREATE VIEW demo.bt_curve AS
SELECT p.step, p.mark_price,
       (SELECT coalesce(sum(b.shortfall), 0) FROM demo.bt_result b WHERE b.ord = 1 AND b.liquidated_at <= t.at) AS flat,
       (SELECT coalesce(sum(b.shortfall), 0) FROM demo.bt_result b WHERE b.ord = 2 AND b.liquidated_at <= t.at) AS tiers,
       (SELECT coalesce(sum(b.shortfall), 0) FROM demo.bt_result b WHERE b.ord = 3 AND b.liquidated_at <= t.at) AS dynamic
  FROM demo.mark_path p
 CROSS JOIN LATERAL (SELECT timestamptz '2026-01-01 00:00+00' + p.step * interval '1 minute' AS at) t
 WHERE p.symbol = :'main';
\copy (SELECT * FROM demo.bt_curve ORDER BY step) TO 'dynamic.dat'
