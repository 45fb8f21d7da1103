-- bench/enforce_naive.sql: the baseline of bench/enforce_latency.sh, run after
-- isomargin.unenforce() on the same tables: a row trigger on marks that
-- checks every position of the instrument at the new mark with the same C
-- engine (isomargin.margin_status), applies the same status rule (liquidate
-- and bankrupt only escalate) and records the same events.
CREATE FUNCTION naive_mark() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    WITH checked AS (
        SELECT p.id, p.status AS old, p.size, p.entry_price, p.margin, i.mmr, i.contract_size, i.kind,
               i.fee_rate,
               isomargin.margin_status(p.size, p.entry_price, NEW.mark_price, p.margin, i.mmr,
                                       i.contract_size, i.kind, i.fee_rate) AS chk
          FROM positions p JOIN instruments i ON i.symbol = p.symbol
         WHERE p.symbol = NEW.symbol),
    decided AS (
        SELECT c.*, CASE WHEN c.old >= 'liquidate' THEN greatest(c.old, c.chk) ELSE c.chk END AS st
          FROM checked c),
    changed AS (
        UPDATE positions p SET status = d.st, status_changed_at = now()
          FROM decided d
         WHERE p.id = d.id AND d.st <> d.old
        RETURNING d.*)
    INSERT INTO isomargin.events (positions, position_key, symbol, old_status, new_status, mark_price,
                                  equity, maintenance_margin)
    SELECT 'positions'::regclass, jsonb_build_object('id', c.id), NEW.symbol, c.old, c.st, NEW.mark_price,
           isomargin.equity(c.size, c.entry_price, NEW.mark_price, c.margin, c.contract_size, c.kind),
           isomargin.maintenance_margin(c.size, NEW.mark_price, c.mmr, c.contract_size, c.kind, c.fee_rate)
      FROM changed c;
    RETURN NULL;
END
$fn$;
CREATE TRIGGER naive_mark AFTER UPDATE ON marks FOR EACH ROW EXECUTE FUNCTION naive_mark();
