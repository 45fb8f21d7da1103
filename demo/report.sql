-- demo/report.sql: the report at the end of the replay.
-- psql variables: main (the main symbol), have_enforce, have_reports (booleans),
-- risk (the margin functions' rate argument: 'tiers => i.tiers' or 'mmr => i.mmr').
\set ON_ERROR_STOP on
\pset footer off

\if :have_enforce
\echo
\echo 'Flagged by enforcement, by instrument (statuses stored in exchange.positions; shortfall in the settlement currency):'
\echo '  at_flag_mark: loss beyond bankruptcy if each position is closed at the mark that flagged it (its first liquidate or bankrupt event)'
\echo '  at_worst_mark: the same if they are only closed at the worst mark of the replay (longs at the low, shorts at the high)'
WITH worst AS (
    SELECT symbol, min(mark_price) AS low, max(mark_price) AS high
      FROM demo.mark_path
     GROUP BY symbol
), first_flag AS MATERIALIZED (
    SELECT DISTINCT ON (e.position_key) (e.position_key ->> 'id')::bigint AS id,
           e.mark_price, e.equity
      FROM isomargin.events e
     WHERE e.positions = 'exchange.positions'::regclass AND e.new_status >= 'liquidate'
     ORDER BY e.position_key, e.id
), book AS (
    SELECT p.symbol, p.status, p.size, p.entry_price, p.margin, i.contract_size, i.kind,
           f.mark_price AS flag_mark, f.equity AS flag_equity,
           CASE WHEN p.size > 0 THEN w.low ELSE w.high END AS worst_mark
      FROM exchange.positions p
      JOIN exchange.instruments i USING (symbol)
      JOIN worst w USING (symbol)
      LEFT JOIN first_flag f USING (id)
)
SELECT b.symbol, count(*) AS positions,
       count(*) FILTER (WHERE b.status = 'margin_call') AS margin_call,
       count(*) FILTER (WHERE b.status = 'liquidate') AS liquidate,
       count(*) FILTER (WHERE b.status = 'bankrupt') AS bankrupt,
       round(coalesce(sum(isomargin.notional(abs(b.size), b.flag_mark, b.contract_size, b.kind))
                      FILTER (WHERE b.status >= 'liquidate'), 0),
             CASE WHEN min(b.kind::text) = 'inverse' THEN 4 ELSE 0 END) AS notional_at_flag,
       round(coalesce(sum(greatest(0, -b.flag_equity)) FILTER (WHERE b.status >= 'liquidate'), 0),
             CASE WHEN min(b.kind::text) = 'inverse' THEN 8 ELSE 2 END) AS shortfall_at_flag_mark,
       round(coalesce(sum(isomargin.shortfall(b.size, b.entry_price, b.worst_mark, b.margin,
                                              b.contract_size, b.kind))
                      FILTER (WHERE b.status >= 'liquidate'), 0),
             CASE WHEN min(b.kind::text) = 'inverse' THEN 8 ELSE 2 END) AS shortfall_at_worst_mark,
       (SELECT settle FROM exchange.instruments i WHERE i.symbol = b.symbol) AS settle
  FROM book b
 GROUP BY b.symbol
 ORDER BY b.symbol;
\endif

\echo
\echo 'Riskiest open positions at the final marks (not yet at liquidate): the closest to its liquidation price'
\echo 'for each instrument and side, and the largest open position of the book'
WITH open AS (
    SELECT p.*, m.mark_price, i.contract_size, i.kind,
           isomargin.liquidation_price(size => p.size, entry_price => p.entry_price, margin => p.margin,
               :risk, contract_size => i.contract_size, kind => i.kind, fee_rate => i.fee_rate) AS lp,
           isomargin.margin_ratio(size => p.size, entry_price => p.entry_price, mark_price => m.mark_price,
               margin => p.margin, :risk, contract_size => i.contract_size, kind => i.kind,
               fee_rate => i.fee_rate) AS ratio
      FROM exchange.positions p JOIN exchange.instruments i USING (symbol)
      JOIN exchange.marks m USING (symbol)
\if :have_enforce
     WHERE p.status < 'liquidate'
\endif
), ranked AS (
    SELECT DISTINCT ON (o.symbol, o.size > 0) o.*, 'nearest' AS why
      FROM open o
     WHERE o.lp IS NOT NULL
       AND ((o.size > 0 AND o.lp < o.mark_price) OR (o.size < 0 AND o.lp > o.mark_price))
     ORDER BY o.symbol, o.size > 0, abs(o.mark_price - o.lp) / o.mark_price, o.id
), whale AS (
    SELECT o.*, 'largest' AS why FROM open o
     ORDER BY isomargin.notional(abs(o.size), o.mark_price, o.contract_size, o.kind)
              * CASE WHEN o.kind = 'inverse' THEN o.mark_price ELSE 1 END DESC, o.id
     LIMIT 1
)
SELECT r.why, r.id, r.symbol, CASE WHEN r.size > 0 THEN 'long' ELSE 'short' END AS side,
       abs(r.size) AS size, r.leverage, r.entry_price, r.mark_price, r.lp AS liquidation_price,
       coalesce(to_char(100 * abs(r.mark_price - r.lp) / r.mark_price, 'FM990.00') || '%', 'never') AS distance,
       round(r.ratio, 4) AS margin_ratio
  FROM (SELECT * FROM ranked UNION ALL SELECT * FROM whale) r
 ORDER BY r.why DESC, abs(r.mark_price - r.lp) / r.mark_price;

\if :have_reports
\echo
\echo 'Shock scenarios from the final marks (isomargin.shock): every instrument moves at once; open positions that would be'
\echo 'liquidated, their notional at the shocked price and their shortfall if closed there (settlement currency)'
WITH moves(move) AS (VALUES (-0.10), (-0.05), (0.05), (0.10)),
shocked AS (
    SELECT mv.move, s.*
      FROM moves mv
     CROSS JOIN LATERAL isomargin.shock('exchange.positions', 'exchange.marks',
                                        'exchange.instruments', mv.move) s
)
SELECT CASE WHEN mv.move > 0 THEN '+' ELSE '' END || round(100 * mv.move) || '%' AS move, i.symbol,
       count(s.position_key) AS liquidated,
       round(coalesce(sum(isomargin.notional(abs(s.size), s.shocked_price, i.contract_size, i.kind)), 0),
             CASE WHEN i.kind = 'inverse' THEN 4 ELSE 0 END) AS notional,
       round(coalesce(sum(s.shortfall), 0), CASE WHEN i.kind = 'inverse' THEN 8 ELSE 2 END) AS shortfall,
       i.settle
  FROM moves mv
 CROSS JOIN exchange.instruments i
  LEFT JOIN shocked s ON s.move = mv.move AND s.symbol = i.symbol
 GROUP BY mv.move, i.symbol, i.kind, i.settle
 ORDER BY mv.move, i.symbol;
\endif

\if :have_engine
\echo
\echo 'The liquidation engine (doc/liquidation.md): liquidation steps by instrument and policy, settled at the bankruptcy price at the mark of the step'
SELECT l.symbol, l.method, count(*) AS steps, count(DISTINCT l.position_key) AS positions,
       count(*) FILTER (WHERE l.size_after <> 0) AS partial, sum(l.closed_size) AS contracts,
       sum(l.settlement) AS settlement, sum(l.liquidation_fee) AS fees,
       count(*) FILTER (WHERE l.adl_size > 0) AS to_adl
  FROM isomargin.insurance_ledger l
 WHERE l.positions = 'exchange.positions'::regclass AND l.entry = 'liquidation'
 GROUP BY l.symbol, l.method ORDER BY l.symbol;
\echo
\echo 'Insurance funds over the replay (balance after each step''s worker run; steps with liquidations):'
SELECT e.step, e.fund, e.liquidations, e.balance
  FROM demo.engine_log e WHERE e.liquidations > 0 OR e.step = (SELECT max(step) FROM demo.engine_log)
 ORDER BY e.fund, e.step;
\echo
\echo 'Auto-deleveraging and residual risk:'
SELECT q.symbol, q.side AS deleveraged, count(*) AS shortfalls, sum(q.size) AS contracts,
       sum(q.assigned_size) AS assigned, sum(q.size - q.assigned_size) AS unassigned,
       sum(q.shortfall) AS shortfall,
       (SELECT count(*) FROM isomargin.adl_fills f WHERE f.queue_id IN
          (SELECT id FROM isomargin.adl_queue q2 WHERE q2.symbol = q.symbol)) AS positions_reduced
  FROM isomargin.adl_queue q GROUP BY q.symbol, q.side ORDER BY 1, 2;
SELECT count(*) FILTER (WHERE status >= 'liquidate') AS still_flagged,
       count(*) FILTER (WHERE size = 0) AS closed,
       (SELECT count(*) FROM isomargin.events e WHERE e.positions = 'exchange.positions'::regclass
           AND e.claimed_at IS NULL AND e.new_status >= 'liquidate') AS unclaimed_flags
  FROM exchange.positions;
\endif
