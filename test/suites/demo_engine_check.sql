-- test/suites/demo_engine_check.sql: checks a demo run with --engine (test/suites/demo.sh):
-- every ledger row of the liquidation engine recomputed in plain SQL from the row's own
-- inputs (size, entry and margin before, the closed size, the fill) and the instrument,
-- calling no isomargin function, by the rules of doc/liquidation.md:
--   released = M*k/|q|, down to 16 decimals (all of M for a full close)
--   PnL      = s_k*(P - E) linear; s_k*(P - E)/(E*P) inverse, down to 16 decimals
--   to fund  = released + PnL
--   fee due  = 0.005 * k*cs*P linear; 0.005 * k*cs/P inverse, up to 16 decimals
--   fee      = least(fee due, greatest(to fund, 0));  settlement = to fund - fee, or 0 (and
--   fee 0) when the closed part went to ADL (then shortfall = -to fund > 0);
--   amount = settlement + fee;  the rest: q - side*k, M - released
-- (divisions exact: div() truncates, the floor and ceiling corrected by the remainder's sign)
-- and the chain of a position's steps, the funds' balances, and that nothing is left flagged.
-- Output: one line per check, "ok|name|detail" or "not ok|name|detail".
\set ON_ERROR_STOP on
\pset format unaligned
\pset tuples_only on
SET jit = off;

CREATE TEMP TABLE steps AS
SELECT l.*, i.kind, i.contract_size AS cs, sign(l.size_before) AS side
  FROM isomargin.insurance_ledger l
  JOIN exchange.instruments i USING (symbol)
 WHERE l.positions = 'exchange.positions'::regclass AND l.entry = 'liquidation';

-- floor(a / b) and ceil(a / b) for b > 0, exactly
CREATE FUNCTION pg_temp.floor_div(a numeric, b numeric) RETURNS numeric LANGUAGE sql IMMUTABLE
RETURN div(a, b) - CASE WHEN a < 0 AND mod(a, b) <> 0 THEN 1 ELSE 0 END;
CREATE FUNCTION pg_temp.ceil_div(a numeric, b numeric) RETURNS numeric LANGUAGE sql IMMUTABLE
RETURN div(a, b) + CASE WHEN a > 0 AND mod(a, b) <> 0 THEN 1 ELSE 0 END;

CREATE TEMP TABLE recomputed AS
SELECT s.id, r.released, p.pnl, r.released + p.pnl AS to_fund,
       CASE WHEN s.adl_size > 0 THEN 0 ELSE least(f.fee, greatest(r.released + p.pnl, 0)) END AS fee_taken,
       CASE WHEN s.adl_size > 0 THEN 0
            ELSE r.released + p.pnl - least(f.fee, greatest(r.released + p.pnl, 0)) END AS settlement,
       s.size_before - s.side * s.closed_size AS size_after,
       s.margin_before - r.released AS margin_after
  FROM steps s
 CROSS JOIN LATERAL (SELECT CASE WHEN s.closed_size = abs(s.size_before) THEN s.margin_before
                                 ELSE pg_temp.floor_div(s.margin_before * s.closed_size * 1e16,
                                                        abs(s.size_before)) * 1e-16 END AS released) r
 CROSS JOIN LATERAL (SELECT CASE WHEN s.kind = 'linear'
                                 THEN s.side * s.closed_size * s.cs * (s.mark_price - s.entry_price)
                                 ELSE pg_temp.floor_div(s.side * s.closed_size * s.cs * (s.mark_price - s.entry_price) * 1e16,
                                                        s.entry_price * s.mark_price) * 1e-16 END AS pnl) p
 CROSS JOIN LATERAL (SELECT CASE WHEN s.kind = 'linear' THEN 0.005 * s.closed_size * s.cs * s.mark_price
                                 ELSE pg_temp.ceil_div(0.005 * s.closed_size * s.cs * 1e16, s.mark_price) * 1e-16 END AS fee) f;

SELECT CASE WHEN n > 0 THEN 'ok' ELSE 'not ok' END
       || '|the engine liquidated during the replay|' || n || ' steps on ' || p || ' positions, '
       || partial || ' partial'
  FROM (SELECT count(*) AS n, count(DISTINCT position_key) AS p,
               count(*) FILTER (WHERE size_after <> 0) AS partial FROM steps) x;

SELECT CASE WHEN bad = 0 THEN 'ok' ELSE 'not ok' END
       || '|every ledger row equals its recomputation (released, PnL, fee, settlement, amount, the rest)|'
       || bad || ' of ' || n || ' differ' || coalesce(' (first: ledger id ' || first_id || ')', '')
  FROM (SELECT count(*) AS n,
               count(*) FILTER (WHERE (s.released_margin, s.realized_pnl, s.liquidation_fee, s.settlement,
                                       s.amount, s.size_after, s.margin_after)
                                      IS DISTINCT FROM
                                      (r.released, r.pnl, r.fee_taken, r.settlement,
                                       r.settlement + r.fee_taken, r.size_after, r.margin_after)) AS bad,
               min(s.id) FILTER (WHERE (s.released_margin, s.realized_pnl, s.liquidation_fee, s.settlement,
                                        s.amount, s.size_after, s.margin_after)
                                       IS DISTINCT FROM
                                       (r.released, r.pnl, r.fee_taken, r.settlement,
                                        r.settlement + r.fee_taken, r.size_after, r.margin_after)) AS first_id
          FROM steps s JOIN recomputed r USING (id)) x;

SELECT CASE WHEN bad = 0 THEN 'ok' ELSE 'not ok' END
       || '|a row goes to ADL only when the fund could not pay, with the shortfall it would have paid|'
       || bad || ' differ; ' || adl || ' to ADL'
  FROM (SELECT count(*) FILTER (WHERE (s.adl_size > 0) AND NOT (r.to_fund < 0 AND s.shortfall = -r.to_fund
                                                             AND s.adl_size = s.closed_size)) AS bad,
               count(*) FILTER (WHERE s.adl_size > 0) AS adl
          FROM steps s JOIN recomputed r USING (id)) x;

SELECT CASE WHEN bad = 0 THEN 'ok' ELSE 'not ok' END
       || '|each position''s steps chain: a step starts where the one before ended|' || bad || ' breaks'
  FROM (SELECT count(*) FILTER (WHERE prev_size IS NOT NULL AND (size_before, margin_before)
                                      IS DISTINCT FROM (prev_size, prev_margin)) AS bad
          FROM (SELECT s.*, lag(s.size_after) OVER w AS prev_size, lag(s.margin_after) OVER w AS prev_margin
                  FROM steps s WINDOW w AS (PARTITION BY s.position_key ORDER BY s.id)) c) x;

SELECT CASE WHEN bad = 0 THEN 'ok' ELSE 'not ok' END
       || '|every fund''s balance is the sum of its ledger rows, and the last balance the demo logged|'
       || string_agg(f.fund || ' ' || f.balance, ', ' ORDER BY f.fund)
  FROM (SELECT count(*) FILTER (WHERE f.balance IS DISTINCT FROM b.total
                                   OR f.balance IS DISTINCT FROM e.balance) OVER () AS bad, f.fund, f.balance
          FROM isomargin.insurance_funds f
          LEFT JOIN (SELECT fund, sum(amount) AS total FROM isomargin.insurance_ledger
                      WHERE positions = 'exchange.positions'::regclass GROUP BY fund) b USING (fund)
          LEFT JOIN (SELECT DISTINCT ON (fund) fund, balance FROM demo.engine_log ORDER BY fund, step DESC) e
                 USING (fund)
         WHERE f.positions = 'exchange.positions'::regclass) f
 GROUP BY bad;

SELECT CASE WHEN p.size = s.size_after AND p.margin = s.margin_after THEN 'ok' ELSE 'not ok' END
       || '|the book holds what each position''s last step left|'
       || count(*) || ' positions' 
  FROM (SELECT DISTINCT ON (position_key) * FROM steps ORDER BY position_key, id DESC) s
  JOIN exchange.positions p ON p.id = (s.position_key ->> 'id')::bigint
 GROUP BY p.size = s.size_after AND p.margin = s.margin_after;

SELECT CASE WHEN flagged = 0 AND unclaimed = 0 THEN 'ok' ELSE 'not ok' END
       || '|after the last step''s worker run nothing is left flagged or unclaimed|'
       || flagged || ' flagged, ' || unclaimed || ' unclaimed'
  FROM (SELECT (SELECT count(*) FROM exchange.positions WHERE status >= 'liquidate') AS flagged,
               (SELECT count(*) FROM isomargin.events WHERE positions = 'exchange.positions'::regclass
                   AND claimed_at IS NULL AND new_status >= 'liquidate') AS unclaimed) x;

SELECT CASE WHEN bad = 0 THEN 'ok' ELSE 'not ok' END
       || '|ADL: each queued shortfall is assigned in full by fills at its bankruptcy price, each fill''s cash = released + PnL|'
       || n || ' queued, ' || fills || ' fills; ' || bad || ' differ'
  FROM (SELECT count(*) AS n,
               (SELECT count(*) FROM isomargin.adl_fills) AS fills,
               count(*) FILTER (WHERE q.assigned_size <> q.size
                                   OR q.assigned_size IS DISTINCT FROM
                                      (SELECT sum(f.closed_size) FROM isomargin.adl_fills f WHERE f.queue_id = q.id)
                                   OR EXISTS (SELECT FROM isomargin.adl_fills f WHERE f.queue_id = q.id
                                               AND (f.price <> q.price
                                                    OR f.cash <> f.released_margin + f.realized_pnl))) AS bad
          FROM isomargin.adl_queue q WHERE q.positions = 'exchange.positions'::regclass) x;
