-- bench/liquidation_cost.sql: where a liquidation's time goes.  On the
-- crashed book of liquidation_book.sql, each block runs one part of the
-- worker's work for :m flagged positions in one transaction and rolls back,
-- printing microseconds per position.  What they leave out (PL/pgSQL calls,
-- the policy check, the commit) is the difference to the throughput runs.
\set ON_ERROR_STOP 1
\set QUIET 1
CREATE TEMP TABLE work AS
SELECT e.id AS event_id, e.position_key FROM isomargin.events e
 WHERE e.new_status >= 'liquidate' AND e.claimed_at IS NULL ORDER BY e.id LIMIT :m;
\pset tuples_only on
\pset format unaligned
\pset fieldsep ' | '
CREATE FUNCTION pg_temp.timed(part text, body text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; n int;
BEGIN
    SELECT count(*) INTO n FROM work;
    t0 := clock_timestamp();
    EXECUTE body;
    RETURN lpad(round(extract(epoch FROM clock_timestamp() - t0) * 1e6 / n, 1)::text, 8) || ' us  ' || part;
END $$;
BEGIN;
SELECT pg_temp.timed('attachment: catalog lookups and statement texts',
  $b$DO $d$ DECLARE w record; a isomargin.liquidation_attachment; BEGIN
      FOR w IN SELECT * FROM work LOOP a := isomargin.liquidation_attachment('positions'); END LOOP; END $d$$b$);
ROLLBACK;
BEGIN;
SELECT pg_temp.timed('claim: one event, FOR UPDATE SKIP LOCKED',
  $b$DO $d$ DECLARE w record; c record; BEGIN
      FOR w IN SELECT * FROM work LOOP c := isomargin.liquidation_claim('bench'); END LOOP; END $d$$b$);
ROLLBACK;
BEGIN;
SELECT pg_temp.timed('lock and read the position, the mark and the instrument',
  $b$DO $d$ DECLARE w record; a isomargin.liquidation_attachment := isomargin.liquidation_attachment('positions');
      s text; q numeric; e numeric; m numeric; mk numeric; k isomargin.contract_kind; cs numeric; f numeric;
      r numeric; t isomargin.tiers; fund text; BEGIN
      FOR w IN SELECT * FROM work LOOP
        EXECUTE a.read_position INTO s, q, e, m USING w.position_key;
        EXECUTE a.read_market INTO mk, k, cs, f, r, t, fund USING s;
      END LOOP; END $d$$b$);
ROLLBACK;
BEGIN;
SELECT pg_temp.timed('figures: check, size, settlement (exact, no writes)',
  $b$DO $d$ DECLARE p record; a isomargin.assessment; k numeric; st isomargin.liquidation_settlement; BEGIN
      FOR p IN SELECT q.* FROM work w JOIN positions q ON q.id = (w.position_key ->> 'id')::int LOOP
        a := isomargin.assess_rule(p.size, p.entry_price, 90, p.margin, 0.004, NULL, 1, 'linear', 0);
        k := isomargin.liquidation_size_rule(p.size, p.entry_price, 90, p.margin, 0.004, NULL, 1, 'linear', 0,
                                             '{"method": "whole"}');
        st := isomargin.liquidation_settlement(p.size, p.entry_price, p.margin, k, 90);
      END LOOP; END $d$$b$);
ROLLBACK;
BEGIN;
SELECT pg_temp.timed('update the position (enforcement re-prices it, records its event)',
  $b$DO $d$ DECLARE w record; a isomargin.liquidation_attachment := isomargin.liquidation_attachment('positions'); BEGIN
      FOR w IN SELECT * FROM work LOOP EXECUTE a.write_position USING w.position_key, 0, 0; END LOOP; END $d$$b$);
ROLLBACK;
BEGIN;
SELECT pg_temp.timed('book the fund: lock its row, ledger row, balance',
  $b$DO $d$ DECLARE w record; a isomargin.liquidation_attachment := isomargin.liquidation_attachment('positions');
      st isomargin.liquidation_settlement := isomargin.liquidation_settlement(1, 100, 9.5, 1, 90); BEGIN
      FOR w IN SELECT * FROM work LOOP
        PERFORM isomargin.liquidation_book(a, 'A', 'A', w.position_key, w.event_id, 'bench', '{"method": "whole"}',
                                           90, 1, 100, 9.5, st);
      END LOOP; END $d$$b$);
ROLLBACK;
BEGIN;
SELECT pg_temp.timed('acknowledge the position''s events',
  $b$DO $d$ DECLARE w record; BEGIN
      FOR w IN SELECT * FROM work LOOP PERFORM isomargin.liquidation_ack('positions', w.position_key, 'bench'); END LOOP; END $d$$b$);
ROLLBACK;
