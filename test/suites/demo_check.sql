-- test/suites/demo_check.sql: checks a finished demo run (test/suites/demo.sh) against an
-- independent recomputation in plain SQL.  It reads only the demo's inputs: the book's
-- size, entry_price and margin, the instruments' contract size, kind and fee, the plain
-- bracket rows (exchange.brackets; or the flat mmr column with --flat) and the mark path
-- (demo.mark_path).  It calls no isomargin function and reads none of the prices or
-- statuses enforcement stores, except as the thing under test.
--
-- The exact maintenance check of every position at every step's mark (doc/formulas.md):
--   linear:  Q = M + q*cs*(P - E),  MM = |q|*cs*P*(r + f) - A
--   inverse: both multiplied by E*P > 0, so nothing is divided:
--            Q' = M*E*P + q*cs*(P - E),  MM' = |q|*cs*E*(r + f) - A*E*P
-- with (r, A) of the bracket holding the notional at P (|q|*cs*P, or |q|*cs/P compared as
-- floor*P < |q|*cs), A_i = A_{i-1} + floor_i*(r_i - r_{i-1}); bankrupt if Q <= 0, liquidate
-- if Q <= MM, margin_call if MM >= 0.8*Q.  Enforcement keeps liquidate and bankrupt once
-- reached and lets margin_call go back to ok, so the status after step t is the most
-- severe of liquidate/bankrupt reached at any step <= t, else the check at step t.  A
-- position's liquidation price is where Q = MM, and Q - MM moves one way with the price,
-- so "reached liquidate by step t" is "the mark crossed its liquidation price by step t".
--
-- Output: one line per check, "ok|name|detail" or "not ok|name|detail".
\set ON_ERROR_STOP on
\pset format unaligned
\pset tuples_only on
SET jit = off;

SELECT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = 'exchange.instruments'::regclass
               AND a.attname = 'tiers' AND a.attnum > 0 AND NOT a.attisdropped) AS tiered \gset

CREATE TEMP TABLE sched (symbol text, bracket int, floor numeric, rf numeric, amount numeric);
\if :tiered
INSERT INTO sched
SELECT b.symbol, b.bracket, b.notional_floor, b.mmr + i.fee_rate,
       sum(b.notional_floor * (b.mmr - coalesce(b.prev_mmr, b.mmr)))
           OVER (PARTITION BY b.symbol ORDER BY b.bracket)
  FROM (SELECT br.*, lag(br.mmr) OVER (PARTITION BY br.symbol ORDER BY br.bracket) AS prev_mmr
          FROM exchange.brackets br) b
  JOIN exchange.instruments i USING (symbol);
\else
INSERT INTO sched SELECT i.symbol, 1, 0, i.mmr + i.fee_rate, 0 FROM exchange.instruments i;
\endif

-- Every symbol's mark at every step (a symbol a step leaves out keeps its mark).
CREATE TEMP TABLE path AS
SELECT s.step, i.symbol,
       (SELECT mp.mark_price FROM demo.mark_path mp
         WHERE mp.symbol = i.symbol AND mp.step <= s.step ORDER BY mp.step DESC LIMIT 1) AS mark
  FROM generate_series(0, (SELECT max(step) FROM demo.mark_path)) s(step)
 CROSS JOIN exchange.instruments i;

-- 0 ok, 1 margin_call, 2 liquidate, 3 bankrupt
CREATE TEMP TABLE checked AS
SELECT p.id, pa.step, CASE WHEN f.q <= 0 THEN 3 WHEN f.q <= f.mm THEN 2
                           WHEN f.mm >= 0.8 * f.q THEN 1 ELSE 0 END AS sev
  FROM exchange.positions p
  JOIN exchange.instruments i USING (symbol)
  JOIN path pa USING (symbol)
 CROSS JOIN LATERAL (SELECT p.size * i.contract_size AS s, abs(p.size) * i.contract_size AS a) k
 CROSS JOIN LATERAL (
        SELECT sc.rf, sc.amount FROM sched sc
         WHERE sc.symbol = p.symbol
           AND (sc.bracket = 1 OR CASE WHEN i.kind = 'linear' THEN sc.floor < k.a * pa.mark
                                       ELSE sc.floor * pa.mark < k.a END)
         ORDER BY sc.bracket DESC LIMIT 1) b
 CROSS JOIN LATERAL (
        SELECT CASE WHEN i.kind = 'linear' THEN p.margin + k.s * (pa.mark - p.entry_price)
                    ELSE p.margin * p.entry_price * pa.mark + k.s * (pa.mark - p.entry_price) END AS q,
               CASE WHEN i.kind = 'linear' THEN k.a * pa.mark * b.rf - b.amount
                    ELSE k.a * p.entry_price * b.rf - b.amount * p.entry_price * pa.mark END AS mm) f;

