-- test/lib/invariants.sql: what must hold of the enforced book of test/lib/book.sql in any
-- committed state (after a crash and recovery, after a stress run, after an upgrade).
-- Output: one line per check, "ok|name|detail" or "not ok|name|detail" (test/lib/BookTest.pm
-- turns each into a test point).  It reads the tables and calls the SQL functions only.
--
-- The status rule (doc/enforcement.md, "Status semantics"), with check = margin_status at
-- the state table's mark (the mark every position was last checked against):
--   ok, margin_call   equal check (margin_call follows the mark both ways)
--   liquidate         check is not bankrupt (liquidate never steps down on a mark move, and
--                     escalates to bankrupt when the mark reaches the bankruptcy price)
--   bankrupt          any check (it never steps down on a mark move)
-- and a position of an instrument without a mark yet is ok.  Only a change of the position
-- row itself steps liquidate or bankrupt down, and then the check decides, so the rule holds
-- after those too.
--
-- Events: each status change leaves one event, so a position's events, in id order, form a
-- chain (each old_status is the previous new_status; the first one's is NULL, an insert, or
-- ok; no event repeats its old status) that ends at the stored status; a position without
-- events is ok.  A lost, duplicated or phantom event breaks the chain.
\set ON_ERROR_STOP on
\pset format unaligned
\pset tuples_only on
SET client_min_messages = warning;

SELECT state_table, margin_call_ratio FROM isomargin.enforcement
 WHERE positions = 'positions'::regclass \gset

CREATE TEMP TABLE inv_positions AS
SELECT p.id, p.status, s.mark_price AS state_mark,
       p.liquidation_price, p.margin_call_price, p.bankruptcy_price,
       isomargin.liquidation_price(p.size, p.entry_price, p.margin, i.tiers, i.contract_size, i.kind,
                                   i.fee_rate) AS computed_lp,
       isomargin.margin_call_price(p.size, p.entry_price, p.margin, i.tiers, i.contract_size, i.kind,
                                   i.fee_rate, :margin_call_ratio) AS computed_mcp,
       isomargin.bankruptcy_price(p.size, p.entry_price, p.margin, i.contract_size, i.kind) AS computed_bp,
       isomargin.margin_status(p.size, p.entry_price, s.mark_price, p.margin, i.tiers, i.contract_size,
                               i.kind, i.fee_rate, :margin_call_ratio) AS checked
  FROM positions p
  LEFT JOIN instruments i ON i.symbol = p.symbol
  LEFT JOIN :state_table s ON s.symbol = p.symbol;

CREATE TEMP TABLE inv_events AS
SELECT e.id, (e.position_key ->> 'id')::bigint AS position_id, e.old_status, e.new_status,
       pg_catalog.lag(e.new_status) OVER w AS previous,
       pg_catalog.row_number() OVER w AS n,
       pg_catalog.row_number() OVER w = pg_catalog.count(*) OVER (PARTITION BY e.position_key) AS last
  FROM isomargin.events e
 WHERE e.positions = 'positions'::regclass
WINDOW w AS (PARTITION BY e.position_key ORDER BY e.id);

-- "ok" or "not ok" and the name, the count of violations and the first few ids.
CREATE FUNCTION pg_temp.verdict(name text, bad bigint, total bigint, ids bigint[]) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN CASE WHEN bad = 0 THEN 'ok' ELSE 'not ok' END || '|' || name || '|' || bad || ' of ' || total
       || coalesce(' (ids ' || pg_catalog.array_to_string(ids[1:5], ', ') || ')', '');

SELECT pg_temp.verdict('stored liquidation, margin-call and bankruptcy prices equal the SQL functions'' figures',
                       count(*) FILTER (WHERE NOT same), count(*),
                       pg_catalog.array_agg(id ORDER BY id) FILTER (WHERE NOT same))
  FROM (SELECT id, (liquidation_price, margin_call_price, bankruptcy_price)
                   IS NOT DISTINCT FROM (computed_lp, computed_mcp, computed_bp) AS same
          FROM inv_positions) a;

SELECT pg_temp.verdict('every status agrees with the exact check at the state table''s mark',
                       count(*) FILTER (WHERE NOT agrees), count(*),
                       pg_catalog.array_agg(id ORDER BY id) FILTER (WHERE NOT agrees))
  FROM (SELECT id, coalesce(CASE WHEN state_mark IS NULL THEN status = 'ok'
                                 WHEN status IN ('ok', 'margin_call') THEN status = checked
                                 WHEN status = 'liquidate' THEN checked <> 'bankrupt'
                                 ELSE status = 'bankrupt' END, false) AS agrees
          FROM inv_positions) a;

SELECT pg_temp.verdict('every position with a status other than ok has an event',
                       count(*) FILTER (WHERE NOT EXISTS (SELECT FROM inv_events e WHERE e.position_id = p.id)),
                       count(*),
                       pg_catalog.array_agg(id ORDER BY id)
                           FILTER (WHERE NOT EXISTS (SELECT FROM inv_events e WHERE e.position_id = p.id)))
  FROM inv_positions p WHERE p.status IS DISTINCT FROM 'ok';

SELECT pg_temp.verdict('the last event of every position names its stored status (no event: ok)',
                       count(*) FILTER (WHERE NOT agrees), count(*),
                       pg_catalog.array_agg(id ORDER BY id) FILTER (WHERE NOT agrees))
  FROM (SELECT p.id, p.status IS NOT DISTINCT FROM coalesce(e.new_status, 'ok') AS agrees
          FROM inv_positions p LEFT JOIN inv_events e ON e.position_id = p.id AND e.last) a;

SELECT pg_temp.verdict('events chain: none duplicated, none lost, each from the previous status',
                       count(*) FILTER (WHERE NOT chained), count(*),
                       pg_catalog.array_agg(id ORDER BY id) FILTER (WHERE NOT chained))
  FROM (SELECT e.id,
               e.old_status IS DISTINCT FROM e.new_status
               AND CASE WHEN e.n = 1 THEN e.old_status IS NULL OR e.old_status = 'ok'
                        ELSE e.old_status IS NOT DISTINCT FROM e.previous END
               AND EXISTS (SELECT FROM inv_positions p WHERE p.id = e.position_id) AS chained
          FROM inv_events e) a;

SELECT pg_temp.verdict('the state table''s marks are the marks table''s',
                       count(*) FILTER (WHERE m.mark_price IS DISTINCT FROM s.mark_price), count(*), NULL)
       || coalesce(' (' || pg_catalog.string_agg(coalesce(m.symbol, s.symbol::text) || ' ' ||
                                                 coalesce(m.mark_price::text, '-') || ' vs ' ||
                                                 coalesce(s.mark_price::text, '-'), ', ')
                             FILTER (WHERE m.mark_price IS DISTINCT FROM s.mark_price) || ')', '')
  FROM marks m FULL JOIN :state_table s ON s.symbol = m.symbol;

DROP TABLE inv_positions, inv_events;
