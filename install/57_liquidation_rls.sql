-- Row security of the liquidation engine's tables (doc/liquidation.md,
-- Rights): a role sees the rows of the positions tables whose events it may
-- read (events_granted's rule: the table's owner's privileges, or an event
-- grant of either kind) and writes those of the tables whose events it may
-- claim (the owner's privileges, or a claim grant), so a worker confined to
-- one book by grant_events is confined here too.  As on isomargin.events,
-- not FORCE: the tables' owner (the extension's) and superusers and roles
-- with BYPASSRLS see and write every row.

-- The rule, in C (src/liquidation_rows.c): the answer for each positions
-- table is kept for the transaction with the claim grant's (the worker asks
-- it once a liquidation), so a policy costs a lookup a row, not a query.
-- false for a table that no longer exists (its rows: the owner's only).
CREATE FUNCTION @extschema@.liquidation_rows_granted(positions pg_catalog.regclass,
                                                     claim pg_catalog.bool)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'liquidation_rows_granted'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- The ledger and the ADL fills are append-only: no UPDATE or DELETE policy,
-- so even a role granted them changes no row (and the ledger's trigger
-- refuses its own rows' changes to the owner too).
ALTER TABLE @extschema@.insurance_ledger ENABLE ROW LEVEL SECURITY;
CREATE POLICY ledger_granted ON @extschema@.insurance_ledger FOR SELECT
    USING (@extschema@.liquidation_rows_granted(positions, false));
CREATE POLICY ledger_append ON @extschema@.insurance_ledger FOR INSERT
    WITH CHECK (@extschema@.liquidation_rows_granted(positions, true));

ALTER TABLE @extschema@.insurance_funds ENABLE ROW LEVEL SECURITY;
CREATE POLICY funds_granted ON @extschema@.insurance_funds FOR SELECT
    USING (@extschema@.liquidation_rows_granted(positions, false));
CREATE POLICY funds_open ON @extschema@.insurance_funds FOR INSERT
    WITH CHECK (@extschema@.liquidation_rows_granted(positions, true));
CREATE POLICY funds_move ON @extschema@.insurance_funds FOR UPDATE
    USING (@extschema@.liquidation_rows_granted(positions, true))
    WITH CHECK (@extschema@.liquidation_rows_granted(positions, true));

ALTER TABLE @extschema@.adl_queue ENABLE ROW LEVEL SECURITY;
CREATE POLICY adl_queue_granted ON @extschema@.adl_queue FOR SELECT
    USING (@extschema@.liquidation_rows_granted(positions, false));
CREATE POLICY adl_queue_add ON @extschema@.adl_queue FOR INSERT
    WITH CHECK (@extschema@.liquidation_rows_granted(positions, true));
CREATE POLICY adl_queue_assign ON @extschema@.adl_queue FOR UPDATE
    USING (@extschema@.liquidation_rows_granted(positions, true))
    WITH CHECK (@extschema@.liquidation_rows_granted(positions, true));

-- A fill has no positions column: its queue entry's, read under the queue's
-- own policies.
ALTER TABLE @extschema@.adl_fills ENABLE ROW LEVEL SECURITY;
CREATE POLICY adl_fills_granted ON @extschema@.adl_fills FOR SELECT
    USING (EXISTS (SELECT 1 FROM @extschema@.adl_queue AS q
                    WHERE q.id OPERATOR(pg_catalog.=) adl_fills.queue_id
                      AND @extschema@.liquidation_rows_granted(q.positions, false)));
CREATE POLICY adl_fills_add ON @extschema@.adl_fills FOR INSERT
    WITH CHECK (EXISTS (SELECT 1 FROM @extschema@.adl_queue AS q
                         WHERE q.id OPERATOR(pg_catalog.=) adl_fills.queue_id
                           AND @extschema@.liquidation_rows_granted(q.positions, true)));

ALTER TABLE @extschema@.liquidation_followups ENABLE ROW LEVEL SECURITY;
CREATE POLICY followups_granted ON @extschema@.liquidation_followups FOR SELECT
    USING (@extschema@.liquidation_rows_granted(positions, false));
CREATE POLICY followups_write ON @extschema@.liquidation_followups FOR ALL
    USING (@extschema@.liquidation_rows_granted(positions, true))
    WITH CHECK (@extschema@.liquidation_rows_granted(positions, true));

-- The settings: a worker lists only its books (liquidate_next) and reads
-- no other book's policy; liquidation_setup writes them as its caller.
ALTER TABLE @extschema@.liquidation_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY settings_granted ON @extschema@.liquidation_settings FOR SELECT
    USING (@extschema@.liquidation_rows_granted(positions, false));
CREATE POLICY settings_write ON @extschema@.liquidation_settings FOR ALL
    USING (@extschema@.liquidation_rows_granted(positions, true))
    WITH CHECK (@extschema@.liquidation_rows_granted(positions, true));

-- A view reads its tables with its owner's rights, and so under the owner's
-- row security (none: the owner bypasses it): the balances are computed
-- with the reader's, so a confined worker sums only its books' rows.
ALTER VIEW @extschema@.insurance_balances SET (security_invoker = true);