CREATE TEMP TABLE expected AS
SELECT id, step, CASE WHEN sticky >= 2 THEN sticky ELSE sev END AS sev
  FROM (SELECT c.*, max(CASE WHEN c.sev >= 2 THEN c.sev ELSE 0 END)
                        OVER (PARTITION BY c.id ORDER BY c.step) AS sticky
          FROM checked c) x;

CREATE TEMP TABLE final AS
SELECT e.id, e.sev AS want,
       array_position(ARRAY['ok', 'margin_call', 'liquidate', 'bankrupt'], p.status::text) - 1 AS got
  FROM expected e JOIN exchange.positions p USING (id)
 WHERE e.step = (SELECT max(step) FROM demo.mark_path);

-- Not vacuous: the crash flags a real share of the book, not all of it.
SELECT CASE WHEN n >= 0.05 * total AND n < total THEN 'ok' ELSE 'not ok' END
       || '|the crash carries a real share of the book past liquidation|'
       || n || ' of ' || total || ' positions'
  FROM (SELECT count(*) FILTER (WHERE want >= 2) AS n, count(*) AS total FROM final) f;

SELECT CASE WHEN bad = 0 THEN 'ok' ELSE 'not ok' END
       || '|positions flagged liquidate or bankrupt are exactly those whose liquidation price the path crossed|'
       || flagged || ' flagged; ' || bad || ' differ'
       || coalesce(' (first: id ' || first_id || ' stored ' || first_got || ', recomputed ' || first_want || ')', '')
  FROM (SELECT count(*) FILTER (WHERE (want >= 2) <> (got >= 2)) AS bad,
               count(*) FILTER (WHERE got >= 2) AS flagged,
               min(id) FILTER (WHERE (want >= 2) <> (got >= 2)) AS first_id,
               (array_agg(got ORDER BY id) FILTER (WHERE (want >= 2) <> (got >= 2)))[1] AS first_got,
               (array_agg(want ORDER BY id) FILTER (WHERE (want >= 2) <> (got >= 2)))[1] AS first_want
          FROM final) f;

SELECT CASE WHEN bad = 0 THEN 'ok' ELSE 'not ok' END
       || '|every stored status equals the recomputed one (ok, margin_call, liquidate, bankrupt)|'
       || bad || ' of ' || total || ' differ'
       || coalesce(' (first: id ' || first_id || ')', '')
  FROM (SELECT count(*) FILTER (WHERE want IS DISTINCT FROM got) AS bad, count(*) AS total,
               min(id) FILTER (WHERE want IS DISTINCT FROM got) AS first_id
          FROM final) f;

-- The counts the demo printed at each step (demo.step_log).
SELECT CASE WHEN bad = 0 AND steps > 0 THEN 'ok' ELSE 'not ok' END
       || '|the per-step counts the demo printed equal the recomputation at every step|'
       || steps || ' steps; ' || bad || ' differ'
       || coalesce(' (first: step ' || first_step || ')', '')
  FROM (SELECT count(*) AS steps,
               count(*) FILTER (WHERE (l.margin_call, l.liquidate, l.bankrupt)
                                      IS DISTINCT FROM (w.mc, w.lq, w.bk)) AS bad,
               min(l.step) FILTER (WHERE (l.margin_call, l.liquidate, l.bankrupt)
                                         IS DISTINCT FROM (w.mc, w.lq, w.bk)) AS first_step
          FROM demo.step_log l
          LEFT JOIN (SELECT step, count(*) FILTER (WHERE sev = 1) AS mc,
                            count(*) FILTER (WHERE sev = 2) AS lq,
                            count(*) FILTER (WHERE sev = 3) AS bk
                       FROM expected GROUP BY step) w USING (step)) f;

-- Enforcement's events agree: a position has a liquidate or bankrupt event if and only
-- if it is flagged, and its last event names its status.
SELECT CASE WHEN bad = 0 THEN 'ok' ELSE 'not ok' END
       || '|events: the last event of every position that changed status names its stored status|'
       || bad || ' differ'
  FROM (SELECT count(*) AS bad
          FROM exchange.positions p
          FULL JOIN (SELECT DISTINCT ON (e.position_key) (e.position_key ->> 'id')::bigint AS id,
                            e.new_status
                       FROM isomargin.events e
                      WHERE e.positions = 'exchange.positions'::regclass
                      ORDER BY e.position_key, e.id DESC) ev USING (id)
         WHERE coalesce(ev.new_status, 'ok') IS DISTINCT FROM p.status) f;
