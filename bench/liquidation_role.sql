-- bench/liquidation_role.sql: the worker role of bench/liquidation_throughput.sh
-- --role (:role), with exactly the grants of doc/liquidation.md (Rights) on the
-- book bench/liquidation_book.sql has just loaded: not a superuser, so the
-- queue's grant checks and the engine tables' row security apply to it.
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') AS missing \gset
\if :missing
CREATE ROLE :"role";
\endif
GRANT USAGE ON SCHEMA isomargin TO :"role";
SELECT isomargin.grant_events('positions', :'role');
GRANT SELECT, UPDATE ON positions TO :"role";
GRANT SELECT ON marks, instruments TO :"role";
GRANT SELECT ON isomargin.liquidation_settings, isomargin.enforcement TO :"role";
GRANT SELECT, INSERT, UPDATE ON isomargin.insurance_funds TO :"role";
GRANT SELECT, INSERT ON isomargin.insurance_ledger, isomargin.adl_queue, isomargin.adl_fills TO :"role";
GRANT UPDATE ON isomargin.adl_queue TO :"role";
GRANT SELECT, INSERT, UPDATE, DELETE ON isomargin.liquidation_followups TO :"role";
GRANT USAGE ON SEQUENCE isomargin.insurance_ledger_id_seq, isomargin.adl_queue_id_seq,
    isomargin.adl_fills_id_seq TO :"role";
GRANT EXECUTE ON FUNCTION isomargin.lower_backend_priority(int) TO :"role";
